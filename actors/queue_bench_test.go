package actors

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/matchd/matchd/config"

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
			// The production lease (the test nodes' is 300 ms): a new
			// leader's first tick reads the whole pool, and on a busy
			// machine that can outlast a short lease, which then never holds.
			n := startTestNode(b, redistest.Config(b), func(c *config.Config) { c.Matchmaking.LockTTL = 2 * time.Second })
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
			measureTicks(b, n, "duel")
		})
	}
}

// BenchmarkLeaderTickParties is BenchmarkLeaderTick for a 5 v 5 mode with a
// realistic party mix (of tickets: 60 % solo, 25 % duos, 10 % trios, 5 %
// fives) and realistic queue times: each party's members are rated alike,
// and the parties are spaced beyond the widest window, so every tick does
// the full pass over parties.
func BenchmarkLeaderTickParties(b *testing.B) {
	const size = 100_000
	b.Run("5v5/party-mix/100k", func(b *testing.B) {
		n := startTestNode(b, redistest.Config(b), func(c *config.Config) {
			m := c.Matchmaking.Modes[0]
			m.Name, m.Teams, m.TeamSize = "five", 2, 5
			c.Matchmaking.Modes = append(c.Matchmaking.Modes, m)
			// The production lease: a new leader's first tick reads the
			// whole pool (160,000 players' tickets), longer than the test
			// nodes' 300 ms lease.
			c.Matchmaking.LockTTL = 2 * time.Second
		})
		now := time.Now().UnixMilli()
		sizeOf := func(i int) int {
			switch r := i % 20; {
			case r < 12:
				return 1
			case r < 17:
				return 2
			case r < 19:
				return 3
			}
			return 5
		}
		var wg sync.WaitGroup
		const workers = 64
		for w := range workers {
			wg.Go(func() {
				ctx := context.Background()
				for i := w; i < size; i += workers {
					k := sizeOf(i)
					// Queue times 1 ms apart, as a real queue's are (the
					// solo variant's identical times make the matcher break
					// 100,000 ties by id, which no real pool asks of it).
					t := redisx.Ticket{ID: newID(), Mode: "five", Rating: float64(i) * 2000, QueuedAtMs: now - int64(size-i)}
					for j := range k {
						p := fmt.Sprintf("b%07d-%d", i, j)
						if k > 1 {
							t.Members = append(t.Members, redisx.TicketMember{Player: p, Rating: t.Rating})
						}
						if _, err := n.rc.DirClaim(ctx, p, n.env.Node, "s"+p, time.Hour); err != nil {
							b.Error(err)
							return
						}
					}
					t.Player = fmt.Sprintf("b%07d-0", i)
					if k > 1 {
						t.Party = "party-" + t.Player
					}
					if _, err := n.rc.Enqueue(ctx, t); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		measureTicks(b, n, "five")
	})
}

// measureTicks reports the mean of b.N of the node's matching ticks of mode
// (from matchd_matching_tick_seconds) as ms/tick, after three warm-up ticks
// (the first reads the whole pool).
func measureTicks(b *testing.B, n *testNode, mode string) {
	ticks := func() (uint64, float64) {
		var m dto.Metric
		_ = n.metrics.MatchingTick.WithLabelValues(mode).(interface{ Write(*dto.Metric) error }).Write(&m)
		return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
	}
	c0, _ := ticks()
	waitFor(b, "warm-up ticks", func() bool { c, _ := ticks(); return c >= c0+3 })
	b.ResetTimer()
	c1, s1 := ticks()
	waitFor(b, "measured ticks", func() bool { c, _ := ticks(); return c >= c1+uint64(b.N) })
	b.StopTimer()
	c2, s2 := ticks()
	b.ReportMetric((s2-s1)/float64(c2-c1)*1000, "ms/tick")
}
