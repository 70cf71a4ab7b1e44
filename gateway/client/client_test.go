package client

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// recorder collects what a client hands out: frames (from OnFrame) and
// connection events.
type recorder struct {
	mu     sync.Mutex
	frames []Frame
	events []Event
	sig    chan struct{}
}

func newRecorder() *recorder { return &recorder{sig: make(chan struct{}, 1)} }

func (r *recorder) frame(f Frame) {
	r.mu.Lock()
	r.frames = append(r.frames, f)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) event(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.sig <- struct{}{}:
	default:
	}
}

// waitFor polls cond (under the recorder's lock) until it holds.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.sig:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no %s within 10s; events %+v", what, r.events)
		}
	}
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.frames {
		out = append(out, f.Type)
	}
	return out
}

func (r *recorder) kinds(k EventKind) []Event {
	var out []Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// newTestClient connects a client with o (URLs default to n's), recording
// into a new recorder.
func newTestClient(t *testing.T, o Options, nodes ...*fakeNode) (*Client, *recorder) {
	t.Helper()
	rec := newRecorder()
	for _, n := range nodes {
		o.URLs = append(o.URLs, n.URL())
	}
	o.OnFrame, o.OnEvent = rec.frame, rec.event
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	if _, err := c.Connect(testCtx(t)); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return c, rec
}

func TestNewChecksOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"no URL":      {PlayerID: "a"},
		"bad URL":     {URLs: []string{"tcp://x"}, PlayerID: "a"},
		"no identity": {URLs: []string{"ws://x/ws"}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}

// Each typed request returns its own reply; refusals are *Error values
// with everything the error frame said.
func TestRequests(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	c, _ := newTestClient(t, Options{PlayerID: "alice"}, n)
	ctx := testCtx(t)
	if w, ok := c.Welcome(); !ok || w.NodeID != "n1" || w.PlayerID != "alice" {
		t.Fatalf("welcome %+v", w)
	}
	q, err := c.Enqueue(ctx, "duel")
	if err != nil || q.Type != protocol.TypeQueued || q.TicketID != "t-alice" || q.Rid == "" {
		t.Fatalf("enqueue: %+v, %v", q, err)
	}
	again, err := c.Enqueue(ctx, "duel")
	if err != nil || again.TicketID != q.TicketID || again.Rid == q.Rid {
		t.Errorf("repeated enqueue: %+v, %v; want the same ticket under a new rid", again, err)
	}
	st, err := c.Sync(ctx)
	if err != nil || st.State == nil || st.State.Name != protocol.StateQueued {
		t.Errorf("sync: %+v, %v", st, err)
	}
	if s, _ := c.State(); s.Name != protocol.StateQueued || s.TicketID != "t-alice" {
		t.Errorf("State() = %+v after sync, want queued", s)
	}
	pong, err := c.Ping(ctx)
	if err != nil || pong.Type != protocol.TypePong || pong.ServerTimeMs != 42 {
		t.Errorf("ping: %+v, %v", pong, err)
	}

	_, err = c.LoadingComplete(ctx, "m-none")
	var e *Error
	if !errors.As(err, &e) || e.Code != protocol.CodeInvalidState || e.State == nil || e.State.Name != protocol.StateQueued {
		t.Errorf("loading_complete while queued: %v, want INVALID_STATE with the state", err)
	}
	if !errors.Is(err, &Error{Code: protocol.CodeInvalidState}) {
		t.Errorf("errors.Is by code does not match %v", err)
	}
	d, err := c.Cancel(ctx)
	if err != nil || d.Type != protocol.TypeDequeued || d.Reason != protocol.ReasonCancelled {
		t.Errorf("cancel: %+v, %v", d, err)
	}
	_, err = c.Enqueue(ctx, "banned")
	if !errors.As(err, &e) || e.Code != protocol.CodeBanned || e.RetryAfter != time.Minute || e.Retryable() {
		t.Errorf("banned: %v (%+v), want BANNED with RetryAfter 1m", err, e)
	}
	_, err = c.Enqueue(ctx, "broken")
	if !errors.As(err, &e) || e.Code != protocol.CodeInternal || e.IncidentID != "inc-7" || !strings.Contains(err.Error(), "inc-7") {
		t.Errorf("internal: %v, want INTERNAL with the incident id", err)
	}
	_, err = c.Enqueue(ctx, "nope")
	if !errors.As(err, &e) || e.Code != protocol.CodeUnknownMode || e.Message == "" {
		t.Errorf("unknown mode: %v", err)
	}
}

// Replies are matched by rid, whatever order they come in, and every
// frame (welcome, replies, pushed frames) reaches both Frames and OnFrame
// in the order received.
func TestRepliesByRidAndFrames(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	// The node holds the first ping until the second one is answered.
	held := make(chan protocol.ClientMessage, 1)
	pings := 0
	n.hold = func(m protocol.ClientMessage) bool {
		if m.Type == protocol.TypePing {
			pings++
			if pings == 1 {
				held <- m
				return true
			}
		}
		return false
	}
	frames := make(chan Frame, 16)
	c, rec := newTestClient(t, Options{PlayerID: "p", Frames: frames}, n)
	ctx := testCtx(t)
	first := make(chan Frame, 1)
	go func() {
		f, err := c.Ping(ctx)
		if err != nil {
			t.Errorf("first ping: %v", err)
		}
		first <- f
	}()
	m := <-held
	second, err := c.Ping(ctx)
	if err != nil || second.Rid == m.Rid {
		t.Fatalf("second ping: %+v, %v", second, err)
	}
	conn := n.lastConn(t)
	conn.send(&protocol.Pong{Type: protocol.TypePong, Rid: m.Rid, ServerTimeMs: 7})
	if f := <-first; f.Rid != m.Rid || f.ServerTimeMs != 7 {
		t.Errorf("first ping got %+v, want its own pong (rid %s)", f, m.Rid)
	}
	n.players.startMatch(conn, "m1")
	rec.waitFor(t, "match_found", func() bool { return len(rec.frames) == 4 })
	want := []string{protocol.TypeWelcome, protocol.TypePong, protocol.TypePong, protocol.TypeMatchFound}
	if got := rec.types(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("OnFrame saw %v, want %v", got, want)
	}
	for i, typ := range want {
		f := <-frames
		if f.Type != typ || len(f.Raw) == 0 {
			t.Errorf("Frames[%d] = %+v, want %s with its raw bytes", i, f, typ)
		}
		if typ == protocol.TypeMatchFound && (f.MatchID != "m1" || len(f.Teams) != 2 || f.Teams[0][0] != "p") {
			t.Errorf("match_found decoded as %+v", f)
		}
	}
	lc, err := c.LoadingComplete(ctx, "m1")
	if err != nil || lc.Type != protocol.TypeLoadingStatus || lc.Ready[0] != "p" {
		t.Errorf("loading_complete: %+v, %v", lc, err)
	}
}

// A request whose context ends returns the context's error and leaves the
// connection up; its late reply is still handed out as a frame.
func TestRequestContext(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	held := make(chan protocol.ClientMessage, 1)
	n.hold = func(m protocol.ClientMessage) bool {
		if m.Type == protocol.TypeSync {
			held <- m
			return true
		}
		return false
	}
	c, rec := newTestClient(t, Options{PlayerID: "p"}, n)
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() { <-held; cancel() }()
	if _, err := c.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("sync with a cancelled context: %v", err)
	}
	if _, err := c.Ping(testCtx(t)); err != nil || !c.Connected() {
		t.Errorf("after a cancelled request: ping %v, connected %v", err, c.Connected())
	}
	if _, err := c.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a request with a context already ended: %v", err)
	}
	rec.waitFor(t, "the pong", func() bool { return len(rec.frames) == 2 })
}

// Raw frames go out as given; the node's answers arrive as frames.
func TestClientRawFrames(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	c, rec := newTestClient(t, Options{PlayerID: "p"}, n)
	if err := c.WriteMessage(websocket.MessageBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendRaw([]byte(`{"type":"dance","rid":"x"}`)); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "two refusals", func() bool { return len(rec.frames) == 3 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if f := rec.frames[1]; f.Code != protocol.CodeBadRequest || f.Rid != "" {
		t.Errorf("binary frame answered with %s", f.Raw)
	}
	if f := rec.frames[2]; f.Code != protocol.CodeUnknownType || f.Rid != "x" {
		t.Errorf("unknown type answered with %s", f.Raw)
	}
}

// Close ends the session for good: the node sees 1000, requests fail
// with ErrClosed, Done is closed and nothing reconnects.
func TestClose(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	n.hold = func(m protocol.ClientMessage) bool { return m.Type == protocol.TypeSync }
	c, rec := newTestClient(t, Options{PlayerID: "p"}, n)
	pending := make(chan error, 1)
	go func() { _, err := c.Sync(context.Background()); pending <- err }()
	// Close once the sync is waiting for its reply.
	rec.waitFor(t, "the sync to be pending", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.pending) == 1
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-pending; !errors.Is(err, ErrClosed) {
		t.Errorf("pending request: %v, want ErrClosed", err)
	}
	if got := <-n.lastConn(t).closed; got != websocket.StatusNormalClosure {
		t.Errorf("node saw close %d, want 1000", got)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err() = %v", c.Err())
	}
	if _, err := c.Ping(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("request after Close: %v", err)
	}
	if _, err := c.Connect(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Connect after Close: %v", err)
	}
	if n.handshakeCount() != 1 {
		t.Errorf("%d handshakes, want 1: a closed client does not reconnect", n.handshakeCount())
	}
}
