package match

import (
	"slices"
	"sort"
)

// completion is the existence search behind the units path's lookahead: can
// a forced set of units (the anchor and the mates taken so far, plus the
// candidate) be completed into a valid group from the alive units?
//
// A completion C is valid iff, with W the smallest window of the whole
// group, every unit of C has a window >= W, the group's ratings fit in an
// interval of length W, its seats add up to Teams*TeamSize and its parties
// pack into the teams. So, as in the solo exact search, it is enough to try
// each candidate window value W (capped by the forced set's own), largest
// first: the units with window >= W only grow as W falls. For one W, the
// units inside the forced interval [lo, hi] cost nothing; below it and above
// it, a unit of s seats is only ever worth taking if it is among the nearest
// need/s of its side and size (a nearer one of the same side and size fits
// wherever a farther one does). Trying every lower end of the interval among
// those few, with the upper end as far as W allows, leaves a question about
// counts alone: do these many units of each size hold a sub-multiset with the
// missing seats whose parties, with the forced ones, pack? That is answered
// by a small search over party counts, memoised.
//
// Cost: O(k log k + k*c) for the k units within the forced set's window,
// c the few nearest kept per side and size (about 40 in 5v5).
type completion struct {
	inF   []uint32 // position -> stamp of the forced set holding it
	stamp uint32
	fpc   []int32 // forced parties: count by size

	cands         []ocand
	lists         [][]ocand // side*(TeamSize+1)+size -> nearest first, capped
	inside        []int32   // count by size of units inside [lo, hi], capped
	below, above  []ocand
	counts, total []int32
	capped, x     []int32

	memo  map[string]bool // fits, per shape
	memoT int
	memoS int
	key   []byte
}

// ocand is a unit the existence search may use.
type ocand struct {
	r, eff, dist float64 // rating, min(window, forced window), distance out of [lo, hi]
	size         int32
}

// begin readies the search for a pass over n units of shape p.
func (cs *completion) begin(n int, p Params) {
	if len(cs.inF) < n {
		cs.inF = append(cs.inF, make([]uint32, n-len(cs.inF))...)
	}
	s := p.TeamSize + 1
	cs.fpc = grow(cs.fpc, s)
	cs.inside = grow(cs.inside, s)
	cs.counts = grow(cs.counts, s)
	cs.total = grow(cs.total, s)
	cs.capped = grow(cs.capped, s)
	cs.x = grow(cs.x, s)
	cs.lists = grow(cs.lists, 2*s)
	if cs.memo == nil || cs.memoT != p.Teams || cs.memoS != p.TeamSize {
		cs.memo = map[string]bool{}
		cs.memoT, cs.memoS = p.Teams, p.TeamSize
	}
}

// newSet starts an empty forced set. Stamps grow across calls, so the marks
// of earlier sets (and earlier Form calls) never need clearing.
func (cs *completion) newSet() {
	cs.stamp++
	if cs.stamp == 0 {
		clear(cs.inF)
		cs.stamp = 1
	}
	clear(cs.fpc)
}

// force puts the unit at position c, of sz seats, into the forced set.
func (cs *completion) force(c, sz int32) {
	cs.inF[c] = cs.stamp
	if sz >= 2 {
		cs.fpc[sz]++
	}
}

// unforce takes the unit at position c back out.
func (cs *completion) unforce(c, sz int32) {
	cs.inF[c] = 0
	if sz >= 2 {
		cs.fpc[sz]--
	}
}

// completable reports whether the forced set, whose span is s, can be
// completed into a valid group from the alive units not in it.
func (m *Matcher) completable(s span) bool {
	cs := &m.units.search
	need := m.units.seats - s.seats
	if need <= 0 || !(s.hi-s.lo <= s.minW) {
		return need == 0 && s.hi-s.lo <= s.minW
	}
	n := int32(len(m.sRat))
	cs.cands = cs.cands[:0]
	seats := 0
	for q := m.live.after(int32(sort.SearchFloat64s(m.sRat, s.hi-s.minW))); q < n && m.sRat[q] <= s.lo+s.minW; q = m.live.after(q + 1) {
		sz := m.sSize[q]
		if cs.inF[q] == cs.stamp || int(sz) > need {
			continue
		}
		r := m.sRat[q]
		eff := min(m.sWin[q], s.minW)
		if !(max(s.hi, r)-min(s.lo, r) <= eff) {
			continue // cannot share a group with the forced set at all
		}
		d := 0.0
		if r < s.lo {
			d = s.lo - r
		} else if r > s.hi {
			d = r - s.hi
		}
		cs.cands = append(cs.cands, ocand{r: r, eff: eff, dist: d, size: sz})
		seats += int(sz)
	}
	if seats < need {
		return false
	}
	slices.SortFunc(cs.cands, func(x, y ocand) int { return cmpFloat(y.eff, x.eff) })

	side := len(cs.fpc)
	for i := range cs.lists {
		cs.lists[i] = cs.lists[i][:0]
	}
	clear(cs.inside)
	for i := 0; i < len(cs.cands); {
		w := cs.cands[i].eff
		changed := false
		for ; i < len(cs.cands) && cs.cands[i].eff == w; i++ {
			c := cs.cands[i]
			limit := int32(need) / c.size
			switch {
			case c.dist == 0:
				if cs.inside[c.size] < limit {
					cs.inside[c.size]++
					changed = true
				}
			case c.r < s.lo:
				var in bool
				cs.lists[c.size], in = insertByDist(cs.lists[c.size], c, int(limit))
				changed = changed || in
			default:
				var in bool
				cs.lists[side+int(c.size)], in = insertByDist(cs.lists[side+int(c.size)], c, int(limit))
				changed = changed || in
			}
		}
		if !(s.hi-s.lo <= w) {
			return false // and every smaller window fails too
		}
		// Same nearest units as at the last, larger window: every choice
		// here was already tried there, with a looser limit.
		if changed && m.fitsWithin(s, w, need) {
			return true
		}
	}
	return false
}

// fitsWithin reports whether the kept units make a completion whose ratings
// fit in an interval of length w around the forced set.
func (m *Matcher) fitsWithin(s span, w float64, need int) bool {
	cs := &m.units.search
	side := len(cs.fpc)
	cs.below, cs.above = cs.below[:0], cs.above[:0]
	for sz := 1; sz < side; sz++ {
		for _, c := range cs.lists[sz] {
			if s.hi-c.r > w {
				break // nearest first: the rest are farther
			}
			cs.below = append(cs.below, c)
		}
		for _, c := range cs.lists[side+sz] {
			if c.r-s.lo > w {
				break
			}
			cs.above = append(cs.above, c)
		}
	}
	byDist := func(x, y ocand) int { return cmpFloat(x.dist, y.dist) }
	slices.SortFunc(cs.below, byDist)
	slices.SortFunc(cs.above, byDist)

	// Lower end at lo, then at each kept unit below, nearest first; the
	// upper end as high as the lower end allows.
	copy(cs.counts, cs.inside)
	ai := 0
	for ai < len(cs.above) && cs.above[ai].r-s.lo <= w {
		cs.counts[cs.above[ai].size]++
		ai++
	}
	if m.fits(need) {
		return true
	}
	for j, b := range cs.below {
		cs.counts[b.size]++
		for ai > 0 && cs.above[ai-1].r-b.r > w {
			ai--
			cs.counts[cs.above[ai].size]--
		}
		if j+1 < len(cs.below) && cs.below[j+1].r == b.r {
			continue
		}
		if m.fits(need) {
			return true
		}
	}
	return false
}

// insertByDist adds c to near, kept sorted by distance and cut to limit, and
// reports whether c made the cut.
func insertByDist(near []ocand, c ocand, limit int) ([]ocand, bool) {
	if len(near) == limit {
		if limit == 0 || c.dist >= near[limit-1].dist {
			return near, false
		}
		near = near[:limit-1]
	}
	near = append(near, c)
	for j := len(near) - 1; j > 0 && near[j].dist < near[j-1].dist; j-- {
		near[j], near[j-1] = near[j-1], near[j]
	}
	return near, true
}

// fits reports whether cs.counts (units available, by size) hold a
// sub-multiset of exactly need seats whose parties pack with the forced
// ones. Memoised on (need, forced parties, available counts capped).
func (m *Matcher) fits(need int) bool {
	cs := &m.units.search
	cs.key = appendCount(cs.key[:0], int32(need))
	for sz := 2; sz < len(cs.fpc); sz++ {
		cs.key = appendCount(cs.key, cs.fpc[sz])
	}
	for sz := 1; sz < len(cs.counts); sz++ {
		cs.capped[sz] = min(cs.counts[sz], int32(need/sz))
		cs.key = appendCount(cs.key, cs.capped[sz])
	}
	if v, ok := cs.memo[string(cs.key)]; ok {
		return v
	}
	clear(cs.x)
	v := m.fitsDFS(len(cs.counts)-1, int32(need))
	cs.memo[string(cs.key)] = v
	return v
}

// fitsDFS chooses how many parties of each size from sz down to 2 to take,
// fewest first, leaving the remaining seats rem to solo players. Two cuts
// keep it small for large modes: the seats the smaller sizes (and solo
// players) can still bring bound the count from below, and since more
// parties never pack better, the first count that does not pack ends the
// level.
func (m *Matcher) fitsDFS(sz int, rem int32) bool {
	cs := &m.units.search
	if sz == 1 {
		return rem <= cs.capped[1]
	}
	below := cs.capped[1]
	for s := 2; s < sz; s++ {
		below += int32(s) * cs.capped[s]
	}
	from := max(0, (rem-below+int32(sz)-1)/int32(sz))
	for c := from; c <= min(cs.capped[sz], rem/int32(sz)); c++ {
		cs.x[sz] = c
		for i := range cs.total {
			cs.total[i] = cs.fpc[i] + cs.x[i]
		}
		if !m.units.pack.packable(cs.total) {
			break
		}
		if m.fitsDFS(sz-1, rem-int32(sz)*c) {
			cs.x[sz] = 0
			return true
		}
	}
	cs.x[sz] = 0
	return false
}
