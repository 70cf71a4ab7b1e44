package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// fakeNode is an in-process stand-in for one matchd node: it speaks
// matchd.v1 over coder/websocket like the gateway does (subprotocol,
// welcome first, typed errors for bad frames, replies carrying the rid)
// and keeps each player's session state across connections, so a client
// that reconnects is told where it stands. Tests script the rest through
// its hooks.
type fakeNode struct {
	t   testing.TB
	srv *httptest.Server
	id  string
	// players is shared by the nodes of one test, like Redis is.
	players *fakePlayers

	mu sync.Mutex
	// refuse, when set, answers a handshake with an HTTP error instead.
	refuse func(r *http.Request) (status int, code protocol.Code, msg string)
	// hold, when set, is asked for every client frame: true keeps it
	// unanswered (a lost reply, or a node that stopped answering).
	hold func(m protocol.ClientMessage) bool
	// deaf makes new connections stop reading after the welcome: no
	// replies, no pongs.
	deaf       bool
	handshakes []*http.Request
	conns      []*fakeConn
	quit       chan struct{}
}

// fakePlayers is the session state of every player, by id, and their
// parties (fake_party_test.go).
type fakePlayers struct {
	mu sync.Mutex
	st map[string]*protocol.State
	fakeParties
}

type fakeConn struct {
	player string
	ws     *websocket.Conn
	wmu    sync.Mutex
	// closed receives the close status the client sent (or -1).
	closed chan websocket.StatusCode
}

func newFakePlayers() *fakePlayers {
	return &fakePlayers{st: map[string]*protocol.State{}, fakeParties: newFakeParties()}
}

// newFakeNode starts a node; players may be shared with other nodes.
func newFakeNode(t testing.TB, id string, players *fakePlayers) *fakeNode {
	if players == nil {
		players = newFakePlayers()
	}
	n := &fakeNode{t: t, id: id, players: players}
	n.quit = make(chan struct{})
	n.srv = httptest.NewServer(http.HandlerFunc(n.serveWS))
	t.Cleanup(n.srv.Close)
	t.Cleanup(func() { close(n.quit) }) // runs first: deaf handlers return

	return n
}

// URL is the node's /ws URL.
func (n *fakeNode) URL() string { return "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws" }

func (n *fakeNode) lastConn(t testing.TB) *fakeConn {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.conns) == 0 {
		t.Fatalf("%s: no connection", n.id)
	}
	return n.conns[len(n.conns)-1]
}

func (n *fakeNode) handshakeCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.handshakes)
}

func (n *fakeNode) handshake(i int) *http.Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.handshakes[i]
}

func (c *fakeConn) send(frame any) {
	b, err := protocol.Encode(frame)
	if err != nil {
		panic(err)
	}
	c.sendRaw(b)
}

func (c *fakeConn) sendRaw(b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, b)
}

// closeWith sends frame (if any) then closes the connection with code.
func (c *fakeConn) closeWith(frame any, code websocket.StatusCode) {
	if frame != nil {
		c.send(frame)
	}
	_ = c.ws.Close(code, "")
}

func (n *fakeNode) serveWS(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	n.handshakes = append(n.handshakes, r)
	refuse, deaf := n.refuse, n.deaf
	n.mu.Unlock()
	if refuse != nil {
		if status, code, msg := refuse(r); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			b, _ := protocol.Encode(&protocol.HTTPError{Code: code, Message: msg})
			_, _ = w.Write(b)
			return
		}
	}
	player := r.URL.Query().Get("player_id")
	if tok := r.URL.Query().Get("token"); tok != "" {
		player = "tok-" + tok
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		player = "hdr-" + strings.TrimPrefix(h, "Bearer ")
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{protocol.Subprotocol}})
	if err != nil {
		return
	}
	ws.SetReadLimit(4096)
	c := &fakeConn{player: player, ws: ws, closed: make(chan websocket.StatusCode, 1)}
	n.mu.Lock()
	n.conns = append(n.conns, c)
	n.mu.Unlock()
	c.send(&protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Subprotocol, SessionID: "s1",
		PlayerID: player, NodeID: n.id, ServerTimeMs: 1, State: n.players.get(player)})
	n.players.welcomed(c)
	if deaf {
		<-n.quit
		n.players.gone(c)
		c.closed <- -1
		return
	}
	for {
		typ, data, err := ws.Read(context.Background())
		if err != nil {
			n.players.gone(c) // before closed, which tests wait on
			c.closed <- websocket.CloseStatus(err)
			return
		}
		if typ != websocket.MessageText {
			c.send(&protocol.Error{Type: protocol.TypeError, Code: protocol.CodeBadRequest, Message: "Frames must be JSON text."})
			continue
		}
		m, err := protocol.Decode(data)
		if err != nil {
			de, _ := protocol.AsDecodeError(err)
			c.send(&protocol.Error{Type: protocol.TypeError, Rid: de.Rid, Code: de.Code, Message: de.Message})
			continue
		}
		n.mu.Lock()
		hold := n.hold
		n.mu.Unlock()
		if hold != nil && hold(m) {
			continue
		}
		n.players.serve(c, m)
	}
}

func (p *fakePlayers) get(player string) protocol.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := protocol.State{Name: protocol.StateIdle}
	if s := p.st[player]; s != nil {
		st = *s
	}
	st.PartyID = p.partyOfLocked(player)
	return st
}

// serve answers one request the way a session does (docs/protocol.md
// section 5), for the modes duel (open), banned (sanctioned) and broken
// (a bug).
func (p *fakePlayers) serve(c *fakeConn, m protocol.ClientMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.st[c.player]
	if st == nil {
		st = &protocol.State{Name: protocol.StateIdle}
		p.st[c.player] = st
	}
	refuse := func(code protocol.Code, msg string, retry int64, withState bool) {
		e := &protocol.Error{Type: protocol.TypeError, Rid: m.Rid, Code: code, Message: msg, RetryAfterMs: retry}
		if withState {
			s := *st
			e.State = &s
		}
		c.send(e)
	}
	if p.serveParty(c, m, refuse) {
		return
	}
	switch m.Type {
	case protocol.TypeEnqueue:
		switch {
		case m.Mode == "banned":
			refuse(protocol.CodeBanned, "You are banned for now.", 60000, false)
		case m.Mode == "broken":
			e := &protocol.Error{Type: protocol.TypeError, Rid: m.Rid, Code: protocol.CodeInternal, Message: "Something went wrong.", IncidentID: "inc-7"}
			c.send(e)
		case m.Mode != "duel":
			refuse(protocol.CodeUnknownMode, "No such mode.", 0, false)
		case st.Name == protocol.StateIdle:
			*st = protocol.State{Name: protocol.StateQueued, Mode: m.Mode, TicketID: "t-" + c.player, SinceMs: 5}
			fallthrough
		case st.Name == protocol.StateQueued:
			c.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: m.Rid, Mode: st.Mode, TicketID: st.TicketID, QueuedAtMs: st.SinceMs})
		default:
			refuse(protocol.CodeInvalidState, "Not now.", 0, true)
		}
	case protocol.TypeCancel:
		if st.Name != protocol.StateQueued {
			refuse(protocol.CodeInvalidState, "Not queued.", 0, true)
			return
		}
		c.send(&protocol.Dequeued{Type: protocol.TypeDequeued, Rid: m.Rid, Mode: st.Mode, TicketID: st.TicketID, Reason: protocol.ReasonCancelled})
		*st = protocol.State{Name: protocol.StateIdle, SinceMs: 6}
	case protocol.TypeLoadingComplete:
		if st.Name != protocol.StateLoading || st.MatchID != m.MatchID {
			refuse(protocol.CodeInvalidState, "Not loading that match.", 0, true)
			return
		}
		c.send(&protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, Rid: m.Rid, MatchID: m.MatchID, Ready: []string{c.player}, Waiting: []string{}})
	case protocol.TypeSync:
		s := *st
		s.PartyID = p.partyOfLocked(c.player)
		c.send(&protocol.StateReply{Type: protocol.TypeState, Rid: m.Rid, State: s})
	case protocol.TypePing:
		c.send(&protocol.Pong{Type: protocol.TypePong, Rid: m.Rid, ServerTimeMs: 42})
	}
}

// startMatch puts player into loading match and tells its connection c.
func (p *fakePlayers) startMatch(c *fakeConn, matchID string) {
	p.mu.Lock()
	p.st[c.player] = &protocol.State{Name: protocol.StateLoading, Mode: "duel", MatchID: matchID, SinceMs: 7}
	p.mu.Unlock()
	c.send(&protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: matchID, Mode: "duel",
		Teams: [][]string{{c.player}, {"rival"}}, LoadingDeadlineMs: 99})
}
