package actors

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/actors/match"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/redisx"
)

// queueSeed survives restarts of a queue actor: its lease token (so a
// restarted actor resumes its own lease instead of waiting it out) and its
// restart count.
type queueSeed struct {
	mode string
	// region is the region this queue leads, "" for a mode without
	// regions (docs/protocol.md section 9.5).
	region   string
	token    string
	restarts int
	draining bool
}

// queueActor runs one mode's matching on this node (or one region's of a
// mode with regions). Every node runs one per mode (or region); only the
// holder of its lease forms matches, and a fenced claim script makes a
// stale holder harmless. The pool lives in Redis, so a restarted actor
// loses nothing.
type queueActor struct {
	env        *Env
	seed       *queueSeed
	lease      *redisx.Lease
	extendedAt time.Time
	timer      *time.Timer
	gen        int
	matcher    match.Matcher
	lastDepth  int64
	lastTick   time.Duration
	// orphans are tickets whose player has no live session on any node
	// (its node died), by ticket id: excluded from matching at once,
	// dequeued once session.reconnect_grace has passed.
	orphans   map[string]orphan
	scannedAt time.Time
	// pool is the leader's copy of the queue, kept current from the
	// queue's change lists; poolAt is when it was last read whole.
	pool   map[string]redisx.Ticket
	poolAt time.Time
	// memberBuf backs the matcher's view of the parties' members.
	memberBuf []match.Member
	// nowMs is Redis's clock at this tick's read: the tick matches by it
	// (rating windows widen with the wait by one clock, whatever the node's).
	nowMs    int64
	poolBuf  []redisx.Ticket
	matchBuf []match.Ticket
	insight  queueInsight
	latBuf   []float64
	// lostRace is set when another region's leader claimed a ticket of a
	// group this tick chose: the group's other members are matched again
	// at a tick that comes sooner than the period.
	lostRace bool
}

type orphan struct {
	player string
	since  time.Time
}

type queueTick struct{ gen int }

// ReleaseLease asks a queue actor to give up its lease (drain).
type ReleaseLease struct{}

func newQueueProps(env *Env, seed *queueSeed) *actor.Props {
	return env.props(func() actor.Actor { return &queueActor{env: env, seed: seed} })
}

func (a *queueActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.schedule(ctx, 0)
	case *actor.Restarting:
		a.seed.restarts++
		a.stopTimer()
	case *actor.Stopping:
		a.stopTimer()
		a.release()
	case *queueTick:
		if m.gen != a.gen {
			return
		}
		began := time.Now()
		a.lostRace = false
		a.tick()
		if !a.seed.draining {
			// Fixed rate: a tick's own work does not push the next one back.
			next := a.env.Cfg().Matchmaking.Tick - time.Since(began)
			if a.lostRace {
				next = min(next, a.env.Cfg().Matchmaking.Tick/5)
			}
			a.schedule(ctx, next)
		}
	case *ReleaseLease:
		a.seed.draining = true
		a.stopTimer()
		a.release()
		ctx.Respond(true)
	case *ResumeMatching:
		a.resume(ctx)
	case *SnapshotRequest:
		ctx.Respond(a.snapshot())
	case *Crash:
		panic("queue: crash injected by /debug/crash")
	}
}

func (a *queueActor) schedule(ctx actor.Context, d time.Duration) {
	a.stopTimer()
	a.gen++
	gen, self, sys := a.gen, ctx.Self(), ctx.ActorSystem()
	a.timer = time.AfterFunc(max(d, 0), func() { sys.Root.Send(self, &queueTick{gen: gen}) })
}

func (a *queueActor) stopTimer() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
}

func (a *queueActor) modeCfg() (config.Mode, bool) {
	return a.env.Cfg().ModeByName(a.seed.mode)
}

// lane is the queue this actor leads.
func (a *queueActor) lane() redisx.Lane {
	return redisx.Lane{Mode: a.seed.mode, Region: a.seed.region}
}

func (a *queueActor) release() {
	if a.lease == nil {
		return
	}
	a.insight.released(a)
	ctx, cancel := a.env.opCtx()
	defer cancel()
	if _, err := a.env.Store.ReleaseLane(ctx, a.lane(), a.env.Node, a.lease.Token); err != nil {
		a.env.redisErr("lock_release", err, "queue", a.lane().String())
	}
	a.lease, a.pool = nil, nil
}

// holdLease takes or renews the mode's lease; it reports whether this node
// may match now.
func (a *queueActor) holdLease() bool {
	cfg := a.env.Cfg()
	ttl := cfg.Matchmaking.LockTTL
	ctx, cancel := a.env.opCtx()
	defer cancel()
	if a.lease == nil {
		fence, err := a.env.Store.AcquireLane(ctx, a.lane(), a.env.Node, a.seed.token, ttl)
		switch {
		case err != nil:
			a.env.Metrics.LockAcquisitions.WithLabelValues("error").Inc()
			a.env.redisErr("lock_acquire", err, "queue", a.lane().String())
			return false
		case fence == 0:
			a.env.Metrics.LockAcquisitions.WithLabelValues("busy").Inc()
			return false
		}
		a.env.Metrics.LockAcquisitions.WithLabelValues("acquired").Inc()
		a.lease = &redisx.Lease{Token: a.seed.token, Fence: fence, Region: a.seed.region}
		a.extendedAt = time.Now()
		a.env.Log.Info("matching lease acquired", "mode", a.seed.mode, "region", a.seed.region, "fence", fence)
		return true
	}
	if time.Since(a.extendedAt) < ttl/3 {
		return true
	}
	renewal, err := a.env.Store.ExtendLane(ctx, a.lane(), a.env.Node, a.lease.Token, ttl)
	if err != nil {
		a.env.redisErr("lock_extend", err, "queue", a.lane().String())
		// Keep matching only while the lease surely has not expired; the
		// claim's fence check is the real guard either way.
		return time.Since(a.extendedAt) < ttl/2
	}
	switch renewal {
	case redisx.RenewLost:
		a.env.Log.Warn("matching lease lost", "mode", a.seed.mode, "region", a.seed.region, "fence", a.lease.Fence)
		a.lease, a.pool = nil, nil
		return false
	case redisx.RenewHandedBack:
		a.env.Log.Info("matching lease handed back: another node leads fewer of the mode's regions", "mode", a.seed.mode, "region", a.seed.region, "fence", a.lease.Fence)
		a.lease, a.pool = nil, nil
		return false
	}
	a.extendedAt = time.Now()
	return true
}

func (a *queueActor) tick() {
	defer a.insight.afterTick(a)
	mode, ok := a.modeCfg()
	if !ok {
		return
	}
	if !a.holdLease() {
		// Standby: only the queue depth, for matchd_queue_tickets.
		a.orphans, a.pool = nil, nil
		ctx, cancel := a.env.opCtx()
		n, err := a.env.Store.QueueLen(ctx, a.seed.mode)
		cancel()
		if err != nil {
			a.env.redisErr("queue_len", err, "mode", a.seed.mode)
			return
		}
		a.setDepth(-1, n)
		return
	}
	start := time.Now()
	defer func() {
		a.lastTick = time.Since(start)
		a.env.Metrics.MatchingTick.WithLabelValues(a.seed.mode).Observe(a.lastTick.Seconds())
	}()
	rctx, rcancel := a.env.opCtx()
	defer rcancel()
	// The tick's reads do not depend on one another, so they share one
	// round trip: every round trip here adds to the wait of every ticket
	// matched this tick. The queue's changes (and the waits past max_wait,
	// and Redis's clock, which the tick matches by) come from one fenced
	// script: a leader that stalled past its lease reads nothing and
	// consumes nothing its successor needs.
	var (
		changes redisx.QueueChanges
		banIdx  []string
	)
	err := a.env.Store.DoTogether(rctx,
		a.env.Store.QueueChangesRead(mode.Name, *a.lease, mode.MaxWait, &changes),
		a.env.Sanctions.BanIndexRead(&banIdx))
	if errors.Is(err, redisx.ErrLeaseLost) {
		a.env.Log.Warn("matching lease lost: the queue's changes are its successor's", "mode", mode.Name, "region", a.seed.region, "fence", a.lease.Fence)
		a.lease, a.pool = nil, nil
		return
	}
	if err == nil {
		err = a.syncPool(rctx, mode.Name, changes)
	}
	if err != nil {
		a.env.redisErr("pool", err, "mode", mode.Name)
		a.pool = nil
		return
	}
	a.nowMs = changes.NowMs
	a.expire(rctx, changes.Expired)
	if len(a.pool) == 0 {
		a.orphans = nil
		return
	}
	bans, err := a.env.Sanctions.ActiveBansOf(rctx, banIdx)
	if err != nil {
		a.env.redisErr("active_bans", err, "mode", mode.Name)
		return
	}
	scan := time.Since(a.scannedAt) >= min(a.env.Cfg().Session.ReconnectGrace/4, a.env.Cfg().Rooms.SweepInterval)
	if seats(a.pool, mode.Teams*mode.TeamSize) < mode.Teams*mode.TeamSize && len(bans) == 0 && len(a.orphans) == 0 && !scan {
		return
	}
	pool := a.poolBuf[:0]
	for _, t := range a.pool {
		pool = append(pool, t)
	}
	a.poolBuf = pool
	pool = a.dropBanned(rctx, pool, bans)
	pool = a.dropOrphans(rctx, pool, scan)
	if seatsOf(pool) >= mode.Teams*mode.TeamSize {
		a.form(rctx, mode, pool)
	}
}

// syncPool brings the leader's copy of the pool up to date: from the
// queue's change lists, or by reading the whole pool when the copy is new,
// stale (matchmaking.pool_resync) or disagrees with the queue's size.
func (a *queueActor) syncPool(ctx context.Context, mode string, ch redisx.QueueChanges) error {
	a.setDepth(ch.Queued, ch.ModeQueued)
	if a.pool != nil && time.Since(a.poolAt) < a.env.Cfg().Matchmaking.PoolResync {
		for _, t := range ch.Added {
			a.pool[t.ID] = t
		}
		for _, id := range ch.Removed {
			delete(a.pool, id)
		}
		if int64(len(a.pool)) == ch.Queued {
			return nil
		}
		a.env.Log.Debug("pool copy disagrees with the queue; re-reading", "mode", mode, "copy", len(a.pool), "queued", ch.Queued)
	}
	full, err := a.env.Store.LanePool(ctx, a.lane())
	if err != nil {
		return err
	}
	a.pool = make(map[string]redisx.Ticket, len(full))
	for _, t := range full {
		a.pool[t.ID] = t
	}
	a.poolAt = time.Now()
	return nil
}

// setDepth records the depth of this queue's pool (the debug view; -1:
// unknown, the mode's used) and of the whole mode's queue (the gauge).
func (a *queueActor) setDepth(pool, mode int64) {
	if pool < 0 || a.seed.region == "" {
		pool = mode
	}
	a.lastDepth = pool
	a.env.Metrics.QueueTickets.WithLabelValues(a.seed.mode).Set(float64(mode))
}

// form runs the matching function over the pool, leaves out groups with a
// member whose node is gone, and claims the rest in one script call.
func (a *queueActor) form(ctx context.Context, mode config.Mode, pool []redisx.Ticket) {
	// Groups name tickets by their index in pool.
	in := a.matchBuf[:0]
	nr := len(mode.Regions)
	if cap(a.latBuf) < len(pool)*nr {
		a.latBuf = make([]float64, len(pool)*nr)
	}
	mbuf := a.memberBuf[:0]
	if need := seatsOf(pool); cap(mbuf) < need {
		// Sized up front: a slice of it must not move once taken.
		mbuf = make([]match.Member, 0, need)
	}
	defer func() { a.memberBuf = mbuf[:0] }()
	for i, t := range pool {
		row := a.latBuf[i*nr : (i+1)*nr : (i+1)*nr]
		latencyRow(row, mode.Regions, t.Latencies)
		mt := match.Ticket{ID: t.ID, Rating: t.Rating, QueuedAtMs: t.QueuedAtMs, LatencyMs: row}
		if len(t.Members) > 0 {
			// The parties' members share one buffer, reused tick to tick.
			at := len(mbuf)
			for _, m := range t.Members {
				mbuf = append(mbuf, match.Member{ID: m.Player, Rating: m.Rating})
			}
			mt.Members = mbuf[at:len(mbuf):len(mbuf)]
		}
		in = append(in, mt)
	}
	a.matchBuf = in
	now := a.nowMs
	groups := a.matcher.Form(in, match.Params{
		Teams: mode.Teams, TeamSize: mode.TeamSize,
		InitialWindow: mode.Rating.InitialWindow, WidenPerSecond: mode.Rating.WidenPerSecond, MaxWindow: mode.Rating.MaxWindow,
		Regions: mode.Regions, Region: a.seed.region,
		Latency: match.LatencyRule{MaxMs: mode.Latency.MaxMs, WidenPerSecond: mode.Latency.WidenPerSecond, MaxMsLimit: mode.Latency.MaxMsLimit},
	}, now)
	if len(groups) == 0 {
		return
	}
	members := make([]string, 0, len(groups)*mode.Teams*mode.TeamSize)
	for _, g := range groups {
		for _, team := range g.Teams {
			for _, mt := range team {
				members = append(members, pool[mt].Players()...)
			}
		}
	}
	live, err := a.liveness(ctx, members)
	if err != nil {
		a.env.redisErr("liveness", err, "mode", mode.Name)
		return
	}
	groups = slices.DeleteFunc(groups, func(g match.Group) bool {
		ghost := false
		for _, team := range g.Teams {
			for _, mt := range team {
				t := pool[mt]
				for _, p := range t.Players() {
					if live[p] {
						continue
					}
					ghost = true
					if a.orphans == nil {
						a.orphans = map[string]orphan{}
					}
					if _, known := a.orphans[t.ID]; !known {
						a.orphans[t.ID] = orphan{player: p, since: time.Now()}
					}
				}
			}
		}
		return ghost
	})
	if len(groups) == 0 {
		return
	}
	claims := make([]redisx.ClaimMatch, len(groups))
	for i, g := range groups {
		c := redisx.ClaimMatch{MatchID: newID(), Teams: make([][]string, len(g.Teams))}
		for ti, team := range g.Teams {
			for _, mt := range team {
				t := pool[mt]
				c.Teams[ti] = append(c.Teams[ti], t.Players()...)
				c.Tickets = append(c.Tickets, t)
			}
		}
		claims[i] = c
	}
	// Each match's room is registered before its claim: the coordinator's
	// sweep drives every room of this node that has no local actor, and must
	// not take one that is being formed here for such a room.
	pendings := make([]*pendingRoom, len(claims))
	for i, c := range claims {
		pendings[i] = a.env.registry.pend(c.MatchID)
	}
	unpendAll := func() {
		for i, c := range claims {
			a.env.registry.rooms.CompareAndDelete(c.MatchID, pendings[i])
		}
	}
	rooms := a.env.Cfg().Rooms
	claimed, err := a.env.Store.Claim(ctx, mode.Name, *a.lease, redisx.ClaimArgs{
		Owner: a.env.Node, LoadingTimeout: mode.LoadingTimeout,
		// Long enough that a room outlives its deadline until a sweeper
		// adopts it; a resolved room is shortened to rooms.finished_ttl.
		RoomTTL: mode.LoadingTimeout + 2*rooms.AdoptAfter + 2*rooms.SweepInterval + rooms.NodeTTL + rooms.FinishedTTL,
	}, claims)
	if err != nil {
		// A claim that timed out may still have formed its rooms: the sweep
		// then finds them without a local actor and drives them.
		unpendAll()
	}
	if errors.Is(err, redisx.ErrLeaseLost) {
		a.env.Metrics.ClaimsRejected.WithLabelValues(mode.Name, "lease_lost").Inc()
		a.env.Log.Warn("claim refused: lease lost", "mode", mode.Name, "fence", a.lease.Fence)
		a.lease, a.pool = nil, nil
		return
	}
	if err != nil {
		a.env.redisErr("claim", err, "mode", mode.Name)
		return
	}
	// The rooms' deadline is Redis's clock's, which judges every member.
	deadline := claimed.DeadlineMs
	for i, ok := range claimed.Formed {
		if !ok {
			a.env.registry.rooms.CompareAndDelete(claims[i].MatchID, pendings[i])
			a.env.Metrics.ClaimsRejected.WithLabelValues(mode.Name, "ticket_gone").Inc()
			a.lostRace = a.seed.region != ""
			continue
		}
		c := claims[i]
		for _, t := range c.Tickets {
			delete(a.pool, t.ID)
		}
		a.env.Metrics.MatchesFormed.WithLabelValues(mode.Name).Inc()
		a.env.Metrics.MatchSpread.WithLabelValues(mode.Name).Observe(groups[i].Spread)
		if r := groups[i].Region; r != "" {
			a.env.Metrics.MatchesFormedByRegion.WithLabelValues(mode.Name, r).Inc()
			a.env.Metrics.MatchLatency.WithLabelValues(mode.Name, r).Observe(groups[i].LatencyMs)
		}
		players := make([]string, 0, len(c.Tickets))
		for _, t := range c.Tickets {
			for _, p := range t.Players() {
				players = append(players, p)
				a.env.Metrics.QueueWait.WithLabelValues(mode.Name).Observe(float64(now-t.QueuedAtMs) / 1000)
			}
		}
		a.env.Events.Emit("match_formed", map[string]any{"match_id": c.MatchID, "mode": mode.Name, "teams": c.Teams, "spread": groups[i].Spread, "region": a.seed.region})
		room := &redisx.Room{MatchID: c.MatchID, Mode: mode.Name, Region: a.seed.region, State: redisx.RoomLoading, Owner: a.env.Node,
			DeadlineMs: deadline, CreatedMs: now, Members: players, Teams: c.Teams,
			Ready: make(map[string]bool, len(players)), Tickets: make(map[string]redisx.Ticket, len(players))}
		for _, t := range c.Tickets {
			for _, p := range t.Players() {
				room.Tickets[p] = t
			}
		}
		// The leader tells the members on this node now rather than leaving
		// it to the room actor: spawning hundreds of rooms a tick through
		// the coordinator added milliseconds to every match_found. A
		// member's answer that beats the spawn waits in the pending
		// stand-in. Members on other nodes are told by the room, since
		// reaching them takes a directory read the tick should not wait for.
		pending := pendings[i]
		remote := a.env.bus.toLocal(players, &MatchFoundMsg{MatchID: c.MatchID, Mode: mode.Name, Region: a.seed.region,
			Teams: c.Teams, DeadlineMs: deadline, Owner: a.env.Node, Tickets: room.TicketIDs()}, nil)
		a.env.system.Root.Send(a.env.coordinator, &spawnRoom{mode: mode.Name, match: c.MatchID, room: room, pending: pending, remote: remote})
	}
}

func (a *queueActor) snapshot() *Snapshot {
	state := "standby"
	details := map[string]any{"mode": a.seed.mode, "tickets": a.lastDepth}
	if a.seed.region != "" {
		details["region"] = a.seed.region
	}
	if a.lease != nil {
		state = "leader"
		details["fence"] = a.lease.Fence
		details["last_tick_ms"] = float64(a.lastTick.Microseconds()) / 1000
	}
	if a.seed.draining {
		state = "draining"
	}
	return &Snapshot{ID: "queue/" + a.lane().String(), Kind: "queue", State: state, Restarts: a.seed.restarts,
		Children: []*Snapshot{}, Details: details}
}

// latencyRow lays a ticket's latencies out in row in the order of the
// mode's regions, as the matcher reads them (a region left out is
// unplayable).
func latencyRow(row []float64, regions []string, lat map[string]float64) {
	for i, r := range regions {
		if v, ok := lat[r]; ok {
			row[i] = v
		} else {
			row[i] = math.Inf(1)
		}
	}
}
