package main

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// Parties (--party-mix, docs/protocol.md section 9.6). The players of a
// party are consecutive: member 0 creates the party (open, or invite-only
// and then it invites the others), the others join it (an open party as
// soon as its id is known, an invite-only one when the invitation
// arrives), and member i dials node i mod len(--nodes). Whoever leads the
// party (member 0 until it leaves the run; the server passes the lead on)
// queues it once every member still in the run has joined; the others
// wait for the party's queued and play each match with their own
// behaviour. A member that left the run (quit, or closed) is kicked by the
// leader, queued or not, so the party plays on without it.

// party is one party as the run planned it.
type party struct {
	open    bool
	members []*player

	mu sync.Mutex
	// id is the server's id of the party, once created; failed says the
	// creation never happened (refused, or its creator never connected),
	// so its members play alone.
	id     string
	failed bool
	// waiting are members that connected before id was known.
	waiting []*player
}

// partyView is a player's party as its last party frame showed it, and
// what the player has asked about it. Guarded by the player's mu.
type partyView struct {
	started  bool
	id       string
	leader   string
	members  []string
	invited  []string
	inFlight int             // party requests sent and not yet answered
	invites  map[string]bool // invitations this leader sent
	kicked   map[string]bool // members this leader kicked
	kicking  string          // the member of the kick in flight
}

// partyRetry is how long a leader waits to queue its party again after
// PARTY_NOT_READY (a mate still finishing its last match, most often).
const partyRetry = 150 * time.Millisecond

// makeParties deals the players into parties by the mix (consecutive
// players, so a party's members are easy to spot in a report) and spreads
// each party's members over the nodes (member i dials node i mod N, also
// with --region-nodes). Members share the creator's latencies: the
// party's enqueue carries the leader's.
func (r *Runner) makeParties(rng *rand.Rand) {
	o := r.opt
	if o.PartyMix.Solo() {
		return
	}
	i := 0
	for _, size := range o.PartyMix.Sizes(len(r.players), rng) {
		if size == 1 {
			r.solos++
			i++
			continue
		}
		g := &party{open: rng.Float64() < o.PartyOpen}
		for slot := range size {
			p := r.players[i+slot]
			p.party, p.slot, p.node = g, slot, slot%len(o.Nodes)
			if slot > 0 && g.members[0].lat != nil {
				p.lat = g.members[0].lat
			}
			g.members = append(g.members, p)
		}
		r.parties = append(r.parties, g)
		r.partySizes[size]++
		i += size
	}
}

// leads reports whether the player's party frames name it the leader.
func (p *player) leads() bool { return p.pv.id != "" && p.pv.leader == p.id }

// partyRequest sends a party request of kind. Call with p.mu held.
func (p *player) partyRequest(kind byte, m protocol.ClientMessage) {
	p.pv.inFlight++
	p.requestMsg(kind, m)
}

// partyStart begins the party's life for a member that just connected.
// Call with p.mu held.
func (p *player) partyStart() {
	g := p.party
	p.pv.started = true
	p.setState(dsForming)
	if p.slot == 0 {
		p.partyRequest('p', protocol.ClientMessage{Type: protocol.TypePartyCreate, Open: g.open})
		return
	}
	g.mu.Lock()
	id, failed := g.id, g.failed
	if id == "" && !failed {
		g.waiting = append(g.waiting, p)
	}
	g.mu.Unlock()
	switch {
	case failed:
		p.alone()
	case id != "" && g.open:
		p.partyRequest('j', protocol.ClientMessage{Type: protocol.TypePartyJoin, PartyID: id})
	}
	// An invite-only party's member waits for its invitation.
}

// alone makes the player play by itself from now on (its party could not
// be made, or it is no longer in it). Call with p.mu held.
func (p *player) alone() {
	g := p.party
	if g == nil {
		return
	}
	p.out.Store(true)
	p.party, p.pv = nil, partyView{}
	p.r.live.partyAlone.Add(1)
	g.poke()
	if p.st == dsForming || p.st == dsPartyWait {
		p.setState(dsIdle)
		p.next()
	}
}

// left records that the player left the run (quit, closed, or never
// connected): its party's leader stops waiting for it and kicks it. Call
// with p.mu held.
func (p *player) left() {
	g := p.party
	if g == nil || p.out.Swap(true) {
		return
	}
	g.mu.Lock()
	if p.slot == 0 && g.id == "" && !g.failed {
		// The creator is gone before the party existed.
		g.failed = true
	}
	g.mu.Unlock()
	g.poke()
}

// poke has the members of the party look again at what they should do
// (the leader may kick a member that left, or stop waiting for it; a
// member of a party that failed plays alone). It runs on its own
// goroutine: the caller holds a player's lock.
func (g *party) poke() {
	go func() {
		for _, q := range g.members {
			if q.out.Load() {
				continue
			}
			q.mu.Lock()
			if q.party == g && !q.closing {
				g.mu.Lock()
				failed := g.failed
				g.mu.Unlock()
				if failed && q.pv.id == "" {
					q.alone()
				} else {
					q.partyAct(false)
				}
			}
			q.mu.Unlock()
		}
	}()
}

// onParty serves a party frame (a reply, or news of a change). Call with
// p.mu held.
func (p *player) onParty(f *client.Frame) {
	r := p.r
	r.chk.PartyView(p.id, f.PartyID, f.Members)
	kind := ridKind(f.Rid)
	if isPartyKind(kind) && p.pv.inFlight > 0 {
		p.pv.inFlight--
	}
	g := p.party
	if g == nil {
		return
	}
	p.pv.id, p.pv.leader = f.PartyID, f.Leader
	p.pv.members = append(p.pv.members[:0], f.Members...)
	p.pv.invited = append(p.pv.invited[:0], f.Invited...)
	if kind == 'k' {
		p.pv.kicking = ""
	}
	if kind == 'p' {
		g.mu.Lock()
		g.id = f.PartyID
		waiting := g.waiting
		g.waiting = nil
		g.mu.Unlock()
		if g.open && len(waiting) > 0 {
			go joinParty(waiting, f.PartyID)
		}
	}
	if p.st == dsForming && !p.leads() && slices.Contains(p.pv.members, p.id) {
		p.setState(dsPartyWait)
	}
	p.partyAct(false)
}

// joinParty has members that connected before their open party existed
// join it.
func joinParty(members []*player, id string) {
	for _, q := range members {
		q.mu.Lock()
		if q.party != nil && q.st == dsForming && q.pv.id == "" && q.pv.inFlight == 0 && !q.closing {
			q.partyRequest('j', protocol.ClientMessage{Type: protocol.TypePartyJoin, PartyID: id})
		}
		q.mu.Unlock()
	}
}

// onPartyInvite serves a party_invite: a member of an invite-only party
// joins when its party's creator invites it. Call with p.mu held.
func (p *player) onPartyInvite(f *client.Frame) {
	g := p.party
	if g == nil || p.st != dsForming || p.pv.id != "" || p.pv.inFlight > 0 || f.From != g.members[0].id {
		p.r.live.partyInvitesIgnored.Add(1)
		return
	}
	p.partyRequest('j', protocol.ClientMessage{Type: protocol.TypePartyJoin, PartyID: f.PartyID})
}

// onPartyLeft serves a party_left: the player is out of its party (kicked,
// or the party ended) and plays alone from now on. Call with p.mu held.
func (p *player) onPartyLeft(f *client.Frame) {
	p.r.chk.PartyLeft(p.id)
	if p.party == nil || (p.pv.id != "" && f.PartyID != p.pv.id) {
		return
	}
	p.alone()
}

// partyAct decides what the player does for its party now: a leader
// kicks members that left the run, invites and waits for members on their
// way in, then queues the party (after a --think pause when think is set
// and the party played before); a member waits for its leader. Call with
// p.mu held.
func (p *player) partyAct(think bool) {
	r := p.r
	g := p.party
	if g == nil || p.closing {
		return
	}
	switch p.st {
	case dsIdle, dsForming, dsPartyWait, dsQueued:
	default:
		return
	}
	if !p.leads() {
		if p.st == dsIdle || p.st == dsForming && slices.Contains(p.pv.members, p.id) {
			p.setState(dsPartyWait)
		}
		return
	}
	if p.pv.inFlight == 0 {
		for _, m := range p.pv.members {
			if m == p.id || p.pv.kicked[m] {
				continue
			}
			if q := r.playerByID(m); q != nil && q.out.Load() {
				if p.pv.kicked == nil {
					p.pv.kicked = map[string]bool{}
				}
				p.pv.kicked[m], p.pv.kicking = true, m
				r.live.partyKicks.Add(1)
				p.partyRequest('k', protocol.ClientMessage{Type: protocol.TypePartyKick, PlayerID: m})
				return
			}
		}
	}
	if p.st == dsQueued {
		return
	}
	if r.draining.Load() || r.stopping.Load() || r.opt.Duration == 0 && p.played {
		p.setState(dsDone)
		return
	}
	missing := false
	for _, q := range g.members {
		if q == p || q.out.Load() || slices.Contains(p.pv.members, q.id) {
			continue
		}
		missing = true
		if !g.open && !p.pv.invites[q.id] && !slices.Contains(p.pv.invited, q.id) {
			if p.pv.invites == nil {
				p.pv.invites = map[string]bool{}
			}
			p.pv.invites[q.id] = true
			p.partyRequest('i', protocol.ClientMessage{Type: protocol.TypePartyInvite, PlayerID: q.id})
		}
	}
	if missing || p.pv.inFlight > 0 {
		p.setState(dsForming)
		return
	}
	p.setState(dsIdle)
	if think && r.opt.Think > 0 && p.played {
		p.enqueueAfter(dsThinking, time.Duration(rand.ExpFloat64()*float64(r.opt.Think)))
		return
	}
	p.enqueue()
}

// onPartyRefused serves the refusal of a party request of kind. Call with
// p.mu held.
func (p *player) onPartyRefused(kind byte, f *client.Frame) {
	if p.pv.inFlight > 0 {
		p.pv.inFlight--
	}
	g := p.party
	if g == nil {
		return
	}
	switch kind {
	case 'p':
		// The party was never made: its members play alone.
		g.mu.Lock()
		g.failed = true
		g.mu.Unlock()
		p.alone()
	case 'j':
		p.alone()
	case 'k':
		if f.Code == protocol.CodeInvalidState {
			// The party is loading a match: kick after it.
			delete(p.pv.kicked, p.pv.kicking)
		}
		p.pv.kicking = ""
		p.partyAct(false)
	default:
		p.partyAct(false)
	}
}

// leaderGone reports whether the leader the player's party frames name has
// left the run.
func (p *player) leaderGone() bool {
	q := p.r.playerByID(p.pv.leader)
	return q == nil || q.out.Load()
}

// ridKind is the kind letter of a rid (0 for none).
func ridKind(rid string) byte {
	if rid == "" {
		return 0
	}
	return rid[0]
}

// isPartyKind reports whether a rid kind is a party request's.
func isPartyKind(k byte) bool { return k == 'p' || k == 'i' || k == 'j' || k == 'k' }
