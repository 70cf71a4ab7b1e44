package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dialWelcome(t *testing.T, n *fakeNode, o DialOptions) (*Conn, Frame) {
	t.Helper()
	c, err := Dial(testCtx(t), n.URL(), o)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	var w Frame
	if err := c.ReadWelcome(testCtx(t), &w); err != nil {
		t.Fatalf("welcome: %v", err)
	}
	return c, w
}

// Each way of saying who connects reaches the handshake as the modes of
// docs/protocol.md section 2.2 expect it.
func TestDialIdentity(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	rating := 1500.5
	cases := []struct {
		name   string
		o      DialOptions
		query  map[string]string
		header string
		player string
	}{
		{"insecure", DialOptions{PlayerID: "alice", Rating: &rating, DeviceID: "dev-1"},
			map[string]string{"player_id": "alice", "rating": "1500.5", "device_id": "dev-1"}, "", "alice"},
		{"insecure without rating", DialOptions{PlayerID: "bob"},
			map[string]string{"player_id": "bob", "rating": "", "device_id": ""}, "", "bob"},
		{"token in the query", DialOptions{Token: "j.w.t"}, map[string]string{"token": "j.w.t", "player_id": ""}, "", "tok-j.w.t"},
		{"token in a header", DialOptions{Token: "j.w.t", TokenHeader: true}, map[string]string{"token": ""}, "Bearer j.w.t", "hdr-j.w.t"},
		{"raw query", DialOptions{PlayerID: "ignored", RawQuery: "player_id=raw&x=%zz"}, map[string]string{}, "", "raw"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, w := dialWelcome(t, n, tc.o)
			r := n.handshake(i)
			for k, want := range tc.query {
				if got := r.URL.Query().Get(k); got != want {
					t.Errorf("query %s = %q, want %q", k, got, want)
				}
			}
			if got := r.Header.Get("Authorization"); got != tc.header {
				t.Errorf("Authorization = %q, want %q", got, tc.header)
			}
			if got := r.Header.Get("Sec-WebSocket-Protocol"); got != protocol.Subprotocol {
				t.Errorf("offered subprotocol %q, want %q", got, protocol.Subprotocol)
			}
			if w.Type != protocol.TypeWelcome || w.PlayerID != tc.player || w.State == nil || w.State.Name != protocol.StateIdle {
				t.Errorf("welcome %+v, want one for %s, idle", w, tc.player)
			}
		})
	}
}

// A refused handshake is a *HandshakeError with the body's code; only a
// 5xx is worth another attempt.
func TestDialRefused(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	n.refuse = func(r *http.Request) (int, protocol.Code, string) {
		if r.URL.Query().Get("player_id") == "full" {
			return http.StatusServiceUnavailable, protocol.CodeUnavailable, "This node is full."
		}
		return http.StatusUnauthorized, protocol.CodeUnauthorized, "the player token is invalid or expired"
	}
	_, err := Dial(testCtx(t), n.URL(), DialOptions{Token: "bad"})
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 401 || he.Code != protocol.CodeUnauthorized || he.Message == "" || he.Temporary() {
		t.Fatalf("got %v, want a permanent 401 UNAUTHORIZED HandshakeError", err)
	}
	_, err = Dial(testCtx(t), n.URL(), DialOptions{PlayerID: "full"})
	if !errors.As(err, &he) || he.StatusCode != 503 || he.Code != protocol.CodeUnavailable || !he.Temporary() {
		t.Fatalf("got %v, want a temporary 503 UNAVAILABLE HandshakeError", err)
	}
	if !strings.Contains(string(he.Body), `"UNAVAILABLE"`) {
		t.Errorf("body %q lost", he.Body)
	}
}

func TestDialBadURL(t *testing.T) {
	for _, u := range []string{"ftp://x/ws", "://", "x"} {
		if _, err := Dial(testCtx(t), u, DialOptions{PlayerID: "a"}); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
}

// An http:// URL is dialled as ws://, as a browser's client would.
func TestDialHTTPScheme(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	c, err := Dial(testCtx(t), n.srv.URL+"/ws", DialOptions{PlayerID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.CloseNow()
}

// Raw frames go out exactly as given, text or binary, and the node's
// typed refusals come back in order.
func TestConnRawFrames(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	c, _ := dialWelcome(t, n, DialOptions{PlayerID: "raw"})
	ctx := testCtx(t)
	sends := []struct {
		typ  websocket.MessageType
		data string
		want protocol.Code
	}{
		{websocket.MessageBinary, "\x00\x01", protocol.CodeBadRequest},
		{websocket.MessageText, `{"type":"teleport","rid":"g1"}`, protocol.CodeUnknownType},
		{websocket.MessageText, `[1,2]`, protocol.CodeBadRequest},
		{websocket.MessageText, `{"type":"ping","rid":"ok"}`, ""},
	}
	for _, s := range sends {
		if err := c.Write(ctx, s.typ, []byte(s.data)); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	for _, s := range sends {
		if _, err := c.ReadMessage(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		var f Frame
		if err := DecodeFrame(buf.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		switch {
		case s.want == "" && f.Type != protocol.TypePong:
			t.Errorf("%q: got %s, want pong", s.data, buf.Bytes())
		case s.want != "" && (f.Type != protocol.TypeError || f.Code != s.want):
			t.Errorf("%q: got %s, want error %s", s.data, buf.Bytes(), s.want)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
	if got := <-n.lastConn(t).closed; got != websocket.StatusNormalClosure {
		t.Errorf("the node saw close %d, want 1000", got)
	}
}

func TestAppendRequest(t *testing.T) {
	for _, m := range []protocol.ClientMessage{
		{Type: protocol.TypeEnqueue, Mode: "duel", Rid: "1"},
		{Type: protocol.TypeEnqueue, Mode: "world", Rid: "2", Latencies: map[string]float64{"eu": 24.5, "us-east": 0, "asia": 1e6}},
		{Type: protocol.TypeLoadingComplete, MatchID: `m"1\` + "\x01ü"},
		{Type: protocol.TypeCancel},
		{Type: protocol.TypePartyCreate, Open: true, Rid: "3"},
		{Type: protocol.TypePartyCreate},
		{Type: protocol.TypePartyInvite, PlayerID: `b"ob\`, Rid: "4"},
		{Type: protocol.TypePartyJoin, PartyID: "pt-1"},
		{Type: protocol.TypePartyLeave, Rid: "5"},
	} {
		b := AppendRequest(nil, m)
		got, err := protocol.Decode(b)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("AppendRequest(%+v) = %s, decodes to %+v (%v)", m, b, got, err)
		}
	}
}
