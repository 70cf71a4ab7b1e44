package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// TestLoadingStatusFanout: each member's new loading_complete sends one
// loading_status to every member (the reporter's copy is its reply), all
// before match_ready (docs/protocol.md sections 3.3 and 6).
func TestLoadingStatusFanout(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	opts := be.Apply(NodeOptions{Modes: []Mode{Duel(), Squad()}})
	n1 := StartNode(t, opts)
	n2 := StartNode(t, opts)

	t.Run("sequential", func(t *testing.T) {
		var cs []*Client
		for i := range 4 {
			c := Dial(t, []*Node{n1, n2}[i%2], fmt.Sprintf("s%d", i), 1000, "")
			rid := c.Req(t, protocol.TypeEnqueue, "mode", "squad")
			c.ExpectRid(t, protocol.TypeQueued, rid)
			cs = append(cs, c)
		}
		var match string
		for _, c := range cs {
			match = c.Expect(t, protocol.TypeMatchFound).Str("match_id")
		}
		for i, c := range cs {
			rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
			for _, o := range cs {
				var f Frame
				if o == c {
					f = o.ExpectRid(t, protocol.TypeLoadingStatus, rid)
				} else {
					f = o.Expect(t, protocol.TypeLoadingStatus)
					if f.Str("rid") != "" {
						t.Errorf("%s: another member's status carries a rid: %s", o.Player, f)
					}
				}
				if len(f.Strings("ready")) != i+1 || len(f.Strings("waiting")) != 3-i || !slices.Contains(f.Strings("ready"), c.Player) {
					t.Errorf("%s: after %d loads: %s", o.Player, i+1, f)
				}
			}
		}
		for _, c := range cs {
			c.Expect(t, protocol.TypeMatchReady)
			n := 0
			for _, f := range c.Frames() {
				if f.Type() == protocol.TypeLoadingStatus {
					n++
				}
			}
			if n != 4 {
				t.Errorf("%s: %d loading_status frames, want 4", c.Player, n)
			}
		}
	})

	// Members who load at the same moment must each still be told of every
	// other member's load.
	t.Run("concurrent", func(t *testing.T) {
		playScenarioOpts(t, []*Node{n1, n2}, scenario{duel: 60, squad: 40, seed: 4, timeout: 30 * time.Second,
			countStatuses: true})
	})
}

// TestQueueCancel: cancel while queued, and enqueue in another mode.
func TestQueueCancel(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Modes: []Mode{Duel(), Squad()}})
	c := Dial(t, n, "qc", 1000, "")
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q := c.ExpectRid(t, protocol.TypeQueued, rid)
	rid = c.Req(t, protocol.TypeEnqueue, "mode", "squad")
	if f := c.ExpectError(t, rid, protocol.CodeInvalidState); StateName(f) != "queued" || StateField(f, "ticket_id") != q.Str("ticket_id") {
		t.Errorf("enqueue in another mode: state %v", f.Obj("state"))
	}
	rid = c.Req(t, protocol.TypeCancel)
	d := c.ExpectRid(t, protocol.TypeDequeued, rid)
	if d.Str("reason") != protocol.ReasonCancelled || d.Str("ticket_id") != q.Str("ticket_id") || d.Str("mode") != "duel" {
		t.Errorf("dequeued: %s", d)
	}
	if st := c.Sync(t); StateName(st) != "idle" {
		t.Errorf("after cancel: %s", st)
	}
	WaitMetric(t, []*Node{n}, `matchd_queue_tickets{mode="duel"}`, 0, 5*time.Second)
	rid = c.Req(t, protocol.TypeEnqueue, "mode", "squad")
	if q2 := c.ExpectRid(t, protocol.TypeQueued, rid); q2.Str("mode") != "squad" || q2.Str("ticket_id") == q.Str("ticket_id") {
		t.Errorf("enqueue in squad after cancel: %s", q2)
	}
}

// TestRateLimit: past session.rate_limit a request gets RATE_LIMITED with
// retry_after_ms (and, being a reply, its rid); the connection stays open;
// persistent abuse closes it with 1008.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"session.rate_limit.per_second": 0.5, "session.rate_limit.burst": 3}})
	c := Dial(t, n, "spammer", 1000, "")
	for i := range 3 {
		c.Send(t, map[string]any{"type": "ping", "rid": fmt.Sprintf("ok%d", i)})
		c.ExpectRid(t, protocol.TypePong, fmt.Sprintf("ok%d", i))
	}
	c.Send(t, map[string]any{"type": "ping", "rid": "limited"})
	e := c.NextIs(t, protocol.TypeError)
	if e.Str("code") != string(protocol.CodeRateLimited) || e.Int("retry_after_ms") <= 0 {
		t.Errorf("4th request: %s, want RATE_LIMITED with retry_after_ms", e)
	}
	if e.Str("rid") != "limited" {
		t.Errorf("RATE_LIMITED does not echo the request's rid \"limited\": %s", e)
	}
	// A brief overshoot is no abuse: ten more at once are each refused, in
	// order, and the connection stays open.
	for i := range 10 {
		c.Send(t, map[string]any{"type": "ping", "rid": fmt.Sprintf("over%d", i)})
	}
	for i := range 10 {
		c.ExpectError(t, fmt.Sprintf("over%d", i), protocol.CodeRateLimited)
	}
	select {
	case <-c.Closed():
		t.Fatalf("closed after a brief overshoot: %v", c.CloseErr())
	default:
	}
}

// TestBurstIsAnsweredInOrder: one burst of 50 frames at a burst size of 5
// gets 50 replies, in the order sent (pongs within the limit, RATE_LIMITED
// beyond it), and the connection stays open: nothing owed is thrown away.
func TestBurstIsAnsweredInOrder(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"session.rate_limit.per_second": 20, "session.rate_limit.burst": 5}})
	c := Dial(t, n, "burster", 1000, "")
	const burst = 50
	var frames []string
	for i := range burst {
		frames = append(frames, fmt.Sprintf(`{"type":"ping","rid":"b%02d"}`, i))
	}
	// One write per frame, back to back: the server reads them as fast as
	// the socket delivers them.
	for _, f := range frames {
		c.Send(t, f)
	}
	pongs, limited := 0, 0
	for i := range burst {
		f := c.Next(t)
		if want := fmt.Sprintf("b%02d", i); f.Str("rid") != want {
			t.Fatalf("reply %d: %s, want the reply to %s (replies in order)\n%s", i, f, want, c.Dump())
		}
		switch {
		case f.Type() == protocol.TypePong:
			pongs++
		case f.Str("code") == string(protocol.CodeRateLimited) && f.Int("retry_after_ms") > 0:
			limited++
		default:
			t.Fatalf("reply %d: %s, want pong or RATE_LIMITED", i, f)
		}
	}
	if pongs < 5 || limited == 0 {
		t.Fatalf("%d pongs and %d RATE_LIMITED for a burst of %d at burst 5: want at least 5 pongs and some refusals", pongs, limited, burst)
	}
	rid := c.Req(t, protocol.TypePing)
	select {
	case <-c.Closed():
		t.Fatalf("closed after one burst: %v", c.CloseErr())
	default:
	}
	// The limit refills: a later ping is served.
	eventually(t, 5*time.Second, "a ping within the limit again", func() error {
		f, err := c.NextErr(time.Second)
		if err != nil {
			return err
		}
		if f.Type() != protocol.TypePong {
			rid = c.Req(t, protocol.TypePing)
			return fmt.Errorf("got %s", f)
		}
		return nil
	})
	t.Logf("burst of %d at burst 5: %d pongs, %d RATE_LIMITED, in order; last rid %s", burst, pongs, limited, rid)
}

func TestMaxSessions(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"server.max_sessions": 2}})
	a := Dial(t, n, "m1", 1000, "")
	Dial(t, n, "m2", 1000, "")
	code, body := Handshake(t, n, "player_id=m3")
	var e protocol.HTTPError
	if code != http.StatusServiceUnavailable || json.Unmarshal(body, &e) != nil || e.Code == "" {
		t.Errorf("third session: %d %s, want 503 with a JSON error", code, body)
	}
	a.Close()
	eventually(t, 5*time.Second, "a slot frees up", func() error {
		c, err := DialErr(t, n, "m3", DialOptions{})
		if err != nil {
			return err
		}
		c.CloseNow()
		return nil
	})
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"admin.token": "s3cret-token"}})
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		if code, _ := n.Get(t, p); code != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200", p, code)
		}
	}
	for _, p := range []string{"/debug/actors", "/debug/config", "/admin/sanctions/someone"} {
		if code, _ := n.Get(t, p); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, code)
		}
		req, _ := http.NewRequest(http.MethodGet, n.AdminURL()+p, nil)
		req.Header.Set("Authorization", "Bearer s3cret-token")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the token: %d, want 200", p, resp.StatusCode)
		}
	}
}

// TestAdminDrain: POST /admin/drain makes /readyz 503, tells clients to
// reconnect elsewhere (server_draining, close 1012) and refuses new
// handshakes; the queued player resumes on another node.
func TestAdminDrain(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n1 := StartNode(t, be.Apply(NodeOptions{}))
	n2 := StartNode(t, be.Apply(NodeOptions{}))
	c := Dial(t, n1, "drained", 1000, "")
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	ticket := c.ExpectRid(t, protocol.TypeQueued, rid).Str("ticket_id")

	if code, body := n1.Post(t, "/admin/drain", nil); code/100 != 2 {
		t.Fatalf("POST /admin/drain: %d %s", code, body)
	}
	f := c.Expect(t, protocol.TypeServerDraining)
	if f.Int("reconnect_after_ms") < 0 {
		t.Errorf("server_draining: %s", f)
	}
	c.ExpectClose(t, websocket.StatusServiceRestart)
	eventually(t, 5*time.Second, "readyz 503 while draining", func() error {
		code, body := n1.Get(t, "/readyz")
		if code != http.StatusServiceUnavailable {
			return fmt.Errorf("readyz %d %s", code, body)
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("readyz body %s: %v", body, err)
		}
		return nil
	})
	if code, _ := n1.Get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("healthz while draining: %d", code)
	}
	if code, body := Handshake(t, n1, "player_id=newcomer"); code != http.StatusServiceUnavailable {
		t.Errorf("handshake while draining: %d %s, want 503", code, body)
	}
	// Resume on the other node: same ticket, and the match is formed there.
	c2 := Dial(t, n2, "drained", 1000, "")
	if StateName(c2.Welcome) != "queued" || StateField(c2.Welcome, "ticket_id") != ticket {
		t.Errorf("resume after drain: %s, want queued %s", c2.Welcome, ticket)
	}
	o := Dial(t, n2, "opponent", 1000, "")
	rid = o.Req(t, protocol.TypeEnqueue, "mode", "duel")
	o.ExpectRid(t, protocol.TypeQueued, rid)
	c2.Expect(t, protocol.TypeMatchFound)
	o.Expect(t, protocol.TypeMatchFound)
	if code, took := n1.Term(); code != 0 {
		t.Errorf("drained node exit status %d (after %s)", code, took)
	}
}

// dodgeOnce matches dodger with a fresh opponent and dodges.
func dodgeOnce(t *testing.T, n *Node, dodger *Client, opponent string) {
	t.Helper()
	o := Dial(t, n, opponent, 1000, "dev-"+opponent)
	match, _ := matchPair(t, dodger, o)
	rid := dodger.Req(t, protocol.TypeCancel)
	mc := dodger.Expect(t, protocol.TypeMatchCancelled)
	if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonPlayerLeft || mc.Bool("requeued") {
		t.Errorf("dodge: %s", mc)
	}
	if mc.Str("rid") != rid {
		t.Errorf("the dodger's match_cancelled (the cancel's reply) lacks rid %q: %s", rid, mc)
	}
	o.Expect(t, protocol.TypeQueued)
	o.Req(t, protocol.TypeCancel)
	o.Expect(t, protocol.TypeDequeued)
}

// TestSanctionsLadder: the first dodge is a warning, the second bans for
// the ladder's 1m, on the player and on its device; DELETE lifts both.
func TestSanctionsLadder(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{}))
	d := Dial(t, n, "dodger", 1000, "dev-d")
	dodgeOnce(t, n, d, "o1")
	rid := d.Req(t, protocol.TypeEnqueue, "mode", "duel")
	d.ExpectRid(t, protocol.TypeQueued, rid) // a warning only
	d.Req(t, protocol.TypeCancel)
	d.Expect(t, protocol.TypeDequeued)
	// Another account on the same device waits in the queue (with a rating
	// nobody else is near).
	alt := Dial(t, n, "alt", 5000, "dev-d")
	rid = alt.Req(t, protocol.TypeEnqueue, "mode", "duel")
	altTicket := alt.ExpectRid(t, protocol.TypeQueued, rid).Str("ticket_id")
	dodgeOnce(t, n, d, "o2")
	WaitMetric(t, []*Node{n}, `matchd_violations_total{kind="dodge"}`, 2, 5*time.Second)

	// Sanctioned while queued: the device ban dequeues the other account
	// (docs/protocol.md section 5), even while it is alone in the queue.
	dq, err := alt.ExpectErr(protocol.TypeDequeued, 3*time.Second)
	if err != nil {
		t.Errorf("the queued account on the banned device, alone in the queue, was not dequeued: %v", err)
		// With one more ticket in the pool the matching tick sees the ban.
		filler := Dial(t, n, "filler", 9000, "")
		rid = filler.Req(t, protocol.TypeEnqueue, "mode", "duel")
		filler.ExpectRid(t, protocol.TypeQueued, rid)
		if dq, err = alt.ExpectErr(protocol.TypeDequeued, 3*time.Second); err == nil {
			t.Logf("dequeued only once another ticket joined the pool: %s", dq)
		}
	}
	if err == nil && (dq.Str("reason") != protocol.ReasonBanned || dq.Str("ticket_id") != altTicket) {
		t.Errorf("dequeued: %s, want reason banned for ticket %s", dq, altTicket)
	}

	rid = d.Req(t, protocol.TypeEnqueue, "mode", "duel")
	e := d.ExpectError(t, rid, protocol.CodeBanned)
	if ms := e.Int("retry_after_ms"); ms <= 50_000 || ms > 60_000 {
		t.Errorf("BANNED retry_after_ms %d, want about 60000", ms)
	}
	// The other account on the same device is banned too.
	if err == nil {
		rid = alt.Req(t, protocol.TypeEnqueue, "mode", "duel")
		alt.ExpectError(t, rid, protocol.CodeBanned)
	}

	code, body := n.Get(t, "/admin/sanctions/dodger")
	var st map[string]any
	if code != http.StatusOK || json.Unmarshal(body, &st) != nil {
		t.Fatalf("GET /admin/sanctions/dodger: %d %s", code, body)
	}
	t.Logf("sanctions of dodger: %s", body)
	for _, p := range []string{"/admin/sanctions/dodger", "/admin/sanctions/device/dev-d"} {
		if code, body := n.Delete(t, p); code != http.StatusOK {
			t.Errorf("DELETE %s: %d %s", p, code, body)
		}
	}
	rid = d.Req(t, protocol.TypeEnqueue, "mode", "duel")
	d.ExpectRid(t, protocol.TypeQueued, rid)
}

// TestStaticAllocator: match_ready.server is {"addr": ...}, round-robin.
func TestStaticAllocator(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"allocator.mode": "static",
		"allocator.servers": []string{"10.0.0.1:7777", "10.0.0.2:7777"}}})
	var addrs []string
	for i := range 2 {
		a := Dial(t, n, fmt.Sprintf("sa%d", i), 1000, "")
		b := Dial(t, n, fmt.Sprintf("sb%d", i), 1000, "")
		match, _ := matchPair(t, a, b)
		for _, c := range []*Client{a, b} {
			c.Send(t, map[string]any{"type": "loading_complete", "match_id": match})
		}
		fa := a.Expect(t, protocol.TypeMatchReady)
		fb := b.Expect(t, protocol.TypeMatchReady)
		addr, _ := fa.Obj("server")["addr"].(string)
		if addr == "" || fb.Obj("server")["addr"] != addr {
			t.Errorf("match_ready servers: %s / %s", fa, fb)
		}
		addrs = append(addrs, addr)
	}
	slices.Sort(addrs)
	if !slices.Equal(addrs, []string{"10.0.0.1:7777", "10.0.0.2:7777"}) {
		t.Errorf("servers %v, want each static server once", addrs)
	}
}

// TestDisconnectWhileLoading: a member whose connection drops and who does
// not come back within the grace is a no-show at the deadline; the loaded
// member is requeued.
func TestDisconnectWhileLoading(t *testing.T) {
	t.Parallel()
	duel := Duel()
	duel.LoadingTimeout = 2 * time.Second
	n := StartNode(t, NodeOptions{Modes: []Mode{duel}, Set: map[string]any{"session.reconnect_grace": "500ms"}})
	stay := Dial(t, n, "stay", 1000, "")
	leave := Dial(t, n, "leave", 1000, "")
	match, q := matchPair(t, stay, leave)
	leave.CloseNow()
	rid := stay.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	stay.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	mc := stay.NextIs(t, protocol.TypeMatchCancelled)
	if mc.Str("reason") != protocol.ReasonLoadingTimeout || !mc.Bool("requeued") || !slices.Equal(mc.Strings("no_shows"), []string{"leave"}) {
		t.Errorf("match_cancelled: %s", mc)
	}
	if rq := stay.NextIs(t, protocol.TypeQueued); rq.Int("queued_at_ms") != q.Int("queued_at_ms") || !rq.Bool("requeued") {
		t.Errorf("requeue: %s", rq)
	}
	WaitMetric(t, []*Node{n}, `matchd_violations_total{kind="no_show"}`, 1, 5*time.Second)
	back := Dial(t, n, "leave", 1000, "")
	if StateName(back.Welcome) != "idle" {
		t.Errorf("the no-show comes back: %s, want idle", back.Welcome)
	}
}

// TestReconnectWhileLoading: a member who loaded and whose connection
// dropped comes back (on another node) within the grace: it is told the
// match again, and the match starts for everyone.
func TestReconnectWhileLoading(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n1 := StartNode(t, be.Apply(NodeOptions{}))
	n2 := StartNode(t, be.Apply(NodeOptions{}))
	a := Dial(t, n1, "wa", 1000, "")
	b := Dial(t, n1, "wb", 1000, "")
	match, _ := matchPair(t, a, b)
	rid := a.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	a.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	a.CloseNow()
	// a comes back on another node while still loading: it is told the
	// match again and sees itself ready.
	a2 := Dial(t, n2, "wa", 1000, "")
	if StateName(a2.Welcome) != "loading" || StateField(a2.Welcome, "match_id") != match {
		t.Fatalf("welcome: %s, want loading %s", a2.Welcome, match)
	}
	a2.NextIs(t, protocol.TypeMatchFound)
	rid = b.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	b.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	a2.Expect(t, protocol.TypeLoadingStatus)
	a2.Expect(t, protocol.TypeMatchReady)
	b.Expect(t, protocol.TypeMatchReady)
	CheckInvariants(t, []*Client{a, a2, b}, CheckOptions{EveryonePlays: true})
}
