package actors

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// registry maps live local actors by player and by match, for the bus.
type registry struct {
	sessions sync.Map // player id -> *actor.PID
	rooms    sync.Map // match id -> *actor.PID, or *pendingRoom while spawning
}

// pendingRoom stands in for a room actor that is being spawned. The leader
// tells the members of a match at once, before the coordinator has spawned
// the room, so a member may report in first: its messages wait here and
// reach the actor, in order, when it starts.
type pendingRoom struct {
	mu   sync.Mutex
	msgs []any
	pid  *actor.PID // set when the actor started; then sends go straight to it
}

// pend registers a pending room for match.
func (r *registry) pend(match string) *pendingRoom {
	p := &pendingRoom{}
	r.rooms.Store(match, p)
	return p
}

// roomStarted swaps the room actor pid in for its pending stand-in and
// hands the actor what waited for it.
func (r *registry) roomStarted(ctx actor.Context, match string) {
	v, _ := r.rooms.Swap(match, ctx.Self())
	p, ok := v.(*pendingRoom)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.msgs {
		ctx.Send(ctx.Self(), m)
	}
	p.msgs, p.pid = nil, ctx.Self()
}

// toRoom delivers msg to the local room of match, or holds it while that
// room is being spawned; false when the node has no such room.
func (r *registry) toRoom(sys *actor.ActorSystem, match string, msg any) bool {
	v, ok := r.rooms.Load(match)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case *actor.PID:
		sys.Root.Send(x, msg)
	case *pendingRoom:
		x.mu.Lock()
		if x.pid == nil {
			x.msgs = append(x.msgs, msg)
			x.mu.Unlock()
			return true
		}
		pid := x.pid
		x.mu.Unlock()
		sys.Root.Send(pid, msg)
	}
	return true
}

// hasRoom reports whether match has a local room actor or one being spawned.
func (r *registry) hasRoom(match string) bool {
	_, ok := r.rooms.Load(match)
	return ok
}

func (r *registry) session(player string) *actor.PID {
	if v, ok := r.sessions.Load(player); ok {
		return v.(*actor.PID)
	}
	return nil
}

// room is the pid of the started local room actor of match, or nil.
func (r *registry) room(match string) *actor.PID {
	if v, ok := r.rooms.Load(match); ok {
		pid, _ := v.(*actor.PID)
		return pid
	}
	return nil
}

// Bus delivers messages to session and room actors wherever they run: to the
// local actor directly, else through the owning node's Pub/Sub channel. A
// message may be lost (Pub/Sub, a node dying); receivers reconcile with
// Redis, so the bus is the fast path and Redis the truth.
type Bus struct {
	env *Env
}

func (b *Bus) decode(kind string, body json.RawMessage) (any, bool) {
	var v any
	switch kind {
	case kindMatchFound:
		v = &MatchFoundMsg{}
	case kindLoadingStatus:
		v = &LoadingStatusMsg{}
	case kindMatchReady:
		v = &MatchReadyMsg{}
	case kindMatchCancelled:
		v = &MatchCancelledMsg{}
	case kindDequeued:
		v = &DequeuedMsg{}
	case kindReplaced:
		v = &SessionReplacedMsg{}
	case kindMemberReady:
		v = &MemberReadyMsg{}
	case kindRoomResolved:
		v = &RoomResolvedMsg{}
	case kindParty:
		v = &PartyMsg{}
	case kindPartyInvite:
		v = &PartyInviteMsg{}
	case kindPartyLeft:
		v = &PartyLeftMsg{}
	case kindPartyQueued:
		v = &PartyQueuedMsg{}
	default:
		return nil, false
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, false
	}
	return v, true
}

// Receive handles one payload from this node's channel.
func (b *Bus) Receive(payload []byte) {
	var env BusEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		b.env.Log.Warn("bus: undecodable message", "err", err)
		return
	}
	b.env.Metrics.BusMessages.WithLabelValues("received").Inc()
	if env.Match != "" {
		msg, ok := b.decode(env.Kind, env.Body)
		if !ok {
			return
		}
		b.env.registry.toRoom(b.env.system, env.Match, msg)
		return
	}
	for _, p := range env.Players {
		// Each actor gets its own copy: messages are not shared mutable state.
		msg, ok := b.decode(env.Kind, env.Body)
		if !ok {
			return
		}
		if pid := b.env.registry.session(p); pid != nil {
			b.env.system.Root.Send(pid, msg)
		} else {
			b.env.Metrics.BusMessages.WithLabelValues("dropped").Inc()
		}
	}
}

// ToPlayers delivers msg (one of the session messages) to each player's
// session, local or remote. Messages to one player keep their order.
func (b *Bus) ToPlayers(kind string, players []string, msg any, copyFor func(player string) any) {
	remote := b.toLocal(players, msg, copyFor)
	if len(remote) == 0 {
		return
	}
	ctx, cancel := b.env.opCtx()
	defer cancel()
	nodes, err := b.env.Store.DirNodes(ctx, remote)
	if err != nil {
		b.env.redisErr("dir_nodes", err)
		return
	}
	byNode := map[string][]string{}
	for _, p := range remote {
		n, ok := nodes[p]
		if !ok || n == b.env.Node {
			// No live session anywhere (or a stale local entry): the player
			// resumes from Redis when it reconnects.
			b.env.Metrics.BusMessages.WithLabelValues("dropped").Inc()
			continue
		}
		byNode[n] = append(byNode[n], p)
	}
	for n, ps := range byNode {
		if copyFor != nil {
			// Per-player bodies: one envelope each.
			for _, p := range ps {
				b.publish(ctx, n, BusEnvelope{Kind: kind, Players: []string{p}}, copyFor(p))
			}
			continue
		}
		b.publish(ctx, n, BusEnvelope{Kind: kind, Players: ps}, msg)
	}
}

// toLocal delivers msg to the players whose sessions live on this node and
// returns the others (never nil).
func (b *Bus) toLocal(players []string, msg any, copyFor func(player string) any) []string {
	remote := make([]string, 0)
	for _, p := range players {
		if pid := b.env.registry.session(p); pid != nil {
			m := msg
			if copyFor != nil {
				m = copyFor(p)
			}
			b.env.system.Root.Send(pid, m)
			continue
		}
		remote = append(remote, p)
	}
	return remote
}

// ToRoom delivers msg to the room actor of match on node owner.
func (b *Bus) ToRoom(owner, match, kind string, msg any) {
	if owner == b.env.Node || owner == "" {
		b.env.registry.toRoom(b.env.system, match, msg)
		return
	}
	ctx, cancel := b.env.opCtx()
	defer cancel()
	b.publish(ctx, owner, BusEnvelope{Kind: kind, Match: match}, msg)
}

// ToNodeSession tells one session on a given node that it was replaced.
func (b *Bus) ToNodeSession(node, player string, msg *SessionReplacedMsg) {
	ctx, cancel := b.env.opCtx()
	defer cancel()
	b.publish(ctx, node, BusEnvelope{Kind: kindReplaced, Players: []string{player}}, msg)
}

func (b *Bus) publish(ctx context.Context, node string, env BusEnvelope, body any) {
	if cfg := b.env.Cfg().Debug; cfg.FaultInjection && slices.Contains(cfg.DropBus, env.Kind) {
		// Fault injection: the message is lost, as Pub/Sub may lose any.
		b.env.Metrics.BusMessages.WithLabelValues("dropped").Inc()
		return
	}
	raw, err := json.Marshal(body)
	if err != nil {
		b.env.Log.Error("bus: encode", "err", err)
		return
	}
	env.Body = raw
	payload, err := json.Marshal(env)
	if err != nil {
		b.env.Log.Error("bus: encode", "err", err)
		return
	}
	if err := b.env.Store.Publish(ctx, node, payload); err != nil {
		b.env.redisErr("publish", err, "node", node)
		return
	}
	b.env.Metrics.BusMessages.WithLabelValues("sent").Inc()
}
