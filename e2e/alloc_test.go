package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// gameServer is a fake game server for the http allocator: it answers
// /session/create with status (and a session when 2xx).
func gameServer(t *testing.T, status int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/session/create" {
			http.NotFound(w, r)
			return
		}
		calls.Add(1)
		var req struct {
			MatchID string     `json:"match_id"`
			Mode    string     `json:"mode"`
			Teams   [][]string `json:"teams"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MatchID == "" || req.Mode == "" || len(req.Teams) == 0 {
			t.Errorf("game server: bad create request (%v): %+v", err, req)
		}
		if status/100 != 2 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"server_address": "game.example:7777", "session_id": "sess-" + req.MatchID})
	}))
	t.Cleanup(s.Close)
	return s, &calls
}

func TestHTTPAllocator(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{Set: map[string]any{"allocator.mode": "http", "allocator.request_timeout": "1s",
		"allocator.max_attempts": 2, "allocator.heartbeat": "10s"}}))
	bad, badCalls := gameServer(t, http.StatusInternalServerError)
	good, goodCalls := gameServer(t, http.StatusOK)
	// The failing server has more room, so it is tried first.
	for _, s := range []map[string]any{
		{"id": "bad", "addr": bad.Listener.Addr().String(), "capacity": 10},
		{"id": "good", "addr": good.Listener.Addr().String(), "capacity": 5},
	} {
		if code, body := n.Post(t, "/admin/servers", s); code/100 != 2 {
			t.Fatalf("register %v: %d %s", s["id"], code, body)
		}
	}
	a := Dial(t, n, "ha", 1000, "")
	b := Dial(t, n, "hb", 1000, "")
	match, _ := matchPair(t, a, b)
	for _, c := range []*Client{a, b} {
		c.Send(t, map[string]any{"type": "loading_complete", "match_id": match})
	}
	for _, c := range []*Client{a, b} {
		f := c.Expect(t, protocol.TypeMatchReady)
		srv := f.Obj("server")
		if srv["addr"] != "game.example:7777" || srv["session_id"] != "sess-"+match {
			t.Errorf("%s: match_ready %s", c.Player, f)
		}
	}
	if badCalls.Load() != 1 || goodCalls.Load() != 1 {
		t.Errorf("calls: bad %d good %d, want 1 and 1 (retry on another server)", badCalls.Load(), goodCalls.Load())
	}

	// Every server fails: the match is cancelled allocation_failed and both
	// members are requeued with their place, without a violation.
	if code, body := n.Delete(t, "/admin/servers/good"); code/100 != 2 {
		t.Fatalf("delete good: %d %s", code, body)
	}
	c := Dial(t, n, "hc", 1000, "")
	d := Dial(t, n, "hd", 1000, "")
	match, qc := matchPair(t, c, d)
	for _, p := range []*Client{c, d} {
		p.Send(t, map[string]any{"type": "loading_complete", "match_id": match})
	}
	for _, p := range []*Client{c, d} {
		mc := p.Expect(t, protocol.TypeMatchCancelled)
		if mc.Str("reason") != protocol.ReasonAllocationFailed || !mc.Bool("requeued") || len(mc.Strings("no_shows")) != 0 {
			t.Errorf("%s: %s, want allocation_failed, requeued, no no-shows", p.Player, mc)
		}
		q := p.NextIs(t, protocol.TypeQueued)
		if !q.Bool("requeued") || (p == c && q.Int("queued_at_ms") != qc.Int("queued_at_ms")) {
			t.Errorf("%s: %s", p.Player, q)
		}
	}
	WaitMetric(t, []*Node{n}, `matchd_matches_cancelled_total{mode="duel",reason="allocation_failed"}`, 1, 5*time.Second)
	WaitMetric(t, []*Node{n}, `matchd_players_requeued_total{mode="duel"}`, 2, 5*time.Second)
	m := n.Metrics(t)
	if v := m[`matchd_violations_total{kind="no_show"}`] + m[`matchd_violations_total{kind="dodge"}`]; v != 0 {
		t.Errorf("violations after an allocation failure: %v", v)
	}
}

// TestHotReload: editing the config file applies live keys (state events)
// and a bad edit keeps the config in force.
func TestHotReload(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{})
	write := func(mut func(map[string]any)) { t.Helper(); n.RewriteConfig(t, mut) }
	write(func(c map[string]any) { c["state_events"] = map[string]any{"enabled": true} })
	WaitMetric(t, []*Node{n}, "matchd_state_events_enabled", 1, 10*time.Second)
	WaitMetric(t, []*Node{n}, `matchd_config_reloads_total{result="ok"}`, 1, 5*time.Second)

	write(func(c map[string]any) {
		c["state_events"] = map[string]any{"enabled": false}
		c["matchmaking"].(map[string]any)["tick"] = "-5s"
	})
	WaitMetric(t, []*Node{n}, `matchd_config_reloads_total{result="error"}`, 1, 10*time.Second)
	if v := n.Metrics(t)["matchd_state_events_enabled"]; v != 1 {
		t.Errorf("a rejected reload changed state events: %v", v)
	}
	l := n.WaitLog(t, 5*time.Second, "config reload rejected", func(l LogLine) bool { return l.Msg() == "config reload rejected; keeping the config in force" })
	if e, _ := l["err"].(string); e == "" {
		t.Errorf("rejection log without the error: %v", l)
	}
	if code, _ := n.Get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("readyz after a bad reload: %d", code)
	}
}

// TestReloadedTimeoutIsUsed: a timeout changed in the config file is used by
// the running node (a mode's max_wait cut to 1s dequeues a lone player), and
// a broken file afterwards is rejected with that value kept in force.
func TestReloadedTimeoutIsUsed(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{})
	write := func(maxWait, tick string) {
		t.Helper()
		n.RewriteConfig(t, func(cfg map[string]any) {
			mm := cfg["matchmaking"].(map[string]any)
			if tick != "" {
				mm["tick"] = tick
			}
			for _, m := range mm["modes"].([]any) {
				m.(map[string]any)["max_wait"] = maxWait
			}
		})
	}
	maxWaitInForce := func() string {
		t.Helper()
		_, body := n.Get(t, "/debug/config")
		var c struct {
			Matchmaking struct {
				Modes []struct {
					MaxWait string `json:"max_wait"`
				} `json:"modes"`
			} `json:"matchmaking"`
		}
		if err := json.Unmarshal(body, &c); err != nil || len(c.Matchmaking.Modes) == 0 {
			t.Fatalf("/debug/config: %v %s", err, body)
		}
		return c.Matchmaking.Modes[0].MaxWait
	}
	lonePlayerTimesOut := func(id string) {
		t.Helper()
		p := Dial(t, n, id, 1000, "")
		rid := p.Req(t, protocol.TypeEnqueue, "mode", "duel")
		p.ExpectRid(t, protocol.TypeQueued, rid)
		start := time.Now()
		if d := p.Expect(t, protocol.TypeDequeued); d.Str("reason") != protocol.ReasonTimeout {
			t.Fatalf("%s: got %s, want dequeued timeout", id, d)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: dequeued after %s with max_wait 1s", id, took)
		}
	}

	write("1s", "")
	WaitMetric(t, []*Node{n}, `matchd_config_reloads_total{result="ok"}`, 1, 10*time.Second)
	if got := maxWaitInForce(); got != "1s" {
		t.Fatalf("max_wait after reload: got %s, want 1s", got)
	}
	lonePlayerTimesOut("lone1")

	write("5m0s", "-5s") // invalid: the whole file is rejected
	WaitMetric(t, []*Node{n}, `matchd_config_reloads_total{result="error"}`, 1, 10*time.Second)
	if got := maxWaitInForce(); got != "1s" {
		t.Fatalf("max_wait after a rejected reload: got %s, want 1s kept", got)
	}
	lonePlayerTimesOut("lone2")
}
