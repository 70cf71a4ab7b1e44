package actors

import (
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// DefaultDebugLimit is how many sessions (and rooms) /debug/actors lists
// when the request names no limit.
const DefaultDebugLimit = 500

// askBudget bounds how long one /debug/actors request waits for the actors
// it lists: an actor busy past it is shown from the node's records instead.
const askBudget = 100 * time.Millisecond

// DebugFilter narrows /debug/actors. Empty fields match everything.
type DebugFilter struct {
	// Kind keeps one kind of actor ("coordinator", "queue", "room", "session").
	Kind string
	// State keeps sessions in that state.
	State string
	// Mode keeps the queue, rooms and sessions of that mode.
	Mode string
	// Player keeps sessions whose player id starts with it, and rooms with
	// such a member.
	Player string
	// Limit caps the sessions listed, and separately the rooms (<= 0:
	// DefaultDebugLimit).
	Limit int
}

// DebugTree is the filtered tree and what the filter and the limit left out.
type DebugTree struct {
	Root *Snapshot
	// Omitted counts the sessions and rooms that matched the filter but
	// were left out by the limit.
	Omitted int
	// States counts every local session by state, whatever the filter.
	States map[string]int
}

// hostSession is one session as the node's session host records it.
type hostSession struct {
	player    string
	pid       *actor.PID
	state     string
	mode, ref string
	connected bool
}

// hostSessions reads the session host's records of every local session:
// a lock and a copy per session, no actor asked.
func (n *Node) hostSessions() []hostSession {
	h := n.env.host
	h.mu.Lock()
	slots := make([]*sessionSlot, 0, len(h.slots))
	for _, s := range h.slots {
		slots = append(slots, s)
	}
	h.mu.Unlock()
	out := make([]hostSession, 0, len(slots))
	for _, s := range slots {
		s.mu.Lock()
		if s.registered && s.pid != nil {
			out = append(out, hostSession{player: s.player, pid: s.pid, state: string(s.name), mode: s.mode, ref: s.ref, connected: s.connected})
		}
		s.mu.Unlock()
	}
	return out
}

// DebugSnapshot returns the live actor tree narrowed by f. Sessions are
// picked from the node's session records (a 15k-session node answers in
// milliseconds); only the sessions, rooms and queues listed are asked for
// their snapshot, all at once, within askBudget.
func (n *Node) DebugSnapshot(f DebugFilter) *DebugTree {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultDebugLimit
	}
	deadline := time.Now().Add(askBudget)
	out := &DebugTree{States: map[string]int{}}
	root := n.askAll([]*actor.PID{n.coordinator}, deadline)[0]
	if root == nil {
		root = &Snapshot{ID: "coordinator", Kind: "coordinator", State: "unresponsive", Children: []*Snapshot{}, Details: map[string]any{}}
	}
	kids := []*Snapshot{}
	want := func(kind string) bool { return f.Kind == "" || f.Kind == kind }

	if want("queue") {
		var pids []*actor.PID
		n.env.queues.Range(func(k, v any) bool {
			if f.Mode == "" || k.(string) == f.Mode {
				pids = append(pids, v.(*actor.PID))
			}
			return true
		})
		for _, s := range n.askAll(pids, deadline) {
			if s != nil {
				kids = append(kids, s)
			}
		}
		slices.SortFunc(kids, func(a, b *Snapshot) int { return strings.Compare(a.ID, b.ID) })
	}

	if want("room") {
		var pids []*actor.PID
		n.env.registry.rooms.Range(func(_, v any) bool {
			if pid, ok := v.(*actor.PID); ok {
				pids = append(pids, pid)
			}
			return true
		})
		var rooms []*Snapshot
		for _, s := range n.askAll(pids, deadline) {
			if s != nil && roomMatches(s, f) {
				rooms = append(rooms, s)
			}
		}
		slices.SortFunc(rooms, func(a, b *Snapshot) int { return strings.Compare(a.ID, b.ID) })
		if len(rooms) > limit {
			out.Omitted += len(rooms) - limit
			rooms = rooms[:limit]
		}
		kids = append(kids, rooms...)
	}

	if want("session") {
		all := n.hostSessions()
		var picked []hostSession
		for _, s := range all {
			out.States[s.state]++
			if (f.State == "" || s.state == f.State) && (f.Mode == "" || s.mode == f.Mode) &&
				(f.Player == "" || strings.HasPrefix(s.player, f.Player)) {
				picked = append(picked, s)
			}
		}
		slices.SortFunc(picked, func(a, b hostSession) int { return strings.Compare(a.player, b.player) })
		if len(picked) > limit {
			out.Omitted += len(picked) - limit
			picked = picked[:limit]
		}
		pids := make([]*actor.PID, len(picked))
		for i, s := range picked {
			pids[i] = s.pid
		}
		snaps := n.askAll(pids, deadline)
		sessions := make([]*Snapshot, len(picked))
		for i, s := range picked {
			sessions[i] = snaps[i]
			if sessions[i] == nil {
				sessions[i] = s.snapshot()
			}
		}
		if f.Kind == "session" {
			kids = append(kids, sessions...)
		} else {
			kids = append(kids, &Snapshot{ID: "sessions", Kind: "supervisor", State: "running", Children: sessions,
				Details: map[string]any{"count": len(all), "listed": len(sessions)}})
		}
	}
	root.Children = kids
	out.Root = root
	return out
}

// snapshot is a session's debug view from the node's records, for a
// session that did not answer in time ("answered": false).
func (s hostSession) snapshot() *Snapshot {
	d := map[string]any{"player_id": s.player, "mode": s.mode, "connected": s.connected, "answered": false}
	switch stateName(s.state) {
	case stQueued:
		d["ticket_id"] = s.ref
	case stLoading:
		d["match_id"] = s.ref
	}
	return &Snapshot{ID: "session/" + s.player, Kind: "session", State: s.state, Children: []*Snapshot{}, Details: d}
}

// roomMatches applies the mode and player filters to a room's snapshot.
func roomMatches(s *Snapshot, f DebugFilter) bool {
	if f.Mode != "" && s.Details["mode"] != f.Mode {
		return false
	}
	if f.Player == "" {
		return true
	}
	for _, k := range []string{"ready", "waiting"} {
		if ps, ok := s.Details[k].([]string); ok {
			for _, p := range ps {
				if strings.HasPrefix(p, f.Player) {
					return true
				}
			}
		}
	}
	return false
}

// askAll asks every pid for its snapshot at once and waits for the
// answers until deadline; out[i] is nil for an actor that did not answer.
func (n *Node) askAll(pids []*actor.PID, deadline time.Time) []*Snapshot {
	out := make([]*Snapshot, len(pids))
	futures := make([]*actor.Future, len(pids))
	wait := max(time.Until(deadline), time.Millisecond)
	for i, pid := range pids {
		futures[i] = n.system.Root.RequestFuture(pid, &SnapshotRequest{}, wait)
	}
	for i, f := range futures {
		res, err := f.Result()
		if err != nil {
			continue
		}
		out[i], _ = res.(*Snapshot)
	}
	return out
}

// RedisNowMs is this node's estimate of Redis's clock (unix ms), by which
// waits and windows are judged.
func (n *Node) RedisNowMs() int64 { return n.env.nowMs() }

// ModeNames lists the configured modes, in config order.
func (n *Node) ModeNames() []string { return n.env.modeNames() }
