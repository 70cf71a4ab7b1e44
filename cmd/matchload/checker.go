package main

import (
	"fmt"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The checker judges what the server told each player, independently of how
// the simulated clients decide what to do. It keeps, per player, the state
// the server's frames imply (docs/protocol.md section 5) and, per match, the
// teams each member saw; End turns that into verdicts.

// cstate is a player's state as the server's frames show it.
type cstate uint8

const (
	csNew        cstate = iota // not connected (yet)
	csIdle                     // welcome, or a match/queue wait ended
	csEnqueuing                // enqueue sent, no reply yet
	csQueued                   // queued
	csRequeuing                // match_cancelled(requeued) seen, queued(requeued) expected
	csLoading                  // match_found seen, the match has not ended
	csCancelling               // cancel sent while queued: dequeued expected
	csDodging                  // cancel sent while loading: match_cancelled expected
	csGone                     // the connection ended
)

var cstateNames = [...]string{"new", "idle", "enqueuing", "queued", "requeuing", "loading", "cancelling", "dodging", "gone"}

func (s cstate) String() string { return cstateNames[s] }

// waiting reports whether a player in this state is waiting for the server.
func (s cstate) waiting() bool {
	switch s {
	case csEnqueuing, csQueued, csRequeuing, csLoading, csCancelling, csDodging:
		return true
	}
	return false
}

type pstate struct {
	st         cstate
	match      string   // the open match (loading, dodging)
	lastEnded  string   // the last match that ended for this player
	why        string   // how the player got to its current state (for accounting)
	accounted  bool     // false: lost (closed by the server while waiting)
	malformed  bool     // sent garbage frames
	garbageOut int      // garbage frames not answered yet
	party      string   // the party its last party frame named ("": none)
	members    []string // that frame's members
	ticket     string   // the ticket of its current wait ("": it was told none)
}

type mstate struct {
	teams   string   // canonical teams as first seen
	members []string // from the teams first seen
	seen    []string // members that got match_found
	ready   bool
	cancel  string      // reason, when cancelled
	units   []partyUnit // the members that were in a party
}

// violations collects failures of one verdict by kind, with examples.
type violations struct {
	mu       sync.Mutex
	checked  uint64
	byKind   map[string]uint64
	examples []string
	players  []string // the player of each example
	// snap, when set, is told the subject and related match ids of each
	// example as it is recorded (the subject's own lock is held then).
	snap func(subject string, related []string)
}

const maxExamples = 10

// add records one failure; example starts with the player id concerned
// (or a match id for per-match failures).
func (v *violations) add(kind, example string, related ...string) {
	v.mu.Lock()
	if v.byKind == nil {
		v.byKind = map[string]uint64{}
	}
	v.byKind[kind]++
	record := len(v.examples) < maxExamples
	who, _, _ := strings.Cut(example, " ")
	who = strings.TrimSuffix(who, ":")
	if record {
		v.examples = append(v.examples, kind+": "+example)
		v.players = append(v.players, who)
	}
	snap := v.snap
	v.mu.Unlock()
	if record && snap != nil {
		snap(who, related)
	}
}

func (v *violations) check(n uint64) {
	v.mu.Lock()
	v.checked += n
	v.mu.Unlock()
}

// Verdict is one invariant's result.
type Verdict struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Pass        bool              `json:"pass"`
	Checked     uint64            `json:"checked"`
	Failures    uint64            `json:"failures"`
	ByKind      map[string]uint64 `json:"failures_by_kind,omitempty"`
	Breakdown   map[string]uint64 `json:"breakdown,omitempty"`
	Examples    []string          `json:"examples,omitempty"`
	// Subjects are the player (or match) ids of the examples.
	Subjects []string `json:"example_subjects,omitempty"`
}

func (v *violations) verdict(name, desc string) Verdict {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := Verdict{Name: name, Description: desc, Checked: v.checked, ByKind: map[string]uint64{},
		Examples: append([]string(nil), v.examples...), Subjects: append([]string(nil), v.players...)}
	for k, n := range v.byKind {
		out.ByKind[k] = n
		out.Failures += n
	}
	out.Pass = out.Failures == 0
	return out
}

const checkerShards = 64

// Checker is safe for concurrent use; events of one player must be fed in
// the order they happened (matchload feeds them under the player's lock).
type Checker struct {
	seed    maphash.Seed
	players [checkerShards]struct {
		mu sync.Mutex
		m  map[string]*pstate
	}
	matches [checkerShards]struct {
		mu sync.Mutex
		m  map[string]*mstate
	}
	double  violations // V1
	teams   violations // V2
	order   violations // V4
	garbage violations // V5
	silent  violations // V6
	unjust  violations // V7
	regions violations // V8
	// regioned says whether players sent latencies (--regions).
	regioned bool
	// watched says whether the silence watchdog ran (--silence).
	watched bool

	// Parties (checker_party.go); partyMu guards partied, tickets and
	// parties, and is taken after a player's shard lock, never before.
	partyMu       sync.Mutex
	partied       bool
	tickets       map[string]*partyTicket
	parties       map[string]*partyRec
	partyOneTeam  violations
	partyTogether violations
	partyRequeue  violations
	partyOutcomes violations
}

// NewChecker returns an empty checker.
func NewChecker() *Checker {
	c := &Checker{seed: maphash.MakeSeed(), tickets: map[string]*partyTicket{}, parties: map[string]*partyRec{}}
	for i := range c.players {
		c.players[i].m = map[string]*pstate{}
		c.matches[i].m = map[string]*mstate{}
	}
	return c
}

// OnViolation registers f to be told of each recorded example as it
// happens: the subject (a player id, or a match id) and the match ids
// involved. f runs while the event's player is being fed (under the lock
// the caller holds for that player); it must not block.
func (c *Checker) OnViolation(f func(subject string, related []string)) {
	for _, v := range []*violations{&c.double, &c.teams, &c.order, &c.garbage, &c.silent, &c.unjust, &c.regions,
		&c.partyOneTeam, &c.partyTogether, &c.partyRequeue, &c.partyOutcomes} {
		v.mu.Lock()
		v.snap = f
		v.mu.Unlock()
	}
}

// Watching records that the silence watchdog checked n players' waits.
func (c *Checker) Watching(n uint64) {
	c.silent.mu.Lock()
	c.watched = true
	c.silent.mu.Unlock()
	c.silent.check(n)
}

// LoadedInTime counts a loading_complete sent well before its deadline.
func (c *Checker) LoadedInTime() { c.unjust.check(1) }

// ChargedThoughLoaded records a player named a no-show of a match it sent
// loading_complete for well before the deadline (early by that much): a
// violation charged to a client that loaded in time.
func (c *Checker) ChargedThoughLoaded(player, match string, early time.Duration) {
	c.unjust.add("no-show charged though loaded in time", fmt.Sprintf("%s: in %s, loading_complete sent %s before the deadline", player, match, early.Round(time.Millisecond)), match)
}

// Silent records a player, queued or loading, that heard nothing (not even
// the answer to a sync) for d: a session that went silent.
func (c *Checker) Silent(player, state string, d time.Duration) {
	c.silent.add("silent while "+state, fmt.Sprintf("%s: %s heard nothing for %s, a sync included", player, state, d.Round(time.Millisecond)))
}

// Members lists the members of a match as first seen.
func (c *Checker) Members(match string) []string {
	sh := &c.matches[c.shard(match)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if m := sh.m[match]; m != nil {
		return append([]string(nil), m.members...)
	}
	return nil
}

func (c *Checker) shard(s string) int { return int(maphash.String(c.seed, s) % checkerShards) }

// with runs f on the player's state under its shard lock.
func (c *Checker) with(player string, f func(p *pstate)) {
	sh := &c.players[c.shard(player)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[player]
	if p == nil {
		p = &pstate{accounted: true, why: "not started"}
		sh.m[player] = p
	}
	f(p)
}

func (c *Checker) withMatch(id string, f func(m *mstate)) {
	sh := &c.matches[c.shard(id)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	m := sh.m[id]
	if m == nil {
		m = &mstate{}
		sh.m[id] = m
	}
	f(m)
}

// Connected: the welcome frame, with the server's view of the player.
func (c *Checker) Connected(player, state string) {
	c.with(player, func(p *pstate) {
		switch state {
		case "queued":
			p.st = csQueued
		case "loading":
			p.st = csLoading
		default:
			p.st = csIdle
		}
		p.why = "connected"
		if state != "" && state != "idle" {
			c.order.add("welcome of a fresh player is not idle", player+" welcome state "+state)
		}
	})
}

// DialFailed: the player never connected.
func (c *Checker) DialFailed(player, reason string) {
	var party string
	c.with(player, func(p *pstate) { p.st, p.why, party = csGone, "dial failed: "+reason, p.party })
	c.partyGone(party, player)
}

// EnqueueSent: the client sent enqueue.
func (c *Checker) EnqueueSent(player string) {
	c.with(player, func(p *pstate) {
		if p.st == csIdle {
			p.st = csEnqueuing
		}
	})
}

// Refused: the server answered a request with an error; serverState and
// serverMatch are the error's state.name and state.match_id when it carries
// a state. A refused enqueue leaves the player idle; any refusal with a
// state resynchronises to it (a cancel that crossed a match claim is
// refused with state loading: the player is simply loading, not dodging).
func (c *Checker) Refused(player, request, code, serverState, serverMatch string) {
	c.with(player, func(p *pstate) {
		if p.st == csGone {
			return
		}
		switch serverState {
		case "idle":
			if p.st.waiting() {
				p.match = ""
			}
			p.st, p.why = csIdle, request+" refused: "+code
		case "queued":
			if p.st == csCancelling || p.st == csEnqueuing {
				p.st = csQueued
			}
		case "loading":
			switch {
			case p.match != "" && p.match == serverMatch:
				p.st = csLoading // our dodge did not happen
			case p.st == csCancelling || p.st == csEnqueuing || p.st == csRequeuing:
				p.st = csQueued // match_found is on its way
			}
		default:
			if request == "enqueue" && p.st == csEnqueuing {
				p.st, p.why = csIdle, "enqueue refused: "+code
			}
		}
	})
}

// Queued: a queued frame (reply to enqueue, or requeue announcement, or a
// party member told that its leader queued the party) with its ticket.
func (c *Checker) Queued(player, ticket string, requeued bool) {
	c.order.check(1)
	var party string
	var members []string
	c.with(player, func(p *pstate) {
		if p.st != csGone {
			p.ticket, party, members = ticket, p.party, p.members
		}
		switch {
		case p.st == csGone:
		case !requeued && p.st == csEnqueuing:
			p.st = csQueued
		case !requeued && p.st == csIdle && p.party != "":
			p.st = csQueued // the party's leader queued it
		case requeued && p.st == csRequeuing:
			p.st = csQueued
		case p.st == csCancelling || p.st == csQueued:
			// An idempotent repeat, or crossing our cancel: stay.
		case requeued:
			c.order.add("queued(requeued) without match_cancelled(requeued) before it", player+" in state "+p.st.String())
			p.st = csQueued
		default:
			c.order.add("queued without an enqueue", player+" in state "+p.st.String())
			p.st = csQueued
		}
	})
	c.partyTicketSeen(player, party, ticket, members)
}

// CancelSent: the client sent cancel (a dequeue when queued, a dodge when
// loading).
func (c *Checker) CancelSent(player string) {
	c.with(player, func(p *pstate) {
		switch p.st {
		case csQueued, csRequeuing, csEnqueuing:
			p.st = csCancelling
		case csLoading:
			p.st = csDodging
		}
	})
}

// Dequeued: a dequeued frame.
func (c *Checker) Dequeued(player, reason string) {
	c.order.check(1)
	var party, ticket string
	c.with(player, func(p *pstate) {
		switch p.st {
		case csGone:
			return
		case csQueued, csCancelling, csEnqueuing, csRequeuing:
		default:
			c.order.add("dequeued while not queued", player+" in state "+p.st.String()+" reason "+reason)
		}
		p.st, p.why, p.match = csIdle, "dequeued: "+reason, ""
		party, ticket = p.party, p.ticket
		p.ticket = ""
	})
	c.partyOutcome(player, party, "ticket "+ticket, "dequeued "+reason+" ticket "+ticket)
}

// MatchFound: a match_found frame.
func (c *Checker) MatchFound(player, match string, teams [][]string) {
	c.double.check(1)
	c.order.check(1)
	var unit *partyUnit
	c.with(player, func(p *pstate) {
		if p.st == csGone {
			return
		}
		if p.party != "" {
			unit = &partyUnit{player: player, party: p.party, ticket: p.ticket, team: teamOf(teams, player), members: p.members}
		}
		switch {
		case match == p.match || match == p.lastEnded:
			c.double.add("duplicate match_found", player+" got "+match+" twice", match)
			return
		case p.st == csLoading || p.st == csDodging:
			c.double.add("match_found while in another match", player+" in "+p.match+" got "+match, p.match, match)
		case p.st == csQueued:
		case p.st == csCancelling:
			// Our cancel crossed the match: the server will treat it as a dodge.
		case p.st == csEnqueuing:
			c.order.add("match_found before the reply to enqueue", player+" got "+match)
		case p.st == csRequeuing:
			c.order.add("match_found before queued(requeued)", player+" got "+match)
		case p.st == csIdle && p.party != "":
			c.order.add("party member's match_found without its party's queued", player+" (party "+p.party+") got "+match+" while idle")
		default:
			c.order.add("match_found while "+p.st.String(), player+" got "+match)
		}
		if p.st == csCancelling {
			p.st = csDodging
		} else {
			p.st = csLoading
		}
		p.match = match
	})
	if unit != nil {
		c.involve(unit.party, "match "+match, unit.members)
	}
	key, members, bad := canonicalTeams(teams)
	self := false
	for _, m := range members {
		self = self || m == player
	}
	c.withMatch(match, func(m *mstate) {
		if m.members == nil {
			c.teams.check(1)
			m.teams, m.members = key, members
		} else if m.teams != key {
			c.teams.add("members saw different teams", player+" saw "+key+" for "+match+", first seen as "+m.teams)
		}
		m.seen = append(m.seen, player)
		if unit != nil {
			m.units = append(m.units, *unit)
		}
	})
	if bad != "" {
		c.teams.add("malformed teams", match+": "+bad)
	}
	if !self {
		c.teams.add("receiver not in the teams", player+" got "+match+" with teams "+key)
	}
}

// MatchRegion checks a match_found of a mode with regions: it names a
// region the player measured, within the player's latency limit at the
// time the match was formed (limit is an upper bound of it, from the
// client's clock).
func (c *Checker) MatchRegion(player, match, region string, lat map[string]float64, limit float64) {
	c.regions.mu.Lock()
	c.regioned = true
	c.regions.mu.Unlock()
	c.regions.check(1)
	ms, ok := lat[region]
	switch {
	case region == "":
		c.regions.add("match_found without a region", player+" got "+match, match)
	case !ok:
		c.regions.add("a region the player did not measure", fmt.Sprintf("%s got %s in %s", player, match, region), match)
	case ms > limit:
		c.regions.add("a region beyond the player's limit", fmt.Sprintf("%s got %s in %s at %v ms, limit at most %.0f ms", player, match, region, ms, limit), match)
	}
}

// canonicalTeams renders teams as "a,b|c,d" (order as sent: the server's
// team order is part of what every member must see alike) and lists the
// members; bad describes a malformed shape.
func canonicalTeams(teams [][]string) (key string, members []string, bad string) {
	var b strings.Builder
	seen := map[string]bool{}
	size := -1
	for i, t := range teams {
		if i > 0 {
			b.WriteByte('|')
		}
		if size >= 0 && len(t) != size && bad == "" {
			bad = "teams of different sizes"
		}
		size = len(t)
		if len(t) == 0 && bad == "" {
			bad = "an empty team"
		}
		for j, m := range t {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(m)
			if seen[m] && bad == "" {
				bad = "player " + m + " listed twice"
			}
			seen[m] = true
			members = append(members, m)
		}
	}
	if len(teams) < 2 && bad == "" {
		bad = "fewer than 2 teams"
	}
	return b.String(), members, bad
}

// MatchReady: a match_ready frame.
func (c *Checker) MatchReady(player, match string) {
	c.order.check(1)
	var party, ticket string
	c.with(player, func(p *pstate) {
		if p.st == csGone {
			return
		}
		party = p.party
		if (p.st == csLoading || p.st == csDodging) && p.match == match {
			ticket = p.ticket
			p.st, p.why, p.lastEnded, p.match, p.ticket = csIdle, "matched", match, "", ""
			return
		}
		if match == p.lastEnded {
			c.order.add("match_ready after the match ended", player+" "+match)
		} else {
			c.order.add("match_ready for a match not open", player+" "+match+" in state "+p.st.String())
		}
	})
	c.partyOutcome(player, party, "match "+match, "match_ready "+match)
	c.partyTicketPlayed(party, ticket)
	c.withMatch(match, func(m *mstate) {
		if m.cancel != "" {
			c.teams.add("match both ready and cancelled", match)
		}
		m.ready = true
	})
}

// MatchCancelled: a match_cancelled frame; reply says it carries the rid
// of our cancel (the dodger's copy). A dodger whose match was cancelled by
// someone else before its cancel arrived gets the ordinary copy (and may be
// requeued); its cancel is then served in the new state.
func (c *Checker) MatchCancelled(player, match, reason string, requeued, reply bool) {
	c.order.check(1)
	var party string
	c.with(player, func(p *pstate) {
		if p.st == csGone {
			return
		}
		party = p.party
		if (p.st == csLoading || p.st == csDodging) && p.match == match {
			if reply && requeued {
				c.order.add("dodger requeued", player+" "+match)
			}
			p.lastEnded, p.match = match, ""
			if requeued {
				p.st = csRequeuing
			} else {
				p.st, p.why, p.ticket = csIdle, "match cancelled: "+reason, ""
			}
			return
		}
		if match == p.lastEnded {
			c.order.add("match_cancelled after the match ended", player+" "+match)
		} else {
			c.order.add("match_cancelled for a match not open", player+" "+match+" in state "+p.st.String())
		}
	})
	c.withMatch(match, func(m *mstate) {
		if m.ready {
			c.teams.add("match both ready and cancelled", match)
		}
		m.cancel = reason
		for i := range m.units {
			if u := &m.units[i]; u.player == player {
				u.requeued = 1
				if requeued {
					u.requeued = 2
				}
			}
		}
	})
	c.partyOutcome(player, party, "match "+match, fmt.Sprintf("match_cancelled %s %s requeued=%v", match, reason, requeued))
}

// Quit: the client closed its connection on purpose.
func (c *Checker) Quit(player string) {
	var party string
	c.with(player, func(p *pstate) {
		if p.st != csGone {
			p.why = "quit while " + p.st.String()
			p.st = csGone
			party = p.party
		}
	})
	c.partyGone(party, player)
}

// Closed: the server (or the network) ended the connection; code is the
// WebSocket close code, -1 when there was no close frame.
func (c *Checker) Closed(player string, code int) {
	var party string
	defer func() { c.partyGone(party, player) }()
	c.with(player, func(p *pstate) {
		if p.st == csGone {
			return
		}
		party = p.party
		cs := "no close frame"
		if code >= 0 {
			cs = "code " + strconv.Itoa(code)
		}
		if p.malformed {
			c.garbage.add("malformed sender disconnected", player+" "+cs)
		}
		explained := code == 1012 || code == 4001 // draining, replaced
		if p.st.waiting() && !explained {
			p.accounted = false
		}
		p.why = "closed by server (" + cs + ") while " + p.st.String()
		p.st = csGone
	})
}

// GarbageSent: a malformed sender sent a garbage frame that must be
// answered.
func (c *Checker) GarbageSent(player string) {
	c.garbage.check(1)
	c.with(player, func(p *pstate) { p.malformed = true; p.garbageOut++ })
}

// GarbageAnswered: a typed reply to a garbage frame arrived.
func (c *Checker) GarbageAnswered(player string) {
	c.with(player, func(p *pstate) {
		if p.garbageOut > 0 {
			p.garbageOut--
		}
	})
}

func (v *violations) clone() *violations {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := &violations{checked: v.checked, byKind: map[string]uint64{},
		examples: append([]string(nil), v.examples...), players: append([]string(nil), v.players...)}
	for k, n := range v.byKind {
		out.byKind[k] = n
	}
	return out
}

// Verdicts are the invariants, judged from everything fed so far; call it
// once the run is over (it may be called again: it does not change state).
func (c *Checker) Verdicts() []Verdict {
	breakdown := map[string]uint64{}
	accounted := &violations{}
	teams := c.teams.clone()
	garbage := c.garbage.clone()
	known := map[string]cstate{}
	party := map[string]string{}
	for i := range c.players {
		sh := &c.players[i]
		sh.mu.Lock()
		for id, p := range sh.m {
			known[id] = p.st
			if p.party != "" {
				party[id] = p.party
			}
			switch {
			case p.st.waiting():
				accounted.add("left waiting ("+p.st.String()+")", id+" last: "+p.why)
				breakdown["straggler: "+p.st.String()]++
			case !p.accounted:
				accounted.add("disconnected by the server while waiting", id+": "+p.why)
				breakdown["lost: "+category(p.why)]++
			default:
				breakdown[category(p.why)]++
			}
			if p.garbageOut > 0 {
				garbage.add("garbage frame without a typed reply", fmt.Sprintf("%s: %d unanswered", id, p.garbageOut))
			}
		}
		sh.mu.Unlock()
	}
	accounted.check(uint64(len(known)))
	for i := range c.matches {
		sh := &c.matches[i]
		sh.mu.Lock()
		for id, m := range sh.m {
			for _, mem := range m.members {
				if contains(m.seen, mem) {
					continue
				}
				st, ok := known[mem]
				if !ok || st == csGone {
					continue // not one of ours, or it left
				}
				teams.add("member never got match_found", mem+" never got "+id+" (now "+st.String()+")")
			}
		}
		sh.mu.Unlock()
	}
	v3 := accounted.verdict("every-player-accounted",
		"at the end every player is idle after match_ready, was dequeued or cancelled with an explicit reason, or quit on purpose")
	v3.Breakdown = breakdown
	out := []Verdict{
		c.double.verdict("no-double-match", "no player got match_found for a match while another of its matches was open, nor twice for one match"),
		teams.verdict("same-teams", "every member of a match got match_found with the same, well-formed teams that include itself"),
		v3,
		c.order.verdict("protocol-order", "frames fit the state machine of docs/protocol.md section 5 and the ordering of section 6"),
		garbage.verdict("malformed-handled", "every garbage frame got a typed reply and no malformed sender was disconnected"),
		c.unjust.verdict("no-unjust-no-show", "no player that sent loading_complete more than 250ms before the deadline was named a no-show"),
	}
	c.silent.mu.Lock()
	watched := c.watched
	c.silent.mu.Unlock()
	if watched {
		out = append(out, c.silent.verdict("nobody-silent", "no player queued or loading went without a frame for --silence, a sync's answer included"))
	}
	c.regions.mu.Lock()
	regioned := c.regioned
	c.regions.mu.Unlock()
	if regioned {
		out = append(out, c.regions.verdict("region-playable", "every match_found names a region every member measured and may play in at match time (latency within its limit)"))
	}
	return append(out, c.partyVerdicts(known, party)...)
}

// category folds an explanation to a low-cardinality label.
func category(why string) string {
	switch {
	case strings.HasPrefix(why, "quit while"):
		return "quit"
	case strings.HasPrefix(why, "closed by server"):
		if i := strings.Index(why, ")"); i > 0 {
			return why[:i+1]
		}
	case why == "connected":
		return "idle session"
	}
	return why
}

// MatchCounts are the distinct matches seen.
type MatchCounts struct {
	Formed    uint64            `json:"formed"`
	Started   uint64            `json:"started"`
	Cancelled map[string]uint64 `json:"cancelled"`
	Open      uint64            `json:"unresolved"`
}

// Matches counts distinct matches by how they ended.
func (c *Checker) Matches() MatchCounts {
	out := MatchCounts{Cancelled: map[string]uint64{}}
	for i := range c.matches {
		sh := &c.matches[i]
		sh.mu.Lock()
		for _, m := range sh.m {
			out.Formed++
			switch {
			case m.ready:
				out.Started++
			case m.cancel != "":
				out.Cancelled[m.cancel]++
			default:
				out.Open++
			}
		}
		sh.mu.Unlock()
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
