package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// expectReplaced checks that old was told SESSION_REPLACED and closed 4001.
func expectReplaced(t *testing.T, old *Client) {
	t.Helper()
	e := old.Expect(t, protocol.TypeError)
	if e.Str("code") != string(protocol.CodeSessionReplaced) {
		t.Errorf("%s: old connection got %s, want SESSION_REPLACED", old.Player, e)
	}
	old.ExpectClose(t, protocol.CloseSessionReplaced)
}

func TestTakeover(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	a := StartNode(t, be.Apply(NodeOptions{}))
	b := StartNode(t, be.Apply(NodeOptions{}))

	c1 := Dial(t, a, "taker", 1000, "dev-1")
	rid := c1.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q := c1.ExpectRid(t, protocol.TypeQueued, rid)
	ticket := q.Str("ticket_id")

	// Same node.
	c2 := Dial(t, a, "taker", 1000, "dev-1")
	expectReplaced(t, c1)
	if StateName(c2.Welcome) != "queued" || StateField(c2.Welcome, "ticket_id") != ticket {
		t.Errorf("takeover on the same node: welcome %s, want queued with ticket %s", c2.Welcome, ticket)
	}
	if c2.Welcome.Str("session_id") == c1.Welcome.Str("session_id") {
		t.Errorf("new connection reuses session_id")
	}
	rid = c2.Req(t, protocol.TypeEnqueue, "mode", "duel")
	if q := c2.ExpectRid(t, protocol.TypeQueued, rid); q.Str("ticket_id") != ticket {
		t.Errorf("enqueue after takeover: %s, want ticket %s", q, ticket)
	}

	// Another node.
	c3 := Dial(t, b, "taker", 1000, "dev-1")
	expectReplaced(t, c2)
	if StateName(c3.Welcome) != "queued" || StateField(c3.Welcome, "ticket_id") != ticket {
		t.Errorf("takeover across nodes: welcome %s, want queued with ticket %s", c3.Welcome, ticket)
	}
	if st := c3.Sync(t); StateName(st) != "queued" || StateField(st, "ticket_id") != ticket {
		t.Errorf("sync after takeover: %s", st)
	}

	// And back to the first node.
	c4 := Dial(t, a, "taker", 1000, "dev-1")
	expectReplaced(t, c3)
	if StateName(c4.Welcome) != "queued" || StateField(c4.Welcome, "ticket_id") != ticket {
		t.Errorf("takeover back: welcome %s", c4.Welcome)
	}

	// The player still plays exactly once, on its latest connection.
	opp := Dial(t, b, "opponent", 1000, "")
	rid = opp.Req(t, protocol.TypeEnqueue, "mode", "duel")
	opp.ExpectRid(t, protocol.TypeQueued, rid)
	f := c4.Expect(t, protocol.TypeMatchFound)
	opp.Expect(t, protocol.TypeMatchFound)
	for _, c := range []*Client{c4, opp} {
		c.Send(t, map[string]any{"type": "loading_complete", "match_id": f.Str("match_id")})
	}
	c4.Expect(t, protocol.TypeMatchReady)
	opp.Expect(t, protocol.TypeMatchReady)
	for _, old := range []*Client{c1, c2, c3} {
		for _, fr := range old.Frames() {
			if fr.Type() == protocol.TypeMatchFound {
				t.Errorf("replaced connection %s got %s", old.Welcome.Str("session_id"), fr)
			}
		}
	}
	CheckInvariants(t, []*Client{c1, c2, c3, c4, opp}, CheckOptions{EveryonePlays: true})
	if v := SumMetric(t, []*Node{a, b}, `matchd_tickets_enqueued_total{mode="duel"}`); v != 2 {
		t.Errorf("tickets enqueued: %v, want 2", v)
	}
}

// TestTakeoverWhileLoading: a player who reconnects while loading gets the
// match again and can finish it.
func TestTakeoverWhileLoading(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	a := StartNode(t, be.Apply(NodeOptions{}))
	b := StartNode(t, be.Apply(NodeOptions{}))
	p1 := Dial(t, a, "l1", 1000, "")
	p2 := Dial(t, a, "l2", 1000, "")
	match, _ := matchPair(t, p1, p2)

	p1b := Dial(t, b, "l1", 1000, "")
	expectReplaced(t, p1)
	if StateName(p1b.Welcome) != "loading" || StateField(p1b.Welcome, "match_id") != match {
		t.Errorf("welcome while loading: %s", p1b.Welcome)
	}
	f := p1b.NextIs(t, protocol.TypeMatchFound)
	if f.Str("match_id") != match {
		t.Errorf("resumed match_found: %s", f)
	}
	for _, c := range []*Client{p1b, p2} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	p1b.Expect(t, protocol.TypeMatchReady)
	p2.Expect(t, protocol.TypeMatchReady)
	CheckInvariants(t, []*Client{p1, p1b, p2}, CheckOptions{EveryonePlays: true})
}

func TestReconnectWithinGrace(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	opts := be.Apply(NodeOptions{Set: map[string]any{"session.reconnect_grace": "3s"}})
	a := StartNode(t, opts)
	b := StartNode(t, opts)

	c := Dial(t, a, "rc", 1000, "")
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	ticket := c.ExpectRid(t, protocol.TypeQueued, rid).Str("ticket_id")
	c.Close()

	// Same node, within the grace.
	c2 := Dial(t, a, "rc", 1000, "")
	if StateName(c2.Welcome) != "queued" || StateField(c2.Welcome, "ticket_id") != ticket {
		t.Errorf("reconnect within the grace: welcome %s, want queued %s", c2.Welcome, ticket)
	}
	c2.CloseNow()

	// Another node, within the grace.
	c3 := Dial(t, b, "rc", 1000, "")
	if StateName(c3.Welcome) != "queued" || StateField(c3.Welcome, "ticket_id") != ticket {
		t.Errorf("reconnect to another node within the grace: welcome %s, want queued %s", c3.Welcome, ticket)
	}
	// Past the first connection's grace the ticket must still be there:
	// the reconnect cancelled the old session's timer.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		st := c3.Sync(t)
		if StateName(st) != "queued" || StateField(st, "ticket_id") != ticket {
			t.Fatalf("after the old grace: %s, want still queued %s\nframes:\n%s", st, ticket, c3.Dump())
		}
		time.Sleep(250 * time.Millisecond) // pacing the probe, not synchronisation
	}
	if f := c3.Frames(); len(f) > 0 {
		for _, fr := range f {
			if fr.Type() == protocol.TypeDequeued {
				t.Errorf("got %s after reconnecting", fr)
			}
		}
	}
}

func TestReconnectAfterGrace(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	a := StartNode(t, be.Apply(NodeOptions{Set: map[string]any{"session.reconnect_grace": "1s"}}))

	c := Dial(t, a, "gone", 1000, "")
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	c.ExpectRid(t, protocol.TypeQueued, rid)
	closedAt := time.Now()
	c.CloseNow()

	// The session actor ends when the grace expires.
	eventually(t, 10*time.Second, "session actor of gone stopped", func() error {
		if a.HasSession(t, "gone") {
			return fmt.Errorf("session/gone still lives")
		}
		return nil
	})
	if d := time.Since(closedAt); d < 900*time.Millisecond {
		t.Errorf("session ended %s after the close, before the 1s grace", d)
	}
	WaitMetric(t, []*Node{a}, `matchd_queue_tickets{mode="duel"}`, 0, 5*time.Second)
	c2 := Dial(t, a, "gone", 1000, "")
	if StateName(c2.Welcome) != "idle" {
		t.Errorf("reconnect after the grace: welcome %s, want idle", c2.Welcome)
	}
	// The cancelled ticket does not match anyone.
	other := Dial(t, a, "other", 1000, "")
	rid = other.Req(t, protocol.TypeEnqueue, "mode", "duel")
	other.ExpectRid(t, protocol.TypeQueued, rid)
	if st := other.Sync(t); StateName(st) != "queued" {
		t.Errorf("other: %s", st)
	}
	if code, _ := a.Get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("readyz %d", code)
	}
}

func TestQueueTimeout(t *testing.T) {
	t.Parallel()
	duel := Duel()
	duel.MaxWait = time.Second
	n := StartNode(t, NodeOptions{Modes: []Mode{duel}})
	c := Dial(t, n, "waiter", 1000, "")
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q := c.ExpectRid(t, protocol.TypeQueued, rid)
	start := time.Now()
	d := c.NextIs(t, protocol.TypeDequeued)
	if d.Str("reason") != protocol.ReasonTimeout || d.Str("ticket_id") != q.Str("ticket_id") || d.Str("mode") != "duel" {
		t.Errorf("dequeued: %s, want reason timeout for ticket %s", d, q.Str("ticket_id"))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("dequeued after %s with max_wait 1s", took)
	}
	if st := c.Sync(t); StateName(st) != "idle" {
		t.Errorf("state after timeout: %s", st)
	}
	rid = c.Req(t, protocol.TypeCancel)
	c.ExpectError(t, rid, protocol.CodeInvalidState)
	// Enqueueing again works and gives a new ticket.
	rid = c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	if q2 := c.ExpectRid(t, protocol.TypeQueued, rid); q2.Str("ticket_id") == q.Str("ticket_id") {
		t.Errorf("re-enqueue after timeout reused ticket %s", q2.Str("ticket_id"))
	}
}

func TestSigtermExitsZero(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"server.drain_timeout": "5s"}})
	idle := Dial(t, n, "idle", 1000, "")
	queued := Dial(t, n, "queued", 1000, "")
	rid := queued.Req(t, protocol.TypeEnqueue, "mode", "squad-less")
	queued.ExpectError(t, rid, protocol.CodeUnknownMode)
	rid = queued.Req(t, protocol.TypeEnqueue, "mode", "duel")
	queued.ExpectRid(t, protocol.TypeQueued, rid)

	done := make(chan struct{})
	var code int
	var took time.Duration
	go func() {
		code, took = n.Term()
		close(done)
	}()
	for _, c := range []*Client{idle, queued} {
		f := c.Expect(t, protocol.TypeServerDraining)
		if !f.Has("reconnect_after_ms") {
			t.Errorf("%s: server_draining without reconnect_after_ms: %s", c.Player, f)
		}
		c.ExpectClose(t, websocket.StatusServiceRestart)
	}
	<-done
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if took > 5*time.Second {
		t.Errorf("exit took %s, drain_timeout is 5s", took)
	}
	t.Logf("SIGTERM to exit: %s", took.Round(time.Millisecond))
}

// TestConcurrentTakeover: the same players connect to two nodes at the same
// moment; for each, exactly one connection survives and the other is told
// SESSION_REPLACED and closed with 4001.
func TestConcurrentTakeover(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	a := StartNode(t, be.Apply(NodeOptions{}))
	b := StartNode(t, be.Apply(NodeOptions{}))
	const players = 20
	type pair struct{ ca, cb *Client }
	pairs := make([]pair, players)
	errs := make(chan error, 2*players)
	for i := range players {
		for side, n := range []*Node{a, b} {
			go func() {
				c, err := DialErr(t, n, fmt.Sprintf("ct%02d", i), DialOptions{})
				if err == nil {
					if side == 0 {
						pairs[i].ca = c
					} else {
						pairs[i].cb = c
					}
				}
				errs <- err
			}()
		}
	}
	for range 2 * players {
		if err := <-errs; err != nil {
			t.Fatalf("dial: %v", err)
		}
	}
	for i, p := range pairs {
		// Whichever connection is closed must have been replaced; the other
		// must still work.
		var closed, open *Client
		select {
		case <-p.ca.Closed():
			closed, open = p.ca, p.cb
		case <-p.cb.Closed():
			closed, open = p.cb, p.ca
		case <-time.After(DefaultWait):
			t.Errorf("ct%02d: both connections still open after %s", i, DefaultWait)
			continue
		}
		expectReplaced(t, closed)
		if st := open.Sync(t); StateName(st) != "idle" {
			t.Errorf("ct%02d: surviving connection: %s", i, st)
		}
		select {
		case <-open.Closed():
			t.Errorf("ct%02d: both connections closed (%v / %v)", i, closed.CloseErr(), open.CloseErr())
		default:
		}
	}
}
