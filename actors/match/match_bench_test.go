package match

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// uniformPool is n tickets with ratings uniform over 0..3000 and queue times
// uniform over the minute before at: the benchmark's model of a busy queue.
// IDs are 32 random hex digits, like the queue actor's.
func uniformPool(n int, seed uint64, at int64) []Ticket {
	r := rand.New(rand.NewPCG(seed, 1))
	pool := make([]Ticket, n)
	for i := range pool {
		pool[i] = Ticket{
			ID:         fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()),
			Rating:     r.Float64() * 3000,
			QueuedAtMs: at - r.Int64N(60_000),
		}
	}
	return pool
}

// meanSpread forms 1v1 matches out of pool and returns the mean spread and
// how many tickets were matched.
func meanSpread(pool []Ticket, at int64) (float64, int) {
	groups := Form(pool, duel, at)
	total := 0.0
	for _, g := range groups {
		total += g.Spread
	}
	if len(groups) == 0 {
		return 0, 0
	}
	return total / float64(len(groups)), 2 * len(groups)
}

// TestMeanSpread1v1Uniform pins match quality: with 10k tickets uniform over
// 0..3000 (3.3 per rating point) and a 100-point initial window, pairs are
// nearly exact. Measured 0.69 to 0.79 over seeds 1..20, with 4 to 8
// tickets left over (isolated once their neighbours paired off; they pair
// on a later tick as windows widen). Nakama's matcher averages about 50 with
// a +-100 window. The bounds leave room for seed noise but would catch a
// matcher that takes any compatible mate instead of the closest.
func TestMeanSpread1v1Uniform(t *testing.T) {
	tests := []struct {
		name string
		seed uint64
	}{
		{"seed 1", 1},
		{"seed 2", 2},
		{"seed 3", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const at = int64(1_700_000_000_000)
			pool := uniformPool(10_000, tt.seed, at)
			mean, matched := meanSpread(pool, at)
			if mean > 1 {
				t.Errorf("got mean spread %.3f, want <= 1", mean)
			}
			if want := len(pool) - len(pool)/500; matched < want {
				t.Errorf("got %d tickets matched, want at least %d", matched, want)
			}
		})
	}
}

func BenchmarkForm(b *testing.B) {
	const at = int64(1_700_000_000_000)
	modes := []struct {
		name string
		p    Params
	}{
		{"1v1", duel},
		{"5v5", five},
	}
	sizes := []struct {
		name string
		n    int
	}{
		{"1k", 1_000},
		{"10k", 10_000},
		{"100k", 100_000},
	}
	for _, mode := range modes {
		for _, size := range sizes {
			b.Run(mode.name+"/"+size.name, func(b *testing.B) {
				pool := uniformPool(size.n, 42, at)
				var m Matcher
				b.ReportAllocs()
				for b.Loop() {
					m.Form(pool, mode.p, at)
				}
			})
		}
	}
}

// BenchmarkFormHard covers the pools the exact search works hardest on:
// sparse ratings (many anchors with no group to prove it) and newcomers with
// no window at all among old tickets (the closest-first greedy dead-ends).
func BenchmarkFormHard(b *testing.B) {
	const at = int64(1_700_000_000_000)
	zero := five
	zero.InitialWindow, zero.MaxWindow = 0, 5000
	cases := []struct {
		name  string
		p     Params
		scale float64
	}{
		{"5v5/sparse/100k", five, 1000},
		{"5v5/zero-window/100k", zero, 1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			pool := uniformPool(100_000, 42, at)
			for i := range pool {
				pool[i].Rating *= c.scale
			}
			var m Matcher
			b.ReportAllocs()
			for b.Loop() {
				m.Form(pool, c.p, at)
			}
		})
	}
}

// BenchmarkFormFresh is BenchmarkForm/1v1/100k through the package-level
// Form, which allocates its buffers on every call.
func BenchmarkFormFresh(b *testing.B) {
	const at = int64(1_700_000_000_000)
	pool := uniformPool(100_000, 42, at)
	b.ReportAllocs()
	for b.Loop() {
		Form(pool, duel, at)
	}
}

// BenchmarkSpread1v1Uniform reports the mean rating spread of 1v1 matches
// for 10k uniform ratings and a 100-point initial window, as spread/match.
func BenchmarkSpread1v1Uniform(b *testing.B) {
	const at = int64(1_700_000_000_000)
	pool := uniformPool(10_000, 42, at)
	var mean float64
	for b.Loop() {
		mean, _ = meanSpread(pool, at)
	}
	b.ReportMetric(mean, "spread/match")
}

// TestMatcherAllocs pins the hot path's allocations: a warmed-up Matcher
// allocates only the returned groups (three slices), however large the pool.
func TestMatcherAllocs(t *testing.T) {
	const at = int64(1_700_000_000_000)
	tests := []struct {
		name string
		p    Params
	}{
		{"1v1", duel},
		{"5v5", five},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := uniformPool(20_000, 5, at)
			var m Matcher
			m.Form(pool, tt.p, at)
			if got := testing.AllocsPerRun(5, func() { m.Form(pool, tt.p, at) }); got > 3 {
				t.Errorf("got %v allocations per Form, want at most 3", got)
			}
		})
	}
}
