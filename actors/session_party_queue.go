package actors

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// A party's queueing spans two hash slots on Redis Cluster: the party's
// record and the mode's queue. docs/parties.md gives the order of the steps
// and why a crash between any two leaves nobody queued twice:
//
//  1. the party records the ticket it is about to queue ("<mode>|<ticket>",
//     compare-and-set on its version: the members queued are its members);
//  2. the mode's script creates the one ticket, seating every member.
//
// A membership change runs the other way round: the ticket leaves the queue
// first (every member told party_changed), then the party changes, on the
// condition that its marker is still the one whose ticket was removed.

// marker names a party's ticket in the party's record.
func marker(mode, ticket string) string { return mode + "|" + ticket }

func splitMarker(m string) (mode, ticket string, ok bool) {
	mode, ticket, ok = strings.Cut(m, "|")
	return mode, ticket, ok && mode != "" && ticket != ""
}

// dequeueParty takes the party's ticket out of the queue (reason
// party_changed) and tells its members. loading is true when the ticket has
// become a match (the change must wait); a marker whose ticket is gone
// (matched and ended, or removed) needs nothing.
func (a *sessionActor) dequeueParty(ctx actor.Context, p *redisx.Party) (loading bool, err error) {
	mode, tid, ok := splitMarker(p.Queue)
	if !ok {
		return false, nil
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	me := a.seed.player.ID
	holder := p.Leader
	if slices.Contains(p.Members, me) {
		holder = me
	}
	res, err := a.env.Store.RemoveTicket(rctx, mode, holder, tid, protocol.ReasonPartyChanged, a.env.Cfg().Session.OutcomeTTL)
	if err != nil {
		return false, err
	}
	if !res.Removed {
		return res.Entry.Kind == redisx.EntryInRoom, nil
	}
	a.env.countDequeue(mode, protocol.ReasonPartyChanged)
	a.env.Events.Emit("dequeued", map[string]any{"player_id": holder, "mode": mode, "ticket_id": tid, "reason": protocol.ReasonPartyChanged})
	tell := res.Others
	if holder != me {
		tell = append(tell, holder)
	}
	a.env.bus.ToPlayers(kindDequeued, tell, &DequeuedMsg{Mode: mode, TicketID: tid, Reason: protocol.ReasonPartyChanged}, nil)
	if holder == me {
		// This session held the ticket: its own outcome moves it, through
		// the table, like any dequeue.
		for i := range res.Outcomes {
			o := &res.Outcomes[i]
			if !a.seed.told.has(o.ID()) {
				in, ev := a.classifyOutcome(o)
				a.apply(ctx, in, ev)
			}
		}
	}
	return false, nil
}

// partyEnqueue queues the leader's party as one ticket: every member must be
// connected, idle in every mode and unbanned (docs/protocol.md section 14).
func (a *sessionActor) partyEnqueue(ctx actor.Context, m protocol.ClientMessage) (sessionState, bool) {
	me := a.seed.player.ID
	mode, ok := a.env.Cfg().ModeByName(m.Mode)
	if !ok {
		a.refuseWith(m.Rid, protocol.CodeUnknownMode, 0)
		return sessionState{}, false
	}
	p, in, err := a.myParty()
	if err != nil {
		a.env.redisErr("party_of", err, a.logAttrs()...)
		a.unavailable(m.Rid)
		return sessionState{}, false
	}
	if !in {
		// The party ended meanwhile: a solo enqueue.
		return a.enqueue(ctx, m)
	}
	if p.Leader != me {
		a.forbidden(m.Rid, "Only the party's leader may queue the party.")
		return sessionState{}, false
	}
	if len(p.Members) > mode.TeamSize {
		a.refuse(&refusal{Rid: m.Rid, Code: protocol.CodePartyTooLarge,
			Message: "The party is larger than a team of this mode (" + strconv.Itoa(mode.TeamSize) + ")."})
		return sessionState{}, false
	}
	var latencies map[string]float64
	if len(mode.Regions) > 0 {
		if !slices.ContainsFunc(mode.Regions, func(r string) bool { _, ok := m.Latencies[r]; return ok }) {
			a.refuse(&refusal{Rid: m.Rid, Code: protocol.CodeBadRequest,
				Message: "This mode needs latencies: your round trip in ms to at least one of its regions."})
			return sessionState{}, false
		}
		latencies = m.Latencies
		a.seed.latencies = latencies
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	others := slices.DeleteFunc(slices.Clone(p.Members), func(x string) bool { return x == me })
	var infos []redisx.MemberInfo
	if len(others) > 0 {
		infos, err = a.env.Parties.ReadMembers(rctx, others, a.env.modeNames())
	}
	if err != nil {
		a.env.redisErr("read_members", err, a.logAttrs()...)
		a.unavailable(m.Rid)
		return sessionState{}, false
	}
	var notReady []string
	subjects := []redisx.BanSubject{{Player: me, Device: a.seed.player.Device}}
	members := []redisx.TicketMember{}
	byPlayer := map[string]redisx.MemberInfo{}
	for _, mi := range infos {
		byPlayer[mi.Player] = mi
		if !mi.Connected || mi.Busy || !mi.Profiled {
			notReady = append(notReady, mi.Player)
		}
		subjects = append(subjects, redisx.BanSubject{Player: mi.Player, Device: mi.Device})
	}
	if len(notReady) > 0 {
		a.refuse(&refusal{Rid: m.Rid, Code: protocol.CodePartyNotReady, Players: notReady,
			Message: "Every member must be connected and not queued or loading."})
		return sessionState{}, false
	}
	bans, err := a.env.Sanctions.BannedForEach(rctx, subjects)
	if err != nil {
		a.env.redisErr("ban_check", err, a.logAttrs()...)
		a.unavailable(m.Rid)
		return sessionState{}, false
	}
	var banned []string
	var longest time.Duration
	for i, d := range bans {
		if d > 0 {
			banned = append(banned, subjects[i].Player)
			longest = max(longest, d)
		}
	}
	if len(banned) > 0 {
		a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeBanned)).Inc()
		a.send(&protocol.Error{Type: protocol.TypeError, Rid: m.Rid, Code: protocol.CodeBanned, Message: messageFor(protocol.CodeBanned),
			RetryAfterMs: longest.Milliseconds(), Players: banned})
		return sessionState{}, false
	}
	sum := 0.0
	for _, x := range p.Members {
		tm := redisx.TicketMember{Player: x}
		if x == me {
			tm.Rating, tm.Device = a.seed.player.Rating, a.seed.player.Device
		} else {
			tm.Rating, tm.Device = byPlayer[x].Rating, byPlayer[x].Device
		}
		sum += tm.Rating
		members = append(members, tm)
	}
	tid := newID()
	mk := marker(m.Mode, tid)
	if _, err := a.env.Parties.PartyMarkQueued(rctx, p.ID, me, mk, p.Ver, a.partyTTL()); err != nil {
		if errors.Is(err, redisx.ErrPartyStale) {
			// The party changed between the read and the mark: the client
			// retries against the new membership, which it is sent.
			if np, ok, err := a.myParty(); err == nil && ok {
				a.send(partyFrame(&np, ""))
			}
			a.refuse(&refusal{Rid: m.Rid, Code: protocol.CodePartyNotReady, Players: []string{},
				Message: "The party changed; queue again."})
			return sessionState{}, false
		}
		a.partyRefuse(m.Rid, err)
		return sessionState{}, false
	}
	res, err := a.env.Store.Enqueue(rctx, redisx.Ticket{ID: tid, Player: me, Mode: m.Mode, Rating: sum / float64(len(members)),
		Device: a.seed.player.Device, Latencies: latencies, Party: p.ID, Members: members})
	if err != nil {
		// Whatever Redis holds, the sessions' reads of it settle: the
		// leader's and each member's periodic read adopts a ticket that was
		// made, and a marker without a ticket blocks nothing.
		a.env.redisErr("enqueue", err, a.logAttrs()...)
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		a.unavailable(m.Rid)
		return sessionState{}, false
	}
	switch res.Status {
	case redisx.EnqueueMembersBusy:
		if _, err := a.env.Parties.PartyClearQueued(rctx, p.ID, mk); err != nil {
			a.env.redisErr("party_clear_queued", err, a.logAttrs()...)
		}
		a.refuse(&refusal{Rid: m.Rid, Code: protocol.CodePartyNotReady, Players: res.Busy,
			Message: "Every member must be connected and not queued or loading."})
		return sessionState{}, false
	case redisx.EnqueueInRoom:
		a.reconcile(ctx)
		a.invalidState(m.Rid, "Cannot queue while loading a match.")
		return sessionState{}, false
	case redisx.EnqueueCreated:
		for i := range res.Outcomes {
			if o := &res.Outcomes[i]; !a.seed.told.has(o.ID()) {
				a.replay(o)
			}
		}
		a.ticketCreated(res.Ticket)
		a.env.Metrics.PartyTicketsEnqueued.WithLabelValues(m.Mode, strconv.Itoa(len(members))).Inc()
		a.env.bus.ToPlayers(kindPartyQueued, others, &PartyQueuedMsg{Mode: m.Mode, Ticket: tid}, nil)
	}
	t := res.Ticket
	a.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: m.Rid, Mode: m.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs})
	return sessionState{Mode: m.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs}, true
}

// partysTicket reports whether o is the removal of the ticket this
// session's party was last queued with (Redis's party record says so), as
// opposed to one of the player's own that its client never held.
func (a *sessionActor) partysTicket(o *redisx.Outcome) bool {
	if a.seed.party == nil || o.Kind != redisx.OutcomeDequeued {
		return false
	}
	p, in, err := a.myParty()
	return err == nil && in && p.Queue == marker(o.Mode, o.Ref)
}

// memberEnqueue answers a party member's own enqueue: FORBIDDEN, unless
// Redis says the session's copy of its party was stale (it left, or leads
// now), in which case the request is classified again.
func (a *sessionActor) memberEnqueue(ctx actor.Context, m protocol.ClientMessage) {
	p, in, err := a.myParty()
	if err != nil {
		a.env.redisErr("party_of", err, a.logAttrs()...)
		a.unavailable(m.Rid)
		return
	}
	if !in || p.Leader == a.seed.player.ID {
		a.handle(ctx, m)
		return
	}
	a.forbidden(m.Rid, "Only the party's leader may queue; leave the party to queue alone.")
}
