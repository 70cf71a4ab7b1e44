package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// ErrNotFound reports an actor id that does not exist on this node.
var ErrNotFound = errors.New("actors: no such actor")

// supervisor is the strategy of every parent in the tree: restart a crashed
// child, at most supervision.max_restarts times per supervision.window; past
// that the child is stopped, and the sweeper (rooms) or the player's next
// connection (sessions) brings it back.
func supervisor(s config.Supervision) actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(s.MaxRestarts, s.Window, actor.DefaultDecider)
}

// Node is one node's running actor tree, as the gateway and admin endpoints
// use it.
type Node struct {
	env         *Env
	system      *actor.ActorSystem
	coordinator *actor.PID
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	stopOnce    sync.Once
}

// Subscriber is the part of Redis the node listens on.
type Subscriber interface {
	Subscribe(ctx context.Context, node string, fn func([]byte), onSubscribed func(), log *slog.Logger)
}

// Start builds the actor system, subscribes to this node's bus channel and
// spawns the coordinator. It returns once the subscription is in place, so
// no message addressed to this node is missed after start-up.
func Start(env *Env, sub Subscriber) (*Node, error) {
	if env.Clock == nil {
		env.Clock = redisx.NewClock(nil)
	}
	if env.Sanctions == nil {
		env.Sanctions = NoSanctions
	}
	if env.Parties == nil {
		ps, ok := env.Store.(PartyStore)
		if !ok {
			return nil, errors.New("actors: Env.Parties is required when Store does not keep parties")
		}
		env.Parties = ps
	}
	if rc, ok := env.Store.(*redisx.Client); ok && rc.Regions == nil {
		// Which regions' pools list a ticket, by the mode's config
		// (regions need a restart; the latency cap reloads live).
		rc.Regions = func(mode string) redisx.ModeRegions {
			m, ok := env.Cfg().ModeByName(mode)
			if !ok {
				return redisx.ModeRegions{}
			}
			var home []string
			for _, r := range env.Cfg().Matchmaking.HomeRegions {
				if slices.Contains(m.Regions, r) {
					home = append(home, r)
				}
			}
			return redisx.ModeRegions{Regions: m.Regions, MaxMsLimit: m.Latency.MaxMsLimit, Home: home}
		}
	}
	logger := env.Log.With("component", "protoactor")
	env.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }))
	env.workers = newWorkers(300, time.Second)
	env.registry = &registry{}
	env.bus = &Bus{env: env}
	env.host = newSessionHost(env)
	env.stall = newStallWatch(env.Clock, func(gap time.Duration) {
		env.Log.Warn("this node was stalled (stopped or starved): late reads count from the stall's start", "stalled_for", gap.String())
	})
	if c, ok := env.Store.(interface{ ExcuseFailuresWhile(func() bool) }); ok {
		// Calls that fail while this node catches up after a stall are its
		// own doing, not Redis's.
		c.ExcuseFailuresWhile(func() bool { return env.stall.wokeWithin(catchUp) })
	}
	env.incarnation = env.Node + ":" + newID()[:8]
	env.sessionRoot = actor.NewRootContext(env.system, nil).WithGuardian(supervisor(env.Cfg().Supervision))
	n := &Node{env: env, system: env.system}
	env.system.EventStream.Subscribe(func(evt any) {
		if e, ok := evt.(*actor.SupervisorEvent); ok {
			kind := kindOf(e.Child.Id)
			env.Metrics.ActorRestarts.WithLabelValues(kind).Inc()
			env.Log.Warn("actor restarted", "actor", e.Child.Id, "kind", kind, "reason", fmt.Sprint(e.Reason), "directive", e.Directive.String())
			env.Events.Emit("actor_restarted", map[string]any{"actor": e.Child.Id, "kind": kind})
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	subscribed := make(chan struct{})
	var first atomic.Bool
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		sub.Subscribe(ctx, env.Node, env.bus.Receive, func() {
			if first.CompareAndSwap(false, true) {
				close(subscribed)
				return
			}
			// Resubscribed after a lost connection: whatever was published
			// meanwhile is lost, so every local session is compared with
			// Redis at once (in one batch), not at its next interval.
			env.Log.Info("bus resubscribed: reconciling local sessions")
			env.host.reconcileAll()
		}, env.Log)
	}()
	select {
	case <-subscribed:
	case <-time.After(env.Cfg().Redis.StartupTimeout):
		cancel()
		return nil, errors.New("actors: bus subscription did not start")
	}
	mgr, err := env.sessionRoot.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &sessionsManager{env: env}
	}), "sessions")
	if err != nil {
		cancel()
		return nil, err
	}
	env.sessions = mgr
	env.host.start()
	pid, err := env.system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &coordinator{env: env}
	}, actor.WithSupervisor(supervisor(env.Cfg().Supervision))), "coordinator")
	if err != nil {
		cancel()
		env.host.close()
		return nil, err
	}
	n.coordinator = pid
	env.coordinator = pid
	// Started runs before any request, so an answer means the queues and
	// the sessions supervisor exist: the node can take connections.
	if _, err := env.system.Root.RequestFuture(pid, &SnapshotRequest{}, env.Cfg().Redis.StartupTimeout).Result(); err != nil {
		cancel()
		return nil, fmt.Errorf("actors: coordinator did not start: %w", err)
	}
	return n, nil
}

// kindOf maps an actor id to its kind for metrics.
func kindOf(id string) string {
	switch {
	case strings.HasPrefix(id, "session/") || strings.Contains(id, "/session/"):
		return "session"
	case strings.Contains(id, "/room/"):
		return "room"
	case strings.Contains(id, "/queue/"):
		return "queue"
	case id == "sessions" || strings.HasSuffix(id, "/sessions"):
		return "supervisor"
	default:
		return "coordinator"
	}
}

// Attach binds a connection to its player's session actor and returns the
// actor once the welcome frame is queued.
func (n *Node) Attach(ctx context.Context, p PlayerInfo, out Outbox) (*actor.PID, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		sessions := n.env.sessions
		if sessions == nil {
			return nil, ErrNotStarted
		}
		res, err := n.system.Root.RequestFuture(sessions, &Attach{Player: p, Outbox: out}, n.env.Cfg().Redis.OpTimeout*2).Result()
		if err != nil {
			lastErr = err
		} else if a, ok := res.(*Attached); ok && a.Err == nil {
			return a.PID, nil
		} else if ok {
			lastErr = a.Err
		}
		// The player's previous actor may still be stopping: retry shortly.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * n.env.Cfg().Redis.RetryInterval / 25):
		}
	}
	return nil, lastErr
}

// Request hands a decoded client frame to the session actor.
func (n *Node) Request(pid *actor.PID, sessionID string, m protocol.ClientMessage) {
	n.system.Root.Send(pid, &ClientRequest{SessionID: sessionID, Msg: m, ArrivedMs: n.env.stall.arrivalMs()})
}

// Refuse hands the session the gateway's refusal of a frame, which the
// session answers in order with its other replies (and, with r.Close, then
// closes the connection).
func (n *Node) Refuse(pid *actor.PID, sessionID string, r Refusal) {
	n.system.Root.Send(pid, &ClientRequest{SessionID: sessionID, Refused: &r})
}

// nodePing asks an actor whether it serves.
type nodePing struct{}

// Ready reports whether the node's actors serve: its coordinator and its
// sessions' manager both answer within timeout. A node whose actors do not
// answer must not look ready.
func (n *Node) Ready(timeout time.Duration) error {
	for _, pid := range []*actor.PID{n.coordinator, n.env.sessions} {
		if _, err := n.system.Root.RequestFuture(pid, &nodePing{}, timeout).Result(); err != nil {
			return fmt.Errorf("actors: %s does not answer: %w", pid.Id, err)
		}
	}
	return nil
}

// Closed tells the session actor that its connection ended.
func (n *Node) Closed(pid *actor.PID, sessionID string) {
	n.system.Root.Send(pid, &ConnClosed{SessionID: sessionID})
}

// Snapshot returns the live actor tree, filtered by kind when kind is set.
func (n *Node) Snapshot(kind string) *Snapshot {
	timeout := n.env.Cfg().Redis.OpTimeout
	ask := func(pid *actor.PID) *Snapshot {
		res, err := n.system.Root.RequestFuture(pid, &SnapshotRequest{}, timeout).Result()
		if err != nil {
			return nil
		}
		s, _ := res.(*Snapshot)
		return s
	}
	root := ask(n.coordinator)
	if root == nil {
		root = &Snapshot{ID: "coordinator", Kind: "coordinator", State: "unresponsive", Children: []*Snapshot{}, Details: map[string]any{}}
	}
	var kids []*Snapshot
	if kind == "" || kind == "queue" {
		n.env.queues.Range(func(_, v any) bool {
			if s := ask(v.(*actor.PID)); s != nil {
				kids = append(kids, s)
			}
			return true
		})
	}
	if kind == "" || kind == "room" {
		n.env.registry.rooms.Range(func(_, v any) bool {
			if pid, ok := v.(*actor.PID); ok {
				if s := ask(pid); s != nil {
					kids = append(kids, s)
				}
			}
			return true
		})
	}
	if kind == "" || kind == "session" {
		sessions := &Snapshot{ID: "sessions", Kind: "supervisor", State: "running", Children: []*Snapshot{}, Details: map[string]any{}}
		n.env.registry.sessions.Range(func(_, v any) bool {
			if s := ask(v.(*actor.PID)); s != nil {
				sessions.Children = append(sessions.Children, s)
			}
			return true
		})
		sessions.Details["count"] = len(sessions.Children)
		if kind == "session" {
			kids = append(kids, sessions.Children...)
		} else {
			kids = append(kids, sessions)
		}
	}
	if kids == nil {
		kids = []*Snapshot{}
	}
	root.Children = kids
	return root
}

// Crash makes the actor with the given debug id panic
// ("coordinator", "queue/<mode>", "room/<match>", "session/<player>").
func (n *Node) Crash(id string) error {
	var pid *actor.PID
	switch {
	case id == "coordinator":
		pid = n.coordinator
	case id == "sessions":
		pid = n.env.sessions
	case strings.HasPrefix(id, "queue/"):
		if v, ok := n.env.queues.Load(strings.TrimPrefix(id, "queue/")); ok {
			pid = v.(*actor.PID)
		}
	case strings.HasPrefix(id, "room/"):
		// A room whose actor is still being spawned (its match_found may
		// already be out) takes the crash when it starts, like any message.
		if n.env.registry.toRoom(n.system, strings.TrimPrefix(id, "room/"), &Crash{}) {
			return nil
		}
	case strings.HasPrefix(id, "session/"):
		pid = n.env.registry.session(strings.TrimPrefix(id, "session/"))
	}
	if pid == nil {
		return ErrNotFound
	}
	n.system.Root.Send(pid, &Crash{})
	return nil
}

// Drain releases this node's matching leases and liveness key so other
// nodes take over its queues and rooms at once.
func (n *Node) Drain(ctx context.Context) {
	_, _ = n.system.Root.RequestFuture(n.coordinator, &Drain{}, n.env.Cfg().Redis.OpTimeout*3).Result()
}

// Stop stops every actor and the bus subscription. It may be called more
// than once.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.env.shuttingDown.Store(true)
		_ = n.system.Root.StopFuture(n.coordinator).Wait()
		var futures []*actor.Future
		n.env.registry.sessions.Range(func(_, v any) bool {
			futures = append(futures, n.system.Root.StopFuture(v.(*actor.PID)))
			return true
		})
		for _, f := range futures {
			_ = f.Wait()
		}
		_ = n.system.Root.StopFuture(n.env.sessions).Wait()
		n.env.host.close()
		n.env.stall.close()
		n.cancel()
		n.wg.Wait()
		n.system.Shutdown()
		n.env.workers.close()
	})
}
