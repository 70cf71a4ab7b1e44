package actors

import (
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// request serves one client frame. Frames are answered in the order they
// came: while a doubtful request is being settled, the ones behind it wait.
func (a *sessionActor) request(ctx actor.Context, req *ClientRequest) {
	if a.seed.pending != nil || len(a.seed.stash) > 0 {
		if len(a.seed.stash) >= maxStash {
			a.unavailable(req.Msg.Rid)
			return
		}
		a.seed.stash = append(a.seed.stash, *req)
		return
	}
	a.serve(ctx, req)
}

// serve feeds one client frame to the table.
func (a *sessionActor) serve(ctx actor.Context, req *ClientRequest) {
	if req.Refused != nil {
		a.apply(ctx, inRefused, req.Refused)
		if req.Refused.Close {
			a.env.Log.Warn("persistent rate limit abuse, closing", a.logAttrs()...)
			if a.connected() {
				a.seed.outbox.Close(int(protocol.ClosePolicy), "rate limit abuse")
			}
		}
		return
	}
	a.seed.arrivedMs = req.ArrivedMs
	a.handle(ctx, req.Msg)
}

// handle feeds one decoded client request to the table.
func (a *sessionActor) handle(ctx actor.Context, m protocol.ClientMessage) {
	a.apply(ctx, a.classify(m), m)
}

// classify turns a client request into a table input.
func (a *sessionActor) classify(m protocol.ClientMessage) input {
	st := a.st()
	switch m.Type {
	case protocol.TypeEnqueue:
		if p := a.seed.party; p != nil && st.Name != stLoading {
			// The session's copy of its party classifies; the effect reads
			// Redis, and classifies again if the copy was stale.
			switch {
			case p.Leader != a.seed.player.ID:
				return inEnqueueMember
			case st.Name == stIdle:
				return inEnqueueParty
			}
		}
		if st.Mode != "" && m.Mode == st.Mode {
			return inEnqueueSameMode
		}
		return inEnqueueOtherMode
	case protocol.TypePartyCreate, protocol.TypePartyInvite, protocol.TypePartyJoin, protocol.TypePartyPromote:
		return inPartyRequest
	case protocol.TypePartyLeave, protocol.TypePartyKick:
		return inPartyMembership
	case protocol.TypeCancel:
		return inCancel
	case protocol.TypeLoadingComplete:
		if m.MatchID == st.MatchID {
			return inLoadedThisMatch
		}
		return inLoadedOtherMatch
	case protocol.TypeSync:
		return inSync
	default:
		return inPing
	}
}

func invalidMessage(s stateName, typ string) string {
	switch {
	case typ == protocol.TypeEnqueue && s == stQueued:
		return "Already queued in another mode."
	case typ == protocol.TypeEnqueue:
		return "Cannot queue while loading a match."
	case typ == protocol.TypeCancel:
		return "Nothing to cancel."
	default:
		return "No such match is loading."
	}
}

// enqueue creates the player's ticket. The ban check runs beside the
// enqueue, so both share one round trip (an enqueue is the hottest request
// there is); a banned player's new ticket is taken back before BANNED is
// sent, and cannot be matched meanwhile, because the leader drops banned
// players' tickets before it matches. A write whose outcome is unknown (a
// timeout) is settled by reading Redis, never reported as a failure.
func (a *sessionActor) enqueue(ctx actor.Context, m protocol.ClientMessage) (sessionState, bool) {
	mode, ok := a.env.Cfg().ModeByName(m.Mode)
	if !ok {
		a.settled(m)
		a.refuseWith(m.Rid, protocol.CodeUnknownMode, 0)
		return sessionState{}, false
	}
	var latencies map[string]float64
	if len(mode.Regions) > 0 {
		// docs/protocol.md section 9.5: a mode with regions needs the
		// client's measured latencies, to at least one of its regions.
		if !slices.ContainsFunc(mode.Regions, func(r string) bool { _, ok := m.Latencies[r]; return ok }) {
			a.settled(m)
			a.refuse(&refusal{Rid: m.Rid, Code: protocol.CodeBadRequest,
				Message: "This mode needs latencies: your round trip in ms to at least one of its regions."})
			return sessionState{}, false
		}
		latencies = m.Latencies
		a.seed.latencies = latencies
	}
	p := a.seed.player
	// A request settled again keeps the ticket id it first tried, so that
	// Redis tells whether that ticket is the one it holds.
	id := newID()
	if a.pendingIs(m) && a.seed.pending.ticket != "" {
		id = a.seed.pending.ticket
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	type banCheck struct {
		d   time.Duration
		err error
	}
	banc := make(chan banCheck, 1)
	go func() {
		d, err := a.env.Sanctions.BannedFor(rctx, p.ID, p.Device)
		banc <- banCheck{d, err}
	}()
	// The queue time is Redis's (QueuedAtMs 0): tickets of every node are
	// ordered by one clock.
	res, err := a.env.Store.Enqueue(rctx, redisx.Ticket{
		ID: id, Player: p.ID, Mode: m.Mode, Rating: p.Rating, Device: p.Device, Latencies: latencies,
	})
	ban := <-banc
	if err != nil {
		a.env.redisErr("enqueue", err, a.logAttrs()...)
		if !a.doubtful(m, err, id) {
			a.unavailable(m.Rid)
		}
		return sessionState{}, false
	}
	if ban.err != nil || ban.d > 0 {
		if ban.err != nil {
			a.env.redisErr("ban_check", ban.err, a.logAttrs()...)
		}
		if res.Status == redisx.EnqueueCreated {
			// The new ticket must go before the client hears anything.
			a.seed.pending = &pendingReq{msg: m, banned: ban.err == nil, bannedMs: ban.d.Milliseconds(), ticket: res.Ticket.ID}
			a.takeBack(ctx)
			return sessionState{}, false
		}
		a.settled(m)
		if ban.err != nil {
			a.unavailable(m.Rid)
		} else {
			a.replyBanned(m.Rid, ban.d.Milliseconds())
		}
		return sessionState{}, false
	}
	created := res.Status == redisx.EnqueueCreated ||
		// A settled request finds the ticket its first, doubtful attempt made.
		(res.Status == redisx.EnqueueExisting && res.Ticket.ID == id)
	switch res.Status {
	case redisx.EnqueueInRoom:
		// Redis seats the player in a room this session did not know of: a
		// doubtful enqueue of its own that was matched meanwhile (reading
		// Redis answers it, queued then match_found), or a match it missed.
		a.env.Log.Info("enqueue found the player in a room", append(a.logAttrs(), "room", res.Match)...)
		if !a.pendingIs(m) {
			a.seed.pending = &pendingReq{msg: m, ticket: id}
		}
		a.reconcile(ctx)
		if a.pendingIs(m) {
			a.settled(m)
			a.invalidState(m.Rid, "Cannot queue while loading a match.")
		}
		return sessionState{}, false
	case redisx.EnqueueCreated:
		// Outcomes the new ticket supersedes: tell the untold ones (history
		// the client missed) before the reply.
		for i := range res.Outcomes {
			o := &res.Outcomes[i]
			if !a.seed.told.has(o.ID()) {
				a.replay(o)
			}
		}
	}
	if created {
		a.ticketCreated(res.Ticket)
	}
	a.settled(m)
	t := res.Ticket
	a.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: m.Rid, Mode: m.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs})
	return sessionState{Mode: m.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs}, true
}

// ticketCreated counts a ticket an enqueue of this session created, once.
func (a *sessionActor) ticketCreated(t redisx.Ticket) {
	a.env.Metrics.TicketsEnqueued.WithLabelValues(t.Mode).Inc()
	a.env.Events.Emit("enqueued", map[string]any{"player_id": a.seed.player.ID, "mode": t.Mode, "ticket_id": t.ID, "rating": a.seed.player.Rating})
}

// takeBack removes the ticket a banned player's enqueue created. Until it
// is gone for certain the enqueue stays pending; its BANNED reply follows.
func (a *sessionActor) takeBack(ctx actor.Context) {
	p := a.seed.pending
	rctx, cancel := a.env.opCtx()
	defer cancel()
	res, err := a.env.Store.RemoveTicket(rctx, p.msg.Mode, a.seed.player.ID, p.ticket, "", 0)
	if err != nil {
		a.env.redisErr("remove_ticket", err, a.logAttrs()...)
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		return
	}
	// The client never hears of this ticket: its dequeue (the leader's ban
	// filter may have removed it first) is not news to it.
	a.markTold(string(redisx.OutcomeDequeued)+":"+p.ticket, p.msg.Mode)
	if !res.Removed && res.Entry.Kind == redisx.EntryInRoom {
		// Matched before the take-back: Redis seats the player, and the
		// session follows it (queued, then match_found, answer the enqueue).
		p.banned = false
		a.reconcile(ctx)
		if a.seed.pending == p {
			a.seed.pending = nil
			a.invalidState(p.msg.Rid, "Cannot queue while loading a match.")
		}
		return
	}
	a.seed.pending = nil
	if p.banned {
		a.replyBanned(p.msg.Rid, p.bannedMs)
	} else {
		a.unavailable(p.msg.Rid)
	}
}

func (a *sessionActor) replyBanned(rid string, retryMs int64) {
	a.refuseWith(rid, protocol.CodeBanned, retryMs)
}

// cancelTicket takes the ticket out of the queue. The removal's outcome is
// recorded with it in Redis; the reply is that outcome, told through the
// table like any other, after whatever the client missed before it (a
// cancel can cross a match that formed and ended unheard of).
func (a *sessionActor) cancelTicket(ctx actor.Context, m protocol.ClientMessage) (sessionState, bool) {
	st := a.st()
	a.seed.pending = &pendingReq{msg: m}
	rctx, cancel := a.env.opCtx()
	res, err := a.env.Store.RemoveTicket(rctx, st.Mode, a.seed.player.ID, st.TicketID, protocol.ReasonCancelled, a.env.Cfg().Session.OutcomeTTL)
	cancel()
	if err != nil {
		a.env.redisErr("remove_ticket", err, a.logAttrs()...)
		if !a.doubtful(m, err, "") {
			a.unavailable(m.Rid)
		}
		return sessionState{}, false
	}
	if !res.Removed {
		// The ticket left the queue meanwhile (matched, timed out, or this
		// very cancel removed it before its reply was lost): Redis says what
		// happened, and an outcome of this cancel answers it.
		a.reconcile(ctx)
		if a.pendingIs(m) {
			a.settled(m)
			a.invalidState(m.Rid, "The ticket already left the queue.")
		}
		return sessionState{}, false
	}
	a.env.countDequeue(st.Mode, protocol.ReasonCancelled)
	a.env.Events.Emit("dequeued", map[string]any{"player_id": a.seed.player.ID, "mode": st.Mode, "ticket_id": res.Ticket, "reason": protocol.ReasonCancelled})
	if len(res.Others) > 0 {
		// A member's cancel takes the party's ticket out for every member.
		a.env.bus.ToPlayers(kindDequeued, res.Others, &DequeuedMsg{Mode: st.Mode, TicketID: res.Ticket, Reason: protocol.ReasonCancelled}, nil)
	}
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		if a.seed.told.has(o.ID()) {
			continue
		}
		in, ev := a.classifyOutcome(o)
		a.apply(ctx, in, ev)
	}
	if rid, _, ok := a.takePending(protocol.TypeCancel); ok {
		// Not answered through an outcome (its record was already told):
		// answer it here.
		a.send(&protocol.Dequeued{Type: protocol.TypeDequeued, Rid: rid, Mode: st.Mode, TicketID: res.Ticket, Reason: protocol.ReasonCancelled})
		a.apply(ctx, evDequeued, &redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: res.Ticket, Mode: st.Mode, Reason: protocol.ReasonCancelled, Ticket: res.Ticket})
	}
	return sessionState{}, false
}

// dodge leaves a loading match: the match is cancelled for everyone, the
// others are requeued with their place kept, and a dodge is recorded. The
// dodger's own match_cancelled is the reply to its cancel.
func (a *sessionActor) dodge(ctx actor.Context, m protocol.ClientMessage) (sessionState, bool) {
	st := a.st()
	rctx, cancel := a.env.opCtx()
	r, ok, err := a.env.Store.Room(rctx, st.Mode, st.MatchID)
	cancel()
	if err != nil {
		// A read changed nothing: its failure is no doubt.
		a.env.redisErr("room", err, a.logAttrs()...)
		a.settled(m)
		a.unavailable(m.Rid)
		return sessionState{}, false
	}
	if !ok {
		a.reconcile(ctx)
		if a.pendingIs(m) || a.seed.pending == nil {
			a.settled(m)
			a.invalidState(m.Rid, "No such match is loading.")
		}
		return sessionState{}, false
	}
	a.seed.pending = &pendingReq{msg: m}
	out, err := a.env.resolveRoom(r, redisx.Resolution{Outcome: redisx.ResolveCancel, Reason: protocol.ReasonPlayerLeft, Leaver: a.seed.player.ID})
	if err != nil {
		if !a.doubtful(m, err, "") {
			a.unavailable(m.Rid)
		}
		return sessionState{}, false
	}
	if out.Status != redisx.ResolveOK {
		// The room ended first (started, timed out, or this very dodge whose
		// reply was lost): Redis says how, and its outcome answers the cancel
		// when it was the dodge.
		a.reconcile(ctx)
		if a.pendingIs(m) {
			a.settled(m)
			a.invalidState(m.Rid, "The match already ended.")
		}
		return sessionState{}, false
	}
	a.env.bus.ToRoom(r.Owner, r.MatchID, kindRoomResolved, &RoomResolvedMsg{MatchID: r.MatchID})
	a.apply(ctx, evCancelledOut, &matchEnd{Match: r.MatchID, Mode: r.Mode, Reason: protocol.ReasonPlayerLeft, NoShows: out.NoShows})
	return sessionState{}, false
}

// markReady records that the client loaded the match. A repeat is
// idempotent: the same reply, nothing recorded twice.
func (a *sessionActor) markReady(ctx actor.Context, m protocol.ClientMessage) {
	st := a.st()
	// Redis's clock judges the deadline, against when the mark reached
	// this node (stamped as it was read): neither a busy session nor a
	// stall between here and Redis makes it late.
	arrived := a.seed.arrivedMs
	if a.pendingIs(m) && a.seed.pending.arrivedMs != 0 {
		arrived = a.seed.pending.arrivedMs
	}
	if arrived == 0 {
		arrived = a.env.nowMs()
	}
	rctx, cancel := a.env.opCtx()
	var res redisx.ReadyResult
	var err error
	if a.env.Allocator == nil {
		// No server to ask for: the last member's mark starts the match.
		res, err = a.env.Store.MarkReadyStart(rctx, st.Mode, st.MatchID, a.seed.player.ID, members(st.Teams), arrived,
			a.env.Cfg().Rooms.FinishedTTL, a.env.Cfg().Session.OutcomeTTL)
	} else {
		res, err = a.env.Store.MarkReady(rctx, st.Mode, st.MatchID, a.seed.player.ID, arrived)
	}
	cancel()
	if err != nil {
		a.env.redisErr("mark_ready", err, a.logAttrs()...)
		if !a.doubtful(m, err, "") {
			a.unavailable(m.Rid)
		}
		return
	}
	a.settled(m)
	switch res.State {
	case redisx.RoomLoading, redisx.RoomAllocating, redisx.RoomStarted:
		ready := nonNil(res.Ready)
		waiting := []string{}
		for _, p := range res.Members {
			if !slices.Contains(ready, p) {
				waiting = append(waiting, p)
			}
		}
		if res.Started {
			a.env.matchStarted(st.Mode, st.MatchID, res.Members, serverOrNull(nil))
		}
		a.send(&protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, Rid: m.Rid, MatchID: st.MatchID, Ready: ready, Waiting: waiting})
		if res.New {
			a.env.Events.Emit("player_ready", map[string]any{"player_id": a.seed.player.ID, "match_id": st.MatchID})
			// The room tells the others, and announces a start after that.
			a.env.bus.ToRoom(res.Owner, st.MatchID, kindMemberReady, &MemberReadyMsg{Player: a.seed.player.ID, Ready: ready, Waiting: waiting, Started: res.Started})
		}
	case redisx.RoomLate:
		// Past the deadline by Redis's clock: refused; the room ends as a
		// timeout, which the client hears next.
		a.env.Log.Info("late loading_complete refused", append(a.logAttrs(), "arrived_ms", arrived, "deadline_ms", st.DeadlineMs,
			"late_ms", arrived-st.DeadlineMs, "clock_offset", a.env.Clock.Offset().String())...)
		a.invalidState(m.Rid, "The loading deadline has passed.")
	default:
		a.reconcile(ctx)
		a.invalidState(m.Rid, "No such match is loading.")
	}
}

// members lists a match's players, team by team: the order the claim
// stored them in.
func members(teams [][]string) []string {
	var out []string
	for _, t := range teams {
		out = append(out, t...)
	}
	return out
}

// refusal is a frame the gateway refused (over the rate limit, or not
// decodable), answered in order with the session's other replies.
type refusal = Refusal

func (a *sessionActor) refuse(r *refusal) {
	a.env.Metrics.ClientErrors.WithLabelValues(string(r.Code)).Inc()
	a.send(&protocol.Error{Type: protocol.TypeError, Rid: r.Rid, Code: r.Code, Message: r.Message, RetryAfterMs: r.RetryAfterMs, Players: r.Players})
}

// refuseWith answers rid with code and the code's one sentence.
func (a *sessionActor) refuseWith(rid string, code protocol.Code, retryAfterMs int64) {
	a.env.Metrics.ClientErrors.WithLabelValues(string(code)).Inc()
	a.send(&protocol.Error{Type: protocol.TypeError, Rid: rid, Code: code, Message: messageFor(code), RetryAfterMs: retryAfterMs})
}

func (a *sessionActor) invalidState(rid, msg string) {
	v := a.view()
	a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeInvalidState)).Inc()
	a.send(&protocol.Error{Type: protocol.TypeError, Rid: rid, Code: protocol.CodeInvalidState, Message: msg, State: &v})
}

func (a *sessionActor) unavailable(rid string) {
	a.refuseWith(rid, protocol.CodeUnavailable, a.env.Cfg().Redis.BreakerCooldown.Milliseconds())
}
