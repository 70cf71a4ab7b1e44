package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// startLeader starts a node and waits until it holds the lease of every
// mode, so that the nodes started after it stand by.
func startLeader(t *testing.T, opts NodeOptions) *Node {
	t.Helper()
	n := StartNode(t, opts)
	modes := max(1, len(opts.Modes))
	eventually(t, 10*time.Second, n.ID+" holds every lease", func() error {
		if got := len(n.FindLogs("matching lease acquired")); got < modes {
			return fmt.Errorf("%d of %d leases", got, modes)
		}
		return nil
	})
	return n
}

// leaderOf returns the node whose queue actor for mode holds the lease.
func leaderOf(t *testing.T, nodes []*Node, mode string) *Node {
	t.Helper()
	var leader *Node
	eventually(t, 10*time.Second, "a leader for "+mode, func() error {
		leader = nil
		for _, n := range nodes {
			for _, a := range n.Actors(t, "queue") {
				d, _ := a["details"].(map[string]any)
				if a["state"] == "leader" && d["mode"] == mode {
					if leader != nil {
						return fmt.Errorf("two leaders: %s and %s", leader.ID, n.ID)
					}
					leader = n
				}
			}
		}
		if leader == nil {
			return fmt.Errorf("no leader")
		}
		return nil
	})
	return leader
}

// noFrame fails if any client got a frame of the given type, or a given
// error code.
func noFrame(t *testing.T, clients []*Client, typ string, code protocol.Code) {
	t.Helper()
	for _, c := range clients {
		for _, f := range c.Frames() {
			if f.Type() == typ && (code == "" || f.Str("code") == string(code)) {
				t.Errorf("%s got %s", c.Player, f)
			}
		}
	}
}

// TestRoomOwnerKilled: the node driving a loading room dies (kill -9) and
// the members, connected to another node, load.
//   - With an allocator (static here) the room must reach it: the surviving
//     node adopts the room at once (the dead owner's liveness key lapses)
//     and starts the match long before the loading deadline.
//   - With none, the last member's mark starts the match in Redis and its
//     session tells the others: no adoption is needed at all.
func TestRoomOwnerKilled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		allocator string
		adopted   int
	}{{"static", 1}, {"none", 0}} {
		t.Run(tc.allocator, func(t *testing.T) {
			t.Parallel()
			be := StandaloneBackend(t)
			duel := Duel()
			duel.LoadingTimeout = 20 * time.Second
			set := map[string]any{"rooms.node_ttl": "1500ms", "allocator.mode": tc.allocator}
			if tc.allocator == "static" {
				set["allocator.servers"] = []string{"10.0.0.1:7777"}
			}
			opts := be.Apply(NodeOptions{Modes: []Mode{duel}, Set: set})
			owner := startLeader(t, opts)
			other := StartNode(t, opts)

			p1 := Dial(t, other, "k1", 1000, "")
			p2 := Dial(t, other, "k2", 1000, "")
			match, _ := matchPair(t, p1, p2)
			owner.Kill()
			killed := time.Now()

			for _, c := range []*Client{p1, p2} {
				rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
				c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
			}
			for _, c := range []*Client{p1, p2} {
				f := c.Expect(t, protocol.TypeMatchReady)
				if f.Str("match_id") != match {
					t.Errorf("%s: %s", c.Player, f)
				}
			}
			took := time.Since(killed)
			t.Logf("match_ready %s after the owner was killed (loading_timeout %s)", took.Round(time.Millisecond), duel.LoadingTimeout)
			if took > 10*time.Second {
				t.Errorf("match_ready came %s after the owner died: the room waited for its deadline", took)
			}
			WaitMetric(t, []*Node{other}, `matchd_matches_started_total{mode="duel"}`, 1, 5*time.Second)
			if tc.adopted > 0 {
				// The log reaches the test through a pipe: wait for the
				// line, then check it is the only one.
				other.WaitLog(t, 5*time.Second, "room adopted", func(l LogLine) bool { return l.Msg() == "room adopted" })
			}
			if n := len(other.FindLogs("room adopted")); n != tc.adopted {
				t.Errorf("surviving node logged %d \"room adopted\" lines, want %d", n, tc.adopted)
			}
			CheckInvariants(t, []*Client{p1, p2}, CheckOptions{EveryonePlays: true})

			// The surviving node took over matching too.
			p3 := Dial(t, other, "k3", 1000, "")
			p4 := Dial(t, other, "k4", 1000, "")
			matchPair(t, p3, p4)
		})
	}
}

// TestRoomOwnerDrained: as above with a graceful SIGTERM of the owner.
func TestRoomOwnerDrained(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 20 * time.Second
	opts := be.Apply(NodeOptions{Modes: []Mode{duel}})
	owner := startLeader(t, opts)
	other := StartNode(t, opts)

	p1 := Dial(t, other, "d1", 1000, "")
	p2 := Dial(t, other, "d2", 1000, "")
	match, _ := matchPair(t, p1, p2)
	if code, took := owner.Term(); code != 0 {
		t.Errorf("owner exit status %d after %s", code, took)
	}
	drained := time.Now()
	for _, c := range []*Client{p1, p2} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	for _, c := range []*Client{p1, p2} {
		c.Expect(t, protocol.TypeMatchReady)
	}
	took := time.Since(drained)
	t.Logf("match_ready %s after the owner drained", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("match_ready came %s after the owner drained: its room was not taken over at once", took)
	}
	CheckInvariants(t, []*Client{p1, p2}, CheckOptions{EveryonePlays: true})
}

// TestRedisRestartEmpty: Redis restarts with no data while players are
// connected. Nobody is told SESSION_REPLACED or dequeued; queued players
// keep their tickets (re-asserted by their nodes) and still get matched.
func TestRedisRestartEmpty(t *testing.T) {
	t.Parallel()
	r := StartRedis(t, RedisOptions{})
	be := Backend{Mode: "standalone", Addrs: []string{r.Addr()}}
	opts := be.Apply(NodeOptions{Set: map[string]any{"session.directory_ttl": "3s", "session.reconcile_interval": "500ms"}})
	n1 := StartNode(t, opts)
	n2 := StartNode(t, opts)

	queued := Dial(t, n1, "rq", 1000, "")
	idle := Dial(t, n2, "ri", 1000, "")
	rid := queued.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q := queued.ExpectRid(t, protocol.TypeQueued, rid)

	r.Restart()
	for _, n := range []*Node{n1, n2} {
		n.WaitReady(t, 20*time.Second)
	}
	// Wait until the ticket is back in Redis.
	prefix := KeyPrefix(t)
	eventually(t, 15*time.Second, "ticket re-asserted", func() error {
		got := r.CLI(t, "HGET", prefix+":{m:duel}:pl", "rq")
		if got != "q:"+q.Str("ticket_id") {
			return fmt.Errorf("players[rq] = %q", got)
		}
		return nil
	})
	// Let at least one directory renewal (directory_ttl/3 = 1s) pass on
	// both nodes: wait for the idle player's entry to be back.
	eventually(t, 15*time.Second, "idle player's directory entry", func() error {
		if got := r.CLI(t, "HGET", prefix+":{p:ri}", "node"); got != n2.ID {
			return fmt.Errorf("dir[ri].node = %q", got)
		}
		return nil
	})
	if st := queued.Sync(t); StateName(st) != "queued" || StateField(st, "ticket_id") != q.Str("ticket_id") {
		t.Errorf("queued player after the restart: %s", st)
	}
	if st := idle.Sync(t); StateName(st) != "idle" {
		t.Errorf("idle player after the restart: %s", st)
	}

	// The re-asserted ticket is matched with a newcomer on the other node.
	late := Dial(t, n2, "rl", 1000, "")
	rid = late.Req(t, protocol.TypeEnqueue, "mode", "duel")
	late.ExpectRid(t, protocol.TypeQueued, rid)
	f := queued.Expect(t, protocol.TypeMatchFound)
	late.Expect(t, protocol.TypeMatchFound)
	for _, c := range []*Client{queued, late} {
		c.Send(t, map[string]any{"type": "loading_complete", "match_id": f.Str("match_id")})
	}
	queued.Expect(t, protocol.TypeMatchReady)
	late.Expect(t, protocol.TypeMatchReady)

	all := []*Client{queued, idle, late}
	noFrame(t, all, protocol.TypeError, protocol.CodeSessionReplaced)
	noFrame(t, all, protocol.TypeDequeued, "")
	for _, c := range all {
		select {
		case <-c.Closed():
			t.Errorf("%s was disconnected: %v", c.Player, c.CloseErr())
		default:
		}
	}
}

// TestLeaderPauseExactlyOnce: the lease holder is frozen (SIGSTOP) several
// times for longer than lock_ttl while players arrive; another node takes
// the lease, and when the old holder wakes up its stale lease forms
// nothing. Every player still plays exactly once.
func TestLeaderPauseExactlyOnce(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	opts := be.Apply(NodeOptions{Modes: []Mode{Duel(), Squad()}})
	leader := startLeader(t, opts)
	n2 := StartNode(t, opts)
	n3 := StartNode(t, opts)
	nodes := []*Node{leader, n2, n3}

	done := make(chan []*Client)
	go func() {
		done <- playScenarioOpts(t, nodes, scenario{duel: 80, squad: 40, seed: 3, timeout: 60 * time.Second,
			arrivals: 4 * time.Second})
	}()
	// Freeze whichever node holds the duel lease, three times, for 1s
	// each (lock_ttl is 600ms).
	for range 3 {
		l := leaderOf(t, nodes, "duel")
		l.Pause()
		time.Sleep(time.Second) // the fault's duration, not a synchronisation
		l.Resume()
		time.Sleep(300 * time.Millisecond)
	}
	clients := <-done
	s := CheckInvariants(t, clients, CheckOptions{EveryonePlays: true})
	checkCounters(t, nodes, s, map[string]int{"duel": 40, "squad": 10})
	var lost int
	for _, n := range nodes {
		lost += len(n.FindLogs("matching lease lost")) + len(n.FindLogs("claim refused: lease lost"))
	}
	t.Logf("lease lost/refused log lines: %d; lease acquisitions: %v", lost,
		SumMetric(t, nodes, `matchd_lock_acquisitions_total{result="acquired"}`))
}

// TestCrashInjection: crashing a session, a room or a queue actor
// (supervised restart) changes nothing a client can see.
func TestCrashInjection(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{}))
	p1 := Dial(t, n, "c1", 1000, "")
	p2 := Dial(t, n, "c2", 1000, "")
	rid := p1.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q := p1.ExpectRid(t, protocol.TypeQueued, rid)

	crash := func(actor string) {
		t.Helper()
		if code, body := n.Post(t, "/debug/crash?actor="+actor, nil); code != 202 {
			t.Fatalf("crash %s: %d %s", actor, code, body)
		}
	}
	crash("session/c1")
	WaitMetric(t, []*Node{n}, `matchd_actor_restarts_total{kind="session"}`, 1, 5*time.Second)
	if st := p1.Sync(t); StateName(st) != "queued" || StateField(st, "ticket_id") != q.Str("ticket_id") {
		t.Errorf("after a session crash: %s", st)
	}
	crash("queue/duel")
	WaitMetric(t, []*Node{n}, `matchd_actor_restarts_total{kind="queue"}`, 1, 5*time.Second)

	rid = p2.Req(t, protocol.TypeEnqueue, "mode", "duel")
	p2.ExpectRid(t, protocol.TypeQueued, rid)
	f := p1.Expect(t, protocol.TypeMatchFound)
	p2.Expect(t, protocol.TypeMatchFound)
	match := f.Str("match_id")
	crash("room/" + match)
	WaitMetric(t, []*Node{n}, `matchd_actor_restarts_total{kind="room"}`, 1, 5*time.Second)
	for _, c := range []*Client{p1, p2} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	p1.Expect(t, protocol.TypeMatchReady)
	p2.Expect(t, protocol.TypeMatchReady)
	CheckInvariants(t, []*Client{p1, p2}, CheckOptions{EveryonePlays: true})
	for _, c := range []*Client{p1, p2} {
		select {
		case <-c.Closed():
			t.Errorf("%s disconnected by a crash: %v", c.Player, c.CloseErr())
		default:
		}
	}
	for _, l := range n.FindLogs("actor restarted") {
		if !strings.Contains(l.Str("reason"), "crash injected") {
			t.Errorf("unexpected actor restart: %v", l)
		}
	}
}

// TestRedisRestartWhileLoading: Redis restarts empty while a match is
// loading: the room is gone, so its members are requeued (not their fault)
// with their original queue time, matched again and play.
func TestRedisRestartWhileLoading(t *testing.T) {
	t.Parallel()
	r := StartRedis(t, RedisOptions{})
	be := Backend{Mode: "standalone", Addrs: []string{r.Addr()}}
	opts := be.Apply(NodeOptions{Set: map[string]any{"session.reconcile_interval": "500ms"}})
	n1 := StartNode(t, opts)
	n2 := StartNode(t, opts)
	a := Dial(t, n1, "wa", 1000, "")
	b := Dial(t, n2, "wb", 1000, "")
	match, qa := matchPair(t, a, b)
	rid := a.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	a.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	b.Expect(t, protocol.TypeLoadingStatus)

	r.Restart()
	for _, c := range []*Client{a, b} {
		mc := c.Expect(t, protocol.TypeMatchCancelled)
		if mc.Str("match_id") != match || !mc.Bool("requeued") || mc.Str("reason") != protocol.ReasonRoomLost {
			t.Errorf("%s: %s, want the lost match cancelled (room_lost) with requeued true", c.Player, mc)
		}
		q := c.NextIs(t, protocol.TypeQueued)
		if !q.Bool("requeued") {
			t.Errorf("%s: %s", c.Player, q)
		}
		if c == a && q.Int("queued_at_ms") != qa.Int("queued_at_ms") {
			t.Errorf("%s requeued with queued_at_ms %d, want the original %d", c.Player, q.Int("queued_at_ms"), qa.Int("queued_at_ms"))
		}
	}
	fa := a.Expect(t, protocol.TypeMatchFound)
	fb := b.Expect(t, protocol.TypeMatchFound)
	if fa.Str("match_id") != fb.Str("match_id") || fa.Str("match_id") == match {
		t.Fatalf("rematch: %s / %s", fa, fb)
	}
	for _, c := range []*Client{a, b} {
		c.Send(t, map[string]any{"type": "loading_complete", "match_id": fa.Str("match_id")})
	}
	a.Expect(t, protocol.TypeMatchReady)
	b.Expect(t, protocol.TypeMatchReady)
	noFrame(t, []*Client{a, b}, protocol.TypeError, "")
	CheckInvariants(t, []*Client{a, b}, CheckOptions{EveryonePlays: true})
	// The lost match is counted like any cancellation, once, and both
	// members as requeued.
	WaitMetric(t, []*Node{n1, n2}, `matchd_matches_cancelled_total{mode="duel",reason="room_lost"}`, 1, 5*time.Second)
	WaitMetric(t, []*Node{n1, n2}, `matchd_players_requeued_total{mode="duel"}`, 2, 5*time.Second)
}

// TestRedisDown: while Redis is unreachable, requests get UNAVAILABLE with
// retry_after_ms (and their rid), /readyz says 503 with a JSON reason, and
// everything works again once Redis is back.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	r := StartRedis(t, RedisOptions{})
	n := StartNode(t, NodeOptions{RedisAddrs: []string{r.Addr()}, Set: map[string]any{"redis.op_timeout": "300ms"}})
	c := Dial(t, n, "rd", 1000, "")
	r.Kill()

	eventually(t, 10*time.Second, "readyz 503", func() error {
		code, body := n.Get(t, "/readyz")
		if code != 503 {
			return fmt.Errorf("readyz %d %s", code, body)
		}
		if !strings.Contains(string(body), "reason") {
			return fmt.Errorf("readyz body without a reason: %s", body)
		}
		return nil
	})
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	e := c.ExpectError(t, rid, protocol.CodeUnavailable)
	if e.Int("retry_after_ms") <= 0 {
		t.Errorf("UNAVAILABLE without retry_after_ms: %s", e)
	}
	if strings.Contains(e.Str("message"), "redis") || strings.Contains(e.Str("message"), "127.0.0.1") {
		t.Errorf("internal detail leaks to the client: %s", e)
	}
	rid = c.Req(t, protocol.TypePing)
	c.ExpectRid(t, protocol.TypePong, rid)
	WaitMetric(t, []*Node{n}, "matchd_redis_circuit_open", 1, 10*time.Second)

	r.Restart()
	n.WaitReady(t, 20*time.Second)
	WaitMetric(t, []*Node{n}, "matchd_redis_circuit_open", 0, 20*time.Second)
	eventually(t, 20*time.Second, "enqueue accepted again", func() error {
		rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
		f, err := c.ExpectFuncErr(5*time.Second, "reply to "+rid, func(f Frame) bool { return f.Str("rid") == rid })
		if err != nil {
			return err
		}
		if f.Type() != protocol.TypeQueued {
			return fmt.Errorf("reply %s", f)
		}
		return nil
	})
	o := Dial(t, n, "rd2", 1000, "")
	rid = o.Req(t, protocol.TypeEnqueue, "mode", "duel")
	o.ExpectRid(t, protocol.TypeQueued, rid)
	c.Expect(t, protocol.TypeMatchFound)
	o.Expect(t, protocol.TypeMatchFound)
}
