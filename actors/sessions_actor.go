package actors

import (
	"strings"

	"github.com/asynkron/protoactor-go/actor"
)

// sessionsSupervisor is the parent of every session actor on the node: it
// creates a player's actor on first attach and restarts it on a crash.
type sessionsSupervisor struct {
	env *Env
}

func (s *sessionsSupervisor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Attach:
		pid := s.env.registry.session(m.Player.ID)
		if pid == nil {
			seed := &sessionSeed{player: m.Player}
			var err error
			pid, err = ctx.SpawnNamed(newSessionProps(s.env, seed), "session/"+m.Player.ID)
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
		if i := strings.LastIndex(m.Who.Id, "/session/"); i >= 0 {
			player := m.Who.Id[i+len("/session/"):]
			if pid := s.env.registry.session(player); pid != nil && pid.Id == m.Who.Id {
				s.env.registry.sessions.CompareAndDelete(player, pid)
			}
		}
	}
}
