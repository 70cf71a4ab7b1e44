package e2e

import (
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// leakSquad is the 2 v 2 mode TestNoKeyLeaks' parties play in.
func leakSquad() Mode {
	return Mode{Name: "squad", Teams: 2, TeamSize: 2, MaxWait: 10 * time.Minute, LoadingTimeout: 1500 * time.Millisecond}
}

// playLeakParties takes two parties through a party's whole life for
// TestNoKeyLeaks, each spread over both nodes: created, invited (one
// invitation is never answered and lapses), joined, queued, changed while
// queued (a join takes the ticket out, a kick), queued again, matched
// against each other, played, left and disbanded. It returns the clients,
// every one idle and in no party.
func playLeakParties(t *testing.T, n1, n2 *Node) []*Client {
	t.Helper()
	nodes := []*Node{n1, n2}
	dial := func(id string, n *Node) *Client { return Dial(t, n, "lkp-"+id, 5000, "dev-lkp-"+id) }
	p1, p2 := dial("p1", n1), dial("p2", n2)
	q1, q2 := dial("q1", n2), dial("q2", n1)
	x := dial("x", n1)
	formParty(t, p1, p2)
	qParty := formParty(t, q1, q2)
	for _, n := range nodes {
		WaitMetric(t, []*Node{n}, "matchd_parties", 2, 5*time.Second)
	}
	okParty(t, q1, "party_invite of a player who never comes")(q1.cl.PartyInvite(opCtx(t), "lkp-ghost"))
	okParty(t, q1, "party_invite x")(q1.cl.PartyInvite(opCtx(t), x.Player))
	x.Expect(t, protocol.TypePartyInvited)

	q := queueParty(t, "squad", q1, q2)
	okParty(t, x, "party_join of a queued party")(x.cl.PartyJoin(opCtx(t), qParty))
	for _, c := range []*Client{q1, q2} {
		d := c.ExpectFuncErrT(t, "dequeued", func(f Frame) bool { return f.Type() == protocol.TypeDequeued })
		if d.Str("reason") != protocol.ReasonPartyChanged || d.Str("ticket_id") != q.Str("ticket_id") {
			t.Fatalf("%s: %s, want dequeued party_changed", c.Player, d)
		}
	}
	okParty(t, q1, "party_kick x")(q1.cl.PartyKick(opCtx(t), x.Player))
	if l := x.Expect(t, protocol.TypePartyLeft); l.Str("reason") != protocol.PartyLeftKicked || l.Str("party_id") != qParty {
		t.Fatalf("%s: %s, want party_left kicked", x.Player, l)
	}

	queueParty(t, "squad", q1, q2)
	queueParty(t, "squad", p1, p2)
	players := []*Client{p1, p2, q1, q2}
	match := ""
	for _, c := range players {
		f := c.Expect(t, protocol.TypeMatchFound)
		if match == "" {
			match = f.Str("match_id")
		}
		if f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match %s", c.Player, f, match)
		}
	}
	for _, c := range players {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	for _, c := range players {
		c.Expect(t, protocol.TypeMatchReady)
	}
	for _, c := range players {
		l, err := c.cl.PartyLeave(opCtx(t))
		if err != nil || l.Reason != protocol.PartyLeftLeft {
			t.Fatalf("%s: party_leave: %+v, %v", c.Player, l, err)
		}
	}
	for _, n := range nodes {
		WaitMetric(t, []*Node{n}, "matchd_parties", 0, 5*time.Second)
	}
	all := append(players, x)
	for _, c := range all {
		wantState(t, c, protocol.StateIdle, "")
	}
	return all
}
