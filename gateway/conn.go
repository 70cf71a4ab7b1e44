package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/matchd/matchd/gateway/protocol"
)

// outFrame is one queued write: a data frame, or a close.
type outFrame struct {
	data   []byte
	close  bool
	code   websocket.StatusCode
	reason string
}

// conn is one client WebSocket. Its session actor queues frames through
// Send; a single writer goroutine drains the queue, so a slow client only
// ever fills its own queue and is dropped, never slowing anyone else.
type conn struct {
	id     string
	ws     *websocket.Conn
	srv    *Server
	log    *slog.Logger
	out    chan *outFrame
	done   chan struct{}
	once   sync.Once
	pid    *actor.PID
	cancel context.CancelFunc
}

// SessionID implements actors.Outbox.
func (c *conn) SessionID() string { return c.id }

// Send implements actors.Outbox: it never blocks. A client whose queue is
// full is too slow to play; it is disconnected.
func (c *conn) Send(frame any) {
	b, err := json.Marshal(frame)
	if err != nil {
		c.log.Error("encode frame", "err", err)
		return
	}
	select {
	case <-c.done:
	case c.out <- &outFrame{data: b}:
	default:
		c.log.Warn("client too slow, disconnecting", "queued", cap(c.out))
		c.terminate(websocket.StatusPolicyViolation, "too slow")
	}
}

// Close implements actors.Outbox: the close follows the frames queued
// before it.
func (c *conn) Close(code int, reason string) {
	select {
	case <-c.done:
	case c.out <- &outFrame{close: true, code: websocket.StatusCode(code), reason: reason}:
	default:
		c.terminate(websocket.StatusCode(code), reason)
	}
}

// terminate ends the connection at once.
func (c *conn) terminate(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		close(c.done)
		go func() {
			_ = c.ws.Close(code, reason)
			c.cancel()
		}()
	})
}

// writer drains the outgoing queue and keeps the connection alive: every
// server.ping_interval it sends a ping from a short-lived goroutine (Ping
// waits for the pong, which the reader consumes), and a client that has not
// answered by the next ping is closed. Two goroutines per idle connection
// (reader and writer) keep an idle session cheap.
func (c *conn) writer(ctx context.Context) {
	cfg := c.srv.cfg.Get().Server
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	var pinging atomic.Bool
	for {
		select {
		case <-c.done:
			return
		case <-ctx.Done():
			return
		case <-ping.C:
			if !pinging.CompareAndSwap(false, true) {
				c.terminate(websocket.StatusPolicyViolation, "ping timeout")
				return
			}
			go func() {
				pctx, cancel := context.WithTimeout(ctx, cfg.PingInterval)
				defer cancel()
				if err := c.ws.Ping(pctx); err != nil {
					c.terminate(websocket.StatusPolicyViolation, "ping timeout")
					return
				}
				pinging.Store(false)
			}()
		case f := <-c.out:
			if f.close {
				c.terminate(f.code, f.reason)
				return
			}
			wctx, cancel := context.WithTimeout(ctx, cfg.WriteTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, f.data)
			cancel()
			if err != nil {
				c.terminate(websocket.StatusPolicyViolation, "write timeout")
				return
			}
		}
	}
}

// sendError queues an error frame from the gateway itself (decode errors,
// rate limits), counting it.
func (c *conn) sendError(rid string, code protocol.Code, msg string, retryAfterMs int64) {
	c.srv.metrics.ClientErrors.WithLabelValues(string(code)).Inc()
	c.Send(&protocol.Error{Type: protocol.TypeError, Rid: rid, Code: code, Message: msg, RetryAfterMs: retryAfterMs})
}

// reader serves client frames until the connection ends.
func (c *conn) reader(ctx context.Context) {
	cfg := c.srv.cfg.Get()
	lim := rate.NewLimiter(rate.Limit(cfg.Session.RateLimit.PerSecond), cfg.Session.RateLimit.Burst)
	strikes := 0
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s == -1 && !errors.Is(err, context.Canceled) {
				c.log.Debug("read ended", "err", err)
			}
			return
		}
		if !lim.Allow() {
			strikes++
			res := lim.Reserve()
			retry := res.Delay()
			res.Cancel()
			if strikes > cfg.Session.RateLimit.Burst {
				c.terminate(websocket.StatusPolicyViolation, "rate limit abuse")
				return
			}
			c.sendError(ridOf(data), protocol.CodeRateLimited, "Too many requests, slow down.", max(retry.Milliseconds(), 1))
			continue
		}
		strikes = 0
		if typ != websocket.MessageText {
			c.sendError("", protocol.CodeBadRequest, "Frames must be JSON text.", 0)
			continue
		}
		m, err := protocol.Decode(data)
		if err != nil {
			de, _ := protocol.AsDecodeError(err)
			c.sendError(de.Rid, de.Code, de.Message, 0)
			continue
		}
		c.srv.node.Request(c.pid, c.id, m)
	}
}

// ridOf reads the rid of a frame that is refused before it is served, so
// even a RATE_LIMITED reply carries it.
func ridOf(data []byte) string {
	m, err := protocol.Decode(data)
	if err == nil {
		return m.Rid
	}
	if de, ok := protocol.AsDecodeError(err); ok {
		return de.Rid
	}
	return ""
}
