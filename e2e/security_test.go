package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// jwtUnsigned builds a token with the given header (e.g. alg none) and
// claims, and sig as its signature part (often "").
func jwtUnsigned(header string, claims map[string]any, sig string) string {
	enc := base64.RawURLEncoding
	c, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(c) + "." + sig
}

// handshakeRefused performs a handshake that must be refused with 401
// UNAUTHORIZED before any upgrade.
func handshakeRefused(t *testing.T, n *Node, name, rawQuery string, header http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, n.WSURL(), client.DialOptions{RawQuery: rawQuery, Header: header})
	if err == nil {
		conn.CloseNow()
		t.Errorf("%s: the handshake was accepted, want 401", name)
		return
	}
	var he *client.HandshakeError
	if !errors.As(err, &he) {
		t.Errorf("%s: no HTTP refusal: %v", name, err)
		return
	}
	var e protocol.HTTPError
	if he.StatusCode != http.StatusUnauthorized || json.Unmarshal(he.Body, &e) != nil || e.Code != protocol.CodeUnauthorized || e.Message == "" {
		t.Errorf("%s: %d %s, want 401 {\"code\":\"UNAUTHORIZED\",\"message\":...}", name, he.StatusCode, he.Body)
	}
	if he.Header.Get("Upgrade") != "" {
		t.Errorf("%s: the refusal carries Upgrade: %q", name, he.Header.Get("Upgrade"))
	}
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// TestHMACAuthHostile extends TestHMACAuth: alg none, other algorithms and
// malformed tokens are refused, in the header as in the query; a valid
// token works in the header too; the token alone says who the player is
// (query parameters cannot override it); and a player cannot cancel, load
// or take over as another.
func TestHMACAuthHostile(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef-secret"
	n := StartNode(t, NodeOptions{Set: map[string]any{"auth.mode": "hmac", "auth.hmac_secret": secret}})
	exp := time.Now().Add(time.Hour).Unix()
	claims := func(sub string, rating float64) map[string]any {
		return map[string]any{"sub": sub, "exp": exp, "rating": rating, "device_id": "dev-" + sub}
	}
	tokA, tokB, tokC := jwtHS256(secret, claims("ha", 1000)), jwtHS256(secret, claims("hb", 5000)), jwtHS256(secret, claims("hc", 5000))

	// Refusals, each in the query and in the Authorization header.
	hs512 := func() string {
		// Signed with the right secret but HS512: only HS256 is accepted.
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT"}`))
		parts := strings.SplitN(jwtHS256(secret, claims("ha", 1000)), ".", 3)
		return h + "." + parts[1] + "." + parts[2]
	}()
	bad := map[string]string{
		"alg none":              jwtUnsigned(`{"alg":"none","typ":"JWT"}`, claims("ha", 1000), ""),
		"alg None":              jwtUnsigned(`{"alg":"None","typ":"JWT"}`, claims("ha", 1000), ""),
		"alg none with HS sig":  jwtUnsigned(`{"alg":"none","typ":"JWT"}`, claims("ha", 1000), strings.SplitN(tokA, ".", 3)[2]),
		"alg HS512":             hs512,
		"wrong signature":       jwtHS256("another-secret-0000000", claims("ha", 1000)),
		"tampered claims":       strings.SplitN(tokA, ".", 3)[0] + "." + strings.SplitN(tokB, ".", 3)[1] + "." + strings.SplitN(tokA, ".", 3)[2],
		"expired":               jwtHS256(secret, map[string]any{"sub": "ha", "exp": time.Now().Add(-time.Minute).Unix()}),
		"no exp":                jwtHS256(secret, map[string]any{"sub": "ha"}),
		"no sub":                jwtHS256(secret, map[string]any{"exp": exp}),
		"sub not a player id":   jwtHS256(secret, map[string]any{"sub": "a b/c", "exp": exp}),
		"not a jwt":             "not-a-token",
		"empty signature":       strings.SplitN(tokA, ".", 3)[0] + "." + strings.SplitN(tokA, ".", 3)[1] + ".",
		"two parts":             strings.SplitN(tokA, ".", 3)[0] + "." + strings.SplitN(tokA, ".", 3)[1],
		"rating not a number":   jwtHS256(secret, map[string]any{"sub": "ha", "exp": exp, "rating": "high"}),
		"device_id not a valid": jwtHS256(secret, map[string]any{"sub": "ha", "exp": exp, "device_id": "a b"}),
	}
	for name, tok := range bad {
		handshakeRefused(t, n, name+" (query)", "token="+tok, nil)
		handshakeRefused(t, n, name+" (header)", "", bearer(tok))
	}
	handshakeRefused(t, n, "no token, player_id only", "player_id=ha", nil)
	handshakeRefused(t, n, "Basic auth", "", http.Header{"Authorization": {"Basic aGE6aGE="}})
	handshakeRefused(t, n, "empty bearer", "", http.Header{"Authorization": {"Bearer "}})

	// A valid token in the query works (hb); a valid token in the header
	// works too (ha), and query parameters claiming another identity are
	// ignored: the token alone says who this is, and hb's session is not
	// taken over.
	b, err := DialWith(t, n, "", DialOptions{RawQuery: "token=" + tokB}, websocket.DialOptions{})
	if err != nil {
		t.Fatalf("valid token in the query: %v", err)
	}
	b.Player = "hb"
	if b.Welcome.Str("player_id") != "hb" {
		t.Fatalf("welcome %s, want hb", b.Welcome)
	}
	a, err := DialWith(t, n, "", DialOptions{RawQuery: "player_id=hb&rating=5000&device_id=dev-hb"}, websocket.DialOptions{HTTPHeader: bearer(tokA)})
	if err != nil {
		t.Fatalf("valid token in the header: %v", err)
	}
	a.Player = "ha"
	if a.Welcome.Str("player_id") != "ha" {
		t.Fatalf("token for ha with ?player_id=hb: welcome %s, want player_id ha", a.Welcome)
	}
	if f, err := b.NextErr(300 * time.Millisecond); err == nil {
		t.Errorf("hb got %s after ha connected with ?player_id=hb", f)
	}
	if !n.HasSession(t, "hb") || !n.HasSession(t, "ha") {
		t.Errorf("sessions ha and hb should both live")
	}

	// Both queue (ratings 1000 and 5000 never match). ha's cancel, even
	// naming hb's ticket, only cancels ha's.
	rid := b.Req(t, protocol.TypeEnqueue, "mode", "duel")
	tb := b.ExpectRid(t, protocol.TypeQueued, rid).Str("ticket_id")
	a.Send(t, map[string]any{"type": "enqueue", "rid": "a-enq", "mode": "duel", "player_id": "hb"})
	ta := a.ExpectRid(t, protocol.TypeQueued, "a-enq").Str("ticket_id")
	if ta == tb {
		t.Fatalf("ha's enqueue naming hb got hb's ticket %s", tb)
	}
	a.Send(t, map[string]any{"type": "cancel", "rid": "a-cancel", "player_id": "hb", "ticket_id": tb})
	if d := a.ExpectRid(t, protocol.TypeDequeued, "a-cancel"); d.Str("ticket_id") != ta {
		t.Errorf("ha's cancel naming hb's ticket: %s, want ha's ticket %s", d, ta)
	}
	if st := b.Sync(t); StateName(st) != "queued" || StateField(st, "ticket_id") != tb {
		t.Errorf("hb after ha's cancel: %s, want still queued with %s", st, tb)
	}

	// hb and hc are matched; ha cannot load or cancel (dodge) their match.
	c, err := DialWith(t, n, "", DialOptions{}, websocket.DialOptions{HTTPHeader: bearer(tokC)})
	if err != nil {
		t.Fatalf("hc: %v", err)
	}
	c.Player = "hc"
	rid = c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	c.ExpectRid(t, protocol.TypeQueued, rid)
	match := b.Expect(t, protocol.TypeMatchFound).Str("match_id")
	c.Expect(t, protocol.TypeMatchFound)
	rid = a.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	if e := a.ExpectError(t, rid, protocol.CodeInvalidState); StateName(e) != "idle" {
		t.Errorf("ha's loading_complete for hb's match: %s, want INVALID_STATE with state idle", e)
	}
	rid = a.Req(t, protocol.TypeCancel)
	a.ExpectError(t, rid, protocol.CodeInvalidState)
	a.Send(t, map[string]any{"type": "loading_complete", "rid": "a-lc2", "match_id": match, "player_id": "hb"})
	a.ExpectError(t, "a-lc2", protocol.CodeInvalidState)
	// Nothing reached the members: the first loading_status they see is
	// hb's own.
	rid = b.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	ls := b.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	if !slices.Equal(ls.Strings("ready"), []string{"hb"}) || !slices.Equal(ls.Strings("waiting"), []string{"hc"}) {
		t.Errorf("after hb loaded: %s, want ready [hb] waiting [hc] (ha's attempts must not count)", ls)
	}
	if f := c.Next(t); f.Type() != protocol.TypeLoadingStatus || !slices.Equal(f.Strings("ready"), []string{"hb"}) {
		t.Errorf("hc's next frame: %s, want hb's loading_status", f)
	}
	rid = c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	b.Expect(t, protocol.TypeMatchReady)
	c.Expect(t, protocol.TypeMatchReady)
	for _, cl := range []*Client{b, c} {
		for _, f := range cl.Frames() {
			if f.Type() == protocol.TypeMatchCancelled || f.Type() == protocol.TypeError {
				t.Errorf("%s got %s", cl.Player, f)
			}
		}
	}
	CheckInvariants(t, []*Client{b, c}, CheckOptions{EveryonePlays: true})
}

// garbageFrame is one hostile frame and the error code it must get.
type garbageFrame struct {
	data   []byte
	binary bool
	code   protocol.Code
	rid    bool // the reply echoes the frame's rid
}

// garbageCases is a cycle of hostile frames: invalid JSON, non-objects,
// unknown types, ill-typed fields, huge numbers, binary frames. In a case
// with rid set, "RID" in the frame stands for a fresh rid that the error
// must echo.
var garbageCases = func() []garbageFrame {
	bad, unknown := protocol.CodeBadRequest, protocol.CodeUnknownType
	raw := func(code protocol.Code, s string) garbageFrame { return garbageFrame{data: []byte(s), code: code} }
	withRid := func(code protocol.Code, fields string) garbageFrame {
		return garbageFrame{data: []byte(`{"rid":"RID",` + fields + `}`), code: code, rid: true}
	}
	return []garbageFrame{
		raw(bad, "not json at all"),
		raw(bad, "{"),
		raw(bad, ""),
		raw(bad, "[1,2,3]"),
		raw(bad, `"a string"`),
		raw(bad, "null"),
		raw(bad, "123456789012345678901234567890e999999"),
		raw(bad, `{"type":"ping"} {"type":"ping"}`),
		raw(bad, `{"type":"ping",}`),
		raw(bad, strings.Repeat("[", 1500)+strings.Repeat("]", 1500)),
		raw(bad, `{"type":"ping","x":`+strings.Repeat(`{"a":`, 600)+"1"+strings.Repeat("}", 599)),
		raw(bad, "\xff\xfe\xfd"),
		raw(bad, `{"rid":123,"type":"ping"}`),
		raw(bad, `{"rid":"`+strings.Repeat("r", 65)+`","type":"ping"}`),
		withRid(bad, `"nothing":"here"`),
		withRid(bad, `"type":5`),
		withRid(bad, `"type":null`),
		withRid(bad, `"type":1e999999`),
		withRid(bad, `"type":["ping"]`),
		withRid(unknown, `"type":"warp_drive"`),
		withRid(unknown, `"type":""`),
		withRid(unknown, `"type":"PING"`),
		withRid(unknown, `"type":"welcome"`),
		withRid(bad, `"type":"enqueue"`),
		withRid(bad, `"type":"enqueue","mode":42`),
		withRid(bad, `"type":"enqueue","mode":1e400`),
		withRid(bad, `"type":"enqueue","mode":-99999999999999999999999999999`),
		withRid(bad, `"type":"enqueue","mode":""`),
		withRid(bad, `"type":"enqueue","mode":{"name":"duel"}`),
		withRid(bad, `"type":"enqueue","mode":"`+strings.Repeat("m", 129)+`"`),
		withRid(bad, `"type":"loading_complete"`),
		withRid(bad, `"type":"loading_complete","match_id":[1]`),
		withRid(bad, `"type":"loading_complete","match_id":12345678901234567890e300`),
		{data: []byte(`{"type":"ping","rid":"b"}`), binary: true, code: bad},
		{data: []byte{0, 1, 2, 0xff, 0xfe}, binary: true, code: bad},
	}
}()

// garbage returns the i-th hostile frame, its rid "g<i>" where it has one.
func garbage(i int) garbageFrame {
	g := garbageCases[i%len(garbageCases)]
	if g.rid {
		g.data = []byte(strings.Replace(string(g.data), "RID", fmt.Sprintf("g%d", i), 1))
	}
	return g
}

// sendRaw writes one frame, text or binary.
func (c *Client) sendRaw(data []byte, binary bool) error {
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.conn.Write(ctx, typ, data)
}

// TestHostileClientsDoNotHurtOthers: while honest pairs play full matches
// on one node, hostile clients on the same node send an oversized frame
// (closed 1009), flood (RATE_LIMITED, then closed 1008), never read (and
// are disconnected), and send 1,000 garbage frames (each gets a typed
// error; the connection stays open and still answers ping). Every honest
// match completes quickly, /readyz stays 200, and the honest frames pass
// the invariants.
func TestHostileClientsDoNotHurtOthers(t *testing.T) {
	t.Parallel()
	const perSecond, burst = 200, 40
	n := StartNode(t, NodeOptions{Set: map[string]any{
		"session.rate_limit.per_second": perSecond, "session.rate_limit.burst": burst,
		// A queue of 64 frames: the flooder reads every reply, but on a
		// busy machine its reader can fall a few frames behind 2,000 a
		// second, and it must be closed for abuse, not as a slow reader.
		"server.max_message_bytes": 4096, "server.write_timeout": "1s", "server.ping_interval": "1s",
		"server.send_queue": 64,
	}})

	var wg sync.WaitGroup
	hostile := func(name string, fn func() error) {
		wg.Go(func() {
			start := time.Now()
			if err := fn(); err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			t.Logf("%s: done in %s", name, time.Since(start).Round(time.Millisecond))
		})
	}
	closeCode := func(c *Client, d time.Duration) (websocket.StatusCode, error) {
		select {
		case <-c.Closed():
			return websocket.CloseStatus(c.CloseErr()), nil
		case <-time.After(d):
			return -1, fmt.Errorf("%s: not closed within %s", c.Player, d)
		}
	}

	// (a) Oversized frames, a few times over the run: exactly
	// max_message_bytes is served, one byte more closes with 1009.
	hostile("oversized", func() error {
		for i := range 3 {
			c, err := DialErr(t, n, fmt.Sprintf("big%d", i), DialOptions{})
			if err != nil {
				return err
			}
			exact := `{"type":"ping","rid":"exact","pad":"`
			exact += strings.Repeat("p", 4096-len(exact)-2) + `"}`
			if err := c.SendErr(exact); err != nil {
				return err
			}
			if f, err := c.ExpectFuncErr(DefaultWait, "pong exact", func(f Frame) bool { return f.Str("rid") == "exact" }); err != nil || f.Type() != protocol.TypePong {
				return fmt.Errorf("a frame of exactly 4096 bytes: %s, %v", f, err)
			}
			_ = c.SendErr(strings.Repeat(" ", 4097-len(`{"type":"ping"}`)) + `{"type":"ping"}`)
			if code, err := closeCode(c, DefaultWait); err != nil || code != websocket.StatusMessageTooBig {
				return fmt.Errorf("after a 4097-byte frame: close %v (%v), want 1009", code, c.CloseErr())
			}
			time.Sleep(1500 * time.Millisecond)
		}
		return nil
	})

	// (b) Flooders: a burst past the limit gets RATE_LIMITED (with
	// retry_after_ms, the connection stays open); flooding on at ten times
	// the limit for longer than 5 s then closes with 1008.
	hostile("flooder", func() error {
		for i := range 2 {
			c, err := DialErr(t, n, fmt.Sprintf("flood%d", i), DialOptions{})
			if err != nil {
				return err
			}
			for j := range burst + 20 {
				if err := c.SendErr(fmt.Sprintf(`{"type":"ping","rid":"b%d"}`, j)); err != nil {
					return err
				}
			}
			limited := 0
			for range burst + 20 {
				f, err := c.NextErr(DefaultWait)
				if err != nil {
					return fmt.Errorf("%s: a burst of %d: %v\n%s", c.Player, burst+20, err, c.Dump())
				}
				if f.Str("code") == string(protocol.CodeRateLimited) {
					limited++
					if f.Int("retry_after_ms") <= 0 || !strings.HasPrefix(f.Str("rid"), "b") {
						return fmt.Errorf("%s: RATE_LIMITED without retry_after_ms or rid: %s", c.Player, f)
					}
				} else if f.Type() != protocol.TypePong {
					return fmt.Errorf("%s: %s in reply to a ping", c.Player, f)
				}
			}
			if limited == 0 {
				return fmt.Errorf("%s: %d pings at once past a burst of %d, none limited", c.Player, burst+20, burst)
			}
			sent := 0
			pace := time.NewTicker(time.Second / (10 * perSecond))
			for deadline := time.Now().Add(abuseAfter + 3*time.Second); time.Now().Before(deadline); {
				<-pace.C
				if c.SendErr(`{"type":"ping"}`) != nil {
					break
				}
				sent++
				select {
				case <-c.Closed():
				default:
					continue
				}
				break
			}
			pace.Stop()
			code, err := closeCode(c, DefaultWait)
			if err != nil || code != websocket.StatusPolicyViolation {
				return fmt.Errorf("%s: flooding %d frames: close %v (%v), want 1008", c.Player, sent, code, c.CloseErr())
			}
			time.Sleep(2 * time.Second)
		}
		return nil
	})

	// (c) A slow reader: it asks for many replies (within the limit) and
	// never reads one, nor the server's pings. It is disconnected.
	hostile("slow reader", func() error {
		d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			}); err != nil {
				return err
			}
			return serr
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := client.Dial(ctx, n.WSURL(), client.DialOptions{PlayerID: "slow",
			HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}})
		if err != nil {
			return err
		}
		defer conn.CloseNow()
		start := time.Now()
		rid := strings.Repeat("s", 56)
		sent := 0
		for time.Since(start) < 15*time.Second {
			wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := conn.Write(wctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"ping","rid":"%s%06d"}`, rid, sent))
			wcancel()
			if err != nil {
				break
			}
			sent++
			time.Sleep(time.Second / (perSecond / 2))
			if sent%25 == 0 && !sessionConnected(n, "slow") {
				break
			}
		}
		if sessionConnected(n, "slow") {
			return fmt.Errorf("a client that never reads is still connected after %s (%d requests)", time.Since(start).Round(time.Millisecond), sent)
		}
		t.Logf("slow reader: disconnected after %s and %d requests", time.Since(start).Round(time.Millisecond), sent)
		return nil
	})

	// (d) 1,000 garbage frames, paced under the rate limit in batches of
	// five: each gets its typed error, in order; then ping still works.
	hostile("garbage", func() error {
		c, err := DialErr(t, n, "garbage", DialOptions{})
		if err != nil {
			return err
		}
		const total, batch = 1000, 5
		pace := time.Second * batch / (perSecond * 9 / 10)
		counts := map[protocol.Code]int{}
		for i := 0; i < total; i += batch {
			next := time.Now().Add(pace)
			for j := i; j < i+batch; j++ {
				g := garbage(j)
				if err := c.sendRaw(g.data, g.binary); err != nil {
					return fmt.Errorf("frame %d: %v", j, err)
				}
			}
			for j := i; j < i+batch; j++ {
				g := garbage(j)
				f, err := c.NextErr(DefaultWait)
				if err != nil {
					return fmt.Errorf("reply to frame %d (%q): %v", j, g.data, err)
				}
				wantRid := ""
				if g.rid {
					wantRid = fmt.Sprintf("g%d", j)
				}
				if f.Type() != protocol.TypeError || f.Str("code") != string(g.code) || f.Str("rid") != wantRid || f.Str("message") == "" {
					return fmt.Errorf("frame %d %q: reply %s, want error %s rid %q with a message", j, trim(g.data), f, g.code, wantRid)
				}
				counts[g.code]++
			}
			time.Sleep(time.Until(next))
		}
		if err := c.SendErr(`{"type":"ping","rid":"still-there","n":1e999999}`); err != nil {
			return err
		}
		if f, err := c.NextErr(DefaultWait); err != nil || f.Type() != protocol.TypePong || f.Str("rid") != "still-there" {
			return fmt.Errorf("ping after the garbage: %s, %v", f, err)
		}
		t.Logf("garbage: %d frames, replies %v", total, counts)
		return nil
	})

	hostileDone := make(chan struct{})
	go func() { wg.Wait(); close(hostileDone) }()

	// Honest pairs play full matches, one after another, until every
	// hostile client is done.
	const bound = 3 * time.Second
	var honest []*Client
	var took []time.Duration
	for round := 0; ; round++ {
		a := Dial(t, n, fmt.Sprintf("honest%da", round), 1000, "")
		b := Dial(t, n, fmt.Sprintf("honest%db", round), 1000, "")
		honest = append(honest, a, b)
		start := time.Now()
		match, _ := matchPair(t, a, b)
		for _, c := range []*Client{a, b} {
			rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
			c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
		}
		a.Expect(t, protocol.TypeMatchReady)
		b.Expect(t, protocol.TypeMatchReady)
		d := time.Since(start)
		took = append(took, d)
		if d > bound {
			t.Errorf("honest match %d took %s (enqueue to match_ready), want under %s", round, d.Round(time.Millisecond), bound)
		}
		if code, body := n.Get(t, "/readyz"); code != http.StatusOK {
			t.Errorf("readyz during the attack: %d %s", code, body)
		}
		select {
		case <-hostileDone:
		case <-time.After(200 * time.Millisecond):
			continue
		}
		if round >= 2 {
			break
		}
	}
	slices.Sort(took)
	t.Logf("%d honest matches; enqueue to match_ready: min %s, median %s, max %s", len(took),
		took[0].Round(time.Millisecond), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	for _, c := range honest {
		for _, f := range c.Frames() {
			if f.Type() == protocol.TypeError || f.Type() == protocol.TypeMatchCancelled || f.Type() == protocol.TypeDequeued {
				t.Errorf("honest %s got %s", c.Player, f)
			}
		}
		select {
		case <-c.Closed():
			t.Errorf("honest %s was disconnected: %v", c.Player, c.CloseErr())
		default:
		}
	}
	CheckInvariants(t, honest, CheckOptions{EveryonePlays: true})
	if code, body := n.Get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("readyz after the attack: %d %s", code, body)
	}
	last := Dial(t, n, "afterwards", 1000, "")
	rid := last.Req(t, protocol.TypePing)
	last.ExpectRid(t, protocol.TypePong, rid)
}

func trim(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// sessionConnected reports whether the node's session actor for player is
// attached to a live connection.
func sessionConnected(n *Node, player string) bool {
	code, b, err := n.get("/debug/actors?kind=session")
	if err != nil || code != http.StatusOK {
		return true // unknown: assume the worst
	}
	var body struct {
		Actors []map[string]any `json:"actors"`
	}
	if json.Unmarshal(b, &body) != nil {
		return true
	}
	for _, a := range body.Actors {
		if d, ok := a["details"].(map[string]any); ok && d["player_id"] == player {
			c, _ := d["connected"].(bool)
			return c
		}
	}
	return false
}

// TestBurstWithinLimitsNotDropped: a client that reads everything at once
// and sends a burst the rate limit allows is not "too slow": docs/protocol.md
// section 2.4 disconnects a client whose outgoing queue *stays* full for
// server.write_timeout, not one whose queue is momentarily full.
func TestBurstWithinLimitsNotDropped(t *testing.T) {
	t.Parallel()
	const burst = 40
	n := StartNode(t, NodeOptions{Set: map[string]any{"session.rate_limit.per_second": 20, "session.rate_limit.burst": burst,
		"server.send_queue": 8, "server.write_timeout": "1s"}})
	dropped := 0
	const trials = 5
	for i := range trials {
		c := Dial(t, n, fmt.Sprintf("burst%d", i), 1000, "")
		for j := range burst {
			if err := c.SendErr(fmt.Sprintf(`{"type":"ping","rid":"p%d"}`, j)); err != nil {
				break
			}
		}
		for j := range burst {
			f, err := c.NextErr(5 * time.Second)
			if err != nil {
				dropped++
				t.Errorf("%s: %d pings within the burst, read at once: disconnected after %d pongs: %v", c.Player, burst, j, err)
				break
			}
			if f.Type() != protocol.TypePong {
				t.Errorf("%s: %s, want pong", c.Player, f)
			}
		}
		c.Close()
	}
	if dropped > 0 {
		var lines []string
		for _, l := range n.FindLogs("client too slow, disconnecting") {
			lines = append(lines, fmt.Sprint(l))
		}
		t.Errorf("%d of %d clients that read promptly were dropped as too slow (send_queue 8, a %d-request burst); log:\n%s",
			dropped, trials, burst, strings.Join(lines, "\n"))
	}
}

// TestRateLimitSustainedAbuseCloses: a client that keeps sending at ten
// times session.rate_limit for seconds, ignoring every RATE_LIMITED and its
// retry_after_ms, is persistent abuse and is closed with 1008 (docs/protocol.md
// section 8) - not only one that sends more than burst frames between two
// refills.
func TestRateLimitSustainedAbuseCloses(t *testing.T) {
	t.Parallel()
	const perSecond = 20
	n := StartNode(t, NodeOptions{Set: map[string]any{"session.rate_limit.per_second": perSecond, "session.rate_limit.burst": 40}})
	c := Dial(t, n, "abuser", 1000, "")
	start := time.Now()
	tick := time.NewTicker(time.Second / (10 * perSecond))
	defer tick.Stop()
	var sent []string
	var closedAfter time.Duration
	for time.Since(start) < 9*time.Second {
		<-tick.C
		rid := fmt.Sprintf("a%05d", len(sent))
		if c.SendErr(fmt.Sprintf(`{"type":"ping","rid":%q}`, rid)) != nil {
			break
		}
		sent = append(sent, rid)
		select {
		case <-c.Closed():
			closedAfter = time.Since(start)
		default:
			continue
		}
		break
	}
	select {
	case <-c.Closed():
		if closedAfter == 0 {
			closedAfter = time.Since(start)
		}
	case <-time.After(DefaultWait):
		t.Fatalf("a client sending %d frames/s (10x the limit) for %s is still open", 10*perSecond, time.Since(start).Round(time.Millisecond))
	}
	if code := websocket.CloseStatus(c.CloseErr()); code != websocket.StatusPolicyViolation {
		t.Fatalf("closed with %v, want 1008", c.CloseErr())
	}
	// The close follows the replies already due: every frame the server
	// read before it decided is answered, in order. (Frames still in
	// flight when it closed may go unread.)
	var replies []Frame
	for _, f := range c.Frames() {
		if f.Str("rid") != "" {
			replies = append(replies, f)
		}
	}
	limited := 0
	for i, f := range replies {
		if f.Str("rid") != sent[i] {
			t.Fatalf("reply %d is to %s, want %s: replies out of order or one missing", i, f.Str("rid"), sent[i])
		}
		if f.Str("code") == string(protocol.CodeRateLimited) {
			limited++
		}
	}
	if closedAfter < abuseAfter {
		t.Fatalf("closed %s after the first frame, before %s of refusals", closedAfter.Round(time.Millisecond), abuseAfter)
	}
	if len(replies) == 0 || replies[len(replies)-1].Str("code") != string(protocol.CodeRateLimited) {
		t.Fatalf("the last reply before the close is not a RATE_LIMITED refusal: %v", replies[len(replies)-1:])
	}
	t.Logf("closed 1008 after %s: %d frames sent, %d answered in order (%d RATE_LIMITED)",
		closedAfter.Round(time.Millisecond), len(sent), len(replies), limited)
}

// abuseAfter is how long a client may stay over its limit before it is
// closed (docs/protocol.md section 8).
const abuseAfter = 5 * time.Second
