package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// fakeOutbox records what a session actor sends to its client.
type fakeOutbox struct {
	id     string
	frames chan map[string]any
	mu     sync.Mutex
	closed int
}

func (o *fakeOutbox) SessionID() string { return o.id }

func (o *fakeOutbox) Send(frame any) {
	b, _ := json.Marshal(frame)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	o.frames <- m
}

func (o *fakeOutbox) Close(code int, _ string) {
	o.mu.Lock()
	o.closed = code
	o.mu.Unlock()
}

func (o *fakeOutbox) closeCode() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

// testNode is one node's actor tree on the shared real Redis.
type testNode struct {
	t       testing.TB
	node    *Node
	env     *Env
	rc      *redisx.Client
	metrics *Metrics
}

func startTestNode(t testing.TB, rcfg config.Redis, mod func(*config.Config)) *testNode {
	t.Helper()
	return startTestNodeWith(t, rcfg, mod, nil)
}

// startTestNodeWith is startTestNode with the store wrapped (for faults).
func startTestNodeWith(t testing.TB, rcfg config.Redis, mod func(*config.Config), wrap func(*redisx.Client) Store) *testNode {
	t.Helper()
	cfg := config.Default()
	cfg.NodeID = fmt.Sprintf("node-%s", newID()[:8])
	cfg.Redis = rcfg
	cfg.Matchmaking.Tick = 10 * time.Millisecond
	cfg.Matchmaking.LockTTL = 300 * time.Millisecond
	cfg.Session.ReconcileInterval = 200 * time.Millisecond
	if mod != nil {
		mod(&cfg)
	}
	log := slog.New(slog.NewTextHandler(testLogOut(io.Discard), nil))
	rc, err := redisx.Open(context.Background(), cfg.Redis, log)
	if err != nil {
		t.Fatalf("open redis: %v", err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	store := config.NewStore(cfg)
	var st Store = rc
	if wrap != nil {
		st = wrap(rc)
	}
	env := &Env{Node: cfg.NodeID, Config: store, Store: st, Parties: rc, Metrics: m, Log: log, Clock: rc.Clock,
		Events: NewEvents(rc, cfg.NodeID, func() int64 { return 1000 }, func() time.Duration { return cfg.Redis.OpTimeout }, m, nil),
		Sanctions: redisx.NewSanctions(rc, func() redisx.SanctionPolicy {
			return redisx.SanctionPolicy{Ladder: cfg.Sanctions.Ladder, Decay: cfg.Sanctions.Decay}
		}, nil)}
	n, err := Start(env, rc)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { n.Stop(); rc.Close() })
	return &testNode{t: t, node: n, env: env, rc: rc, metrics: m}
}

// player is one connected fake client.
type player struct {
	t   testing.TB
	n   *testNode
	id  string
	out *fakeOutbox
	pid *actor.PID
}

func (n *testNode) connect(id string, rating float64) *player {
	n.t.Helper()
	out := &fakeOutbox{id: newID(), frames: make(chan map[string]any, 256)}
	pid, err := n.node.Attach(context.Background(), PlayerInfo{ID: id, Rating: rating}, out)
	if err != nil {
		n.t.Fatalf("attach %s: %v", id, err)
	}
	p := &player{t: n.t, n: n, id: id, out: out, pid: pid}
	p.expect(protocol.TypeWelcome)
	return p
}

func (p *player) send(m protocol.ClientMessage) { p.n.node.Request(p.pid, p.out.id, m) }

// expect returns the next frame of type typ, failing on any other frame in
// between that is not listed in skip.
func (p *player) expect(typ string, skip ...string) map[string]any {
	p.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f := <-p.out.frames:
			if f["type"] == typ {
				return f
			}
			ok := false
			for _, s := range skip {
				ok = ok || f["type"] == s
			}
			if !ok {
				p.t.Fatalf("%s: got frame %v, want %s", p.id, f, typ)
			}
		case <-deadline:
			p.t.Fatalf("%s: no %s frame within 10s", p.id, typ)
		}
	}
}

// duel connects two players of equal rating, queues both for duel and
// waits until both are told of their match; found is the first player's
// match_found.
func (n *testNode) duel(idA, idB string) (a, b *player, found map[string]any) {
	n.t.Helper()
	a, b = n.connect(idA, 1500), n.connect(idB, 1500)
	a.enqueue("duel")
	b.enqueue("duel")
	found = a.expect(protocol.TypeMatchFound)
	b.expect(protocol.TypeMatchFound)
	return a, b, found
}

func (p *player) enqueue(mode string) map[string]any {
	p.send(protocol.ClientMessage{Type: protocol.TypeEnqueue, Mode: mode, Rid: "e"})
	return p.expect(protocol.TypeQueued)
}

func (p *player) sync() map[string]any {
	p.send(protocol.ClientMessage{Type: protocol.TypeSync, Rid: "s"})
	return p.expect(protocol.TypeState)["state"].(map[string]any)
}

func counter(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	go func() { c.Collect(ch); close(ch) }()
	var v float64
	for m := range ch {
		var d = new(dtoMetric)
		_ = m.Write(&d.Metric)
		v += d.value()
	}
	return v
}

func (n *testNode) crash(t *testing.T, id string) {
	t.Helper()
	before := counter(n.metrics.ActorRestarts.WithLabelValues(kindOf("x/" + id)))
	if err := n.node.Crash(id); err != nil {
		t.Fatalf("crash %s: %v", id, err)
	}
	waitFor(t, "restart of "+id, func() bool {
		return counter(n.metrics.ActorRestarts.WithLabelValues(kindOf("x/"+id))) > before
	})
}

// waitFor polls cond until it holds; it fails the test after 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQueueCrashLosesNoTicket(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), nil)
	a := n.connect("alice", 1500)
	q := a.enqueue("duel")
	n.crash(t, "queue/duel")
	b := n.connect("bob", 1510)
	b.enqueue("duel")
	fa := a.expect(protocol.TypeMatchFound)
	fb := b.expect(protocol.TypeMatchFound)
	if fa["match_id"] != fb["match_id"] {
		t.Fatalf("got match ids %v and %v, want one match", fa["match_id"], fb["match_id"])
	}
	if got := a.sync(); got["ticket_id"] != nil && got["ticket_id"] != q["ticket_id"] {
		t.Fatalf("alice's ticket changed across the crash: got %v, want %v", got["ticket_id"], q["ticket_id"])
	}
}

func TestSessionCrashKeepsConnectionAndState(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), nil)
	a := n.connect("alice", 1500)
	q := a.enqueue("duel")
	n.crash(t, "session/alice")
	st := a.sync()
	if st["name"] != "queued" || st["ticket_id"] != q["ticket_id"] {
		t.Fatalf("after a session crash got state %v, want queued with ticket %v", st, q["ticket_id"])
	}
	if code := a.out.closeCode(); code != 0 {
		t.Fatalf("connection closed with %d by a session crash, want it kept open", code)
	}
}

func TestRoomCrashMidLoadingStillStarts(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), nil)
	a, b, found := n.duel("alice", "bob")
	match := found["match_id"].(string)
	a.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "l"})
	a.expect(protocol.TypeLoadingStatus)
	b.expect(protocol.TypeLoadingStatus)
	n.crash(t, "room/"+match)
	b.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "l"})
	b.expect(protocol.TypeLoadingStatus)
	b.expect(protocol.TypeMatchReady)
	a.expect(protocol.TypeMatchReady, protocol.TypeLoadingStatus)
	if got := counter(n.metrics.MatchesStarted.WithLabelValues("duel")); got != 1 {
		t.Fatalf("matches started: got %v, want 1", got)
	}
}

func TestMetricsExactAfterScenarios(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), func(c *config.Config) {
		c.Matchmaking.Modes[0].LoadingTimeout = 300 * time.Millisecond
	})
	m := n.metrics
	// One idempotent enqueue: two requests, one ticket.
	a := n.connect("alice", 1500)
	a.enqueue("duel")
	a.enqueue("duel")
	if got := counter(m.TicketsEnqueued.WithLabelValues("duel")); got != 1 {
		t.Fatalf("tickets enqueued after a repeat: got %v, want 1", got)
	}
	// One cancel at the deadline with one ready member: one requeue.
	b := n.connect("bob", 1500)
	b.enqueue("duel")
	match := a.expect(protocol.TypeMatchFound)["match_id"].(string)
	b.expect(protocol.TypeMatchFound)
	a.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "l"})
	a.expect(protocol.TypeLoadingStatus)
	c := a.expect(protocol.TypeMatchCancelled, protocol.TypeLoadingStatus)
	if c["reason"] != protocol.ReasonLoadingTimeout || c["requeued"] != true {
		t.Fatalf("ready member got %v, want loading_timeout requeued", c)
	}
	a.expect(protocol.TypeQueued)
	b.expect(protocol.TypeMatchCancelled, protocol.TypeLoadingStatus)
	for name, got := range map[string]float64{
		"matches_formed":             counter(m.MatchesFormed.WithLabelValues("duel")),
		"matches_cancelled(timeout)": counter(m.MatchesCancelled.WithLabelValues("duel", protocol.ReasonLoadingTimeout)),
		"players_requeued":           counter(m.PlayersRequeued.WithLabelValues("duel")),
		"violations(no_show)":        counter(m.Violations.WithLabelValues("no_show")),
	} {
		if got != 1 {
			t.Errorf("%s: got %v, want 1", name, got)
		}
	}
	if got := counter(m.TicketsEnqueued.WithLabelValues("duel")); got != 2 {
		t.Errorf("tickets enqueued (alice once, bob once; the requeue is not an enqueue): got %v, want 2", got)
	}
	if got := counter(m.MatchesStarted.WithLabelValues("duel")); got != 0 {
		t.Errorf("matches started: got %v, want 0", got)
	}
	// A cancel of a queued ticket is not a requeue and not a match.
	a.send(protocol.ClientMessage{Type: protocol.TypeCancel, Rid: "c"})
	if d := a.expect(protocol.TypeDequeued); d["reason"] != protocol.ReasonCancelled {
		t.Fatalf("got %v, want dequeued cancelled", d)
	}
	if got := counter(m.PlayersRequeued.WithLabelValues("duel")); got != 1 {
		t.Fatalf("players requeued after a cancel: got %v, want still 1", got)
	}
}

// A node that dies while it owns a loading room strands nobody: a surviving
// node adopts the room at once and resolves it (here at the deadline: alice
// loaded and is requeued, bob did not and is a no-show).
func TestDeadOwnersRoomIsAdopted(t *testing.T) {
	t.Parallel()
	rcfg := redistest.Config(t)
	fast := func(c *config.Config) {
		c.Rooms.NodeTTL = 300 * time.Millisecond
		c.Rooms.SweepInterval = 50 * time.Millisecond
		c.Matchmaking.Modes[0].LoadingTimeout = 2 * time.Second
	}
	a, b, alice, bob, match := matchOnDyingOwner(t, rcfg, fast)
	a.node.Stop() // node A dies: its room actor is gone, its liveness key lapses
	alice.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "l"})
	alice.expect(protocol.TypeLoadingStatus)
	if c := alice.expect(protocol.TypeMatchCancelled); c["reason"] != protocol.ReasonLoadingTimeout || c["requeued"] != true {
		t.Fatalf("alice: got %v, want match_cancelled loading_timeout, requeued", c)
	}
	if q := alice.expect(protocol.TypeQueued); q["requeued"] != true {
		t.Fatalf("alice: got %v, want queued requeued", q)
	}
	if c := bob.expect(protocol.TypeMatchCancelled, protocol.TypeLoadingStatus); c["requeued"] != false {
		t.Fatalf("bob: got %v, want match_cancelled, not requeued (no-show)", c)
	}
	if got := counter(b.metrics.RoomsAdopted.WithLabelValues("duel")); got != 1 {
		t.Fatalf("rooms adopted by node B: got %v, want 1", got)
	}
}

// With no allocator the last member's mark starts the match in Redis: a
// dead owner node does not hold the start back, and its room needs no
// adoption. With the room actor gone, the members hear of the start when
// their sessions reconcile with Redis.
func TestLastMarkStartsWithoutOwner(t *testing.T) {
	t.Parallel()
	rcfg := redistest.Config(t)
	a, b, alice, bob, match := matchOnDyingOwner(t, rcfg, func(c *config.Config) {
		c.Matchmaking.Modes[0].LoadingTimeout = time.Minute
		// No sweep during the test, so nobody adopts the room: the start
		// must not need it.
		c.Rooms.SweepInterval = time.Minute
	})
	a.node.Stop()
	alice.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "l"})
	if ls := alice.expect(protocol.TypeLoadingStatus); !slices.Equal(toStrings(ls["waiting"]), []string{"bob"}) {
		t.Fatalf("alice: got %v, want loading_status waiting for bob", ls)
	}
	bob.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "l"})
	if ls := bob.expect(protocol.TypeLoadingStatus); ls["rid"] != "l" || len(toStrings(ls["waiting"])) != 0 {
		t.Fatalf("bob: got %v, want the reply to his loading_complete, nobody waiting", ls)
	}
	for _, p := range []*player{alice, bob} {
		if mr := p.expect(protocol.TypeMatchReady); mr["match_id"] != match {
			t.Fatalf("%s: got %v, want match_ready for %s", p.id, mr, match)
		}
	}
	if got := counter(b.metrics.MatchesStarted.WithLabelValues("duel")); got != 1 {
		t.Fatalf("matches started on node B: got %v, want 1 (bob's mark started it)", got)
	}
	if got := counter(b.metrics.RoomsAdopted.WithLabelValues("duel")); got != 0 {
		t.Fatalf("rooms adopted by node B: got %v, want 0 (the room was resolved)", got)
	}
}

// matchOnDyingOwner starts node A (the matching leader) and node B, and
// matches alice and bob, both connected to B, into a room A owns.
func matchOnDyingOwner(t *testing.T, rcfg config.Redis, mod func(*config.Config)) (a, b *testNode, alice, bob *player, match string) {
	t.Helper()
	a = startTestNode(t, rcfg, mod)
	waitFor(t, "node A to lead duel", func() bool {
		for _, s := range a.node.Snapshot("queue").Children {
			if s.State == "leader" {
				return true
			}
		}
		return false
	})
	b = startTestNode(t, rcfg, mod)
	alice, bob, found := b.duel("alice", "bob")
	match = found["match_id"].(string)
	if got := counter(a.metrics.MatchesFormed.WithLabelValues("duel")); got != 1 {
		t.Fatalf("node A formed %v matches, want 1 (it holds the lease)", got)
	}
	return a, b, alice, bob, match
}

// toStrings reads a decoded JSON array of strings.
func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// panickyStore is the real store, except that enqueueing player "boom"
// panics: a stand-in for a bug.
type panickyStore struct{ *redisx.Client }

func (s panickyStore) Enqueue(ctx context.Context, t redisx.Ticket) (redisx.EnqueueResult, error) {
	if t.Player == "boom" {
		panic("test: injected bug")
	}
	return s.Client.Enqueue(ctx, t)
}

func TestBugAnswersInternalWithIncidentAndRecovers(t *testing.T) {
	t.Parallel()
	n := startTestNodeWith(t, redistest.Config(t), nil, func(c *redisx.Client) Store { return panickyStore{c} })
	p := n.connect("boom", 1500)
	p.send(protocol.ClientMessage{Type: protocol.TypeEnqueue, Mode: "duel", Rid: "r1"})
	e := p.expect(protocol.TypeError)
	if e["code"] != string(protocol.CodeInternal) || e["rid"] != "r1" {
		t.Fatalf("got %v, want INTERNAL with rid r1", e)
	}
	if id, _ := e["incident_id"].(string); id == "" {
		t.Fatalf("INTERNAL without incident_id: %v", e)
	}
	if msg, _ := e["message"].(string); msg == "" || len(msg) > 80 {
		t.Fatalf("INTERNAL message %q: want a short sentence without detail", msg)
	}
	// The supervisor restarted the session; it still answers.
	p.send(protocol.ClientMessage{Type: protocol.TypePing, Rid: "r2"})
	if got := p.expect(protocol.TypePong); got["rid"] != "r2" {
		t.Fatalf("got %v, want pong r2", got)
	}
	if code := p.out.closeCode(); code != 0 {
		t.Fatalf("connection closed with %d after a bug, want it kept open", code)
	}
}

// A player whose state changes faster than the renewal interval still renews
// its directory entry: state changes must not keep postponing the tick, or
// the entry lapses and the matching leader takes the player for one whose
// node died.
func TestBusyPlayerKeepsItsDirectoryEntry(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), func(c *config.Config) {
		c.Session.DirectoryTTL = 600 * time.Millisecond
	})
	p := n.connect("busy", 1500)
	key := n.rc.Keys.Dir("busy")
	deadline := time.Now().Add(4 * n.env.Cfg().Session.DirectoryTTL)
	for time.Now().Before(deadline) {
		p.enqueue("duel")
		p.send(protocol.ClientMessage{Type: protocol.TypeCancel, Rid: "c"})
		p.expect(protocol.TypeDequeued)
	}
	ttl, err := n.rc.R.Do(context.Background(), n.rc.R.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil || ttl <= 0 {
		t.Fatalf("directory entry of a busy player after %s: PTTL %d, %v; want it renewed", 4*n.env.Cfg().Session.DirectoryTTL, ttl, err)
	}
}

// A node stops promptly while room spawns are still queued at its
// coordinator (a leader's last tick): rooms are not spawned once the stop
// began, since such a child would never be stopped and would hold the
// shutdown until its timeout.
func TestStopWhileRoomsSpawn(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), nil)
	now := time.Now().UnixMilli()
	for i := range 300 {
		id := fmt.Sprintf("m%03d", i)
		room := &redisx.Room{MatchID: id, Mode: "duel", State: "loading", DeadlineMs: now + time.Minute.Milliseconds(),
			Members: []string{"a" + id, "b" + id}, Ready: map[string]bool{}, Tickets: map[string]redisx.Ticket{}}
		n.env.system.Root.Send(n.env.coordinator, &spawnRoom{mode: "duel", match: id, room: room, pending: n.env.registry.pend(id)})
	}
	done := make(chan struct{})
	go func() {
		n.node.Stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(8 * time.Second):
		t.Fatal("the node did not stop within 8s with room spawns queued")
	}
}

// dirCountingStore is the real store, counting directory reads of players.
type dirCountingStore struct {
	*redisx.Client
	asked *atomic.Int64
}

func (s dirCountingStore) DirNodes(ctx context.Context, players []string) (map[string]string, error) {
	s.asked.Add(int64(len(players)))
	return s.Client.DirNodes(ctx, players)
}

// The leader checks that matched players are still connected somewhere;
// players whose sessions live on the leader's own node need no directory
// read for that, so on one node matching reads no directory at all.
func TestLivenessOfLocalPlayersNeedsNoRead(t *testing.T) {
	t.Parallel()
	var asked atomic.Int64
	n := startTestNodeWith(t, redistest.Config(t), nil, func(c *redisx.Client) Store { return dirCountingStore{c, &asked} })
	n.duel("lv-a", "lv-b")
	if got := asked.Load(); got != 0 {
		t.Fatalf("the leader read the directory for %d players, want 0 (both sessions are local)", got)
	}
}

// A match_found that arrives after the session reported that match's end
// (its delivery took a slower path, through another node) must not reopen
// the match: the session stays queued and reports the end only once.
func TestLateMatchFoundAfterTheEnd(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), nil)
	a, b, found := n.duel("late-a", "late-b")
	match := found["match_id"].(string)
	b.send(protocol.ClientMessage{Type: protocol.TypeCancel, Rid: "dodge"})
	b.expect(protocol.TypeMatchCancelled)
	if c := a.expect(protocol.TypeMatchCancelled); c["requeued"] != true {
		t.Fatalf("alice: got %v, want match_cancelled, requeued", c)
	}
	q := a.expect(protocol.TypeQueued)
	// The same news again, late: a match_found, then the cancel's copy.
	var teams [][]string
	for _, tm := range found["teams"].([]any) {
		teams = append(teams, toStrings(tm))
	}
	n.node.system.Root.Send(a.pid, &MatchFoundMsg{MatchID: match, Mode: "duel", Teams: teams, DeadlineMs: time.Now().Add(time.Minute).UnixMilli(), Owner: n.env.Node})
	n.node.system.Root.Send(a.pid, &MatchCancelledMsg{MatchID: match, Mode: "duel", Reason: protocol.ReasonPlayerLeft, NoShows: []string{},
		Ticket: &redisx.Ticket{ID: q["ticket_id"].(string), Player: "late-a", Mode: "duel", Rating: 1500, QueuedAtMs: int64(q["queued_at_ms"].(float64))}})
	if st := a.sync(); st["name"] != "queued" || st["ticket_id"] != q["ticket_id"] {
		t.Fatalf("alice after the late news: state %v, want queued with ticket %v", st, q["ticket_id"])
	}
}

// A match_found of an earlier ticket of the player's, delivered late (a
// stalled node's news, many matches later: past what the session remembers
// telling), while the player is queued with a new ticket: the session asks
// Redis instead of believing it, and stays queued with its ticket; the
// client is told nothing of a match it already finished.
func TestLateMatchFoundOfAnEarlierTicket(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), nil)
	a, b := n.connect("old-a", 1500), n.connect("old-b", 1500)
	oldTicket := a.enqueue("duel")["ticket_id"].(string)
	b.enqueue("duel")
	found := a.expect(protocol.TypeMatchFound)
	b.expect(protocol.TypeMatchFound)
	first := found["match_id"].(string)
	var teams [][]string
	for _, tm := range found["teams"].([]any) {
		teams = append(teams, toStrings(tm))
	}
	// Play more matches than the session's memory of what it told holds.
	for i := 0; ; i++ {
		m := found["match_id"].(string)
		for _, p := range []*player{a, b} {
			p.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: m, Rid: "l"})
		}
		a.expect(protocol.TypeMatchReady, protocol.TypeLoadingStatus)
		b.expect(protocol.TypeMatchReady, protocol.TypeLoadingStatus)
		if i == 2*len(toldRing{}.ids) {
			break
		}
		a.enqueue("duel")
		b.enqueue("duel")
		found = a.expect(protocol.TypeMatchFound)
		b.expect(protocol.TypeMatchFound)
	}
	q := a.enqueue("duel")
	n.node.system.Root.Send(a.pid, &MatchFoundMsg{MatchID: first, Mode: "duel", Teams: teams,
		DeadlineMs: time.Now().Add(time.Minute).UnixMilli(), Owner: n.env.Node,
		Tickets: map[string]string{"old-a": oldTicket}})
	if st := a.sync(); st["name"] != "queued" || st["ticket_id"] != q["ticket_id"] {
		t.Fatalf("after the late match_found: state %v, want queued with ticket %v", st, q["ticket_id"])
	}
}
