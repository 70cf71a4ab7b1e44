package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// fake is a tiny in-process matchmaker speaking enough of the protocol to
// exercise every matchload behaviour: two teams of teamSize filled with
// whole queued units (a player, or a party), loading rooms with a
// deadline, dodges, requeues, typed errors, and parties (create, invite,
// join, kick, the leader's enqueue for all, a disconnected member kept as
// matchd keeps it during its grace).
type fake struct {
	mu       sync.Mutex
	queue    []*funit
	rooms    int
	tickets  int
	deadline time.Duration
	// teamSize is the players per team (0: 1, a duel).
	teamSize int
	// tick, when set, forms matches every tick, as matchd's leader does,
	// instead of at each enqueue: a cancel can then cross a match.
	tick time.Duration
	// dupFound makes the server send every match_found twice (a bug
	// matchload must catch).
	dupFound bool
	// splitParties deals the members of a match alternately to the two
	// teams, parties or not (a bug matchload must catch).
	splitParties bool
	// banFor bans a no-show's enqueues for that long (BANNED).
	banFor time.Duration
	// mute, when set, names players whose session goes silent once queued:
	// their enqueue is answered, nothing after it (a bug the silence
	// watchdog must catch).
	mute func(player string) bool

	conns   map[string]*fconn
	parties map[string]*fparty
	invites map[string][]*fparty // invitations of players not connected
	nparty  int
	dodges  int // cancels served as dodges
}

// funit is one queued ticket: a player alone, or a party.
type funit struct {
	ticket  string
	members []*fconn
	party   *fparty
}

type fparty struct {
	id      string
	leader  *fconn
	members []*fconn
	invited []string
	open    bool
	unit    *funit // its ticket while queued
}

type fconn struct {
	id          string
	ws          *websocket.Conn
	st          string // idle, queued, loading
	room        *froom
	unit        *funit
	party       *fparty
	wmu         sync.Mutex
	gone        bool
	bannedUntil time.Time
}

type froom struct {
	id      string
	units   []*funit
	members []*fconn
	ready   map[*fconn]bool
	done    bool
}

func (c *fconn) send(v any) {
	if c.gone {
		return
	}
	b, _ := json.Marshal(v)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, b)
}

func (f *fake) seats() int { return max(f.teamSize, 1) }

// runTicks forms matches every f.tick until the returned stop is called.
func (f *fake) runTicks() (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(f.tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f.mu.Lock()
				f.match()
				f.mu.Unlock()
			}
		}
	}()
	return func() { close(done) }
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("player_id")
	if id == "" {
		http.Error(w, `{"code":"BAD_REQUEST"}`, http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{protocol.Subprotocol}})
	if err != nil {
		return
	}
	ws.SetReadLimit(4096)
	c := &fconn{id: id, ws: ws, st: "idle"}
	f.mu.Lock()
	if f.conns == nil {
		f.conns, f.parties, f.invites = map[string]*fconn{}, map[string]*fparty{}, map[string][]*fparty{}
	}
	f.conns[id] = c
	c.send(protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Subprotocol, PlayerID: id, State: protocol.State{Name: "idle"}})
	for _, p := range f.invites[id] {
		c.send(protocol.PartyInvite{Type: protocol.TypePartyInvited, PartyID: p.id, From: p.leader.id, ExpiresMs: time.Now().Add(time.Minute).UnixMilli()})
	}
	delete(f.invites, id)
	f.mu.Unlock()
	for {
		typ, data, err := ws.Read(context.Background())
		if err != nil {
			f.mu.Lock()
			f.disconnected(c)
			f.mu.Unlock()
			return
		}
		if typ != websocket.MessageText {
			c.send(protocol.Error{Type: protocol.TypeError, Code: protocol.CodeBadRequest, Message: "text only"})
			continue
		}
		m, err := protocol.Decode(data)
		if err != nil {
			de, _ := protocol.AsDecodeError(err)
			c.send(protocol.Error{Type: protocol.TypeError, Rid: de.Rid, Code: de.Code, Message: de.Message})
			continue
		}
		f.serve(c, m)
	}
}

// disconnected: a player alone leaves the queue; a party member stays in
// its party and its ticket (matchd keeps both for the reconnect grace),
// and a leader's lead passes to the earliest member still connected. Call
// with f.mu held.
func (f *fake) disconnected(c *fconn) {
	c.gone = true
	p := c.party
	if p == nil {
		if c.unit != nil && c.st == "queued" {
			f.removeUnit(c.unit)
		}
		return
	}
	if p.leader == c {
		for _, m := range p.members {
			if !m.gone {
				p.leader = m
				f.tellParty(p, nil, "")
				return
			}
		}
	}
}

func (f *fake) removeUnit(u *funit) {
	for i, q := range f.queue {
		if q == u {
			f.queue = append(f.queue[:i], f.queue[i+1:]...)
			break
		}
	}
	if u.party != nil {
		u.party.unit = nil
	}
	for _, m := range u.members {
		m.unit = nil
	}
}

// dequeue takes a unit out of the queue and tells its members why; the
// one whose request did it gets the rid.
func (f *fake) dequeue(u *funit, reason string, by *fconn, rid string) {
	f.removeUnit(u)
	for _, m := range u.members {
		m.st = "idle"
		d := protocol.Dequeued{Type: protocol.TypeDequeued, Mode: "duel", TicketID: u.ticket, Reason: reason}
		if m == by {
			d.Rid = rid
		}
		m.send(d)
	}
}

func (f *fake) refuse(c *fconn, rid string, code protocol.Code, players ...string) {
	e := protocol.Error{Type: protocol.TypeError, Rid: rid, Code: code, Message: "no", Players: players}
	if code == protocol.CodeInvalidState {
		e.State = &protocol.State{Name: c.st}
	}
	c.send(e)
}

func partyFrame(p *fparty, rid string) *protocol.Party {
	out := &protocol.Party{Type: protocol.TypeParty, Rid: rid, PartyID: p.id, Leader: p.leader.id, Open: p.open, MaxSize: 5,
		Members: []string{}, Invited: append([]string{}, p.invited...)}
	for _, m := range p.members {
		out.Members = append(out.Members, m.id)
	}
	return out
}

// tellParty sends p to its members; by's copy carries rid.
func (f *fake) tellParty(p *fparty, by *fconn, rid string) {
	for _, m := range p.members {
		if m == by {
			m.send(partyFrame(p, rid))
		} else {
			m.send(partyFrame(p, ""))
		}
	}
}

func (f *fake) serve(c *fconn, m protocol.ClientMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mute != nil && f.mute(c.id) {
		if c.st == "idle" && m.Type == protocol.TypeEnqueue {
			c.st = "queued"
			c.send(protocol.Queued{Type: protocol.TypeQueued, Rid: m.Rid, Mode: m.Mode, TicketID: "t-" + c.id})
		}
		return
	}
	switch m.Type {
	case protocol.TypePing:
		c.send(protocol.Pong{Type: protocol.TypePong, Rid: m.Rid})
	case protocol.TypeEnqueue:
		f.enqueue(c, m)
	case protocol.TypeCancel:
		switch c.st {
		case "queued":
			f.dequeue(c.unit, protocol.ReasonCancelled, c, m.Rid)
		case "loading":
			f.dodges++
			f.resolve(c.room, protocol.ReasonPlayerLeft, c, m.Rid)
		default:
			f.refuse(c, m.Rid, protocol.CodeInvalidState)
		}
	case protocol.TypeLoadingComplete:
		if c.st != "loading" || c.room.id != m.MatchID {
			f.refuse(c, m.Rid, protocol.CodeInvalidState)
			return
		}
		rm := c.room
		rm.ready[c] = true
		for _, mem := range rm.members {
			st := protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, MatchID: rm.id}
			if mem == c {
				st.Rid = m.Rid
			}
			mem.send(st)
		}
		if len(rm.ready) == len(rm.members) {
			rm.done = true
			for _, mem := range rm.members {
				mem.st, mem.room = "idle", nil
				mem.send(protocol.MatchReady{Type: protocol.TypeMatchReady, MatchID: rm.id, Server: json.RawMessage("null")})
			}
		}
	case protocol.TypePartyCreate, protocol.TypePartyInvite, protocol.TypePartyJoin, protocol.TypePartyKick:
		f.partyRequest(c, m)
	default:
		f.refuse(c, m.Rid, protocol.CodeUnknownType)
	}
}

// enqueue queues a player alone, or its party when it leads one. Call
// with f.mu held.
func (f *fake) enqueue(c *fconn, m protocol.ClientMessage) {
	if c.st != "idle" {
		f.refuse(c, m.Rid, protocol.CodeInvalidState)
		return
	}
	u := &funit{members: []*fconn{c}}
	if p := c.party; p != nil {
		if p.leader != c {
			f.refuse(c, m.Rid, protocol.CodeForbidden)
			return
		}
		var notReady []string
		for _, mem := range p.members {
			if mem.gone || mem.st != "idle" {
				notReady = append(notReady, mem.id)
			}
		}
		if len(notReady) > 0 {
			f.refuse(c, m.Rid, protocol.CodePartyNotReady, notReady...)
			return
		}
		u = &funit{members: slices.Clone(p.members), party: p}
		p.unit = u
	}
	var banned []string
	wait := time.Duration(0)
	for _, mem := range u.members {
		if d := time.Until(mem.bannedUntil); d > 0 {
			banned, wait = append(banned, mem.id), max(wait, d)
		}
	}
	if len(banned) > 0 {
		if u.party != nil {
			u.party.unit = nil
		}
		c.send(protocol.Error{Type: protocol.TypeError, Rid: m.Rid, Code: protocol.CodeBanned, Message: "banned", RetryAfterMs: wait.Milliseconds(), Players: banned})
		return
	}
	f.tickets++
	u.ticket = "t" + strconv.Itoa(f.tickets)
	for _, mem := range u.members {
		mem.st, mem.unit = "queued", u
		q := protocol.Queued{Type: protocol.TypeQueued, Mode: m.Mode, TicketID: u.ticket}
		if mem == c {
			q.Rid = m.Rid
		}
		mem.send(q)
	}
	f.queue = append(f.queue, u)
	if f.tick == 0 {
		f.match()
	}
}

// partyRequest serves party_create, party_invite, party_join and
// party_kick. Call with f.mu held.
func (f *fake) partyRequest(c *fconn, m protocol.ClientMessage) {
	p := c.party
	switch m.Type {
	case protocol.TypePartyCreate:
		if p != nil {
			f.refuse(c, m.Rid, protocol.CodeForbidden)
			return
		}
		f.nparty++
		p = &fparty{id: "party" + strconv.Itoa(f.nparty), leader: c, members: []*fconn{c}, open: m.Open}
		f.parties[p.id], c.party = p, p
		c.send(partyFrame(p, m.Rid))
	case protocol.TypePartyInvite:
		if p == nil || p.leader != c {
			f.refuse(c, m.Rid, protocol.CodeForbidden)
			return
		}
		p.invited = append(p.invited, m.PlayerID)
		f.tellParty(p, c, m.Rid)
		if to := f.conns[m.PlayerID]; to != nil && !to.gone {
			to.send(protocol.PartyInvite{Type: protocol.TypePartyInvited, PartyID: p.id, From: c.id, ExpiresMs: time.Now().Add(time.Minute).UnixMilli()})
		} else {
			f.invites[m.PlayerID] = append(f.invites[m.PlayerID], p)
		}
	case protocol.TypePartyJoin:
		to := f.parties[m.PartyID]
		switch {
		case to == nil:
			f.refuse(c, m.Rid, protocol.CodeNotFound)
			return
		case p == to:
			c.send(partyFrame(p, m.Rid))
			return
		case p != nil || !to.open && !slices.Contains(to.invited, c.id):
			f.refuse(c, m.Rid, protocol.CodeForbidden)
			return
		case len(to.members) >= 5:
			f.refuse(c, m.Rid, protocol.CodePartyFull)
			return
		}
		if to.unit != nil {
			f.dequeue(to.unit, protocol.ReasonPartyChanged, nil, "")
		}
		to.members = append(to.members, c)
		to.invited = slices.DeleteFunc(to.invited, func(s string) bool { return s == c.id })
		c.party = to
		f.tellParty(to, c, m.Rid)
	case protocol.TypePartyKick:
		if p == nil || p.leader != c || m.PlayerID == c.id {
			f.refuse(c, m.Rid, protocol.CodeForbidden)
			return
		}
		i := slices.IndexFunc(p.members, func(x *fconn) bool { return x.id == m.PlayerID })
		if i < 0 {
			f.refuse(c, m.Rid, protocol.CodeForbidden)
			return
		}
		if slices.ContainsFunc(p.members, func(x *fconn) bool { return x.st == "loading" }) {
			f.refuse(c, m.Rid, protocol.CodeInvalidState)
			return
		}
		if p.unit != nil {
			f.dequeue(p.unit, protocol.ReasonPartyChanged, nil, "")
		}
		out := p.members[i]
		p.members = slices.Delete(p.members, i, i+1)
		out.party = nil
		f.tellParty(p, c, m.Rid)
		out.send(protocol.PartyLeft{Type: protocol.TypePartyLeft, PartyID: p.id, Reason: protocol.PartyLeftKicked})
	}
}

// match forms matches from the queue, oldest unit first: each fills the
// first team it fits in. Call with f.mu held.
func (f *fake) match() {
	ts := f.seats()
	for {
		var teams [2][]*funit
		var size [2]int
		var used []*funit
		for _, u := range f.queue {
			for t := range teams {
				if size[t]+len(u.members) <= ts {
					teams[t] = append(teams[t], u)
					size[t] += len(u.members)
					used = append(used, u)
					break
				}
			}
			if size[0] == ts && size[1] == ts {
				break
			}
		}
		if size[0] != ts || size[1] != ts {
			return
		}
		f.rooms++
		rm := &froom{id: "m" + strconv.Itoa(f.rooms), units: used, ready: map[*fconn]bool{}}
		ids := [][]string{{}, {}}
		for t, us := range teams {
			for _, u := range us {
				f.removeUnit(u)
				for _, mem := range u.members {
					rm.members = append(rm.members, mem)
					ids[t] = append(ids[t], mem.id)
				}
			}
		}
		if f.splitParties {
			ids = [][]string{{}, {}}
			for i, mem := range rm.members {
				ids[i%2] = append(ids[i%2], mem.id)
			}
		}
		for _, mem := range rm.members {
			mem.st, mem.room = "loading", rm
			mf := protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: rm.id, Mode: "duel", Teams: ids}
			mem.send(mf)
			if f.dupFound {
				mem.send(mf)
			}
		}
		time.AfterFunc(f.deadline, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.resolve(rm, protocol.ReasonLoadingTimeout, nil, "")
		})
	}
}

// resolve cancels a room: a unit is requeued (at the front, its queue time
// kept) when none of it dodged and either someone else dodged or all of it
// loaded; the rest go idle, and no-shows are banned for f.banFor. Call
// with f.mu held.
func (f *fake) resolve(rm *froom, reason string, dodger *fconn, rid string) {
	if rm.done {
		return
	}
	rm.done = true
	var noShows []string
	if dodger == nil {
		for _, mem := range rm.members {
			if !rm.ready[mem] {
				noShows = append(noShows, mem.id)
				if f.banFor > 0 {
					mem.bannedUntil = time.Now().Add(f.banFor)
				}
			}
		}
	}
	var requeue []*funit
	for _, u := range rm.units {
		back := !slices.Contains(u.members, dodger)
		for _, mem := range u.members {
			back = back && (dodger != nil || rm.ready[mem])
		}
		for _, mem := range u.members {
			mc := protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, MatchID: rm.id, Reason: reason, Requeued: back, NoShows: noShows}
			if mem == dodger {
				mc.Rid = rid
			}
			mem.room = nil
			mem.send(mc)
			mem.st = "idle"
			if back {
				mem.st, mem.unit = "queued", u
				mem.send(protocol.Queued{Type: protocol.TypeQueued, Mode: "duel", TicketID: u.ticket, Requeued: true})
			}
		}
		if back {
			if u.party != nil {
				u.party.unit = u
			}
			requeue = append(requeue, u)
		}
	}
	f.queue = append(requeue, f.queue...)
	if f.tick == 0 {
		f.match()
	}
}
