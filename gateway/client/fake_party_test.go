package client

import (
	"fmt"
	"slices"

	"github.com/matchd/matchd/gateway/protocol"
)

// fakeMaxSize is party.max_size on the fake nodes, small so that a test
// fills a party with three players.
const fakeMaxSize = 3

// fakeParties are the parties of the fake nodes' players, with the rules
// of docs/protocol.md section 9.6 that the client's tests rely on. It is
// part of fakePlayers and guarded by its mutex.
type fakeParties struct {
	parties map[string]*protocol.Party
	// invites are each player's pending invitations, by party id.
	invites map[string][]protocol.PartyInvite
	// live is each player's connection while it has one.
	live map[string]*fakeConn
	n    int
}

func newFakeParties() fakeParties {
	return fakeParties{parties: map[string]*protocol.Party{}, invites: map[string][]protocol.PartyInvite{}, live: map[string]*fakeConn{}}
}

func (p *fakeParties) partyOfLocked(player string) string {
	for id, pt := range p.parties {
		if slices.Contains(pt.Members, player) {
			return id
		}
	}
	return ""
}

// welcomed sends what follows a welcome: the invitations of a player in
// no party, or its party.
func (p *fakePlayers) welcomed(c *fakeConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live[c.player] = c
	id := p.partyOfLocked(c.player)
	if id == "" {
		for _, inv := range p.invites[c.player] {
			c.send(&inv)
		}
		return
	}
	c.send(p.frameLocked(id, ""))
}

// conn is player's live connection, nil when it has none.
func (p *fakePlayers) conn(player string) *fakeConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live[player]
}

// gone forgets a connection that ended, unless a newer one took over.
func (p *fakePlayers) gone(c *fakeConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live[c.player] == c {
		delete(p.live, c.player)
	}
}

func (p *fakeParties) frameLocked(id, rid string) *protocol.Party {
	f := *p.parties[id]
	f.Rid = rid
	f.Members, f.Invited = slices.Clone(f.Members), slices.Clone(f.Invited)
	return &f
}

// tellOthersLocked sends the party to its members but one, the one whose
// copy is a reply.
func (p *fakeParties) tellOthersLocked(id, but string) {
	for _, m := range p.parties[id].Members {
		if c := p.live[m]; c != nil && m != but {
			c.send(p.frameLocked(id, ""))
		}
	}
}

// serveParty answers party requests, and a party's enqueue when it is
// refused; false leaves m to serve.
func (p *fakePlayers) serveParty(c *fakeConn, m protocol.ClientMessage, refuse func(protocol.Code, string, int64, bool)) bool {
	me := c.player
	mine := p.partyOfLocked(me)
	var pt *protocol.Party
	if mine != "" {
		pt = p.parties[mine]
	}
	leader := pt != nil && pt.Leader == me
	forbid := func() bool { refuse(protocol.CodeForbidden, "Not allowed.", 0, false); return true }
	switch m.Type {
	case protocol.TypeEnqueue:
		switch {
		case pt == nil:
			return false
		case !leader:
			return forbid()
		}
		var away []string
		for _, who := range pt.Members {
			if p.live[who] == nil {
				away = append(away, who)
			}
		}
		if len(away) == 0 {
			return false
		}
		c.send(&protocol.Error{Type: protocol.TypeError, Rid: m.Rid, Code: protocol.CodePartyNotReady, Message: "Not everyone is ready.", Players: away})
	case protocol.TypePartyCreate:
		if pt != nil {
			return forbid()
		}
		p.n++
		id := fmt.Sprintf("pt-%d", p.n)
		p.parties[id] = &protocol.Party{Type: protocol.TypeParty, PartyID: id, Leader: me, Members: []string{me}, Invited: []string{}, Open: m.Open, MaxSize: fakeMaxSize}
		c.send(p.frameLocked(id, m.Rid))
	case protocol.TypePartyInvite:
		switch {
		case !leader:
			return forbid()
		case len(pt.Members) >= fakeMaxSize:
			refuse(protocol.CodePartyFull, "The party is full.", 0, false)
			return true
		}
		if !slices.Contains(pt.Invited, m.PlayerID) {
			pt.Invited = append(pt.Invited, m.PlayerID)
		}
		inv := protocol.PartyInvite{Type: protocol.TypePartyInvited, PartyID: mine, From: me, ExpiresMs: 60000}
		p.invites[m.PlayerID] = append(p.invites[m.PlayerID], inv)
		if to := p.live[m.PlayerID]; to != nil {
			to.send(&inv)
		}
		c.send(p.frameLocked(mine, m.Rid))
		p.tellOthersLocked(mine, me)
	case protocol.TypePartyJoin:
		to := p.parties[m.PartyID]
		switch {
		case to == nil:
			refuse(protocol.CodeNotFound, "No such party.", 0, false)
			return true
		case mine == m.PartyID:
		case pt != nil, !to.Open && !slices.Contains(to.Invited, me):
			return forbid()
		case len(to.Members) >= fakeMaxSize:
			refuse(protocol.CodePartyFull, "The party is full.", 0, false)
			return true
		default:
			to.Members = append(to.Members, me)
			to.Invited = slices.DeleteFunc(to.Invited, func(s string) bool { return s == me })
			delete(p.invites, me)
		}
		c.send(p.frameLocked(m.PartyID, m.Rid))
		p.tellOthersLocked(m.PartyID, me)
	case protocol.TypePartyLeave:
		if pt == nil {
			return forbid()
		}
		p.removeLocked(mine, me, "")
		c.send(&protocol.PartyLeft{Type: protocol.TypePartyLeft, Rid: m.Rid, PartyID: mine, Reason: protocol.PartyLeftLeft})
	case protocol.TypePartyKick:
		if !leader || m.PlayerID == me || !slices.Contains(pt.Members, m.PlayerID) {
			return forbid()
		}
		p.removeLocked(mine, m.PlayerID, me)
		if to := p.live[m.PlayerID]; to != nil {
			to.send(&protocol.PartyLeft{Type: protocol.TypePartyLeft, PartyID: mine, Reason: protocol.PartyLeftKicked})
		}
		c.send(p.frameLocked(mine, m.Rid))
	case protocol.TypePartyPromote:
		if !leader || !slices.Contains(pt.Members, m.PlayerID) {
			return forbid()
		}
		pt.Leader = m.PlayerID
		c.send(p.frameLocked(mine, m.Rid))
		p.tellOthersLocked(mine, me)
	default:
		return false
	}
	return true
}

// removeLocked takes who out of party id: the lead passes to the earliest
// member left, the last one out ends the party, and the members but one
// (whose copy is a reply) are told.
func (p *fakeParties) removeLocked(id, who, but string) {
	pt := p.parties[id]
	pt.Members = slices.DeleteFunc(pt.Members, func(s string) bool { return s == who })
	if len(pt.Members) == 0 {
		delete(p.parties, id)
		return
	}
	if pt.Leader == who {
		pt.Leader = pt.Members[0]
	}
	p.tellOthersLocked(id, but)
}
