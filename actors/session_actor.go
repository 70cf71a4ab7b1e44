package actors

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// sessionSeed is what a session actor keeps across restarts: the connection
// (owned by the gateway, so a restart does not drop the player), the state
// its client was last told, and what it has told, so a restarted actor
// reconciles what it told with Redis instead of starting blank, and a
// redelivered signal is not told twice.
type sessionSeed struct {
	player   PlayerInfo
	outbox   Outbox
	lastSID  string
	restarts int
	// st is the session's state: what its client was last told.
	st sessionState
	// foundSent is the match whose match_found this connection got.
	foundSent string
	// told holds the ids of the outcomes told to the player lately, so a
	// late or repeated signal is not told twice and a match that ended is
	// never reopened.
	told toldRing
	// pending is a request whose Redis write may or may not have happened
	// (a timeout): it is settled by reading Redis, never reported as a
	// failure. stash holds the requests that arrived meanwhile, in order.
	pending *pendingReq
	stash   []ClientRequest
	// unread is set while the last read of Redis failed.
	unread bool
	// arrivedMs is when the request being served reached the node.
	arrivedMs int64
	// stopping is set before the actor stops itself (grace expired,
	// replaced); a stop without it is the supervisor giving up on the actor.
	stopping bool
	// slot is the actor's entry in the node's session host.
	slot *sessionSlot
	// latencies are the player's measured round trips of its last ticket
	// (modes with regions), so a ticket put back after Redis lost it is
	// listed where it was.
	latencies map[string]float64
	// party is the session's copy of its party (nil: none), read from
	// Redis at every party request and attach; it only classifies an
	// enqueue, which reads Redis again.
	party *redisx.Party
}

// toldRing remembers the last outcome ids told, oldest overwritten first.
type toldRing struct {
	ids  [16]string
	next int
}

func (r *toldRing) add(id string) {
	if r.has(id) {
		return
	}
	r.ids[r.next] = id
	r.next = (r.next + 1) % len(r.ids)
}

func (r *toldRing) has(id string) bool { return id != "" && slices.Contains(r.ids[:], id) }

// ended reports whether the client was told the end of match.
func (r *toldRing) ended(match string) bool {
	return r.has(string(redisx.OutcomeStarted)+":"+match) || r.has(string(redisx.OutcomeCancelled)+":"+match)
}

// pendingReq is a request whose outcome is not known yet.
type pendingReq struct {
	msg       protocol.ClientMessage
	arrivedMs int64
	// banned is set for an enqueue whose ticket must be taken back (the
	// player turned out banned) once Redis answers.
	banned   bool
	bannedMs int64
	ticket   string
}

// maxStash bounds the requests held while one is being settled; a client
// is rate-limited, so this is only reached by one that ignores its replies.
const maxStash = 64

// sessionActor is one player's state machine (docs/protocol.md section 5). Every
// move is looked up in sessionTable by apply; the handlers in the
// session_*.go files classify what happened into an input and carry out
// the effects.
type sessionActor struct {
	env  *Env
	seed *sessionSeed
}

func newSessionProps(env *Env, seed *sessionSeed) *actor.Props {
	return env.props(func() actor.Actor { return &sessionActor{env: env, seed: seed} })
}

func (a *sessionActor) st() sessionState { return a.seed.st }

// partyID is the id of the session's party ("" when none).
func (a *sessionActor) partyID() string {
	if a.seed.party == nil {
		return ""
	}
	return a.seed.party.ID
}

// view is the state object the client is told: the state, and its party.
func (a *sessionActor) view() protocol.State {
	v := a.st().view()
	v.PartyID = a.partyID()
	return v
}

func (a *sessionActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.env.host.register(a.seed, ctx.Self())
		if a.seed.lastSID != "" {
			// A restart: the connection is still up; what the client was
			// told stands, and Redis says what happened meanwhile.
			a.apply(ctx, evHint, nil)
			a.settle(ctx)
		}
	case *actor.Restarting:
		a.seed.restarts++
	case *actor.Stopping:
		a.stopping(ctx)
	case *Attach:
		a.attach(ctx, m)
	case *ClientRequest:
		if a.seed.outbox == nil || m.SessionID != a.seed.outbox.SessionID() {
			return // a request from a connection that was replaced
		}
		defer a.internalError(m.Msg.Rid)
		a.request(ctx, m)
		a.drain(ctx)
	case *ConnClosed:
		a.connClosed(ctx, m)
	case *graceExpired:
		a.graceExpired(ctx, m)
	case *SessionReplacedMsg:
		a.replaced(ctx, m)
	case *MatchFoundMsg, *LoadingStatusMsg, *MatchReadyMsg, *MatchCancelledMsg, *DequeuedMsg:
		in, ev := a.classifySignal(m)
		a.apply(ctx, in, ev)
		// Requests that waited behind a doubtful one are served as soon as
		// something answered it.
		a.drain(ctx)
	case *PartyMsg, *PartyInviteMsg, *PartyLeftMsg, *partyCheck:
		a.apply(ctx, evPartyNews, m)
	case *PartyQueuedMsg:
		// The leader queued the party: Redis holds the ticket this
		// session adopts.
		a.apply(ctx, evHint, nil)
		a.drain(ctx)
	case *Reassert:
		a.reassert(ctx)
	case *truthHint:
		a.apply(ctx, evHint, nil)
		a.settle(ctx)
		a.drain(ctx)
	case *tableInput:
		a.apply(ctx, m.in, m.ev)
	case *SnapshotRequest:
		ctx.Respond(a.snapshot())
	case *Crash:
		panic("session: crash injected by /debug/crash")
	}
}

// apply is the one place a session changes state: it looks (state, in) up
// in the table, carries out the effect, and moves to the row's next state
// when the effect succeeded. An effect that reads Redis may feed further
// inputs through apply itself (reconcile); it then reports that the state
// is already where the truth put it.
func (a *sessionActor) apply(ctx actor.Context, in input, ev any) {
	from := a.seed.st
	t := decide(from.Name, in)
	next, moved := a.run(ctx, t.effect, ev)
	if !moved {
		return
	}
	next.Name = t.next
	if next.Name == stIdle {
		next = sessionState{Name: stIdle}
	}
	if next.Name != from.Name || next.TicketID != from.TicketID || next.MatchID != from.MatchID {
		next.SinceMs = a.env.nowMs()
		if next.Name == stQueued && next.QueuedAtMs == 0 {
			next.QueuedAtMs = next.SinceMs
		}
	} else {
		next.SinceMs = from.SinceMs
	}
	a.seed.st = next
	a.env.host.update(a.seed)
}

// run carries out one effect. It returns the state details the move leads
// to (Name is the table's) and whether the table's next applies.
func (a *sessionActor) run(ctx actor.Context, e effect, ev any) (sessionState, bool) {
	switch e {
	case effIgnore:
		return sessionState{}, false
	case effCreateTicket:
		return a.enqueue(ctx, ev.(protocol.ClientMessage))
	case effReplyQueued:
		m := ev.(protocol.ClientMessage)
		st := a.st()
		a.send(&protocol.Queued{Type: protocol.TypeQueued, Rid: m.Rid, Mode: st.Mode, TicketID: st.TicketID, QueuedAtMs: st.QueuedAtMs})
		return st, false
	case effInvalidState:
		m := ev.(protocol.ClientMessage)
		a.invalidState(m.Rid, invalidMessage(a.st().Name, m.Type))
		return sessionState{}, false
	case effRemoveTicket:
		return a.cancelTicket(ctx, ev.(protocol.ClientMessage))
	case effDodge:
		return a.dodge(ctx, ev.(protocol.ClientMessage))
	case effMarkReady:
		a.markReady(ctx, ev.(protocol.ClientMessage))
		return sessionState{}, false
	case effReplyState:
		a.reconcile(ctx)
		a.send(&protocol.StateReply{Type: protocol.TypeState, Rid: ev.(protocol.ClientMessage).Rid, State: a.view()})
		return sessionState{}, false
	case effReplyPong:
		a.send(&protocol.Pong{Type: protocol.TypePong, Rid: ev.(protocol.ClientMessage).Rid, ServerTimeMs: a.env.nowMs()})
		return sessionState{}, false
	case effRefuse:
		a.refuse(ev.(*refusal))
		return sessionState{}, false
	case effStartLoading:
		return a.startLoading(ev.(*MatchFoundMsg)), true
	case effForward:
		m := ev.(*LoadingStatusMsg)
		a.send(&protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, MatchID: m.MatchID, Ready: nonNil(m.Ready), Waiting: nonNil(m.Waiting)})
		return sessionState{}, false
	case effMatchReady, effCancelled:
		a.tellEnd(ev.(*matchEnd))
		return sessionState{}, true
	case effRequeue:
		end := ev.(*matchEnd)
		a.tellEnd(end)
		return sessionState{Mode: end.Mode, TicketID: end.Ticket.ID, QueuedAtMs: end.Ticket.QueuedAtMs}, true
	case effRoomLost:
		return a.roomLost(ctx, ev.(*matchEnd))
	case effDequeued:
		a.tellDequeued(ev.(*redisx.Outcome))
		return sessionState{}, true
	case effReconcile:
		a.reconcile(ctx)
		return sessionState{}, false
	case effMissedMatch:
		return a.missedMatch(ev.(*matchEnd)), true
	case effSkip:
		switch o := ev.(type) {
		case *matchEnd:
			a.markTold(o.id(), o.Mode)
		case *redisx.Outcome:
			a.markTold(o.ID(), o.Mode)
		}
		return sessionState{}, false
	case effAdoptTicket:
		return a.adoptTicket(ctx, ev.(*position))
	case effLoadTruth:
		return a.loadTruth(ctx, ev.(*position))
	case effReassert:
		a.reassertTicket(ctx)
		return sessionState{}, false
	case effWelcome:
		return a.welcome(ctx, ev.(*attachTruth)), true
	case effReplay:
		a.replay(ev.(*redisx.Outcome))
		return sessionState{}, false
	case effCreatePartyTicket:
		return a.partyEnqueue(ctx, ev.(protocol.ClientMessage))
	case effForbidden:
		a.memberEnqueue(ctx, ev.(protocol.ClientMessage))
		return sessionState{}, false
	case effParty:
		a.partyRequest(ctx, ev.(protocol.ClientMessage))
		return sessionState{}, false
	case effPartyMembership:
		a.partyMembership(ctx, ev.(protocol.ClientMessage))
		return sessionState{}, false
	case effPartyNews:
		a.partyNews(ev)
		return sessionState{}, false
	case effPartyTicketGone:
		o := ev.(*redisx.Outcome)
		a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: o.Mode, TicketID: o.Ref, QueuedAtMs: o.QueuedAtMs})
		a.tellDequeued(o)
		return sessionState{}, false
	}
	panic(fmt.Sprintf("session: effect %q has no handler", e))
}

// internalError answers a request that hit a bug with INTERNAL and an
// incident id that the log line with the detail carries too, then lets the
// panic reach the supervisor, which restarts the actor: the restarted
// actor keeps what its client was told and reconciles it with Redis.
func (a *sessionActor) internalError(rid string) {
	r := recover()
	if r == nil {
		return
	}
	incident := a.env.incident("internal error serving a request", append(a.logAttrs(), "panic", fmt.Sprint(r),
		"stack", string(debug.Stack()))...)
	a.env.Metrics.ClientErrors.WithLabelValues(string(protocol.CodeInternal)).Inc()
	a.send(&protocol.Error{Type: protocol.TypeError, Rid: rid, Code: protocol.CodeInternal,
		Message: messageFor(protocol.CodeInternal), IncidentID: incident})
	panic(r)
}

func (a *sessionActor) logAttrs() []any {
	st := a.st()
	return []any{"player", a.seed.player.ID, "state", st.Name, "mode", st.Mode, "match", st.MatchID}
}

// send queues a frame on the connection; with none (the player is away
// within its grace) the frame is dropped: what the player must hear is
// in Redis as an outcome and is replayed after its next welcome.
func (a *sessionActor) send(frame any) {
	if a.seed.outbox != nil {
		a.seed.outbox.Send(frame)
	}
}

// connected reports whether a client hears what the session sends.
func (a *sessionActor) connected() bool { return a.seed.outbox != nil }

func (a *sessionActor) snapshot() *Snapshot {
	st := a.st()
	return &Snapshot{
		ID: "session/" + a.seed.player.ID, Kind: "session", State: string(st.Name), Restarts: a.seed.restarts,
		Children: []*Snapshot{},
		Details: map[string]any{
			"player_id": a.seed.player.ID, "rating": a.seed.player.Rating, "mode": st.Mode,
			"ticket_id": st.TicketID, "match_id": st.MatchID, "since_ms": st.SinceMs,
			"connected": a.connected(), "session_id": a.seed.lastSID, "settling": a.seed.pending != nil,
			"party_id": a.partyID(),
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// serverOrNull is a match_ready server: JSON null when there is none.
func serverOrNull(s json.RawMessage) json.RawMessage {
	if len(s) == 0 {
		return json.RawMessage("null")
	}
	return s
}
