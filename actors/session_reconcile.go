package actors

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// truthHint asks a session to read Redis: the node's batched reconcile saw
// Redis disagree with it, or a doubtful request of its waits to be settled.
type truthHint struct{}

// position is where Redis says the player stands in one mode.
type position struct {
	Mode  string
	Entry redisx.Entry
}

// readTruth reads where the player stands in every mode, with its untold
// outcomes, in one round trip.
func (a *sessionActor) readTruth() (redisx.Truth, error) {
	ctx, cancel := a.env.opCtx()
	defer cancel()
	t, err := a.env.Store.ReadTruth(ctx, a.seed.player.ID, a.env.modeNames())
	if err != nil {
		a.env.redisErr("read_truth", err, a.logAttrs()...)
	}
	return t, err
}

// reconcile reads Redis and moves the session, through its table, to what
// Redis says: each untold outcome first, oldest first, then where the player
// stands now. It tells the client whatever it missed, in order, then settles
// a doubtful request. A read that fails is retried shortly.
func (a *sessionActor) reconcile(ctx actor.Context) {
	t, err := a.readTruth()
	a.seed.unread = err != nil
	if err != nil {
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		return
	}
	a.applyTruth(ctx, t)
}

func (a *sessionActor) applyTruth(ctx actor.Context, t redisx.Truth) {
	for i := range t.Outcomes {
		o := &t.Outcomes[i]
		if a.seed.told.has(o.ID()) {
			a.env.host.ack(o.Mode, a.seed.player.ID, o.ID())
			continue
		}
		in, ev := a.classifyOutcome(o)
		a.apply(ctx, in, ev)
	}
	// Each move brings the session closer to Redis's position; a few
	// suffice (a match that ended untold, then the ticket it requeued).
	for range 4 {
		in, ev, err := a.classifyPosition(t)
		if err != nil {
			a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
			return
		}
		if in == "" {
			return
		}
		before := a.st()
		a.apply(ctx, in, ev)
		if after := a.st(); after.Name == before.Name && after.TicketID == before.TicketID && after.MatchID == before.MatchID {
			return
		}
	}
}

// classifyOutcome turns an untold outcome into a table input: the end of
// the match or ticket the session holds is the same input as the live
// signal would have been; anything else is history the client missed.
func (a *sessionActor) classifyOutcome(o *redisx.Outcome) (input, any) {
	st := a.st()
	switch o.Kind {
	case redisx.OutcomeDequeued:
		if st.Name == stQueued && st.TicketID == o.Ref {
			return evDequeued, o
		}
		if a.partysTicket(o) {
			return tMissedPartyDequeue, o
		}
		return tMissedDequeue, o
	default:
		end := endOfOutcome(o, a.seed.player.ID)
		if st.Name == stLoading && st.MatchID == o.Ref {
			switch {
			case end.Started:
				return evAllReady, end
			case end.Reason == protocol.ReasonRoomLost && !end.Requeued:
				end.Teams, end.DeadlineMs = st.Teams, st.DeadlineMs
				return evRoomLost, end
			case end.Requeued:
				return evRequeued, end
			}
			return evCancelledOut, end
		}
		if end.Requeued {
			return tMissedMatchRequeued, end
		}
		return tMissedMatchOut, end
	}
}

// held picks the entry Redis holds for the player: the one in the session's
// mode when there is one. A player holds at most one entry; two would be a
// race between two connections of one player, which the log reports.
func (a *sessionActor) held(t redisx.Truth) (position, bool) {
	if len(t.Entries) > 1 {
		a.env.Log.Error("player holds entries in more than one mode", append(a.logAttrs(), "entries", len(t.Entries))...)
	}
	if e, ok := t.Entries[a.st().Mode]; ok {
		return position{Mode: a.st().Mode, Entry: e}, true
	}
	for _, m := range a.env.modeNames() {
		if e, ok := t.Entries[m]; ok {
			return position{Mode: m, Entry: e}, true
		}
	}
	return position{}, false
}

// classifyPosition turns where Redis says the player stands into a table
// input, or "" when it agrees with the session.
func (a *sessionActor) classifyPosition(t redisx.Truth) (input, any, error) {
	st := a.st()
	pos, ok := a.held(t)
	if st.Name == stLoading && !a.seed.told.ended(st.MatchID) {
		if ok && pos.Mode == st.Mode && pos.Entry.Kind == redisx.EntryInRoom && pos.Entry.Ref == st.MatchID {
			return "", nil, nil
		}
		// The match ended and no untold outcome says how: the room's own
		// record does, or the room is gone.
		return a.classifyRoom(st)
	}
	if !ok {
		if st.Name == stIdle {
			return "", nil, nil
		}
		return tNone, &pos, nil
	}
	switch pos.Entry.Kind {
	case redisx.EntryQueued:
		if st.Name == stQueued && st.Mode == pos.Mode && st.TicketID == pos.Entry.Ref {
			return "", nil, nil
		}
		if st.TicketID == pos.Entry.Ref {
			return tQueuedSame, &pos, nil
		}
		return tQueuedOther, &pos, nil
	default:
		if st.MatchID == pos.Entry.Ref {
			return tLoadingSame, &pos, nil
		}
		return tLoadingOther, &pos, nil
	}
}

func (a *sessionActor) classifyRoom(st sessionState) (input, any, error) {
	ctx, cancel := a.env.opCtx()
	r, ok, err := a.env.Store.Room(ctx, st.Mode, st.MatchID)
	cancel()
	if err != nil {
		a.env.redisErr("room", err, a.logAttrs()...)
		return "", nil, err
	}
	if !ok {
		return tRoomGone, &matchEnd{Match: st.MatchID, Mode: st.Mode, Reason: protocol.ReasonRoomLost, NoShows: []string{},
			Teams: st.Teams, DeadlineMs: st.DeadlineMs}, nil
	}
	end := endOfRoom(r, a.seed.player.ID)
	switch r.State {
	case redisx.RoomStarted:
		return tRoomStarted, end, nil
	case redisx.RoomCancelled:
		if end.Requeued {
			return tRoomRequeued, end, nil
		}
		return tRoomCancelled, end, nil
	}
	// Still open, though the player's entry says otherwise: a resolve is
	// under way; the next reconcile sees it done.
	return "", nil, nil
}

// missedRegion fills in the region of a missed match of a mode with
// regions that an outcome record told of (records do not carry it): the
// room's record says, while it lasts (rooms.finished_ttl after its end).
func (a *sessionActor) missedRegion(e *matchEnd) {
	if m, ok := a.env.Cfg().ModeByName(e.Mode); e.Region != "" || !ok || len(m.Regions) == 0 {
		return
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	if r, ok, err := a.env.Store.Room(rctx, e.Mode, e.Match); err == nil && ok {
		e.Region = r.Region
	}
}

// missedMatch tells the client of a match it never heard of (a lost
// match_found, or one formed and ended while its news was lost): its
// match_found, then how it ended. It returns the state that end leads to.
func (a *sessionActor) missedMatch(e *matchEnd) sessionState {
	if a.connected() && a.seed.foundSent != e.Match {
		a.seed.foundSent = e.Match
		if a.seed.party != nil && e.Seated != "" && e.Seated != a.st().TicketID {
			// A party member that never heard of its party's ticket (the
			// match formed and ended first): queued with it comes first.
			a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: e.Mode, TicketID: e.Seated, QueuedAtMs: e.SeatedAtMs})
		}
		a.missedRegion(e)
		a.send(&protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: e.Match, Mode: e.Mode,
			Teams: e.Teams, LoadingDeadlineMs: e.DeadlineMs, Region: regionOf(e.Region)})
	}
	a.tellEnd(e)
	if e.Requeued {
		return sessionState{Mode: e.Mode, TicketID: e.Ticket.ID, QueuedAtMs: e.Ticket.QueuedAtMs}
	}
	return sessionState{}
}

// takePending hands over the rid of a doubtful request of type typ, which
// the caller's reply settles, and the ticket id its first attempt made.
func (a *sessionActor) takePending(typ string) (rid, ticket string, ok bool) {
	if p := a.seed.pending; p != nil && p.msg.Type == typ && !p.banned {
		a.seed.pending = nil
		return p.msg.Rid, p.ticket, true
	}
	return "", "", false
}

// adoptTicket makes the ticket Redis holds the session's: a doubtful
// enqueue turned out done, or another writer queued the player. The client
// is told (the reply to its enqueue when that is what this settles).
func (a *sessionActor) adoptTicket(ctx actor.Context, pos *position) (sessionState, bool) {
	if p := a.seed.pending; p != nil && p.banned && p.ticket == pos.Entry.Ref {
		// The ticket of a banned player, whose take-back is still owed.
		a.takeBack(ctx)
		return sessionState{}, false
	}
	rctx, cancel := a.env.opCtx()
	t, ok, err := a.env.Store.Ticket(rctx, pos.Mode, pos.Entry.Ref)
	cancel()
	if err != nil {
		a.env.redisErr("ticket", err, a.logAttrs()...)
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		return sessionState{}, false
	}
	if !ok {
		return sessionState{}, false // it left meanwhile; the next read says where to
	}
	rid, mine, _ := a.takePending(protocol.TypeEnqueue)
	if mine == t.ID {
		a.ticketCreated(t)
	}
	a.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: rid, Mode: t.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs})
	return sessionState{Mode: t.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs}, true
}

// loadTruth makes the room Redis seats the player in the session's: its
// match_found was lost, or the session is new. A doubtful enqueue that
// turned out done (and matched at once) is answered queued first.
func (a *sessionActor) loadTruth(ctx actor.Context, pos *position) (sessionState, bool) {
	rctx, cancel := a.env.opCtx()
	r, ok, err := a.env.Store.Room(rctx, pos.Mode, pos.Entry.Ref)
	cancel()
	if err != nil {
		a.env.redisErr("room", err, a.logAttrs()...)
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		return sessionState{}, false
	}
	if !ok || !r.State.Open() {
		return sessionState{}, false
	}
	t := r.Tickets[a.seed.player.ID]
	if rid, mine, ok := a.takePending(protocol.TypeEnqueue); ok {
		if mine == t.ID {
			a.ticketCreated(t)
		}
		a.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: rid, Mode: r.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs})
	} else if len(t.Members) > 0 && a.st().TicketID != t.ID {
		// A party's ticket that matched before this member heard of it
		// (its leader's news lost or late): every member is told queued
		// with the party's ticket, so it is told first.
		a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: r.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs})
	}
	next := sessionState{Mode: r.Mode, MatchID: r.MatchID, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs,
		Owner: r.Owner, DeadlineMs: r.DeadlineMs, Teams: r.Teams, Region: r.Region}
	a.sendMatchFound(next)
	return next, true
}

// reassertTicket puts back the ticket the session holds after Redis lost it
// (restarted empty, or a failover dropped writes: a ticket removed by
// anyone else leaves an outcome saying why, so one gone without it was
// lost), with its original id and queue time.
func (a *sessionActor) reassertTicket(ctx actor.Context) {
	st := a.st()
	p := a.seed.player
	rctx, cancel := a.env.opCtx()
	defer cancel()
	res, err := a.env.Store.Enqueue(rctx, redisx.Ticket{ID: st.TicketID, Player: p.ID, Mode: st.Mode, Rating: p.Rating,
		Device: p.Device, QueuedAtMs: st.QueuedAtMs, Latencies: a.seed.latencies})
	if err != nil {
		a.env.redisErr("enqueue", err, a.logAttrs()...)
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		return
	}
	if res.Status == redisx.EnqueueCreated {
		a.env.Log.Warn("queued ticket was missing from redis; re-asserted", a.logAttrs()...)
	}
}

// roomLost ends a match whose room was lost (Redis restarted empty, or its
// record expired unresolved): the player goes back into the queue with its
// original ticket and queue time, as docs/protocol.md section 9.2 says, and is told
// match_cancelled (room_lost) then queued. The cancellation is counted once
// per match, whichever member notices first.
func (a *sessionActor) roomLost(ctx actor.Context, e *matchEnd) (sessionState, bool) {
	st := a.st()
	p := a.seed.player
	rctx, cancel := a.env.opCtx()
	defer cancel()
	t := redisx.Ticket{ID: st.TicketID, Player: p.ID, Mode: e.Mode, Rating: p.Rating, Device: p.Device, QueuedAtMs: st.QueuedAtMs,
		Latencies: a.seed.latencies}
	if t.ID == "" {
		t.ID, t.QueuedAtMs = newID(), 0
	}
	res, err := a.env.Store.Enqueue(rctx, t)
	if err != nil {
		a.env.redisErr("enqueue", err, a.logAttrs()...)
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		return sessionState{}, false
	}
	if first, err := a.env.Store.FirstToReportLost(rctx, e.Mode, e.Match, a.env.Cfg().Session.OutcomeTTL); err != nil {
		a.env.redisErr("report_lost", err, a.logAttrs()...)
	} else if first {
		a.env.Metrics.MatchesCancelled.WithLabelValues(e.Mode, protocol.ReasonRoomLost).Inc()
		a.env.Events.Emit("match_cancelled", map[string]any{"match_id": e.Match, "mode": e.Mode, "reason": protocol.ReasonRoomLost})
	}
	switch res.Status {
	case redisx.EnqueueInRoom:
		// Seated again meanwhile: the match is over for this player all the
		// same, and the next read finds the new room.
		e.Requeued = false
		a.tellEnd(e)
		a.env.host.poke(a.seed, 0)
		return sessionState{}, false
	case redisx.EnqueueCreated:
		a.env.Metrics.PlayersRequeued.WithLabelValues(e.Mode).Inc()
	}
	e.Reason, e.Requeued, e.Ticket = protocol.ReasonRoomLost, true, res.Ticket
	a.env.Log.Warn("room lost; player requeued with its queue time", append(a.logAttrs(), "ticket", res.Ticket.ID)...)
	a.tellEnd(e)
	return sessionState{Mode: e.Mode, TicketID: res.Ticket.ID, QueuedAtMs: res.Ticket.QueuedAtMs}, true
}

// settle re-runs a doubtful request once Redis answered a read (the
// node's hint): requests are idempotent, so running one again either finds
// it done (and reports what it did) or does it now. It runs with the
// request still pending, so whatever answers it takes its rid.
func (a *sessionActor) settle(ctx actor.Context) {
	p := a.seed.pending
	if p == nil || a.seed.unread {
		// Nothing in doubt, or Redis did not answer the read yet: a doubt is
		// settled by what Redis says, never by a call that failed to reach it.
		return
	}
	if p.banned {
		// The read found no ticket (adoptTicket would have taken it back
		// otherwise): the take-back happened.
		a.seed.pending = nil
		a.replyBanned(p.msg.Rid, p.bannedMs)
		return
	}
	a.handle(ctx, p.msg)
	// Whatever the re-run answered (a refusal included) settles it, unless
	// it is in doubt again (a new pending request).
	if a.seed.pending == p {
		a.seed.pending = nil
	}
}

// drain serves, in order, the requests that waited behind a doubtful one,
// once it is answered.
func (a *sessionActor) drain(ctx actor.Context) {
	for a.seed.pending == nil && len(a.seed.stash) > 0 {
		req := a.seed.stash[0]
		a.seed.stash = slices.Delete(a.seed.stash, 0, 1)
		a.serve(ctx, &req)
	}
}

// pendingIs reports whether m is the doubtful request being settled.
func (a *sessionActor) pendingIs(m protocol.ClientMessage) bool {
	p := a.seed.pending
	return p != nil && p.msg.Type == m.Type && p.msg.Rid == m.Rid
}

// settled ends the doubt about m: it was answered.
func (a *sessionActor) settled(m protocol.ClientMessage) {
	if a.pendingIs(m) {
		a.seed.pending = nil
	}
}

// doubtful holds request m until Redis says whether its write happened.
// A failure Redis never saw (the circuit breaker refused the call, or no
// connection could be made) is no doubt: the caller reports it.
func (a *sessionActor) doubtful(m protocol.ClientMessage, err error, ticket string) bool {
	if a.pendingIs(m) {
		// A re-run of a request still in doubt: whatever this attempt did,
		// the first one's outcome is still unknown.
		a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
		return true
	}
	if redisx.NotSent(err) {
		return false
	}
	a.seed.pending = &pendingReq{msg: m, ticket: ticket, arrivedMs: a.seed.arrivedMs}
	a.env.host.poke(a.seed, a.env.Cfg().Redis.RetryInterval)
	return true
}
