package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Parties in the checker (docs/protocol.md section 9.6). A player's party
// is what its own last party frame said (the server orders a session's own
// party news before anything its party does next); a party's ticket is
// every player that was told queued with it. From these the checker holds
// four promises:
//
//	party-one-team          the members of a party (or of one party
//	                        ticket) in a match sit on one team
//	party-matched-together  a match holds all of a party's members or
//	                        none: every player queued with the ticket and
//	                        every member its members saw (bar those that
//	                        left the run) is in the match
//	party-requeued-whole    a cancelled match gives every member of a party
//	                        the same requeued
//	party-same-outcome      every member of a party is told the same ends
//	                        (match ready or cancelled, dequeued), with the
//	                        same match ids, in the same order

// partyUnit is one party member's seat in a match, as the member saw it.
type partyUnit struct {
	player, party, ticket string
	team                  int
	// members are the party's members as the player's last party frame
	// listed them when match_found arrived.
	members []string
	// requeued is what the member's match_cancelled said: 0 not told, 1
	// false, 2 true.
	requeued uint8
}

// partyTicket is one party ticket: the party of the first player told
// queued with it, and every player told so.
type partyTicket struct {
	party   string
	players []string
}

// partyRec is one party's outcomes as its members were told them: ref
// holds the outcomes from index base on, in the order the first member to
// reach each position was told it; cursor is where each member is.
type partyRec struct {
	base   int
	ref    []string
	first  []string // the member that set each ref entry
	cursor map[string]int
	gone   map[string]bool // members that left the party or the run
}

// PartyView records a party frame: the player is in party (its members in
// join order).
func (c *Checker) PartyView(player, party string, members []string) {
	c.partyMu.Lock()
	c.partied = true
	c.partyMu.Unlock()
	var old string
	c.with(player, func(p *pstate) {
		old = p.party
		p.party, p.members = party, slices.Clone(members)
	})
	if old != party {
		c.partyJoined(player, old, party)
	}
}

// PartyLeft records a party_left frame: the player is in no party.
func (c *Checker) PartyLeft(player string) {
	var old string
	c.with(player, func(p *pstate) {
		old = p.party
		p.party, p.members = "", nil
	})
	if old != "" {
		c.partyJoined(player, old, "")
	}
}

// partyJoined moves a player's outcome tracking from party old to party
// now: it is expected to be told what now's members are told from here on.
func (c *Checker) partyJoined(player, old, now string) {
	c.partyMu.Lock()
	defer c.partyMu.Unlock()
	if r := c.parties[old]; old != "" && r != nil {
		r.gone[player] = true
	}
	if now == "" {
		return
	}
	r := c.parties[now]
	if r == nil {
		r = &partyRec{cursor: map[string]int{}, gone: map[string]bool{}}
		c.parties[now] = r
	}
	r.cursor[player] = r.base + len(r.ref)
	delete(r.gone, player)
}

// partyGone records that a player left the run (quit, closed): its party
// no longer waits for it to be told anything.
func (c *Checker) partyGone(party, player string) {
	if party == "" {
		return
	}
	c.partyMu.Lock()
	if r := c.parties[party]; r != nil {
		r.gone[player] = true
	}
	c.partyMu.Unlock()
}

// partyTicketSeen records that player, in party, was told queued with a
// party ticket.
func (c *Checker) partyTicketSeen(player, party, ticket string) {
	if party == "" || ticket == "" {
		return
	}
	c.partyMu.Lock()
	defer c.partyMu.Unlock()
	t := c.tickets[ticket]
	if t == nil {
		t = &partyTicket{party: party}
		c.tickets[ticket] = t
	}
	if slices.Contains(t.players, player) {
		return
	}
	t.players = append(t.players, player)
	if t.party != party {
		c.partyTogether.add("one ticket for players of different parties",
			fmt.Sprintf("%s (party %s) was queued with ticket %s of party %s", player, party, ticket, t.party))
	}
}

// partyOutcome records an end the player, in party, was told.
func (c *Checker) partyOutcome(player, party, outcome string) {
	if party == "" {
		return
	}
	c.partyOutcomes.check(1)
	c.partyMu.Lock()
	defer c.partyMu.Unlock()
	r := c.parties[party]
	if r == nil {
		return
	}
	at, ok := r.cursor[player]
	if !ok || r.gone[player] {
		return
	}
	r.cursor[player] = at + 1
	if i := at - r.base; i < len(r.ref) {
		if i >= 0 && r.ref[i] != outcome {
			c.partyOutcomes.add("members told different outcomes",
				fmt.Sprintf("%s of party %s was told %q where %s was told %q (outcome #%d)", player, party, outcome, r.first[i], r.ref[i], at+1))
		}
	} else {
		r.ref = append(r.ref, outcome)
		r.first = append(r.first, player)
	}
	// Forget what every member still in the party has been told.
	low := r.base + len(r.ref)
	for m, cur := range r.cursor {
		if !r.gone[m] {
			low = min(low, cur)
		}
	}
	if drop := low - r.base; drop > 32 {
		r.ref = slices.Delete(r.ref, 0, drop)
		r.first = slices.Delete(r.first, 0, drop)
		r.base = low
	}
}

// partyVerdicts judges the party invariants; known maps each player to its
// final state, party to its final party. It runs once the run is over.
func (c *Checker) partyVerdicts(known map[string]cstate, party map[string]string) []Verdict {
	c.partyMu.Lock()
	partied := c.partied
	tickets := c.tickets
	outcomes := c.partyOutcomes.clone()
	for id, r := range c.parties {
		end := r.base + len(r.ref)
		for _, m := range sortedKeys(r.cursor) {
			cur := r.cursor[m]
			if r.gone[m] || cur >= end || known[m].waiting() || known[m] == csGone || party[m] != id {
				continue
			}
			// Still in the party at the end, idle, yet told less than a
			// mate: an outcome of its party never reached it.
			missed := r.ref[max(cur-r.base, 0):]
			outcomes.add("member missed outcomes of its party",
				fmt.Sprintf("%s of party %s was never told %q (%d outcome(s), the first told to %s)", m, id, missed[0], len(missed), r.first[max(cur-r.base, 0)]))
		}
	}
	c.partyMu.Unlock()
	if !partied {
		return nil
	}
	oneTeam := c.partyOneTeam.clone()
	together := c.partyTogether.clone()
	requeue := c.partyRequeue.clone()
	for i := range c.matches {
		sh := &c.matches[i]
		sh.mu.Lock()
		for id, m := range sh.m {
			if len(m.units) > 0 {
				judgeMatchParties(id, m, tickets, known, oneTeam, together, requeue)
			}
		}
		sh.mu.Unlock()
	}
	return []Verdict{
		oneTeam.verdict("party-one-team", "the members of a party in a match sit on one team"),
		together.verdict("party-matched-together", "a match holds all of a party's members or none of them"),
		requeue.verdict("party-requeued-whole", "every member of a party gets the same requeued when its match is cancelled"),
		outcomes.verdict("party-same-outcome", "every member of a party is told the same outcomes (match ids, how each ended, dequeues) in the same order"),
	}
}

// judgeMatchParties checks the party members of one match.
func judgeMatchParties(id string, m *mstate, tickets map[string]*partyTicket, known map[string]cstate, oneTeam, together, requeue *violations) {
	byParty := map[string][]*partyUnit{}
	byTicket := map[string][]*partyUnit{}
	for i := range m.units {
		u := &m.units[i]
		byParty[u.party] = append(byParty[u.party], u)
		if u.ticket != "" {
			byTicket[u.ticket] = append(byTicket[u.ticket], u)
		}
	}
	split := func(units []*partyUnit) bool {
		for _, u := range units[1:] {
			if u.team != units[0].team {
				return true
			}
		}
		return false
	}
	names := func(units []*partyUnit) string {
		var b []string
		for _, u := range units {
			b = append(b, fmt.Sprintf("%s on team %d", u.player, u.team+1))
		}
		return strings.Join(b, ", ")
	}
	for _, p := range sortedKeys(byParty) {
		units := byParty[p]
		oneTeam.check(1)
		if split(units) {
			oneTeam.add("party split across teams", fmt.Sprintf("%s: party %s has %s", id, p, names(units)), id)
		}
		// Every mate a member saw must be in the match, unless it left the
		// run (its seat is then the server's to fill or cancel).
		missing := map[string]bool{}
		for _, u := range units {
			for _, x := range u.members {
				if !slices.Contains(m.members, x) && known[x] != csGone {
					missing[x] = true
				}
			}
		}
		together.check(1)
		if len(missing) > 0 {
			who := sortedKeys(missing)
			together.add("party member left out of its party's match",
				fmt.Sprintf("%s: of party %s, is not in %s, which holds %s", who[0], p, id, names(units)), id)
		}
		var sawTrue, sawFalse bool
		for _, u := range units {
			sawTrue = sawTrue || u.requeued == 2
			sawFalse = sawFalse || u.requeued == 1
		}
		if sawTrue || sawFalse {
			requeue.check(1)
		}
		if sawTrue && sawFalse {
			var b []string
			for _, u := range units {
				if u.requeued != 0 {
					b = append(b, fmt.Sprintf("%s requeued=%v", u.player, u.requeued == 2))
				}
			}
			sort.Strings(b)
			requeue.add("party requeued in part", fmt.Sprintf("%s: party %s: %s", id, p, strings.Join(b, ", ")), id)
		}
	}
	for _, t := range sortedKeys(byTicket) {
		units := byTicket[t]
		if split(units) {
			oneTeam.add("party ticket split across teams", fmt.Sprintf("%s: ticket %s has %s", id, t, names(units)), id)
		}
		pt := tickets[t]
		if pt == nil {
			continue
		}
		var absent []string
		for _, x := range pt.players {
			if !slices.Contains(m.members, x) {
				absent = append(absent, x)
			}
		}
		if len(absent) > 0 {
			together.add("party ticket matched without some of its players",
				fmt.Sprintf("%s: queued with ticket %s (party %s), is not in %s, which holds %s", absent[0], t, pt.party, id, names(units)), id)
		}
	}
}

// teamOf is the index of the team that lists player (-1: none).
func teamOf(teams [][]string, player string) int {
	for i, t := range teams {
		if slices.Contains(t, player) {
			return i
		}
	}
	return -1
}
