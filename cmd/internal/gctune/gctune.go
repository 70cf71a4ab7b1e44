// Package gctune sizes the Go collector's headroom to what the process
// allocates. With the default GOGC of 100 the heap grows to twice what
// survived the last collection before the next one starts, and the
// resident size follows the highest point that swing reaches. A matchd node
// holding thousands of idle players has a large live heap (the sessions)
// and allocates little (pings, renewals, reconciles: a few MB/s), so most
// of that doubling is memory it never needed: at 19,000 idle sessions it
// was a third of the node's RSS. A busy node allocates hundreds of MB/s,
// where the full headroom keeps collections rare and cheap.
//
// The tuner measures the allocation rate every second and sets the GC
// percent so that, at that rate, a collection comes about every Cycle: the
// headroom is what the process allocates in Cycle, never less than
// MinPercent nor more than MaxPercent (the default, so a busy node runs
// exactly as without the tuner). It raises the percent as soon as the rate
// rises and lowers it slowly, so a burst of work finds the full headroom
// within a second and a quiet spell does not shrink it at once.
package gctune

import (
	"context"
	"log/slog"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Policy is how the tuner chooses the GC percent.
type Policy struct {
	// Cycle is the time between collections the headroom is sized for.
	Cycle time.Duration
	// MinPercent and MaxPercent bound the GC percent.
	MinPercent, MaxPercent int
	// MinLive is the live heap below which the tuner keeps MaxPercent:
	// on a small heap the headroom a lower percent saves is not worth a
	// collection more.
	MinLive uint64
	// Decay is the share of the rate estimate kept per second when the
	// rate falls (rises are taken at once).
	Decay float64
}

// DefaultPolicy collects an idle node about every 20 s (a collection of
// 19,000 idle sessions' heap costs ~0.2 s of CPU: 1 % of a core), with
// at least a quarter of the scannable memory as headroom, and leaves heaps
// under 64 MiB alone.
var DefaultPolicy = Policy{Cycle: 20 * time.Second, MinPercent: 25, MaxPercent: 100, MinLive: 64 << 20, Decay: 0.9}

// Percent is the GC percent for an allocation rate (bytes per second),
// a live heap and the scannable memory the percent applies to (the live
// heap, goroutine stacks and globals).
func (p Policy) Percent(rate float64, live, scannable uint64) int {
	if live < p.MinLive || scannable == 0 {
		return p.MaxPercent
	}
	pct := math.Ceil(100 * rate * p.Cycle.Seconds() / float64(scannable))
	return int(min(max(pct, float64(p.MinPercent)), float64(p.MaxPercent)))
}

// Sample is what the tuner reads from the runtime.
type Sample struct {
	// Allocs is the bytes allocated on the heap since the process started.
	Allocs uint64
	// Live is the heap that survived the last collection; Scannable adds
	// the goroutine stacks and globals the GC percent also applies to.
	Live, Scannable uint64
}

// Tuner applies a Policy.
type Tuner struct {
	Policy Policy
	// Read samples the runtime; Set sets the GC percent and returns the
	// previous one (debug.SetGCPercent). Tests replace both.
	Read func() Sample
	Set  func(int) int
	Log  *slog.Logger

	rate    float64
	last    Sample
	lastAt  time.Time
	percent int
}

// New returns a tuner of the running process with DefaultPolicy.
func New(log *slog.Logger) *Tuner {
	return &Tuner{Policy: DefaultPolicy, Read: ReadRuntime, Set: debug.SetGCPercent, Log: log}
}

// Run samples every second until ctx ends, then restores the GC percent
// the process had.
func (t *Tuner) Run(ctx context.Context) {
	t.last, t.lastAt = t.Read(), time.Now()
	t.percent = t.Policy.MaxPercent
	prev := t.Set(t.percent)
	defer t.Set(prev)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			t.Step(now)
		}
	}
}

// Step takes one sample at now and sets the GC percent it calls for.
func (t *Tuner) Step(now time.Time) {
	s := t.Read()
	dt := now.Sub(t.lastAt).Seconds()
	if dt <= 0 || s.Allocs < t.last.Allocs {
		t.last, t.lastAt = s, now
		return
	}
	cur := float64(s.Allocs-t.last.Allocs) / dt
	t.last, t.lastAt = s, now
	t.rate = max(cur, t.rate*math.Pow(t.Policy.Decay, dt))
	pct := t.Policy.Percent(t.rate, s.Live, s.Scannable)
	// Small moves are not worth a change of the pacer's goal.
	if pct == t.percent || (pct > t.Policy.MinPercent && pct < t.Policy.MaxPercent && abs(pct-t.percent) < 5) {
		return
	}
	if t.Log != nil {
		t.Log.Debug("gc percent", "from", t.percent, "to", pct, "alloc_mib_per_s", int(t.rate/(1<<20)), "live_mib", s.Live>>20)
	}
	t.percent = pct
	t.Set(pct)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var runtimeMetrics = []string{"/gc/heap/allocs:bytes", "/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes"}

// ReadRuntime samples the running process (runtime/metrics).
func ReadRuntime() Sample {
	ms := make([]metrics.Sample, len(runtimeMetrics))
	for i, name := range runtimeMetrics {
		ms[i].Name = name
	}
	metrics.Read(ms)
	v := func(i int) uint64 {
		if ms[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return ms[i].Value.Uint64()
	}
	return Sample{Allocs: v(0), Live: v(1), Scannable: v(1) + v(2) + v(3)}
}
