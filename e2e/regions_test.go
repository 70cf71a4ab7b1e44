package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// World is a mode with regions (docs/protocol.md section 9.5); latency is
// {max_ms, widen_per_second, max_ms_limit}.
func World(regions []string, latency [3]float64) Mode {
	return Mode{Name: "world", Regions: regions, Latency: latency}
}

// enqueueLat queues c in mode with the given latencies and returns the
// queued reply.
func enqueueLat(t *testing.T, c *Client, mode string, lat map[string]float64) Frame {
	t.Helper()
	rid := c.NextRid()
	c.Send(t, map[string]any{"type": protocol.TypeEnqueue, "rid": rid, "mode": mode, "latencies": lat})
	return c.ExpectRid(t, protocol.TypeQueued, rid)
}

// queueLeaders maps each region of mode to the node whose queue actor
// leads it, as /debug/actors shows; an error when a region has no leader
// or two.
func queueLeaders(t *testing.T, nodes []*Node, mode string) (map[string]*Node, error) {
	t.Helper()
	out := map[string]*Node{}
	for _, n := range nodes {
		for _, a := range n.Actors(t, "queue") {
			d, _ := a["details"].(map[string]any)
			r, _ := d["region"].(string)
			if d["mode"] != mode || a["state"] != "leader" {
				continue
			}
			if want := "queue/" + mode + "/" + r; a["id"] != want {
				return nil, fmt.Errorf("%s: queue actor %v leads region %q, want id %s", n.ID, a["id"], r, want)
			}
			if o, dup := out[r]; dup {
				return nil, fmt.Errorf("region %s led by %s and %s", r, o.ID, n.ID)
			}
			out[r] = n
		}
	}
	return out, nil
}

// leaderIDs names each region's leader by node id (a Node itself must not
// be printed: its process fields change under a running test).
func leaderIDs(ls map[string]*Node) map[string]string {
	out := make(map[string]string, len(ls))
	for r, n := range ls {
		out[r] = n.ID
	}
	return out
}

// TestRegionsEnqueueNeedsLatencies: a mode with regions refuses an enqueue
// without latencies, or with none of its regions, with BAD_REQUEST; an
// ill-typed latencies is BAD_REQUEST for any mode.
func TestRegionsEnqueueNeedsLatencies(t *testing.T) {
	t.Parallel()
	n := StartNode(t, StandaloneBackend(t).Apply(NodeOptions{Modes: []Mode{Duel(), World([]string{"eu", "asia"}, [3]float64{60, 2, 150})}}))
	c := Dial(t, n, "lat", 1000, "")
	for _, req := range []map[string]any{
		{"type": protocol.TypeEnqueue, "mode": "world"},
		{"type": protocol.TypeEnqueue, "mode": "world", "latencies": map[string]any{"mars": 10}},
		{"type": protocol.TypeEnqueue, "mode": "world", "latencies": map[string]any{"eu": -5}},
		{"type": protocol.TypeEnqueue, "mode": "world", "latencies": "fast"},
		{"type": protocol.TypeEnqueue, "mode": "duel", "latencies": []any{10}},
	} {
		req["rid"] = c.NextRid()
		c.Send(t, req)
		c.ExpectError(t, req["rid"].(string), protocol.CodeBadRequest)
	}
	if st := c.Sync(t); StateName(st) != "idle" {
		t.Errorf("after refused enqueues: %s, want idle", st)
	}
	// A mode without regions ignores well-formed latencies.
	enqueueLat(t, c, "duel", map[string]float64{"eu": 10})
}

// TestRegionsDisjointNeverMatched: two players whose playable regions are
// disjoint are not matched together, even once their limits reach the
// cap and both regions' leaders have run; each is matched in its own region
// as soon as a mate comes.
func TestRegionsDisjointNeverMatched(t *testing.T) {
	t.Parallel()
	// The limit starts at 60 and reaches its cap of 150 after 0.1 s.
	mode := World([]string{"eu", "asia"}, [3]float64{60, 900, 150})
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{mode}}))
	if _, err := queueLeaders(t, []*Node{n}, "world"); err != nil {
		t.Fatal(err)
	}
	a, b := Dial(t, n, "eu-only", 1000, ""), Dial(t, n, "asia-only", 1000, "")
	enqueueLat(t, a, "world", map[string]float64{"eu": 20, "asia": 400})
	qb := enqueueLat(t, b, "world", map[string]float64{"asia": 25})
	// Both limits are at the cap by now (0.1 s); wait for ten more ticks of
	// the mode's leaders (both regions tick every 100 ms) after that.
	eventually(t, 5*time.Second, "both limits at the cap", func() error {
		if now := redisNow(t, be); now < qb.Int("queued_at_ms")+200 {
			return fmt.Errorf("Redis's clock %d, the later ticket queued at %d", now, qb.Int("queued_at_ms"))
		}
		return nil
	})
	ticks := SumMetric(t, []*Node{n}, `matchd_matching_tick_seconds_count{mode="world"}`)
	eventually(t, 10*time.Second, "ten more matching ticks", func() error {
		if got := SumMetric(t, []*Node{n}, `matchd_matching_tick_seconds_count{mode="world"}`); got < ticks+10 {
			return fmt.Errorf("%v ticks, want %v", got, ticks+10)
		}
		return nil
	})
	for _, c := range []*Client{a, b} {
		if st := c.Sync(t); StateName(st) != "queued" {
			t.Fatalf("%s: %s, want still queued (its only mate plays elsewhere)", c.Player, st)
		}
	}
	// A mate for each: each pair forms in its own region.
	a2, b2 := Dial(t, n, "eu-mate", 1000, ""), Dial(t, n, "asia-mate", 1000, "")
	enqueueLat(t, a2, "world", map[string]float64{"eu": 30})
	enqueueLat(t, b2, "world", map[string]float64{"asia": 30, "eu": 300})
	for _, tc := range []struct {
		c      *Client
		mate   string
		region string
	}{{a, "eu-mate", "eu"}, {b, "asia-mate", "asia"}} {
		f := tc.c.Expect(t, protocol.TypeMatchFound)
		if got := slices.Concat(f.Teams()...); !slices.Contains(got, tc.mate) || len(got) != 2 {
			t.Errorf("%s matched with %v, want %s", tc.c.Player, got, tc.mate)
		}
		if f.Str("region") != tc.region {
			t.Errorf("%s: match_found region %q, want %s: %s", tc.c.Player, f.Str("region"), tc.region, f)
		}
	}
}

// TestRegionsLimitWidens: a player who only reaches asia at 140 ms is
// matched there once its limit (60 ms + 20 ms per second waited) reaches
// 140, after 4 s of waiting by Redis's clock, and not before.
func TestRegionsLimitWidens(t *testing.T) {
	t.Parallel()
	mode := World([]string{"eu", "asia"}, [3]float64{60, 20, 150})
	mode.LoadingTimeout = 10 * time.Second
	n := StartNode(t, StandaloneBackend(t).Apply(NodeOptions{Modes: []Mode{mode}}))
	far, near := Dial(t, n, "far", 1000, ""), Dial(t, n, "near", 1000, "")
	q := enqueueLat(t, far, "world", map[string]float64{"asia": 140})
	enqueueLat(t, near, "world", map[string]float64{"asia": 20, "eu": 90})
	f, err := far.ExpectErr(protocol.TypeMatchFound, 15*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, far.Dump())
	}
	if f.Str("region") != "asia" {
		t.Errorf("match_found region %q, want asia: %s", f.Str("region"), f)
	}
	// The room's deadline is Redis's clock at the claim plus the loading
	// timeout, and the queue time is Redis's clock at the enqueue.
	formed := f.Int("loading_deadline_ms") - mode.LoadingTimeout.Milliseconds()
	if waited := formed - q.Int("queued_at_ms"); waited < 4000 {
		t.Errorf("matched after %d ms of waiting, before its limit reached 140 ms (4000 ms)", waited)
	}
}

// TestRegionsBestCommonRegion: match_found names the common region with
// the lowest worst-member latency, and the static allocator places the
// match on a server of that region.
func TestRegionsBestCommonRegion(t *testing.T) {
	t.Parallel()
	mode := World([]string{"eu", "us", "asia"}, [3]float64{60, 0, 60})
	// Pairs are kept apart by rating: the window never widens past 10.
	mode.InitialWindow, mode.WidenPerSecond, mode.MaxWindow = 10, 0.001, 10
	n := StartNode(t, StandaloneBackend(t).Apply(NodeOptions{Modes: []Mode{mode}, Set: map[string]any{
		"allocator.mode": "static",
		"allocator.servers": []any{
			map[string]any{"addr": "eu-gs.example:7000", "region": "eu"},
			map[string]any{"addr": "us-gs.example:7000", "region": "us"},
			map[string]any{"addr": "asia-gs.example:7000", "region": "asia"},
		},
	}}))
	for _, tc := range []struct {
		name   string
		rating float64
		lat    [2]map[string]float64
		region string
	}{
		// eu's worst member is at 50, us's at 55, asia is out of reach.
		{"eu", 1000, [2]map[string]float64{{"eu": 50, "us": 40, "asia": 120}, {"eu": 30, "us": 55, "asia": 20}}, "eu"},
		// us's worst is 50, eu's 59.
		{"us", 2000, [2]map[string]float64{{"eu": 59, "us": 45}, {"eu": 20, "us": 50}}, "us"},
		// A tie at 40 between us and asia: the earlier in config order.
		{"tie", 3000, [2]map[string]float64{{"us": 40, "asia": 30}, {"us": 10, "asia": 40}}, "us"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p1, p2 := Dial(t, n, tc.name+"-1", tc.rating, ""), Dial(t, n, tc.name+"-2", tc.rating, "")
			enqueueLat(t, p1, "world", tc.lat[0])
			enqueueLat(t, p2, "world", tc.lat[1])
			var match string
			for _, c := range []*Client{p1, p2} {
				f := c.Expect(t, protocol.TypeMatchFound)
				if f.Str("region") != tc.region {
					t.Errorf("%s: match_found region %q, want %s: %s", c.Player, f.Str("region"), tc.region, f)
				}
				match = f.Str("match_id")
			}
			for _, c := range []*Client{p1, p2} {
				c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
			}
			for _, c := range []*Client{p1, p2} {
				r := c.Expect(t, protocol.TypeMatchReady)
				if addr, _ := r.Obj("server")["addr"].(string); addr != tc.region+"-gs.example:7000" {
					t.Errorf("%s: match_ready server %v, want %s's", c.Player, r.Obj("server"), tc.region)
				}
			}
		})
	}
}

// TestRegionsLeadersSpreadAndFailOver: three nodes running a mode with
// three regions each lead one region (/debug/actors); after kill -9 of one
// of them a survivor takes its region over, and a ticket queued there
// before the kill is matched after it (no ticket lost).
func TestRegionsLeadersSpreadAndFailOver(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	mode := World([]string{"eu", "us", "asia"}, [3]float64{60, 2, 150})
	opts := be.Apply(NodeOptions{Modes: []Mode{mode}, Set: map[string]any{"matchmaking.lock_ttl": "1500ms"}})
	nodes := []*Node{StartNode(t, opts), StartNode(t, opts), StartNode(t, opts)}
	var leaders map[string]*Node
	eventually(t, 20*time.Second, "each node leads one region", func() error {
		var err error
		if leaders, err = queueLeaders(t, nodes, "world"); err != nil {
			return err
		}
		by := map[string][]string{}
		for r, n := range leaders {
			by[n.ID] = append(by[n.ID], r)
		}
		if len(leaders) != 3 || len(by) != 3 {
			return fmt.Errorf("leaders by node: %v", by)
		}
		return nil
	})
	victim := leaders["asia"]
	var survivors []*Node
	for _, n := range nodes {
		if n != victim {
			survivors = append(survivors, n)
		}
	}
	// Matching work is spread: each node's own leader forms the match of
	// its region.
	for _, r := range []string{"eu", "us", "asia"} {
		a, b := Dial(t, survivors[0], r+"-a", 1000, ""), Dial(t, survivors[1], r+"-b", 1000, "")
		enqueueLat(t, a, "world", map[string]float64{r: 20})
		enqueueLat(t, b, "world", map[string]float64{r: 25})
		if f := a.Expect(t, protocol.TypeMatchFound); f.Str("region") != r {
			t.Errorf("%s pair: region %q", r, f.Str("region"))
		}
		b.Expect(t, protocol.TypeMatchFound)
		series := fmt.Sprintf(`matchd_matches_formed_by_region_total{mode="world",region=%q}`, r)
		WaitMetric(t, []*Node{leaders[r]}, series, 1, 5*time.Second)
	}

	// A lone asia ticket, queued before the kill.
	early := Dial(t, survivors[0], "asia-early", 1500, "")
	qe := enqueueLat(t, early, "world", map[string]float64{"asia": 30})
	victim.Kill()
	var heir *Node
	eventually(t, 15*time.Second, "a survivor leads asia", func() error {
		ls, err := queueLeaders(t, survivors, "world")
		if err != nil {
			return err
		}
		if heir = ls["asia"]; heir == nil {
			return fmt.Errorf("asia has no leader; leaders %v", leaderIDs(ls))
		}
		if len(ls) != 3 {
			return fmt.Errorf("%d regions led, want 3", len(ls))
		}
		return nil
	})
	t.Logf("asia moved from %s to %s", victim.ID, heir.ID)
	late := Dial(t, survivors[1], "asia-late", 1500, "")
	enqueueLat(t, late, "world", map[string]float64{"asia": 35, "eu": 400})
	for _, c := range []*Client{early, late} {
		f := c.Expect(t, protocol.TypeMatchFound)
		if got := slices.Concat(f.Teams()...); !slices.Contains(got, "asia-early") || !slices.Contains(got, "asia-late") || f.Str("region") != "asia" {
			t.Errorf("%s: %s, want asia-early with asia-late in asia", c.Player, f)
		}
	}
	t.Logf("the asia ticket queued at %d before the kill was matched after it", qe.Int("queued_at_ms"))
}

// redisNow reads Redis's clock (ms), which stamps queue times.
func redisNow(t *testing.T, be Backend) int64 {
	t.Helper()
	f := strings.Fields(be.Redis().CLI(t, "TIME"))
	if len(f) != 2 {
		t.Fatalf("redis TIME: %q", f)
	}
	sec, err1 := strconv.ParseInt(f[0], 10, 64)
	us, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("redis TIME: %q", f)
	}
	return sec*1000 + us/1000
}

// TestRegionsHomeLeader: a node whose home a region is leads it as soon as
// it lives, even when another node took every region first, and forms the
// matches of that region's players connected to it.
func TestRegionsHomeLeader(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	mode := World([]string{"eu", "asia"}, [3]float64{60, 2, 150})
	set := map[string]any{"matchmaking.lock_ttl": "1500ms"}
	first := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{mode}, Set: set}))
	eventually(t, 10*time.Second, first.ID+" leads both regions", func() error {
		ls, err := queueLeaders(t, []*Node{first}, "world")
		if err == nil && len(ls) != 2 {
			err = fmt.Errorf("leads %d regions", len(ls))
		}
		return err
	})
	homeSet := map[string]any{"matchmaking.lock_ttl": "1500ms", "matchmaking.home_regions": []string{"asia"}}
	home := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{mode}, Set: homeSet}))
	nodes := []*Node{first, home}
	eventually(t, 10*time.Second, home.ID+" leads asia, its home", func() error {
		ls, err := queueLeaders(t, nodes, "world")
		if err != nil {
			return err
		}
		if ls["asia"] != home || ls["eu"] != first {
			return fmt.Errorf("leaders %v, want eu %s, asia %s", leaderIDs(ls), first.ID, home.ID)
		}
		return nil
	})
	// A match of asia players on the home node is formed there.
	a, b := Dial(t, home, "asia-1", 1000, ""), Dial(t, home, "asia-2", 1000, "")
	enqueueLat(t, a, "world", map[string]float64{"asia": 20, "eu": 200})
	enqueueLat(t, b, "world", map[string]float64{"asia": 30})
	if f := a.Expect(t, protocol.TypeMatchFound); f.Str("region") != "asia" {
		t.Errorf("match_found %s, want asia", f)
	}
	WaitMetric(t, []*Node{home}, `matchd_matches_formed_by_region_total{mode="world",region="asia"}`, 1, 5*time.Second)
}
