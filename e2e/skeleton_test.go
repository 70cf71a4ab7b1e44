package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

func TestWalkingSkeleton(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"standalone", "embedded"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			opts := NodeOptions{}
			if mode == "standalone" {
				opts = StandaloneBackend(t).Apply(opts)
			}
			node := StartNode(t, opts)
			walkingSkeleton(t, node)
		})
	}
}

func checkWelcome(t *testing.T, c *Client, node *Node, state string) {
	t.Helper()
	w := c.Welcome
	var got protocol.Welcome
	w.Decode(t, &got)
	if got.Protocol != protocol.Subprotocol || got.SessionID == "" || got.PlayerID != c.Player || got.NodeID != node.ID {
		t.Errorf("%s: welcome %s: want protocol %q, a session_id, player_id %q, node_id %q", c.Player, w, protocol.Subprotocol, c.Player, node.ID)
	}
	if d := time.Since(time.UnixMilli(got.ServerTimeMs)); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("%s: welcome server_time_ms %d is %s off the local clock", c.Player, got.ServerTimeMs, d)
	}
	if got.State.Name != state {
		t.Errorf("%s: welcome state %q, want %q: %s", c.Player, got.State.Name, state, w)
	}
}

func walkingSkeleton(t *testing.T, node *Node) {
	a := Dial(t, node, "alice", 1000, "dev-a")
	b := Dial(t, node, "bob", 1010, "dev-b")
	checkWelcome(t, a, node, "idle")
	checkWelcome(t, b, node, "idle")
	if a.Welcome.Str("session_id") == b.Welcome.Str("session_id") {
		t.Errorf("two connections share session_id %q", a.Welcome.Str("session_id"))
	}

	// Errors while idle, each with its rid echoed.
	rid := a.Req(t, "dance")
	a.ExpectError(t, rid, protocol.CodeUnknownType)
	a.Send(t, "this is not json")
	if f := a.Expect(t, protocol.TypeError); f.Str("code") != string(protocol.CodeBadRequest) {
		t.Errorf("not JSON: got %s, want BAD_REQUEST", f)
	}
	a.Send(t, map[string]any{"type": "enqueue", "rid": "bad-mode-type", "mode": 5})
	a.ExpectError(t, "bad-mode-type", protocol.CodeBadRequest)
	rid = a.Req(t, protocol.TypeEnqueue, "mode", "no-such-mode")
	a.ExpectError(t, rid, protocol.CodeUnknownMode)
	rid = a.Req(t, protocol.TypeCancel)
	if f := a.ExpectError(t, rid, protocol.CodeInvalidState); StateName(f) != "idle" {
		t.Errorf("cancel while idle: state %v, want name idle: %s", f.Obj("state"), f)
	}
	rid = a.Req(t, protocol.TypeLoadingComplete, "match_id", "nope")
	if f := a.ExpectError(t, rid, protocol.CodeInvalidState); StateName(f) != "idle" {
		t.Errorf("loading_complete while idle: state %v, want idle", f.Obj("state"))
	}

	// Enqueue, and an idempotent repeat.
	rid = a.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q1 := a.ExpectRid(t, protocol.TypeQueued, rid)
	if q1.Str("mode") != "duel" || q1.Str("ticket_id") == "" || q1.Bool("requeued") {
		t.Errorf("queued: %s", q1)
	}
	if d := time.Since(time.UnixMilli(q1.Int("queued_at_ms"))); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("queued_at_ms %d is %s off", q1.Int("queued_at_ms"), d)
	}
	rid = a.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q2 := a.ExpectRid(t, protocol.TypeQueued, rid)
	if q2.Str("ticket_id") != q1.Str("ticket_id") {
		t.Errorf("repeated enqueue: ticket %q, want the same %q", q2.Str("ticket_id"), q1.Str("ticket_id"))
	}
	if q2.Int("queued_at_ms") != q1.Int("queued_at_ms") {
		t.Errorf("repeated enqueue: queued_at_ms %d, want %d", q2.Int("queued_at_ms"), q1.Int("queued_at_ms"))
	}
	st := a.Sync(t)
	if StateName(st) != "queued" || StateField(st, "ticket_id") != q1.Str("ticket_id") || StateField(st, "mode") != "duel" {
		t.Errorf("sync while queued: %s", st)
	}

	// The second player completes the match.
	rid = b.Req(t, protocol.TypeEnqueue, "mode", "duel")
	b.ExpectRid(t, protocol.TypeQueued, rid)
	fa := a.Expect(t, protocol.TypeMatchFound)
	fb := b.Expect(t, protocol.TypeMatchFound)
	match := fa.Str("match_id")
	if match == "" || fb.Str("match_id") != match {
		t.Fatalf("match_found ids differ: %s / %s", fa, fb)
	}
	if teamsKey(fa.Teams()) != teamsKey(fb.Teams()) {
		t.Errorf("teams differ: %v / %v", fa.Teams(), fb.Teams())
	}
	members := slices.Concat(fa.Teams()...)
	slices.Sort(members)
	if !slices.Equal(members, []string{"alice", "bob"}) || len(fa.Teams()) != 2 {
		t.Errorf("teams %v, want two teams of alice and bob", fa.Teams())
	}
	if dl := fa.Int("loading_deadline_ms"); dl <= time.Now().UnixMilli() {
		t.Errorf("loading_deadline_ms %d is not in the future", dl)
	}
	if fa.Str("mode") != "duel" {
		t.Errorf("match_found mode %q", fa.Str("mode"))
	}

	// Requests that do not fit "loading".
	rid = a.Req(t, protocol.TypeLoadingComplete, "match_id", "not-"+match)
	if f := a.ExpectError(t, rid, protocol.CodeInvalidState); StateName(f) != "loading" || StateField(f, "match_id") != match {
		t.Errorf("loading_complete for a wrong match: state %v, want loading %s", f.Obj("state"), match)
	}
	rid = a.Req(t, protocol.TypeEnqueue, "mode", "duel")
	a.ExpectError(t, rid, protocol.CodeInvalidState)
	st = a.Sync(t)
	if StateName(st) != "loading" || StateField(st, "match_id") != match {
		t.Errorf("sync while loading: %s", st)
	}

	// alice loads.
	rid = a.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	ls := a.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	if !slices.Equal(ls.Strings("ready"), []string{"alice"}) || !slices.Equal(ls.Strings("waiting"), []string{"bob"}) {
		t.Errorf("alice's loading_status: %s, want ready [alice] waiting [bob]", ls)
	}
	lsb := b.Expect(t, protocol.TypeLoadingStatus)
	if lsb.Str("match_id") != match || !slices.Equal(lsb.Strings("ready"), []string{"alice"}) || lsb.Str("rid") != "" {
		t.Errorf("bob's loading_status: %s", lsb)
	}
	// A repeat is idempotent: same reply, nothing else.
	rid = a.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	ls2 := a.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	if !slices.Equal(ls2.Strings("ready"), []string{"alice"}) {
		t.Errorf("repeated loading_complete: %s", ls2)
	}

	// bob loads: his reply comes before match_ready.
	rid = b.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	lsb2 := b.NextIs(t, protocol.TypeLoadingStatus)
	if lsb2.Str("rid") != rid || len(lsb2.Strings("waiting")) != 0 || len(lsb2.Strings("ready")) != 2 {
		t.Errorf("bob's reply: %s, want rid %s, everyone ready", lsb2, rid)
	}
	for _, c := range []*Client{a, b} {
		mr := c.Expect(t, protocol.TypeMatchReady)
		if mr.Str("match_id") != match {
			t.Errorf("%s: match_ready %s", c.Player, mr)
		}
		if v, ok := mr.M["server"]; !ok || v != nil {
			t.Errorf("%s: match_ready.server = %v (present %v), want null", c.Player, v, ok)
		}
	}

	// Back to idle.
	for _, c := range []*Client{a, b} {
		st := c.Sync(t)
		if StateName(st) != "idle" {
			t.Errorf("%s: sync after match_ready: %s", c.Player, st)
		}
	}
	rid = a.Req(t, protocol.TypePing)
	pong := a.ExpectRid(t, protocol.TypePong, rid)
	if d := time.Since(time.UnixMilli(pong.Int("server_time_ms"))); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("pong server_time_ms off by %s: %s", d, pong)
	}
	rid = a.Req(t, protocol.TypeCancel)
	a.ExpectError(t, rid, protocol.CodeInvalidState)

	CheckInvariants(t, []*Client{a, b}, CheckOptions{EveryonePlays: true})

	// Admin endpoints.
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := node.Get(t, p); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
	WaitMetric(t, []*Node{node}, `matchd_matches_formed_total{mode="duel"}`, 1, 5*time.Second)
	m := node.Metrics(t)
	for series, want := range map[string]float64{
		`matchd_matches_formed_total{mode="duel"}`:   1,
		`matchd_matches_started_total{mode="duel"}`:  1,
		`matchd_tickets_enqueued_total{mode="duel"}`: 2,
		`matchd_sessions`: 2,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}

	// Refused handshakes.
	for _, q := range []string{"player_id=bad%20id", "player_id=", "", "player_id=" + strings.Repeat("x", 65),
		"player_id=ok&rating=abc", "player_id=ok&device_id=bad%2Fdev"} {
		code, body := Handshake(t, node, q)
		var e protocol.HTTPError
		if code != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Code != protocol.CodeBadRequest || e.Message == "" {
			t.Errorf("handshake ?%s: %d %s, want 400 {\"code\":\"BAD_REQUEST\",...}", q, code, body)
		}
	}

	// Frame size limit: exactly max_message_bytes is accepted, one more
	// closes with 1009.
	c := Dial(t, node, "carol", 1000, "")
	const limit = 4096
	c.Send(t, padded(t, "fits", limit))
	pong = c.ExpectRid(t, protocol.TypePong, "fits")
	_ = pong
	c.Send(t, padded(t, "too-big", limit+1))
	c.ExpectClose(t, websocket.StatusMessageTooBig)
}

// padded returns a ping frame with rid of exactly n bytes.
func padded(t *testing.T, rid string, n int) []byte {
	t.Helper()
	base, _ := json.Marshal(map[string]any{"type": "ping", "rid": rid, "pad": ""})
	if len(base) > n {
		t.Fatalf("cannot pad to %d", n)
	}
	b, _ := json.Marshal(map[string]any{"type": "ping", "rid": rid, "pad": strings.Repeat("x", n-len(base))})
	if len(b) != n {
		t.Fatalf("padded frame is %d bytes, want %d", len(b), n)
	}
	return b
}
