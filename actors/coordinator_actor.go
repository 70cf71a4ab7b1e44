package actors

import (
	"context"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// spawnRoom asks the coordinator to drive a room on this node.
type spawnRoom struct {
	mode, match string
	adopted     bool
	// room is the state the claim just wrote, so a fresh room need not
	// read it back; nil means read it from Redis (adoption, respawn).
	room *redisx.Room
	// pending is the stand-in the leader registered when it told the
	// members on this node itself; remote are the others, which the room
	// tells (their delivery needs Redis, which the leader's tick should not
	// wait for).
	pending *pendingRoom
	remote  []string
}

type sweepTick struct{}

// coordinator is the root of a node's tree: it supervises the queues, the
// rooms this node drives and the sessions supervisor, keeps the node's
// liveness key fresh, and sweeps for rooms whose owner is gone.
type coordinator struct {
	env      *Env
	rooms    map[string]*roomSeed
	timer    *time.Timer
	draining bool
	// stopping is set once the coordinator began to stop: it spawns no
	// more rooms then, since a child spawned after the stop began is never
	// stopped and holds the node's shutdown until its timeout.
	stopping bool
	restarts int
	epoch    string
}

func (c *coordinator) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.start(ctx)
	case *actor.Restarting:
		c.restarts++
		if c.timer != nil {
			c.timer.Stop()
		}
	case *actor.Stopping:
		c.stopping = true
		if c.timer != nil {
			c.timer.Stop()
		}
	case *spawnRoom:
		if !c.stopping {
			c.spawnRoom(ctx, m)
		}
	case *actor.Terminated:
		if i := strings.LastIndex(m.Who.Id, "/room/"); i >= 0 {
			delete(c.rooms, m.Who.Id[i+len("/room/"):])
		}
	case *sweepTick:
		if !c.stopping {
			c.sweep(ctx)
			c.schedule(ctx)
		}
	case *Drain:
		c.draining = true
		c.env.queues.Range(func(_, q any) bool {
			_, _ = ctx.RequestFuture(q.(*actor.PID), &ReleaseLease{}, c.env.Cfg().Redis.OpTimeout).Result()
			return true
		})
		c.handOverRooms(ctx)
		rctx, cancel := c.env.opCtx()
		if err := c.env.Store.DropNode(rctx, c.env.Node); err != nil {
			c.env.redisErr("drop_node", err)
		}
		cancel()
		ctx.Respond(true)
	case *Undrain:
		c.undrain(ctx)
	case *nodePing:
		ctx.Respond(true)
	case *SnapshotRequest:
		ctx.Respond(&Snapshot{ID: "coordinator", Kind: "coordinator", State: c.state(), Restarts: c.restarts,
			Children: []*Snapshot{}, Details: map[string]any{"node_id": c.env.Node, "rooms": len(c.rooms), "queues": len(c.env.Cfg().Matchmaking.Modes)}})
	case *Crash:
		panic("coordinator: crash injected by /debug/crash")
	}
}

func (c *coordinator) state() string {
	if c.draining {
		return "draining"
	}
	return "running"
}

func (c *coordinator) start(ctx actor.Context) {
	c.rooms = map[string]*roomSeed{}
	// A restarted coordinator's children (queues, rooms) were stopped with
	// it: spawn them anew. The sessions are not its children and live on.
	for _, m := range c.env.Cfg().Matchmaking.Modes {
		// One queue per mode, or one per region of a mode with regions
		// (each with its own lease, so different nodes lead them).
		lanes := []redisx.Lane{{Mode: m.Name}}
		if len(m.Regions) > 0 {
			lanes = lanes[:0]
			for _, r := range m.Regions {
				lanes = append(lanes, redisx.Lane{Mode: m.Name, Region: r})
			}
		}
		for _, l := range lanes {
			seed := &queueSeed{mode: l.Mode, region: l.Region, token: redisx.LeaseToken(c.env.Node, newID())}
			pid, err := ctx.SpawnNamed(newQueueProps(c.env, seed), "queue/"+l.String())
			if err != nil {
				c.env.Log.Error("spawn queue", "queue", l.String(), "err", err)
				continue
			}
			c.env.queues.Store(l.String(), pid)
		}
	}
	c.heartbeat()
	c.checkEpoch(ctx)
	// Rooms this node drove before a restart resume at once rather than at
	// their deadline: the sweep spawns every room of this node that has no
	// local actor.
	c.sweep(ctx)
	c.schedule(ctx)
}

// checkEpoch notices that Redis lost its data and has every local session
// re-assert its player's ticket, so no queued player is lost.
func (c *coordinator) checkEpoch(ctx actor.Context) {
	rctx, cancel := c.env.opCtx()
	cur, err := c.env.Store.Epoch(rctx, newID())
	cancel()
	if err != nil {
		return
	}
	if c.epoch == "" || c.epoch == cur {
		c.epoch = cur
		c.env.epoch.Store(cur)
		return
	}
	c.epoch = cur
	c.env.epoch.Store(cur)
	c.env.Log.Warn("redis lost its data: re-asserting the tickets of connected players")
	n := 0
	c.env.registry.sessions.Range(func(_, v any) bool {
		ctx.Send(v.(*actor.PID), &Reassert{})
		n++
		return true
	})
	c.env.Log.Info("re-assert sent", "sessions", n)
}

// heartbeatInterval is how often a node renews its liveness key.
func heartbeatInterval(cfg config.Rooms) time.Duration {
	return min(cfg.SweepInterval, cfg.NodeTTL/3)
}

func (c *coordinator) schedule(ctx actor.Context) {
	self, sys := ctx.Self(), ctx.ActorSystem()
	d := heartbeatInterval(c.env.Cfg().Rooms)
	c.timer = time.AfterFunc(d, func() { sys.Root.Send(self, &sweepTick{}) })
}

func (c *coordinator) heartbeat() {
	if c.draining {
		return
	}
	if c.env.stall.wokeWithin(300 * time.Millisecond) {
		// Just woke from a stall: the sessions serve what they read first
		// (rooms elsewhere wait for this heartbeat before judging no-shows).
		return
	}
	rctx, cancel := c.env.opCtx()
	defer cancel()
	if err := c.env.Store.TouchNode(rctx, c.env.Node, c.env.Cfg().Rooms.NodeTTL); err != nil {
		c.env.redisErr("touch_node", err)
	}
}

func (c *coordinator) spawnRoom(ctx actor.Context, m *spawnRoom) {
	if _, ok := c.rooms[m.match]; ok {
		return
	}
	seed := &roomSeed{mode: m.mode, match: m.match, adopted: m.adopted, fresh: m.room, notified: m.pending != nil && len(m.remote) == 0, remote: m.remote}
	pid, err := ctx.SpawnNamed(newRoomProps(c.env, seed), "room/"+m.match)
	if err != nil {
		c.env.Log.Error("spawn room", "match", m.match, "err", err)
		if m.pending != nil {
			c.env.registry.rooms.CompareAndDelete(m.match, m.pending)
		}
		return
	}
	c.rooms[m.match] = seed
	ctx.Watch(pid)
}

// sweep adopts rooms whose owner node is gone (at once) or that their owner
// left unresolved past the deadline plus rooms.adopt_after, so a dead or
// stuck node strands no player and leaves no key behind.
func (c *coordinator) sweep(ctx actor.Context) {
	c.heartbeat()
	c.checkEpoch(ctx)
	if c.draining {
		return
	}
	cfg := c.env.Cfg()
	rctx, cancel := c.env.opCtx()
	defer cancel()
	if bans, err := c.env.Sanctions.ActiveBans(rctx); err == nil {
		c.env.Metrics.BansActive.Set(float64(len(bans)))
	}
	if c.env.Parties != nil {
		if n, err := c.env.Parties.PartiesCount(rctx); err == nil {
			c.env.Metrics.Parties.Set(float64(n))
		}
	}
	alive := map[string]bool{c.env.Node: true}
	isAlive := func(node string) bool {
		up, seen := alive[node]
		if !seen {
			var err error
			if up, err = c.env.Store.NodeAlive(rctx, node); err != nil {
				up = true // unknown: leave the room to its owner this time
			}
			alive[node] = up
		}
		return up
	}
	for _, mode := range cfg.Matchmaking.Modes {
		owners, err := c.env.Store.RoomOwners(rctx, mode.Name)
		if err != nil {
			c.env.redisErr("room_owners", err, "mode", mode.Name)
			return
		}
		if len(owners) == 0 {
			continue
		}
		overdueRefs, err := c.env.Store.OverdueRooms(rctx, mode.Name, cfg.Rooms.AdoptAfter)
		if err != nil {
			c.env.redisErr("overdue_rooms", err, "mode", mode.Name)
			return
		}
		overdue := make(map[string]bool, len(overdueRefs))
		for _, r := range overdueRefs {
			overdue[r.MatchID] = true
		}
		for match, owner := range owners {
			if _, local := c.rooms[match]; local {
				continue
			}
			why := redisx.AdoptDead
			switch {
			case owner == c.env.Node:
				// A room of this node without a local actor: one the leader is
				// handing over (registered before its claim) is left to it;
				// one whose actor was lost (a coordinator restart, a room
				// past its restart budget) is driven again at once.
				if c.env.registry.hasRoom(match) {
					continue
				}
			case owner != "" && isAlive(owner):
				if !overdue[match] {
					continue
				}
				why = redisx.AdoptOverdue
			}
			c.adopt(ctx, rctx, mode.Name, match, owner, why)
		}
	}
}

func (c *coordinator) adopt(ctx actor.Context, rctx context.Context, mode, match, owner string, why redisx.AdoptWhy) {
	r, ok, err := c.env.Store.Room(rctx, mode, match)
	if err != nil {
		c.env.redisErr("room", err, "match", match)
		return
	}
	if !ok {
		c.forget(rctx, mode, match)
		return
	}
	if !r.State.Open() {
		return // resolved meanwhile; the resolve took it out of the indexes
	}
	if r.Owner != c.env.Node {
		adopted, err := c.env.Store.AdoptRoom(rctx, mode, match, r.Owner, c.env.Node, why, c.env.Cfg().Rooms.AdoptAfter, c.env.allocBudget())
		if err != nil || !adopted {
			return
		}
		c.env.Metrics.RoomsAdopted.WithLabelValues(mode).Inc()
		c.env.Log.Info("room adopted", "match", match, "mode", mode, "from", owner)
	}
	c.spawnRoom(ctx, &spawnRoom{mode: mode, match: match, adopted: true})
}

// handOverRooms gives every room this node drives up to the other nodes
// before the node's liveness key goes: each room actor first lets an
// allocation in flight end (so nobody asks for a second game server), then
// hands its room over in Redis and stops, and another node adopts it at
// once. Never two nodes driving one room.
func (c *coordinator) handOverRooms(ctx actor.Context) {
	var futures []*actor.Future
	c.env.registry.rooms.Range(func(_, v any) bool {
		if pid, ok := v.(*actor.PID); ok {
			futures = append(futures, ctx.RequestFuture(pid, &HandOver{}, c.env.allocBudget()+c.env.Cfg().Redis.OpTimeout))
		}
		return true
	})
	for _, f := range futures {
		if _, err := f.Result(); err != nil {
			c.env.Log.Warn("a room was not handed over in time", "err", err)
		}
	}
	if len(futures) > 0 {
		c.env.Log.Info("rooms handed over", "rooms", len(futures))
	}
}

// forget cleans up after a room whose record vanished unresolved (its TTL
// passed while every node was down, or Redis evicted it): its players are
// freed and told match_cancelled (room_lost), each through its outcomes
// and at once through the bus; their sessions requeue them with their
// queue time. Whoever's forget freed the room counts the cancellation.
func (c *coordinator) forget(rctx context.Context, mode, match string) {
	st, freed, err := c.env.Store.ForgetRoom(rctx, mode, match)
	if err != nil {
		c.env.redisErr("forget_room", err, "match", match)
		return
	}
	if st != redisx.ForgetDone {
		return
	}
	c.env.Metrics.MatchesCancelled.WithLabelValues(mode, protocol.ReasonRoomLost).Inc()
	c.env.Log.Warn("room record lost; its players are freed", "match", match, "mode", mode, "players", freed)
	c.env.Events.Emit("match_cancelled", map[string]any{"match_id": match, "mode": mode, "reason": protocol.ReasonRoomLost, "no_shows": []string{}})
	if len(freed) == 0 {
		return
	}
	// Mark the lost match reported so the members' sessions, which requeue
	// themselves, do not count it again.
	if _, err := c.env.Store.FirstToReportLost(rctx, mode, match, c.env.Cfg().Session.OutcomeTTL); err != nil {
		c.env.redisErr("report_lost", err, "match", match)
	}
	recs := make(map[string]redisx.Outcome, len(freed))
	for _, p := range freed {
		recs[p] = redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: match, Mode: mode, Reason: protocol.ReasonRoomLost}
	}
	if err := c.env.Store.PushOutcomes(rctx, mode, recs, c.env.Cfg().Session.OutcomeTTL); err != nil {
		c.env.redisErr("push_outcomes", err, "match", match)
	}
	c.env.bus.ToPlayers(kindMatchCancelled, freed, &MatchCancelledMsg{MatchID: match, Mode: mode, Reason: protocol.ReasonRoomLost, NoShows: []string{}}, nil)
}
