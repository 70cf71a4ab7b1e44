package match

import (
	"math"
	"slices"
	"strings"
)

// Matcher is Form with its working memory kept between calls, so the queue
// actor's tick allocates only the groups it returns. The zero value is ready
// to use. A Matcher is not safe for concurrent use; give each queue its own.
//
// Tickets are renumbered by age rank (0 = oldest) for the duration of a call,
// and positions refer to the rating order (rating ascending, then age).
type Matcher struct {
	keys, scratch []keyed
	rat0          []float64 // pool index -> rating
	idPre         []uint64  // pool index -> first 8 bytes of the ID
	dest          []int32   // pool index -> slot in the output, or -1
	count         [radixBuckets]int32

	orig []int32   // age rank -> index in pool
	win  []float64 // age rank -> window at now
	pos  []int32   // age rank -> position in rating order

	sAge     []int32   // position -> age rank
	sRat     []float64 // position -> rating
	runStart []int32   // position -> first position with the same rating

	live alive // positions not yet matched nor given up on

	chosen    []int32   // age ranks of the group being built, anchor first
	members   []int32   // age ranks of every group formed, Size() per group
	memberRat []float64 // their ratings, alongside

	// Exact search (fallback) scratch.
	cands        []cand
	order        []uint64 // age<<32 | index into cands, in sweep order
	nearL, nearR []cand
	best         []int32

	// Team balancing scratch.
	draft        []int32
	teamA, teamB []int32
	sums         []float64
	seats        []int
}

// cand is a possible mate collected by the exact search.
type cand struct {
	rating float64
	dist   float64 // |rating - anchor rating|
	eff    float64 // min(own window, anchor window)
	age    int32
	left   bool // rating below the anchor's
}

// Form is the package-level Form reusing m's buffers. The returned groups are
// freshly allocated and owned by the caller.
func (m *Matcher) Form(pool []Ticket, p Params, nowMs int64) []Group {
	size := p.Size()
	if size == 0 || len(pool) < size || len(pool) > math.MaxInt32-2 {
		return nil
	}
	n := m.prepare(pool, p, nowMs)
	if n < size {
		return nil
	}
	m.members, m.memberRat = m.members[:0], m.memberRat[:0]
	for a := int32(0); a < int32(n); a++ {
		pa := m.pos[a]
		if !m.live.isAlive(pa) {
			continue // already a mate in an earlier group
		}
		// Whatever happens the anchor leaves the candidate set: either it is
		// matched now or no valid group contains it, and none ever will this
		// call since the set only shrinks.
		m.live.remove(pa)
		if !m.greedy(a, size) && (size <= 2 || !m.exact(a, p)) {
			continue
		}
		for _, k := range m.chosen {
			pk := m.pos[k]
			m.live.remove(pk)
			m.members = append(m.members, k)
			m.memberRat = append(m.memberRat, m.sRat[pk])
		}
	}
	return m.build(pool, p)
}

// prepare fills the age and rating orders and the alive set, and returns the
// number of tickets taking part (those with a finite rating).
//
// It reads pool sequentially once into dense arrays and otherwise works on
// those: on a 100k pool, random reads of Ticket structs and ID strings cost
// more than the sorting.
func (m *Matcher) prepare(pool []Ticket, p Params, nowMs int64) int {
	keys := m.keys[:0]
	m.rat0 = grow(m.rat0, len(pool))
	m.idPre = grow(m.idPre, len(pool))
	for i := range pool {
		r := pool[i].Rating
		if math.IsNaN(r) || math.IsInf(r, 0) {
			continue
		}
		if r == 0 {
			r = 0 // fold -0 into +0
		}
		m.rat0[i] = r
		m.idPre[i] = idPrefix(pool[i].ID)
		keys = append(keys, keyed{timeKey(pool[i].QueuedAtMs), int32(i)})
	}
	keys, m.scratch = radixSort(keys, m.scratch, &m.count)
	// Equal queue times: by ID (its first 8 bytes settle almost every tie
	// without touching the strings), then pool index, so duplicate IDs still
	// give a deterministic order.
	byID := func(x, y keyed) int {
		if a, b := m.idPre[x.idx], m.idPre[y.idx]; a != b {
			if a < b {
				return -1
			}
			return 1
		}
		if c := strings.Compare(pool[x.idx].ID, pool[y.idx].ID); c != 0 {
			return c
		}
		return int(x.idx - y.idx)
	}
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].key == keys[i].key {
			j++
		}
		if run := keys[i:j]; len(run) > 12 {
			slices.SortFunc(run, byID)
		} else {
			for a := 1; a < len(run); a++ {
				for b := a; b > 0 && byID(run[b-1], run[b]) > 0; b-- {
					run[b-1], run[b] = run[b], run[b-1]
				}
			}
		}
		i = j
	}

	n := len(keys)
	m.orig = grow(m.orig, n)
	m.win = grow(m.win, n)
	m.pos = grow(m.pos, n)
	for k := range keys {
		i := keys[k].idx
		m.orig[k] = i
		m.win[k] = p.window(timeFromKey(keys[k].key), nowMs)
		// Stable on input in age order: equal ratings stay oldest first.
		keys[k] = keyed{ratingKey(m.rat0[i]), int32(k)}
	}
	keys, m.scratch = radixSort(keys, m.scratch, &m.count)
	m.keys = keys

	m.sAge = grow(m.sAge, n)
	m.sRat = grow(m.sRat, n)
	m.runStart = grow(m.runStart, n)
	for i, x := range keys {
		k := x.idx
		m.sAge[i] = k
		m.sRat[i] = ratingFromKey(x.key)
		m.pos[k] = int32(i)
		if i > 0 && keys[i-1].key == x.key {
			m.runStart[i] = m.runStart[i-1]
		} else {
			m.runStart[i] = int32(i)
		}
	}
	m.live.reset(n)
	return n
}

// The two cursors walk the alive candidates outward from the anchor in order
// of distance, older first on equal ratings. Every alive ticket is younger
// than the anchor (older ones are matched or given up on), so tickets with
// the anchor's own rating all sit to its right and the right cursor reaches
// them first. The left cursor visits lower ratings run by run, each run from
// its oldest alive member.

// leftFrom returns the left cursor's first position below position p, or -1.
func (m *Matcher) leftFrom(p int32) int32 {
	q := m.live.before(p - 1)
	if q < 0 {
		return -1
	}
	return m.live.after(m.runStart[q])
}

// leftNext returns the left cursor's position after c, or -1.
func (m *Matcher) leftNext(c int32) int32 {
	if q := m.live.after(c + 1); int(q) < len(m.sRat) && m.runStart[q] == m.runStart[c] {
		return q
	}
	return m.leftFrom(m.runStart[c])
}

// rightNext returns the right cursor's position after c, or n.
func (m *Matcher) rightNext(c int32) int32 { return m.live.after(c + 1) }

// greedy tries to fill a group around anchor a closest-first, leaving it in
// m.chosen. A candidate is taken when the group with it still has its spread
// within every member's window; once a candidate is refused it stays refused
// (the spread only grows and the smallest window only shrinks), and a side
// stops when its next candidate is farther than the smallest window.
func (m *Matcher) greedy(a int32, size int) bool {
	n := int32(len(m.sRat))
	pa := m.pos[a]
	ra := m.sRat[pa]
	lo, hi, minW := ra, ra, m.win[a]
	m.chosen = append(m.chosen[:0], a)
	if !(minW >= 0) {
		return false
	}
	lc, rc := m.leftFrom(pa), m.rightNext(pa)
	inf := math.Inf(1)
	for len(m.chosen) < size {
		dl, dr := inf, inf
		if lc >= 0 {
			if dl = ra - m.sRat[lc]; dl > minW {
				lc, dl = -1, inf
			}
		}
		if rc < n {
			if dr = m.sRat[rc] - ra; dr > minW {
				rc, dr = n, inf
			}
		}
		var c int32
		var takeLeft bool
		switch {
		case lc < 0 && rc >= n:
			return false
		case lc < 0:
			c = rc
		case rc >= n:
			c, takeLeft = lc, true
		case dl < dr || (dl == dr && m.sAge[lc] < m.sAge[rc]):
			c, takeLeft = lc, true
		default:
			c = rc
		}
		k := m.sAge[c]
		r := m.sRat[c]
		nlo, nhi, nw := min(lo, r), max(hi, r), min(minW, m.win[k])
		if nhi-nlo <= nw {
			m.chosen = append(m.chosen, k)
			lo, hi, minW = nlo, nhi, nw
		}
		if takeLeft {
			lc = m.leftNext(c)
		} else {
			rc = m.rightNext(c)
		}
	}
	return true
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

// build turns m.members into groups: three allocations in all, whatever the
// number of groups. Tickets are copied in pool order (sequential reads,
// scattered writes), which on a large pool is markedly cheaper than reading
// pool in match order.
func (m *Matcher) build(pool []Ticket, p Params) []Group {
	size := p.Size()
	count := len(m.members) / size
	if count == 0 {
		return nil
	}
	groups := make([]Group, count)
	teams := make([][]Ticket, count*p.Teams)
	tickets := make([]Ticket, count*size)
	m.dest = grow(m.dest, len(pool))
	for i := range m.dest {
		m.dest[i] = -1
	}
	for g := range groups {
		seated, spread := m.balance(m.members[g*size:(g+1)*size], m.memberRat[g*size:(g+1)*size], p.Teams, p.TeamSize)
		for i, k := range seated {
			m.dest[m.orig[k]] = int32(g*size + i)
		}
		out := tickets[g*size : (g+1)*size : (g+1)*size]
		gt := teams[g*p.Teams : (g+1)*p.Teams : (g+1)*p.Teams]
		for t := range gt {
			gt[t] = out[t*p.TeamSize : (t+1)*p.TeamSize : (t+1)*p.TeamSize]
		}
		groups[g] = Group{Teams: gt, Spread: spread}
	}
	for i, d := range m.dest {
		if d >= 0 {
			tickets[d] = pool[i]
		}
	}
	return groups
}
