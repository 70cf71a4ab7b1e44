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

// partyRec is one party's outcomes as its members were told them, by
// subject ("ticket <id>" for a dequeue, "match <id>" for a match's end).
// Members' readers run apart, so one member may read an outcome long
// before a mate reads the party frame that put the mate in the party: the
// checker compares what members were told about the same subject, and the
// order of the subjects each pair of members was told, never positions in
// one shared list.
type partyRec struct {
	subjects map[string]*partySubject
	clock    uint64
	// recent holds each member's last subjects told, oldest first.
	recent map[string][]string
	gone   map[string]bool // members that left the party or the run
}

// partySubject is what the party's members were told about one ticket or
// match, and who was expected to be told: the members the party had, as
// seen by a member told it was queued with the ticket or seated in the
// match.
type partySubject struct {
	outcome  string // the first outcome told; "" until then
	first    string // the member told it first
	involved map[string]bool
	told     map[string]bool
	touched  uint64
}

// partyKeepSubjects bounds what the checker keeps per party: a subject
// whose members were all told, and the oldest beyond this many, are
// forgotten (a member's reader is never dozens of outcomes behind a mate,
// since the party's next match waits for every member).
const (
	partyKeepSubjects = 64
	partyRecentLen    = 16
)

func (c *Checker) partyRecord(party string) *partyRec {
	r := c.parties[party]
	if r == nil {
		r = &partyRec{subjects: map[string]*partySubject{}, recent: map[string][]string{}, gone: map[string]bool{}}
		c.parties[party] = r
	}
	return r
}

// subject returns the party's record of subj, made when missing.
func (r *partyRec) subject(subj string) *partySubject {
	r.clock++
	s := r.subjects[subj]
	if s == nil {
		s = &partySubject{involved: map[string]bool{}, told: map[string]bool{}}
		r.subjects[subj] = s
		if len(r.subjects) > partyKeepSubjects {
			r.forgetOldest()
		}
	}
	s.touched = r.clock
	return s
}

// forgetOldest drops the least recently touched quarter of the subjects.
func (r *partyRec) forgetOldest() {
	ages := make([]uint64, 0, len(r.subjects))
	for _, s := range r.subjects {
		ages = append(ages, s.touched)
	}
	slices.Sort(ages)
	cut := ages[len(ages)/4]
	for k, s := range r.subjects {
		if s.touched < cut {
			delete(r.subjects, k)
		}
	}
}

// involve records that members (one member's view of its party) are to be
// told how subj ends.
func (c *Checker) involve(party, subj string, members []string) {
	if party == "" {
		return
	}
	c.partyMu.Lock()
	defer c.partyMu.Unlock()
	s := c.partyRecord(party).subject(subj)
	for _, m := range members {
		s.involved[m] = true
	}
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
// now: it is expected to be told what it is involved in there from here on.
func (c *Checker) partyJoined(player, old, now string) {
	c.partyMu.Lock()
	defer c.partyMu.Unlock()
	if r := c.parties[old]; old != "" && r != nil {
		r.gone[player] = true
		delete(r.recent, player)
	}
	if now == "" {
		return
	}
	delete(c.partyRecord(now).gone, player)
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

// partyTicketSeen records that player, in party (its members as the
// player last saw them), was told queued with a party ticket.
func (c *Checker) partyTicketSeen(player, party, ticket string, members []string) {
	if party == "" || ticket == "" {
		return
	}
	c.involve(party, "ticket "+ticket, members)
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

// partyTicketPlayed forgets a party ticket whose match started: it has no
// end of its own to compare. (A mate's reader still behind may involve it
// again; the age bound forgets that copy.)
func (c *Checker) partyTicketPlayed(party, ticket string) {
	if party == "" || ticket == "" {
		return
	}
	c.partyMu.Lock()
	defer c.partyMu.Unlock()
	if r := c.parties[party]; r != nil {
		if s := r.subjects["ticket "+ticket]; s != nil && s.outcome == "" {
			delete(r.subjects, "ticket "+ticket)
		}
	}
}

// partyOutcome records an end the player, in party, was told about subj.
func (c *Checker) partyOutcome(player, party, subj, outcome string) {
	if party == "" {
		return
	}
	c.partyOutcomes.check(1)
	c.partyMu.Lock()
	defer c.partyMu.Unlock()
	r := c.parties[party]
	if r == nil || r.gone[player] {
		return
	}
	s := r.subject(subj)
	switch {
	case s.outcome == "":
		s.outcome, s.first = outcome, player
	case s.outcome != outcome:
		c.partyOutcomes.add("members told different outcomes",
			fmt.Sprintf("%s of party %s was told %q where %s was told %q", player, party, outcome, s.first, s.outcome))
	}
	s.told[player] = true
	// Every mate told subj too must have been told the subjects this
	// player heard before it, before it.
	mine := r.recent[player]
	for mate, theirs := range r.recent {
		at := slices.Index(theirs, subj)
		if mate == player || r.gone[mate] || at < 0 {
			continue
		}
		for _, earlier := range mine {
			if j := slices.Index(theirs, earlier); j > at {
				c.partyOutcomes.add("members told outcomes in different orders",
					fmt.Sprintf("%s of party %s was told %s before %s, %s the other way round", player, party, earlier, subj, mate))
				break
			}
		}
	}
	if !slices.Contains(mine, subj) {
		if len(mine) == partyRecentLen {
			mine = slices.Delete(mine, 0, 1)
		}
		r.recent[player] = append(mine, subj)
	}
	// Forget a subject every member involved was told (or left).
	for m := range s.involved {
		if !s.told[m] && !r.gone[m] {
			return
		}
	}
	delete(r.subjects, subj)
}

// partyVerdicts judges the party invariants; known maps each player to its
// final state, party to its final party. It runs once the run is over.
func (c *Checker) partyVerdicts(known map[string]cstate, party map[string]string) []Verdict {
	c.partyMu.Lock()
	partied := c.partied
	tickets := c.tickets
	outcomes := c.partyOutcomes.clone()
	for _, id := range sortedKeys(c.parties) {
		r := c.parties[id]
		for _, subj := range sortedKeys(r.subjects) {
			s := r.subjects[subj]
			if s.outcome == "" {
				continue // matched, or still open
			}
			for _, m := range sortedKeys(s.involved) {
				if s.told[m] || r.gone[m] || known[m].waiting() || known[m] == csGone || party[m] != id {
					continue
				}
				// Still in the party at the end, idle, yet never told
				// what a mate was told of a ticket or match it was in.
				outcomes.add("member missed outcomes of its party",
					fmt.Sprintf("%s of party %s was never told %q (of %s; told to %s)", m, id, s.outcome, subj, s.first))
			}
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
