package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// DefaultWait bounds Expect and Next.
const DefaultWait = 10 * time.Second

// Frame is one server frame as received.
type Frame struct {
	Raw []byte
	M   map[string]any
	At  time.Time
}

// Type is the frame's type field.
func (f Frame) Type() string { return f.Str("type") }

// Str is a string field ("" when absent or not a string).
func (f Frame) Str(k string) string { s, _ := f.M[k].(string); return s }

// Bool is a boolean field.
func (f Frame) Bool(k string) bool { b, _ := f.M[k].(bool); return b }

// Int is a numeric field as int64.
func (f Frame) Int(k string) int64 {
	switch v := f.M[k].(type) {
	case float64:
		return int64(v)
	case json.Number:
		i, _ := v.Int64()
		return i
	}
	return 0
}

// Has reports whether the field is present (even when null).
func (f Frame) Has(k string) bool { _, ok := f.M[k]; return ok }

// Strings is an array-of-strings field (nil when absent).
func (f Frame) Strings(k string) []string {
	arr, ok := f.M[k].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// Obj is an object field.
func (f Frame) Obj(k string) map[string]any { m, _ := f.M[k].(map[string]any); return m }

// Decode unmarshals the frame into v (a protocol type).
func (f Frame) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(f.Raw, v); err != nil {
		t.Fatalf("decode %s: %v", f.Raw, err)
	}
}

// Teams decodes match_found's teams.
func (f Frame) Teams() [][]string {
	var m protocol.MatchFound
	_ = json.Unmarshal(f.Raw, &m)
	return m.Teams
}

func (f Frame) String() string { return string(f.Raw) }

// Client is one game client: a gateway/client session to a node, with
// reconnecting off, that records every frame it receives.
type Client struct {
	Player  string
	Device  string
	Node    *Node
	Welcome Frame

	cl *client.Client
	// conn writes raw frames, text or binary, for hostile-input tests.
	conn rawConn

	mu       sync.Mutex
	frames   []Frame
	cursor   int
	sig      chan struct{}
	closed   chan struct{}
	closeErr error
	rid      int
}

// rawConn writes one message as is through the client, bounded by the
// client's write timeout.
type rawConn struct{ cl *client.Client }

// Write sends p as one message of kind typ; ctx only bounds the wait for
// the client to be free to write.
func (r rawConn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.cl.WriteMessage(typ, p)
}

// DialOptions are the handshake's query parameters; zero values are left
// out.
type DialOptions struct {
	Rating   float64
	HasRate  bool
	Device   string
	RawQuery string // replaces the whole query when set
}

// Dial connects player to node with the given rating and device (device ""
// sends none) and reads the welcome frame, failing the test otherwise.
func Dial(t testing.TB, node *Node, player string, rating float64, device string) *Client {
	t.Helper()
	c, err := DialErr(t, node, player, DialOptions{Rating: rating, HasRate: true, Device: device})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", node.ID, player, err)
	}
	return c
}

// DialErr is Dial returning an error instead of failing; it is safe to call
// from any goroutine.
func DialErr(t testing.TB, node *Node, player string, o DialOptions) (*Client, error) {
	return DialWith(t, node, player, o, websocket.DialOptions{})
}

// Handshake performs a raw WebSocket handshake that is expected to be
// refused, returning the HTTP status and body.
func Handshake(t testing.TB, node *Node, rawQuery string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, node.WSURL(), client.DialOptions{RawQuery: rawQuery})
	if err == nil {
		_ = conn.CloseNow()
		t.Fatalf("handshake ?%s succeeded, want it refused", rawQuery)
	}
	var he *client.HandshakeError
	if !errors.As(err, &he) {
		t.Fatalf("handshake ?%s: no HTTP response: %v", rawQuery, err)
	}
	return he.StatusCode, he.Body
}

// record keeps one frame (the client's OnFrame).
func (c *Client) record(cf client.Frame) {
	f := Frame{Raw: cf.Raw, At: time.Now()}
	if jerr := json.Unmarshal(cf.Raw, &f.M); jerr != nil {
		f.M = map[string]any{"type": "<not json>", "error": jerr.Error()}
	}
	c.mu.Lock()
	c.frames = append(c.frames, f)
	close(c.sig)
	c.sig = make(chan struct{})
	c.mu.Unlock()
}

// event notes the end of the connection (the client's OnEvent): with
// reconnecting off there is one.
func (c *Client) event(e client.Event) {
	if e.Kind != client.Disconnected {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return
	}
	c.closeErr = e.Err
	close(c.closed)
	close(c.sig)
	c.sig = make(chan struct{})
}

// NextRid returns a fresh request id.
func (c *Client) NextRid() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rid++
	return fmt.Sprintf("%s-r%d", c.Player, c.rid)
}

// SendErr sends v (a map, a struct or raw []byte / string) as one text frame.
func (c *Client) SendErr(v any) error {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return c.cl.SendRaw(b)
}

// Send sends one frame, failing the test on a write error.
func (c *Client) Send(t testing.TB, v any) {
	t.Helper()
	if err := c.SendErr(v); err != nil {
		t.Fatalf("%s: send %v: %v", c.Player, v, err)
	}
}

// Req sends {"type": typ, "rid": <fresh>} plus fields and returns the rid.
func (c *Client) Req(t testing.TB, typ string, kv ...string) string {
	t.Helper()
	rid := c.NextRid()
	m := map[string]any{"type": typ, "rid": rid}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	c.Send(t, m)
	return rid
}

// NextErr returns the very next unread frame.
func (c *Client) NextErr(d time.Duration) (Frame, error) {
	deadline := time.After(d)
	for {
		c.mu.Lock()
		if c.cursor < len(c.frames) {
			f := c.frames[c.cursor]
			c.cursor++
			c.mu.Unlock()
			return f, nil
		}
		sig, closeErr := c.sig, c.closeErr
		c.mu.Unlock()
		if closeErr != nil {
			return Frame{}, fmt.Errorf("connection closed: %w", closeErr)
		}
		select {
		case <-sig:
		case <-deadline:
			return Frame{}, fmt.Errorf("no frame within %s", d)
		}
	}
}

// Next returns the very next unread frame, failing the test when none comes
// within DefaultWait.
func (c *Client) Next(t testing.TB) Frame {
	t.Helper()
	f, err := c.NextErr(DefaultWait)
	if err != nil {
		t.Fatalf("%s: next frame: %v\nframes so far:\n%s", c.Player, err, c.Dump())
	}
	return f
}

// NextIs returns the very next frame and fails unless it has type typ.
func (c *Client) NextIs(t testing.TB, typ string) Frame {
	t.Helper()
	f := c.Next(t)
	if f.Type() != typ {
		t.Fatalf("%s: next frame is %s, want type %s\nframes so far:\n%s", c.Player, f, typ, c.Dump())
	}
	return f
}

// ExpectFuncErr reads frames until pred accepts one, within d.
func (c *Client) ExpectFuncErr(d time.Duration, what string, pred func(Frame) bool) (Frame, error) {
	deadline := time.Now().Add(d)
	var skipped []string
	for {
		left := time.Until(deadline)
		if left <= 0 {
			left = time.Millisecond
		}
		f, err := c.NextErr(left)
		if err != nil {
			return Frame{}, fmt.Errorf("%s: waiting for %s: %w; skipped: [%s]", c.Player, what, err, strings.Join(skipped, ", "))
		}
		if pred(f) {
			return f, nil
		}
		skipped = append(skipped, f.String())
	}
}

// ExpectErr reads frames until one of type typ arrives within d.
func (c *Client) ExpectErr(typ string, d time.Duration) (Frame, error) {
	return c.ExpectFuncErr(d, typ, func(f Frame) bool { return f.Type() == typ })
}

// Expect reads frames until one of type typ arrives (DefaultWait), failing
// the test with the frames it saw otherwise.
func (c *Client) Expect(t testing.TB, typ string) Frame {
	t.Helper()
	f, err := c.ExpectErr(typ, DefaultWait)
	if err != nil {
		t.Fatalf("%v\nall frames:\n%s", err, c.Dump())
	}
	return f
}

// ExpectRid waits for a frame of type typ carrying rid.
func (c *Client) ExpectRid(t testing.TB, typ, rid string) Frame {
	t.Helper()
	f, err := c.ExpectFuncErr(DefaultWait, typ+" rid="+rid, func(f Frame) bool { return f.Type() == typ && f.Str("rid") == rid })
	if err != nil {
		t.Fatalf("%v\nall frames:\n%s", err, c.Dump())
	}
	return f
}

// ExpectError waits for an error frame with rid and returns it after
// checking its code.
func (c *Client) ExpectError(t testing.TB, rid string, code protocol.Code) Frame {
	t.Helper()
	f := c.ExpectRid(t, protocol.TypeError, rid)
	if f.Str("code") != string(code) {
		t.Fatalf("%s: error %s, want code %s", c.Player, f, code)
	}
	if f.Str("message") == "" {
		t.Errorf("%s: error without a message: %s", c.Player, f)
	}
	return f
}

// ExpectClose waits until the server closes the connection and checks the
// close code. Unread frames stay readable.
func (c *Client) ExpectClose(t testing.TB, code websocket.StatusCode) {
	t.Helper()
	select {
	case <-c.closed:
	case <-time.After(DefaultWait):
		t.Fatalf("%s: connection not closed within %s\nframes:\n%s", c.Player, DefaultWait, c.Dump())
	}
	c.mu.Lock()
	err := c.closeErr
	c.mu.Unlock()
	if got := websocket.CloseStatus(err); got != code {
		t.Fatalf("%s: closed with %v (%v), want close code %d", c.Player, got, err, code)
	}
}

// Closed is closed when the connection ended.
func (c *Client) Closed() <-chan struct{} { return c.closed }

// CloseErr is the read error that ended the connection.
func (c *Client) CloseErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Frames returns every frame received so far, welcome included.
func (c *Client) Frames() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.frames...)
}

// Dump renders every frame received, one a line, the unread ones marked.
func (c *Client) Dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for i, f := range c.frames {
		mark := "  "
		if i >= c.cursor {
			mark = "> "
		}
		fmt.Fprintf(&b, "%s%s %s\n", mark, f.At.Format("15:04:05.000"), f.Raw)
	}
	if c.closeErr != nil {
		fmt.Fprintf(&b, "  closed: %v\n", c.closeErr)
	}
	return b.String()
}

// Close closes the connection with 1000 and waits briefly for the server's
// close frame.
func (c *Client) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		_ = c.cl.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		_ = c.cl.CloseNow()
	}
	select {
	case <-c.closed:
	case <-ctx.Done():
	}
}

// CloseNow drops the TCP connection without a close handshake.
func (c *Client) CloseNow() {
	_ = c.cl.CloseNow()
}

// Sync sends sync and returns the state reply.
func (c *Client) Sync(t testing.TB) Frame {
	t.Helper()
	rid := c.Req(t, protocol.TypeSync)
	return c.ExpectRid(t, protocol.TypeState, rid)
}

// StateName is the name in a welcome, state or error frame's state object.
func StateName(f Frame) string {
	s := f.Obj("state")
	name, _ := s["name"].(string)
	return name
}

// StateField is one field of a frame's state object.
func StateField(f Frame, k string) string {
	s := f.Obj("state")
	v, _ := s[k].(string)
	return v
}
