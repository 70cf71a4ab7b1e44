package main

import (
	"strconv"
	"testing"
)

// partyUp connects players and puts them in one party, as their party
// frames would.
func partyUp(c *Checker, party string, members ...string) {
	for _, m := range members {
		c.Connected(m, "idle")
		c.PartyView(m, party, members)
	}
}

// partyQueue has the party's leader (the first member) queue it with
// ticket: the leader's reply, then every member's queued.
func partyQueue(c *Checker, ticket string, members ...string) {
	c.EnqueueSent(members[0])
	for _, m := range members {
		c.Queued(m, ticket, false)
	}
}

func partyMatch(c *Checker, match string, teams [][]string, ready bool, players ...string) {
	for _, p := range players {
		c.MatchFound(p, match, teams)
	}
	if ready {
		for _, p := range players {
			c.MatchReady(p, match)
		}
	}
}

func TestCheckerPartiesPass(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	partyUp(c, "P2", "c", "d", "e")
	connectQueue(c, "f")
	// A 3 v 3: the duo and a solo against the trio.
	partyQueue(c, "T1", "a", "b")
	partyQueue(c, "T2", "c", "d", "e")
	teams := [][]string{{"a", "b", "f"}, {"c", "d", "e"}}
	partyMatch(c, "m1", teams, true, "a", "b", "c", "d", "e", "f")

	// Cancelled by the solo's dodge: both parties requeued whole, matched
	// again with the solo's replacement g.
	partyQueue(c, "T3", "a", "b")
	partyQueue(c, "T4", "c", "d", "e")
	connectQueueAgain(c, "f")
	connectQueue(c, "g")
	partyMatch(c, "m2", teams, false, "a", "b", "c", "d", "e", "f")
	c.CancelSent("f")
	c.MatchCancelled("f", "m2", "player_left", false, true)
	for _, p := range []string{"a", "b", "c", "d", "e"} {
		c.MatchCancelled(p, "m2", "player_left", true, false)
		c.Queued(p, map[bool]string{true: "T3", false: "T4"}[p < "c"], true)
	}
	teams3 := [][]string{{"c", "d", "e"}, {"g", "a", "b"}}
	partyMatch(c, "m3", teams3, true, "a", "b", "c", "d", "e", "g")

	// A no-show in the trio: the trio stays idle together, not requeued;
	// the duo and g are requeued, then leave the queue together.
	partyQueue(c, "T5", "c", "d", "e")
	partyQueue(c, "T6", "a", "b")
	c.EnqueueSent("g")
	c.Queued("g", "t-g2", false)
	partyMatch(c, "m4", teams3, false, "a", "b", "c", "d", "e", "g")
	for _, p := range []string{"c", "d", "e"} {
		c.MatchCancelled(p, "m4", "loading_timeout", false, false)
	}
	for _, p := range []string{"a", "b", "g"} {
		c.MatchCancelled(p, "m4", "loading_timeout", true, false)
		c.Queued(p, map[bool]string{true: "T6", false: "t-g2"}[p != "g"], true)
	}
	c.CancelSent("a")
	c.Dequeued("a", "cancelled")
	c.Dequeued("b", "cancelled")
	c.CancelSent("g")
	c.Dequeued("g", "cancelled")

	// e quits; the leader kicks it and the pair plays on without it.
	c.Quit("e")
	c.PartyView("c", "P2", []string{"c", "d"})
	c.PartyView("d", "P2", []string{"c", "d"})
	partyQueue(c, "T7", "c", "d")
	partyQueue(c, "T8", "a", "b")
	partyMatch(c, "m5", [][]string{{"c", "d"}, {"a", "b"}}, true, "a", "b", "c", "d")
	// A member kicked out (here: told party_left) plays alone from then.
	c.PartyLeft("b")
	c.PartyView("a", "P1", []string{"a"})
	c.EnqueueSent("b")
	c.Queued("b", "t-b", false)
	c.Dequeued("b", "timeout")

	expect(t, c, nil)
	v := verdictsByName(c)
	for _, name := range []string{"party-one-team", "party-matched-together", "party-requeued-whole", "party-same-outcome"} {
		if v[name].Checked == 0 {
			t.Errorf("%s checked nothing: %+v", name, v[name])
		}
	}
}

func TestCheckerNoPartyVerdictsWithoutParties(t *testing.T) {
	c := NewChecker()
	connectQueue(c, "a", "b")
	partyMatch(c, "m1", duel, true, "a", "b")
	if _, ok := verdictsByName(c)["party-one-team"]; ok {
		t.Error("party verdicts without a party frame")
	}
}

func TestCheckerPartySplitAcrossTeams(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	connectQueue(c, "c", "d")
	partyQueue(c, "T1", "a", "b")
	partyMatch(c, "m1", [][]string{{"a", "c"}, {"b", "d"}}, true, "a", "b", "c", "d")
	expect(t, c, map[string]string{"party-one-team": "party split across teams"})
}

func TestCheckerPartyMatchedApart(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	connectQueue(c, "c", "d")
	partyQueue(c, "T1", "a", "b")
	// The party's ticket is matched twice, each member in another match.
	partyMatch(c, "m1", [][]string{{"a"}, {"c"}}, true, "a", "c")
	partyMatch(c, "m2", [][]string{{"b"}, {"d"}}, true, "b", "d")
	expect(t, c, map[string]string{
		"party-matched-together": "party ticket matched without some of its players",
		// Each member never hears of its mate's match.
		"party-same-outcome": "member missed outcomes of its party",
	})
	if v := verdictsByName(c)["party-matched-together"]; v.ByKind["party member left out of its party's match"] != 2 {
		t.Errorf("party-matched-together %+v: want each match to miss a member", v.ByKind)
	}

	// A ticket that seats players of two parties.
	c = NewChecker()
	partyUp(c, "P1", "a", "b")
	partyUp(c, "P2", "c")
	partyQueue(c, "T1", "a", "b", "c")
	c.CancelSent("a")
	for _, p := range []string{"a", "b", "c"} {
		c.Dequeued(p, "cancelled")
	}
	expect(t, c, map[string]string{"party-matched-together": "one ticket for players of different parties"})
}

func TestCheckerPartyRequeuedInPart(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	connectQueue(c, "c", "d")
	partyQueue(c, "T1", "a", "b")
	teams := [][]string{{"a", "b"}, {"c", "d"}}
	partyMatch(c, "m1", teams, false, "a", "b", "c", "d")
	c.MatchCancelled("a", "m1", "loading_timeout", true, false)
	c.Queued("a", "T1", true)
	c.MatchCancelled("b", "m1", "loading_timeout", false, false)
	c.MatchCancelled("c", "m1", "loading_timeout", false, false)
	c.MatchCancelled("d", "m1", "loading_timeout", false, false)
	c.CancelSent("a")
	c.Dequeued("a", "cancelled")
	expect(t, c, map[string]string{
		"party-requeued-whole": "party requeued in part",
		"party-same-outcome":   "members told different outcomes",
	})
}

func TestCheckerPartyOutcomeMissed(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	partyQueue(c, "T1", "a", "b")
	c.CancelSent("b")
	c.Dequeued("a", "cancelled")
	c.Dequeued("b", "cancelled")
	// The leader is queued and timed out; b, idle in the same party, is
	// never told either.
	c.EnqueueSent("a")
	c.Queued("a", "T2", false)
	c.Dequeued("a", "timeout")
	expect(t, c, map[string]string{"party-same-outcome": "member missed outcomes of its party"})

	// A member who left the run is not expected to hear more.
	c = NewChecker()
	partyUp(c, "P1", "a", "b")
	partyQueue(c, "T1", "a", "b")
	c.Quit("b")
	c.CancelSent("a")
	c.Dequeued("a", "cancelled")
	expect(t, c, nil)
}

// Over a long run the checker forgets what every member was told, and
// still catches a member told something else late in the run.
func TestCheckerPartyOutcomesLongRun(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	for i := range 100 {
		m := "m" + strconv.Itoa(i)
		partyQueue(c, "T"+m, "a", "b")
		partyMatch(c, m, [][]string{{"a", "b"}, {"x", "y"}}, true, "a", "b")
	}
	c.partyMu.Lock()
	kept := len(c.parties["P1"].subjects)
	c.partyMu.Unlock()
	if kept > 2 {
		t.Errorf("%d outcomes kept for a party whose members agree on all of them", kept)
	}
	expect(t, c, nil)
	partyQueue(c, "Tx", "a", "b")
	c.CancelSent("a")
	c.Dequeued("a", "cancelled")
	c.Dequeued("b", "timeout")
	expect(t, c, map[string]string{"party-same-outcome": "members told different outcomes"})
}

// A player joining a queued party takes the ticket out: the members told
// dequeued (party_changed) and the joiner, who never had that ticket, read
// their frames in any order; what they are told from then on is compared.
func TestCheckerPartyJoinerReadsFirst(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	partyQueue(c, "T1", "a", "b")
	// c's reader runs ahead: the party frame with c in it, the new ticket
	// and its match, all before a and b read their dequeued.
	c.Connected("c", "idle")
	c.PartyView("c", "P1", []string{"a", "b", "c"})
	c.Queued("c", "T2", false)
	c.MatchFound("c", "m1", [][]string{{"a", "b", "c"}, {"x", "y", "z"}})
	c.MatchReady("c", "m1")
	for _, p := range []string{"a", "b"} {
		c.Dequeued(p, "party_changed")
		c.PartyView(p, "P1", []string{"a", "b", "c"})
	}
	c.EnqueueSent("a")
	partyMatchAfterQueue(c, "T2", "m1", "a", "b")
	expect(t, c, nil)
	if v := verdictsByName(c)["party-same-outcome"]; v.Checked == 0 {
		t.Errorf("party-same-outcome checked nothing: %+v", v)
	}

	// The same, with a member told the two outcomes the other way round.
	c = NewChecker()
	partyUp(c, "P1", "a", "b")
	for _, m := range []string{"m1", "m2"} {
		partyQueue(c, "T"+m, "a", "b")
		partyMatch(c, m, [][]string{{"a", "b"}, {"x", "y"}}, false, "a", "b")
	}
	c.MatchCancelled("a", "m1", "player_left", false, false)
	c.MatchCancelled("a", "m2", "player_left", false, false)
	c.MatchCancelled("b", "m2", "player_left", false, false)
	c.MatchCancelled("b", "m1", "player_left", false, false)
	if v := verdictsByName(c)["party-same-outcome"]; v.ByKind["members told outcomes in different orders"] == 0 {
		t.Errorf("party-same-outcome %+v: want the order difference caught", v.ByKind)
	}
}

// One member's reader runs through a match, its requeue and the ticket's
// dequeue while its mate is still reading the first queued: both are told
// the same, and nothing is missed.
func TestCheckerPartyMateReadsBehind(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b")
	c.EnqueueSent("a")
	teams := [][]string{{"a", "b"}, {"x", "y"}}
	story := func(p string) {
		c.Queued(p, "T2", false)
		c.MatchFound(p, "m2", teams)
		c.MatchCancelled(p, "m2", "player_left", true, false)
		c.Queued(p, "T2", true)
		if p == "a" {
			c.CancelSent(p)
		}
		c.Dequeued(p, "cancelled")
	}
	c.Queued("a", "T1", false)
	c.Queued("b", "T1", false)
	c.MatchFound("a", "m1", teams)
	c.MatchCancelled("a", "m1", "player_left", true, false)
	c.Queued("a", "T1", true)
	c.MatchFound("b", "m1", teams)
	c.CancelSent("a")
	c.Dequeued("a", "cancelled")
	c.MatchCancelled("b", "m1", "player_left", true, false)
	c.Queued("b", "T1", true)
	c.Dequeued("b", "cancelled")
	// And once more, a entirely ahead of b.
	c.EnqueueSent("a")
	story("a")
	story("b")
	expect(t, c, nil)
}

// partyMatchAfterQueue: the members read queued with ticket, then
// match_found and match_ready of match.
func partyMatchAfterQueue(c *Checker, ticket, match string, members ...string) {
	for _, m := range members {
		c.Queued(m, ticket, false)
		c.MatchFound(m, match, [][]string{{"a", "b", "c"}, {"x", "y", "z"}})
		c.MatchReady(m, match)
	}
}

// A member never told its party's new ticket is not counted in the last
// one it heard of: the match is judged by the party's members.
func TestCheckerPartyStaleTicket(t *testing.T) {
	c := NewChecker()
	partyUp(c, "P1", "a", "b", "c")
	partyQueue(c, "T1", "a", "b", "c")
	c.Quit("c")
	c.PartyView("a", "P1", []string{"a", "b"})
	c.PartyView("b", "P1", []string{"a", "b"})
	c.CancelSent("a")
	c.Dequeued("a", "party_changed")
	c.Dequeued("b", "party_changed")
	c.EnqueueSent("a")
	c.Queued("a", "T2", false) // b is not told T2 (a protocol-order failure of its own)
	partyMatch(c, "m1", [][]string{{"a", "b"}, {"x", "y"}}, true, "a", "b")
	expect(t, c, map[string]string{"protocol-order": "party member's match_found without its party's queued"})
}
