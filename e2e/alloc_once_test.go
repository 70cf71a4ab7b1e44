package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// slowGameServer is a game server that takes delay to create a session and
// counts the /session/create calls per match, recording each call's
// idempotency key (header and body).
type slowGameServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string]int
	keys  map[string][2]string
	// started is closed at the first call (the allocation is in flight).
	started chan struct{}
	once    sync.Once
}

func newSlowGameServer(t *testing.T, delay time.Duration) *slowGameServer {
	t.Helper()
	g := &slowGameServer{calls: map[string]int{}, keys: map[string][2]string{}, started: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/session/create" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			MatchID        string `json:"match_id"`
			IdempotencyKey string `json:"idempotency_key"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MatchID == "" {
			t.Errorf("game server: bad create request (%v): %+v", err, req)
		}
		g.mu.Lock()
		g.calls[req.MatchID]++
		g.keys[req.MatchID] = [2]string{r.Header.Get("Idempotency-Key"), req.IdempotencyKey}
		g.mu.Unlock()
		g.once.Do(func() { close(g.started) })
		time.Sleep(delay) // the server's own pace: a slow session start
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"server_address": "game.example:7777", "session_id": "sess-" + req.MatchID})
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *slowGameServer) register(t *testing.T, n *Node) {
	t.Helper()
	if code, body := n.Post(t, "/admin/servers", map[string]any{"id": "slow", "addr": g.srv.Listener.Addr().String(), "capacity": 100}); code/100 != 2 {
		t.Fatalf("register the game server: %d %s", code, body)
	}
}

func (g *slowGameServer) check(t *testing.T, match string) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if got := g.calls[match]; got != 1 {
		t.Errorf("/session/create called %d times for %s, want exactly 1", got, match)
	}
	if k := g.keys[match]; k[0] != match || k[1] != match {
		t.Errorf("idempotency key: header %q, body %q, want the match id %s in both", k[0], k[1], match)
	}
}

// allocThenReady has both players load the match and returns once the
// allocation is in flight at the game server.
func allocInFlight(t *testing.T, g *slowGameServer, match string, players ...*Client) {
	t.Helper()
	for _, c := range players {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	select {
	case <-g.started:
	case <-time.After(DefaultWait):
		t.Fatal("no allocation reached the game server")
	}
}

func sameServer(t *testing.T, match string, players ...*Client) {
	t.Helper()
	for _, c := range players {
		f := c.Expect(t, protocol.TypeMatchReady)
		if f.Str("match_id") != match || f.Obj("server")["session_id"] != "sess-"+match {
			t.Errorf("%s: %s, want match_ready of %s on session sess-%s", c.Player, f, match, match)
		}
	}
}

// TestAllocationSurvivesRoomCrash: the room actor crashes while its
// allocation is in flight (a slow game server). The restarted actor finds
// the allocation recorded in the room and waits for its answer: exactly one
// /session/create for the match, and every member gets the same server.
func TestAllocationSurvivesRoomCrash(t *testing.T) {
	t.Parallel()
	g := newSlowGameServer(t, 1500*time.Millisecond)
	n := StartNode(t, NodeOptions{Set: map[string]any{"debug.fault_injection": true, "allocator.mode": "http",
		"allocator.request_timeout": "5s", "allocator.heartbeat": "30s"}})
	g.register(t, n)
	a := Dial(t, n, "ca", 1000, "")
	b := Dial(t, n, "cb", 1000, "")
	match, _ := matchPair(t, a, b)
	allocInFlight(t, g, match, a, b)
	if code, body := n.Post(t, "/debug/crash?actor=room/"+match, nil); code != 202 {
		t.Fatalf("crash the room: %d %s", code, body)
	}
	WaitMetric(t, []*Node{n}, `matchd_actor_restarts_total{kind="room"}`, 1, 5*time.Second)
	sameServer(t, match, a, b)
	g.check(t, match)
}

// TestAllocationSurvivesDrain: the node that drives the room drains while
// the room's allocation is in flight. It lets the allocation end, records
// the start, and only then gives its rooms up: exactly one /session/create,
// and the members (on the other node) get the same server.
func TestAllocationSurvivesDrain(t *testing.T) {
	t.Parallel()
	g := newSlowGameServer(t, 1500*time.Millisecond)
	be := StandaloneBackend(t)
	// node_ttl is well above a heartbeat's worst delay on a busy machine:
	// an adoption must only ever come from the drain, which this tests.
	opts := be.Apply(NodeOptions{Set: map[string]any{"allocator.mode": "http", "allocator.request_timeout": "5s",
		"allocator.heartbeat": "30s", "rooms.sweep_interval": "200ms", "rooms.node_ttl": "5s"}})
	owner := startLeader(t, opts)
	other := StartNode(t, opts)
	g.register(t, other)
	a := Dial(t, other, "da", 1000, "")
	b := Dial(t, other, "db", 1000, "")
	match, _ := matchPair(t, a, b)
	allocInFlight(t, g, match, a, b)
	if code, body := owner.Post(t, "/admin/drain", nil); code/100 != 2 {
		t.Fatalf("drain: %d %s", code, body)
	}
	sameServer(t, match, a, b)
	g.check(t, match)
	if got := SumMetric(t, []*Node{other}, `matchd_rooms_adopted_total{mode="duel"}`); got != 0 {
		t.Errorf("the other node adopted %v rooms: the drain gave up a room whose allocation was in flight", got)
	}
}

// TestDrainHandsOverLoadingRooms: a node drains while its room is still
// loading: it hands the room over in Redis, and the other node drives it on
// at once (the members load, and the match starts), with one driver only.
func TestDrainHandsOverLoadingRooms(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 30 * time.Second
	opts := be.Apply(NodeOptions{Modes: []Mode{duel}, Set: map[string]any{"allocator.mode": "static",
		"allocator.servers": []string{"game.example:7000"}, "rooms.sweep_interval": "200ms"}})
	owner := startLeader(t, opts)
	other := StartNode(t, opts)
	a := Dial(t, other, "ha", 1000, "")
	b := Dial(t, other, "hb", 1000, "")
	match, _ := matchPair(t, a, b)
	if code, body := owner.Post(t, "/admin/drain", nil); code/100 != 2 {
		t.Fatalf("drain: %d %s", code, body)
	}
	WaitMetric(t, []*Node{other}, `matchd_rooms_adopted_total{mode="duel"}`, 1, 5*time.Second)
	for _, c := range []*Client{a, b} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	for _, c := range []*Client{a, b} {
		if f := c.Expect(t, protocol.TypeMatchReady); f.Obj("server")["addr"] != "game.example:7000" {
			t.Errorf("%s: %s", c.Player, f)
		}
	}
	WaitMetric(t, []*Node{owner, other}, `matchd_matches_started_total{mode="duel"}`, 1, 5*time.Second)
}
