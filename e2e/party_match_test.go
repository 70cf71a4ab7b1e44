package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Parties through matching end to end (docs/protocol.md section 9.6), on
// two nodes sharing one redis-server.

// teamOf returns the index of the team of match_found's teams that holds
// player, or -1.
func teamOf(teams [][]string, player string) int {
	for i, tm := range teams {
		if slices.Contains(tm, player) {
			return i
		}
	}
	return -1
}

// TestPartyFiveVFive: in a 5 v 5 mode a trio, two duos and three solos,
// each party spread over both nodes, form one match: every party is whole
// on one team, each team has five, every player gets the same match_found,
// and every member of a party was queued with its leader's ticket. They
// load and play.
func TestPartyFiveVFive(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("five", 5)}, nil)
	dial := func(id string, n *Node, rating float64) *Client { return Dial(t, n, "p5-"+id, rating, "dev-p5-"+id) }
	trio := []*Client{dial("t1", n1, 1500), dial("t2", n2, 1540), dial("t3", n1, 1460)}
	duoA := []*Client{dial("a1", n2, 1520), dial("a2", n1, 1480)}
	duoB := []*Client{dial("b1", n1, 1510), dial("b2", n2, 1490)}
	solos := []*Client{dial("s1", n1, 1505), dial("s2", n2, 1495), dial("s3", n2, 1500)}
	parties := [][]*Client{trio, duoA, duoB}
	var all []*Client
	for _, p := range parties {
		formParty(t, p[0], p[1:]...)
		all = append(all, p...)
	}
	all = append(all, solos...)
	// The parties queue first, each member told; the solos last, so that
	// the match can only form once everyone is in.
	for _, p := range parties {
		queueParty(t, "five", p[0], p[1:]...)
	}
	for _, s := range solos {
		rid := s.Req(t, protocol.TypeEnqueue, "mode", "five")
		s.ExpectRid(t, protocol.TypeQueued, rid)
	}

	found := map[string]Frame{}
	for _, c := range all {
		found[c.Player] = c.Expect(t, protocol.TypeMatchFound)
	}
	first := found[trio[0].Player]
	match, teams := first.Str("match_id"), first.Teams()
	for p, f := range found {
		if f.Str("match_id") != match || !slices.EqualFunc(f.Teams(), teams, slices.Equal[[]string]) {
			t.Fatalf("%s: %s, want the match_found of %s: %s", p, f, match, first)
		}
	}
	if len(teams) != 2 || len(teams[0]) != 5 || len(teams[1]) != 5 {
		t.Fatalf("teams %v, want two teams of five", teams)
	}
	for _, c := range all {
		if teamOf(teams, c.Player) < 0 {
			t.Fatalf("%s is in no team of %v", c.Player, teams)
		}
	}
	for _, p := range parties {
		team := teamOf(teams, p[0].Player)
		for _, m := range p[1:] {
			if teamOf(teams, m.Player) != team {
				t.Errorf("the party of %s is split: %s is on another team of %v", p[0].Player, m.Player, teams)
			}
		}
	}
	nodes := []*Node{n1, n2}
	for size, want := range map[string]float64{"3": 1, "2": 2} {
		if got := SumMetric(t, nodes, `matchd_party_tickets_enqueued_total{mode="five",size="`+size+`"}`); got != want {
			t.Errorf("party tickets of size %s: %v, want %v", size, got, want)
		}
	}

	for _, c := range all {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	for _, c := range all {
		if f := c.Expect(t, protocol.TypeMatchReady); f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match_ready of %s", c.Player, f, match)
		}
	}
	CheckInvariants(t, all, CheckOptions{})
}

// TestPartyRatedAtMean: a duo rated 1000 and 2000 counts as one unit
// rated 1500, so in a mode whose window stays at 10 it is matched at once
// with two solos of 1500 (its members' own ratings are 500 away from
// them), and team balance sums the members' ratings (3000 against 3000).
func TestPartyRatedAtMean(t *testing.T) {
	t.Parallel()
	narrow := Mode{Name: "narrow", Teams: 2, TeamSize: 2, InitialWindow: 10, WidenPerSecond: 0.001, MaxWindow: 10,
		LoadingTimeout: 20 * time.Second}
	n1, n2 := partyNodes(t, []Mode{narrow}, nil)
	low := Dial(t, n1, "pm-low", 1000, "")
	high := Dial(t, n2, "pm-high", 2000, "")
	s1 := Dial(t, n2, "pm-s1", 1500, "")
	s2 := Dial(t, n1, "pm-s2", 1500, "")
	formParty(t, low, high)
	queueParty(t, "narrow", low, high)
	for _, s := range []*Client{s1, s2} {
		rid := s.Req(t, protocol.TypeEnqueue, "mode", "narrow")
		s.ExpectRid(t, protocol.TypeQueued, rid)
	}
	var match string
	for _, c := range []*Client{low, high, s1, s2} {
		f := c.Expect(t, protocol.TypeMatchFound)
		if match == "" {
			match = f.Str("match_id")
			if teams := f.Teams(); teamOf(teams, low.Player) != teamOf(teams, high.Player) || teamOf(teams, s1.Player) != teamOf(teams, s2.Player) {
				t.Fatalf("teams %v, want the duo against the two solos", teams)
			}
		}
		if f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match %s", c.Player, f, match)
		}
	}
}

// TestPartyMaxWait: a party's ticket that waits past max_wait leaves the
// queue whole: every member is sent dequeued (timeout) with its ticket.
func TestPartyMaxWait(t *testing.T) {
	t.Parallel()
	short := teamMode("short", 2)
	short.MaxWait = time.Second
	n1, n2 := partyNodes(t, []Mode{short}, nil)
	leader := Dial(t, n1, "pw-leader", 1000, "")
	mate := Dial(t, n2, "pw-mate", 1000, "")
	party := formParty(t, leader, mate)
	q := queueParty(t, "short", leader, mate)
	for _, c := range []*Client{leader, mate} {
		d := c.ExpectFuncErrT(t, "dequeued", func(f Frame) bool { return f.Type() == protocol.TypeDequeued })
		if d.Str("reason") != protocol.ReasonTimeout || d.Str("ticket_id") != q.Str("ticket_id") {
			t.Fatalf("%s: %s, want dequeued timeout of %s", c.Player, d, q.Str("ticket_id"))
		}
		wantState(t, c, protocol.StateIdle, party)
	}
}

// TestPartyEnqueueCompletesMatch: the party's enqueue is the one that
// completes a match (two solos wait already), so the match forms at once.
// Every member is still sent queued with the leader's ticket, before its
// match_found (a reply, or the queued it stands for, comes before what it
// causes).
func TestPartyEnqueueCompletesMatch(t *testing.T) {
	t.Parallel()
	enqueueCompletesMatch(t, nil)
}

// TestPartyEnqueueCompletesMatchNewsLost is TestPartyEnqueueCompletesMatch
// with the leader's news to the member's node that the party was queued
// lost (a fault-injection switch: Pub/Sub may lose any message), and the
// member's periodic read of Redis far off: the member's session learns of
// the party's ticket from the match itself, and must still tell it queued
// first.
func TestPartyEnqueueCompletesMatchNewsLost(t *testing.T) {
	t.Parallel()
	enqueueCompletesMatch(t, map[string]any{"debug.drop_bus": []string{"party_queued"}, "session.reconcile_interval": "30s"})
}

func enqueueCompletesMatch(t *testing.T, set map[string]any) {
	n1, n2 := partyNodes(t, []Mode{teamMode("squad", 2)}, set)
	// The member sits on the node that forms the match, so its match_found
	// needs no trip through Pub/Sub, while the news of the party's ticket
	// comes from the leader's node.
	here := leaderOf(t, []*Node{n1, n2}, "squad")
	there := n1
	if here == n1 {
		there = n2
	}
	s1 := Dial(t, here, "pc-s1", 1500, "")
	s2 := Dial(t, there, "pc-s2", 1500, "")
	lead := Dial(t, there, "pc-lead", 1500, "")
	mate := Dial(t, here, "pc-mate", 1500, "")
	formParty(t, lead, mate)
	for _, s := range []*Client{s1, s2} {
		rid := s.Req(t, protocol.TypeEnqueue, "mode", "squad")
		s.ExpectRid(t, protocol.TypeQueued, rid)
	}
	rid := lead.Req(t, protocol.TypeEnqueue, "mode", "squad")
	q := lead.ExpectRid(t, protocol.TypeQueued, rid)
	for _, c := range []*Client{lead, mate} {
		f := c.ExpectFuncErrT(t, "queued or match_found", func(f Frame) bool {
			return f.Type() == protocol.TypeMatchFound || (f.Type() == protocol.TypeQueued && f.Str("rid") == "")
		})
		if c == mate {
			if f.Type() != protocol.TypeQueued || f.Str("ticket_id") != q.Str("ticket_id") {
				t.Fatalf("%s: %s, want queued with the leader's ticket %s before match_found\n%s", c.Player, f, q.Str("ticket_id"), c.Dump())
			}
			f = c.Expect(t, protocol.TypeMatchFound)
		}
		if f.Type() != protocol.TypeMatchFound {
			t.Fatalf("%s: %s, want match_found", c.Player, f)
		}
	}
}
