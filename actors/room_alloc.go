package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/actors/alloc"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// allocResult is an allocator's answer for a room, delivered to the room's
// actor by match id (whichever incarnation of it runs by then).
type allocResult struct {
	server []byte
	err    error
}

// HandOver asks a room actor to give its room up (the node drains): once
// an allocation in flight has ended (its answer recorded), the room is
// handed over in Redis for another node to adopt at once, and the actor
// stops. The reply is *HandedOver.
type HandOver struct{}

// HandedOver answers HandOver.
type HandedOver struct{ Match string }

// allocBudget bounds one allocation: every attempt's request timeout, and
// one more. Past it an allocation in flight is taken for dead.
func (e *Env) allocBudget() time.Duration {
	c := e.Cfg().Allocator
	return c.RequestTimeout * time.Duration(c.MaxAttempts+1)
}

// allocate gets the room a game server, never asking twice: an answer this
// process already has is recorded (start); a call this process has in
// flight is waited for; otherwise each attempt is recorded in the room in
// Redis before it is made, and an attempt another asker left in flight is
// resumed on the same server with the same idempotency key.
func (a *roomActor) allocate(ctx actor.Context) {
	budget := a.env.allocBudget()
	if a.seed.server != nil {
		// The answer is in; only its start is not recorded yet.
		a.finish(ctx, redisx.Resolution{Outcome: redisx.ResolveStart, Server: a.seed.server})
		return
	}
	mark := a.room.Alloc
	if !a.seed.allocating && mark != nil && mark.By == a.env.incarnation && a.env.nowMs() < mark.AtMs+budget.Milliseconds() {
		// This process asked, through an earlier actor of this room (the
		// coordinator restarted): its answer reaches this actor.
		a.seed.allocating, a.seed.allocSince = true, time.Now()
	}
	if a.seed.allocating {
		if time.Since(a.seed.allocSince) < budget+time.Second {
			a.schedule(ctx, budget+time.Second-time.Since(a.seed.allocSince))
			return
		}
		// No answer within the budget (it cannot be: the call has its own
		// deadline); ask again, resuming on the same server.
		a.seed.allocating = false
	}
	req := alloc.Request{MatchID: a.room.MatchID, Mode: a.room.Mode, Teams: a.room.Teams, Region: a.room.Region}
	if mark != nil && mark.By != a.env.incarnation {
		req.Resume = mark
	}
	mode, match, by := a.room.Mode, a.room.MatchID, a.env.incarnation
	store := a.env.Store
	req.Record = func(ctx context.Context, server string, attempt int) error {
		st, held, err := store.RecordAlloc(ctx, mode, match, redisx.AllocMark{By: by, Server: server, Attempt: attempt}, budget)
		switch {
		case err != nil:
			return err
		case st == redisx.AllocHeld:
			return fmt.Errorf("actors: allocation of %s in flight by %s (server %s, attempt %d)", match, held.By, held.Server, held.Attempt)
		case st != redisx.AllocRecorded:
			return fmt.Errorf("actors: room %s: %s", match, st)
		}
		return nil
	}
	a.seed.allocating, a.seed.allocSince = true, time.Now()
	a.stopTimer()
	allocator, reg, sys, log := a.env.Allocator, a.env.registry, ctx.ActorSystem(), a.env.Log
	go func() {
		actx, cancel := context.WithTimeout(context.Background(), budget)
		server, err := allocator.Allocate(actx, req)
		cancel()
		if !reg.toRoom(sys, match, &allocResult{server: server, err: err}) {
			log.Warn("allocation answered for a room no actor of this node drives", "match", match, "err", err)
		}
	}()
}

func (a *roomActor) allocated(ctx actor.Context, m *allocResult) {
	a.seed.allocating = false
	switch {
	case errors.Is(m.err, alloc.ErrAborted):
		// Another asker holds the allocation, or the room moved on: read
		// where it stands.
		a.env.Log.Info("allocation aborted", append(a.log(), "err", m.err)...)
		if open, err := a.load(); err != nil {
			a.schedule(ctx, a.env.Cfg().Redis.RetryInterval)
		} else if !open {
			a.stop(ctx)
		} else {
			a.schedule(ctx, a.env.allocBudget())
		}
	case m.err != nil:
		a.env.Log.Warn("allocation failed", append(a.log(), "err", m.err)...)
		a.finish(ctx, redisx.Resolution{Outcome: redisx.ResolveCancel, Reason: protocol.ReasonAllocationFailed, RequeueAll: true})
	default:
		a.seed.server = m.server
		a.finish(ctx, redisx.Resolution{Outcome: redisx.ResolveStart, Server: m.server})
	}
}

// handOver gives the room up for the drain: after an allocation in flight
// has ended, or at once.
func (a *roomActor) handOver(ctx actor.Context) {
	a.seed.handover = ctx.Sender()
	if a.seed.allocating || a.seed.server != nil {
		return // stop() tells the drain once the allocation is recorded
	}
	a.stopTimer()
	rctx, cancel := a.env.opCtx()
	defer cancel()
	cfg := a.env.Cfg()
	if _, err := a.env.Store.AdoptRoom(rctx, a.seed.mode, a.seed.match, a.env.Node, "", redisx.AdoptHandover,
		cfg.Rooms.AdoptAfter, a.env.allocBudget()); err != nil {
		// The node's liveness key goes next: the room is adopted all the same.
		a.env.redisErr("hand_over", err, a.log()...)
	}
	a.stop(ctx)
}

// stalledMembers reports how long to wait before judging no-shows: a member
// that has not loaded may be connected to a node that was stalled across
// the deadline (a pause, a SIGSTOP) and holds its loading_complete unread.
// Such a node has missed its heartbeats; once it has caught up (it
// heartbeats again, after a moment to serve what it read), its members'
// marks are in. A dead node's members are judged at once.
func (a *roomActor) stalledMembers() time.Duration {
	var waiting []string
	for _, p := range a.room.Members {
		if !a.room.Ready[p] {
			waiting = append(waiting, p)
		}
	}
	if len(waiting) == 0 {
		return 0
	}
	const recheck = 200 * time.Millisecond
	if a.env.stall.wokeWithin(time.Second) {
		return recheck // this node's own sessions are catching up
	}
	ctx, cancel := a.env.opCtx()
	defer cancel()
	homes, err := a.env.Store.DirNodes(ctx, waiting)
	if err != nil {
		return 0
	}
	var others []string
	for _, n := range homes {
		if n != a.env.Node {
			others = append(others, n)
		}
	}
	seen, err := a.env.Store.NodesSeen(ctx, others)
	if err != nil {
		return 0
	}
	// A node heartbeats every heartbeat interval: one that is alive but
	// has not heartbeated for one and a half is stalled now (or woke and
	// is still catching up). Its key lapses after rooms.node_ttl, and then
	// it is dead: this waits no longer than that.
	missed := heartbeatInterval(a.env.Cfg().Rooms).Milliseconds() * 3 / 2
	now := a.env.nowMs()
	for _, n := range others {
		if last, alive := seen[n]; alive && last < now-missed {
			return recheck
		}
	}
	return 0
}
