// Package gateway is matchd's edge: the client listener (GET /ws, the
// WebSocket protocol of docs/protocol.md) and the admin listener (/metrics,
// /healthz, /readyz, /debug, /admin).
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
)

// Server serves the client WebSocket endpoint.
type Server struct {
	cfg      *config.Store
	node     *actors.Node
	metrics  *actors.Metrics
	log      *slog.Logger
	live     atomic.Int64
	draining atomic.Bool
	conns    sync.Map // *conn -> struct{}
	wg       sync.WaitGroup
	keys     *KeySet // jwks mode only; set before serving
}

// NewServer returns the client endpoint over node.
func NewServer(cfg *config.Store, node *actors.Node, m *actors.Metrics, log *slog.Logger) *Server {
	return &Server{cfg: cfg, node: node, metrics: m, log: log}
}

// UseKeySet makes jwks-mode handshakes verify tokens against k. Call it
// before serving.
func (s *Server) UseKeySet(k *KeySet) { s.keys = k }

// Handler serves GET /ws and nothing else.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	return mux
}

// Sessions is the number of live connections.
func (s *Server) Sessions() int64 { return s.live.Load() }

func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg.Get()
	if s.draining.Load() {
		writeHTTPError(w, http.StatusServiceUnavailable, protocol.CodeUnavailable, "This node is shutting down; connect to another.")
		return
	}
	player, err := s.identify(r, cfg)
	if err != nil {
		code, msg, status, _ := classify(s.log, err)
		writeHTTPError(w, status, code, msg)
		return
	}
	if max := cfg.Server.MaxSessions; max > 0 && s.live.Load() >= int64(max) {
		writeHTTPError(w, http.StatusServiceUnavailable, protocol.CodeUnavailable, "This node is full; retry or connect to another.")
		return
	}
	hj := &slimHijacker{ResponseWriter: w}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{
		Subprotocols:   []string{protocol.Subprotocol},
		OriginPatterns: cfg.Server.OriginPatterns,
	})
	if err != nil {
		s.log.Debug("websocket accept failed", "err", err)
		return
	}
	ws.SetReadLimit(int64(cfg.Server.MaxMessageBytes))
	s.live.Add(1)
	s.metrics.Sessions.Inc()
	s.wg.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		id: newSessionID(), player: player.ID, ws: ws, nc: hj.conn, srv: s,
		done: make(chan struct{}), ctx: ctx, cancel: cancel,
	}
	// The first ping goes out at once (at the next slot of the ping grid),
	// not an interval from now: a client whose pongs never come is cut
	// after one interval instead of two, and what a connection's pings
	// keep for its lifetime (the WebSocket library's table of pings in
	// flight) is made while the session is set up, so a node's memory per
	// session is from the start what it will stay.
	c.ping = time.AfterFunc(pingDelay(time.Now(), 2*pingSlot), c.pingLoop)
	s.conns.Store(c, struct{}{})
	pid, err := s.node.Attach(ctx, player, c)
	if err != nil {
		code, msg, _, incident := classify(s.log, err)
		e := &protocol.Error{Type: protocol.TypeError, Code: code, Message: msg, IncidentID: incident}
		if code == protocol.CodeUnavailable {
			e.RetryAfterMs = cfg.Redis.BreakerCooldown.Milliseconds()
		}
		c.Send(e)
		c.Close(protocol.CloseInternal, "unavailable")
		go s.finish(c, nil)
		return
	}
	c.pid = pid
	// The handler returns: net/http's state for the request (its buffers,
	// the parsed headers, the handler's goroutine) is released, and the
	// connection lives on in its reader goroutine.
	go s.finish(c, c.reader)
}

// finish runs the connection's reader, if any, until the client leaves,
// then tells the session and releases the connection.
func (s *Server) finish(c *conn, reader func()) {
	defer func() {
		s.conns.Delete(c)
		s.live.Add(-1)
		s.metrics.Sessions.Dec()
		s.wg.Done()
	}()
	if reader != nil {
		reader()
		s.node.Closed(c.pid, c.id)
		if c.abusive {
			// The session closes the connection (1008) once the replies
			// already due are written; this is only the backstop.
			select {
			case <-c.done:
			case <-time.After(s.cfg.Get().Server.WriteTimeout):
				c.terminate(websocket.StatusPolicyViolation, "rate limit abuse")
			}
		} else {
			c.terminate(websocket.StatusNormalClosure, "")
		}
	}
	<-c.ctx.Done()
}

// Drain tells every client to reconnect elsewhere and closes them with
// 1012; new handshakes are refused from now on.
func (s *Server) Drain(reconnectAfter time.Duration) {
	s.draining.Store(true)
	s.conns.Range(func(k, _ any) bool {
		c := k.(*conn)
		c.Send(&protocol.ServerDraining{Type: protocol.TypeServerDraining, ReconnectAfterMs: reconnectAfter.Milliseconds()})
		c.Close(int(websocket.StatusServiceRestart), "node draining")
		return true
	})
}

// Undrain takes handshakes again after a drain (the clients it closed
// have reconnected elsewhere; new ones may come here).
func (s *Server) Undrain() { s.draining.Store(false) }

// Draining reports whether a drain started.
func (s *Server) Draining() bool { return s.draining.Load() }

// Wait blocks until every connection handler returned or ctx ends.
func (s *Server) Wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
