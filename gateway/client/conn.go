package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// DialOptions say who connects and how (docs/protocol.md section 2.2).
// Insecure mode names the player in PlayerID, Rating and DeviceID; the
// hmac and jwks modes carry a JWT in Token.
type DialOptions struct {
	// PlayerID, Rating and DeviceID are auth.mode insecure's query
	// parameters; a nil Rating sends none (the server's default applies)
	// and an empty DeviceID sends none.
	PlayerID string
	Rating   *float64
	DeviceID string
	// Token is a player JWT (auth.mode hmac or jwks), sent as the token
	// query parameter, or as an Authorization header with TokenHeader.
	Token       string
	TokenHeader bool
	// RawQuery, when set, is the handshake's whole query string, sent as
	// is instead of the fields above: for tests of malformed handshakes.
	RawQuery string
	// Header is added to the handshake request.
	Header http.Header
	// HTTPClient makes the handshake (a source address, a socket option,
	// a transport shared by many connections); nil uses a default client.
	HTTPClient *http.Client
	// ReadLimit bounds one server frame in bytes; 0 means 1 MiB.
	ReadLimit int64
}

// Conn is one WebSocket connection to a node speaking matchd.v1: the
// transport under Client, and for tools that drive connections themselves
// (a load generator runs thousands with a goroutine each). It is a thin
// layer: it reads and writes whole messages and nothing else; the first
// message it reads is the welcome. Write, Close and CloseNow may be called
// from any goroutine; ReadMessage from one at a time.
type Conn struct {
	ws *websocket.Conn
}

// Dial opens a connection to a node's /ws URL (ws:// or wss://) and
// returns once the upgrade is done, before the welcome. A refused
// handshake is a *HandshakeError.
func Dial(ctx context.Context, nodeURL string, o DialOptions) (*Conn, error) {
	u, err := handshakeURL(nodeURL, o)
	if err != nil {
		return nil, err
	}
	hdr := o.Header
	if o.Token != "" && o.TokenHeader && o.RawQuery == "" {
		hdr = hdr.Clone()
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set("Authorization", "Bearer "+o.Token)
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:   o.HTTPClient,
		HTTPHeader:   hdr,
		Subprotocols: []string{protocol.Subprotocol},
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, handshakeError(resp)
		}
		return nil, fmt.Errorf("matchd: dial %s: %w", nodeURL, err)
	}
	if got := ws.Subprotocol(); got != protocol.Subprotocol {
		_ = ws.CloseNow()
		return nil, fmt.Errorf("matchd: dial %s: subprotocol %q, want %q", nodeURL, got, protocol.Subprotocol)
	}
	limit := o.ReadLimit
	if limit <= 0 {
		limit = 1 << 20
	}
	ws.SetReadLimit(limit)
	return &Conn{ws: ws}, nil
}

// handshakeURL adds the identity to the node's URL, and maps http(s) to
// ws(s) as browsers' clients accept either.
func handshakeURL(nodeURL string, o DialOptions) (string, error) {
	u, err := url.Parse(nodeURL)
	if err != nil {
		return "", fmt.Errorf("matchd: node URL %q: %w", nodeURL, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("matchd: node URL %q: want ws://, wss://, http:// or https://", nodeURL)
	}
	if o.RawQuery != "" {
		u.RawQuery = o.RawQuery
		return u.String(), nil
	}
	q := u.Query()
	if o.PlayerID != "" {
		q.Set("player_id", o.PlayerID)
	}
	if o.Rating != nil {
		q.Set("rating", strconv.FormatFloat(*o.Rating, 'f', -1, 64))
	}
	if o.DeviceID != "" {
		q.Set("device_id", o.DeviceID)
	}
	if o.Token != "" && !o.TokenHeader {
		q.Set("token", o.Token)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func handshakeError(resp *http.Response) *HandshakeError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	he := &HandshakeError{StatusCode: resp.StatusCode, Body: b, Header: resp.Header}
	var body protocol.HTTPError
	if json.Unmarshal(b, &body) == nil {
		he.Code, he.Message = body.Code, body.Message
	}
	return he
}

// ReadMessage reads the next whole message into buf (reset first) and
// returns its kind. The connection's end is an error that
// websocket.CloseStatus reads the close code from. With a context that
// can end, the library watches it during the read; context.Background()
// costs nothing per message.
func (c *Conn) ReadMessage(ctx context.Context, buf *bytes.Buffer) (websocket.MessageType, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return 0, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(r)
	return typ, err
}

// Write sends one message as is, text or binary: any bytes, valid frames
// or not.
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	return c.ws.Write(ctx, typ, p)
}

// Ping sends a WebSocket ping and waits for its pong, which arrives only
// while another goroutine is in ReadMessage.
func (c *Conn) Ping(ctx context.Context) error { return c.ws.Ping(ctx) }

// Close sends a close frame with code and reason and waits (up to five
// seconds) for the server's, then closes the connection.
func (c *Conn) Close(code websocket.StatusCode, reason string) error {
	return c.ws.Close(code, reason)
}

// CloseNow drops the connection without a close handshake.
func (c *Conn) CloseNow() error { return c.ws.CloseNow() }

// ReadWelcome reads the connection's first frame into f and checks that
// it is the welcome; an error frame in its place (the node could not
// attach the session) is returned as an *Error.
func (c *Conn) ReadWelcome(ctx context.Context, f *Frame) error {
	var buf bytes.Buffer
	if _, err := c.ReadMessage(ctx, &buf); err != nil {
		return fmt.Errorf("matchd: waiting for the welcome: %w", err)
	}
	if err := DecodeFrame(buf.Bytes(), f); err != nil {
		return fmt.Errorf("%w: %.100s", ErrNoWelcome, buf.Bytes())
	}
	f.Raw = buf.Bytes()
	switch f.Type {
	case protocol.TypeWelcome:
		return nil
	case protocol.TypeError:
		return f.Err()
	}
	return fmt.Errorf("%w: %.100s", ErrNoWelcome, buf.Bytes())
}
