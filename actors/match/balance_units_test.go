package match

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomGroup builds the units of one match of shape p: parties drawn from
// mix (seats -> weight) until the seats are filled exactly, member ratings
// uniform over span points. Every unit shares one queue time and the window
// is unbounded, so Form seats them all as one group.
func randomGroup(r *rand.Rand, p Params, mix []float64, span float64) []Ticket {
	var pool []Ticket
	free := make([]int, p.Teams)
	for i := range free {
		free[i] = p.TeamSize
	}
	for t := range free {
		for free[t] > 0 {
			size := 1
			for x, acc := r.Float64(), 0.0; size < len(mix); size++ {
				if acc += mix[size-1]; x < acc {
					break
				}
			}
			size = min(size, free[t])
			free[t] -= size
			id := fmt.Sprintf("u%02d", len(pool))
			base := 1000 + r.Float64()*span
			if size == 1 {
				pool = append(pool, Ticket{ID: id, Rating: base, QueuedAtMs: now})
				continue
			}
			u := Ticket{ID: id, QueuedAtMs: now}
			for j := range size {
				rating := base
				if r.IntN(2) == 0 {
					rating = 1000 + r.Float64()*span // a mixed party
				}
				u.Members = append(u.Members, Member{ID: fmt.Sprintf("%s.%d", id, j), Rating: rating})
			}
			pool = append(pool, u)
		}
	}
	return pool
}

// TestBalanceMargin measures the deal against the best seating brute force
// finds, over many random groups of the usual shapes, and holds it to the
// margin the package doc states.
func TestBalanceMargin(t *testing.T) {
	shapes := []struct {
		teams, size int
	}{{2, 5}, {2, 3}, {2, 4}, {3, 3}, {3, 2}, {4, 2}, {2, 6}}
	mixes := [][]float64{
		{0.6, 0.25, 0.10, 0, 0.05}, // the benchmark's party mix
		{0.3, 0.4, 0.3},
		{1},
	}
	const groups = 4000
	r := rand.New(rand.NewPCG(5, 5))
	worst := map[bool]float64{} // parties? -> worst margin / member range
	meanSum, meanN := 0.0, 0
	for i := range groups {
		sh := shapes[i%len(shapes)]
		p := Params{Teams: sh.teams, TeamSize: sh.size, InitialWindow: math.Inf(1), MaxWindow: math.Inf(1)}
		pool := randomGroup(r, p, mixes[r.IntN(len(mixes))], []float64{30, 300, 2000}[r.IntN(3)])
		got := Form(pool, p, now)
		if len(got) != 1 {
			t.Fatalf("case %d: got %d groups from one match's units, want 1", i, len(got))
		}
		rf := newURef(pool, p, now)
		var all []int
		sums := make([]float64, p.Teams)
		lo, hi := math.Inf(1), math.Inf(-1)
		for ti, team := range got[0].Teams {
			for _, j := range team {
				x := pool[j]
				all = append(all, j)
				sums[ti] += rf.sum[j]
				if len(x.Members) == 0 {
					lo, hi = math.Min(lo, x.Rating), math.Max(hi, x.Rating)
				}
				for _, mb := range x.Members {
					lo, hi = math.Min(lo, mb.Rating), math.Max(hi, mb.Rating)
				}
			}
		}
		margin := (slices.Max(sums) - slices.Min(sums) - rf.optBalance(all)) / (hi - lo)
		parties := len(all) < p.Size()
		worst[parties] = math.Max(worst[parties], margin)
		if parties {
			meanSum += margin
			meanN++
		}
		limit := soloBalanceMargin
		if parties {
			limit = partyBalanceMargin
		}
		if margin > limit+1e-9 {
			t.Fatalf("case %d (%dx%d): got a margin of %.3f of the member range over the best seating, want at most %v", i, p.Teams, p.TeamSize, margin, limit)
		}
	}
	t.Logf("margin over the best seating, as a fraction of the member range: worst %.3f with parties (mean %.5f), worst %.3f solo only",
		worst[true], meanSum/float64(meanN), worst[false])
}
