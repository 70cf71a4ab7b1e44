package actors

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// roomSeed is what a room actor keeps across restarts: whether the members
// were already told of the match, so a restart never sends match_found
// twice, and the allocation this process has in flight or has finished, so
// a restart never asks for a second game server.
type roomSeed struct {
	mode, match string
	adopted     bool
	notified    bool
	// remote, when set, are the only members left to notify: the leader
	// told the ones with sessions on this node itself.
	remote   []string
	restarts int
	// fresh is the room as its claim wrote it, used once instead of a read.
	fresh *redisx.Room
	// allocating is set while this process's allocator call is in flight
	// (its result reaches the room's actor, whichever incarnation); server
	// holds a result whose start is not recorded yet.
	allocating bool
	allocSince time.Time
	server     json.RawMessage
	// handover is the drain waiting for this room to be given up (after an
	// allocation in flight ends).
	handover *actor.PID
}

// roomActor drives one loading room through its deadline: it relays each
// member's progress to the others, starts the match when all loaded and
// cancels it at the deadline. Redis holds the room; the actor reloads it
// after a restart.
type roomActor struct {
	env   *Env
	seed  *roomSeed
	room  redisx.Room
	timer *time.Timer
	gen   int
}

type roomDeadline struct{ gen int }

func newRoomProps(env *Env, seed *roomSeed) *actor.Props {
	return env.props(func() actor.Actor { return &roomActor{env: env, seed: seed} })
}

func (a *roomActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.env.registry.roomStarted(ctx, a.seed.match)
		a.start(ctx)
	case *actor.Restarting:
		a.seed.restarts++
		a.stopTimer()
	case *actor.Stopping:
		a.stopTimer()
		a.env.registry.rooms.CompareAndDelete(a.seed.match, ctx.Self())
	case *MemberReadyMsg:
		a.memberReady(ctx, m)
	case *roomDeadline:
		if m.gen == a.gen {
			a.deadline(ctx)
		}
	case *allocResult:
		a.allocated(ctx, m)
	case *RoomResolvedMsg:
		ctx.Stop(ctx.Self())
	case *HandOver:
		a.handOver(ctx)
	case *SnapshotRequest:
		ctx.Respond(a.snapshot())
	case *nodePing:
		ctx.Respond(true)
	case *Crash:
		panic("room: crash injected by /debug/crash")
	}
}

func (a *roomActor) log() []any { return []any{"match", a.seed.match, "mode", a.seed.mode} }

// load refreshes the room from Redis; false means it is resolved or gone.
func (a *roomActor) load() (bool, error) {
	ctx, cancel := a.env.opCtx()
	defer cancel()
	r, ok, err := a.env.Store.Room(ctx, a.seed.mode, a.seed.match)
	if err != nil {
		a.env.redisErr("room_load", err, a.log()...)
		return false, err
	}
	if !ok {
		return false, nil
	}
	a.room = r
	return r.State.Open(), nil
}

func (a *roomActor) start(ctx actor.Context) {
	var open bool
	var err error
	if r := a.seed.fresh; r != nil {
		a.seed.fresh = nil
		a.room, open = *r, true
	} else {
		open, err = a.load()
	}
	if err != nil {
		// Redis is away: retry at the next tick of the deadline timer.
		a.schedule(ctx, a.env.Cfg().Redis.RetryInterval)
		return
	}
	if !open {
		a.stop(ctx)
		return
	}
	if !a.seed.notified && !a.seed.adopted {
		a.seed.notified = true
		members := a.room.Members
		if a.seed.remote != nil {
			members = a.seed.remote
		}
		a.env.bus.ToPlayers(kindMatchFound, members, &MatchFoundMsg{
			MatchID: a.room.MatchID, Mode: a.room.Mode, Region: a.room.Region, Teams: a.room.Teams,
			DeadlineMs: a.room.DeadlineMs, Owner: a.env.Node, Tickets: a.room.TicketIDs(),
		}, nil)
	}
	a.advance(ctx)
}

// advance moves an open room on from what a.room holds: on with its
// allocation, to the start once everyone loaded, or to its deadline.
func (a *roomActor) advance(ctx actor.Context) {
	switch {
	case a.room.State == redisx.RoomAllocating:
		a.allocate(ctx)
	case a.allReady():
		a.startMatch(ctx)
	default:
		a.schedule(ctx, a.env.untilMs(a.room.DeadlineMs))
	}
}

// stop ends the actor; a drain waiting for the room is told.
func (a *roomActor) stop(ctx actor.Context) {
	if h := a.seed.handover; h != nil {
		a.seed.handover = nil
		ctx.Send(h, &HandedOver{Match: a.seed.match})
	}
	ctx.Stop(ctx.Self())
}

func (a *roomActor) schedule(ctx actor.Context, d time.Duration) {
	a.stopTimer()
	a.gen++
	gen, self, sys := a.gen, ctx.Self(), ctx.ActorSystem()
	a.timer = time.AfterFunc(max(d, 0), func() { sys.Root.Send(self, &roomDeadline{gen: gen}) })
}

func (a *roomActor) stopTimer() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

func (a *roomActor) allReady() bool {
	for _, p := range a.room.Members {
		if !a.room.Ready[p] {
			return false
		}
	}
	return true
}

func (a *roomActor) memberReady(ctx actor.Context, m *MemberReadyMsg) {
	if a.room.State != redisx.RoomLoading {
		return
	}
	// Each member that loaded gets one loading_status sent to every other
	// member. A report can carry members whose own reports have not arrived
	// yet (they loaded at the same moment): announce those here, once, with
	// the reporter last, and skip them when their own reports arrive.
	fresh := make([]string, 0, len(m.Ready))
	for _, p := range m.Ready {
		if !a.room.Ready[p] && p != m.Player && slices.Contains(a.room.Members, p) {
			fresh = append(fresh, p)
		}
	}
	if !a.room.Ready[m.Player] {
		fresh = append(fresh, m.Player)
	}
	for _, p := range fresh {
		a.room.Ready[p] = true
		ready := make([]string, 0, len(a.room.Members))
		waiting := make([]string, 0, len(a.room.Members))
		for _, q := range a.room.Members {
			if a.room.Ready[q] {
				ready = append(ready, q)
			} else {
				waiting = append(waiting, q)
			}
		}
		others := slices.DeleteFunc(slices.Clone(a.room.Members), func(q string) bool { return q == p })
		a.env.bus.ToPlayers(kindLoadingStatus, others, &LoadingStatusMsg{MatchID: a.room.MatchID, Ready: ready, Waiting: waiting}, nil)
	}
	if m.Started {
		// The reporter's mark started the match in Redis. The room still
		// tells every member, itself included, so each hears of every load
		// before match_ready.
		a.room.State = redisx.RoomStarted
		a.env.bus.ToPlayers(kindMatchReady, a.room.Members, &MatchReadyMsg{MatchID: a.room.MatchID, Server: json.RawMessage("null")}, nil)
		a.stop(ctx)
		return
	}
	if a.allReady() {
		a.startMatch(ctx)
	}
}

// startMatch runs once every member loaded: allocate a server, then start.
func (a *roomActor) startMatch(ctx actor.Context) {
	if a.env.Allocator == nil {
		a.finish(ctx, redisx.Resolution{Outcome: redisx.ResolveStart})
		return
	}
	rctx, cancel := a.env.opCtx()
	out, err := a.env.Store.Resolve(rctx, a.room.Mode, a.room.MatchID, a.room.Members, redisx.Resolution{
		Outcome: redisx.ResolveAllocating, FinishedTTL: a.env.Cfg().Rooms.FinishedTTL, OutcomeTTL: a.env.Cfg().Session.OutcomeTTL})
	cancel()
	if err != nil {
		a.env.redisErr("resolve_room", err, a.log()...)
		a.schedule(ctx, a.env.Cfg().Redis.RetryInterval)
		return
	}
	switch {
	case out.Status == redisx.ResolveOK, out.Status == redisx.ResolveAlready && out.State == redisx.RoomAllocating:
		a.room.State = redisx.RoomAllocating
		a.allocate(ctx)
	default:
		a.stop(ctx)
	}
}

// deadline runs when the room's deadline is due by the node's estimate of
// Redis's clock; Redis's own clock decides (a resolve asked early is
// refused, with the time left).
func (a *roomActor) deadline(ctx actor.Context) {
	open, err := a.load()
	if err != nil {
		a.schedule(ctx, a.env.Cfg().Redis.RetryInterval)
		return
	}
	if !open {
		a.stop(ctx)
		return
	}
	if a.room.State == redisx.RoomAllocating || a.allReady() {
		a.advance(ctx)
		return
	}
	if wait := a.env.untilMs(a.room.DeadlineMs); wait > 0 {
		a.schedule(ctx, wait)
		return
	}
	if wait := a.stalledMembers(); wait > 0 {
		// A member's node was stalled across the deadline and may yet
		// deliver a loading_complete that reached it in time: judge once it
		// has caught up.
		a.schedule(ctx, wait)
		return
	}
	a.finish(ctx, redisx.Resolution{Outcome: redisx.ResolveCancel, Reason: protocol.ReasonLoadingTimeout})
}

func (a *roomActor) finish(ctx actor.Context, res redisx.Resolution) {
	out, err := a.env.resolveRoom(a.room, res)
	if err != nil {
		a.schedule(ctx, a.env.Cfg().Redis.RetryInterval)
		return
	}
	switch out.Status {
	case redisx.ResolveNotReady:
		a.schedule(ctx, a.env.untilMs(a.room.DeadlineMs))
		return
	case redisx.ResolveNotDue:
		// This node's clock ran ahead of Redis's: wait out the rest.
		a.schedule(ctx, out.Left)
		return
	}
	a.stop(ctx)
}

func (a *roomActor) snapshot() *Snapshot {
	var ready, waiting []string
	for _, p := range a.room.Members {
		if a.room.Ready[p] {
			ready = append(ready, p)
		} else {
			waiting = append(waiting, p)
		}
	}
	return &Snapshot{
		ID: "room/" + a.seed.match, Kind: "room", State: string(a.room.State), Restarts: a.seed.restarts,
		Children: []*Snapshot{},
		Details: map[string]any{
			"match_id": a.seed.match, "mode": a.seed.mode, "teams": a.room.Teams,
			"ready": nonNil(ready), "waiting": nonNil(waiting), "deadline_ms": a.room.DeadlineMs,
			"adopted": a.seed.adopted,
		},
	}
}
