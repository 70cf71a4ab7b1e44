package actors

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// PartyStore is what sessions need from Redis for parties
// (docs/protocol.md section 14). *redisx.Client implements it. A party's
// record in Redis is the truth; a session keeps a copy only to classify
// requests, and every party request reads or writes Redis.
type PartyStore interface {
	PartyCreate(ctx context.Context, id, leader string, open bool, maxSize int, ttl time.Duration) (redisx.Party, error)
	PartyGet(ctx context.Context, id string) (redisx.Party, bool, error)
	PartyOf(ctx context.Context, player string) (redisx.Party, bool, error)
	PartyInvite(ctx context.Context, id, leader, invitee string, inviteTTL, ttl time.Duration) (redisx.Party, redisx.Invite, error)
	PartyJoin(ctx context.Context, id, player, expectQueue string, ttl time.Duration) (redisx.Party, error)
	PartyLeave(ctx context.Context, id, player, expectQueue string, ttl time.Duration) (redisx.Party, bool, error)
	PartyKick(ctx context.Context, id, leader, target, expectQueue string, ttl time.Duration) (redisx.Party, error)
	PartyPromote(ctx context.Context, id, leader, target string, ttl time.Duration) (redisx.Party, error)
	PartyMarkQueued(ctx context.Context, id, leader, marker string, expectVer int64, ttl time.Duration) (redisx.Party, error)
	PartyClearQueued(ctx context.Context, id, marker string) (bool, error)
	PartyTouch(ctx context.Context, id, player string, ttl time.Duration) (bool, error)
	Invitations(ctx context.Context, player string) ([]redisx.Invite, error)
	PartiesCount(ctx context.Context) (int64, error)
	SetProfile(ctx context.Context, player string, rating float64, device string, ttl time.Duration) error
	ReadMembers(ctx context.Context, players, modes []string) ([]redisx.MemberInfo, error)
}

// Party news between sessions, over the bus (a fast path: a session that
// misses it finds the party's state in Redis at its next party request,
// reconnect or renewal).
const (
	kindParty       = "party"
	kindPartyInvite = "party_invite"
	kindPartyLeft   = "party_left"
	kindPartyQueued = "party_queued"
)

// PartyMsg carries a party's new state to its members.
type PartyMsg struct {
	Party redisx.Party `json:"party"`
}

// PartyInviteMsg tells a player it was invited.
type PartyInviteMsg struct {
	Party     string `json:"party"`
	From      string `json:"from"`
	ExpiresMs int64  `json:"expires_ms"`
}

// PartyLeftMsg tells a player it is no longer in a party (kicked, or the
// party ended).
type PartyLeftMsg struct {
	Party  string `json:"party"`
	Reason string `json:"reason"`
}

// PartyQueuedMsg tells a member that its leader queued the party: the
// member's session reads Redis and takes the party's ticket as its own.
type PartyQueuedMsg struct {
	Mode   string `json:"mode"`
	Ticket string `json:"ticket"`
}

// partyFrame is the party frame of p.
func partyFrame(p *redisx.Party, rid string) *protocol.Party {
	return &protocol.Party{Type: protocol.TypeParty, Rid: rid, PartyID: p.ID, Leader: p.Leader,
		Members: nonNil(p.Members), Invited: nonNil(p.Invited), Open: p.Open, MaxSize: p.MaxSize}
}

// partyRefusal maps a refusal of the party scripts to the client's code.
func (a *sessionActor) partyRefuse(rid string, err error) {
	var code protocol.Code
	msg := ""
	switch {
	case errors.Is(err, redisx.ErrPartyNotFound):
		code, msg = protocol.CodeNotFound, "No such party."
	case errors.Is(err, redisx.ErrPartyForbidden):
		code, msg = protocol.CodeForbidden, "You may not do that in this party."
	case errors.Is(err, redisx.ErrPartyFull):
		code, msg = protocol.CodePartyFull, "The party is full."
	case errors.Is(err, redisx.ErrInParty):
		code, msg = protocol.CodeForbidden, "Leave your party first."
	default:
		a.env.redisErr("party", err, a.logAttrs()...)
		a.unavailable(rid)
		return
	}
	a.refuse(&refusal{Rid: rid, Code: code, Message: msg})
}

func (a *sessionActor) forbidden(rid, msg string) {
	a.refuse(&refusal{Rid: rid, Code: protocol.CodeForbidden, Message: msg})
}

// myParty reads the player's party from Redis and keeps the session's
// copy current; ok is false when the player is in no party.
func (a *sessionActor) myParty() (redisx.Party, bool, error) {
	rctx, cancel := a.env.opCtx()
	defer cancel()
	p, ok, err := a.env.Parties.PartyOf(rctx, a.seed.player.ID)
	if err != nil {
		return redisx.Party{}, false, err
	}
	a.setParty(p, ok)
	return p, ok, nil
}

// setParty records the session's copy of its party.
func (a *sessionActor) setParty(p redisx.Party, in bool) {
	if !in {
		a.seed.party = nil
	} else {
		a.seed.party = &p
	}
	a.env.host.update(a.seed)
}

// tellParty sends p to its members other than the caller, wherever they
// are connected.
func (a *sessionActor) tellParty(p *redisx.Party) {
	var to []string
	for _, m := range p.Members {
		if m != a.seed.player.ID {
			to = append(to, m)
		}
	}
	if len(to) > 0 {
		a.env.bus.ToPlayers(kindParty, to, &PartyMsg{Party: *p}, nil)
	}
}

// changed records p, the party after this session's change, answers rid
// with it and sends it to the other members.
func (a *sessionActor) changed(p *redisx.Party, rid string) {
	a.setParty(*p, true)
	a.send(partyFrame(p, rid))
	a.tellParty(p)
}

func (a *sessionActor) partyTTL() time.Duration { return a.env.Cfg().Party.TTL }

// partyRequest serves party_create, party_invite, party_join and
// party_promote: requests that do not take anyone out of the party.
func (a *sessionActor) partyRequest(ctx actor.Context, m protocol.ClientMessage) {
	me := a.seed.player.ID
	cfg := a.env.Cfg().Party
	cur, in, err := a.myParty()
	if err != nil {
		a.partyRefuse(m.Rid, err)
		return
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	switch m.Type {
	case protocol.TypePartyCreate:
		if in {
			a.forbidden(m.Rid, "Leave your party first.")
			return
		}
		p, err := a.env.Parties.PartyCreate(rctx, newID(), me, m.Open, cfg.MaxSize, cfg.TTL)
		if err != nil {
			a.partyRefuse(m.Rid, err)
			return
		}
		a.profile(rctx)
		a.setParty(p, true)
		a.send(partyFrame(&p, m.Rid))
		a.env.Events.Emit("party_created", map[string]any{"party_id": p.ID, "player_id": me, "open": p.Open})
	case protocol.TypePartyInvite:
		if !in || cur.Leader != me {
			a.forbidden(m.Rid, "Only the party's leader may invite.")
			return
		}
		p, inv, err := a.env.Parties.PartyInvite(rctx, cur.ID, me, m.PlayerID, cfg.InviteTTL, cfg.TTL)
		if err != nil {
			a.partyRefuse(m.Rid, err)
			return
		}
		a.changed(&p, m.Rid)
		// Connected on any node: told now; otherwise after its next
		// welcome, from Redis.
		a.env.bus.ToPlayers(kindPartyInvite, []string{m.PlayerID}, &PartyInviteMsg{Party: p.ID, From: me, ExpiresMs: inv.ExpiresMs}, nil)
	case protocol.TypePartyJoin:
		if in && cur.ID == m.PartyID {
			a.send(partyFrame(&cur, m.Rid))
			return
		}
		if in {
			a.forbidden(m.Rid, "Leave your party first.")
			return
		}
		a.profile(rctx)
		p, err := a.env.Parties.PartyJoin(rctx, m.PartyID, me, "", cfg.TTL)
		if errors.Is(err, redisx.ErrPartyStale) {
			// The party is queued (the refusal carries it as it stands): its
			// ticket leaves first (every member is told party_changed), then
			// the join, on the condition that the marker is still that one.
			loading, derr := a.dequeueParty(ctx, &p)
			if derr == nil && loading {
				a.invalidState(m.Rid, "The party is loading a match.")
				return
			}
			if err = derr; err == nil {
				p, err = a.env.Parties.PartyJoin(rctx, m.PartyID, me, p.Queue, cfg.TTL)
			}
		}
		if err != nil {
			a.partyRefuse(m.Rid, err)
			return
		}
		a.changed(&p, m.Rid)
		a.env.Events.Emit("party_joined", map[string]any{"party_id": p.ID, "player_id": me})
	case protocol.TypePartyPromote:
		if !in || cur.Leader != me {
			a.forbidden(m.Rid, "Only the party's leader may promote.")
			return
		}
		p, err := a.env.Parties.PartyPromote(rctx, cur.ID, me, m.PlayerID, cfg.TTL)
		if err != nil {
			a.partyRefuse(m.Rid, err)
			return
		}
		a.changed(&p, m.Rid)
	}
}

// profile records the player's rating and device for its party's enqueue.
func (a *sessionActor) profile(ctx context.Context) {
	p := a.seed.player
	if err := a.env.Parties.SetProfile(ctx, p.ID, p.Rating, p.Device, a.partyTTL()); err != nil {
		a.env.redisErr("set_profile", err, a.logAttrs()...)
	}
}

// partyMembership serves party_leave and party_kick. A queued party's
// ticket leaves the queue first (every member is told party_changed); a
// party loading a match refuses (the table refuses it while this session
// loads; a member's loading is read from Redis for the rest).
func (a *sessionActor) partyMembership(ctx actor.Context, m protocol.ClientMessage) {
	me := a.seed.player.ID
	cur, in, err := a.myParty()
	if err != nil {
		a.partyRefuse(m.Rid, err)
		return
	}
	if !in {
		a.forbidden(m.Rid, "You are not in a party.")
		return
	}
	if m.Type == protocol.TypePartyKick && (cur.Leader != me || m.PlayerID == me) {
		a.forbidden(m.Rid, "Only the party's leader may remove another member.")
		return
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	for attempt := 0; ; attempt++ {
		if cur.Queue != "" {
			loading, err := a.dequeueParty(ctx, &cur)
			if err != nil {
				a.partyRefuse(m.Rid, err)
				return
			}
			if loading {
				a.invalidState(m.Rid, "The party is loading a match.")
				return
			}
		}
		var p redisx.Party
		var disbanded bool
		if m.Type == protocol.TypePartyKick {
			p, err = a.env.Parties.PartyKick(rctx, cur.ID, me, m.PlayerID, cur.Queue, a.partyTTL())
		} else {
			p, disbanded, err = a.env.Parties.PartyLeave(rctx, cur.ID, me, cur.Queue, a.partyTTL())
		}
		if errors.Is(err, redisx.ErrPartyStale) && attempt < 3 {
			// The party changed meanwhile (queued again): read it again.
			if cur, in, err = a.myParty(); err == nil && in {
				continue
			}
			if err == nil {
				a.forbidden(m.Rid, "You are not in a party.")
				return
			}
		}
		if err != nil {
			a.partyRefuse(m.Rid, err)
			return
		}
		if m.Type == protocol.TypePartyKick {
			a.changed(&p, m.Rid)
			a.env.bus.ToPlayers(kindPartyLeft, []string{m.PlayerID}, &PartyLeftMsg{Party: p.ID, Reason: protocol.PartyLeftKicked}, nil)
			a.env.Events.Emit("party_left", map[string]any{"party_id": p.ID, "player_id": m.PlayerID, "reason": protocol.PartyLeftKicked})
			return
		}
		a.left(&p, cur.ID, disbanded, protocol.PartyLeftLeft, m.Rid)
		return
	}
}

// left records that the player left its party (p is the party after the
// leave) and tells it and the others.
func (a *sessionActor) left(p *redisx.Party, id string, disbanded bool, reason, rid string) {
	a.setParty(redisx.Party{}, false)
	a.send(&protocol.PartyLeft{Type: protocol.TypePartyLeft, Rid: rid, PartyID: id, Reason: reason})
	a.env.Events.Emit("party_left", map[string]any{"party_id": id, "player_id": a.seed.player.ID, "reason": reason})
	if disbanded {
		a.env.Events.Emit("party_disbanded", map[string]any{"party_id": id})
		return
	}
	a.tellParty(p)
}

// partyCheck asks a session to read its party again: the party no longer
// lists the player, and the news of why was lost.
type partyCheck struct{}

// partyNews tells the client what another member's session did.
func (a *sessionActor) partyNews(ev any) {
	switch m := ev.(type) {
	case *partyCheck:
		prev := a.seed.party
		p, in, err := a.myParty()
		switch {
		case err != nil || prev == nil:
		case !in || p.ID != prev.ID:
			// Removed by the leader (a kick whose news was lost), or the
			// party ended (its record expired).
			reason := protocol.PartyLeftKicked
			rctx, cancel := a.env.opCtx()
			if _, exists, err := a.env.Parties.PartyGet(rctx, prev.ID); err == nil && !exists {
				reason = protocol.PartyLeftDisbanded
			}
			cancel()
			a.send(&protocol.PartyLeft{Type: protocol.TypePartyLeft, PartyID: prev.ID, Reason: reason})
		case p.Ver != prev.Ver:
			a.send(partyFrame(&p, ""))
		}
	case *PartyMsg:
		cur := a.seed.party
		if cur == nil || cur.ID != m.Party.ID {
			// News of a party the session does not know it is in: sent
			// before this player left it (a leave or a join elsewhere
			// that overtook the news), so only Redis can say whether the
			// player is in it now.
			if p, in, err := a.myParty(); err == nil && in && p.ID == m.Party.ID {
				a.send(partyFrame(&p, ""))
			}
			return
		}
		if cur.Ver > m.Party.Ver {
			return // older than what the client was told
		}
		if slices.Contains(m.Party.Members, a.seed.player.ID) {
			a.setParty(m.Party, true)
			a.send(partyFrame(&m.Party, ""))
		}
	case *PartyInviteMsg:
		a.send(&protocol.PartyInvite{Type: protocol.TypePartyInvited, PartyID: m.Party, From: m.From, ExpiresMs: m.ExpiresMs})
	case *PartyLeftMsg:
		if cur := a.seed.party; cur != nil && cur.ID == m.Party {
			a.setParty(redisx.Party{}, false)
			a.send(&protocol.PartyLeft{Type: protocol.TypePartyLeft, PartyID: m.Party, Reason: m.Reason})
		}
	}
}

// partyAfterWelcome tells a new connection its party, or the invitations
// waiting for a player in none (invited: the truth read saw some).
func (a *sessionActor) partyAfterWelcome(invited bool) {
	rctx, cancel := a.env.opCtx()
	defer cancel()
	if p := a.seed.party; p != nil {
		a.profile(rctx)
		a.send(partyFrame(p, ""))
		return
	}
	if !invited {
		return
	}
	invs, err := a.env.Parties.Invitations(rctx, a.seed.player.ID)
	if err != nil {
		a.env.redisErr("invitations", err, a.logAttrs()...)
		return
	}
	for _, inv := range invs {
		a.send(&protocol.PartyInvite{Type: protocol.TypePartyInvited, PartyID: inv.Party, From: inv.From, ExpiresMs: inv.ExpiresMs})
	}
}

// leaveOnGrace takes a player whose connection stayed away past its grace
// out of its party (its ticket, the party's, already left the queue).
func (a *sessionActor) leaveOnGrace() {
	if a.seed.party == nil {
		return
	}
	cur, in, err := a.myParty()
	if err != nil || !in {
		return
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	p, disbanded, err := a.env.Parties.PartyLeave(rctx, cur.ID, a.seed.player.ID, cur.Queue, a.partyTTL())
	if err != nil {
		a.env.redisErr("party_leave", err, a.logAttrs()...)
		return
	}
	a.left(&p, cur.ID, disbanded, protocol.PartyLeftDisconnected, "")
}
