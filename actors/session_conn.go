package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// graceExpired ends the reconnect grace of a connection that did not come
// back in time.
type graceExpired struct{ sid string }

// attachTruth is what a new connection's welcome is built from: where Redis
// says the player stands, resolved into a state, and the outcomes it was
// not told yet.
type attachTruth struct {
	state    sessionState
	outcomes []redisx.Outcome
	ready    []string
	waiting  []string
	// latencies are the queued ticket's (modes with regions).
	latencies map[string]float64
}

// attach binds a new connection: it claims the player's directory entry
// (replacing any other session, on any node), reads where Redis says the
// player stands, and sends the welcome with that state, then whatever the
// player was not told yet.
func (a *sessionActor) attach(ctx actor.Context, m *Attach) {
	cfg := a.env.Cfg()
	rctx, cancel := a.env.opCtx()
	prev, err := a.env.Store.DirClaim(rctx, m.Player.ID, a.env.Node, m.Outbox.SessionID(), cfg.Session.DirectoryTTL)
	cancel()
	if err != nil {
		a.env.redisErr("dir_claim", err, "player", m.Player.ID)
		ctx.Respond(&Attached{Err: err})
		return
	}
	if old := a.seed.outbox; old != nil && old.SessionID() != m.Outbox.SessionID() {
		a.replaceLocal(old)
	} else if prev.Node != "" && prev.Node != a.env.Node && prev.Session != "" {
		a.env.bus.ToNodeSession(prev.Node, m.Player.ID, &SessionReplacedMsg{SessionID: prev.Session})
	}
	a.seed.player = m.Player
	a.seed.outbox = m.Outbox
	a.seed.lastSID = m.Outbox.SessionID()
	a.seed.foundSent = ""
	// Requests of an earlier connection die with it.
	a.seed.pending, a.seed.stash = nil, nil
	a.env.host.connected(a.seed)
	t, err := a.readTruth()
	var at *attachTruth
	if err == nil {
		at, err = a.resolveAttach(t)
	}
	if err != nil {
		ctx.Respond(&Attached{Err: err})
		return
	}
	if at.latencies != nil {
		a.seed.latencies = at.latencies
	}
	// The welcome's state names the player's party (read now, for a player
	// whose pointer names one; a failed read leaves the copy as it was, and
	// the next party request reads it).
	if t.PartyPointer == "" {
		a.setParty(redisx.Party{}, false)
	} else if _, _, err := a.myParty(); err != nil {
		a.env.redisErr("party_of", err, a.logAttrs()...)
	}
	in := inAttachIdle
	switch at.state.Name {
	case stQueued:
		in = inAttachQueued
	case stLoading:
		in = inAttachLoading
	}
	a.apply(ctx, in, at)
	for i := range at.outcomes {
		a.apply(ctx, evReplay, &at.outcomes[i])
	}
	a.partyAfterWelcome(t.Invited)
	ctx.Respond(&Attached{PID: ctx.Self()})
}

// resolveAttach turns the truth into the state a welcome carries: the
// ticket's queue time, or the room's teams and deadline.
func (a *sessionActor) resolveAttach(t redisx.Truth) (*attachTruth, error) {
	at := &attachTruth{state: sessionState{Name: stIdle}}
	for _, o := range t.Outcomes {
		if !a.seed.told.has(o.ID()) {
			at.outcomes = append(at.outcomes, o)
		}
	}
	pos, ok := a.held(t)
	if !ok {
		return at, nil
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	switch pos.Entry.Kind {
	case redisx.EntryQueued:
		tk, ok, err := a.env.Store.Ticket(rctx, pos.Mode, pos.Entry.Ref)
		if err != nil {
			return nil, err
		}
		if ok {
			at.state = sessionState{Name: stQueued, Mode: pos.Mode, TicketID: tk.ID, QueuedAtMs: tk.QueuedAtMs}
			at.latencies = tk.Latencies
		}
	case redisx.EntryInRoom:
		r, ok, err := a.env.Store.Room(rctx, pos.Mode, pos.Entry.Ref)
		if err != nil {
			return nil, err
		}
		if ok && r.State.Open() {
			tk := r.Tickets[a.seed.player.ID]
			at.state = sessionState{Name: stLoading, Mode: r.Mode, MatchID: r.MatchID, TicketID: tk.ID, QueuedAtMs: tk.QueuedAtMs,
				Owner: r.Owner, DeadlineMs: r.DeadlineMs, Teams: r.Teams, Region: r.Region}
			for _, p := range r.Members {
				if r.Ready[p] {
					at.ready = append(at.ready, p)
				} else {
					at.waiting = append(at.waiting, p)
				}
			}
		}
	}
	return at, nil
}

// welcome sends the first frame of a connection with the state Redis
// holds; a loading player also gets the match's match_found (and who has
// loaded), since it needs the teams and deadline to resume.
func (a *sessionActor) welcome(ctx actor.Context, at *attachTruth) sessionState {
	st := at.state
	view := st.view()
	view.PartyID = a.partyID()
	if st.Name != a.st().Name || st.TicketID != a.st().TicketID || st.MatchID != a.st().MatchID {
		view.SinceMs = a.env.nowMs()
	} else {
		view.SinceMs = a.st().SinceMs
	}
	a.send(&protocol.Welcome{
		Type: protocol.TypeWelcome, Protocol: protocol.Subprotocol, SessionID: a.seed.lastSID,
		PlayerID: a.seed.player.ID, NodeID: a.env.Node, ServerTimeMs: a.env.nowMs(), State: view,
	})
	if st.Name == stLoading {
		a.sendMatchFound(st)
		if len(at.ready) > 0 {
			a.send(&protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, MatchID: st.MatchID, Ready: at.ready, Waiting: nonNil(at.waiting)})
		}
	}
	return st
}

// replay tells an outcome the player was not told, as history: its state
// (in the welcome, or the reply that follows) already includes it.
func (a *sessionActor) replay(o *redisx.Outcome) {
	switch o.Kind {
	case redisx.OutcomeDequeued:
		a.tellDequeued(o)
	default:
		a.tellEnd(endOfOutcome(o, a.seed.player.ID))
	}
}

func (a *sessionActor) replaceLocal(old Outbox) {
	old.Send(&protocol.Error{Type: protocol.TypeError, Code: protocol.CodeSessionReplaced, Message: messageFor(protocol.CodeSessionReplaced)})
	old.Close(protocol.CloseSessionReplaced, "session replaced")
	a.env.Events.Emit("session_replaced", map[string]any{"player_id": a.seed.player.ID, "session_id": old.SessionID()})
}

// replaced handles a takeover from another node: the player lives there
// now, so this actor closes its connection and stops.
func (a *sessionActor) replaced(ctx actor.Context, m *SessionReplacedMsg) {
	switch {
	case a.seed.outbox != nil && a.seed.outbox.SessionID() == m.SessionID:
		a.replaceLocal(a.seed.outbox)
		a.seed.outbox = nil
	case a.seed.outbox == nil && a.seed.lastSID == m.SessionID:
	default:
		return
	}
	a.seed.stopping = true
	ctx.Stop(ctx.Self())
}

// connClosed starts the reconnect grace: the player keeps its ticket for
// session.reconnect_grace and its seat until the room's deadline. The
// deadline of the grace is the node's (it survives a restart of this
// actor), not a timer of the actor's.
func (a *sessionActor) connClosed(_ actor.Context, m *ConnClosed) {
	if a.seed.outbox == nil || a.seed.outbox.SessionID() != m.SessionID {
		return
	}
	a.seed.outbox = nil
	a.seed.pending, a.seed.stash = nil, nil
	a.env.host.disconnected(a.seed, time.Now().Add(a.env.Cfg().Session.ReconnectGrace))
}

// graceExpired ends a session whose player did not come back in time: a
// ticket is cancelled (reason disconnected, recorded as its outcome); a
// seat is left to the room, whose deadline counts a player who does not
// come back as a no-show, and which the player may still resume until then.
func (a *sessionActor) graceExpired(ctx actor.Context, m *graceExpired) {
	if a.seed.outbox != nil || a.seed.lastSID != m.sid {
		return
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	if st := a.st(); st.Name == stQueued {
		res, err := a.env.Store.RemoveTicket(rctx, st.Mode, a.seed.player.ID, st.TicketID, protocol.ReasonDisconnected, a.env.Cfg().Session.OutcomeTTL)
		if err != nil {
			a.env.redisErr("remove_ticket", err, a.logAttrs()...)
		} else if res.Removed {
			a.env.countDequeue(st.Mode, protocol.ReasonDisconnected)
			a.env.Events.Emit("dequeued", map[string]any{"player_id": a.seed.player.ID, "mode": st.Mode,
				"ticket_id": st.TicketID, "reason": protocol.ReasonDisconnected})
			if len(res.Others) > 0 {
				a.env.bus.ToPlayers(kindDequeued, res.Others, &DequeuedMsg{Mode: st.Mode, TicketID: st.TicketID, Reason: protocol.ReasonDisconnected}, nil)
			}
		}
	}
	// Away past the grace: the player leaves its party too.
	a.leaveOnGrace()
	if err := a.env.Store.DirRelease(rctx, a.seed.player.ID, m.sid); err != nil {
		a.env.redisErr("dir_release", err, a.logAttrs()...)
	}
	a.seed.stopping = true
	ctx.Stop(ctx.Self())
}

// stopping runs when the actor stops. A stop the actor did not ask for is
// its supervisor giving up after too many restarts: the player is told
// INTERNAL (with an incident id), its connection is closed with 1011, and
// its directory entry is removed so no leader matches a player that
// nobody can tell.
func (a *sessionActor) stopping(_ actor.Context) {
	a.env.host.unregister(a.seed)
	if a.seed.stopping || a.env.shuttingDown.Load() {
		return
	}
	incident := a.env.incident("session gave up after too many restarts", a.logAttrs()...)
	if out := a.seed.outbox; out != nil {
		out.Send(&protocol.Error{Type: protocol.TypeError, Code: protocol.CodeInternal, Message: messageFor(protocol.CodeInternal), IncidentID: incident})
		out.Close(protocol.CloseInternal, "internal error")
		a.seed.outbox = nil
	}
	if a.seed.lastSID != "" {
		rctx, cancel := a.env.opCtx()
		defer cancel()
		if err := a.env.Store.DirRelease(rctx, a.seed.player.ID, a.seed.lastSID); err != nil {
			a.env.redisErr("dir_release", err, a.logAttrs()...)
		}
	}
}

// reassert puts the player's registration and ticket back after Redis lost
// its data: the directory entry is claimed again, and the truth read that
// follows finds the ticket or room gone without an outcome, which the
// table answers by putting the ticket back (same id, original queue time)
// or by requeueing a player whose room was lost.
func (a *sessionActor) reassert(ctx actor.Context) {
	if a.seed.lastSID == "" {
		return
	}
	if a.connected() {
		rctx, cancel := a.env.opCtx()
		_, err := a.env.Store.DirClaim(rctx, a.seed.player.ID, a.env.Node, a.seed.lastSID, a.env.Cfg().Session.DirectoryTTL)
		cancel()
		if err != nil {
			a.env.redisErr("dir_claim", err, a.logAttrs()...)
		}
	}
	a.apply(ctx, evRedisLost, nil)
}
