package redisx_test

// Benchmarks of every hot script through its wrapper, on a real
// redis-server only (MATCHD_TEST_REDIS_ADDR, or one started for the run).
// Each sets up its own prefix and deletes its keys afterwards; setup is
// outside the timer.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

func benchClient(b *testing.B) *redisx.Client {
	b.Helper()
	return open(b, redistest.Config(b))
}

// fill queues n tickets (players b000000...) in mode, concurrently so that
// rueidis pipelines them.
func fill(b *testing.B, c *redisx.Client, mode string, n int) []redisx.Ticket {
	b.Helper()
	tks := make([]redisx.Ticket, n)
	for i := range tks {
		tks[i] = ticket(mode, fmt.Sprintf("b%07d", i), t0+int64(i))
	}
	const workers = 64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if _, err := c.Enqueue(context.Background(), tks[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return tks
}

// rooms forms n duel rooms (two tickets each) in batches of 50, returning
// their match ids and members.
func rooms(b *testing.B, c *redisx.Client, mode string, n int) ([]string, [][2]string) {
	b.Helper()
	tks := fill(b, c, mode, 2*n)
	l := lease(b, c, mode, time.Hour)
	ids := make([]string, n)
	members := make([][2]string, n)
	for start := 0; start < n; start += 50 {
		var batch []redisx.ClaimMatch
		for i := start; i < min(start+50, n); i++ {
			ids[i] = fmt.Sprintf("m%07d", i)
			members[i] = [2]string{tks[2*i].Player, tks[2*i+1].Player}
			batch = append(batch, cm(ids[i], tks[2*i], tks[2*i+1]))
		}
		a := claimArgs
		// Long enough for any benchtime: a mark after the deadline is
		// refused.
		a.RoomTTL, a.LoadingTimeout = time.Hour, time.Hour
		cr, err := c.Claim(context.Background(), mode, l, a, batch)
		if err != nil {
			b.Fatal(err)
		}
		for i, ok := range cr.Formed {
			if !ok {
				b.Fatalf("setup: match %s not formed", batch[i].MatchID)
			}
		}
	}
	return ids, members
}

func BenchmarkEnqueue(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		c := benchClient(b)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			tk := ticket("duel", fmt.Sprintf("b%07d", i), t0+int64(i))
			if r, err := c.Enqueue(ctx, tk); err != nil || r.Status != redisx.EnqueueCreated {
				b.Fatalf("Enqueue: %d, %v", r.Status, err)
			}
		}
	})
	// Many sessions enqueueing at once, as a node under load does: rueidis
	// pipelines concurrent calls on one connection.
	b.Run("parallel", func(b *testing.B) {
		c := benchClient(b)
		ctx := context.Background()
		var mu sync.Mutex
		next := 0
		b.SetParallelism(16) // 16 callers per CPU
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				tk := ticket("duel", fmt.Sprintf("b%07d", i), t0+int64(i))
				if _, err := c.Enqueue(ctx, tk); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkClaim(b *testing.B) {
	for _, perCall := range []int{1, 50} {
		b.Run(fmt.Sprintf("matches=%d", perCall), func(b *testing.B) {
			c := benchClient(b)
			ctx, mode := context.Background(), "duel"
			tks := fill(b, c, mode, 2*perCall*b.N)
			l := lease(b, c, mode, time.Hour)
			batches := make([][]redisx.ClaimMatch, b.N)
			for i := range batches {
				for j := range perCall {
					x := 2 * (i*perCall + j)
					batches[i] = append(batches[i], cm(fmt.Sprintf("m%07d", x/2), tks[x], tks[x+1]))
				}
			}
			a := claimArgs
			a.RoomTTL = time.Hour
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cr, err := c.Claim(ctx, mode, l, a, batches[i])
				if err != nil || len(cr.Formed) != perCall || !cr.Formed[0] {
					b.Fatalf("Claim: %+v, %v", cr, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perCall), "ns/match")
		})
	}
}

func BenchmarkMarkReady(b *testing.B) {
	c := benchClient(b)
	ctx, mode := context.Background(), "duel"
	ids, members := rooms(b, c, mode, (b.N+1)/2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := c.MarkReady(ctx, mode, ids[i/2], members[i/2][i%2], 0)
		if err != nil || !r.New {
			b.Fatalf("MarkReady: %+v, %v", r, err)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	for _, tc := range []struct {
		name  string
		ready int // members marked ready before the resolve
		r     redisx.Resolution
		want  redisx.RoomState
	}{
		{"start", 2, redisx.Resolution{Outcome: redisx.ResolveStart, FinishedTTL: time.Minute, OutcomeTTL: time.Minute}, redisx.RoomStarted},
		{"cancel_requeue_one", 1, redisx.Resolution{Outcome: redisx.ResolveCancel, Reason: "loading_timeout", FinishedTTL: time.Minute, OutcomeTTL: time.Minute}, redisx.RoomCancelled},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := benchClient(b)
			ctx, mode := context.Background(), "duel"
			ids, members := rooms(b, c, mode, b.N)
			for i := range ids {
				for _, p := range members[i][:tc.ready] {
					if r, err := c.MarkReady(ctx, mode, ids[i], p, 0); err != nil || !r.New {
						b.Fatalf("MarkReady: %+v, %v", r, err)
					}
				}
				// A timeout is refused before the deadline (Redis's clock).
				if tc.r.Reason == "loading_timeout" {
					expireDeadline(b, c, mode, ids[i])
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := c.Resolve(ctx, mode, ids[i], members[i][:], tc.r)
				if err != nil || r.Status != redisx.ResolveOK || r.State != tc.want {
					b.Fatalf("Resolve: %+v, %v", r, err)
				}
			}
		})
	}
}

func BenchmarkLockExtend(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	l := lease(b, c, "duel", time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, err := c.ExtendLock(ctx, "duel", l.Token, time.Minute); err != nil || !ok {
			b.Fatalf("ExtendLock: %v, %v", ok, err)
		}
	}
}

// BenchmarkPing is the round-trip floor the script benchmarks sit on.
func BenchmarkPing(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPool reads a whole queue, as the matching leader does once a
// tick while the queue is at least one match deep.
func BenchmarkPool(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			c := benchClient(b)
			fill(b, c, "duel", n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				pool, err := c.Pool(context.Background(), "duel")
				if err != nil || len(pool) != n {
					b.Fatalf("pool: %d tickets, %v; want %d", len(pool), err, n)
				}
			}
		})
	}
}

// BenchmarkReadTruthBatch reads where 1,000 players of a mode stand and
// whether they have untold outcomes, as a node's periodic reconcile does;
// one in a hundred has an outcome.
func BenchmarkReadTruthBatch(b *testing.B) {
	c := benchClient(b)
	ctx, mode := context.Background(), "duel"
	tks := fill(b, c, mode, 1000)
	players := make([]string, len(tks))
	recs := map[string]redisx.Outcome{}
	for i, tk := range tks {
		players[i] = tk.Player
		if i%100 == 0 {
			recs[tk.Player] = redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m0", Mode: mode, Reason: "room_lost"}
		}
	}
	if err := c.PushOutcomes(ctx, mode, recs, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		entries, _, err := c.ReadTruthBatch(ctx, mode, players)
		if err != nil || len(entries) != len(players) {
			b.Fatalf("ReadTruthBatch: %d entries, %v", len(entries), err)
		}
	}
}

// BenchmarkDirTouchBatch renews 1,000 sessions' directory entries, as a
// node does a few times per directory TTL.
func BenchmarkDirTouchBatch(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	leases := make([]redisx.DirLease, 1000)
	for i := range leases {
		leases[i] = redisx.DirLease{Player: fmt.Sprintf("b%07d", i), Session: fmt.Sprintf("s%07d", i)}
		if _, err := c.DirClaim(ctx, leases[i].Player, "node-a", leases[i].Session, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		owned, err := c.DirTouchBatch(ctx, "node-a", leases, time.Hour)
		if err != nil || len(owned) != len(leases) || !owned[0] {
			b.Fatalf("DirTouchBatch: %d results, %v", len(owned), err)
		}
	}
}
