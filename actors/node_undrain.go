package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// Undrain tells the coordinator that a drain is undone: the node takes
// matching leases and heartbeats again. Rooms handed over during the
// drain stay with their new owners.
type Undrain struct{}

// undrain ends the coordinator's drain and lets each queue lead again.
func (c *coordinator) undrain(ctx actor.Context) {
	if c.draining {
		c.draining = false
		c.heartbeat()
		c.env.queues.Range(func(_, q any) bool {
			ctx.Send(q.(*actor.PID), &ResumeMatching{})
			return true
		})
		c.env.Log.Info("drain undone: leading and taking connections again")
	}
	ctx.Respond(true)
}

// Undrain undoes Drain: the node's queues may take their leases again and
// its liveness key is renewed at once.
func (n *Node) Undrain() {
	_, _ = n.system.Root.RequestFuture(n.coordinator, &Undrain{}, n.env.Cfg().Redis.OpTimeout*3).Result()
}
