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
	id  string
	ws  *websocket.Conn
	srv *Server
	log *slog.Logger
	// mu guards queue and fullSince. The queue holds frames for the writer,
	// in order; wake tells the writer there is something to write.
	mu        sync.Mutex
	queue     []*outFrame
	fullSince time.Time
	wake      chan struct{}
	done      chan struct{}
	once      sync.Once
	pid       *actor.PID
	cancel    context.CancelFunc
}

// SessionID implements actors.Outbox.
func (c *conn) SessionID() string { return c.id }

// Send implements actors.Outbox: it never blocks. A client may fall
// server.send_queue frames behind; one that stays that far behind for
// server.write_timeout (or falls a burst further behind at any moment) is
// too slow to play and is disconnected, so it never holds anyone else up.
func (c *conn) Send(frame any) {
	b, err := json.Marshal(frame)
	if err != nil {
		c.log.Error("encode frame", "err", err)
		return
	}
	c.push(&outFrame{data: b})
}

// Close implements actors.Outbox: the close follows the frames queued
// before it.
func (c *conn) Close(code int, reason string) {
	c.push(&outFrame{close: true, code: websocket.StatusCode(code), reason: reason})
}

func (c *conn) push(f *outFrame) {
	select {
	case <-c.done:
		return
	default:
	}
	all := c.srv.cfg.Get()
	cfg := all.Server
	// A client provokes replies only within its rate limit, so a burst of
	// replies beyond the queue is allowed; past that, memory is at stake.
	hardCap := 4*cfg.SendQueue + all.Session.RateLimit.Burst
	c.mu.Lock()
	slow := false
	if len(c.queue) >= cfg.SendQueue {
		now := time.Now()
		if c.fullSince.IsZero() {
			c.fullSince = now
		}
		slow = now.Sub(c.fullSince) > cfg.WriteTimeout || len(c.queue) >= hardCap
	}
	if !slow {
		c.queue = append(c.queue, f)
	}
	c.mu.Unlock()
	if slow {
		c.log.Warn("client too slow, disconnecting", "queued", cfg.SendQueue)
		c.drop()
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take hands the writer every queued frame.
func (c *conn) take() []*outFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	c.fullSince = time.Time{}
	return q
}

// terminate ends the connection with a close frame. The close handshake is
// given server.write_timeout (the library would wait five seconds) and the
// connection is then cut: the reader has already stopped serving it.
func (c *conn) terminate(code websocket.StatusCode, reason string) {
	c.end(func() {
		backstop := time.AfterFunc(c.srv.cfg.Get().Server.WriteTimeout, func() { _ = c.ws.CloseNow() })
		_ = c.ws.Close(code, reason)
		backstop.Stop()
	})
}

// drop cuts off a client that stopped reading or answering: it would not
// read a close frame either.
func (c *conn) drop() {
	c.end(func() { _ = c.ws.CloseNow() })
}

func (c *conn) end(closeFn func()) {
	c.once.Do(func() {
		close(c.done)
		go func() {
			closeFn()
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
				c.drop()
				return
			}
			go func() {
				pctx, cancel := context.WithTimeout(ctx, cfg.PingInterval)
				defer cancel()
				if err := c.ws.Ping(pctx); err != nil {
					c.drop()
					return
				}
				pinging.Store(false)
			}()
		case <-c.wake:
			for _, f := range c.take() {
				if f.close {
					c.terminate(f.code, f.reason)
					return
				}
				wctx, cancel := context.WithTimeout(ctx, cfg.WriteTimeout)
				err := c.ws.Write(wctx, websocket.MessageText, f.data)
				cancel()
				if err != nil {
					c.drop()
					return
				}
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
	// Refusals have a budget of their own: a client that keeps exceeding
	// the limit spends it and is closed (1008); a brief overshoot is not.
	abuse := rate.NewLimiter(rate.Limit(cfg.Session.RateLimit.PerSecond), cfg.Session.RateLimit.Burst)
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s == -1 && !errors.Is(err, context.Canceled) {
				c.log.Debug("read ended", "err", err)
			}
			return
		}
		if !lim.Allow() {
			if !abuse.Allow() {
				c.log.Warn("persistent rate limit abuse, closing")
				c.terminate(websocket.StatusPolicyViolation, "rate limit abuse")
				return
			}
			res := lim.Reserve()
			retry := res.Delay()
			res.Cancel()
			c.sendError(ridOf(data), protocol.CodeRateLimited, "Too many requests, slow down.", max(retry.Milliseconds(), 1))
			continue
		}
		if typ != websocket.MessageText {
			c.sendError("", protocol.CodeBadRequest, "Frames must be JSON text.", 0)
			continue
		}
		select {
		case <-c.done:
			return // dropped: serve nothing more from this connection
		default:
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
