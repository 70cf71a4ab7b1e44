package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// These tests check the promise that survives any crash: Redis holds the
// one truth of where a player stands, and a player is never lost, stranded,
// seated twice or charged for a match it was not told of.

// violations reads a player's live violations from the admin API.
func violations(t *testing.T, n *Node, player string) int {
	t.Helper()
	code, body := n.Get(t, "/admin/sanctions/"+player)
	if code != 200 {
		t.Fatalf("sanctions of %s: %d %s", player, code, body)
	}
	var s struct {
		Violations []json.RawMessage `json:"violations"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("sanctions of %s: %v: %s", player, err, body)
	}
	return len(s.Violations)
}

// answers checks that c is answered within a second, and still in state.
func answers(t *testing.T, c *Client, state string) {
	t.Helper()
	rid := c.Req(t, protocol.TypeSync)
	f, err := c.ExpectFuncErr(time.Second, "the state reply "+rid, func(f Frame) bool { return f.Str("rid") == rid })
	if err != nil {
		t.Fatalf("%s is not answered within 1s: %v\n%s", c.Player, err, c.Dump())
	}
	if f.Type() != protocol.TypeState || StateName(f) != state {
		t.Fatalf("%s: %s, want state %s", c.Player, f, state)
	}
}

// TestCrashCoordinatorThenSessions: the coordinator of the node that holds
// the connections crashes, then its sessions' supervisor. Each time every
// connected player is answered within a second, queued tickets are matched
// and played, and nobody is charged a violation.
func TestCrashCoordinatorThenSessions(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	opts := be.Apply(NodeOptions{Set: map[string]any{"debug.fault_injection": true}})
	n := StartNode(t, opts)
	other := StartNode(t, opts)
	nodes := []*Node{n, other}
	var all []*Client
	for _, actor := range []string{"coordinator", "sessions"} {
		t.Run(actor, func(t *testing.T) {
			// Two players queued on the crashing node, an idle one beside them.
			a := Dial(t, n, actor+"-a", 1000, "")
			b := Dial(t, n, actor+"-b", 1000, "")
			idle := Dial(t, n, actor+"-idle", 1000, "")
			all = append(all, a, b, idle)
			rid := a.Req(t, protocol.TypeEnqueue, "mode", "duel")
			a.ExpectRid(t, protocol.TypeQueued, rid)
			before := n.Metrics(t)["matchd_sessions"]
			restarts := n.Metrics(t)[`matchd_actor_restarts_total{kind="`+kindOfActor(actor)+`"}`]
			if code, body := n.Post(t, "/debug/crash?actor="+actor, nil); code != 202 {
				t.Fatalf("crash %s: %d %s", actor, code, body)
			}
			WaitMetric(t, []*Node{n}, `matchd_actor_restarts_total{kind="`+kindOfActor(actor)+`"}`, restarts+1, 5*time.Second)
			answers(t, a, "queued")
			answers(t, idle, "idle")
			if got := n.Metrics(t)["matchd_sessions"]; got != before {
				t.Errorf("matchd_sessions %v after the crash, want %v", got, before)
			}
			n.WaitReady(t, 5*time.Second)
			// The queued player is matched once a mate queues, and they play.
			rid = b.Req(t, protocol.TypeEnqueue, "mode", "duel")
			b.ExpectRid(t, protocol.TypeQueued, rid)
			fa := a.Expect(t, protocol.TypeMatchFound)
			fb := b.Expect(t, protocol.TypeMatchFound)
			if fa.Str("match_id") != fb.Str("match_id") {
				t.Fatalf("different matches: %s / %s", fa, fb)
			}
			for _, c := range []*Client{a, b} {
				rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", fa.Str("match_id"))
				c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
			}
			a.Expect(t, protocol.TypeMatchReady)
			b.Expect(t, protocol.TypeMatchReady)
		})
	}
	CheckInvariants(t, all, CheckOptions{})
	noFrame(t, all, protocol.TypeError, "")
	if v := SumMetricPrefix(t, nodes, "matchd_violations_total"); v != 0 {
		t.Errorf("violations charged: %v, want none", v)
	}
}

func kindOfActor(id string) string {
	if id == "sessions" {
		return "supervisor"
	}
	return id
}

// TestReconnectAfterGraceResumesLoading: a player whose connection stays
// away longer than the reconnect grace, while its room still waits, comes
// back to a welcome that says loading, followed by the match's match_found;
// it loads and the match is played. A room seat is kept until the room's
// deadline, whatever the grace (docs/protocol.md section 2.6). Meanwhile an
// enqueue in another mode is refused: the player is loading.
func TestReconnectAfterGraceResumesLoading(t *testing.T) {
	t.Parallel()
	duel := Duel()
	duel.LoadingTimeout = 30 * time.Second
	other := Duel()
	other.Name = "duel2"
	n := StartNode(t, NodeOptions{Modes: []Mode{duel, other}, Set: map[string]any{"session.reconnect_grace": "500ms"}})
	a := Dial(t, n, "away", 1000, "")
	b := Dial(t, n, "stays", 1000, "")
	match, _ := matchPair(t, a, b)
	a.Close()
	eventually(t, 10*time.Second, "the away player's session to end after its grace", func() error {
		if n.HasSession(t, "away") {
			return fmt.Errorf("still there")
		}
		return nil
	})
	a = Dial(t, n, "away", 1000, "")
	w := a.Frames()[0]
	if w.Type() != protocol.TypeWelcome || StateName(w) != "loading" || StateField(w, "match_id") != match {
		t.Fatalf("welcome after the grace: %s, want state loading in %s", w, match)
	}
	if f := a.Expect(t, protocol.TypeMatchFound); f.Str("match_id") != match {
		t.Fatalf("after the welcome: %s, want the match_found of %s", f, match)
	}
	rid := a.Req(t, protocol.TypeEnqueue, "mode", "duel2")
	if e := a.ExpectError(t, rid, protocol.CodeInvalidState); e.Obj("state")["name"] != "loading" {
		t.Fatalf("enqueue elsewhere while loading: %s, want INVALID_STATE with state loading", e)
	}
	for _, c := range []*Client{a, b} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	for _, c := range []*Client{a, b} {
		if f := c.Expect(t, protocol.TypeMatchReady); f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match_ready of %s", c.Player, f, match)
		}
	}
	if v := violations(t, n, "away"); v != 0 {
		t.Errorf("the away player has %d violations, want none", v)
	}
}

// TestAwayMemberToldOfDodgeOnReturn: a member away past its grace, and
// another member dodges. The away member is requeued (it was not its
// fault); when it comes back it is told match_cancelled, then queued, and
// it is never charged for a match it was not told of.
func TestAwayMemberToldOfDodgeOnReturn(t *testing.T) {
	t.Parallel()
	duel := Duel()
	duel.LoadingTimeout = 30 * time.Second
	n := StartNode(t, NodeOptions{Modes: []Mode{duel}, Set: map[string]any{"session.reconnect_grace": "1s"}})
	a := Dial(t, n, "gone", 1000, "")
	b := Dial(t, n, "dodger", 1000, "")
	match, qa := matchPair(t, a, b)
	a.Close()
	eventually(t, 10*time.Second, "the away player's session to end after its grace", func() error {
		if n.HasSession(t, "gone") {
			return fmt.Errorf("still there")
		}
		return nil
	})
	rid := b.Req(t, protocol.TypeCancel)
	if mc := b.ExpectRid(t, protocol.TypeMatchCancelled, rid); mc.Str("reason") != protocol.ReasonPlayerLeft {
		t.Fatalf("dodger: %s", mc)
	}
	a = Dial(t, n, "gone", 1000, "")
	w := a.Frames()[0]
	if StateName(w) != "queued" || StateField(w, "ticket_id") != qa.Str("ticket_id") {
		t.Fatalf("welcome: %s, want queued with the original ticket %s", w, qa.Str("ticket_id"))
	}
	mc := a.NextIs(t, protocol.TypeMatchCancelled)
	if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonPlayerLeft || !mc.Bool("requeued") {
		t.Fatalf("after the welcome: %s, want match_cancelled player_left requeued of %s", mc, match)
	}
	q := a.NextIs(t, protocol.TypeQueued)
	if !q.Bool("requeued") || q.Str("ticket_id") != qa.Str("ticket_id") || q.Int("queued_at_ms") != qa.Int("queued_at_ms") {
		t.Fatalf("then: %s, want queued requeued with the original ticket and queue time %s", q, qa)
	}
	if v := violations(t, n, "gone"); v != 0 {
		t.Errorf("the away member has %d violations, want none", v)
	}
	if v := violations(t, n, "dodger"); v != 1 {
		t.Errorf("the dodger has %d violations, want 1", v)
	}
	// It plays on from the queue it was told of.
	c := Dial(t, n, "mate", 1000, "")
	rid = c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	c.ExpectRid(t, protocol.TypeQueued, rid)
	if f := a.Expect(t, protocol.TypeMatchFound); f.Str("match_id") == match {
		t.Fatalf("matched into the cancelled match again: %s", f)
	}
}

// TestLostDequeueIsToldFromRedis: the leader dequeues a ticket (max_wait)
// but its cross-node notice is lost (the leader's node drops it, a
// fault-injection switch). The player, on the other node, still receives
// dequeued with the true reason (timeout) at its session's next reconcile,
// and the ticket stays gone: a session never puts back a ticket that
// somebody removed with a reason.
func TestLostDequeueIsToldFromRedis(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.MaxWait = time.Second
	const reconcile = time.Second
	opts := be.Apply(NodeOptions{Modes: []Mode{duel}, Set: map[string]any{
		"debug.fault_injection": true, "debug.drop_bus": []string{"dequeued"},
		"session.reconcile_interval": reconcile.String(),
	}})
	n1 := StartNode(t, opts)
	n2 := StartNode(t, opts)
	leader := leaderOf(t, []*Node{n1, n2}, "duel")
	away := n1
	if leader == n1 {
		away = n2
	}
	p := Dial(t, away, "waiter", 1000, "")
	rid := p.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q := p.ExpectRid(t, protocol.TypeQueued, rid)
	dq := leader.WaitLog(t, 10*time.Second, "the leader dequeues the ticket", func(l LogLine) bool {
		return l.Msg() == "ticket dequeued" && l.Str("player") == "waiter"
	})
	d, err := p.ExpectFuncErr(3*reconcile, "dequeued", func(f Frame) bool { return f.Type() == protocol.TypeDequeued })
	if err != nil {
		t.Fatalf("no dequeued within 3 reconcile intervals of the removal (%v): %v\n%s", dq, err, p.Dump())
	}
	if d.Str("reason") != protocol.ReasonTimeout || d.Str("ticket_id") != q.Str("ticket_id") {
		t.Fatalf("got %s, want dequeued timeout for %s", d, q.Str("ticket_id"))
	}
	if got := SumMetric(t, []*Node{leader}, `matchd_bus_messages_total{direction="dropped"}`); got < 1 {
		t.Errorf("the leader dropped %v bus messages: the notice was not lost, the test proves nothing", got)
	}
	// The ticket stays gone over several reconcile intervals.
	for range 3 {
		answers(t, p, "idle")
		time.Sleep(reconcile)
	}
	if got := leader.Metrics(t)[`matchd_queue_tickets{mode="duel"}`]; got != 0 {
		t.Errorf("queue depth %v after the dequeue, want 0: the ticket came back", got)
	}
	queued := 0
	for _, f := range p.Frames() {
		if f.Type() == protocol.TypeQueued {
			queued++
		}
	}
	if queued != 1 {
		t.Errorf("%d queued frames, want only the enqueue's reply: the ticket came back\n%s", queued, p.Dump())
	}
}
