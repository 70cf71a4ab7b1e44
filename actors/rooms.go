package actors

import (
	"encoding/json"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// resolveRoom ends room r as res says. Redis decides who wins: only the
// caller whose script call resolved the room notifies the members, records
// violations and counts the outcome, so each happens exactly once whichever
// of the room actor, a dodging session or an adopting sweeper got there first.
func (e *Env) resolveRoom(r redisx.Room, res redisx.Resolution) (redisx.ResolveResult, error) {
	ctx, cancel := e.opCtx()
	defer cancel()
	res.FinishedTTL = e.Cfg().Rooms.FinishedTTL
	res.OutcomeTTL = e.Cfg().Session.OutcomeTTL
	out, err := e.Store.Resolve(ctx, r.Mode, r.MatchID, r.Members, res)
	if err != nil {
		e.redisErr("resolve_room", err, "match", r.MatchID, "mode", r.Mode)
		return out, err
	}
	if out.Status != redisx.ResolveOK {
		return out, nil
	}
	log := e.Log.With("match", r.MatchID, "mode", r.Mode)
	switch out.State {
	case redisx.RoomStarted:
		server := res.Server
		if len(server) == 0 {
			server = json.RawMessage("null")
		}
		e.matchStarted(r.Mode, r.MatchID, r.Members, server)
		e.bus.ToPlayers(kindMatchReady, r.Members, &MatchReadyMsg{MatchID: r.MatchID, Server: server}, nil)
	case redisx.RoomCancelled:
		e.Metrics.MatchesCancelled.WithLabelValues(r.Mode, res.Reason).Inc()
		if len(out.Requeued) > 0 {
			// The one place where players go back into a queue.
			e.Metrics.PlayersRequeued.WithLabelValues(r.Mode).Add(float64(len(out.Requeued)))
			e.Events.Emit("players_requeued", map[string]any{"match_id": r.MatchID, "mode": r.Mode, "players": out.Requeued})
		}
		log.Debug("match cancelled", "reason", res.Reason, "requeued", out.Requeued, "no_shows", out.NoShows, "leaver", res.Leaver)
		e.Events.Emit("match_cancelled", map[string]any{"match_id": r.MatchID, "mode": r.Mode, "reason": res.Reason,
			"requeued": out.Requeued, "no_shows": out.NoShows})
		requeued := make(map[string]bool, len(out.Requeued))
		for _, p := range out.Requeued {
			requeued[p] = true
		}
		noShows := out.NoShows
		if noShows == nil {
			noShows = []string{}
		}
		e.bus.ToPlayers(kindMatchCancelled, r.Members, nil, func(p string) any {
			m := &MatchCancelledMsg{MatchID: r.MatchID, Mode: r.Mode, Reason: res.Reason, NoShows: noShows}
			if requeued[p] {
				t := r.Tickets[p]
				m.Ticket = &t
			}
			return m
		})
		// Tell the members first: the requeued ones may be matched again at
		// the next tick. Violations are recorded after.
		if res.Reason == protocol.ReasonLoadingTimeout {
			for _, p := range out.NoShows {
				e.violation(p, r.Tickets[p].Device, "no_show", r.MatchID)
			}
		}
		if res.Leaver != "" {
			e.violation(res.Leaver, r.Tickets[res.Leaver].Device, "dodge", r.MatchID)
		}
	}
	return out, nil
}

// matchStarted counts and records a match that just started; whoever
// started it announces it to the members.
func (e *Env) matchStarted(mode, match string, members []string, server json.RawMessage) {
	e.Metrics.MatchesStarted.WithLabelValues(mode).Inc()
	e.Log.Debug("match started", "match", match, "mode", mode, "server", string(server))
	e.Events.Emit("match_started", map[string]any{"match_id": match, "mode": mode, "players": members})
}

// violation records one violation and counts it.
func (e *Env) violation(player, device, kind, match string) {
	ctx, cancel := e.opCtx()
	defer cancel()
	e.Metrics.Violations.WithLabelValues(kind).Inc()
	e.Events.Emit("violation", map[string]any{"player_id": player, "device_id": device, "kind": kind, "match_id": match})
	ban, err := e.Sanctions.Record(ctx, player, device, kind)
	if err != nil {
		e.redisErr("record_violation", err, "player", player)
		return
	}
	if ban > 0 {
		e.Log.Info("player banned", "player", player, "device", device, "for", ban.String())
		e.Events.Emit("banned", map[string]any{"player_id": player, "device_id": device, "ban_ms": ban.Milliseconds()})
	}
}
