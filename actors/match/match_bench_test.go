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
// no window at all among old tickets (the closest-first greedy dead-ends),
// solo and with the party mix (the lookahead's existence search).
func BenchmarkFormHard(b *testing.B) {
	const at = int64(1_700_000_000_000)
	zero := five
	zero.InitialWindow, zero.MaxWindow = 0, 5000
	cases := []struct {
		name  string
		p     Params
		scale float64
		mix   []float64
	}{
		{"5v5/sparse/100k", five, 1000, []float64{1}},
		{"5v5/zero-window/100k", zero, 1, []float64{1}},
		{"5v5/party-mix/sparse/100k", five, 1000, partyMix},
		{"5v5/party-mix/zero-window/100k", zero, 1, partyMix},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			pool := partyPool(100_000, 42, at, c.mix)
			for i := range pool {
				pool[i].Rating *= c.scale
				for j := range pool[i].Members {
					pool[i].Members[j].Rating *= c.scale
				}
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
// allocates only the returned groups (three slices), however large the pool,
// on the solo path and the units path alike.
func TestMatcherAllocs(t *testing.T) {
	const at = int64(1_700_000_000_000)
	regions := duel
	regions.Regions = []string{"eu", "us-east", "asia"}
	regions.Latency = LatencyRule{MaxMs: 60, WidenPerSecond: 2, MaxMsLimit: 150}
	regions.Region = "us-east"
	tests := []struct {
		name string
		p    Params
		mix  []float64
	}{
		{"1v1", duel, []float64{1}},
		{"5v5", five, []float64{1}},
		{"5v5 party mix", five, partyMix},
		{"1v1 regions", regions, []float64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := partyPool(20_000, 5, at, tt.mix)
			withLatencies(pool, 3, 5)
			var m Matcher
			m.Form(pool, tt.p, at)
			if got := testing.AllocsPerRun(5, func() { m.Form(pool, tt.p, at) }); got > 3 {
				t.Errorf("got %v allocations per Form, want at most 3", got)
			}
		})
	}
}

// partyPool is uniformPool with parties: each ticket is a party of a size
// drawn from mix (mix[i] is the share of parties of i+1 players) whose
// members are rated within 150 points of the party's mean.
func partyPool(n int, seed uint64, at int64, mix []float64) []Ticket {
	pool := uniformPool(n, seed, at)
	r := rand.New(rand.NewPCG(seed, 2))
	for i := range pool {
		size, x := 1, r.Float64()
		for acc := mix[0]; size < len(mix) && x >= acc; size++ {
			acc += mix[size]
		}
		if size == 1 {
			continue
		}
		pool[i].Members = make([]Member, size)
		for j := range pool[i].Members {
			pool[i].Members[j] = Member{
				ID:     fmt.Sprintf("%s.%d", pool[i].ID, j),
				Rating: pool[i].Rating + (r.Float64()-0.5)*300,
			}
		}
	}
	return pool
}

// withLatencies gives every ticket of pool a latency to each of regions
// regions, uniform over 20..220 ms: about half the pairs of tickets share a
// playable region at once, more as limits widen.
func withLatencies(pool []Ticket, regions int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range pool {
		pool[i].LatencyMs = make([]float64, regions)
		for j := range pool[i].LatencyMs {
			pool[i].LatencyMs[j] = 20 + r.Float64()*200
		}
	}
}

// partyMix is issue 16's realistic mix: 60% solo, 25% duos, 10% trios, 5%
// fives.
var partyMix = []float64{0.60, 0.25, 0.10, 0, 0.05}

// BenchmarkFormParties is BenchmarkForm on the units path: 5v5 with the
// party mix, and with regions (solo 1v1 and the party mix), each region's
// call over the whole listed pool as a region leader makes it.
func BenchmarkFormParties(b *testing.B) {
	const at = int64(1_700_000_000_000)
	regions := func(p Params) Params {
		p.Regions = []string{"eu", "us-east", "asia"}
		p.Latency = LatencyRule{MaxMs: 60, WidenPerSecond: 2, MaxMsLimit: 150}
		p.Region = "eu"
		return p
	}
	cases := []struct {
		name    string
		p       Params
		mix     []float64
		regions bool
	}{
		{"5v5/party-mix", five, partyMix, false},
		{"1v1/regions", duel, []float64{1}, true},
		{"5v5/party-mix/regions", five, partyMix, true},
	}
	for _, c := range cases {
		for _, n := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%dk", c.name, n/1000), func(b *testing.B) {
				pool := partyPool(n, 42, at, c.mix)
				p := c.p
				if c.regions {
					withLatencies(pool, 3, 42)
					p = regions(p)
				}
				var m Matcher
				b.ReportAllocs()
				for b.Loop() {
					m.Form(pool, p, at)
				}
			})
		}
	}
}
