package e2e

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// goPlayer is a gateway/client session as a game would run one: every
// frame on a channel, connection events recorded.
type goPlayer struct {
	*client.Client
	frames chan client.Frame

	mu     sync.Mutex
	events []client.Event
}

func startGoPlayer(t *testing.T, o client.Options) *goPlayer {
	t.Helper()
	p := &goPlayer{frames: make(chan client.Frame, 256)}
	o.Frames = p.frames
	o.OnEvent = func(e client.Event) {
		p.mu.Lock()
		p.events = append(p.events, e)
		p.mu.Unlock()
	}
	c, err := client.New(o)
	if err != nil {
		t.Fatal(err)
	}
	p.Client = c
	t.Cleanup(func() { _ = c.CloseNow() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return p
}

// await reads frames until one of type typ (skipping others), within
// DefaultWait.
func (p *goPlayer) await(t *testing.T, typ string) client.Frame {
	t.Helper()
	deadline := time.After(DefaultWait)
	for {
		select {
		case f := <-p.frames:
			if f.Type == typ {
				return f
			}
		case <-deadline:
			t.Fatalf("no %s within %s", typ, DefaultWait)
		}
	}
}

func (p *goPlayer) eventsOf(k client.EventKind) []client.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []client.Event
	for _, e := range p.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func reqCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	t.Cleanup(cancel)
	return ctx
}

// TestGoClientPlaysAMatch: two players on two nodes play a match through
// gateway/client as a game would: typed requests answered by their own
// replies, refusals as *client.Error, pushed frames on a channel.
func TestGoClientPlaysAMatch(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n1 := StartNode(t, be.Apply(NodeOptions{}))
	n2 := StartNode(t, be.Apply(NodeOptions{}))
	r1, r2 := 1500.0, 1510.0
	alice := startGoPlayer(t, client.Options{URLs: []string{n1.WSURL(), n2.WSURL()}, PlayerID: "go-alice", Rating: &r1, DeviceID: "dev-ga"})
	bob := startGoPlayer(t, client.Options{URLs: []string{n2.WSURL(), n1.WSURL()}, PlayerID: "go-bob", Rating: &r2})
	ctx := reqCtx(t)

	_, err := alice.Enqueue(ctx, "no-such-mode")
	var e *client.Error
	if !errors.As(err, &e) || e.Code != protocol.CodeUnknownMode || e.Message == "" {
		t.Fatalf("enqueue for an unknown mode: %v, want UNKNOWN_MODE", err)
	}
	_, err = alice.LoadingComplete(ctx, "m-none")
	if !errors.As(err, &e) || e.Code != protocol.CodeInvalidState || e.State == nil || e.State.Name != protocol.StateIdle {
		t.Fatalf("loading_complete while idle: %v, want INVALID_STATE with state idle", err)
	}
	pong, err := alice.Ping(ctx)
	if err != nil || pong.ServerTimeMs <= 0 {
		t.Fatalf("ping: %+v, %v", pong, err)
	}

	qa, err := alice.Enqueue(ctx, "duel")
	if err != nil || qa.TicketID == "" || qa.Mode != "duel" {
		t.Fatalf("alice enqueue: %+v, %v", qa, err)
	}
	st, err := alice.Sync(ctx)
	if err != nil || st.State == nil || st.State.TicketID != qa.TicketID {
		t.Fatalf("sync: %+v, %v", st, err)
	}
	if _, err := bob.Enqueue(ctx, "duel"); err != nil {
		t.Fatalf("bob enqueue: %v", err)
	}
	for _, p := range []*goPlayer{alice, bob} {
		found := p.await(t, protocol.TypeMatchFound)
		if len(found.Teams) != 2 || found.LoadingDeadlineMs <= 0 {
			t.Fatalf("match_found %s", found.Raw)
		}
		ls, err := p.LoadingComplete(ctx, found.MatchID)
		if err != nil || ls.Type != protocol.TypeLoadingStatus || ls.MatchID != found.MatchID {
			t.Fatalf("loading_complete: %+v, %v", ls, err)
		}
	}
	ra, rb := alice.await(t, protocol.TypeMatchReady), bob.await(t, protocol.TypeMatchReady)
	if ra.MatchID != rb.MatchID || string(ra.Server) != "null" {
		t.Errorf("match_ready %s and %s, want the same match, server null", ra.Raw, rb.Raw)
	}
}

// TestGoClientResumesAfterDrain: a queued player whose node drains is
// reconnected by the client to the next node, no sooner than the node's
// server_draining.reconnect_after_ms, and resumes there with its ticket.
func TestGoClientResumesAfterDrain(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n1 := StartNode(t, be.Apply(NodeOptions{Set: map[string]any{"server.reconnect_after": "700ms"}}))
	n2 := StartNode(t, be.Apply(NodeOptions{}))
	p := startGoPlayer(t, client.Options{URLs: []string{n1.WSURL(), n2.WSURL()}, PlayerID: "go-drained"})
	q, err := p.Enqueue(reqCtx(t), "duel")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := n1.Post(t, "/admin/drain", nil); code/100 != 2 {
		t.Fatalf("POST /admin/drain: %d %s", code, body)
	}
	if d := p.await(t, protocol.TypeServerDraining); d.ReconnectAfterMs != 700 {
		t.Errorf("server_draining %s, want reconnect_after_ms 700", d.Raw)
	}
	w := p.await(t, protocol.TypeWelcome)
	if w.NodeID != n2.ID || w.State == nil || w.State.Name != protocol.StateQueued || w.State.TicketID != q.TicketID {
		t.Fatalf("welcome after the drain %s, want %s, queued with ticket %s", w.Raw, n2.ID, q.TicketID)
	}
	// The Connected event follows the welcome frame.
	eventually(t, 5*time.Second, "the resumed connection's event", func() error {
		if len(p.eventsOf(client.Connected)) < 2 {
			return errors.New("not yet")
		}
		return nil
	})
	drops, waits, conns := p.eventsOf(client.Disconnected), p.eventsOf(client.Reconnecting), p.eventsOf(client.Connected)
	if len(drops) != 1 || websocket.CloseStatus(drops[0].Err) != websocket.StatusServiceRestart || !drops[0].WillReconnect {
		t.Errorf("disconnected events %+v, want one, close 1012", drops)
	}
	if len(waits) == 0 || waits[0].Delay < 700*time.Millisecond {
		t.Errorf("reconnecting events %+v, want a first wait of at least 700ms", waits)
	}
	if len(conns) != 2 || !conns[1].Resumed || conns[1].URL != n2.WSURL() {
		t.Errorf("connected events %+v, want a resume on %s", conns, n2.WSURL())
	}
	again, err := p.Enqueue(reqCtx(t), "duel")
	if err != nil || again.TicketID != q.TicketID {
		t.Errorf("enqueue after the resume: %+v, %v; want ticket %s", again, err, q.TicketID)
	}
}

// TestGoClientToken: with auth.mode hmac the client carries a JWT, in a
// header or in the query, fetched afresh for each connection; a session
// taken over by another connection ends the client (no fight back).
func TestGoClientToken(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef-goclient"
	n := StartNode(t, NodeOptions{Set: map[string]any{"auth.mode": "hmac", "auth.hmac_secret": secret}})
	var mu sync.Mutex
	issued := 0
	token := func(context.Context) (string, error) {
		mu.Lock()
		issued++
		mu.Unlock()
		return jwtHS256(secret, map[string]any{"sub": "go-tok", "exp": time.Now().Add(time.Hour).Unix(), "rating": 1200}), nil
	}
	hdr := startGoPlayer(t, client.Options{URLs: []string{n.WSURL()}, Token: token, TokenHeader: true})
	if w, _ := hdr.Welcome(); w.PlayerID != "go-tok" {
		t.Fatalf("welcome for %q, want go-tok", w.PlayerID)
	}
	query := startGoPlayer(t, client.Options{URLs: []string{n.WSURL()}, Token: token})
	select {
	case <-hdr.Done():
	case <-time.After(DefaultWait):
		t.Fatal("the replaced client did not stop")
	}
	if err := hdr.Err(); !errors.Is(err, client.ErrSessionReplaced) {
		t.Errorf("replaced client: %v, want ErrSessionReplaced", err)
	}
	if _, err := query.Ping(reqCtx(t)); err != nil {
		t.Errorf("ping with the query token: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if issued != 2 {
		t.Errorf("%d tokens fetched, want one per connection (2)", issued)
	}
}
