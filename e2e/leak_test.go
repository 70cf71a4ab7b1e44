package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/matchd/matchd/gateway/protocol"
)

// keyInfo is one key under a prefix with its type and PTTL (-1: no TTL).
type keyInfo struct {
	Key  string
	Type string
	PTTL int64
}

func (k keyInfo) String() string { return fmt.Sprintf("%s (%s, pttl %d)", k.Key, k.Type, k.PTTL) }

// redisKeys lists the keys under prefix with SCAN MATCH (never KEYS), and
// their TYPE and PTTL. A key that expires between the SCAN and the PTTL
// comes back with PTTL -2 and is left out.
func redisKeys(ctx context.Context, c rueidis.Client, prefix string) ([]keyInfo, error) {
	var keys []string
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			return nil, err
		}
		keys = append(keys, e.Elements...)
		cursor = e.Cursor
		if cursor == 0 {
			break
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	cmds := make(rueidis.Commands, 0, 2*len(keys))
	for _, k := range keys {
		cmds = append(cmds, c.B().Type().Key(k).Build(), c.B().Pttl().Key(k).Build())
	}
	res := c.DoMulti(ctx, cmds...)
	out := make([]keyInfo, 0, len(keys))
	for i, k := range keys {
		typ, err := res[2*i].ToString()
		if err != nil {
			return nil, err
		}
		pttl, err := res[2*i+1].AsInt64()
		if err != nil {
			return nil, err
		}
		if pttl == -2 || typ == "none" {
			continue
		}
		out = append(out, keyInfo{Key: k, Type: typ, PTTL: pttl})
	}
	return out, nil
}

func keyNames(ks []keyInfo) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Key
	}
	return out
}

// Behaviours of TestNoKeyLeaks' players.
const (
	bNormal     = "normal"     // loads at once
	bSlow       = "slow"       // loads after 700ms, within the 1500ms loading timeout
	bNoShow     = "no-show"    // never loads
	bDodger     = "dodger"     // cancels right after match_found
	bDisconnect = "disconnect" // drops the connection right after match_found
)

// TestNoKeyLeaks runs 150 duel matches on two nodes sharing one
// redis-server, with mixed behaviour (normal, slow, no-show, dodge,
// disconnect mid-loading), with every TTL short, and checks that once the
// TTLs pass the key set under the test's prefix is exactly what it was
// right after start, and that after the load no key lacks a TTL unless it
// is on the allow-list below. Two parties live their whole life on the
// same nodes meanwhile (playLeakParties), in a 2 v 2 mode beside the duel:
// their records, pointers, invitations, profiles and index leave nothing
// behind either.
func TestNoKeyLeaks(t *testing.T) {
	t.Parallel()
	runKeyLeaks(t, nil, nil, true)
}

// TestNoKeyLeaksRegions is TestNoKeyLeaks with a mode of two regions, led
// by the two nodes: the regions' pools, change lists, leases and the
// mode's list of nodes leave nothing behind either. Half the pairs play in
// each region.
func TestNoKeyLeaksRegions(t *testing.T) {
	t.Parallel()
	runKeyLeaks(t, nil, []string{"eu", "asia"}, false)
}

// TestNoKeyLeaksHTTPAllocator is TestNoKeyLeaks with the http allocator:
// the game-server registry, the allocation records in the rooms and the
// rooms that wait for a server leave nothing behind either.
func TestNoKeyLeaksHTTPAllocator(t *testing.T) {
	t.Parallel()
	g, calls := gameServer(t, http.StatusOK)
	runKeyLeaks(t, g, nil, false)
	if calls.Load() == 0 {
		t.Error("no match reached the game server: the allocator was not exercised")
	}
}

// runKeyLeaks runs the key-leak check; with game, on the http allocator
// with that game server registered (its registration renewed by the test,
// as a fleet would, until the load ends); with parties, a squad mode beside
// the duel where two parties play (playLeakParties) after the duel load.
func runKeyLeaks(t *testing.T, game *httptest.Server, regions []string, parties bool) {
	be := StandaloneBackend(t)
	prefix := KeyPrefix(t)
	// Pairs are fixed by rating: each pair has a rating of its own, 5 apart
	// from the next, and the window never exceeds 1, so only the two
	// players of a pair can ever be matched together. That makes the run
	// deterministic where it matters: a requeued player is alone in its
	// band, so its cancel can never race a new match (which would turn it
	// into a dodge and a second violation, i.e. a 1m ban).
	duel := Mode{Name: "duel", Teams: 2, TeamSize: 1, MaxWait: 10 * time.Minute, LoadingTimeout: 1500 * time.Millisecond,
		InitialWindow: 1, WidenPerSecond: 0.001, MaxWindow: 1, Regions: regions, Latency: [3]float64{60, 2, 150}}
	set := map[string]any{
		"rooms.finished_ttl":      "1s",
		"rooms.adopt_after":       "500ms",
		"rooms.sweep_interval":    "200ms",
		"rooms.node_ttl":          "1500ms",
		"session.reconnect_grace": "500ms",
		"session.directory_ttl":   "3s",
		// What a player was not told (it left for good) is kept this long.
		"session.outcome_ttl": "3s",
		"sanctions.decay":     "2s",
	}
	if game != nil {
		set["allocator.mode"] = "http"
		set["allocator.request_timeout"] = "1s"
		set["allocator.heartbeat"] = "1s"
	}
	modes := []Mode{duel}
	if parties {
		modes = append(modes, leakSquad())
		// A party's keys, its members' pointers and profiles outlive a
		// party only by this much (at least twice session.directory_ttl).
		set["party.ttl"] = "6s"
		set["party.invite_ttl"] = "3s"
	}
	n1 := StartNode(t, be.Apply(NodeOptions{Modes: modes, Set: set}))
	n2 := StartNode(t, be.Apply(NodeOptions{Modes: modes, Set: set}))
	nodes := []*Node{n1, n2}

	rc, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: be.Addrs, DisableCache: true})
	if err != nil {
		t.Fatalf("rueidis: %v", err)
	}
	t.Cleanup(rc.Close)
	ctx := context.Background()
	scan := func() []keyInfo {
		t.Helper()
		ks, err := redisKeys(ctx, rc, prefix)
		if err != nil {
			t.Fatalf("scan %s*: %v", prefix, err)
		}
		return ks
	}

	// The baseline is what two freshly started nodes keep in Redis, exactly:
	// the data-set epoch, each node's liveness key, and the duel queue's
	// matching lease and its fencing counter (the leader takes the lease at
	// start). Anything else right after start would itself be a finding.
	mk := func(suffix string) string { return prefix + ":{m:duel}:" + suffix }
	baseline := []string{prefix + ":epoch", prefix + ":node:" + n1.ID, prefix + ":node:" + n2.ID}
	fences := []string{mk("fence")}
	if len(regions) == 0 {
		baseline = append(baseline, mk("lock"), mk("fence"))
	} else {
		// Each region's lease and fence, the nodes that may lead them and
		// the regions each prefers.
		fences = nil
		baseline = append(baseline, mk("nodes"), mk("homes"))
		for _, r := range regions {
			baseline = append(baseline, mk("lock:"+r), mk("fence:"+r))
			fences = append(fences, mk("fence:"+r))
		}
	}
	// The squad's lease and fencing counter, when the parties play.
	mks := func(suffix string) string { return prefix + ":{m:squad}:" + suffix }
	if parties {
		baseline = append(baseline, mks("lock"), mks("fence"))
		fences = append(fences, mks("fence"))
	}
	slices.Sort(baseline)
	eventually(t, 10*time.Second, "the key set after start is the baseline", func() error {
		if got := keyNames(scan()); !slices.Equal(got, baseline) {
			return fmt.Errorf("keys %v, want %v", got, baseline)
		}
		return nil
	})
	// With the http allocator, a game server registers (after the
	// baseline: its keys must lapse once it stops renewing).
	stopHeartbeat := func() {}
	if game != nil {
		register := func() {
			if code, body := n1.Post(t, "/admin/servers", map[string]any{"id": "gs1", "addr": game.Listener.Addr().String(), "capacity": 1000}); code/100 != 2 {
				t.Errorf("register the game server: %d %s", code, body)
			}
		}
		register()
		done := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					register()
				}
			}
		}()
		stopHeartbeat = func() { close(done); <-stopped }
	}
	t.Logf("baseline (%d keys): %v", len(baseline), scan())

	// Behaviours: 60% normal, 10% each of the others, shuffled and paired.
	const pairs = 150
	rng := rand.New(rand.NewPCG(3, 11)) // a seed with 5 dodger+disconnect pairs
	var bs []string
	for b, n := range map[string]int{bNormal: 180, bSlow: 30, bNoShow: 30, bDodger: 30, bDisconnect: 30} {
		for range n {
			bs = append(bs, b)
		}
	}
	slices.Sort(bs) // map order is random; the seed alone decides the shuffle
	rng.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
	partner := func(i int) int { return i ^ 1 }
	combos := map[string]int{}
	for p := 0; p < pairs; p++ {
		a, b := bs[2*p], bs[2*p+1]
		if a > b {
			a, b = b, a
		}
		combos[a+"+"+b]++
	}
	t.Logf("pair behaviours: %v", combos)

	type plan struct {
		id       string
		behavior string
		rating   float64
		node     *Node
		delay    time.Duration
		// dodgeAfter delays a dodger's cancel.
		dodgeAfter time.Duration
	}
	plans := make([]plan, 2*pairs)
	const arrivals = 3 * time.Second
	order := rng.Perm(2 * pairs)
	// A dodger paired with a disconnecting player dodges 800ms after
	// match_found, when the other is surely offline (its socket closed at
	// match_found, its reconnect grace of 500ms over) and before the 1500ms
	// deadline. When the dodge wins (the reply is match_cancelled
	// player_left), matchd requeues the offline player (docs/protocol.md
	// section 5: the others are requeued whether or not they had loaded):
	// that counts in matchd_players_requeued_total but sends no frame anyone
	// receives, and leaves a ticket whose player has no session, which the
	// queue must dequeue (reason disconnected) for the keys to drain.
	lateDodgers := 0
	for i := range plans {
		plans[i] = plan{id: fmt.Sprintf("lk%03d", i), behavior: bs[i], rating: float64(1000 + 5*(i/2)),
			node: nodes[rng.IntN(2)], delay: arrivals * time.Duration(order[i]) / time.Duration(2*pairs)}
		if bs[i] == bDodger && bs[partner(i)] == bDisconnect {
			plans[i].dodgeAfter = 800 * time.Millisecond
			lateDodgers++
		}
	}
	invisibleRequeues := 0 // late dodges that won: one offline player requeued each

	clients := make([]*Client, len(plans))
	var mu sync.Mutex
	var stuck []string
	outcomes := map[string]int{}
	began := time.Now()
	deadline := began.Add(30 * time.Second)
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := DialErr(t, p.node, p.id, DialOptions{Rating: p.rating, HasRate: true, Device: "dev-" + p.id})
			if err != nil {
				t.Errorf("%s: dial %s: %v", p.id, p.node.ID, err)
				return
			}
			mu.Lock()
			clients[i] = c
			mu.Unlock()
			var lat map[string]float64
			if len(regions) > 0 {
				// Every region within reach; each pair's own fastest.
				lat = map[string]float64{}
				for j, r := range regions {
					lat[r] = float64(20 + 10*((j+i/2)%len(regions)))
				}
			}
			outcome := playLeakClient(t, c, p.behavior, lat, p.delay-time.Since(began), p.dodgeAfter, deadline)
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(outcome, "stuck") {
				stuck = append(stuck, fmt.Sprintf("%s (%s on %s): %s\n%s", p.id, p.behavior, p.node.ID, outcome, c.Dump()))
				return
			}
			outcomes[p.behavior+" -> "+outcome]++
			if p.dodgeAfter > 0 && outcome == "dodged ("+protocol.ReasonPlayerLeft+")" {
				invisibleRequeues++
			}
		}()
	}
	wg.Wait()
	loadTook := time.Since(began)
	if len(stuck) > 0 {
		t.Fatalf("%d players did not end idle or disconnected; first:\n%s", len(stuck), strings.Join(stuck[:min(3, len(stuck))], "\n"))
	}
	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("%s: %d", k, outcomes[k]))
	}
	t.Logf("load took %s; %d of %d late dodges won; outcomes:\n  %s", loadTook.Round(time.Millisecond),
		invisibleRequeues, lateDodgers, strings.Join(lines, "\n  "))

	// Everyone is idle (or gone): check the run, then disconnect everyone.
	var all []*Client
	requeuedFrames := 0
	for _, c := range clients {
		if c == nil {
			continue
		}
		all = append(all, c)
		for _, f := range c.Frames() {
			if f.Type() == protocol.TypeMatchCancelled && f.Bool("requeued") {
				requeuedFrames++
			}
		}
	}
	wantMatches := pairs
	if parties {
		all = append(all, playLeakParties(t, n1, n2)...)
		wantMatches++ // the parties' one match
	}
	s := CheckInvariants(t, all, CheckOptions{})
	if len(s.Found) != wantMatches {
		t.Errorf("clients saw %d distinct matches, want %d (one per pair, and the parties' one)", len(s.Found), wantMatches)
	}
	for _, r := range regions {
		if got := SumMetric(t, nodes, fmt.Sprintf(`matchd_matches_formed_by_region_total{mode="duel",region=%q}`, r)); got == 0 {
			t.Errorf("no match formed in region %s: its keys were not exercised", r)
		}
	}
	// Every requeue the counter counts is a match_cancelled frame with
	// requeued true that a client received, but for the offline players
	// requeued by a late dodge (above), which nobody can receive.
	WaitMetric(t, nodes, `matchd_players_requeued_total{mode="duel"}`, float64(requeuedFrames+invisibleRequeues), 5*time.Second)
	t.Logf("matches: %d found, %d started; players requeued: %d = %d match_cancelled frames with requeued:true + %d offline players; counters: formed %v, started %v, cancelled %v",
		len(s.Found), len(s.Started), requeuedFrames+invisibleRequeues, requeuedFrames, invisibleRequeues,
		SumMetricPrefix(t, nodes, "matchd_matches_formed_total"), SumMetricPrefix(t, nodes, "matchd_matches_started_total"),
		SumMetricPrefix(t, nodes, "matchd_matches_cancelled_total"))
	var closeWG sync.WaitGroup
	for _, c := range all {
		closeWG.Add(1)
		go func() { defer closeWG.Done(); c.Close() }()
	}
	closeWG.Wait()
	// The fleet stops renewing: its registration must lapse too.
	stopHeartbeat()
	afterLoad := time.Now()

	// Keys that may legitimately have no TTL, and when. Each of them but the
	// first two must be gone at the end anyway: (a) checks that.
	type allowed struct {
		why  string
		when func(present map[string]bool) bool
	}
	always := func(map[string]bool) bool { return true }
	roomsOpen := func(p map[string]bool) bool { return p[mk("rooms")] }
	queued := func(p map[string]bool) bool { return p[mk("q")] }
	noTTL := map[string]allowed{
		prefix + ":epoch": {"the data-set epoch: it must outlive everything, a new one means Redis lost its data", always},
		mk("fence"):       {"the mode's fencing counter: it must never go back, or a stale leader's claim could pass", always},
		// The index of unresolved rooms by deadline and their owners: Redis
		// deletes them when the last room resolves.
		mk("rooms"): {"unresolved rooms by deadline", roomsOpen},
		mk("own"):   {"unresolved rooms' owners", roomsOpen},
		// Where each player stands: "m:<match>" for a loading member,
		// "q:<ticket>" for a queued one.
		mk("pl"): {"players in a room or a queue", func(p map[string]bool) bool { return roomsOpen(p) || queued(p) }},
		// The queue, its tickets and their wait starts, while a ticket waits
		// (after the load only an offline player requeued by a late dodge,
		// until the queue dequeues it past the reconnect grace).
		mk("q"): {"queued tickets", queued},
		mk("t"): {"queued tickets' JSON", queued},
		mk("w"): {"queued tickets' wait starts", queued},
		// The queue's change lists: the matching leader takes (deletes) them
		// every tick (20ms), so a scan may see one between two ticks.
		mk("add"): {"tickets added since the leader's last tick", always},
		mk("del"): {"tickets removed since the leader's last tick", always},
	}
	if parties {
		// The squad's keys, allowed as the duel's are, each while its own
		// mode holds what it indexes.
		sqRooms := func(p map[string]bool) bool { return p[mks("rooms")] }
		sqQueued := func(p map[string]bool) bool { return p[mks("q")] }
		noTTL[mks("fence")] = allowed{"the squad's fencing counter", always}
		noTTL[mks("rooms")] = allowed{"the squad's unresolved rooms", sqRooms}
		noTTL[mks("own")] = allowed{"the squad's unresolved rooms' owners", sqRooms}
		noTTL[mks("pl")] = allowed{"players in a squad room or queue", func(p map[string]bool) bool { return sqRooms(p) || sqQueued(p) }}
		noTTL[mks("q")] = allowed{"queued squad tickets", sqQueued}
		noTTL[mks("t")] = allowed{"queued squad tickets' JSON", sqQueued}
		noTTL[mks("w")] = allowed{"queued squad tickets' wait starts", sqQueued}
		noTTL[mks("add")] = allowed{"squad tickets added since the leader's last tick", always}
		noTTL[mks("del")] = allowed{"squad tickets removed since the leader's last tick", always}
	}
	for _, r := range regions {
		noTTL[mk("fence:"+r)] = allowed{"a region's fencing counter", always}
		noTTL[mk("rq:"+r)] = allowed{"a region's pool", queued}
		noTTL[mk("add:"+r)] = allowed{"tickets added to a region's pool since its leader's last tick", always}
		noTTL[mk("del:"+r)] = allowed{"tickets removed from a region's pool since its leader's last tick", always}
	}
	// (b) From now on every key either has a TTL or is allowed above; (a)
	// the key set comes back to the baseline within the TTLs (dir 3s,
	// untold outcomes 3s, violations 2s, finished rooms 1s, grace 500ms,
	// deadlines 1.5s).
	var ttlViolations []string
	seenViolation := map[string]bool{}
	var last []keyInfo
	polls := 0
	err = poll(20*time.Second, func() error {
		polls++
		last = scan()
		present := make(map[string]bool, len(last))
		for _, k := range last {
			present[k.Key] = true
		}
		for _, k := range last {
			if k.PTTL >= 0 {
				continue
			}
			a, ok := noTTL[k.Key]
			if ok && a.when(present) {
				continue
			}
			if !seenViolation[k.Key] {
				seenViolation[k.Key] = true
				note := "not on the allow-list"
				if ok {
					note = "allowed only while it holds " + a.why
				}
				ttlViolations = append(ttlViolations, fmt.Sprintf("%s at +%s: %s (rooms open: %v, tickets queued: %v)",
					k, time.Since(afterLoad).Round(time.Millisecond), note, roomsOpen(present), queued(present)))
			}
		}
		if got := keyNames(last); !slices.Equal(got, baseline) {
			return fmt.Errorf("%d keys, baseline %d", len(got), len(baseline))
		}
		return nil
	})
	if err != nil {
		var left []string
		for _, k := range last {
			if !slices.Contains(baseline, k.Key) {
				left = append(left, k.String())
			}
		}
		var missing []string
		for _, b := range baseline {
			if !slices.ContainsFunc(last, func(k keyInfo) bool { return k.Key == b }) {
				missing = append(missing, b)
			}
		}
		t.Errorf("(a) the key set is not back at the baseline 20s after the load: %v\n  leftovers (%d):\n    %s\n  missing baseline keys: %v",
			err, len(left), strings.Join(left[:min(40, len(left))], "\n    "), missing)
	} else {
		t.Logf("key set back at the baseline %s after the load (%d polls): %v", time.Since(afterLoad).Round(time.Millisecond), polls, last)
	}
	if len(ttlViolations) > 0 {
		t.Errorf("(b) keys without a TTL after the load that are not on the allow-list:\n  %s", strings.Join(ttlViolations, "\n  "))
	}
	// The baseline keys keep their expected lifetimes.
	for _, k := range last {
		switch {
		case k.Key == prefix+":epoch" || slices.Contains(fences, k.Key):
			if k.PTTL != -1 {
				t.Errorf("%s: want no TTL", k)
			}
		default:
			if k.PTTL < 0 {
				t.Errorf("%s: want a TTL", k)
			}
		}
	}
}

// playLeakClient plays one player of TestNoKeyLeaks until it is idle (or
// gone): it enqueues after delay, acts on its first match_found as behavior
// says (a dodger cancels dodgeAfter after it), and cancels its ticket
// whenever it is requeued. It returns how the
// player ended, or "stuck: ..." when it did not end by deadline.
func playLeakClient(t *testing.T, c *Client, behavior string, lat map[string]float64, delay, dodgeAfter time.Duration, deadline time.Time) string {
	// Arrival pacing shapes the load; it synchronises nothing.
	time.Sleep(delay)
	enqRid := c.NextRid()
	enq := map[string]any{"type": protocol.TypeEnqueue, "rid": enqRid, "mode": "duel"}
	if lat != nil {
		enq["latencies"] = lat
	}
	if err := c.SendErr(enq); err != nil {
		return "stuck: enqueue: " + err.Error()
	}
	cancelRid := "" // the outstanding cancel, if any
	sendCancel := func() error {
		cancelRid = c.NextRid()
		return c.SendErr(map[string]any{"type": protocol.TypeCancel, "rid": cancelRid})
	}
	matches := 0
	requeued := 0
	for {
		f, err := c.NextErr(time.Until(deadline))
		if err != nil {
			return "stuck: " + err.Error()
		}
		switch f.Type() {
		case protocol.TypeQueued:
			if f.Bool("requeued") && cancelRid == "" {
				// A requeued player leaves the queue, so that it drains.
				if err := sendCancel(); err != nil {
					return "stuck: cancel: " + err.Error()
				}
			}
		case protocol.TypeMatchFound:
			matches++
			if matches > 1 || cancelRid != "" {
				// Not expected (pairs are fixed by rating); whatever
				// happens, the outstanding cancel or the deadline ends it.
				t.Errorf("%s: unexpected second match_found %s", c.Player, f)
				continue
			}
			match := f.Str("match_id")
			load := func() {
				_ = c.SendErr(map[string]any{"type": protocol.TypeLoadingComplete, "rid": c.NextRid(), "match_id": match})
			}
			switch behavior {
			case bNormal:
				load()
			case bSlow:
				// The delay is the behaviour; an INVALID_STATE reply when
				// the match ended meanwhile (the other dodged) is fine.
				time.AfterFunc(700*time.Millisecond, load)
			case bNoShow:
			case bDodger:
				// The delay is the behaviour (see dodgeAfter).
				time.Sleep(dodgeAfter)
				if err := sendCancel(); err != nil {
					return "stuck: dodge: " + err.Error()
				}
			case bDisconnect:
				c.CloseNow()
				return "disconnected mid-loading"
			}
		case protocol.TypeMatchReady:
			return "match_ready"
		case protocol.TypeMatchCancelled:
			if f.Bool("requeued") {
				requeued++
				continue
			}
			if f.Str("rid") != "" && f.Str("rid") == cancelRid {
				return "dodged (" + f.Str("reason") + ")"
			}
			return fmt.Sprintf("cancelled (%s), requeued %d times before", f.Str("reason"), requeued)
		case protocol.TypeDequeued:
			if f.Str("reason") != protocol.ReasonCancelled {
				t.Errorf("%s: %s, want reason cancelled", c.Player, f)
			}
			return fmt.Sprintf("dequeued after %d requeue(s)", requeued)
		case protocol.TypeError:
			if f.Str("code") != string(protocol.CodeInvalidState) {
				t.Errorf("%s: unexpected error %s", c.Player, f)
				continue
			}
			if f.Str("rid") == "" || f.Str("rid") != cancelRid {
				continue // a slow loader's loading_complete after the match ended
			}
			cancelRid = ""
			switch StateName(f) {
			case "idle":
				return "idle after a refused cancel"
			case "queued":
				if err := sendCancel(); err != nil {
					return "stuck: cancel: " + err.Error()
				}
			}
		}
	}
}
