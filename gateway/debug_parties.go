package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/redisx"
)

// partyView is a party as the admin endpoints show it, read from Redis by
// any node (docs/protocol.md section 10.5): members in join order with
// whether each is connected (a live session, or one within its reconnect
// grace) and holds a ticket or seat, invitations with their expiry, and
// the queue marker.
func (a *Admin) partyView(ctx context.Context, p redisx.Party) (map[string]any, error) {
	modes := a.Node.ModeNames()
	infos, err := a.Cluster.ReadMembers(ctx, p.Members, modes)
	if err != nil {
		return nil, err
	}
	now := a.Node.RedisNowMs()
	members := make([]map[string]any, 0, len(p.Members))
	for i, id := range p.Members {
		m := map[string]any{"player_id": id, "leader": id == p.Leader, "connected": false, "busy": false}
		if i < len(infos) && infos[i].Player == id {
			m["connected"], m["busy"] = infos[i].Connected, infos[i].Busy
		}
		members = append(members, m)
	}
	invited := make([]map[string]any, 0, len(p.Invited))
	for _, id := range p.Invited {
		inv := map[string]any{"player_id": id, "expires_ms": nil, "expires_in_ms": nil}
		list, err := a.Cluster.Invitations(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, in := range list {
			if in.Party == p.ID {
				inv["expires_ms"], inv["expires_in_ms"] = in.ExpiresMs, max(in.ExpiresMs-now, 0)
			}
		}
		invited = append(invited, inv)
	}
	var queue any
	if mode, ticket, ok := splitQueueMarker(p.Queue); ok {
		queue = map[string]any{"mode": mode, "ticket_id": ticket}
	}
	return map[string]any{"party_id": p.ID, "leader": p.Leader, "members": members, "invited": invited,
		"open": p.Open, "max_size": p.MaxSize, "queue": queue, "version": p.Ver}, nil
}

// splitQueueMarker reads a party's "<mode>|<ticket>" queue marker.
func splitQueueMarker(m string) (mode, ticket string, ok bool) {
	mode, ticket, ok = strings.Cut(m, "|")
	return mode, ticket, ok && mode != "" && ticket != ""
}

// party serves GET /debug/parties/{id}: one party as Redis holds it, from
// any node.
func (a *Admin) party(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !idPattern.MatchString(id) {
		badRequest(w, "invalid party id")
		return
	}
	if a.Cluster == nil {
		a.unavailable(w, "debug parties", errNoCluster)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.Config.Get().Redis.OpTimeout)
	defer cancel()
	p, ok, err := a.Cluster.PartyGet(ctx, id)
	if err != nil {
		a.unavailable(w, "debug parties: party", err)
		return
	}
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NOT_FOUND", "message": "no such party"})
		return
	}
	out, err := a.partyView(ctx, p)
	if err != nil {
		a.unavailable(w, "debug parties: members", err)
		return
	}
	out["now_ms"] = a.Node.RedisNowMs()
	writeJSON(w, http.StatusOK, out)
}

// playerParty is the party of /debug/players/{id}: the player's party, or
// nil when it is in none.
func (a *Admin) playerParty(ctx context.Context, player string) (map[string]any, error) {
	p, ok, err := a.Cluster.PartyOf(ctx, player)
	if err != nil || !ok {
		return nil, err
	}
	return a.partyView(ctx, p)
}

// partyActors serves GET /debug/actors?party=ID: the sessions of the
// party's members held by this node (the party's members read from
// Redis), with the other filters applied to them. The node's session
// records are kept by player id, so each member is looked up by its id:
// as a prefix its own session sorts first, and a limit of one keeps it.
func (a *Admin) partyActors(w http.ResponseWriter, r *http.Request, cfg *config.Config, f actors.DebugFilter, id string) {
	if !idPattern.MatchString(id) {
		badRequest(w, "party must be a party id")
		return
	}
	if f.Kind != "" && f.Kind != "session" {
		badRequest(w, "party keeps sessions: kind must be session or absent")
		return
	}
	if f.Player != "" {
		badRequest(w, "party and player cannot be combined")
		return
	}
	if a.Cluster == nil {
		a.unavailable(w, "debug actors: party", errNoCluster)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), cfg.Redis.OpTimeout)
	defer cancel()
	p, _, err := a.Cluster.PartyGet(ctx, id)
	if err != nil {
		a.unavailable(w, "debug actors: party", err)
		return
	}
	sessions := []*actors.Snapshot{}
	var states map[string]int
	for _, m := range p.Members {
		mf := f
		mf.Kind, mf.Player, mf.Limit = "session", m, 1
		t := a.Node.DebugSnapshot(mf)
		states = t.States
		for _, s := range t.Root.Children {
			if s.Details["player_id"] == m {
				sessions = append(sessions, s)
			}
		}
	}
	if states == nil {
		states = a.Node.DebugSnapshot(actors.DebugFilter{Kind: "session", Limit: 1}).States
	}
	root := &actors.Snapshot{Children: sessions}
	a.addTickets(r.Context(), cfg, root)
	writeJSON(w, http.StatusOK, map[string]any{"node_id": cfg.NodeID, "actors": sessions, "omitted": 0,
		"sessions_by_state": states, "party": id})
}
