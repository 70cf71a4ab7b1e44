package gateway

import (
	"context"
	"net/http"
	"sort"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/redisx"
)

// outcomeNames are the untold outcomes' kinds as /debug/players shows them.
var outcomeNames = map[redisx.OutcomeKind]string{
	redisx.OutcomeDequeued:  "dequeued",
	redisx.OutcomeStarted:   "match_started",
	redisx.OutcomeCancelled: "match_cancelled",
}

// player serves GET /debug/players/{id}: everything Redis knows about one
// player, gathered from any node (docs/protocol.md 10.1).
func (a *Admin) player(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !idPattern.MatchString(id) {
		badRequest(w, "invalid player id")
		return
	}
	if a.Cluster == nil {
		a.unavailable(w, "debug players", errNoCluster)
		return
	}
	cfg := a.Config.Get()
	ctx, cancel := context.WithTimeout(r.Context(), cfg.Redis.OpTimeout)
	defer cancel()
	modes := a.Node.ModeNames()
	truth, err := a.Cluster.ReadTruth(ctx, id, modes)
	if err != nil {
		a.unavailable(w, "debug players: truth", err)
		return
	}
	now := a.Node.RedisNowMs()
	out := map[string]any{"player_id": id, "node_id": nil, "session_id": nil, "ticket": nil, "match": nil,
		"party": nil, "last_verdict": nil, "outcomes": []any{}}
	state := map[string]any{"name": "idle", "since_ms": nil}
	known := truth.Node != ""
	if truth.Node != "" {
		out["node_id"], out["session_id"] = truth.Node, truth.Session
	}
	var device string
	// A player stands in at most one mode; config order decides a tie
	// that Redis should never hold.
	for _, mode := range modes {
		e, ok := truth.Entries[mode]
		if !ok || e.Kind == redisx.EntryNone {
			continue
		}
		known = true
		mc, _ := cfg.ModeByName(mode)
		switch e.Kind {
		case redisx.EntryQueued:
			state = map[string]any{"name": "queued", "mode": mode, "ticket_id": e.Ref, "since_ms": nil}
			views, err := a.Cluster.TicketViews(ctx, mode, []string{e.Ref}, []string{id})
			if err != nil {
				a.unavailable(w, "debug players: ticket", err)
				return
			}
			if v, ok := views[e.Ref]; ok {
				t := ticketJSON(mc, v, now)
				out["ticket"] = t
				state["since_ms"] = t["wait_since_ms"]
				out["last_verdict"] = t["verdict"]
				device = v.Ticket.Device
			}
		case redisx.EntryInRoom:
			state = map[string]any{"name": "loading", "mode": mode, "match_id": e.Ref, "since_ms": nil}
			out["last_verdict"] = string(actors.VerdictMatched)
			room, ok, err := a.Cluster.Room(ctx, mode, e.Ref)
			if err != nil {
				a.unavailable(w, "debug players: room", err)
				return
			}
			if ok {
				ready, waiting := []string{}, []string{}
				for _, p := range room.Members {
					if room.Ready[p] {
						ready = append(ready, p)
					} else {
						waiting = append(waiting, p)
					}
				}
				state["since_ms"] = room.CreatedMs
				out["match"] = map[string]any{"match_id": room.MatchID, "mode": mode, "state": string(room.State),
					"owner": room.Owner, "teams": room.Teams, "ready": ready, "waiting": waiting,
					"deadline_ms": room.DeadlineMs, "deadline_in_ms": room.DeadlineMs - now}
				device = room.Tickets[id].Device
			}
		}
		break
	}
	out["state"] = state
	party, err := a.playerParty(ctx, id)
	if err != nil {
		a.unavailable(w, "debug players: party", err)
		return
	}
	if party != nil {
		known = true
		out["party"] = party
		state["party_id"] = party["party_id"]
	}
	if out["last_verdict"] == nil {
		// Not waiting: the verdict on a ticket that left without a match
		// lately (banned, timed out, disconnected), if any.
		for _, mode := range modes {
			v, err := a.Cluster.PlayerVerdict(ctx, mode, id)
			if err != nil {
				a.unavailable(w, "debug players: verdict", err)
				return
			}
			if v != nil {
				out["last_verdict"] = v.Verdict
				break
			}
		}
	}
	outcomes := []map[string]any{}
	for _, o := range truth.Outcomes {
		known = true
		oc := map[string]any{"kind": outcomeNames[o.Kind], "mode": o.Mode, "ref": o.Ref, "at_ms": o.AtMs}
		if o.Reason != "" {
			oc["reason"] = o.Reason
		}
		if o.Kind == redisx.OutcomeCancelled {
			oc["requeued"] = o.Requeued
		}
		outcomes = append(outcomes, oc)
	}
	sort.SliceStable(outcomes, func(i, j int) bool { return outcomes[i]["at_ms"].(int64) < outcomes[j]["at_ms"].(int64) })
	out["outcomes"] = outcomes

	sanctions := map[string]any{}
	st, err := a.Sanctions.Status(ctx, "player", id)
	if err != nil {
		a.unavailable(w, "debug players: sanctions", err)
		return
	}
	if len(st.Violations) > 0 {
		known = true
	}
	sanctions["player"] = sanctionJSON(st)
	if device != "" {
		ds, err := a.Sanctions.Status(ctx, "device", device)
		if err != nil {
			a.unavailable(w, "debug players: sanctions", err)
			return
		}
		sanctions["device_id"] = device
		sanctions["device"] = sanctionJSON(ds)
	}
	out["sanctions"] = sanctions
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NOT_FOUND", "message": "Redis knows nothing of this player"})
		return
	}
	out["now_ms"] = now
	writeJSON(w, http.StatusOK, out)
}

func sanctionJSON(st redisx.SanctionStatus) map[string]any {
	v := st.Violations
	if v == nil {
		v = []redisx.Violation{}
	}
	return map[string]any{"violations": v, "banned_until": st.BannedUntil, "banned_for_ms": st.BannedForMs}
}
