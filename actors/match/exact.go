package match

import "slices"

// cand is a possible mate collected by the exact search.
type cand struct {
	rating float64
	dist   float64 // |rating - anchor rating|
	eff    float64 // min(own window, anchor window)
	age    int32
	left   bool // rating below the anchor's
}

// exact decides whether any valid group contains anchor a, and if so leaves
// in m.chosen the one whose farthest mate is closest to the anchor, then
// whose mates' total distance is smallest, then whose mates are oldest
// (smallest sum of age ranks; any remaining tie goes to the first found).
//
// A group is valid iff, with W its smallest window, all its members have
// window >= W and its ratings fit in an interval of length W. So it is enough
// to try each candidate window value W (capped by the anchor's) as the
// threshold, largest first, and for each, every split of the Size()-1 mates
// into the p nearest tickets with window >= W below the anchor and the q
// nearest above: the nearest ones minimise the spread and the distances
// alike. Sweeping W downwards only ever adds tickets, so each side keeps just
// its Size()-1 nearest so far. Cost: O(k log k + k*Size()) for the k
// tickets within the anchor's window that could reach it; it only runs when
// the greedy failed.
func (m *Matcher) exact(a int32, p Params) bool {
	size := p.Size()
	n := int32(len(m.sRat))
	pa := m.pos[a]
	ra := m.sRat[pa]
	wa := m.win[a]
	need := size - 1

	m.cands = m.cands[:0]
	for c := m.leftFrom(pa); c >= 0 && ra-m.sRat[c] <= wa; c = m.leftNext(c) {
		m.collect(c, ra-m.sRat[c], wa, true)
	}
	for c := m.rightNext(pa); c < n && m.sRat[c]-ra <= wa; c = m.rightNext(c) {
		m.collect(c, m.sRat[c]-ra, wa, false)
	}
	if len(m.cands) < need {
		return false
	}
	// Sweep order: window descending. Windows never shrink with age when
	// WidenPerSecond >= 0, so age order is window order and sorts as plain
	// integers; otherwise sort by window.
	m.order = grow(m.order, len(m.cands))
	for i, c := range m.cands {
		m.order[i] = uint64(c.age)<<32 | uint64(i)
	}
	if p.WidenPerSecond >= 0 {
		slices.Sort(m.order)
	} else {
		slices.SortFunc(m.order, func(x, y uint64) int {
			return cmpFloat(m.cands[uint32(y)].eff, m.cands[uint32(x)].eff)
		})
	}

	near := [2][]cand{m.nearL[:0], m.nearR[:0]} // by (dist, age), at most need
	found := false
	bestFar, bestSum, bestAges := 0.0, 0.0, int64(0)
	changed := false
	for i, o := range m.order {
		c := m.cands[uint32(o)]
		side := 1
		if c.left {
			side = 0
		}
		var in bool
		near[side], in = insertNearest(near[side], c, need)
		changed = changed || in
		if i+1 < len(m.order) && m.cands[uint32(m.order[i+1])].eff == c.eff {
			continue // add every ticket of this window before trying it
		}
		if !changed {
			// Same nearest tickets as at the last, larger window: every
			// group here was already tried there, with a looser limit.
			continue
		}
		changed = false
		w := c.eff
		l, r := near[0], near[1]
		for below := max(0, need-len(r)); below <= min(need, len(l)); below++ {
			above := need - below
			lo, hi, dl, dr := ra, ra, 0.0, 0.0
			if below > 0 {
				lo, dl = l[below-1].rating, l[below-1].dist
			}
			if above > 0 {
				hi, dr = r[above-1].rating, r[above-1].dist
			}
			if hi-lo > w {
				continue
			}
			far := max(dl, dr)
			if found && far > bestFar {
				continue
			}
			sum, ages := 0.0, int64(0)
			for _, x := range l[:below] {
				sum, ages = sum+x.dist, ages+int64(x.age)
			}
			for _, x := range r[:above] {
				sum, ages = sum+x.dist, ages+int64(x.age)
			}
			if found && far == bestFar && (sum > bestSum || (sum == bestSum && ages >= bestAges)) {
				continue
			}
			found, bestFar, bestSum, bestAges = true, far, sum, ages
			m.best = m.best[:0]
			for _, x := range l[:below] {
				m.best = append(m.best, x.age)
			}
			for _, x := range r[:above] {
				m.best = append(m.best, x.age)
			}
		}
	}
	m.nearL, m.nearR = near[0], near[1]
	if !found {
		return false
	}
	m.chosen = append(append(m.chosen[:0], a), m.best...)
	return true
}

// collect records the ticket at position c as a possible mate if it could
// share a group with the anchor at all (its distance within its own window).
func (m *Matcher) collect(c int32, dist, wa float64, left bool) {
	k := m.sAge[c]
	eff := min(m.win[k], wa)
	if dist <= eff {
		m.cands = append(m.cands, cand{rating: m.sRat[c], dist: dist, eff: eff, age: k, left: left})
	}
}

// insertNearest adds c to near, kept sorted by (dist, age) and cut to the
// limit nearest, and reports whether c made the cut.
func insertNearest(near []cand, c cand, limit int) ([]cand, bool) {
	if len(near) == limit {
		if limit == 0 || !closer(c, near[limit-1]) {
			return near, false
		}
		near = near[:limit-1]
	}
	near = append(near, c)
	for j := len(near) - 1; j > 0 && closer(near[j], near[j-1]); j-- {
		near[j], near[j-1] = near[j-1], near[j]
	}
	return near, true
}

// closer reports whether x comes before y in mate order: nearer, then older.
func closer(x, y cand) bool { return x.dist < y.dist || (x.dist == y.dist && x.age < y.age) }

// cmpFloat is cmp.Compare for the non-NaN floats the matcher handles.
func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
