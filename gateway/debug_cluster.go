package gateway

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/actors/match"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/redisx"
)

// ClusterReader is what the cluster-wide debug views read from Redis;
// *redisx.Client implements it.
type ClusterReader interface {
	LiveNodes(ctx context.Context) ([]redisx.LiveNode, error)
	Leases(ctx context.Context, modes []string) ([]redisx.LeaseView, error)
	ReadTruth(ctx context.Context, player string, modes []string) (redisx.Truth, error)
	TicketViews(ctx context.Context, mode string, ids, players []string) (map[string]redisx.TicketView, error)
	Room(ctx context.Context, mode, matchID string) (redisx.Room, bool, error)
	PlayerVerdict(ctx context.Context, mode, player string) (*redisx.Verdict, error)
	// Parties (/debug/parties, the party of /debug/players).
	PartyGet(ctx context.Context, id string) (redisx.Party, bool, error)
	PartyOf(ctx context.Context, player string) (redisx.Party, bool, error)
	ReadMembers(ctx context.Context, players, modes []string) ([]redisx.MemberInfo, error)
	Invitations(ctx context.Context, player string) ([]redisx.Invite, error)
}

// errNoCluster: the admin listener was built without a ClusterReader.
var errNoCluster = errors.New("gateway: no cluster reader")

// maxDebugLimit caps ?limit= of /debug/actors.
const maxDebugLimit = 20000

// prefixPattern is what ?player= may hold: the start of a player id.
var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{0,64}$`)

func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST", "message": msg})
}

func (a *Admin) unavailable(w http.ResponseWriter, what string, err error) {
	a.Log.Error(what, "err", err)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "redis unavailable"})
}

// actors serves GET /debug/actors with its filters (docs/protocol.md 10.1).
func (a *Admin) actors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := actors.DebugFilter{Kind: q.Get("kind"), State: q.Get("state"), Mode: q.Get("mode"), Player: q.Get("player")}
	switch f.Kind {
	case "", "coordinator", "queue", "room", "session":
	default:
		badRequest(w, "kind must be coordinator, queue, room or session")
		return
	}
	switch f.State {
	case "", "idle", "queued", "loading":
	default:
		badRequest(w, "state must be idle, queued or loading")
		return
	}
	cfg := a.Config.Get()
	if _, ok := cfg.ModeByName(f.Mode); f.Mode != "" && !ok {
		badRequest(w, "mode is not a configured mode")
		return
	}
	if !prefixPattern.MatchString(f.Player) {
		badRequest(w, "player must be up to 64 characters of A-Z a-z 0-9 _ . : -")
		return
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxDebugLimit {
			badRequest(w, "limit must be an integer from 1 to "+strconv.Itoa(maxDebugLimit))
			return
		}
		f.Limit = n
	}
	if party := q.Get("party"); party != "" {
		a.partyActors(w, r, cfg, f, party)
		return
	}
	t := a.Node.DebugSnapshot(f)
	a.addTickets(r.Context(), cfg, t.Root)
	root := t.Root
	tree := []*actors.Snapshot{root}
	switch f.Kind {
	case "":
	case "coordinator":
		root.Children = []*actors.Snapshot{}
	default:
		tree = root.Children
	}
	writeJSON(w, http.StatusOK, map[string]any{"node_id": cfg.NodeID, "actors": tree, "omitted": t.Omitted,
		"sessions_by_state": t.States})
}

// addTickets gives each queued session of the tree its ticket as the
// matcher sees it: one Redis round trip per mode. Without Redis the
// sessions are listed without it.
func (a *Admin) addTickets(ctx context.Context, cfg *config.Config, root *actors.Snapshot) {
	if a.Cluster == nil {
		return
	}
	type ref struct {
		s              *actors.Snapshot
		ticket, player string
	}
	byMode := map[string][]ref{}
	var walk func(*actors.Snapshot)
	walk = func(s *actors.Snapshot) {
		if s.Kind == "session" && s.State == "queued" {
			mode, _ := s.Details["mode"].(string)
			id, _ := s.Details["ticket_id"].(string)
			player, _ := s.Details["player_id"].(string)
			if mode != "" && id != "" {
				byMode[mode] = append(byMode[mode], ref{s, id, player})
			}
		}
		for _, c := range s.Children {
			walk(c)
		}
	}
	walk(root)
	if len(byMode) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Redis.OpTimeout)
	defer cancel()
	now := a.Node.RedisNowMs()
	for mode, refs := range byMode {
		mc, ok := cfg.ModeByName(mode)
		if !ok {
			continue
		}
		ids, players := make([]string, len(refs)), make([]string, len(refs))
		for i, r := range refs {
			ids[i], players[i] = r.ticket, r.player
		}
		views, err := a.Cluster.TicketViews(ctx, mode, ids, players)
		if err != nil {
			a.Log.Warn("debug actors: ticket views", "mode", mode, "err", err)
			continue
		}
		for _, r := range refs {
			if v, ok := views[r.ticket]; ok {
				r.s.Details["ticket"] = ticketJSON(mc, v, now)
			}
		}
	}
}

// ticketJSON is a waiting ticket as the matcher sees it at nowMs (Redis's
// clock): rating, window, wait against max_wait and the last verdict.
func ticketJSON(m config.Mode, v redisx.TicketView, nowMs int64) map[string]any {
	p := match.Params{Teams: m.Teams, TeamSize: m.TeamSize, InitialWindow: m.Rating.InitialWindow,
		WidenPerSecond: m.Rating.WidenPerSecond, MaxWindow: m.Rating.MaxWindow}
	t := v.Ticket
	since := v.WaitSinceMs
	if since == 0 {
		since = t.QueuedAtMs
	}
	out := map[string]any{
		"ticket_id": t.ID, "mode": t.Mode, "rating": t.Rating, "queued_at_ms": t.QueuedAtMs,
		"wait_since_ms": since, "waited_ms": max(nowMs-since, 0), "max_wait_ms": m.MaxWait.Milliseconds(),
		"window":  p.Window(match.Ticket{Rating: t.Rating, QueuedAtMs: t.QueuedAtMs}, nowMs),
		"verdict": string(actors.VerdictNotLeaderHere), "verdict_at_ms": nil,
	}
	if v.Verdict != nil {
		out["verdict"], out["verdict_at_ms"] = v.Verdict.Verdict, v.Verdict.AtMs
	}
	return out
}

// cluster serves GET /debug/cluster: every live node and every mode's
// lease holder, read from Redis.
func (a *Admin) cluster(w http.ResponseWriter, r *http.Request) {
	if a.Cluster == nil {
		a.unavailable(w, "debug cluster", errNoCluster)
		return
	}
	cfg := a.Config.Get()
	ctx, cancel := context.WithTimeout(r.Context(), cfg.Redis.OpTimeout)
	defer cancel()
	nodes, err := a.Cluster.LiveNodes(ctx)
	if err != nil {
		a.unavailable(w, "debug cluster: live nodes", err)
		return
	}
	modes := a.Node.ModeNames()
	leases, err := a.Cluster.Leases(ctx, modes)
	if err != nil {
		a.unavailable(w, "debug cluster: leases", err)
		return
	}
	now := a.Node.RedisNowMs()
	leading := map[string][]string{}
	outLeases := make([]map[string]any, 0, len(leases))
	for _, l := range leases {
		var holder any
		if l.Holder != "" {
			holder = l.Holder
			leading[l.Holder] = append(leading[l.Holder], l.Mode)
		}
		e := map[string]any{"mode": l.Mode, "holder": holder, "fence": l.Fence, "lease_ttl_ms": max(l.TTLMs, 0),
			"tickets": l.Queued, "last_tick_ms": nil, "tick_took_ms": nil, "oldest_wait_ms": nil}
		if in := l.Insight; in != nil && in.Node == l.Holder {
			e["last_tick_ms"], e["tick_took_ms"], e["oldest_wait_ms"] = in.TickMs, float64(in.TookUs)/1000, in.Oldest
		}
		outLeases = append(outLeases, e)
	}
	outNodes := make([]map[string]any, 0, len(nodes))
	for _, n := range nodes {
		lead := leading[n.Node]
		if lead == nil {
			lead = []string{}
		}
		outNodes = append(outNodes, map[string]any{"node_id": n.Node, "seen_ms": n.SeenMs, "seen_ago_ms": max(now-n.SeenMs, 0),
			"leads": lead, "this_node": n.Node == cfg.NodeID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"node_id": cfg.NodeID, "now_ms": now, "nodes": outNodes, "leases": outLeases})
}
