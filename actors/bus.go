package actors

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// registry maps live local actors by player and by match, for the bus.
type registry struct {
	sessions sync.Map // player id -> *actor.PID
	rooms    sync.Map // match id -> *actor.PID
}

func (r *registry) session(player string) *actor.PID {
	if v, ok := r.sessions.Load(player); ok {
		return v.(*actor.PID)
	}
	return nil
}

func (r *registry) room(match string) *actor.PID {
	if v, ok := r.rooms.Load(match); ok {
		return v.(*actor.PID)
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
		if pid := b.env.registry.room(env.Match); pid != nil {
			b.env.system.Root.Send(pid, msg)
		}
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
	var remote []string
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

// ToRoom delivers msg to the room actor of match on node owner.
func (b *Bus) ToRoom(owner, match, kind string, msg any) {
	if owner == b.env.Node || owner == "" {
		if pid := b.env.registry.room(match); pid != nil {
			b.env.system.Root.Send(pid, msg)
		}
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
