package actors

import (
	"encoding/json"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// matchEnd is how a match ended, whichever way the session heard it: a
// signal from the room, an outcome read from Redis, or the room's record.
type matchEnd struct {
	Match, Mode string
	Started     bool
	Server      json.RawMessage
	Reason      string
	Requeued    bool
	NoShows     []string
	// Ticket is the ticket a requeued member holds again.
	Ticket redisx.Ticket
	// Teams and DeadlineMs describe the match, for a match_found the client
	// never got.
	Teams      [][]string
	DeadlineMs int64
	// Region is where the match was played, when known (a room's record
	// says; an outcome record does not).
	Region string
	// Seated is the ticket the match seated the player with (and its
	// queue time), when the record says.
	Seated     string
	SeatedAtMs int64
}

// id is the id of the outcome that records this end.
func (e *matchEnd) id() string {
	if e.Started {
		return string(redisx.OutcomeStarted) + ":" + e.Match
	}
	return string(redisx.OutcomeCancelled) + ":" + e.Match
}

func endOfOutcome(o *redisx.Outcome, player string) *matchEnd {
	e := &matchEnd{Match: o.Ref, Mode: o.Mode, Started: o.Kind == redisx.OutcomeStarted, Server: o.Server,
		Reason: o.Reason, Requeued: o.Requeued, NoShows: o.NoShows, Teams: o.Teams, DeadlineMs: o.DeadlineMs}
	if o.Requeued {
		e.Ticket = redisx.Ticket{ID: o.Ticket, Player: player, Mode: o.Mode, QueuedAtMs: o.QueuedAtMs}
	}
	if o.Kind != redisx.OutcomeDequeued {
		e.Seated, e.SeatedAtMs = o.Ticket, o.QueuedAtMs
	}
	return e
}

func endOfRoom(r redisx.Room, player string) *matchEnd {
	e := &matchEnd{Match: r.MatchID, Mode: r.Mode, Started: r.State == redisx.RoomStarted, Server: r.Server,
		Reason: r.Reason, NoShows: r.NoShows, Teams: r.Teams, DeadlineMs: r.DeadlineMs, Region: r.Region}
	for _, p := range r.Requeued {
		if p == player {
			e.Requeued, e.Ticket = true, r.Tickets[player]
		}
	}
	return e
}

// classifySignal turns a message from another actor into a table input,
// against the match and ticket the session holds. Signals may come late,
// twice, or out of order across nodes: one about a match whose end the
// client was told is stale; one about a match or ticket the session does
// not hold does not fit, and the session reads Redis.
func (a *sessionActor) classifySignal(msg any) (input, any) {
	st := a.st()
	current := func(match string) bool { return st.Name == stLoading && st.MatchID == match }
	switch m := msg.(type) {
	case *MatchFoundMsg:
		switch {
		case a.seed.told.ended(m.MatchID):
			return evStale, m
		case st.MatchID == m.MatchID:
			return evMatchFoundAgain, m
		case st.Name == stQueued && m.Tickets[a.seed.player.ID] != "" && m.Tickets[a.seed.player.ID] != st.TicketID:
			// A match of another ticket of the player's: a late delivery
			// of one that already ended, or news the session is behind
			// on. Redis says which.
			return evUnknown, m
		}
		return evMatchFound, m
	case *LoadingStatusMsg:
		switch {
		case current(m.MatchID):
			return evLoadingStatus, m
		case a.seed.told.ended(m.MatchID):
			return evStale, m
		}
		return evUnknown, m
	case *MatchReadyMsg:
		switch {
		case current(m.MatchID):
			return evAllReady, &matchEnd{Match: m.MatchID, Mode: st.Mode, Started: true, Server: m.Server}
		case a.seed.told.ended(m.MatchID):
			return evStale, m
		}
		return evUnknown, m
	case *MatchCancelledMsg:
		switch {
		case current(m.MatchID):
			end := &matchEnd{Match: m.MatchID, Mode: m.Mode, Reason: m.Reason, NoShows: m.NoShows, Teams: st.Teams, DeadlineMs: st.DeadlineMs}
			switch {
			case m.Reason == protocol.ReasonRoomLost:
				return evRoomLost, end
			case m.Ticket != nil:
				end.Requeued, end.Ticket = true, *m.Ticket
				return evRequeued, end
			}
			return evCancelledOut, end
		case a.seed.told.ended(m.MatchID):
			return evStale, m
		}
		return evUnknown, m
	case *DequeuedMsg:
		o := &redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: m.TicketID, Mode: m.Mode, Reason: m.Reason, Ticket: m.TicketID}
		switch {
		case st.Name == stQueued && st.TicketID == m.TicketID:
			return evDequeued, o
		case a.seed.told.has(o.ID()):
			return evStale, m
		}
		return evUnknown, m
	}
	return evUnknown, msg
}

// startLoading tells the client of a match formed with it (once per
// connection) and returns the loading state.
func (a *sessionActor) startLoading(m *MatchFoundMsg) sessionState {
	st := a.st()
	next := sessionState{Mode: m.Mode, MatchID: m.MatchID, TicketID: st.TicketID, QueuedAtMs: st.QueuedAtMs,
		Owner: m.Owner, DeadlineMs: m.DeadlineMs, Teams: m.Teams, Region: m.Region}
	a.sendMatchFound(next)
	return next
}

func (a *sessionActor) sendMatchFound(st sessionState) {
	if a.seed.foundSent == st.MatchID || !a.connected() {
		return
	}
	a.seed.foundSent = st.MatchID
	a.send(&protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: st.MatchID, Mode: st.Mode,
		Teams: st.Teams, LoadingDeadlineMs: st.DeadlineMs, Region: regionOf(st.Region)})
}

// regionOf is a match's region as match_found carries it: null for a mode
// without regions.
func regionOf(r string) *string {
	if r == "" {
		return nil
	}
	return &r
}

// tellEnd tells the client how a match ended (and, for a requeued member,
// that it is queued again), and marks the outcome told.
func (a *sessionActor) tellEnd(e *matchEnd) {
	if !a.connected() {
		return // told after the next welcome, from Redis
	}
	if e.Started {
		a.send(&protocol.MatchReady{Type: protocol.TypeMatchReady, MatchID: e.Match, Server: serverOrNull(e.Server)})
	} else {
		// A dodger's own match_cancelled is the reply to its cancel.
		rid := ""
		if p := a.seed.pending; p != nil && p.msg.Type == protocol.TypeCancel && e.Reason == protocol.ReasonPlayerLeft && !e.Requeued {
			rid, a.seed.pending = p.msg.Rid, nil
		}
		a.send(&protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, Rid: rid, MatchID: e.Match, Reason: e.Reason,
			Requeued: e.Requeued, NoShows: nonNil(e.NoShows)})
		if e.Requeued {
			a.send(&protocol.Queued{Type: protocol.TypeQueued, Mode: e.Mode, TicketID: e.Ticket.ID,
				QueuedAtMs: e.Ticket.QueuedAtMs, Requeued: true})
		}
	}
	a.markTold(e.id(), e.Mode)
}

// tellDequeued tells the client a ticket left the queue without a match
// (the reply to its cancel, when that is what settled it).
func (a *sessionActor) tellDequeued(o *redisx.Outcome) {
	if !a.connected() {
		return
	}
	rid := ""
	if p := a.seed.pending; p != nil && p.msg.Type == protocol.TypeCancel && o.Reason == protocol.ReasonCancelled {
		rid, a.seed.pending = p.msg.Rid, nil
	}
	a.send(&protocol.Dequeued{Type: protocol.TypeDequeued, Rid: rid, Mode: o.Mode, TicketID: o.Ref, Reason: o.Reason})
	a.markTold(o.ID(), o.Mode)
}

// markTold records that the client was told outcome id, and has the node
// forget it in Redis (in its next batch).
func (a *sessionActor) markTold(id, mode string) {
	a.seed.told.add(id)
	a.env.host.ack(mode, a.seed.player.ID, id)
}
