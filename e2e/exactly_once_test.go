package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Squad is a 2 teams x 2 mode.
func Squad() Mode { return Mode{Name: "squad", Teams: 2, TeamSize: 2} }

// scenario shapes playScenarioOpts.
type scenario struct {
	duel, squad int
	seed        uint64
	timeout     time.Duration
	// arrivals spreads the players' enqueues evenly over this long (0: all
	// at once).
	arrivals time.Duration
	// countStatuses checks that each member got exactly one
	// loading_status per member before match_ready.
	countStatuses bool
}

// playScenario connects players round-robin over nodes, enqueues each in its
// mode, loads every match offered and waits until every player got
// match_ready. It returns the clients (for the invariant checker).
func playScenario(t *testing.T, nodes []*Node, duelPlayers, squadPlayers int, seed uint64, timeout time.Duration) []*Client {
	t.Helper()
	return playScenarioOpts(t, nodes, scenario{duel: duelPlayers, squad: squadPlayers, seed: seed, timeout: timeout})
}

func playScenarioOpts(t *testing.T, nodes []*Node, sc scenario) []*Client {
	t.Helper()
	rng := rand.New(rand.NewPCG(sc.seed, sc.seed^0x9e3779b97f4a7c15))
	type plan struct {
		id     string
		mode   string
		size   int
		rating float64
		node   *Node
		delay  time.Duration
	}
	var plans []plan
	total := sc.duel + sc.squad
	for i := range total {
		mode, size := "duel", 2
		if i >= sc.duel {
			mode, size = "squad", 4
		}
		plans = append(plans, plan{id: fmt.Sprintf("p%03d", i), mode: mode, size: size, rating: float64(1000 + rng.IntN(401)),
			node: nodes[i%len(nodes)]})
	}
	rng.Shuffle(len(plans), func(i, j int) { plans[i], plans[j] = plans[j], plans[i] })
	for i := range plans {
		plans[i].delay = sc.arrivals * time.Duration(i) / time.Duration(max(1, total))
	}

	clients := make([]*Client, len(plans))
	var wg sync.WaitGroup
	began := time.Now()
	deadline := began.Add(sc.timeout)
	var mu sync.Mutex
	var stuck, lsMismatch []string
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := DialErr(t, p.node, p.id, DialOptions{Rating: p.rating, HasRate: true, Device: "dev-" + p.id})
			if err != nil {
				t.Errorf("%s: dial %s: %v", p.id, p.node.ID, err)
				return
			}
			clients[i] = c
			// Arrival pacing shapes the load; it synchronises nothing.
			time.Sleep(time.Until(began.Add(p.delay)))
			rid := c.NextRid()
			if err := c.SendErr(map[string]any{"type": "enqueue", "rid": rid, "mode": p.mode}); err != nil {
				t.Errorf("%s: enqueue: %v", p.id, err)
				return
			}
			statuses := map[string]int{}
			for {
				f, err := c.NextErr(time.Until(deadline))
				if err != nil {
					mu.Lock()
					stuck = append(stuck, fmt.Sprintf("%s on %s (%s, %.0f): %v; frames:\n%s", p.id, p.node.ID, p.mode, p.rating, err, c.Dump()))
					mu.Unlock()
					return
				}
				switch f.Type() {
				case protocol.TypeQueued:
					if f.Str("rid") == rid && f.Str("mode") != p.mode {
						t.Errorf("%s: queued %s", p.id, f)
					}
				case protocol.TypeMatchFound:
					if err := c.SendErr(map[string]any{"type": "loading_complete", "rid": c.NextRid(), "match_id": f.Str("match_id")}); err != nil {
						t.Errorf("%s: loading_complete: %v", p.id, err)
						return
					}
				case protocol.TypeLoadingStatus:
					statuses[f.Str("match_id")]++
				case protocol.TypeMatchReady:
					// Each member's loading_complete sends one
					// loading_status to every member (the reporter's
					// copy is its reply), all before match_ready.
					if got := statuses[f.Str("match_id")]; sc.countStatuses && got != p.size {
						mu.Lock()
						lsMismatch = append(lsMismatch, fmt.Sprintf("%s (%s on %s): %d loading_status before match_ready, want %d:\n%s",
							p.id, p.mode, p.node.ID, got, p.size, c.Dump()))
						mu.Unlock()
					}
					return
				case protocol.TypeError:
					t.Errorf("%s: unexpected error frame %s", p.id, f)
				case protocol.TypeMatchCancelled, protocol.TypeDequeued:
					t.Errorf("%s: unexpected %s (every player loads in time)", p.id, f)
				}
			}
		}()
	}
	wg.Wait()
	if len(stuck) > 0 {
		n := min(len(stuck), 5)
		t.Errorf("%d players did not reach match_ready within %s; first %d:\n%s", len(stuck), sc.timeout, n, strings.Join(stuck[:n], "\n"))
	}
	if len(lsMismatch) > 0 {
		n := min(len(lsMismatch), 3)
		t.Errorf("%d players got the wrong number of loading_status frames; first %d:\n%s", len(lsMismatch), n, strings.Join(lsMismatch[:n], "\n"))
	}
	var out []*Client
	for _, c := range clients {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// checkCounters compares the nodes' counters with what the clients saw.
func checkCounters(t *testing.T, nodes []*Node, s MatchSummary, wantPerMode map[string]int) {
	t.Helper()
	perMode := map[string]int{}
	for id := range s.Found {
		perMode[s.ModeOf[id]]++
	}
	for mode, want := range wantPerMode {
		if perMode[mode] != want {
			t.Errorf("mode %s: %d distinct matches seen by clients, want %d", mode, perMode[mode], want)
		}
		formed := fmt.Sprintf(`matchd_matches_formed_total{mode=%q}`, mode)
		started := fmt.Sprintf(`matchd_matches_started_total{mode=%q}`, mode)
		WaitMetric(t, nodes, started, float64(perMode[mode]), 5*time.Second)
		if got := SumMetric(t, nodes, formed); got != float64(perMode[mode]) {
			t.Errorf("sum of %s over nodes = %v, want %d (distinct match_ids)", formed, got, perMode[mode])
		}
	}
	formed := SumMetricPrefix(t, nodes, "matchd_matches_formed_total")
	started := SumMetricPrefix(t, nodes, "matchd_matches_started_total")
	if formed != float64(len(s.Found)) || started != float64(len(s.Found)) {
		t.Errorf("formed %v, started %v over nodes; clients saw %d distinct matches", formed, started, len(s.Found))
	}
	if c := SumMetricPrefix(t, nodes, "matchd_matches_cancelled_total"); c != 0 {
		t.Errorf("matches cancelled: %v, want 0", c)
	}
	var perNode []string
	for _, n := range nodes {
		m := n.Metrics(t)
		perNode = append(perNode, fmt.Sprintf("%s: formed duel %v squad %v", n.ID, m[`matchd_matches_formed_total{mode="duel"}`],
			m[`matchd_matches_formed_total{mode="squad"}`]))
	}
	t.Logf("matches: %d (%v); %v", len(s.Found), perMode, perNode)
}

func TestMultiNodeExactlyOnce(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	var nodes []*Node
	for range 3 {
		nodes = append(nodes, StartNode(t, be.Apply(NodeOptions{Modes: []Mode{Duel(), Squad()}})))
	}
	start := time.Now()
	clients := playScenario(t, nodes, 200, 100, 1, 60*time.Second)
	t.Logf("300 players matched and started in %s", time.Since(start).Round(time.Millisecond))
	s := CheckInvariants(t, clients, CheckOptions{EveryonePlays: true})
	checkCounters(t, nodes, s, map[string]int{"duel": 100, "squad": 25})
}

func TestClusterExactlyOnce(t *testing.T) {
	t.Parallel()
	cl := StartCluster(t)
	be := Backend{Mode: "cluster", Addrs: cl.Addrs()}
	var nodes []*Node
	for range 3 {
		nodes = append(nodes, StartNode(t, be.Apply(NodeOptions{Modes: []Mode{Duel(), Squad()}})))
	}
	start := time.Now()
	clients := playScenario(t, nodes, 80, 40, 2, 60*time.Second)
	t.Logf("120 players matched and started in %s", time.Since(start).Round(time.Millisecond))
	s := CheckInvariants(t, clients, CheckOptions{EveryonePlays: true})
	checkCounters(t, nodes, s, map[string]int{"duel": 40, "squad": 10})
}
