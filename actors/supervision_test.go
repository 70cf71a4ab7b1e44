package actors

import (
	"context"
	"testing"
	"time"

	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// A session that exhausts its restart budget tells its player INTERNAL with
// an incident id, closes the connection with 1011, and removes its
// directory entry, so that no leader matches a player nobody can tell.
func TestSessionPastItsRestartBudgetClosesAndLeaves(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), func(c *config.Config) {
		c.Supervision.MaxRestarts = 2
		c.Supervision.Window = time.Minute
	})
	p := n.connect("fragile", 1500)
	p.enqueue("duel")
	for range 3 {
		n.node.system.Root.Send(p.pid, &Crash{})
	}
	e := p.expect(protocol.TypeError)
	if e["code"] != string(protocol.CodeInternal) || e["incident_id"] == nil || e["incident_id"] == "" {
		t.Fatalf("got %v, want INTERNAL with an incident id", e)
	}
	waitFor(t, "the connection closed with 1011", func() bool { return p.out.closeCode() == protocol.CloseInternal })
	waitFor(t, "the directory entry removed", func() bool {
		nodes, err := n.rc.DirNodes(context.Background(), []string{"fragile"})
		return err == nil && nodes["fragile"] == ""
	})
	// The other sessions of the node are untouched.
	q := n.connect("sturdy", 1500)
	q.enqueue("duel")
}

// A session that crashes during its player's reconnect grace keeps the
// grace: it still ends on time, and the ticket of the player who left is
// cancelled (reason disconnected, recorded for its return), instead of
// staying queued, being matched and charged as a no-show.
func TestCrashDuringGraceKeepsTheGrace(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), func(c *config.Config) {
		c.Session.ReconnectGrace = 400 * time.Millisecond
	})
	p := n.connect("leaver", 1500)
	q := p.enqueue("duel")
	n.node.Closed(p.pid, p.out.id)
	n.crash(t, "session/leaver")
	ctx := context.Background()
	waitFor(t, "the ticket of the player who left removed", func() bool {
		e, err := n.rc.PlayerEntry(ctx, "duel", "leaver")
		return err == nil && e.Kind == redisx.EntryNone
	})
	tr, err := n.rc.ReadTruth(ctx, "leaver", []string{"duel"})
	if err != nil || len(tr.Outcomes) != 1 || tr.Outcomes[0].Reason != protocol.ReasonDisconnected || tr.Outcomes[0].Ref != q["ticket_id"] {
		t.Fatalf("outcomes %+v (%v), want the ticket dequeued as disconnected", tr.Outcomes, err)
	}
}

// A room whose record vanished unresolved (its TTL passed while its owner
// was away) is forgotten by the sweep: its members are freed, told
// match_cancelled (room_lost) and requeued with their queue time; the
// cancellation is counted once.
func TestForgottenRoomTellsItsMembers(t *testing.T) {
	t.Parallel()
	n := startTestNode(t, redistest.Config(t), func(c *config.Config) {
		c.Rooms.SweepInterval = 50 * time.Millisecond
		c.Rooms.AdoptAfter = 50 * time.Millisecond
		c.Matchmaking.Modes[0].LoadingTimeout = 200 * time.Millisecond
	})
	a := n.connect("fa", 1500)
	qa := a.enqueue("duel")
	b := n.connect("fb", 1500)
	b.enqueue("duel")
	found := a.expect(protocol.TypeMatchFound)
	b.expect(protocol.TypeMatchFound)
	match := found["match_id"].(string)
	// The room's record is lost, and its actor with it.
	ctx := context.Background()
	waitFor(t, "the room's actor", func() bool { return n.env.registry.room(match) != nil })
	n.node.system.Root.Stop(n.env.registry.room(match))
	if err := n.rc.R.Do(ctx, n.rc.R.B().Del().Key(n.rc.Keys.Room("duel", match)).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*player{a, b} {
		mc := p.expect(protocol.TypeMatchCancelled)
		if mc["match_id"] != match || mc["reason"] != protocol.ReasonRoomLost || mc["requeued"] != true {
			t.Fatalf("%s: %v, want match_cancelled room_lost requeued", p.id, mc)
		}
		q := p.expect(protocol.TypeQueued)
		if p == a && q["queued_at_ms"] != qa["queued_at_ms"] {
			t.Fatalf("alice requeued at %v, want her original queue time %v", q["queued_at_ms"], qa["queued_at_ms"])
		}
	}
	waitFor(t, "one room_lost cancellation counted", func() bool {
		return counter(n.metrics.MatchesCancelled.WithLabelValues("duel", protocol.ReasonRoomLost)) == 1
	})
	if got := counter(n.metrics.Violations.WithLabelValues("no_show")); got != 0 {
		t.Fatalf("no-shows charged for a lost room: %v", got)
	}
}
