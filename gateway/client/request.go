package client

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// AppendRequest appends m as the JSON text frame a client sends: type
// first, then mode, match_id, latencies, player_id, party_id, open (when
// true: false is the server's default) and rid when set. Strings are escaped as JSON
// requires (quotes, backslashes, control characters) and otherwise copied
// as they are, so a request costs no reflection and, into a reused
// buffer, no allocation.
func AppendRequest(dst []byte, m protocol.ClientMessage) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, m.Type)
	if m.Mode != "" {
		dst = append(dst, `,"mode":`...)
		dst = AppendString(dst, m.Mode)
	}
	if m.MatchID != "" {
		dst = append(dst, `,"match_id":`...)
		dst = AppendString(dst, m.MatchID)
	}
	if len(m.Latencies) > 0 {
		dst = AppendLatencies(append(dst, `,"latencies":`...), m.Latencies)
	}
	if m.PlayerID != "" {
		dst = append(dst, `,"player_id":`...)
		dst = AppendString(dst, m.PlayerID)
	}
	if m.PartyID != "" {
		dst = append(dst, `,"party_id":`...)
		dst = AppendString(dst, m.PartyID)
	}
	if m.Open {
		dst = append(dst, `,"open":true`...)
	}
	if m.Rid != "" {
		dst = append(dst, `,"rid":`...)
		dst = AppendString(dst, m.Rid)
	}
	return append(dst, '}')
}

// AppendLatencies appends an enqueue's latencies as a JSON object, regions
// in name order; a value that is not a finite number >= 0 is left out (the
// server would refuse the frame).
func AppendLatencies(dst []byte, lat map[string]float64) []byte {
	names := make([]string, 0, len(lat))
	for r, v := range lat {
		if v >= 0 && !math.IsInf(v, 1) {
			names = append(names, r)
		}
	}
	slices.Sort(names)
	dst = append(dst, '{')
	for i, r := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(AppendString(dst, r), ':')
		dst = strconv.AppendFloat(dst, lat[r], 'f', -1, 64)
	}
	return append(dst, '}')
}

// AppendString appends s as a JSON string.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// Request sends m with a fresh rid and returns the reply, the frame that
// carries the same rid; an error reply is returned as an *Error (with the
// frame). It fails with ErrDisconnected at once while there is no
// connection, and when the connection drops before the reply: the request
// may then have been applied or not, which Sync tells. When ctx ends first
// it returns ctx's error, and the reply, if it comes, is only handed to
// Frames and OnFrame.
func (c *Client) Request(ctx context.Context, m protocol.ClientMessage) (Frame, error) {
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Frame{}, ErrClosed
	}
	conn := c.conn
	if conn == nil {
		c.mu.Unlock()
		return Frame{}, ErrDisconnected
	}
	c.rid++
	m.Rid = strconv.FormatUint(c.rid, 10)
	ch := make(chan result, 1)
	c.pending[m.Rid] = ch
	c.mu.Unlock()
	if err := c.write(conn, websocket.MessageText, AppendRequest(nil, m)); err != nil {
		c.forget(m.Rid)
		return Frame{}, fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	select {
	case r := <-ch:
		return r.f, r.err
	case <-ctx.Done():
		c.forget(m.Rid)
		return Frame{}, ctx.Err()
	}
}

func (c *Client) forget(rid string) {
	c.mu.Lock()
	delete(c.pending, rid)
	c.mu.Unlock()
}

// write sends one message within Options.WriteTimeout. The caller's
// context is not used for it: coder/websocket closes a connection whose
// write context ends mid-write, and a request's deadline should not cost
// the session its connection.
func (c *Client) write(conn *Conn, typ websocket.MessageType, p []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.o.WriteTimeout)
	defer cancel()
	return conn.Write(ctx, typ, p)
}

// Enqueue joins the queue of mode; the reply is queued (a repeat while
// queued in the same mode returns the same ticket).
func (c *Client) Enqueue(ctx context.Context, mode string) (Frame, error) {
	return c.Request(ctx, protocol.ClientMessage{Type: protocol.TypeEnqueue, Mode: mode})
}

// EnqueueWith joins the queue of a mode with regions, with the round trip
// (ms) this client measured to each region (docs/protocol.md section 9.5).
func (c *Client) EnqueueWith(ctx context.Context, mode string, latencies map[string]float64) (Frame, error) {
	return c.Request(ctx, protocol.ClientMessage{Type: protocol.TypeEnqueue, Mode: mode, Latencies: latencies})
}

// Cancel leaves the queue (reply dequeued, reason cancelled) or, while
// loading, the match: a dodge, which records a violation (reply
// match_cancelled, reason player_left).
func (c *Client) Cancel(ctx context.Context) (Frame, error) {
	return c.Request(ctx, protocol.ClientMessage{Type: protocol.TypeCancel})
}

// LoadingComplete reports that this client loaded the match; the reply is
// loading_status, and match_ready follows once every member has loaded.
func (c *Client) LoadingComplete(ctx context.Context, matchID string) (Frame, error) {
	return c.Request(ctx, protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: matchID})
}

// Sync asks for the server's view of the session; the reply is state, and
// State() follows it.
func (c *Client) Sync(ctx context.Context) (Frame, error) {
	return c.Request(ctx, protocol.ClientMessage{Type: protocol.TypeSync})
}

// Ping asks for a pong, which carries the server's clock
// (ServerTimeMs).
func (c *Client) Ping(ctx context.Context) (Frame, error) {
	return c.Request(ctx, protocol.ClientMessage{Type: protocol.TypePing})
}

// SendRaw sends p as one text message exactly as given (no rid added, no
// reply awaited): for frames this client does not know, and for tests of
// hostile input. It fails with ErrDisconnected while there is no
// connection.
func (c *Client) SendRaw(p []byte) error {
	return c.WriteMessage(websocket.MessageText, p)
}

// WriteMessage is SendRaw for either kind of message, binary included.
func (c *Client) WriteMessage(typ websocket.MessageType, p []byte) error {
	c.mu.Lock()
	conn, closed := c.conn, c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case conn == nil:
		return ErrDisconnected
	}
	return c.write(conn, typ, p)
}
