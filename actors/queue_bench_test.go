package actors

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// BenchmarkLeaderTick measures one matching tick of the lease holder over a
// large pool on real Redis: the change-list read, the matching pass over
// every ticket and the liveness sample. Ratings are spaced beyond the widest
// window, so no ticket matches and every tick does the full pass. Reported as
// ms/tick, from matchd_matching_tick_seconds.
func BenchmarkLeaderTick(b *testing.B) {
	for _, size := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", size/1000), func(b *testing.B) {
			n := startTestNode(b, redistest.Config(b), nil)
			now := time.Now().UnixMilli()
			var wg sync.WaitGroup
			const workers = 64
			for w := range workers {
				wg.Go(func() {
					ctx := context.Background()
					for i := w; i < size; i += workers {
						p := fmt.Sprintf("b%07d", i)
						t := redisx.Ticket{ID: newID(), Player: p, Mode: "duel", Rating: float64(i) * 2000, QueuedAtMs: now}
						if _, err := n.rc.Enqueue(ctx, t); err != nil {
							b.Error(err)
							return
						}
						if _, err := n.rc.DirClaim(ctx, p, n.env.Node, "s"+p, time.Hour); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			ticks := func() (uint64, float64) {
				var m dto.Metric
				_ = n.metrics.MatchingTick.WithLabelValues("duel").(interface{ Write(*dto.Metric) error }).Write(&m)
				return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			}
			// Warm up: the first tick reads the whole pool.
			c0, _ := ticks()
			waitFor(b, "warm-up ticks", func() bool { c, _ := ticks(); return c >= c0+3 })
			b.ResetTimer()
			c1, s1 := ticks()
			waitFor(b, "measured ticks", func() bool { c, _ := ticks(); return c >= c1+uint64(b.N) })
			b.StopTimer()
			c2, s2 := ticks()
			b.ReportMetric((s2-s1)/float64(c2-c1)*1000, "ms/tick")
		})
	}
}
