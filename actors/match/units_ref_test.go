package match

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// The units reference: the package doc's rule for pools with parties or
// regions, written by brute force (every subset, every seating) and without
// the implementation's helpers, for small pools.

// party builds a party ticket queued agoSec seconds before now.
func party(id string, agoSec float64, ratings ...float64) Ticket {
	t := tk(id, 0, agoSec)
	for i, r := range ratings {
		t.Members = append(t.Members, Member{ID: fmt.Sprintf("%s.%d", id, i), Rating: r})
	}
	return t
}

// uref is one pool as the reference sees it at one time.
type uref struct {
	pool   []Ticket
	p      Params
	at     int64
	region int // -1 without regions

	in      []int // pool indexes taking part, oldest first
	rating  []float64
	sum     []float64
	win     []float64
	size    []int
	ageRank []int
	fill    map[string]bool // sorted sizes -> seatable exactly
}

func refSum(t Ticket) float64 {
	if len(t.Members) == 0 {
		return t.Rating
	}
	s := 0.0
	for _, x := range t.Members {
		s += x.Rating
	}
	return s
}

func refLatency(t Ticket, i int) float64 {
	if i >= len(t.LatencyMs) || !(t.LatencyMs[i] >= 0) || math.IsInf(t.LatencyMs[i], 1) {
		return math.Inf(1)
	}
	return t.LatencyMs[i]
}

func refPlayable(p Params, t Ticket, i int, at int64) bool {
	w := 0.0
	if at > t.QueuedAtMs {
		w = float64(at-t.QueuedAtMs) / 1000
	}
	return refLatency(t, i) <= math.Min(p.Latency.MaxMs+p.Latency.WidenPerSecond*w, p.Latency.MaxMsLimit)
}

// refBest returns the best common region of tickets ts, or -1.
func refBest(p Params, ts []Ticket, at int64) (int, float64) {
	best, bestL := -1, math.Inf(1)
	for i := range p.Regions {
		worst := 0.0
		for _, t := range ts {
			if !refPlayable(p, t, i, at) {
				worst = math.Inf(1)
				break
			}
			worst = math.Max(worst, refLatency(t, i))
		}
		if worst < bestL {
			best, bestL = i, worst
		}
	}
	return best, bestL
}

func newURef(pool []Ticket, p Params, at int64) *uref {
	rf := &uref{pool: pool, p: p, at: at, region: -1, fill: map[string]bool{}}
	for i, r := range p.Regions {
		if r == p.Region {
			rf.region = i
		}
	}
	rf.rating = make([]float64, len(pool))
	rf.sum = make([]float64, len(pool))
	rf.win = make([]float64, len(pool))
	rf.size = make([]int, len(pool))
	for i, t := range pool {
		rf.size[i] = max(1, len(t.Members))
		rf.sum[i] = refSum(t)
		rf.rating[i] = rf.sum[i] / float64(rf.size[i])
		if len(t.Members) == 0 {
			rf.rating[i] = t.Rating
		}
		rf.win[i] = p.Window(t, at)
		ok := !math.IsNaN(rf.rating[i]) && !math.IsInf(rf.rating[i], 0) && rf.size[i] <= p.TeamSize
		if rf.region >= 0 && !refPlayable(p, t, rf.region, at) {
			ok = false
		}
		if ok {
			rf.in = append(rf.in, i)
		}
	}
	slices.SortFunc(rf.in, func(x, y int) int {
		if a, b := pool[x].QueuedAtMs, pool[y].QueuedAtMs; a != b {
			return int(a - b)
		}
		return strings.Compare(pool[x].ID, pool[y].ID)
	})
	rf.ageRank = make([]int, len(pool))
	for r, i := range rf.in {
		rf.ageRank[i] = r
	}
	return rf
}

// seatable reports whether units of these sizes fill the teams exactly,
// trying every seating.
func (rf *uref) seatable(sizes []int) bool {
	s := slices.Clone(sizes)
	slices.Sort(s)
	key := fmt.Sprint(s)
	if v, ok := rf.fill[key]; ok {
		return v
	}
	free := make([]int, rf.p.Teams)
	for i := range free {
		free[i] = rf.p.TeamSize
	}
	var rec func(i int) bool
	rec = func(i int) bool {
		if i == len(s) {
			for _, f := range free {
				if f != 0 {
					return false
				}
			}
			return true
		}
		for t := range free {
			if free[t] >= s[i] {
				free[t] -= s[i]
				if rec(i + 1) {
					return true
				}
				free[t] += s[i]
			}
		}
		return false
	}
	v := rec(0)
	rf.fill[key] = v
	return v
}

// valid reports whether the units (pool indexes) may form a match.
func (rf *uref) valid(g []int) bool {
	lo, hi, w := math.Inf(1), math.Inf(-1), math.Inf(1)
	var sizes []int
	for _, i := range g {
		lo, hi, w = math.Min(lo, rf.rating[i]), math.Max(hi, rf.rating[i]), math.Min(w, rf.win[i])
		sizes = append(sizes, rf.size[i])
	}
	return hi-lo <= w && rf.seatable(sizes)
}

// subsets calls fn with every subset of set (pool indexes) holding need
// seats, until fn returns false.
func (rf *uref) subsets(set []int, need int, fn func([]int) bool) {
	var cur []int
	var rec func(from, need int) bool
	rec = func(from, need int) bool {
		if need == 0 {
			return fn(cur)
		}
		for j := from; j < len(set); j++ {
			if rf.size[set[j]] <= need {
				cur = append(cur, set[j])
				if !rec(j+1, need-rf.size[set[j]]) {
					return false
				}
				cur = cur[:len(cur)-1]
			}
		}
		return true
	}
	rec(0, need)
}

// fitsPartly reports whether units of these sizes can sit on the teams
// without overfilling any (seats may stay free), trying every seating.
func (rf *uref) fitsPartly(sizes []int) bool {
	free := make([]int, rf.p.Teams)
	for i := range free {
		free[i] = rf.p.TeamSize
	}
	var rec func(i int) bool
	rec = func(i int) bool {
		if i == len(sizes) {
			return true
		}
		for t := range free {
			if free[t] >= sizes[i] {
				free[t] -= sizes[i]
				ok := rec(i + 1)
				free[t] += sizes[i]
				if ok {
					return true
				}
			}
		}
		return false
	}
	return rec(0)
}

// greedy is the plain closest-first rule without lookahead: each candidate
// in mate order taken iff the group so far with it is still valid as far as
// it goes (spread, seats, seating). nil when it dead-ends.
func (rf *uref) greedy(a int, alive []int) []int {
	cands := slices.Clone(alive)
	slices.SortFunc(cands, func(x, y int) int {
		dx, dy := math.Abs(rf.rating[x]-rf.rating[a]), math.Abs(rf.rating[y]-rf.rating[a])
		if dx != dy {
			if dx < dy {
				return -1
			}
			return 1
		}
		return rf.ageRank[x] - rf.ageRank[y]
	})
	g := []int{a}
	seats := rf.size[a]
	for _, c := range cands {
		if seats == rf.p.Size() {
			break
		}
		next := append(slices.Clone(g), c)
		lo, hi, w := math.Inf(1), math.Inf(-1), math.Inf(1)
		var sizes []int
		for _, i := range next {
			lo, hi, w = math.Min(lo, rf.rating[i]), math.Max(hi, rf.rating[i]), math.Min(w, rf.win[i])
			sizes = append(sizes, rf.size[i])
		}
		if hi-lo <= w && seats+rf.size[c] <= rf.p.Size() && rf.fitsPartly(sizes) {
			g, seats = next, seats+rf.size[c]
		}
	}
	if seats != rf.p.Size() {
		return nil
	}
	return g
}

// refGroup is one group of the reference pass.
type refGroup struct {
	units   []int // anchor first, then mates in mate order
	region  int
	latency float64
}

// pass runs the rule's oldest-first pass and returns the groups and the
// anchors left to another region, and counts in lookahead the groups the
// plain greedy would not have found.
func (rf *uref) pass() (groups []refGroup, left map[int]bool, lookahead int) {
	alive := slices.Clone(rf.in)
	left = map[int]bool{}
	for _, a := range rf.in {
		if !slices.Contains(alive, a) {
			continue
		}
		alive = slices.DeleteFunc(alive, func(x int) bool { return x == a })
		g := rf.lexmin(a, alive)
		if g == nil {
			continue
		}
		if plain := rf.greedy(a, alive); !slices.Equal(sortedCopy(plain), sortedCopy(g)) {
			lookahead++
		}
		region, lat := -1, 0.0
		if rf.region >= 0 {
			ts := make([]Ticket, len(g))
			for j, i := range g {
				ts[j] = rf.pool[i]
			}
			region, lat = refBest(rf.p, ts, rf.at)
			if region != rf.region {
				left[a] = true
				continue
			}
		}
		alive = slices.DeleteFunc(alive, func(x int) bool { return slices.Contains(g, x) })
		groups = append(groups, refGroup{units: g, region: region, latency: lat})
	}
	return groups, left, lookahead
}

// lexmin returns anchor a's group among alive (a not in it): the valid
// group whose mates, listed in mate order (distance to a, then age), come
// first lexicographically; nil when none is valid.
func (rf *uref) lexmin(a int, alive []int) []int {
	cands := slices.Clone(alive)
	slices.SortFunc(cands, func(x, y int) int {
		dx, dy := math.Abs(rf.rating[x]-rf.rating[a]), math.Abs(rf.rating[y]-rf.rating[a])
		if dx != dy {
			if dx < dy {
				return -1
			}
			return 1
		}
		return rf.ageRank[x] - rf.ageRank[y]
	})
	var best []int
	found := false
	var cur []int
	var rec func(from, need int)
	rec = func(from, need int) {
		if need == 0 {
			g := append([]int{a}, cur...)
			if rf.valid(g) && (!found || lexLess(cur, best, cands)) {
				best, found = slices.Clone(cur), true
			}
			return
		}
		for j := from; j < len(cands); j++ {
			if rf.size[cands[j]] <= need {
				cur = append(cur, cands[j])
				rec(j+1, need-rf.size[cands[j]])
				cur = cur[:len(cur)-1]
			}
		}
	}
	rec(0, rf.p.Size()-rf.size[a])
	if !found {
		return nil
	}
	return append([]int{a}, best...)
}

// lexLess compares two mate lists (each in cands order) by their positions.
func lexLess(x, y, cands []int) bool {
	pos := func(i int) int { return slices.Index(cands, i) }
	for j := 0; j < len(x) && j < len(y); j++ {
		if px, py := pos(x[j]), pos(y[j]); px != py {
			return px < py
		}
	}
	return len(x) < len(y)
}

// anyValid reports whether some subset of set (with a common region when
// the mode has regions, in any region) forms a valid group.
func (rf *uref) anyValid(set []int) []int {
	var found []int
	rf.subsets(set, rf.p.Size(), func(g []int) bool {
		if !rf.valid(g) {
			return true
		}
		if len(rf.p.Regions) > 0 {
			ts := make([]Ticket, len(g))
			for j, i := range g {
				ts[j] = rf.pool[i]
			}
			if r, _ := refBest(rf.p, ts, rf.at); r < 0 {
				return true
			}
		}
		found = slices.Clone(g)
		return false
	})
	return found
}

// refDeal seats group g by the deals the package doc states, with "can take"
// decided by trying every seating of the units still to come, and returns
// the teams (pool indexes in draft order) and their rating sums.
func (rf *uref) refDeal(g []int) ([][]int, []float64) {
	order := slices.Clone(g)
	slices.SortStableFunc(order, func(x, y int) int {
		if rf.sum[x] != rf.sum[y] {
			if rf.sum[x] > rf.sum[y] {
				return -1
			}
			return 1
		}
		return rf.ageRank[x] - rf.ageRank[y]
	})
	T := rf.p.Teams
	deal := func(snake bool) ([][]int, []float64) {
		free := make([]int, T)
		for t := range free {
			free[t] = rf.p.TeamSize
		}
		teams := make([][]int, T)
		sums := make([]float64, T)
		canTake := func(i, t int) bool {
			if free[t] < rf.size[order[i]] {
				return false
			}
			free[t] -= rf.size[order[i]]
			defer func() { free[t] += rf.size[order[i]] }()
			var rec func(j int) bool
			rec = func(j int) bool {
				if j == len(order) {
					return true
				}
				for u := range free {
					if free[u] >= rf.size[order[j]] {
						free[u] -= rf.size[order[j]]
						ok := rec(j + 1)
						free[u] += rf.size[order[j]]
						if ok {
							return true
						}
					}
				}
				return false
			}
			return rec(i + 1)
		}
		turn := 0
		for i, x := range order {
			pick := -1
			if snake {
				for q := turn; pick < 0; q++ {
					t := q % T
					if (q/T)%2 == 1 {
						t = T - 1 - t
					}
					if canTake(i, t) {
						pick, turn = t, q+1
					}
				}
			} else {
				for t := range T {
					if canTake(i, t) && (pick < 0 || sums[t] < sums[pick]) {
						pick = t
					}
				}
			}
			teams[pick] = append(teams[pick], x)
			free[pick] -= rf.size[x]
			sums[pick] += rf.sum[x]
		}
		return teams, sums
	}
	teams, sums := deal(true)
	if !slices.ContainsFunc(g, func(i int) bool { return rf.size[i] > 1 }) {
		// Solo groups: the better of the snake and the lowest-sum deal, no
		// exchanges.
		if tb, sb := deal(false); slices.Max(sb)-slices.Min(sb) < slices.Max(sums)-slices.Min(sums) {
			teams, sums = tb, sb
		}
		return teams, sums
	}
	// Exchanges of one unit for one or two of the same seats on another
	// team, the best first, while one narrows the spread (the first found
	// in draft order on a tie).
	teamOf := map[int]int{}
	for t, team := range teams {
		for _, x := range team {
			teamOf[x] = t
		}
	}
	for {
		type move struct{ x, y, z int } // z < 0: one for one
		var best *move
		bestS := slices.Max(sums) - slices.Min(sums)
		try := func(mv move) {
			tx, ty := teamOf[order[mv.x]], teamOf[order[mv.y]]
			d := rf.sum[order[mv.x]] - rf.sum[order[mv.y]]
			if mv.z >= 0 {
				d = rf.sum[order[mv.x]] - (rf.sum[order[mv.y]] + rf.sum[order[mv.z]])
			}
			trial := slices.Clone(sums)
			trial[tx], trial[ty] = sums[tx]-d, sums[ty]+d
			if s := slices.Max(trial) - slices.Min(trial); s < bestS {
				best, bestS = &mv, s
			}
		}
		for i := range order {
			for j := range order {
				if teamOf[order[j]] == teamOf[order[i]] {
					continue
				}
				if rf.size[order[j]] == rf.size[order[i]] && j > i {
					try(move{i, j, -1})
				}
				for k := j + 1; k < len(order); k++ {
					if teamOf[order[k]] == teamOf[order[j]] && rf.size[order[j]] < rf.size[order[i]] &&
						rf.size[order[j]]+rf.size[order[k]] == rf.size[order[i]] {
						try(move{i, j, k})
					}
				}
			}
		}
		if best == nil {
			break
		}
		tx, ty := teamOf[order[best.x]], teamOf[order[best.y]]
		d := rf.sum[order[best.x]] - rf.sum[order[best.y]]
		if best.z >= 0 {
			d = rf.sum[order[best.x]] - (rf.sum[order[best.y]] + rf.sum[order[best.z]])
			teamOf[order[best.z]] = tx
		}
		sums[tx], sums[ty] = sums[tx]-d, sums[ty]+d
		teamOf[order[best.x]], teamOf[order[best.y]] = ty, tx
	}
	out := make([][]int, T)
	for _, x := range order {
		out[teamOf[x]] = append(out[teamOf[x]], x)
	}
	return out, sums
}

// optBalance returns the smallest team-sum spread over every exact seating
// of group g.
func (rf *uref) optBalance(g []int) float64 {
	T := rf.p.Teams
	free := make([]int, T)
	for t := range free {
		free[t] = rf.p.TeamSize
	}
	sums := make([]float64, T)
	best := math.Inf(1)
	var rec func(j int)
	rec = func(j int) {
		if j == len(g) {
			best = math.Min(best, slices.Max(sums)-slices.Min(sums))
			return
		}
		for t := range T {
			if free[t] >= rf.size[g[j]] {
				free[t] -= rf.size[g[j]]
				sums[t] += rf.sum[g[j]]
				rec(j + 1)
				sums[t] -= rf.sum[g[j]]
				free[t] += rf.size[g[j]]
			}
		}
	}
	rec(0)
	return best
}

// randomUnitCase builds a small pool with parties (and, with regions,
// latencies) and params, dense enough that windows, ties, dead ends and
// packing failures all happen often.
func randomUnitCase(r *rand.Rand, maxUnits int, regions bool) ([]Ticket, Params, int64) {
	pool, p, at := randomCase(r, maxUnits)
	shapes := [][2]int{{2, 2}, {2, 3}, {2, 4}, {3, 2}, {1, 4}, {2, 5}, {3, 3}, {2, 1}, {1, 3}}
	sh := shapes[r.IntN(len(shapes))]
	p.Teams, p.TeamSize = sh[0], sh[1]
	soloShare := []float64{0.2, 0.5, 0.8}[r.IntN(3)]
	for i := range pool {
		switch x := r.Float64(); {
		case x < soloShare:
			if r.IntN(8) == 0 {
				pool[i].Members = []Member{{ID: pool[i].ID + ".0", Rating: pool[i].Rating}} // a party of one
			}
		default:
			size := 2 + r.IntN(p.TeamSize)
			if r.IntN(10) > 0 {
				size = min(size, p.TeamSize) // mostly seatable
			}
			spread := []float64{0, 20, 300}[r.IntN(3)]
			for j := range size {
				rating := pool[i].Rating + (r.Float64()-0.5)*spread
				if r.IntN(3) == 0 {
					rating = math.Round(pool[i].Rating) // equal means happen
				}
				pool[i].Members = append(pool[i].Members, Member{ID: fmt.Sprintf("%s.%d", pool[i].ID, j), Rating: rating})
			}
			pool[i].Rating = r.Float64() * 9999 // must be ignored
		}
	}
	if regions {
		all := []string{"eu", "us-east", "asia"}
		p.Regions = all[:1+r.IntN(3)]
		p.Region = p.Regions[r.IntN(len(p.Regions))]
		p.Latency = LatencyRule{MaxMs: float64(40 + r.IntN(60)), WidenPerSecond: r.Float64() * 4, MaxMsLimit: float64(80 + r.IntN(100))}
		for i := range pool {
			n := len(p.Regions) - r.IntN(2)
			pool[i].LatencyMs = make([]float64, n)
			for j := range pool[i].LatencyMs {
				pool[i].LatencyMs[j] = float64(10 + r.IntN(150))
				if r.IntN(3) == 0 {
					pool[i].LatencyMs[j] = float64(10 + r.IntN(4)*10) // equal latencies happen
				}
				if r.IntN(12) == 0 {
					pool[i].LatencyMs[j] = -1 // unplayable
				}
			}
		}
	}
	return pool, p, at
}
