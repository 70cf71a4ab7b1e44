package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// ErrBadReply reports a script reply of an unexpected shape: a bug or a
// foreign writer, never a normal outcome.
var ErrBadReply = errors.New("redisx: unexpected script reply")

// Ticket is one queued player.
type Ticket struct {
	ID     string  `json:"id"`
	Player string  `json:"player"`
	Mode   string  `json:"mode"`
	Rating float64 `json:"rating"`
	Device string  `json:"device,omitempty"`
	// QueuedAtMs is the original queue time; a requeued ticket keeps it and
	// with it its place in the queue.
	QueuedAtMs int64 `json:"queued_at_ms"`
}

// Entry says where a player stands in one mode.
type Entry struct {
	// Kind is 'q' (queued, Ref is the ticket id), 'm' (in a loading room,
	// Ref is the match id) or 0 (nowhere).
	Kind byte
	Ref  string
	// From is, for a ticket just removed, the match it had been requeued
	// from ("" if none).
	From string
}

func parseEntry(s string) Entry {
	if len(s) < 2 || s[1] != ':' {
		return Entry{}
	}
	return Entry{Kind: s[0], Ref: s[2:]}
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// EnqueueStatus is the outcome of Enqueue.
type EnqueueStatus int

// Enqueue outcomes.
const (
	// EnqueueCreated: a new ticket was queued.
	EnqueueCreated EnqueueStatus = 1
	// EnqueueExisting: the player was already queued; the ticket is theirs.
	EnqueueExisting EnqueueStatus = 0
	// EnqueueInRoom: the player sits in a loading room of the mode.
	EnqueueInRoom EnqueueStatus = -1
)

// Enqueue queues t unless its player is already queued or loading in the
// mode, which makes a retried enqueue idempotent across nodes.
func (c *Client) Enqueue(ctx context.Context, t Ticket, nowMs int64) (EnqueueStatus, Ticket, string, error) {
	js, err := json.Marshal(t)
	if err != nil {
		return 0, Ticket{}, "", err
	}
	k := c.Keys
	arr, err := c.scripts.enqueue.Exec(ctx, c.R,
		[]string{k.Queue(t.Mode), k.Tickets(t.Mode), k.Players(t.Mode), k.Waits(t.Mode), k.Added(t.Mode)},
		[]string{t.Player, t.ID, i64(t.QueuedAtMs), string(js), i64(nowMs)}).ToArray()
	if err != nil {
		return 0, Ticket{}, "", fmt.Errorf("redisx: enqueue: %w", err)
	}
	if len(arr) != 3 {
		return 0, Ticket{}, "", ErrBadReply
	}
	st, _ := arr[0].AsInt64()
	ref, _ := arr[1].ToString()
	switch EnqueueStatus(st) {
	case EnqueueInRoom:
		return EnqueueInRoom, Ticket{}, ref, nil
	case EnqueueCreated:
		// The script stored exactly t: no need to parse it back.
		return EnqueueCreated, t, "", nil
	case EnqueueExisting:
		body, _ := arr[2].ToString()
		var got Ticket
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			return 0, Ticket{}, "", fmt.Errorf("redisx: ticket %s: %w", ref, err)
		}
		return EnqueueStatus(st), got, "", nil
	}
	return 0, Ticket{}, "", ErrBadReply
}

// RemoveTicket takes the player's ticket out of the mode's queue; ticketID ""
// means whatever ticket the player holds. It reports whether a ticket was
// removed (and the match it had been requeued from, in Entry.From) and,
// when not, where the player stands instead.
func (c *Client) RemoveTicket(ctx context.Context, mode, player, ticketID string) (bool, Entry, error) {
	k := c.Keys
	arr, err := c.scripts.remove.Exec(ctx, c.R,
		[]string{k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Removed(mode), k.RequeuedFrom(mode)},
		[]string{player, ticketID}).ToArray()
	if err != nil {
		return false, Entry{}, fmt.Errorf("redisx: remove ticket: %w", err)
	}
	if len(arr) < 2 {
		return false, Entry{}, ErrBadReply
	}
	ok, _ := arr[0].AsInt64()
	s, _ := arr[1].ToString()
	if ok == 1 {
		e := Entry{Kind: 'q', Ref: s}
		if len(arr) > 2 {
			e.From, _ = arr[2].ToString()
		}
		return true, e, nil
	}
	return false, parseEntry(s), nil
}

// PlayerEntry says where the player stands in the mode: Redis is the truth a
// session reconciles with.
func (c *Client) PlayerEntry(ctx context.Context, mode, player string) (Entry, error) {
	s, err := c.R.Do(ctx, c.R.B().Hget().Key(c.Keys.Players(mode)).Field(player).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return Entry{}, nil
	}
	if err != nil {
		return Entry{}, fmt.Errorf("redisx: player entry: %w", err)
	}
	return parseEntry(s), nil
}

// Ticket reads one queued ticket; ok is false when it is not queued.
func (c *Client) Ticket(ctx context.Context, mode, id string) (Ticket, bool, error) {
	s, err := c.R.Do(ctx, c.R.B().Hget().Key(c.Keys.Tickets(mode)).Field(id).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return Ticket{}, false, nil
	}
	if err != nil {
		return Ticket{}, false, fmt.Errorf("redisx: ticket: %w", err)
	}
	var t Ticket
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return Ticket{}, false, fmt.Errorf("redisx: ticket %s: %w", id, err)
	}
	return t, true, nil
}

// Pool reads every queued ticket of a mode.
func (c *Client) Pool(ctx context.Context, mode string) ([]Ticket, error) {
	m, err := c.R.Do(ctx, c.R.B().Hgetall().Key(c.Keys.Tickets(mode)).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("redisx: pool: %w", err)
	}
	out := make([]Ticket, 0, len(m))
	for id, s := range m {
		var t Ticket
		if err := json.Unmarshal([]byte(s), &t); err != nil {
			return nil, fmt.Errorf("redisx: ticket %s: %w", id, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// QueueChanges is what changed in a mode's queue since the last call.
type QueueChanges struct {
	// Queued is the queue's size when the changes were taken.
	Queued  int64
	Added   []Ticket
	Removed []string
}

// TakeQueueChanges hands out, once, the tickets added to and removed from
// the mode's queue since the last call. Only the matching leader calls it.
func (c *Client) TakeQueueChanges(ctx context.Context, mode string) (QueueChanges, error) {
	var out QueueChanges
	err := c.DoTogether(ctx, c.QueueChangesRead(mode, &out))
	return out, err
}

// QueueChangesRead is TakeQueueChanges as a Read, to share a round trip;
// out is filled when the read succeeds.
func (c *Client) QueueChangesRead(mode string, out *QueueChanges) *Read {
	k := c.Keys
	keys := []string{k.Added(mode), k.Removed(mode), k.Tickets(mode), k.Queue(mode)}
	return c.scriptRead(c.scripts.queueChanges, c.scripts.queueChangesSHA, keys, nil, func(r rueidis.RedisResult) error {
		arr, err := r.ToArray()
		if err != nil {
			return fmt.Errorf("redisx: queue changes: %w", err)
		}
		ch, err := parseQueueChanges(arr)
		if err != nil {
			return err
		}
		*out = ch
		return nil
	})
}

func parseQueueChanges(arr []rueidis.RedisMessage) (QueueChanges, error) {
	if len(arr) < 2 {
		return QueueChanges{}, ErrBadReply
	}
	var out QueueChanges
	out.Queued, _ = arr[0].AsInt64()
	n, _ := arr[1].AsInt64()
	if int64(len(arr)) < 2+2*n {
		return QueueChanges{}, ErrBadReply
	}
	for i := int64(0); i < n; i++ {
		id, _ := arr[2+2*i].ToString()
		js, _ := arr[3+2*i].ToString()
		if js == "" {
			continue
		}
		var t Ticket
		if err := json.Unmarshal([]byte(js), &t); err != nil {
			return QueueChanges{}, fmt.Errorf("redisx: ticket %s: %w", id, err)
		}
		out.Added = append(out.Added, t)
	}
	for _, m := range arr[2+2*n:] {
		id, _ := m.ToString()
		out.Removed = append(out.Removed, id)
	}
	return out, nil
}

// QueueLen counts a mode's queued tickets.
func (c *Client) QueueLen(ctx context.Context, mode string) (int64, error) {
	n, err := c.R.Do(ctx, c.R.B().Zcard().Key(c.Keys.Queue(mode)).Build()).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisx: queue len: %w", err)
	}
	return n, nil
}

// WaitedSince lists the tickets whose current wait began at or before
// beforeMs: the ones past max_wait.
func (c *Client) WaitedSince(ctx context.Context, mode string, beforeMs int64) ([]string, error) {
	var ids []string
	err := c.DoTogether(ctx, c.WaitedSinceRead(mode, beforeMs, &ids))
	return ids, err
}

// WaitedSinceRead is WaitedSince as a Read, to share a round trip.
func (c *Client) WaitedSinceRead(mode string, beforeMs int64, out *[]string) *Read {
	return &Read{
		cmds: rueidis.Commands{c.R.B().Zrangebyscore().Key(c.Keys.Waits(mode)).Min("-inf").Max(i64(beforeMs)).Build()},
		parse: func(r []rueidis.RedisResult) error {
			ids, err := r[0].AsStrSlice()
			if err != nil {
				return fmt.Errorf("redisx: waits: %w", err)
			}
			*out = ids
			return nil
		},
	}
}

// AcquireLock takes the mode's lease for token, returning its fencing number,
// or 0 when another owner holds it.
func (c *Client) AcquireLock(ctx context.Context, mode, token string, ttl time.Duration) (int64, error) {
	f, err := c.scripts.lockAcquire.Exec(ctx, c.R, []string{c.Keys.Lock(mode), c.Keys.Fence(mode)}, []string{token, ms(ttl)}).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisx: acquire lock: %w", err)
	}
	return f, nil
}

// ExtendLock renews the lease for its owner; false means it was lost.
func (c *Client) ExtendLock(ctx context.Context, mode, token string, ttl time.Duration) (bool, error) {
	n, err := c.scripts.lockExtend.Exec(ctx, c.R, []string{c.Keys.Lock(mode)}, []string{token, ms(ttl)}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: extend lock: %w", err)
	}
	return n == 1, nil
}

// ReleaseLock drops the lease for its owner; false means it was not held.
func (c *Client) ReleaseLock(ctx context.Context, mode, token string) (bool, error) {
	n, err := c.scripts.lockRelease.Exec(ctx, c.R, []string{c.Keys.Lock(mode)}, []string{token}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: release lock: %w", err)
	}
	return n == 1, nil
}

// ClaimMatch is one match to form: its id, teams and tickets.
type ClaimMatch struct {
	MatchID string
	// Teams holds player ids per team; it is stored with the room.
	Teams   [][]string
	Tickets []Ticket
}

// Lease identifies a held matching lease.
type Lease struct {
	Token string
	Fence int64
}

// ClaimArgs are the room parameters shared by one batch of claims.
type ClaimArgs struct {
	Owner      string
	DeadlineMs int64
	RoomTTL    time.Duration
	NowMs      int64
}

// ErrLeaseLost reports that a claim was refused because the caller's lease
// or fence is no longer current: nothing was changed.
var ErrLeaseLost = errors.New("redisx: matching lease lost")

// Claim forms the given matches in one script call. Each match is formed
// only if all its tickets are still queued; formed[i] says whether match i
// was. A stale lease forms nothing and returns ErrLeaseLost.
func (c *Client) Claim(ctx context.Context, mode string, lease Lease, a ClaimArgs, matches []ClaimMatch) ([]bool, error) {
	k := c.Keys
	keys := make([]string, 0, 9+len(matches))
	keys = append(keys, k.Lock(mode), k.Fence(mode), k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Rooms(mode), k.Owners(mode), k.RequeuedFrom(mode))
	args := make([]string, 0, 8+len(matches)*8)
	args = append(args, lease.Token, i64(lease.Fence), a.Owner, i64(a.DeadlineMs), ms(a.RoomTTL), mode, i64(a.NowMs), strconv.Itoa(len(matches)))
	for _, m := range matches {
		keys = append(keys, k.Room(mode, m.MatchID))
		teams, err := json.Marshal(m.Teams)
		if err != nil {
			return nil, err
		}
		args = append(args, m.MatchID, string(teams), strconv.Itoa(len(m.Tickets)))
		for _, t := range m.Tickets {
			args = append(args, t.ID, t.Player)
		}
	}
	arr, err := c.scripts.claim.Exec(ctx, c.R, keys, args).ToArray()
	if err != nil {
		return nil, fmt.Errorf("redisx: claim: %w", err)
	}
	if len(arr) == 0 {
		return nil, ErrBadReply
	}
	if ok, _ := arr[0].AsInt64(); ok != 1 {
		return nil, ErrLeaseLost
	}
	if len(arr) != len(matches)+1 {
		return nil, ErrBadReply
	}
	formed := make([]bool, len(matches))
	for i := range matches {
		v, _ := arr[i+1].AsInt64()
		formed[i] = v == 1
	}
	return formed, nil
}

// Room is a loading room as stored in Redis.
type Room struct {
	MatchID    string
	Mode       string
	State      string // loading, allocating, started, cancelled
	Owner      string
	DeadlineMs int64
	CreatedMs  int64
	Members    []string
	Teams      [][]string
	Ready      map[string]bool
	Tickets    map[string]Ticket
	// Outcome fields, set once the room is resolved.
	Server   json.RawMessage
	Reason   string
	Leaver   string
	Requeued []string
	NoShows  []string
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Room reads a room; ok is false when it does not exist (never formed, or
// its record expired).
func (c *Client) Room(ctx context.Context, mode, matchID string) (Room, bool, error) {
	m, err := c.R.Do(ctx, c.R.B().Hgetall().Key(c.Keys.Room(mode, matchID)).Build()).AsStrMap()
	if err != nil {
		return Room{}, false, fmt.Errorf("redisx: room: %w", err)
	}
	if len(m) == 0 {
		return Room{}, false, nil
	}
	r := Room{
		MatchID: m["match"], Mode: m["mode"], State: m["state"], Owner: m["owner"],
		Members: splitIDs(m["members"]), Ready: map[string]bool{}, Tickets: map[string]Ticket{},
		Reason: m["reason"], Leaver: m["leaver"], Requeued: splitIDs(m["requeued"]), NoShows: splitIDs(m["no_shows"]),
	}
	r.DeadlineMs, _ = strconv.ParseInt(m["deadline"], 10, 64)
	r.CreatedMs, _ = strconv.ParseInt(m["created"], 10, 64)
	if s := m["server"]; s != "" {
		r.Server = json.RawMessage(s)
	}
	if err := json.Unmarshal([]byte(m["teams"]), &r.Teams); err != nil {
		return Room{}, false, fmt.Errorf("redisx: room %s teams: %w", matchID, err)
	}
	for _, p := range r.Members {
		if m["r:"+p] != "" {
			r.Ready[p] = true
		}
		var t Ticket
		if err := json.Unmarshal([]byte(m["t:"+p]), &t); err == nil {
			r.Tickets[p] = t
		}
	}
	return r, true, nil
}

// ReadyResult is the outcome of MarkReady.
type ReadyResult struct {
	// State is "loading" when the mark applied, else the room's state or
	// "gone" / "not_member"; "started" too when this call started the match.
	State   string
	New     bool
	Members []string
	Ready   []string
	// Owner is the node driving the room.
	Owner string
	// Started is true when this call started the match (MarkReadyStart):
	// the caller announces it, exactly once.
	Started bool
}

// MarkReady records that player finished loading the match.
func (c *Client) MarkReady(ctx context.Context, mode, matchID, player string) (ReadyResult, error) {
	return c.markReady(ctx, []string{c.Keys.Room(mode, matchID)}, []string{player})
}

// MarkReadyStart is MarkReady that also starts the match, in the same
// step, when this mark completes it: what Resolve "start" does, with no
// server (allocator none). It saves the room a round trip and its members
// a wait.
func (c *Client) MarkReadyStart(ctx context.Context, mode, matchID, player string, nowMs int64, finishedTTL time.Duration) (ReadyResult, error) {
	k := c.Keys
	return c.markReady(ctx,
		[]string{k.Room(mode, matchID), k.Players(mode), k.Rooms(mode), k.Owners(mode)},
		[]string{player, "start", ms(finishedTTL), i64(nowMs)})
}

func (c *Client) markReady(ctx context.Context, keys, args []string) (ReadyResult, error) {
	arr, err := c.scripts.roomReady.Exec(ctx, c.R, keys, args).ToArray()
	if err != nil {
		return ReadyResult{}, fmt.Errorf("redisx: mark ready: %w", err)
	}
	if len(arr) != 6 {
		return ReadyResult{}, ErrBadReply
	}
	st, _ := arr[0].ToString()
	n, _ := arr[1].AsInt64()
	mem, _ := arr[2].ToString()
	rdy, _ := arr[3].ToString()
	owner, _ := arr[4].ToString()
	started, _ := arr[5].AsInt64()
	return ReadyResult{State: st, New: n == 1, Members: splitIDs(mem), Ready: splitIDs(rdy), Owner: owner, Started: started == 1}, nil
}

// Resolution is how a room ends.
type Resolution struct {
	// Outcome is "start", "allocating" or "cancel".
	Outcome string
	// Reason is the cancel reason of PROTOCOL.md (loading_timeout,
	// player_left, allocation_failed).
	Reason string
	// Leaver is the dodging player for player_left.
	Leaver string
	// RequeueAll requeues every member but the leaver, loaded or not.
	RequeueAll  bool
	Server      json.RawMessage
	FinishedTTL time.Duration
	NowMs       int64
}

// ResolveResult is the outcome of Resolve.
type ResolveResult struct {
	// Status is "ok" when this call resolved the room, "already" when it was
	// resolved before, "gone", or "not_ready".
	Status   string
	State    string
	Requeued []string
	NoShows  []string
}

// Resolve ends a room exactly once; only the caller that gets Status "ok"
// may notify the members and count the outcome.
func (c *Client) Resolve(ctx context.Context, mode, matchID string, r Resolution) (ResolveResult, error) {
	k := c.Keys
	server := "null"
	if len(r.Server) > 0 {
		server = string(r.Server)
	}
	policy := "ready"
	if r.RequeueAll {
		policy = "all"
	}
	arr, err := c.scripts.roomResolve.Exec(ctx, c.R,
		[]string{k.Room(mode, matchID), k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Rooms(mode), k.Owners(mode), k.Added(mode), k.RequeuedFrom(mode)},
		[]string{r.Outcome, r.Reason, r.Leaver, ms(r.FinishedTTL), server, i64(r.NowMs), policy}).ToArray()
	if err != nil {
		return ResolveResult{}, fmt.Errorf("redisx: resolve room: %w", err)
	}
	if len(arr) != 4 {
		return ResolveResult{}, ErrBadReply
	}
	var out ResolveResult
	out.Status, _ = arr[0].ToString()
	out.State, _ = arr[1].ToString()
	rq, _ := arr[2].ToString()
	ns, _ := arr[3].ToString()
	out.Requeued, out.NoShows = splitIDs(rq), splitIDs(ns)
	return out, nil
}

// AdoptRoom makes newOwner the room's owner if it is unresolved and still
// owned by oldOwner.
func (c *Client) AdoptRoom(ctx context.Context, mode, matchID, oldOwner, newOwner string) (bool, error) {
	n, err := c.scripts.roomAdopt.Exec(ctx, c.R, []string{c.Keys.Room(mode, matchID), c.Keys.Owners(mode)}, []string{oldOwner, newOwner}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: adopt room: %w", err)
	}
	return n == 1, nil
}

// RoomRef is an unresolved room and its loading deadline.
type RoomRef struct {
	MatchID    string
	DeadlineMs int64
}

// OpenRooms lists a mode's unresolved rooms with a deadline at or before
// beforeMs.
func (c *Client) OpenRooms(ctx context.Context, mode string, beforeMs int64) ([]RoomRef, error) {
	zs, err := c.R.Do(ctx, c.R.B().Zrangebyscore().Key(c.Keys.Rooms(mode)).Min("-inf").Max(i64(beforeMs)).Withscores().Build()).AsZScores()
	if err != nil {
		return nil, fmt.Errorf("redisx: open rooms: %w", err)
	}
	out := make([]RoomRef, len(zs))
	for i, z := range zs {
		out[i] = RoomRef{MatchID: z.Member, DeadlineMs: int64(z.Score)}
	}
	return out, nil
}

// DropRoomRef forgets a room whose record is gone: it leaves the open set
// and the owners index, and its players are freed, so the sweeper does not
// revisit it and nobody stays "in a room" that no longer exists. A room whose
// record exists is left alone.
func (c *Client) DropRoomRef(ctx context.Context, mode, matchID string) error {
	k := c.Keys
	if err := c.scripts.roomForget.Exec(ctx, c.R, []string{k.Room(mode, matchID), k.Rooms(mode), k.Owners(mode), k.Players(mode)},
		[]string{matchID}).Error(); err != nil {
		return fmt.Errorf("redisx: forget room: %w", err)
	}
	return nil
}

// RoomOwners maps each unresolved room of a mode to the node driving it.
func (c *Client) RoomOwners(ctx context.Context, mode string) (map[string]string, error) {
	m, err := c.R.Do(ctx, c.R.B().Hgetall().Key(c.Keys.Owners(mode)).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("redisx: room owners: %w", err)
	}
	return m, nil
}
