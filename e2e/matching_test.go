package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// frozenPool freezes the lease holder (lock_ttl is long) while the given
// players enqueue through the other node, in order, then lets it match
// them in one tick.
func frozenPool(t *testing.T, squad bool, ratings map[string]float64, order []string) map[string]*Client {
	t.Helper()
	be := StandaloneBackend(t)
	mode := Duel()
	if squad {
		mode = Squad()
	}
	// The paused leader's lease must outlast the enqueues even on a loaded
	// machine: were it to lapse, the front node would take over and match
	// the first two tickets before the pool is complete.
	opts := be.Apply(NodeOptions{Modes: []Mode{mode}, Set: map[string]any{"matchmaking.lock_ttl": "30s"}})
	leader := startLeader(t, opts)
	front := StartNode(t, opts)
	clients := map[string]*Client{}
	for _, p := range order {
		clients[p] = Dial(t, front, p, ratings[p], "")
	}
	leader.Pause()
	var last int64
	for _, p := range order {
		// The queue orders tickets by the millisecond they were queued in,
		// and tickets of one millisecond are equally old: let the clock
		// (the nodes share it) move on between enqueues.
		for time.Now().UnixMilli() <= last {
			time.Sleep(100 * time.Microsecond)
		}
		rid := clients[p].Req(t, protocol.TypeEnqueue, "mode", mode.Name)
		q := clients[p].ExpectRid(t, protocol.TypeQueued, rid)
		if at := q.Int("queued_at_ms"); at <= last {
			t.Fatalf("%s queued at %d ms, not after the previous ticket (%d ms)", p, at, last)
		} else {
			last = at
		}
	}
	leader.Resume()
	return clients
}

// TestMatchingPicksClosest: the oldest ticket is matched with the
// compatible ticket closest to it in rating (docs/protocol.md section 9.1).
func TestMatchingPicksClosest(t *testing.T) {
	t.Parallel()
	cs := frozenPool(t, false, map[string]float64{"old": 1000, "far": 1090, "near": 1010}, []string{"old", "far", "near"})
	f := cs["old"].Expect(t, protocol.TypeMatchFound)
	members := slices.Concat(f.Teams()...)
	slices.Sort(members)
	if !slices.Equal(members, []string{"near", "old"}) {
		t.Errorf("oldest ticket matched with %v, want the closest rating (near)", f.Teams())
	}
	if st := cs["far"].Sync(t); StateName(st) != "queued" {
		t.Errorf("far: %s", st)
	}
}

// TestTeamsBalanced: a 2x2 match deals players so the teams' rating sums
// are as close as a snake draft allows.
func TestTeamsBalanced(t *testing.T) {
	t.Parallel()
	ratings := map[string]float64{"r1000": 1000, "r1010": 1010, "r1050": 1050, "r1090": 1090}
	cs := frozenPool(t, true, ratings, []string{"r1000", "r1010", "r1050", "r1090"})
	f := cs["r1000"].Expect(t, protocol.TypeMatchFound)
	teams := f.Teams()
	if len(teams) != 2 || len(teams[0]) != 2 || len(teams[1]) != 2 {
		t.Fatalf("teams %v", teams)
	}
	sum := func(tm []string) float64 {
		var s float64
		for _, p := range tm {
			s += ratings[p]
		}
		return s
	}
	// Snake draft over 1090, 1050, 1010, 1000: A 1090+1000, B 1050+1010.
	if d := sum(teams[0]) - sum(teams[1]); d > 40 || d < -40 {
		t.Errorf("teams %v: sums %v vs %v", teams, sum(teams[0]), sum(teams[1]))
	}
}
