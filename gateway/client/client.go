package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// Options configure a Client. URLs and an identity (PlayerID, Token,
// RawQuery or an Authorization header) are required; everything else has
// a default.
type Options struct {
	// URLs are the nodes' /ws URLs. The first connection tries them in
	// order; every reconnect moves on to the next, so a player leaves a
	// draining or dead node for another.
	URLs []string
	// PlayerID, Rating and DeviceID identify the player in auth.mode
	// insecure (development); see DialOptions.
	PlayerID string
	Rating   *float64
	DeviceID string
	// Token returns the player's JWT (auth.mode hmac or jwks). It is
	// called for every connection, so it can hand out a fresh token;
	// StaticToken wraps a fixed one. It travels in the token query
	// parameter, or in an Authorization header with TokenHeader.
	Token       func(ctx context.Context) (string, error)
	TokenHeader bool
	// RawQuery replaces the handshake's query (tests of odd handshakes).
	RawQuery string
	// Header is added to every handshake; HTTPClient makes them.
	Header     http.Header
	HTTPClient *http.Client
	// ReadLimit bounds one server frame (default 1 MiB).
	ReadLimit int64
	// DialTimeout bounds one connection attempt, handshake and welcome
	// (default 10 s); WriteTimeout one write (default 10 s), after which
	// the connection is given up.
	DialTimeout  time.Duration
	WriteTimeout time.Duration
	// Reconnect is the backoff between connection attempts.
	Reconnect Reconnect
	// KeepAlive, when set, sends a WebSocket ping this often and drops a
	// connection whose pong does not come back within it, so a silently
	// dead network path is noticed (the server pings too, but only it
	// learns from those).
	KeepAlive time.Duration

	// Frames, when set, receives every frame the server sends, in order:
	// the welcome of each connection, replies and pushed frames alike.
	// The client waits for each frame to be taken, so give the channel a
	// buffer and keep reading it; a client that stops reading is, in the
	// end, disconnected by the server as too slow.
	Frames chan<- Frame
	// OnFrame, when set, is called with every frame as Frames gets it,
	// before it; OnEvent with every change of the connection. Both run
	// on the client's reading goroutine: return quickly, and do not call
	// the client's requests from them (their replies would wait behind
	// the callback).
	OnFrame func(Frame)
	OnEvent func(Event)
	// Rand is the jitter's source of randomness in [0, 1) (default
	// math/rand/v2), for tests.
	Rand func() float64
}

// StaticToken is an Options.Token that always returns tok.
func StaticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// EventKind says what happened to the connection.
type EventKind uint8

// Connection events.
const (
	// Connected: a connection was welcomed; Welcome says where the
	// session stands, Resumed whether an earlier connection had been.
	Connected EventKind = iota + 1
	// Disconnected: the connection ended (Err; websocket.CloseStatus
	// reads its close code); WillReconnect says whether the client tries
	// again.
	Disconnected
	// Reconnecting: the next attempt goes to URL after Delay; Err is the
	// failed attempt's error (nil after a drop).
	Reconnecting
)

func (k EventKind) String() string {
	switch k {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case Reconnecting:
		return "reconnecting"
	}
	return "unknown"
}

// Event is a change of the connection.
type Event struct {
	Kind EventKind
	URL  string
	// Connected
	Welcome       Frame
	Resumed       bool
	PreviousState *protocol.State
	// Disconnected, Reconnecting
	Err           error
	WillReconnect bool
	// Reconnecting: the number of the wait since the last welcome (or
	// since Connect), and its length.
	Attempt int
	Delay   time.Duration
}

// Client is a player's session with matchd over a WebSocket that it keeps
// open: requests are matched to their replies by rid, every server frame
// is handed to Options.Frames and Options.OnFrame, and a dropped
// connection is reopened with backoff, on the next node of the list; the
// new connection's welcome says where the session stands (queued, with
// the same ticket; loading, followed by that match's match_found). Its
// methods are safe for concurrent use.
type Client struct {
	o   Options
	ctx context.Context // ended by Close
	end context.CancelFunc

	mu       sync.Mutex
	conn     *Conn // the welcomed connection; nil while there is none
	url      string
	welcome  Frame
	welcomed bool // a connection was welcomed once
	// resumed and prevState describe the latest welcome for its event:
	// whether an earlier connection had been welcomed, and the state known
	// before it.
	resumed   bool
	prevState *protocol.State
	state     *protocol.State
	pending   map[string]chan result
	rid       uint64
	hint      time.Duration // the server's least wait before reconnecting
	urlIdx    int
	started   bool // Connect was called and has not failed
	looping   bool // the run loop was started
	closed    bool
	running   chan struct{} // closed when the run loop exits
	done      chan struct{}
	doneOnce  sync.Once
	finalErr  error
	keepalive context.CancelFunc
}

type result struct {
	f   Frame
	err error
}

// New checks the options and returns a client; Connect opens it.
func New(o Options) (*Client, error) {
	if len(o.URLs) == 0 {
		return nil, errors.New("matchd: Options.URLs: at least one node URL is required")
	}
	for _, u := range o.URLs {
		if _, err := handshakeURL(u, DialOptions{}); err != nil {
			return nil, err
		}
	}
	if o.PlayerID == "" && o.Token == nil && o.RawQuery == "" && o.Header.Get("Authorization") == "" {
		return nil, errors.New("matchd: Options: a Token (auth.mode hmac or jwks) or a PlayerID (insecure) is required")
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	o.Reconnect = o.Reconnect.withDefaults()
	c := &Client{o: o, pending: map[string]chan result{}, running: make(chan struct{}), done: make(chan struct{})}
	c.ctx, c.end = context.WithCancel(context.Background())
	return c, nil
}

// Connect opens the session and returns the welcome; while the client is
// already connected it returns the current welcome. It tries the URLs in
// turn with backoff until one welcomes it, the backoff's attempts are
// spent, a handshake is refused for good (HTTP 4xx: a bad identity or
// token), or ctx ends; then it returns the last error and may be called
// again. From the first welcome on, the client reconnects by itself.
func (c *Client) Connect(ctx context.Context) (Frame, error) {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return Frame{}, ErrClosed
	case c.started:
		w, ok := c.welcome, c.conn != nil
		c.mu.Unlock()
		if !ok {
			return Frame{}, ErrDisconnected
		}
		return w, nil
	}
	c.started = true
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	conn, w, err := c.dialLoop(ctx, false)
	if err == nil && !c.attach(conn, w) {
		_ = conn.CloseNow()
		err = ErrClosed
	}
	c.mu.Lock()
	if err != nil {
		c.started = false
		closed := c.closed
		c.mu.Unlock()
		if closed || c.ctx.Err() != nil {
			c.finish(ErrClosed)
			return Frame{}, ErrClosed
		}
		return Frame{}, err
	}
	c.looping = true
	c.mu.Unlock()
	go c.run(conn, w)
	return w, nil
}

// Welcome returns the latest welcome; false before the first.
func (c *Client) Welcome() (Frame, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.welcome, c.welcomed
}

// State is the server's latest word on the session: from the last
// welcome, state reply, or error that carried one, with PartyID also
// following party and party_left frames; false before the first welcome.
func (c *Client) State() (protocol.State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		return protocol.State{}, false
	}
	return *c.state, true
}

// Connected reports whether a welcomed connection is open now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil
}

// Done is closed when the client stopped for good: Close, a session taken
// over by another connection, a refused handshake, reconnect attempts
// spent, or (with reconnecting off) a dropped connection. Err says which.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client stopped (nil before Done is closed): ErrClosed,
// ErrSessionReplaced, or an error that wraps ErrDisconnected and the
// connection's end (websocket.CloseStatus reads its close code).
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.finalErr
	default:
		return nil
	}
}

// Close ends the session for good: the connection is closed with 1000
// (the server keeps the player's ticket for its reconnect grace, as after
// any disconnect), pending requests fail with ErrClosed, and no reconnect
// follows. It waits for the server's close frame, at most five seconds.
func (c *Client) Close() error {
	conn := c.shut()
	if conn != nil {
		_ = conn.Close(websocket.StatusNormalClosure, "")
	}
	c.wait()
	return nil
}

// CloseNow is Close without the close handshake: the connection is cut.
func (c *Client) CloseNow() error {
	conn := c.shut()
	if conn != nil {
		_ = conn.CloseNow()
	}
	c.wait()
	return nil
}

// shut marks the client closed and returns its connection, if any.
func (c *Client) shut() *Conn {
	c.mu.Lock()
	c.closed = true
	conn, started := c.conn, c.started
	c.mu.Unlock()
	c.end()
	if !started {
		c.finish(ErrClosed)
	}
	return conn
}

// wait waits for the run loop, if one was started, to exit.
func (c *Client) wait() {
	c.mu.Lock()
	looping := c.looping
	c.mu.Unlock()
	if looping {
		<-c.running
	}
}

func (c *Client) finish(err error) {
	c.doneOnce.Do(func() {
		c.finalErr = err
		close(c.done)
	})
}

// attach makes a welcomed connection the current one; false when the
// client was closed meanwhile. The run loop announces it (announce), so
// that Connect never waits for a reader of Options.Frames.
func (c *Client) attach(conn *Conn, w Frame) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.prevState, c.resumed = c.state, c.welcomed
	c.conn, c.welcome, c.welcomed = conn, w, true
	if w.State != nil {
		st := *w.State
		c.state = &st
	}
	c.hint = 0
	if c.o.KeepAlive > 0 {
		ctx, cancel := context.WithCancel(c.ctx)
		c.keepalive = cancel
		go c.keepAlive(ctx, conn)
	}
	return true
}

// announce hands out a new connection's welcome and its Connected event.
func (c *Client) announce(w Frame) {
	c.mu.Lock()
	e := Event{Kind: Connected, URL: c.url, Welcome: w, Resumed: c.resumed, PreviousState: c.prevState}
	c.mu.Unlock()
	c.emit(w)
	c.event(e)
}

// run serves connection after connection until the client stops.
func (c *Client) run(conn *Conn, w Frame) {
	defer close(c.running)
	for {
		c.announce(w)
		err := c.serve(conn)
		retry, final := c.dropped(err)
		if !retry {
			c.finish(final)
			return
		}
		next, nw, derr := c.dialLoop(c.ctx, true)
		if derr != nil {
			if c.ctx.Err() != nil {
				derr = ErrClosed
			}
			c.finish(derr)
			return
		}
		if !c.attach(next, nw) {
			_ = next.CloseNow()
			c.finish(ErrClosed)
			return
		}
		conn, w = next, nw
	}
}

// serve reads frames until the connection ends, and returns why.
func (c *Client) serve(conn *Conn) error {
	var buf bytes.Buffer
	for {
		if _, err := conn.ReadMessage(context.Background(), &buf); err != nil {
			return err
		}
		raw := bytes.Clone(buf.Bytes())
		var f Frame
		if DecodeFrame(raw, &f) != nil {
			f = Frame{}
		}
		f.Raw = raw
		c.dispatch(f)
		if buf.Cap() > 64<<10 {
			buf = bytes.Buffer{}
		}
	}
}

// dispatch settles the request a frame answers, notes what the frame says
// about the session, and hands the frame on.
func (c *Client) dispatch(f Frame) {
	c.mu.Lock()
	switch f.Type {
	case protocol.TypeState:
		if f.State != nil {
			st := *f.State
			c.state = &st
		}
	case protocol.TypeError:
		if f.State != nil {
			st := *f.State
			c.state = &st
		}
		// An error that answers no request is about the connection (the
		// node cannot serve now): its retry_after_ms bounds the reconnect.
		if f.Rid == "" && (f.Code == protocol.CodeUnavailable || f.Code == protocol.CodeRateLimited) {
			c.hint = max(c.hint, time.Duration(f.RetryAfterMs)*time.Millisecond)
		}
	case protocol.TypeServerDraining:
		c.hint = max(c.hint, time.Duration(f.ReconnectAfterMs)*time.Millisecond)
	case protocol.TypeParty, protocol.TypePartyLeft:
		c.notePartyLocked(&f)
	}
	var ch chan result
	if f.Rid != "" {
		if ch = c.pending[f.Rid]; ch != nil {
			delete(c.pending, f.Rid)
		}
	}
	c.mu.Unlock()
	if ch != nil {
		if e := f.Err(); e != nil {
			ch <- result{f: f, err: e}
		} else {
			ch <- result{f: f}
		}
	}
	c.emit(f)
}

func (c *Client) emit(f Frame) {
	if c.o.OnFrame != nil {
		c.o.OnFrame(f)
	}
	if c.o.Frames != nil {
		select {
		case c.o.Frames <- f:
		case <-c.ctx.Done():
		}
	}
}

func (c *Client) event(e Event) {
	if c.o.OnEvent != nil {
		c.o.OnEvent(e)
	}
}

// dropped handles the end of the current connection: pending requests
// fail, and it decides whether to reconnect, or returns the client's
// final error.
func (c *Client) dropped(err error) (retry bool, final error) {
	c.mu.Lock()
	conn, u := c.conn, c.url
	c.conn = nil
	pending := c.pending
	c.pending = map[string]chan result{}
	if c.keepalive != nil {
		c.keepalive()
		c.keepalive = nil
	}
	closed := c.closed
	c.mu.Unlock()
	if conn != nil {
		_ = conn.CloseNow()
	}
	failWith := fmt.Errorf("%w: %w", ErrDisconnected, err)
	if closed {
		failWith = ErrClosed
	}
	for _, ch := range pending {
		ch <- result{err: failWith}
	}
	switch {
	case closed:
		final = ErrClosed
	case websocket.CloseStatus(err) == protocol.CloseSessionReplaced:
		final = fmt.Errorf("%w: %w", ErrSessionReplaced, err)
	case c.o.Reconnect.Off:
		final = failWith
	default:
		retry = true
	}
	c.event(Event{Kind: Disconnected, URL: u, Err: err, WillReconnect: retry})
	return retry, final
}

// dialLoop connects to the URLs in turn, with backoff between attempts.
// After a drop (afterDrop) it waits before the first attempt too, so the
// players of a node that went down do not all come back at once. The
// waits grow with their number since the last welcome.
func (c *Client) dialLoop(ctx context.Context, afterDrop bool) (*Conn, Frame, error) {
	r := c.o.Reconnect
	waits, failed := 0, 0
	if afterDrop {
		c.mu.Lock()
		c.urlIdx++
		c.mu.Unlock()
		if err := c.backoff(ctx, waits, nil); err != nil {
			return nil, Frame{}, err
		}
		waits++
	}
	for {
		c.mu.Lock()
		u := c.o.URLs[c.urlIdx%len(c.o.URLs)]
		c.url = u
		c.mu.Unlock()
		conn, w, err := c.dialOnce(ctx, u)
		if err == nil {
			return conn, w, nil
		}
		failed++
		var he *HandshakeError
		switch {
		case ctx.Err() != nil:
			return nil, Frame{}, fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		case errors.As(err, &he) && !he.Temporary():
			return nil, Frame{}, err
		case r.Off, r.MaxAttempts > 0 && failed >= r.MaxAttempts:
			return nil, Frame{}, err
		}
		c.mu.Lock()
		c.urlIdx++
		c.mu.Unlock()
		if werr := c.backoff(ctx, waits, err); werr != nil {
			return nil, Frame{}, fmt.Errorf("%w (last attempt: %w)", werr, err)
		}
		waits++
	}
}

// backoff announces and waits the delay before the next attempt; waits
// is how many came before it since the last welcome.
func (c *Client) backoff(ctx context.Context, waits int, cause error) error {
	c.mu.Lock()
	d := c.o.Reconnect.delay(waits, c.hint, c.o.Rand)
	c.hint = 0
	next := c.o.URLs[c.urlIdx%len(c.o.URLs)]
	c.mu.Unlock()
	c.event(Event{Kind: Reconnecting, URL: next, Err: cause, Attempt: waits + 1, Delay: d})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dialOnce makes one connection attempt: handshake, then the welcome.
func (c *Client) dialOnce(ctx context.Context, u string) (*Conn, Frame, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.DialTimeout)
	defer cancel()
	o := DialOptions{
		PlayerID: c.o.PlayerID, Rating: c.o.Rating, DeviceID: c.o.DeviceID,
		TokenHeader: c.o.TokenHeader, RawQuery: c.o.RawQuery,
		Header: c.o.Header, HTTPClient: c.o.HTTPClient, ReadLimit: c.o.ReadLimit,
	}
	if c.o.Token != nil {
		tok, err := c.o.Token(ctx)
		if err != nil {
			return nil, Frame{}, fmt.Errorf("matchd: token: %w", err)
		}
		o.Token = tok
	}
	conn, err := Dial(ctx, u, o)
	if err != nil {
		return nil, Frame{}, err
	}
	var w Frame
	if err := conn.ReadWelcome(ctx, &w); err != nil {
		_ = conn.CloseNow()
		return nil, Frame{}, err
	}
	w.Raw = bytes.Clone(w.Raw)
	return conn, w, nil
}

// keepAlive pings the server every Options.KeepAlive and cuts the
// connection when a pong does not come back in time; the reader then
// reconnects.
func (c *Client) keepAlive(ctx context.Context, conn *Conn) {
	t := time.NewTicker(c.o.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.o.KeepAlive)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			_ = conn.CloseNow()
			return
		}
	}
}

// URL returns the node URL of the current (or last tried) connection.
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url
}
