package actors

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/actors/match"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// Verdict is the matcher's last word on a waiting ticket, as operators
// read it (GET /debug/players, /debug/actors, /debug/ui).
type Verdict string

// Verdicts. The matcher itself (match.Form) only returns the groups it
// formed; a verdict is computed beside it from the same inputs, so the
// matcher stays a pure function of its pool.
const (
	// VerdictMatched: the ticket was claimed into a match.
	VerdictMatched Verdict = "matched"
	// VerdictNoMate: fewer compatible tickets than a match needs are
	// within the ticket's rating window (and it within theirs); its window
	// widens as it waits.
	VerdictNoMate Verdict = "no_mate_in_window"
	// VerdictMatesWaiting: enough compatible tickets are in its window, yet
	// no match took it this tick: the matcher served older tickets first,
	// or the mates' windows do not all agree on one group.
	VerdictMatesWaiting Verdict = "mates_in_window"
	// VerdictBanned: the player (or its device) is banned; the ticket was
	// dequeued.
	VerdictBanned Verdict = "banned"
	// VerdictAwaitingReconnect: the player's node is gone; the ticket is
	// held out of matching until the player reconnects or the reconnect
	// grace passes.
	VerdictAwaitingReconnect Verdict = "awaiting_reconnect"
	// VerdictTimedOut: the ticket waited past max_wait and was dequeued.
	VerdictTimedOut Verdict = "timed_out"
	// VerdictDisconnected: the ticket was dequeued after its player's node
	// died and the player did not come back.
	VerdictDisconnected Verdict = "disconnected"
	// VerdictNotLeaderHere: this node does not lead the mode, and the node
	// that does has published no verdict on the ticket yet (it is new, or
	// no node leads the mode).
	VerdictNotLeaderHere Verdict = "not_leader_here"
)

// Lease changes, the change label of matchd_lease_changes_total.
const (
	leaseAcquired = "acquired"
	leaseLost     = "lost"
	leaseReleased = "released"
)

// insightEvery is how often a lease holder refreshes its published
// verdicts and the oldest-wait gauge; insightTTL how long they outlive the
// last refresh; insightRewrite how often they are rewritten whole rather
// than as changes (Redis may have lost them); recentFor how long the
// verdict on a ticket that left the queue without a match stays readable.
const (
	insightEvery   = time.Second
	insightTTL     = 5 * insightEvery
	insightRewrite = 30 * time.Second
	recentFor      = 10 * time.Second
	// neighbourScan bounds the tickets looked at on each side of one
	// ticket when counting its compatible mates.
	neighbourScan = 64
)

// insightStore is what publishing needs of Redis; a store without it
// (a test fake) publishes nothing.
type insightStore interface {
	PublishInsight(ctx context.Context, mode string, in redisx.QueueInsight, set map[string]string, del []string, ttl time.Duration) error
	ClearInsight(ctx context.Context, mode string) error
}

// queueInsight is a queue actor's bookkeeping for operators: lease changes
// (counted), the oldest wait (a gauge), and the matcher's verdict on every
// waiting ticket (published to Redis by the lease holder, once a second,
// as changes). The queue actor calls it through one-line hooks.
type queueInsight struct {
	hadLease bool
	fence    int64
	// published is what Redis holds: player -> encoded verdict.
	published   map[string]string
	publishedAt time.Time
	rewriteAt   time.Time
	wrote       bool
	// recent holds the verdicts on tickets that left the queue without a
	// match lately, by player.
	recent map[string]recentVerdict
	buf    []judged
}

type recentVerdict struct {
	v     redisx.Verdict
	until time.Time
}

// judged is one waiting ticket being judged.
type judged struct {
	t   redisx.Ticket
	win float64
}

// afterTick runs at the end of every tick of the queue actor.
func (q *queueInsight) afterTick(a *queueActor) {
	m := a.env.Metrics
	m.TickInterval.Set(a.env.Cfg().Matchmaking.Tick.Seconds())
	q.observeLease(a)
	if a.lease == nil {
		m.QueueOldestWait.WithLabelValues(a.seed.mode).Set(0)
		q.published, q.wrote = nil, false
		return
	}
	if a.pool == nil || time.Since(q.publishedAt) < insightEvery {
		return
	}
	mode, ok := a.modeCfg()
	if !ok {
		return
	}
	q.publishedAt = time.Now()
	q.publish(a, mode)
}

// observeLease counts the lease changes since the last tick.
func (q *queueInsight) observeLease(a *queueActor) {
	has := a.lease != nil
	var fence int64
	if has {
		fence = a.lease.Fence
	}
	if q.hadLease && (!has || fence != q.fence) {
		a.env.Metrics.LeaseChanges.WithLabelValues(a.seed.mode, leaseLost).Inc()
	}
	if has && (!q.hadLease || fence != q.fence) {
		a.env.Metrics.LeaseChanges.WithLabelValues(a.seed.mode, leaseAcquired).Inc()
	}
	q.hadLease, q.fence = has, fence
}

// released counts a lease given up on purpose (drain, stop).
func (q *queueInsight) released(a *queueActor) {
	if q.hadLease {
		a.env.Metrics.LeaseChanges.WithLabelValues(a.seed.mode, leaseReleased).Inc()
	}
	q.hadLease, q.fence = false, 0
	q.published, q.wrote = nil, false
	a.env.Metrics.QueueOldestWait.WithLabelValues(a.seed.mode).Set(0)
}

// dequeued counts a ticket the queue took out without a match and keeps
// the verdict on it readable for a while.
func (q *queueInsight) dequeued(a *queueActor, t redisx.Ticket, reason string) {
	a.env.countDequeue(t.Mode, reason)
	v := VerdictDisconnected
	switch reason {
	case protocol.ReasonBanned:
		v = VerdictBanned
	case protocol.ReasonTimeout:
		v = VerdictTimedOut
	}
	if q.recent == nil {
		q.recent = map[string]recentVerdict{}
	}
	for _, p := range t.Players() {
		q.recent[p] = recentVerdict{v: redisx.Verdict{Verdict: string(v), Ticket: t.ID, AtMs: a.nowMs}, until: time.Now().Add(recentFor)}
	}
}

// countDequeue counts one ticket that left a queue without a match.
func (e *Env) countDequeue(mode, reason string) {
	e.Metrics.TicketsDequeued.WithLabelValues(mode, reason).Inc()
}

// publish judges the pool, sets the oldest-wait gauge and writes the
// verdicts that changed.
func (q *queueInsight) publish(a *queueActor, mode config.Mode) {
	now := a.nowMs
	var oldest int64
	for _, t := range a.pool {
		if oldest == 0 || t.QueuedAtMs < oldest {
			oldest = t.QueuedAtMs
		}
	}
	oldestMs := int64(0)
	if oldest > 0 {
		oldestMs = max(now-oldest, 0)
	}
	a.env.Metrics.QueueOldestWait.WithLabelValues(mode.Name).Set(float64(oldestMs) / 1000)

	store, ok := a.env.Store.(insightStore)
	if !ok {
		return
	}
	verdicts := q.judge(a, mode, now)
	nowT := time.Now()
	for p, r := range q.recent {
		if nowT.After(r.until) {
			delete(q.recent, p)
			continue
		}
		if _, waiting := verdicts[p]; !waiting {
			verdicts[p] = redisx.EncodeVerdict(r.v)
		}
	}
	ctx, cancel := a.env.opCtx()
	defer cancel()
	if len(verdicts) == 0 {
		if q.wrote {
			if err := store.ClearInsight(ctx, mode.Name); err != nil {
				a.env.redisErr("publish_insight", err, "mode", mode.Name)
				return
			}
		}
		q.published, q.wrote = nil, false
		return
	}
	if nowT.After(q.rewriteAt) {
		q.published, q.rewriteAt = nil, nowT.Add(insightRewrite)
	}
	set := map[string]string{}
	var del []string
	for p, v := range verdicts {
		if q.published[p] != v {
			set[p] = v
		}
	}
	for p := range q.published {
		if _, ok := verdicts[p]; !ok {
			del = append(del, p)
		}
	}
	in := redisx.QueueInsight{Node: a.env.Node, Fence: a.lease.Fence, TickMs: now, TookUs: a.lastTick.Microseconds(),
		Oldest: oldestMs, Tickets: len(a.pool)}
	if err := store.PublishInsight(ctx, mode.Name, in, set, del, insightTTL); err != nil {
		a.env.redisErr("publish_insight", err, "mode", mode.Name)
		q.published = nil
		return
	}
	q.published, q.wrote = verdicts, true
}

// judge returns the verdict on every ticket of the pool, by player,
// encoded. A verdict that did not change keeps its time, so an operator
// sees since when a ticket has been in its state.
func (q *queueInsight) judge(a *queueActor, mode config.Mode, now int64) map[string]string {
	p := match.Params{Teams: mode.Teams, TeamSize: mode.TeamSize, InitialWindow: mode.Rating.InitialWindow,
		WidenPerSecond: mode.Rating.WidenPerSecond, MaxWindow: mode.Rating.MaxWindow}
	need := p.Size() - 1
	js := q.buf[:0]
	for _, t := range a.pool {
		js = append(js, judged{t: t, win: p.Window(match.Ticket{Rating: t.Rating, QueuedAtMs: t.QueuedAtMs}, now)})
	}
	q.buf = js
	slices.SortFunc(js, func(x, y judged) int {
		switch {
		case x.t.Rating < y.t.Rating:
			return -1
		case x.t.Rating > y.t.Rating:
			return 1
		}
		return 0
	})
	out := make(map[string]string, len(js))
	for i, j := range js {
		v := VerdictNoMate
		if _, gone := a.orphans[j.t.ID]; gone {
			v = VerdictAwaitingReconnect
		} else if need >= 0 && compatibleMates(js, i, need) >= need {
			v = VerdictMatesWaiting
		}
		at := now
		if old, ok := decodeKept(q.published[j.t.Player]); ok && old.Verdict == string(v) && old.Ticket == j.t.ID {
			at = old.AtMs
		}
		enc := redisx.EncodeVerdict(redisx.Verdict{Verdict: string(v), Ticket: j.t.ID, AtMs: at})
		out[j.t.Player] = enc
		// Every member of a party's ticket gets its verdict.
		for _, m := range j.t.Members {
			out[m.Player] = enc
		}
	}
	return out
}

// compatibleMates counts, up to need, the tickets of js (sorted by rating)
// that could share a match with js[i]: each within the other's window.
func compatibleMates(js []judged, i, need int) int {
	me := js[i]
	if math.IsNaN(me.t.Rating) || math.IsInf(me.t.Rating, 0) {
		return 0
	}
	n := 0
	for _, step := range []int{-1, 1} {
		for k, seen := i+step, 0; k >= 0 && k < len(js) && seen < neighbourScan && n < need; k, seen = k+step, seen+1 {
			d := math.Abs(js[k].t.Rating - me.t.Rating)
			if d > me.win {
				break
			}
			if d <= js[k].win {
				n++
			}
		}
	}
	return n
}

func decodeKept(s string) (redisx.Verdict, bool) {
	if s == "" {
		return redisx.Verdict{}, false
	}
	return redisx.DecodeVerdict(s)
}

// ResumeMatching tells a queue actor that a drain was undone: it may take
// its mode's lease again.
type ResumeMatching struct{}

// resume undoes a drain's ReleaseLease.
func (a *queueActor) resume(ctx actor.Context) {
	if !a.seed.draining {
		return
	}
	a.seed.draining = false
	a.schedule(ctx, 0)
}
