package actors

import (
	"strings"

	"github.com/asynkron/protoactor-go/actor"
)

// sessionsManager creates a player's session actor on its first attach and
// watches it. It is not the session actors' parent: they hang off a root
// guardian with the node's supervision strategy (restart a crashed session,
// at most supervision.max_restarts per window), so neither a crash of this
// manager nor one of the coordinator stops a single session, and the
// gateway's PID for a session stays valid for the session's whole life.
type sessionsManager struct {
	env      *Env
	restarts int
}

func (s *sessionsManager) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Restarting:
		s.restarts++
	case *Attach:
		pid := s.env.registry.session(m.Player.ID)
		if pid == nil {
			seed := &sessionSeed{player: m.Player, st: sessionState{Name: stIdle}}
			var err error
			pid, err = s.env.sessionRoot.SpawnNamed(newSessionProps(s.env, seed), "session/"+m.Player.ID)
			if err != nil {
				// The previous actor of this player is still stopping.
				ctx.Respond(&Attached{Err: err})
				return
			}
			s.env.registry.sessions.Store(m.Player.ID, pid)
			ctx.Watch(pid)
		}
		ctx.Forward(pid)
	case *actor.Terminated:
		if i := strings.LastIndex(m.Who.Id, "session/"); i >= 0 {
			player := m.Who.Id[i+len("session/"):]
			if pid := s.env.registry.session(player); pid != nil && pid.Id == m.Who.Id {
				s.env.registry.sessions.CompareAndDelete(player, pid)
			}
		}
	case *actor.Started:
		// A restarted manager watches the live sessions again, so it still
		// hears when each stops.
		s.env.registry.sessions.Range(func(_, v any) bool {
			ctx.Watch(v.(*actor.PID))
			return true
		})
	case *SnapshotRequest:
		ctx.Respond(&Snapshot{ID: "sessions", Kind: "supervisor", State: "running", Restarts: s.restarts,
			Children: []*Snapshot{}, Details: map[string]any{"count": s.env.host.count()}})
	case *nodePing:
		ctx.Respond(true)
	case *Crash:
		panic("sessions: crash injected by /debug/crash")
	}
}
