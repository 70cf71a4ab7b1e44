package client

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// noJitter makes the backoff's delays exact.
func noJitter() float64 { return 0 }

// A draining node's players move to the next node after at least
// server_draining.reconnect_after_ms, and resume there: the new welcome
// says they are still queued, with the same ticket. A request pending on
// the drained connection fails with ErrDisconnected.
func TestReconnectAfterDrain(t *testing.T) {
	players := newFakePlayers()
	a, b := newFakeNode(t, "a", players), newFakeNode(t, "b", players)
	a.hold = func(m protocol.ClientMessage) bool { return m.Type == protocol.TypePing }
	c, rec := newTestClient(t, Options{PlayerID: "p", Rand: noJitter, Reconnect: Reconnect{Initial: 10 * time.Millisecond}}, a, b)
	ctx := testCtx(t)
	q, err := c.Enqueue(ctx, "duel")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	pending := make(chan error, 1)
	go func() { _, err := c.Ping(ctx); pending <- err }()
	rec.waitFor(t, "the ping to be pending", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.pending) == 1
	})
	a.lastConn(t).closeWith(&protocol.ServerDraining{Type: protocol.TypeServerDraining, ReconnectAfterMs: 300}, websocket.StatusServiceRestart)

	if err := <-pending; !errors.Is(err, ErrDisconnected) || websocket.CloseStatus(err) != websocket.StatusServiceRestart {
		t.Errorf("pending ping: %v, want ErrDisconnected carrying close 1012", err)
	}
	rec.waitFor(t, "a resumed connection", func() bool { return len(rec.kinds(Connected)) == 2 })
	rec.mu.Lock()
	drop, re, conn := rec.kinds(Disconnected), rec.kinds(Reconnecting), rec.kinds(Connected)[1]
	rec.mu.Unlock()
	if len(drop) != 1 || !drop[0].WillReconnect || websocket.CloseStatus(drop[0].Err) != websocket.StatusServiceRestart || drop[0].URL != a.URL() {
		t.Errorf("disconnected events %+v, want one from %s, code 1012, reconnecting", drop, a.URL())
	}
	if len(re) != 1 || re[0].Delay != 300*time.Millisecond || re[0].URL != b.URL() || re[0].Attempt != 1 {
		t.Errorf("reconnecting events %+v, want one to %s after the node's 300ms (the backoff alone says 10ms)", re, b.URL())
	}
	if !conn.Resumed || conn.URL != b.URL() || conn.Welcome.NodeID != "b" || conn.PreviousState == nil || conn.PreviousState.Name != protocol.StateQueued {
		t.Errorf("connected event %+v, want a resume on b from queued", conn)
	}
	if st, _ := c.State(); st.Name != protocol.StateQueued || st.TicketID != q.TicketID {
		t.Errorf("State() after the resume = %+v, want queued with ticket %s", st, q.TicketID)
	}
	if w, _ := c.Welcome(); w.NodeID != "b" || c.URL() != b.URL() {
		t.Errorf("Welcome() from %s, URL() %s; want b", w.NodeID, c.URL())
	}
	if again, err := c.Enqueue(ctx, "duel"); err != nil || again.TicketID != q.TicketID {
		t.Errorf("enqueue on the new node: %+v, %v", again, err)
	}
}

// An UNAVAILABLE that answers no request (the node could not attach the
// session) holds the reconnect back by its retry_after_ms.
func TestReconnectHonoursRetryAfter(t *testing.T) {
	a := newFakeNode(t, "a", nil)
	c, rec := newTestClient(t, Options{PlayerID: "p", Rand: noJitter, Reconnect: Reconnect{Initial: 10 * time.Millisecond}}, a)
	a.lastConn(t).closeWith(&protocol.Error{Type: protocol.TypeError, Code: protocol.CodeUnavailable, Message: "Try again soon.", RetryAfterMs: 200}, websocket.StatusInternalError)
	rec.waitFor(t, "a reconnect", func() bool { return len(rec.kinds(Connected)) == 2 })
	rec.mu.Lock()
	re := rec.kinds(Reconnecting)
	rec.mu.Unlock()
	if len(re) != 1 || re[0].Delay != 200*time.Millisecond {
		t.Errorf("reconnecting %+v, want one after 200ms", re)
	}
	if !c.Connected() {
		t.Error("not connected after the reconnect")
	}
	// A refusal that answers a request says nothing about the connection.
	if _, err := c.Enqueue(testCtx(t), "banned"); err == nil {
		t.Fatal("banned enqueue accepted")
	}
	a.lastConn(t).closeWith(nil, websocket.StatusInternalError)
	rec.waitFor(t, "a second reconnect", func() bool { return len(rec.kinds(Connected)) == 3 })
	rec.mu.Lock()
	re = rec.kinds(Reconnecting)
	rec.mu.Unlock()
	if re[1].Delay != 10*time.Millisecond {
		t.Errorf("second reconnect after %s, want the plain backoff (10ms): BANNED's retry_after_ms is about queueing", re[1].Delay)
	}
}

// Failed attempts rotate over the URLs with a growing, capped delay, and
// MaxAttempts ends them.
func TestBackoffAndRotation(t *testing.T) {
	refuse := func(*http.Request) (int, protocol.Code, string) {
		return http.StatusServiceUnavailable, protocol.CodeUnavailable, "This node is shutting down; connect to another."
	}
	a, b := newFakeNode(t, "a", nil), newFakeNode(t, "b", nil)
	a.refuse, b.refuse = refuse, refuse
	rec := newRecorder()
	c, err := New(Options{URLs: []string{a.URL(), b.URL()}, PlayerID: "p", Rand: noJitter, OnEvent: rec.event,
		Reconnect: Reconnect{Initial: 10 * time.Millisecond, Max: 30 * time.Millisecond, MaxAttempts: 4}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Connect(testCtx(t))
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 503 {
		t.Fatalf("Connect: %v, want the last 503", err)
	}
	if a.handshakeCount() != 2 || b.handshakeCount() != 2 {
		t.Errorf("handshakes a=%d b=%d, want 2 each (4 attempts, alternating)", a.handshakeCount(), b.handshakeCount())
	}
	want := []struct {
		d   time.Duration
		url string
	}{{10 * time.Millisecond, b.URL()}, {20 * time.Millisecond, a.URL()}, {30 * time.Millisecond, b.URL()}}
	rec.mu.Lock()
	re := rec.kinds(Reconnecting)
	rec.mu.Unlock()
	if len(re) != len(want) {
		t.Fatalf("reconnecting events %+v, want %d", re, len(want))
	}
	for i, w := range want {
		if re[i].Delay != w.d || re[i].URL != w.url || re[i].Attempt != i+1 || !errors.As(re[i].Err, &he) {
			t.Errorf("wait %d: %+v, want %s before %s, with the failed attempt's error", i+1, re[i], w.d, w.url)
		}
	}
}

// A refused identity is final: no second attempt.
func TestUnauthorizedIsFinal(t *testing.T) {
	a := newFakeNode(t, "a", nil)
	a.refuse = func(*http.Request) (int, protocol.Code, string) {
		return http.StatusUnauthorized, protocol.CodeUnauthorized, "the player token is invalid or expired"
	}
	c, err := New(Options{URLs: []string{a.URL(), a.URL()}, Token: StaticToken("x"), Rand: noJitter})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Connect(testCtx(t))
	var he *HandshakeError
	if !errors.As(err, &he) || he.Code != protocol.CodeUnauthorized || a.handshakeCount() != 1 {
		t.Errorf("Connect: %v after %d handshakes, want one 401", err, a.handshakeCount())
	}
}

// A session taken over by another connection (4001) ends the client: it
// does not fight the new connection for the player.
func TestSessionReplacedIsFinal(t *testing.T) {
	a := newFakeNode(t, "a", nil)
	c, _ := newTestClient(t, Options{PlayerID: "p", Reconnect: Reconnect{Initial: time.Millisecond}}, a)
	a.lastConn(t).closeWith(&protocol.Error{Type: protocol.TypeError, Code: protocol.CodeSessionReplaced, Message: "Another connection took over."},
		websocket.StatusCode(protocol.CloseSessionReplaced))
	<-c.Done()
	if err := c.Err(); !errors.Is(err, ErrSessionReplaced) || websocket.CloseStatus(err) != protocol.CloseSessionReplaced {
		t.Errorf("Err() = %v, want ErrSessionReplaced with close 4001", err)
	}
	if a.handshakeCount() != 1 {
		t.Errorf("%d handshakes, want no reconnect", a.handshakeCount())
	}
}

// With reconnecting off, a dropped connection ends the client, and Err
// carries the close code.
func TestReconnectOff(t *testing.T) {
	a := newFakeNode(t, "a", nil)
	c, _ := newTestClient(t, Options{PlayerID: "p", Reconnect: Reconnect{Off: true}}, a)
	a.lastConn(t).closeWith(nil, websocket.StatusPolicyViolation)
	<-c.Done()
	if err := c.Err(); !errors.Is(err, ErrDisconnected) || websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("Err() = %v, want ErrDisconnected with close 1008", err)
	}
	if _, err := c.Ping(testCtx(t)); !errors.Is(err, ErrDisconnected) {
		t.Errorf("request after the drop: %v, want ErrDisconnected", err)
	}
}

// The token function is asked for every connection, so a reconnect
// carries a fresh token.
func TestTokenPerConnection(t *testing.T) {
	a := newFakeNode(t, "a", nil)
	n := 0
	tok := func(context.Context) (string, error) { n++; return []string{"first", "second"}[min(n-1, 1)], nil }
	c, rec := newTestClient(t, Options{Token: tok, TokenHeader: true, Rand: noJitter, Reconnect: Reconnect{Initial: time.Millisecond}}, a)
	a.lastConn(t).closeWith(nil, websocket.StatusInternalError)
	rec.waitFor(t, "a reconnect", func() bool { return len(rec.kinds(Connected)) == 2 })
	if got := a.handshake(1).Header.Get("Authorization"); got != "Bearer second" {
		t.Errorf("second handshake carried %q, want a fresh token", got)
	}
	if w, _ := c.Welcome(); w.PlayerID != "hdr-second" {
		t.Errorf("welcome for %s", w.PlayerID)
	}
}

// With KeepAlive, a node that stops answering (no pong) is left for the
// next one.
func TestKeepAlive(t *testing.T) {
	a, b := newFakeNode(t, "a", nil), newFakeNode(t, "b", nil)
	a.deaf = true
	c, rec := newTestClient(t, Options{PlayerID: "p", KeepAlive: 100 * time.Millisecond, Rand: noJitter,
		Reconnect: Reconnect{Initial: time.Millisecond}}, a, b)
	rec.waitFor(t, "a move to b", func() bool { return len(rec.kinds(Connected)) == 2 })
	if w, _ := c.Welcome(); w.NodeID != "b" {
		t.Errorf("now on %s, want b", w.NodeID)
	}
	if _, err := c.Ping(testCtx(t)); err != nil {
		t.Errorf("ping on b: %v", err)
	}
}

func TestDelay(t *testing.T) {
	r := Reconnect{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	half := func() float64 { return 0.5 }
	for _, tc := range []struct {
		waits int
		hint  time.Duration
		rnd   func() float64
		want  time.Duration
	}{
		{0, 0, noJitter, 100 * time.Millisecond},
		{3, 0, noJitter, 800 * time.Millisecond},
		{10, 0, noJitter, time.Second},
		{0, 0, half, 75 * time.Millisecond},                           // less up to half of it
		{0, 2 * time.Second, half, 2500 * time.Millisecond},           // the hint, plus up to half of it
		{10, 500 * time.Millisecond, noJitter, time.Second},           // the backoff when longer
		{1, 300 * time.Millisecond, noJitter, 300 * time.Millisecond}, // never sooner than asked
	} {
		if got := r.delay(tc.waits, tc.hint, tc.rnd); got != tc.want {
			t.Errorf("delay(%d, %s) = %s, want %s", tc.waits, tc.hint, got, tc.want)
		}
	}
}

// Close while Connect is still trying ends both: Connect returns
// ErrClosed, Done is closed, nothing hangs.
func TestCloseDuringConnect(t *testing.T) {
	a := newFakeNode(t, "a", nil)
	a.refuse = func(*http.Request) (int, protocol.Code, string) {
		return http.StatusServiceUnavailable, protocol.CodeUnavailable, "This node is full."
	}
	rec := newRecorder()
	c, err := New(Options{URLs: []string{a.URL()}, PlayerID: "p", OnEvent: rec.event, Reconnect: Reconnect{Initial: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { _, err := c.Connect(context.Background()); res <- err }()
	rec.waitFor(t, "the first wait", func() bool { return len(rec.kinds(Reconnecting)) == 1 })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, ErrClosed) {
		t.Errorf("Connect: %v, want ErrClosed", err)
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err() = %v", c.Err())
	}
}

// Connect does not wait for anyone to read Options.Frames: the welcome is
// handed out by the client's own goroutine.
func TestConnectWithUnreadFrames(t *testing.T) {
	a := newFakeNode(t, "a", nil)
	frames := make(chan Frame)
	c, err := New(Options{URLs: []string{a.URL()}, PlayerID: "p", Frames: frames})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	w, err := c.Connect(testCtx(t))
	if err != nil || w.Type != protocol.TypeWelcome {
		t.Fatalf("Connect: %+v, %v", w, err)
	}
	if f := <-frames; f.Type != protocol.TypeWelcome {
		t.Errorf("first frame %s, want the welcome", f.Raw)
	}
}
