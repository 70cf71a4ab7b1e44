package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// waitUntil waits for the wall clock to pass at (unix ms): the event a
// deadline test waits for is time itself.
func waitUntil(t *testing.T, atMs int64) {
	t.Helper()
	eventually(t, time.Until(time.UnixMilli(atMs))+5*time.Second, "the deadline to pass", func() error {
		if now := time.Now().UnixMilli(); now <= atMs {
			return fmt.Errorf("%d ms to go", atMs-now)
		}
		return nil
	})
}

// TestClockSkewDecidesNothing: one node's clock runs 20 s ahead and
// another's 20 s behind (debug.clock_offset). Redis's clock decides every
// deadline, so: a member who loads inside the real deadline is never
// charged, no room is adopted while its owner lives, no lease is stolen;
// a no-show and a dodger are charged as usual; and when a room's owner is
// killed, the survivor adopts and judges the room by the real deadline.
func TestClockSkewDecidesNothing(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 4 * time.Second
	set := func(off string) map[string]any {
		return map[string]any{"debug.fault_injection": true, "debug.clock_offset": off,
			"rooms.adopt_after": "1s", "rooms.sweep_interval": "200ms", "rooms.node_ttl": "1500ms",
			"matchmaking.lock_ttl": "1s"}
	}
	ahead := startLeader(t, be.Apply(NodeOptions{Modes: []Mode{duel}, Set: set("20s")}))
	behind := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel}, Set: set("-20s")}))
	nodes := []*Node{ahead, behind}

	// Pairs on both nodes, in rooms the ahead node (the leader) drives.
	pair := func(name string) (a, b *Client, match string, deadline int64) {
		a = Dial(t, ahead, name+"-a", 1000, "")
		b = Dial(t, behind, name+"-b", 1000, "")
		ra := a.Req(t, protocol.TypeEnqueue, "mode", "duel")
		a.ExpectRid(t, protocol.TypeQueued, ra)
		rb := b.Req(t, protocol.TypeEnqueue, "mode", "duel")
		b.ExpectRid(t, protocol.TypeQueued, rb)
		f := a.Expect(t, protocol.TypeMatchFound)
		b.Expect(t, protocol.TypeMatchFound)
		return a, b, f.Str("match_id"), f.Int("loading_deadline_ms")
	}
	// 1. Both load late but inside the real deadline: played, no charge.
	a, b, match, deadline := pair("late")
	if skew := deadline - time.Now().UnixMilli(); skew < int64(duel.LoadingTimeout/time.Millisecond)-1000 || skew > int64(duel.LoadingTimeout/time.Millisecond)+1000 {
		t.Fatalf("loading_deadline_ms is %d ms away, want about %s: a node's clock, not Redis's", skew, duel.LoadingTimeout)
	}
	waitUntil(t, deadline-1000)
	for _, c := range []*Client{a, b} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	for _, c := range []*Client{a, b} {
		if f := c.Expect(t, protocol.TypeMatchReady); f.Str("match_id") != match {
			t.Fatalf("%s: %s", c.Player, f)
		}
	}
	// 2. A no-show: charged once the real deadline passed, not before.
	ns, ok, match2, deadline2 := pair("noshow")
	rid := ok.Req(t, protocol.TypeLoadingComplete, "match_id", match2)
	ok.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	mc := ok.Expect(t, protocol.TypeMatchCancelled)
	if at := time.Now().UnixMilli(); at < deadline2 || mc.Str("reason") != protocol.ReasonLoadingTimeout {
		t.Fatalf("cancelled %d ms before the deadline (%s): a node's clock judged it", deadline2-at, mc)
	}
	ns.Expect(t, protocol.TypeMatchCancelled)
	// The loaded member was requeued; it leaves the queue, so the next pair
	// is matched together.
	ok.Expect(t, protocol.TypeQueued)
	ok.ExpectRid(t, protocol.TypeDequeued, ok.Req(t, protocol.TypeCancel))
	// 3. A dodger is charged, its mate requeued.
	d, m, _, _ := pair("dodge")
	rid = d.Req(t, protocol.TypeCancel)
	d.ExpectRid(t, protocol.TypeMatchCancelled, rid)
	if f := m.Expect(t, protocol.TypeMatchCancelled); !f.Bool("requeued") {
		t.Fatalf("dodger's mate: %s", f)
	}
	cancelOut := m.Req(t, protocol.TypeCancel)
	m.ExpectRid(t, protocol.TypeDequeued, cancelOut)

	if got := SumMetric(t, nodes, `matchd_rooms_adopted_total{mode="duel"}`); got != 0 {
		t.Errorf("%v rooms adopted while their owner lived: a node's clock judged them overdue", got)
	}
	for _, n := range nodes {
		if lost := len(n.FindLogs("matching lease lost")) + len(n.FindLogs("claim refused: lease lost")); lost != 0 {
			t.Errorf("%s: %d lease losses while both nodes lived: a lease was stolen", n.ID, lost)
		}
	}
	for _, p := range []string{"late-a", "late-b", "noshow-b", "dodge-b"} {
		if v := violations(t, behind, p); v != 0 {
			t.Errorf("%s has %d violations, want none", p, v)
		}
	}
	if v := violations(t, behind, "noshow-a"); v != 1 {
		t.Errorf("the no-show has %d violations, want 1", v)
	}
	if v := violations(t, behind, "dodge-a"); v != 1 {
		t.Errorf("the dodger has %d violations, want 1", v)
	}

	// 4. The owner (ahead) dies mid-loading; the survivor (behind) adopts and
	// judges by the real deadline: the member who loads in time is not
	// charged.
	k, l, match4, deadline4 := pair("killed")
	ahead.Kill()
	rid = l.Req(t, protocol.TypeLoadingComplete, "match_id", match4)
	l.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	mc = l.Expect(t, protocol.TypeMatchCancelled)
	if at := time.Now().UnixMilli(); at < deadline4 || mc.Str("reason") != protocol.ReasonLoadingTimeout || !mc.Bool("requeued") {
		t.Fatalf("after the owner died: %s at %d ms before the deadline", mc, deadline4-at)
	}
	_ = k
	if v := violations(t, behind, "killed-b"); v != 0 {
		t.Errorf("the member who loaded in time has %d violations, want none", v)
	}
}

// TestLateLoadingCompleteIsRefused: the room's owner is dead, so nobody
// ends the room at its deadline; members who report loaded after it are
// refused by Redis's clock (the match does not start), and the room is
// cancelled as a timeout once it is adopted.
func TestLateLoadingCompleteIsRefused(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 2 * time.Second
	opts := be.Apply(NodeOptions{Modes: []Mode{duel}, Set: map[string]any{"rooms.sweep_interval": "200ms",
		"rooms.node_ttl": "6s", "rooms.adopt_after": "3s"}})
	owner := startLeader(t, opts)
	other := StartNode(t, opts)
	a := Dial(t, other, "la", 1000, "")
	b := Dial(t, other, "lb", 1000, "")
	a.Req(t, protocol.TypeEnqueue, "mode", "duel")
	b.Req(t, protocol.TypeEnqueue, "mode", "duel")
	f := a.Expect(t, protocol.TypeMatchFound)
	b.Expect(t, protocol.TypeMatchFound)
	match, deadline := f.Str("match_id"), f.Int("loading_deadline_ms")
	owner.Kill()
	waitUntil(t, deadline+200)
	for _, c := range []*Client{a, b} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		e := c.ExpectError(t, rid, protocol.CodeInvalidState)
		if !strings.Contains(e.Str("message"), "deadline") {
			t.Errorf("%s: %s, want the late mark refused for the deadline", c.Player, e)
		}
	}
	for _, c := range []*Client{a, b} {
		mc := c.Expect(t, protocol.TypeMatchCancelled)
		if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonLoadingTimeout {
			t.Errorf("%s: %s, want %s cancelled as loading_timeout", c.Player, mc, match)
		}
	}
	noFrame(t, []*Client{a, b}, protocol.TypeMatchReady, "")
}

// TestLeaderStalledPastLease: the leader is stopped (SIGSTOP) past its
// lease, another node takes the lease and matches, then the old leader
// resumes. Its next read of the queue's changes is fenced: it takes nothing
// its successor needs, so every ticket queued afterwards is matched within
// a couple of ticks (measured, and logged) and nobody is in two matches.
func TestLeaderStalledPastLease(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	opts := be.Apply(NodeOptions{Set: map[string]any{"matchmaking.lock_ttl": "600ms", "matchmaking.tick": "50ms"}})
	nodes := []*Node{startLeader(t, opts), StartNode(t, opts)}
	var all []*Client
	for round := range 3 {
		stopped := leaderOf(t, nodes, "duel")
		next := nodes[0]
		if next == stopped {
			next = nodes[1]
		}
		stopped.Pause()
		eventually(t, 10*time.Second, "the other node to lead", func() error {
			for _, a := range next.Actors(t, "queue") {
				if a["state"] == "leader" {
					return nil
				}
			}
			return fmt.Errorf("not yet")
		})
		pairs := func(tag string) []time.Duration {
			var waits []time.Duration
			for i := range 3 {
				a := Dial(t, next, fmt.Sprintf("r%d-%s%d-a", round, tag, i), 1000, "")
				b := Dial(t, next, fmt.Sprintf("r%d-%s%d-b", round, tag, i), 1000, "")
				all = append(all, a, b)
				a.ExpectRid(t, protocol.TypeQueued, a.Req(t, protocol.TypeEnqueue, "mode", "duel"))
				start := time.Now()
				b.ExpectRid(t, protocol.TypeQueued, b.Req(t, protocol.TypeEnqueue, "mode", "duel"))
				b.Expect(t, protocol.TypeMatchFound)
				waits = append(waits, time.Since(start))
				a.Expect(t, protocol.TypeMatchFound)
			}
			return waits
		}
		pairs("during")
		stopped.Resume()
		var worst time.Duration
		for _, w := range pairs("after") {
			worst = max(worst, w)
		}
		t.Logf("round %d: enqueue -> match_found right after the old leader resumed: worst %s (tick 50ms)", round, worst)
		if worst > 2*time.Second {
			t.Errorf("a ticket waited %s after the old leader resumed: its changes went to the stalled node", worst)
		}
	}
	CheckInvariants(t, all, CheckOptions{})
}
