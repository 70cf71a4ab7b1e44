package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// sessionSeed is what a session actor keeps across restarts: the connection
// (owned by the gateway, so a restart does not drop the player) and what the
// connection has been told, so a redelivered signal is not told twice.
type sessionSeed struct {
	player   PlayerInfo
	outbox   Outbox
	lastSID  string
	mode     string
	restarts int
	// foundSent is the match whose match_found this connection got.
	foundSent string
	// endedSent is the last match whose outcome this connection got.
	endedSent string
	// connectedMs is when this connection was attached: what happened
	// before it, the client learnt from its welcome.
	connectedMs int64
	// missed holds the outcomes (match_ready, match_cancelled, requeues,
	// dequeues) that happened while the player was disconnected within the
	// grace; they are replayed after the next welcome.
	missed []any
	// dirMode is the mode last recorded in the player's directory entry: an
	// enqueue in the same mode need not write it again.
	dirMode string
}

// maxMissed bounds the outcomes kept for a disconnected player.
const maxMissed = 8

// sessionActor is one player's state machine (PROTOCOL.md section 5). Every
// decision is looked up in sessionTable; this type carries out the effects.
type sessionActor struct {
	env   *Env
	seed  *sessionSeed
	st    sessionState
	timer *time.Timer
	// timerDue is when the armed tick fires.
	timerDue time.Time
	// changedAt is when the state last changed and touchedAt when the
	// directory entry was last renewed: the tick does only what is due.
	changedAt time.Time
	touchedAt time.Time
	gen       int
	grace     *time.Timer
}

type sessionTick struct{ gen int }

type graceExpired struct{ sid string }

func newSessionProps(env *Env, seed *sessionSeed) *actor.Props {
	return env.props(func() actor.Actor { return &sessionActor{env: env, seed: seed} })
}

func (a *sessionActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if a.seed.lastSID != "" {
			// A restart: the connection is still up; rebuild from Redis.
			a.restore(a.seed.mode)
			a.schedule(ctx)
		}
	case *actor.Restarting:
		a.seed.restarts++
		a.stopTimers()
	case *actor.Stopping:
		a.stopTimers()
	case *Attach:
		a.attach(ctx, m)
	case *ClientRequest:
		if a.seed.outbox == nil || m.SessionID != a.seed.outbox.SessionID() {
			return // a request from a connection that was replaced
		}
		defer a.internalError(m.Msg.Rid)
		a.request(ctx, m.Msg)
	case *ConnClosed:
		a.connClosed(ctx, m)
	case *graceExpired:
		a.graceExpired(ctx, m)
	case *SessionReplacedMsg:
		a.replaced(ctx, m)
	case *sessionTick:
		if m.gen == a.gen {
			a.tick(ctx)
		}
	case *MatchFoundMsg:
		if m.MatchID == a.seed.endedSent {
			// A late notice (delivered after news of the match's end,
			// e.g. through another node) must not reopen the match.
			return
		}
		in := evMatchFound
		if a.st.MatchID == m.MatchID {
			in = evMatchFoundAgain
		}
		a.system(ctx, in, m)
	case *LoadingStatusMsg:
		if a.st.MatchID == m.MatchID {
			a.system(ctx, evLoadingStatus, m)
		}
	case *MatchReadyMsg:
		if a.st.MatchID == m.MatchID {
			a.system(ctx, evAllReady, m)
		}
	case *MatchCancelledMsg:
		if a.st.MatchID != m.MatchID {
			if a.st.Name == stIdle && m.Ticket != nil {
				a.system(ctx, evRequeued, m)
			}
			return
		}
		if m.Ticket != nil {
			a.system(ctx, evRequeued, m)
		} else {
			a.system(ctx, evCancelledNotQueue, m)
		}
	case *DequeuedMsg:
		if a.st.TicketID == m.TicketID {
			a.system(ctx, evDequeued, m)
		}
	case *Reassert:
		a.reassert(ctx)
	case *SnapshotRequest:
		ctx.Respond(a.snapshot())
	case *Crash:
		panic("session: crash injected by /debug/crash")
	}
}

// internalError answers a request that hit a bug with INTERNAL and an
// incident id that the log line with the detail carries too, then lets the
// panic reach the supervisor, which restarts the actor from Redis.
func (a *sessionActor) internalError(rid string) {
	r := recover()
	if r == nil {
		return
	}
	incident := newID()[:16]
	a.env.Log.Error("internal error serving a request", append(a.logAttrs(), "incident_id", incident, "panic", fmt.Sprint(r),
		"stack", string(debug.Stack()))...)
	a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeInternal)).Inc()
	a.send(&protocol.Error{Type: protocol.TypeError, Rid: rid, Code: protocol.CodeInternal,
		Message: "Something went wrong on our side.", IncidentID: incident})
	panic(r)
}

func (a *sessionActor) logAttrs() []any {
	return []any{"player", a.seed.player.ID, "mode", a.st.Mode, "match", a.st.MatchID}
}

func (a *sessionActor) send(frame any) {
	if a.seed.outbox != nil {
		a.seed.outbox.Send(frame)
		return
	}
	switch f := frame.(type) {
	case *protocol.MatchReady, *protocol.MatchCancelled, *protocol.Dequeued:
	case *protocol.Queued:
		if !f.Requeued {
			return
		}
	default:
		return
	}
	if len(a.seed.missed) < maxMissed {
		a.seed.missed = append(a.seed.missed, frame)
	}
}

func (a *sessionActor) stopTimers() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	if a.grace != nil {
		a.grace.Stop()
		a.grace = nil
	}
}

// schedule arms the next tick: a reconcile with Redis while the player is
// queued or loading, a directory renewal in any case. It is called on every
// state change, so it only ever brings an armed tick forward: a player who
// changes state faster than the interval must still renew its directory
// entry, or the matching leader would take it for a player whose node died.
func (a *sessionActor) schedule(ctx actor.Context) {
	cfg := a.env.Cfg().Session
	d := cfg.DirectoryTTL / 3
	if a.st.Name != stIdle {
		d = min(d, cfg.ReconcileInterval)
	}
	due := time.Now().Add(d)
	if a.timer != nil {
		if !a.timerDue.After(due) {
			return
		}
		a.timer.Stop()
	}
	a.gen++
	a.timerDue = due
	gen, self, sys := a.gen, ctx.Self(), ctx.ActorSystem()
	a.timer = time.AfterFunc(d, func() { sys.Root.Send(self, &sessionTick{gen: gen}) })
}

func (a *sessionActor) setState(s sessionState) {
	if s.Mode != "" {
		a.seed.mode = s.Mode
	}
	a.st = s
	a.changedAt = time.Now()
}

// restore rebuilds the state from Redis, the truth. It reports false when
// Redis could not be read (the state is left as it was).
func (a *sessionActor) restore(mode string) bool {
	if mode == "" {
		a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
		return true
	}
	ctx, cancel := a.env.opCtx()
	defer cancel()
	p := a.seed.player.ID
	e, err := a.env.Store.PlayerEntry(ctx, mode, p)
	if err != nil {
		a.env.redisErr("player_entry", err, a.logAttrs()...)
		return false
	}
	switch e.Kind {
	case 'q':
		t, ok, err := a.env.Store.Ticket(ctx, mode, e.Ref)
		if err != nil {
			a.env.redisErr("ticket", err, a.logAttrs()...)
			return false
		}
		since := a.env.nowMs()
		if ok {
			since = t.QueuedAtMs
		}
		if a.st.Name == stQueued && a.st.TicketID == e.Ref {
			return true
		}
		a.setState(sessionState{Name: stQueued, Mode: mode, TicketID: e.Ref, SinceMs: since, QueuedAtMs: t.QueuedAtMs})
	case 'm':
		if a.st.Name == stLoading && a.st.MatchID == e.Ref {
			return true
		}
		r, ok, err := a.env.Store.Room(ctx, mode, e.Ref)
		if err != nil {
			a.env.redisErr("room", err, a.logAttrs()...)
			return false
		}
		if !ok {
			a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
			return true
		}
		a.setState(sessionState{Name: stLoading, Mode: mode, MatchID: e.Ref, SinceMs: r.CreatedMs,
			TicketID: r.Tickets[p].ID, QueuedAtMs: r.Tickets[p].QueuedAtMs,
			Owner: r.Owner, DeadlineMs: r.DeadlineMs, Teams: r.Teams})
	default:
		if a.st.Name == stIdle {
			return true
		}
		if a.st.Name == stQueued {
			// Every dequeue (cancel, timeout, ban) is announced to the
			// session; a ticket that vanished silently was lost by Redis
			// (restarted empty, or a failover dropped unreplicated writes).
			// Put it back rather than tell the player it left the queue.
			a.reassertTicket()
			return true
		}
		if a.env.redisWasReset() {
			// The coordinator's re-assert requeues a loading player whose
			// room Redis lost; until then the state stands.
			return true
		}
		a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
	}
	return true
}

// reassertTicket puts the queued player's ticket back with its original id
// and queue time.
func (a *sessionActor) reassertTicket() {
	p := a.seed.player
	ctx, cancel := a.env.opCtx()
	defer cancel()
	t := redisx.Ticket{ID: a.st.TicketID, Player: p.ID, Mode: a.st.Mode, Rating: p.Rating, Device: p.Device, QueuedAtMs: a.st.QueuedAtMs}
	status, _, _, err := a.env.Store.Enqueue(ctx, t, a.env.nowMs())
	if err != nil {
		a.env.redisErr("enqueue", err, a.logAttrs()...)
		return
	}
	if status == redisx.EnqueueCreated {
		a.env.Log.Warn("queued ticket was missing from redis; re-asserted", a.logAttrs()...)
	}
}

// attach binds a new connection: it claims the player's directory entry
// (replacing any other session, on any node), rebuilds the state from Redis
// and sends welcome.
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
	a.touchedAt = time.Now()
	if old := a.seed.outbox; old != nil && old.SessionID() != m.Outbox.SessionID() {
		a.replaceLocal(old)
	} else if prev.Node != "" && prev.Node != a.env.Node && prev.Session != "" {
		a.env.bus.ToNodeSession(prev.Node, m.Player.ID, &SessionReplacedMsg{SessionID: prev.Session})
	}
	if a.grace != nil {
		a.grace.Stop()
		a.grace = nil
	}
	a.seed.player = m.Player
	a.seed.outbox = m.Outbox
	a.seed.lastSID = m.Outbox.SessionID()
	a.seed.foundSent, a.seed.endedSent = "", ""
	a.seed.connectedMs = a.env.nowMs()
	// dir_claim keeps the entry's mode field: the previous mode is recorded.
	a.seed.dirMode = prev.Mode
	mode := a.seed.mode
	if mode == "" {
		mode = prev.Mode
	}
	if !a.restore(mode) {
		a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
	}
	a.send(&protocol.Welcome{
		Type: protocol.TypeWelcome, Protocol: protocol.Subprotocol, SessionID: m.Outbox.SessionID(),
		PlayerID: m.Player.ID, NodeID: a.env.Node, ServerTimeMs: a.env.nowMs(), State: a.st.view(),
	})
	for _, f := range a.seed.missed {
		a.send(f)
	}
	a.seed.missed = nil
	if a.st.Name == stLoading {
		// A resumed client needs the match's teams and deadline to load it.
		a.sendMatchFound()
	}
	a.schedule(ctx)
	ctx.Respond(&Attached{PID: ctx.Self()})
}

func (a *sessionActor) replaceLocal(old Outbox) {
	old.Send(&protocol.Error{Type: protocol.TypeError, Code: protocol.CodeSessionReplaced,
		Message: "Another connection took over this player."})
	old.Close(protocol.CloseSessionReplaced, "session replaced")
	a.env.Events.Emit("session_replaced", map[string]any{"player_id": a.seed.player.ID, "session_id": old.SessionID()})
}

// replaced handles a takeover from another node.
func (a *sessionActor) replaced(ctx actor.Context, m *SessionReplacedMsg) {
	switch {
	case a.seed.outbox != nil && a.seed.outbox.SessionID() == m.SessionID:
		a.replaceLocal(a.seed.outbox)
		a.seed.outbox = nil
		ctx.Stop(ctx.Self())
	case a.seed.outbox == nil && a.seed.lastSID == m.SessionID:
		ctx.Stop(ctx.Self())
	}
}

func (a *sessionActor) connClosed(ctx actor.Context, m *ConnClosed) {
	if a.seed.outbox == nil || a.seed.outbox.SessionID() != m.SessionID {
		return
	}
	a.seed.outbox = nil
	self, sys := ctx.Self(), ctx.ActorSystem()
	sid := m.SessionID
	a.grace = time.AfterFunc(a.env.Cfg().Session.ReconnectGrace, func() { sys.Root.Send(self, &graceExpired{sid: sid}) })
}

// graceExpired ends a session whose player did not come back in time: a
// ticket is cancelled; a seat is left to the room, whose deadline counts it
// as a no-show.
func (a *sessionActor) graceExpired(ctx actor.Context, m *graceExpired) {
	if a.seed.outbox != nil || a.seed.lastSID != m.sid {
		return
	}
	rctx, cancel := a.env.opCtx()
	defer cancel()
	if a.st.Name == stQueued {
		removed, _, err := a.env.Store.RemoveTicket(rctx, a.st.Mode, a.seed.player.ID, a.st.TicketID)
		if err != nil {
			a.env.redisErr("remove_ticket", err, a.logAttrs()...)
		} else if removed {
			a.env.Events.Emit("dequeued", map[string]any{"player_id": a.seed.player.ID, "mode": a.st.Mode,
				"ticket_id": a.st.TicketID, "reason": protocol.ReasonDisconnected})
		}
	}
	if err := a.env.Store.DirRelease(rctx, a.seed.player.ID, m.sid); err != nil {
		a.env.redisErr("dir_release", err, a.logAttrs()...)
	}
	ctx.Stop(ctx.Self())
}

// tick renews the directory entry when due and reconciles with Redis when
// the state has not moved for session.reconcile_interval: a lost bus message
// shows as a session stuck in a state, while one that keeps changing state
// is being told what happens.
func (a *sessionActor) tick(ctx actor.Context) {
	a.timer = nil
	defer a.schedule(ctx)
	sid := a.seed.lastSID
	if sid == "" {
		return
	}
	cfg := a.env.Cfg().Session
	if time.Since(a.touchedAt) >= cfg.DirectoryTTL/3 {
		rctx, cancel := a.env.opCtx()
		ok, err := a.env.Store.DirTouch(rctx, a.seed.player.ID, a.env.Node, sid, modeOrKeep(a.st.Mode), cfg.DirectoryTTL)
		cancel()
		if err != nil {
			a.env.redisErr("dir_touch", err, a.logAttrs()...)
			return
		}
		if !ok {
			// Another session owns the player and its notice was lost.
			a.replaced(ctx, &SessionReplacedMsg{SessionID: sid})
			return
		}
		a.touchedAt = time.Now()
	}
	if a.st.Name != stIdle && time.Since(a.changedAt) >= cfg.ReconcileInterval {
		a.reconcile(ctx)
	}
}

func modeOrKeep(mode string) string {
	if mode == "" {
		return "-"
	}
	return mode
}

// reconcile compares the state with Redis and tells the client whatever a
// lost message would have told it.
func (a *sessionActor) reconcile(ctx actor.Context) {
	before := a.st
	if !a.restore(a.st.Mode) {
		return
	}
	after := a.st
	if before.Name == after.Name && before.MatchID == after.MatchID && before.TicketID == after.TicketID {
		return
	}
	a.env.Log.Info("session reconciled with redis", append(a.logAttrs(), "from", before.Name, "to", after.Name)...)
	switch {
	case after.Name == stLoading && before.MatchID != after.MatchID:
		if before.Name == stLoading {
			// The previous match ended and this player was requeued and
			// matched again before the news of the first arrived.
			a.tellOutcome(before)
		}
		a.sendMatchFound()
	case before.Name == stLoading:
		a.tellOutcome(before)
	case before.Name == stQueued && after.Name == stIdle:
		a.send(&protocol.Dequeued{Type: protocol.TypeDequeued, Mode: before.Mode, TicketID: before.TicketID, Reason: protocol.ReasonTimeout})
	}
	a.schedule(ctx)
}

// tellOutcome tells the client how a loading room it missed news of ended,
// reading the room's finished record.
func (a *sessionActor) tellOutcome(before sessionState) {
	if a.seed.endedSent == before.MatchID {
		return
	}
	rctx, cancel := a.env.opCtx()
	r, ok, err := a.env.Store.Room(rctx, before.Mode, before.MatchID)
	cancel()
	if err != nil || !ok {
		return
	}
	a.seed.endedSent = before.MatchID
	switch r.State {
	case "started":
		server := r.Server
		if len(server) == 0 {
			server = json.RawMessage("null")
		}
		a.send(&protocol.MatchReady{Type: protocol.TypeMatchReady, MatchID: r.MatchID, Server: server})
	case "cancelled":
		requeued := slices.Contains(r.Requeued, a.seed.player.ID)
		a.send(&protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, MatchID: r.MatchID, Reason: r.Reason,
			Requeued: requeued, NoShows: nonNil(r.NoShows)})
		if requeued {
			t := r.Tickets[a.seed.player.ID]
			a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: r.Mode, TicketID: t.ID,
				QueuedAtMs: t.QueuedAtMs, Requeued: true})
		}
	}
}

func (a *sessionActor) sendMatchFound() {
	if a.seed.foundSent == a.st.MatchID {
		return
	}
	a.seed.foundSent = a.st.MatchID
	a.send(&protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: a.st.MatchID, Mode: a.st.Mode,
		Teams: a.st.Teams, LoadingDeadlineMs: a.st.DeadlineMs})
}

func (a *sessionActor) invalidState(rid, msg string) {
	v := a.st.view()
	a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeInvalidState)).Inc()
	a.send(&protocol.Error{Type: protocol.TypeError, Rid: rid, Code: protocol.CodeInvalidState, Message: msg, State: &v})
}

func (a *sessionActor) unavailable(rid string) {
	a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeUnavailable)).Inc()
	a.send(&protocol.Error{Type: protocol.TypeError, Rid: rid, Code: protocol.CodeUnavailable,
		Message: "Matchmaking is temporarily unavailable, please retry.", RetryAfterMs: a.env.Cfg().Redis.BreakerCooldown.Milliseconds()})
}

// classify turns a client request into a table input.
func (a *sessionActor) classify(m protocol.ClientMessage) input {
	switch m.Type {
	case protocol.TypeEnqueue:
		if a.st.Mode != "" && m.Mode == a.st.Mode {
			return inEnqueueSameMode
		}
		return inEnqueueOtherMode
	case protocol.TypeCancel:
		return inCancel
	case protocol.TypeLoadingComplete:
		if m.MatchID == a.st.MatchID {
			return inLoadedThisMatch
		}
		return inLoadedOtherMatch
	case protocol.TypeSync:
		return inSync
	default:
		return inPing
	}
}

func (a *sessionActor) request(ctx actor.Context, m protocol.ClientMessage) {
	t := decide(a.st.Name, a.classify(m))
	switch t.effect {
	case effCreateTicket:
		a.enqueue(ctx, m)
	case effReplyQueued:
		a.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: m.Rid, Mode: a.st.Mode, TicketID: a.st.TicketID, QueuedAtMs: a.st.QueuedAtMs})
	case effInvalidState:
		a.invalidState(m.Rid, invalidMessage(a.st.Name, m.Type))
	case effRemoveTicket:
		a.cancelTicket(ctx, m.Rid)
	case effDodge:
		a.dodge(ctx, m.Rid)
	case effMarkReady:
		a.markReady(ctx, m.Rid)
	case effReplyState:
		if a.st.Name != stIdle || a.seed.mode != "" {
			a.reconcile(ctx)
		}
		a.send(&protocol.StateReply{Type: protocol.TypeState, Rid: m.Rid, State: a.st.view()})
	case effReplyPong:
		a.send(&protocol.Pong{Type: protocol.TypePong, Rid: m.Rid, ServerTimeMs: a.env.nowMs()})
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

func (a *sessionActor) enqueue(ctx actor.Context, m protocol.ClientMessage) {
	cfg := a.env.Cfg()
	if _, ok := cfg.ModeByName(m.Mode); !ok {
		a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeUnknownMode)).Inc()
		a.send(&protocol.Error{Type: protocol.TypeError, Rid: m.Rid, Code: protocol.CodeUnknownMode, Message: "No such game mode."})
		return
	}
	p := a.seed.player
	rctx, cancel := a.env.opCtx()
	defer cancel()
	// The ban check runs beside the enqueue, so both share one round trip
	// (an enqueue is the hottest request there is). A banned player's new
	// ticket is taken back below; it cannot be matched meanwhile, because
	// the leader drops banned players' tickets before it matches (a ban
	// recorded before this enqueue is already in the bans index).
	type banCheck struct {
		d   time.Duration
		err error
	}
	banc := make(chan banCheck, 1)
	go func() {
		d, err := a.env.Sanctions.BannedFor(rctx, p.ID, p.Device)
		banc <- banCheck{d, err}
	}()
	now := a.env.nowMs()
	status, t, matchID, err := a.env.Store.Enqueue(rctx, redisx.Ticket{
		ID: newID(), Player: p.ID, Mode: m.Mode, Rating: p.Rating, Device: p.Device, QueuedAtMs: now,
	}, now)
	ban := <-banc
	if err != nil {
		a.env.redisErr("enqueue", err, a.logAttrs()...)
		a.unavailable(m.Rid)
		return
	}
	if ban.err != nil || ban.d > 0 {
		if status == redisx.EnqueueCreated {
			a.takeBack(rctx, t)
		}
		if ban.err != nil {
			a.env.redisErr("ban_check", ban.err, a.logAttrs()...)
			a.unavailable(m.Rid)
			return
		}
		a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeBanned)).Inc()
		a.send(&protocol.Error{Type: protocol.TypeError, Rid: m.Rid, Code: protocol.CodeBanned,
			Message: "You are temporarily banned from matchmaking.", RetryAfterMs: ban.d.Milliseconds()})
		return
	}
	if a.seed.dirMode != m.Mode {
		// The directory names the mode so that a reconnect, on any node,
		// finds this ticket.
		if _, err := a.env.Store.DirTouch(rctx, p.ID, a.env.Node, a.seed.lastSID, m.Mode, cfg.Session.DirectoryTTL); err != nil {
			a.env.redisErr("dir_touch", err, a.logAttrs()...)
		} else {
			a.seed.dirMode = m.Mode
			a.touchedAt = time.Now()
		}
	}
	if status == redisx.EnqueueInRoom {
		// Redis says the player is loading a match this session missed.
		a.env.Log.Info("enqueue found the player in a room", append(a.logAttrs(), "room", matchID)...)
		a.seed.mode = m.Mode
		a.reconcile(ctx)
		a.invalidState(m.Rid, "Cannot queue while loading a match.")
		return
	}
	if status == redisx.EnqueueCreated {
		a.env.Metrics.TicketsEnqueued.WithLabelValues(m.Mode).Inc()
		a.env.Events.Emit("enqueued", map[string]any{"player_id": p.ID, "mode": m.Mode, "ticket_id": t.ID, "rating": p.Rating})
	}
	a.setState(sessionState{Name: stQueued, Mode: m.Mode, TicketID: t.ID, SinceMs: now, QueuedAtMs: t.QueuedAtMs})
	a.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: m.Rid, Mode: m.Mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs})
	a.schedule(ctx)
}

// reportCrossedMatch tells the client of a match its cancel crossed: the
// ticket was matched, another member left that match and the ticket was
// requeued, all before this session heard of the match, and the cancel then
// removed the requeued ticket. The client still gets, in order, what every
// member of a formed match gets (match_found, match_cancelled, the requeue)
// before its dequeued, instead of never hearing of a match it was in.
func (a *sessionActor) reportCrossedMatch(mode, match string) {
	if match == "" || match == a.seed.foundSent || match == a.seed.endedSent {
		return
	}
	ctx, cancel := a.env.opCtx()
	defer cancel()
	r, ok, err := a.env.Store.Room(ctx, mode, match)
	if err != nil {
		a.env.redisErr("room", err, a.logAttrs()...)
		return
	}
	// A match formed before this connection was reported on an earlier one
	// or summed up by the welcome; one whose record expired is long past.
	if !ok || r.State != "cancelled" || r.CreatedMs < a.seed.connectedMs {
		return
	}
	a.seed.foundSent, a.seed.endedSent = match, match
	a.send(&protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: match, Mode: mode,
		Teams: r.Teams, LoadingDeadlineMs: r.DeadlineMs})
	a.send(&protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, MatchID: match, Reason: r.Reason,
		Requeued: true, NoShows: nonNil(r.NoShows)})
	t := r.Tickets[a.seed.player.ID]
	a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: mode, TicketID: t.ID, QueuedAtMs: t.QueuedAtMs, Requeued: true})
}

// takeBack removes a ticket the session just created but must not keep
// (the player turned out banned, or the ban check failed). Should the
// removal fail too, the ticket is not lost track of: the leader drops a
// banned player's ticket, max_wait ends any other, and a match formed with
// it reaches this session, which then reconciles with Redis and plays it.
func (a *sessionActor) takeBack(ctx context.Context, t redisx.Ticket) {
	if _, _, err := a.env.Store.RemoveTicket(ctx, t.Mode, t.Player, t.ID); err != nil {
		a.env.redisErr("remove_ticket", err, a.logAttrs()...)
	}
}

func (a *sessionActor) cancelTicket(ctx actor.Context, rid string) {
	rctx, cancel := a.env.opCtx()
	removed, entry, err := a.env.Store.RemoveTicket(rctx, a.st.Mode, a.seed.player.ID, a.st.TicketID)
	cancel()
	if err != nil {
		a.env.redisErr("remove_ticket", err, a.logAttrs()...)
		a.unavailable(rid)
		return
	}
	if !removed {
		// The ticket left the queue meanwhile (matched, or timed out): tell
		// the client what happened, then that the cancel no longer fits.
		a.reconcile(ctx)
		a.invalidState(rid, "The ticket already left the queue.")
		return
	}
	mode, ticket := a.st.Mode, a.st.TicketID
	a.reportCrossedMatch(mode, entry.From)
	a.env.Events.Emit("dequeued", map[string]any{"player_id": a.seed.player.ID, "mode": mode, "ticket_id": ticket, "reason": protocol.ReasonCancelled})
	a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
	a.send(&protocol.Dequeued{Type: protocol.TypeDequeued, Rid: rid, Mode: mode, TicketID: ticket, Reason: protocol.ReasonCancelled})
	a.schedule(ctx)
}

// dodge leaves a loading match: the match is cancelled for everyone, the
// others are requeued with their place kept, and a dodge is recorded.
func (a *sessionActor) dodge(ctx actor.Context, rid string) {
	rctx, cancel := a.env.opCtx()
	r, ok, err := a.env.Store.Room(rctx, a.st.Mode, a.st.MatchID)
	cancel()
	if err != nil {
		a.env.redisErr("room", err, a.logAttrs()...)
		a.unavailable(rid)
		return
	}
	if !ok {
		a.reconcile(ctx)
		a.invalidState(rid, "No such match is loading.")
		return
	}
	out, err := a.env.resolveRoom(r, redisx.Resolution{Outcome: "cancel", Reason: protocol.ReasonPlayerLeft, Leaver: a.seed.player.ID})
	if err != nil {
		a.unavailable(rid)
		return
	}
	if out.Status != "ok" {
		// The room ended first (started, timed out): report that instead.
		a.reconcile(ctx)
		a.invalidState(rid, "The match already ended.")
		return
	}
	a.env.bus.ToRoom(r.Owner, r.MatchID, kindRoomResolved, &RoomResolvedMsg{MatchID: r.MatchID})
	// The dodger's own match_cancelled is the reply to its cancel; the copy
	// resolveRoom sent through the bus finds the session idle and is ignored.
	a.seed.endedSent = r.MatchID
	a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
	a.send(&protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, Rid: rid, MatchID: r.MatchID,
		Reason: protocol.ReasonPlayerLeft, Requeued: false, NoShows: nonNil(out.NoShows)})
	a.schedule(ctx)
}

func (a *sessionActor) markReady(ctx actor.Context, rid string) {
	mode, match := a.st.Mode, a.st.MatchID
	rctx, cancel := a.env.opCtx()
	var res redisx.ReadyResult
	var err error
	if a.env.Allocator == nil {
		// No server to ask for: the last member's mark starts the match.
		res, err = a.env.Store.MarkReadyStart(rctx, mode, match, a.seed.player.ID, a.env.nowMs(), a.env.Cfg().Rooms.FinishedTTL)
	} else {
		res, err = a.env.Store.MarkReady(rctx, mode, match, a.seed.player.ID)
	}
	cancel()
	if err != nil {
		a.env.redisErr("mark_ready", err, a.logAttrs()...)
		a.unavailable(rid)
		return
	}
	switch res.State {
	case "loading", "allocating", "started":
		ready := nonNil(res.Ready)
		waiting := []string{}
		for _, p := range res.Members {
			if !slices.Contains(ready, p) {
				waiting = append(waiting, p)
			}
		}
		if res.Started {
			a.env.matchStarted(mode, match, res.Members, json.RawMessage("null"))
		}
		a.send(&protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, Rid: rid, MatchID: match, Ready: ready, Waiting: waiting})
		if res.New {
			a.env.Events.Emit("player_ready", map[string]any{"player_id": a.seed.player.ID, "match_id": match})
			// The room tells the others, and announces a start after that.
			a.env.bus.ToRoom(res.Owner, match, kindMemberReady, &MemberReadyMsg{Player: a.seed.player.ID, Ready: ready, Waiting: waiting, Started: res.Started})
		}
	default:
		a.reconcile(ctx)
		a.invalidState(rid, "No such match is loading.")
	}
}

// system applies a system event through the table.
func (a *sessionActor) system(ctx actor.Context, in input, msg any) {
	t := decide(a.st.Name, in)
	switch t.effect {
	case effIgnore:
	case effReconcile:
		a.reconcile(ctx)
	case effStartLoading:
		m := msg.(*MatchFoundMsg)
		a.setState(sessionState{Name: stLoading, Mode: m.Mode, MatchID: m.MatchID, TicketID: a.st.TicketID,
			QueuedAtMs: a.st.QueuedAtMs, SinceMs: a.env.nowMs(), Owner: m.Owner, DeadlineMs: m.DeadlineMs, Teams: m.Teams})
		a.sendMatchFound()
		a.schedule(ctx)
	case effForward:
		m := msg.(*LoadingStatusMsg)
		a.send(&protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, MatchID: m.MatchID, Ready: nonNil(m.Ready), Waiting: nonNil(m.Waiting)})
	case effMatchReady:
		m := msg.(*MatchReadyMsg)
		a.seed.endedSent = m.MatchID
		a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
		a.send(&protocol.MatchReady{Type: protocol.TypeMatchReady, MatchID: m.MatchID, Server: m.Server})
		a.schedule(ctx)
	case effRequeue:
		m := msg.(*MatchCancelledMsg)
		a.seed.endedSent = m.MatchID
		a.setState(sessionState{Name: stQueued, Mode: m.Mode, TicketID: m.Ticket.ID, QueuedAtMs: m.Ticket.QueuedAtMs, SinceMs: a.env.nowMs()})
		a.send(&protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, MatchID: m.MatchID, Reason: m.Reason, Requeued: true, NoShows: nonNil(m.NoShows)})
		a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: m.Mode, TicketID: m.Ticket.ID, QueuedAtMs: m.Ticket.QueuedAtMs, Requeued: true})
		a.schedule(ctx)
	case effCancelled:
		m := msg.(*MatchCancelledMsg)
		a.seed.endedSent = m.MatchID
		a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
		a.send(&protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, MatchID: m.MatchID, Reason: m.Reason, Requeued: false, NoShows: nonNil(m.NoShows)})
		a.schedule(ctx)
	case effDequeued:
		m := msg.(*DequeuedMsg)
		a.setState(sessionState{Name: stIdle, SinceMs: a.env.nowMs()})
		a.send(&protocol.Dequeued{Type: protocol.TypeDequeued, Mode: m.Mode, TicketID: m.TicketID, Reason: m.Reason})
		a.schedule(ctx)
	}
}

func (a *sessionActor) snapshot() *Snapshot {
	connected := a.seed.outbox != nil
	return &Snapshot{
		ID: "session/" + a.seed.player.ID, Kind: "session", State: string(a.st.Name), Restarts: a.seed.restarts,
		Children: []*Snapshot{},
		Details: map[string]any{
			"player_id": a.seed.player.ID, "rating": a.seed.player.Rating, "mode": a.st.Mode,
			"ticket_id": a.st.TicketID, "match_id": a.st.MatchID, "since_ms": a.st.SinceMs,
			"connected": connected, "session_id": a.seed.lastSID,
		},
	}
}

// reassert puts the player's registration and ticket back after Redis lost
// its data. A player who was loading a match that no longer exists is
// requeued with its original queue time, as after an allocation failure:
// it was not the player's fault.
func (a *sessionActor) reassert(ctx actor.Context) {
	if a.seed.lastSID == "" {
		return
	}
	cfg := a.env.Cfg()
	p := a.seed.player
	rctx, cancel := a.env.opCtx()
	defer cancel()
	if a.seed.outbox != nil {
		if _, err := a.env.Store.DirClaim(rctx, p.ID, a.env.Node, a.seed.lastSID, cfg.Session.DirectoryTTL); err != nil {
			a.env.redisErr("dir_claim", err, a.logAttrs()...)
			return
		}
		if _, err := a.env.Store.DirTouch(rctx, p.ID, a.env.Node, a.seed.lastSID, modeOrKeep(a.st.Mode), cfg.Session.DirectoryTTL); err != nil {
			a.env.redisErr("dir_touch", err, a.logAttrs()...)
		}
	}
	if a.st.Name == stIdle {
		return
	}
	if a.st.Name == stLoading {
		if _, ok, err := a.env.Store.Room(rctx, a.st.Mode, a.st.MatchID); err != nil || ok {
			return
		}
	}
	t := redisx.Ticket{ID: a.st.TicketID, Player: p.ID, Mode: a.st.Mode, Rating: p.Rating, Device: p.Device, QueuedAtMs: a.st.QueuedAtMs}
	if t.ID == "" {
		t.ID = newID()
	}
	status, got, _, err := a.env.Store.Enqueue(rctx, t, a.env.nowMs())
	if err != nil {
		a.env.redisErr("enqueue", err, a.logAttrs()...)
		return
	}
	a.env.Log.Info("ticket re-asserted", append(a.logAttrs(), "ticket", got.ID, "created", status == redisx.EnqueueCreated)...)
	if a.st.Name == stLoading {
		match := a.st.MatchID
		a.seed.endedSent = match
		a.setState(sessionState{Name: stQueued, Mode: got.Mode, TicketID: got.ID, QueuedAtMs: got.QueuedAtMs, SinceMs: a.env.nowMs()})
		a.send(&protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, MatchID: match, Reason: protocol.ReasonAllocationFailed,
			Requeued: true, NoShows: []string{}})
		a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: got.Mode, TicketID: got.ID, QueuedAtMs: got.QueuedAtMs, Requeued: true})
		a.schedule(ctx)
	}
}
