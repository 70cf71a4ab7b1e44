package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// partyNode is one matchd node on the test Redis: its client listener
// (wsURL) and its admin listener (admin).
type partyNode struct {
	wsURL string
	admin *httptest.Server
}

func startPartyNode(t *testing.T) *partyNode {
	t.Helper()
	cfg := config.Default()
	cfg.NodeID = "n-" + strings.ReplaceAll(t.Name(), "/", "-")
	cfg.Redis = redistest.Config(t)
	cfg.Admin.Token = testAdminToken
	trio := cfg.Matchmaking.Modes[0]
	trio.Name, trio.TeamSize = "trio", 3
	cfg.Matchmaking.Modes = append(cfg.Matchmaking.Modes, trio)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rc, err := redisx.Open(context.Background(), cfg.Redis, log)
	if err != nil {
		t.Fatalf("open redis: %v", err)
	}
	m := actors.NewMetrics(prometheus.NewRegistry())
	store := config.NewStore(cfg)
	sanctions := redisx.NewSanctions(rc, func() redisx.SanctionPolicy {
		return redisx.SanctionPolicy{Ladder: cfg.Sanctions.Ladder, Decay: cfg.Sanctions.Decay}
	}, nil)
	env := &actors.Env{Node: cfg.NodeID, Config: store, Store: rc, Parties: rc, Metrics: m, Log: log, Clock: rc.Clock,
		Events:    actors.NewEvents(rc, cfg.NodeID, func() int64 { return 1000 }, func() time.Duration { return cfg.Redis.OpTimeout }, m, nil),
		Sanctions: sanctions}
	node, err := actors.Start(env, rc)
	if err != nil {
		rc.Close()
		t.Fatalf("start node: %v", err)
	}
	ws := httptest.NewServer(NewServer(store, node, m, log).Handler())
	admin := httptest.NewServer((&Admin{Config: store, Node: node, Log: log, Redis: rc, Cluster: rc,
		Sanctions: sanctions, Gatherer: prometheus.NewRegistry()}).Handler())
	t.Cleanup(func() {
		ws.CloseClientConnections()
		ws.Close()
		admin.Close()
		node.Stop()
		rc.Close()
	})
	return &partyNode{wsURL: "ws" + strings.TrimPrefix(ws.URL, "http") + "/ws", admin: admin}
}

func (n *partyNode) connect(t *testing.T, id string) *client.Client {
	t.Helper()
	rating := 1500.0
	c, err := client.New(client.Options{URLs: []string{n.wsURL}, PlayerID: id, Rating: &rating})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx); err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	return c
}

// get GETs an admin path and decodes its JSON reply.
func (n *partyNode) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.admin.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := n.admin.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// members renders a party view's members as "id:leader:connected:busy".
func members(v map[string]any) string {
	var out []string
	list, _ := v["members"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out = append(out, fmt.Sprintf("%v:%v:%v:%v", m["player_id"], m["leader"], m["connected"], m["busy"]))
	}
	return strings.Join(out, " ")
}

// GET /debug/parties/{id} and the party of GET /debug/players/{id} show a
// party as Redis holds it: members in join order with who leads and who is
// connected, invitations with their expiry, and the queue marker once the
// leader queued it.
func TestDebugParties(t *testing.T) {
	n := startPartyNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice, carol := n.connect(t, "alice"), n.connect(t, "carol")
	n.connect(t, "dave")
	p, err := alice.PartyCreate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"bob", "carol"} { // bob is not connected
		if _, err := alice.PartyInvite(ctx, who); err != nil {
			t.Fatalf("invite %s: %v", who, err)
		}
	}
	if _, err := carol.PartyJoin(ctx, p.PartyID); err != nil {
		t.Fatal(err)
	}

	code, v := n.get(t, "/debug/parties/"+p.PartyID)
	if code != http.StatusOK {
		t.Fatalf("GET /debug/parties/%s: %d %v", p.PartyID, code, v)
	}
	if v["party_id"] != p.PartyID || v["leader"] != "alice" || v["open"] != false || v["max_size"] != float64(5) || v["queue"] != nil {
		t.Errorf("party %v", v)
	}
	if got, want := members(v), "alice:true:true:false carol:false:true:false"; got != want {
		t.Errorf("members %q, want %q", got, want)
	}
	inv, _ := v["invited"].([]any)
	now, _ := v["now_ms"].(float64)
	if len(inv) != 1 || inv[0].(map[string]any)["player_id"] != "bob" {
		t.Fatalf("invited %v, want bob", inv)
	}
	if exp, _ := inv[0].(map[string]any)["expires_ms"].(float64); exp <= now || exp > now+float64(time.Minute.Milliseconds())+1000 {
		t.Errorf("bob's invitation expires at %v, now %v: want within party.invite_ttl (60s)", exp, now)
	}

	q, err := alice.Enqueue(ctx, "trio")
	if err != nil {
		t.Fatal(err)
	}
	_, v = n.get(t, "/debug/parties/"+p.PartyID)
	if qm, _ := v["queue"].(map[string]any); qm["mode"] != "trio" || qm["ticket_id"] != q.TicketID {
		t.Errorf("queue %v, want trio and ticket %s", v["queue"], q.TicketID)
	}
	if got, want := members(v), "alice:true:true:true carol:false:true:true"; got != want {
		t.Errorf("members of the queued party %q, want %q", got, want)
	}

	code, pl := n.get(t, "/debug/players/carol")
	if code != http.StatusOK {
		t.Fatalf("GET /debug/players/carol: %d %v", code, pl)
	}
	party, _ := pl["party"].(map[string]any)
	state, _ := pl["state"].(map[string]any)
	if party["party_id"] != p.PartyID || party["leader"] != "alice" || state["party_id"] != p.PartyID || state["name"] != "queued" {
		t.Errorf("carol: party %v, state %v", party, state)
	}
	if code, pl := n.get(t, "/debug/players/dave"); code != http.StatusOK || pl["party"] != nil {
		t.Errorf("dave, in no party: %d, party %v", code, pl["party"])
	}
	// /debug/actors?party= keeps the sessions of the party's members.
	code, acts := n.get(t, "/debug/actors?party="+p.PartyID)
	if code != http.StatusOK {
		t.Fatalf("GET /debug/actors?party=: %d %v", code, acts)
	}
	var listed []string
	for _, x := range acts["actors"].([]any) {
		d := x.(map[string]any)["details"].(map[string]any)
		listed = append(listed, fmt.Sprint(d["player_id"]))
		if d["party_id"] != p.PartyID {
			t.Errorf("session %v: party_id %v, want %s", d["player_id"], d["party_id"], p.PartyID)
		}
	}
	if strings.Join(listed, ",") != "alice,carol" {
		t.Errorf("/debug/actors?party= lists %v, want alice and carol", listed)
	}
	if _, acts := n.get(t, "/debug/actors?party=no-such-party"); len(acts["actors"].([]any)) != 0 {
		t.Errorf("sessions of a party that does not exist: %v", acts["actors"])
	}
	if code, v := n.get(t, "/debug/parties/no-such-party"); code != http.StatusNotFound || v["code"] != "NOT_FOUND" {
		t.Errorf("unknown party: %d %v, want 404 NOT_FOUND", code, v)
	}
	if code, v := n.get(t, "/debug/parties/bad%20id"); code != http.StatusBadRequest || v["code"] != "BAD_REQUEST" {
		t.Errorf("bad party id: %d %v, want 400 BAD_REQUEST", code, v)
	}
}
