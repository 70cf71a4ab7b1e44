package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/matchd/matchd/actors"
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
// Send; a writer goroutine, started only while frames are queued, drains
// the queue, so a slow client only ever fills its own queue and is dropped,
// never slowing anyone else. An idle connection has one goroutine, the
// reader, and a ping timer.
type conn struct {
	id     string
	player string
	ws     *websocket.Conn
	nc     *corkConn
	srv    *Server
	// mu guards queue, fullSince and writing. The queue holds frames for
	// the writer, in order; writing says a writer goroutine is running.
	mu        sync.Mutex
	queue     []*outFrame
	fullSince time.Time
	writing   bool
	done      chan struct{}
	once      sync.Once
	pid       *actor.PID
	ctx       context.Context
	cancel    context.CancelFunc
	ping      *time.Timer
	// pinging is set while a ping waits for its pong.
	pinging atomic.Bool
	// abusive is set when the reader stopped for persistent abuse: the
	// session closes the connection after the replies due.
	abusive bool
}

// log is the connection's logger. It is built when something is logged:
// a logger kept per connection would cost every idle session its memory.
func (c *conn) log() *slog.Logger {
	return c.srv.log.With("player", c.player, "session", c.id)
}

// SessionID implements actors.Outbox.
func (c *conn) SessionID() string { return c.id }

// Send implements actors.Outbox: it never blocks. A client may fall
// server.send_queue frames behind; one that stays that far behind for
// server.write_timeout (or falls a burst further behind at any moment) is
// too slow to play and is disconnected, so it never holds anyone else up.
func (c *conn) Send(frame any) {
	b, err := protocol.Encode(frame)
	if err != nil {
		c.log().Error("encode frame", "err", err)
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
	start := false
	if !slow {
		c.queue = append(c.queue, f)
		start = !c.writing
		c.writing = true
	}
	c.mu.Unlock()
	if slow {
		c.log().Warn("client too slow, disconnecting", "queued", cfg.SendQueue)
		c.drop()
		return
	}
	if start {
		go c.writer()
	}
}

// take hands the writer every queued frame; with none left, the writer
// ends.
func (c *conn) take() []*outFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	c.fullSince = time.Time{}
	if len(q) == 0 {
		c.writing = false
	}
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
		c.ping.Stop()
		go func() {
			closeFn()
			c.cancel()
		}()
	})
}

// writer writes everything queued, a batch at a time: each batch is corked
// into one write system call, which the client has server.write_timeout to
// take. It returns when the queue is empty (the next Send starts another)
// or the connection ends; an ended connection never starts another.
func (c *conn) writer() {
	timeout := c.srv.cfg.Get().Server.WriteTimeout
	for {
		q := c.take()
		if len(q) == 0 {
			return
		}
		select {
		case <-c.done:
			return
		default:
		}
		c.nc.cork()
		for _, f := range q {
			if f.close {
				if err := c.nc.uncork(timeout); err != nil {
					c.drop()
					return
				}
				c.terminate(f.code, f.reason)
				return
			}
			// Corked, the write only copies the frame: it cannot block on
			// the client, so it needs no deadline of its own.
			if err := c.ws.Write(context.Background(), websocket.MessageText, f.data); err != nil {
				_ = c.nc.uncork(timeout)
				c.drop()
				return
			}
		}
		if err := c.nc.uncork(timeout); err != nil {
			c.drop()
			return
		}
	}
}

// pingLoop runs every server.ping_interval from the connection's timer: it
// pings the client and closes it if the pong has not come back by the next
// ping. The timer is re-armed before waiting so the pings keep their pace.
// The wait needs no deadline of its own: the next ping finds the pong
// still owed and drops the connection, which closes the WebSocket and ends
// the wait (an idle node pings thousands of clients a second; a context
// per ping was a good part of its work). Nor does it take the
// connection's context: each ping would register with it and leave it a
// table of children and a channel for as long as the connection lives.
func (c *conn) pingLoop() {
	select {
	case <-c.done:
		return
	default:
	}
	if c.pinging.Load() {
		c.drop()
		return
	}
	c.ping.Reset(pingDelay(time.Now(), c.srv.cfg.Get().Server.PingInterval))
	c.pinging.Store(true)
	if err := c.ws.Ping(context.Background()); err != nil {
		c.drop()
		return
	}
	c.pinging.Store(false)
}

// pingSlot is the grid pings are aligned to: the pings of all connections
// due within one slot fire together, so an idle node wakes ten times a
// second to ping its clients instead of once per client (thousands of
// wake-ups a second, each costing more than the ping itself).
const pingSlot = 100 * time.Millisecond

// pingDelay is how long from now the next ping is due: interval, rounded
// down to the ping grid when the interval spans a few slots.
func pingDelay(now time.Time, interval time.Duration) time.Duration {
	if interval < 2*pingSlot {
		return interval
	}
	return now.Add(interval).Truncate(pingSlot).Sub(now)
}

// refuse answers a frame the gateway does not pass on (over the rate
// limit, not decodable). The refusal goes through the session actor, so
// that it reaches the client in order with the replies to earlier frames.
func (c *conn) refuse(rid string, code protocol.Code, msg string, retryAfterMs int64, closeAfter bool) {
	c.srv.node.Refuse(c.pid, c.id, actors.Refusal{Rid: rid, Code: code, Message: msg, RetryAfterMs: retryAfterMs, Close: closeAfter})
}

// abuseAfter is how long a client may stay over its rate limit, refused
// frame after frame, before it is persistent abuse (docs/protocol.md section 8).
const abuseAfter = 5 * time.Second

// abuseGap ends a run of refusals: a client that stayed within its limit
// this long is no longer over it.
const abuseGap = time.Second

// limiter is a connection's rate limit and its record of refusals.
type limiter struct {
	lim *rate.Limiter
	// overSince is when the current run of refusals began; lastRefusal the
	// latest refusal of it.
	overSince, lastRefusal time.Time
}

// reader serves client frames until the connection ends.
func (c *conn) reader() {
	cfg := c.srv.cfg.Get()
	lim := &limiter{lim: rate.NewLimiter(rate.Limit(cfg.Session.RateLimit.PerSecond), cfg.Session.RateLimit.Burst)}
	for {
		// No context to watch per read (the library would arm a callback
		// for each frame): ending the connection closes it, which ends the
		// read.
		typ, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf := frameBufs.Get().(*bytes.Buffer)
			buf.Reset()
			if _, err = buf.ReadFrom(r); err == nil {
				err = c.serve(typ, buf.Bytes(), lim)
			}
			if buf.Cap() <= maxPooledFrame {
				frameBufs.Put(buf)
			}
		}
		if err != nil {
			if s := websocket.CloseStatus(err); s == -1 && !errors.Is(err, context.Canceled) && !errors.Is(err, errStopReading) && !errors.Is(err, errAbuse) {
				c.log().Debug("read ended", "err", err)
			}
			c.abusive = errors.Is(err, errAbuse)
			return
		}
	}
}

// frameBufs holds the buffers frames are read into: a frame is decoded into
// strings of its own, so its buffer serves the next frame of any connection,
// and an idle connection holds none.
var frameBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledFrame keeps the buffers of unusually large frames out of the pool.
const maxPooledFrame = 16 << 10

// errStopReading ends the read loop without a read error.
var errStopReading = errors.New("gateway: stop reading")

// errAbuse ends the read loop of a client closed for persistent abuse; the
// session closes the connection (1008) after the replies already due.
var errAbuse = errors.New("gateway: persistent rate limit abuse")

// serve handles one frame; an error ends the read loop. Every frame is
// answered, in order: within the rate limit by the session, beyond it
// with RATE_LIMITED. A client still over its limit after abuseAfter of
// refusals is closed (1008), after the replies already due.
func (c *conn) serve(typ websocket.MessageType, data []byte, lim *limiter) error {
	select {
	case <-c.done:
		return errStopReading // dropped: serve nothing more from this connection
	default:
	}
	if !lim.lim.Allow() {
		now := time.Now()
		if lim.overSince.IsZero() || now.Sub(lim.lastRefusal) > abuseGap {
			lim.overSince = now
		}
		lim.lastRefusal = now
		res := lim.lim.Reserve()
		retry := res.Delay()
		res.Cancel()
		abusive := now.Sub(lim.overSince) >= abuseAfter
		c.refuse(ridOf(data), protocol.CodeRateLimited, actors.MessageFor(protocol.CodeRateLimited), max(retry.Milliseconds(), 1), abusive)
		if abusive {
			return errAbuse
		}
		return nil
	}
	if typ != websocket.MessageText {
		c.refuse("", protocol.CodeBadRequest, "Frames must be JSON text.", 0, false)
		return nil
	}
	m, err := protocol.Decode(data)
	if err != nil {
		de, _ := protocol.AsDecodeError(err)
		c.refuse(de.Rid, de.Code, de.Message, 0, false)
		return nil
	}
	c.srv.node.Request(c.pid, c.id, m)
	return nil
}

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
