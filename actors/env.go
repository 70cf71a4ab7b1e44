// Package actors is matchd's actor tree (protoactor-go): a coordinator per
// node supervising one queue actor per mode, one room actor per loading room
// this node drives, and a session actor per connected player. State lives in
// Redis; actors hold a working copy and rebuild it from Redis on restart.
package actors

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/actors/alloc"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/redisx"
)

// Store is what the actors need from Redis. *redisx.Client implements it;
// tests may fake it.
type Store interface {
	Enqueue(ctx context.Context, t redisx.Ticket) (redisx.EnqueueResult, error)
	RemoveTicket(ctx context.Context, mode, player, ticketID, reason string, outcomeTTL time.Duration) (redisx.RemoveResult, error)
	Ticket(ctx context.Context, mode, id string) (redisx.Ticket, bool, error)
	Pool(ctx context.Context, mode string) ([]redisx.Ticket, error)
	LanePool(ctx context.Context, l redisx.Lane) ([]redisx.Ticket, error)
	QueueChangesRead(mode string, lease redisx.Lease, maxWait time.Duration, out *redisx.QueueChanges) *redisx.Read
	QueueLen(ctx context.Context, mode string) (int64, error)
	// DoTogether runs independent reads in one round trip.
	DoTogether(ctx context.Context, reads ...*redisx.Read) error
	AcquireLane(ctx context.Context, l redisx.Lane, node, token string, ttl time.Duration) (int64, error)
	ExtendLane(ctx context.Context, l redisx.Lane, node, token string, ttl time.Duration) (redisx.Renewal, error)
	ReleaseLane(ctx context.Context, l redisx.Lane, node, token string) (bool, error)
	Claim(ctx context.Context, mode string, lease redisx.Lease, a redisx.ClaimArgs, matches []redisx.ClaimMatch) (redisx.ClaimResult, error)
	Room(ctx context.Context, mode, matchID string) (redisx.Room, bool, error)
	MarkReady(ctx context.Context, mode, matchID, player string, arrivedMs int64) (redisx.ReadyResult, error)
	MarkReadyStart(ctx context.Context, mode, matchID, player string, members []string, arrivedMs int64, finishedTTL, outcomeTTL time.Duration) (redisx.ReadyResult, error)
	Resolve(ctx context.Context, mode, matchID string, members []string, r redisx.Resolution) (redisx.ResolveResult, error)
	RecordAlloc(ctx context.Context, mode, matchID string, m redisx.AllocMark, budget time.Duration) (redisx.AllocStatus, *redisx.AllocMark, error)
	AdoptRoom(ctx context.Context, mode, matchID, oldOwner, newOwner string, why redisx.AdoptWhy, adoptAfter, allocBudget time.Duration) (bool, error)
	OverdueRooms(ctx context.Context, mode string, adoptAfter time.Duration) ([]redisx.RoomRef, error)
	ForgetRoom(ctx context.Context, mode, matchID string) (redisx.ForgetStatus, []string, error)
	RoomOwners(ctx context.Context, mode string) (map[string]string, error)
	// The truth of where players stand, and their untold outcomes.
	ReadTruth(ctx context.Context, player string, modes []string) (redisx.Truth, error)
	ReadTruthBatch(ctx context.Context, mode string, players []string) ([]redisx.Entry, []bool, error)
	AckOutcomes(ctx context.Context, mode string, acks map[string]string) error
	PushOutcomes(ctx context.Context, mode string, recs map[string]redisx.Outcome, ttl time.Duration) error
	FirstToReportLost(ctx context.Context, mode, match string, ttl time.Duration) (bool, error)
	DirClaim(ctx context.Context, player, node, session string, ttl time.Duration) (redisx.DirEntry, error)
	DirTouch(ctx context.Context, player, node, session string, ttl time.Duration) (bool, error)
	DirTouchBatch(ctx context.Context, node string, leases []redisx.DirLease, ttl time.Duration) ([]bool, error)
	DirRelease(ctx context.Context, player, session string) error
	DirNodes(ctx context.Context, players []string) (map[string]string, error)
	TouchNode(ctx context.Context, node string, ttl time.Duration) error
	DropNode(ctx context.Context, node string) error
	NodeAlive(ctx context.Context, node string) (bool, error)
	NodesSeen(ctx context.Context, nodes []string) (map[string]int64, error)
	Publish(ctx context.Context, node string, payload []byte) error
	Ping(ctx context.Context) error
	Epoch(ctx context.Context, candidate string) (string, error)
}

// Outbox is a player's connection as a session actor sees it. The gateway
// owns the connection; the actor only queues frames on it, so an actor
// restart never drops the player.
type Outbox interface {
	// SessionID identifies the connection.
	SessionID() string
	// Send queues one server frame without blocking; a connection whose
	// queue stays full is dropped by the gateway.
	Send(frame any)
	// Close sends a close frame with code and reason and ends the connection.
	Close(code int, reason string)
}

// Allocator picks the game server for a match whose members all loaded.
// A nil server means none (allocator.mode none).
type Allocator interface {
	Allocate(ctx context.Context, r alloc.Request) (json.RawMessage, error)
}

// Env is what every actor of a node shares. Fields are set once at start-up.
type Env struct {
	Node    string
	Config  *config.Store
	Store   Store
	Metrics *Metrics
	Log     *slog.Logger
	// Clock is the node's estimate of Redis's clock (the clock of record);
	// the node's own clock only schedules when to ask Redis.
	Clock     *redisx.Clock
	Allocator Allocator
	Events    *Events
	Sanctions Sanctions
	// Parties is the parties' record in Redis; nil uses Store when it is a
	// *redisx.Client (see Node start).
	Parties PartyStore

	system      *actor.ActorSystem
	workers     *workers
	registry    *registry
	bus         *Bus
	coordinator *actor.PID
	queues      sync.Map // lane ("duel", "duel/eu") -> *actor.PID
	// sessions is the sessions' manager; sessionRoot spawns the session
	// actors under a guardian with the node's supervision strategy.
	sessions    *actor.PID
	sessionRoot *actor.RootContext
	host        *sessionHost
	stall       *stallWatch
	// incarnation names this process among all that ran as this node (a
	// node id survives a restart; a call in flight does not).
	incarnation string
	// shuttingDown is set while the node stops: its sessions stop then
	// without being taken for sessions their supervisor gave up on.
	shuttingDown atomic.Bool
	// epoch is the Redis data epoch this node last saw (coordinator).
	epoch atomic.Value
	// opWin is the current shared deadline of Redis calls (see opCtx).
	opWin atomic.Pointer[opWindow]
}

// modeNames lists the configured modes, in config order.
func (e *Env) modeNames() []string {
	modes := e.Cfg().Matchmaking.Modes
	out := make([]string, len(modes))
	for i, m := range modes {
		out[i] = m.Name
	}
	return out
}

// Cfg is the configuration in force now (live reload swaps it).
func (e *Env) Cfg() *config.Config { return e.Config.Get() }

// nowMs is the estimate of Redis's clock, in unix ms: for what a client is
// told (server_time_ms, since_ms) and for scheduling; every decision nodes
// must agree on is made by Redis TIME inside a script.
func (e *Env) nowMs() int64 { return e.Clock.NowMs() }

// untilMs is how long until the Redis-clock instant atMs, by the estimate.
func (e *Env) untilMs(atMs int64) time.Duration {
	return time.Duration(atMs-e.nowMs()) * time.Millisecond
}

// opCtx bounds one Redis call made inside an actor, so an outage cannot
// stall a mailbox for longer than redis.op_timeout.
func (e *Env) opCtx() (context.Context, context.CancelFunc) {
	timeout := e.Cfg().Redis.OpTimeout
	now := time.Now()
	w := e.opWin.Load()
	if w == nil || now.After(w.until) || w.timeout != timeout {
		ctx, cancel := context.WithDeadline(context.Background(), now.Add(timeout+opWindowSpan))
		nw := &opWindow{ctx: ctx, cancel: cancel, until: now.Add(opWindowSpan), timeout: timeout}
		if e.opWin.CompareAndSwap(w, nw) {
			w = nw
		} else {
			cancel()
			w = e.opWin.Load()
		}
	}
	return w.ctx, func() {}
}

// opWindowSpan is how long one deadline context serves the Redis calls
// that start in it. A context (and its timer) per call was a few percent of
// the node's CPU under load; shared, a call's deadline is redis.op_timeout
// plus at most this much.
const opWindowSpan = 5 * time.Millisecond

// opWindow is a deadline context shared by the calls started before until.
// It is never cancelled early: it simply expires at its deadline (cancel is
// kept only so the context's resources have an owner).
type opWindow struct {
	ctx     context.Context
	cancel  context.CancelFunc
	until   time.Time
	timeout time.Duration
}

// redisErr logs and counts a failed Redis call.
func (e *Env) redisErr(op string, err error, attrs ...any) {
	e.Metrics.RedisErrors.WithLabelValues(op).Inc()
	e.Log.Warn("redis call failed", append([]any{"op", op, "err", err}, attrs...)...)
}

// newID returns a random identifier: 128 bits, hex.
func newID() string {
	var b [16]byte
	ids.mu.Lock()
	if ids.n < len(b) {
		_, _ = rand.Read(ids.buf[:])
		ids.n = len(ids.buf)
	}
	copy(b[:], ids.buf[len(ids.buf)-ids.n:])
	ids.n -= len(b)
	ids.mu.Unlock()
	return hex.EncodeToString(b[:])
}

// ids holds operating-system randomness read in blocks for newID: one
// getrandom call per 256 ids instead of one per id, which showed in the
// profile at thousands of matches per second.
var ids struct {
	mu  sync.Mutex
	buf [4096]byte
	n   int
}

// Sanctions records violations and answers ban checks. The no-op default
// only counts the metric, so the loading flow is complete without a
// sanctions backend.
type Sanctions interface {
	// Record stores one violation of kind ("no_show", "dodge") and returns
	// the ban now in force.
	Record(ctx context.Context, player, device, kind string) (time.Duration, error)
	// BannedFor returns how long the player (or device) stays banned.
	BannedFor(ctx context.Context, player, device string) (time.Duration, error)
	// ActiveBans lists the banned players ("p:<id>") and devices ("d:<id>").
	ActiveBans(ctx context.Context) (map[string]bool, error)
	// BanIndexRead and ActiveBansOf are ActiveBans in two steps, the first
	// sharing a round trip with other reads (nil: nothing to read).
	BanIndexRead(out *[]string) *redisx.Read
	ActiveBansOf(ctx context.Context, ids []string) (map[string]bool, error)
	// BannedForEach is BannedFor of a party's members, in one round trip.
	BannedForEach(ctx context.Context, subjects []redisx.BanSubject) ([]time.Duration, error)
}

type noSanctions struct{}

func (noSanctions) Record(context.Context, string, string, string) (time.Duration, error) {
	return 0, nil
}
func (noSanctions) BannedFor(context.Context, string, string) (time.Duration, error) {
	return 0, nil
}
func (noSanctions) ActiveBans(context.Context) (map[string]bool, error) { return nil, nil }
func (noSanctions) BanIndexRead(*[]string) *redisx.Read                 { return nil }
func (noSanctions) ActiveBansOf(context.Context, []string) (map[string]bool, error) {
	return nil, nil
}
func (noSanctions) BannedForEach(_ context.Context, s []redisx.BanSubject) ([]time.Duration, error) {
	return make([]time.Duration, len(s)), nil
}

// NoSanctions records nothing and bans nobody.
var NoSanctions Sanctions = noSanctions{}
