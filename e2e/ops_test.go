package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// poll is eventually without failing: it returns the last error after d.
func poll(d time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeKilledQueuedPlayers: a node dies (kill -9) with queued players on
// it. One reconnects to another node within the grace and resumes its
// ticket; the other never comes back, so its ticket must be cancelled after
// session.reconnect_grace (docs/protocol.md section 2.6) and never be matched with
// a live player.
func TestNodeKilledQueuedPlayers(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 1500 * time.Millisecond
	opts := be.Apply(NodeOptions{Modes: []Mode{duel}, Set: map[string]any{
		"session.reconnect_grace": "1s", "session.directory_ttl": "3s", "rooms.node_ttl": "1500ms"}})
	survivor := startLeader(t, opts)
	doomed := StartNode(t, opts)

	back := Dial(t, doomed, "back", 1000, "")
	ghost := Dial(t, doomed, "ghost", 3000, "dev-ghost")
	rid := back.Req(t, protocol.TypeEnqueue, "mode", "duel")
	ticket := back.ExpectRid(t, protocol.TypeQueued, rid).Str("ticket_id")
	rid = ghost.Req(t, protocol.TypeEnqueue, "mode", "duel")
	ghost.ExpectRid(t, protocol.TypeQueued, rid)
	doomed.Kill()
	killed := time.Now()

	back2 := Dial(t, survivor, "back", 1000, "")
	if StateName(back2.Welcome) != "queued" || StateField(back2.Welcome, "ticket_id") != ticket {
		t.Errorf("reconnect within the grace after the node died: %s, want queued %s", back2.Welcome, ticket)
	}
	rid = back2.Req(t, protocol.TypeCancel)
	back2.ExpectRid(t, protocol.TypeDequeued, rid)

	// The ghost's ticket must go once its grace (1s) is over; allow the
	// directory TTL and a few sweeps on top.
	prefix := KeyPrefix(t)
	err := poll(8*time.Second, func() error {
		if got := be.redis.CLI(t, "HGET", prefix+":{m:duel}:pl", "ghost"); got != "" {
			return fmt.Errorf("the queue still holds the ghost's entry %q", got)
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s after the node holding the queued player \"ghost\" was killed (reconnect_grace 1s): %v — the ticket was never cancelled",
			time.Since(killed).Round(time.Millisecond), err)
	}
	// Consequence: a live player is matched with the ghost, waits for the
	// loading deadline, and the ghost gets a no-show for a server crash.
	live := Dial(t, survivor, "live", 3000, "")
	rid = live.Req(t, protocol.TypeEnqueue, "mode", "duel")
	live.ExpectRid(t, protocol.TypeQueued, rid)
	f, err := live.ExpectErr(protocol.TypeMatchFound, 2*time.Second)
	if err == nil {
		t.Errorf("live player matched with the vanished player: %s", f)
		live.Send(t, map[string]any{"type": "loading_complete", "match_id": f.Str("match_id")})
		mc := live.Expect(t, protocol.TypeMatchCancelled)
		t.Logf("then: %s", mc)
		if v := SumMetric(t, []*Node{survivor}, `matchd_violations_total{kind="no_show"}`); v > 0 {
			t.Errorf("the vanished player was given %v no_show violation(s) for a node crash", v)
		}
	}
}

// TestDrainDuringLoading: the node driving a loading room and holding its
// members' connections is stopped with SIGTERM; the members reconnect to
// another node, are told the match again and start it.
func TestDrainDuringLoading(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 15 * time.Second
	opts := be.Apply(NodeOptions{Modes: []Mode{duel}})
	n1 := startLeader(t, opts)
	n2 := StartNode(t, opts)
	a := Dial(t, n1, "da", 1000, "")
	b := Dial(t, n1, "db", 1000, "")
	match, _ := matchPair(t, a, b)
	rid := a.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	a.ExpectRid(t, protocol.TypeLoadingStatus, rid)

	done := make(chan int)
	go func() { code, _ := n1.Term(); done <- code }()
	for _, c := range []*Client{a, b} {
		c.Expect(t, protocol.TypeServerDraining)
	}
	if code := <-done; code != 0 {
		t.Errorf("exit status %d", code)
	}
	start := time.Now()
	var again []*Client
	for _, p := range []string{"da", "db"} {
		c := Dial(t, n2, p, 1000, "")
		if StateName(c.Welcome) != "loading" || StateField(c.Welcome, "match_id") != match {
			t.Fatalf("%s resumes: %s, want loading %s", p, c.Welcome, match)
		}
		if f := c.NextIs(t, protocol.TypeMatchFound); f.Str("match_id") != match {
			t.Errorf("%s: %s", p, f)
		}
		again = append(again, c)
	}
	for _, c := range again {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		ls := c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
		if c.Player == "da" && !slices.Contains(ls.Strings("ready"), "da") {
			t.Errorf("da loaded before the drain: %s", ls)
		}
	}
	for _, c := range again {
		c.Expect(t, protocol.TypeMatchReady)
	}
	t.Logf("match started %s after the drain", time.Since(start).Round(time.Millisecond))
	CheckInvariants(t, []*Client{a, b, again[0], again[1]}, CheckOptions{EveryonePlays: true})
}

// TestDebugActors checks the shape of GET /debug/actors (docs/protocol.md
// section 10.1).
func TestDebugActors(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{})
	a := Dial(t, n, "x1", 1000, "")
	b := Dial(t, n, "x2", 1000, "")
	match, _ := matchPair(t, a, b)

	code, body := n.Get(t, "/debug/actors")
	var all struct {
		NodeID string           `json:"node_id"`
		Actors []map[string]any `json:"actors"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &all) != nil || all.NodeID != n.ID || len(all.Actors) != 1 {
		t.Fatalf("/debug/actors: %d %s", code, body)
	}
	root := all.Actors[0]
	if root["kind"] != "coordinator" {
		t.Errorf("root kind %v", root["kind"])
	}
	for _, k := range []string{"id", "kind", "state", "restarts", "mailbox", "children", "details"} {
		if _, ok := root[k]; !ok {
			t.Errorf("root lacks %q: %v", k, root)
		}
	}
	sessions := n.Actors(t, "session")
	var ids []string
	for _, s := range sessions {
		if s["kind"] != "session" {
			t.Errorf("?kind=session returned %v", s)
		}
		d, _ := s["details"].(map[string]any)
		id, _ := d["player_id"].(string)
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"x1", "x2"}) {
		t.Errorf("sessions: %v", ids)
	}
	queues := n.Actors(t, "queue")
	if len(queues) != 1 {
		t.Fatalf("queues: %v", queues)
	}
	if d, _ := queues[0]["details"].(map[string]any); d["mode"] != "duel" || d["tickets"] == nil {
		t.Errorf("queue details: %v", d)
	}
	rooms := n.Actors(t, "room")
	if len(rooms) != 1 {
		t.Fatalf("rooms: %v", rooms)
	}
	d, _ := rooms[0]["details"].(map[string]any)
	for _, k := range []string{"match_id", "ready", "waiting", "deadline_ms"} {
		if _, ok := d[k]; !ok {
			t.Errorf("room details lack %q: %v", k, d)
		}
	}
	if d["match_id"] != match || rooms[0]["id"] != "room/"+match {
		t.Errorf("room: %v", rooms[0])
	}
	if code, _ := n.Get(t, "/debug/actors?kind=bogus"); code != http.StatusBadRequest {
		t.Errorf("?kind=bogus: %d", code)
	}
}

// TestDebugConfigRedacted: secrets never leave the process.
func TestDebugConfigRedacted(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"auth.hmac_secret": "hmac-secret-value-123456"}})
	code, body := n.Get(t, "/debug/config")
	if code != http.StatusOK || !json.Valid(body) {
		t.Fatalf("/debug/config: %d %s", code, body)
	}
	if strings.Contains(string(body), "hmac-secret-value-123456") {
		t.Errorf("/debug/config shows the hmac secret: %s", body)
	}
	if !strings.Contains(string(body), `"***"`) {
		t.Errorf("/debug/config has no redacted value: %s", body)
	}
}

// TestStateEvents: toggling state events at run time; events land in the
// <prefix>:events stream with a data field holding the event as JSON.
func TestStateEvents(t *testing.T) {
	t.Parallel()
	r := StartRedis(t, RedisOptions{})
	n := StartNode(t, NodeOptions{RedisAddrs: []string{r.Addr()}})
	if v := n.Metrics(t)["matchd_state_events_enabled"]; v != 0 {
		t.Errorf("state events enabled at start: %v", v)
	}
	code, body := n.Post(t, "/admin/state-events", map[string]any{"enabled": true})
	if code != http.StatusOK || !strings.Contains(string(body), `"enabled":true`) {
		t.Fatalf("enable: %d %s", code, body)
	}
	if v := n.Metrics(t)["matchd_state_events_enabled"]; v != 1 {
		t.Errorf("matchd_state_events_enabled = %v after enabling", v)
	}
	a := Dial(t, n, "e1", 1000, "")
	b := Dial(t, n, "e2", 1000, "")
	match, _ := matchPair(t, a, b)
	for _, c := range []*Client{a, b} {
		c.Send(t, map[string]any{"type": "loading_complete", "match_id": match})
	}
	a.Expect(t, protocol.TypeMatchReady)
	b.Expect(t, protocol.TypeMatchReady)

	stream := KeyPrefix(t) + ":events"
	want := []string{"enqueued", "match_formed", "player_ready", "match_started"}
	var got []string
	eventually(t, 5*time.Second, "events in "+stream, func() error {
		got = nil
		out, err := exec.Command("redis-cli", "-p", fmt.Sprint(r.Port()), "--raw", "XRANGE", stream, "-", "+").Output()
		if err != nil {
			return err
		}
		lines := strings.Split(string(out), "\n")
		for i, l := range lines {
			if l != "data" || i+1 >= len(lines) {
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(lines[i+1]), &ev); err != nil {
				return fmt.Errorf("data is not JSON: %q", lines[i+1])
			}
			for _, k := range []string{"ts_ms", "node_id", "event"} {
				if _, ok := ev[k]; !ok {
					return fmt.Errorf("event lacks %s: %v", k, ev)
				}
			}
			got = append(got, ev["event"].(string))
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("no %q event in %v", w, got)
			}
		}
		return nil
	})
	code, body = n.Post(t, "/admin/state-events", map[string]any{"enabled": false})
	if code != http.StatusOK || !strings.Contains(string(body), `"enabled":false`) {
		t.Errorf("disable: %d %s", code, body)
	}
	if code, _ := n.Post(t, "/admin/state-events", map[string]any{"nope": 1}); code != http.StatusBadRequest {
		t.Errorf("bad toggle body: %d, want 400", code)
	}
	// The log reaches the test through a pipe: wait for both lines.
	eventually(t, 5*time.Second, "two toggle log lines", func() error {
		if l := n.FindLogs("state events toggled"); len(l) != 2 {
			return fmt.Errorf("%d \"state events toggled\" log lines, want 2 (one per change)", len(l))
		}
		return nil
	})
}

// jwtHS256 signs claims with secret.
func jwtHS256(secret string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	c, _ := json.Marshal(claims)
	signing := h + "." + enc.EncodeToString(c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestHMACAuth(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef-secret"
	n := StartNode(t, NodeOptions{Set: map[string]any{"auth.mode": "hmac", "auth.hmac_secret": secret}})
	exp := time.Now().Add(time.Hour).Unix()
	tok := jwtHS256(secret, map[string]any{"sub": "jwt-player", "exp": exp, "rating": 1234, "device_id": "dev-j"})
	c, err := DialErr(t, n, "", DialOptions{RawQuery: "token=" + tok})
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if c.Welcome.Str("player_id") != "jwt-player" {
		t.Errorf("welcome: %s", c.Welcome)
	}
	for name, q := range map[string]string{
		"no token":      "player_id=jwt-player",
		"bad signature": "token=" + jwtHS256("another-secret-0000000", map[string]any{"sub": "p", "exp": exp}),
		"expired":       "token=" + jwtHS256(secret, map[string]any{"sub": "p", "exp": time.Now().Add(-time.Minute).Unix()}),
		"no exp":        "token=" + jwtHS256(secret, map[string]any{"sub": "p"}),
	} {
		code, body := Handshake(t, n, q)
		var e protocol.HTTPError
		if code != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.Code != protocol.CodeUnauthorized {
			t.Errorf("%s: %d %s, want 401 UNAUTHORIZED", name, code, body)
		}
	}
}

// TestInvalidConfig: an invalid value stops start-up with a message naming
// the key; insecure auth refuses a non-loopback listener.
func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ yaml, key string }{
		"negative tick":       {"matchmaking:\n  tick: -1s\n", "matchmaking.tick"},
		"insecure public":     {"server:\n  addr: 0.0.0.0:0\n", "server.addr"},
		"unknown redis mode":  {"redis:\n  mode: bogus\n", "redis.mode"},
		"lock_ttl below tick": {"matchmaking:\n  tick: 1s\n  lock_ttl: 2s\n", "matchmaking.lock_ttl"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte("admin:\n  addr: 127.0.0.1:0\n"+tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(matchdBin, "--config", path)
			cmd.Env = childEnv()
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("matchd started with an invalid config: %s", out)
			}
			if err == nil || cmd.ProcessState.ExitCode() == 0 {
				t.Errorf("exit status 0 with an invalid config")
			}
			if !strings.Contains(string(out), tc.key) {
				t.Errorf("message does not name %s: %s", tc.key, out)
			}
		})
	}
}
