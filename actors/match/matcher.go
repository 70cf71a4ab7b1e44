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
	count         [radixBuckets]int32

	orig []int32   // age rank -> index in pool
	win  []float64 // age rank -> window at now
	pos  []int32   // age rank -> position in rating order

	sAge     []int32   // position -> age rank
	sRat     []float64 // position -> rating
	runStart []int32   // position -> first position with the same rating

	live alive // positions not yet matched nor given up on

	chosen  []int32 // age ranks of the group being built, anchor first
	members []int32 // age ranks of every group formed, Size() per group

	// Exact search (fallback) scratch.
	left, right []cand
	thresholds  []float64
	lm, rm      []int32
	best        []int32

	// Team balancing scratch.
	draft        []int32
	teamA, teamB []int32
	sums         []float64
	seats        []int
}

// cand is a possible mate collected by the exact search.
type cand struct {
	dist float64 // |rating - anchor rating|
	eff  float64 // min(own window, anchor window)
	age  int32
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
	m.members = m.members[:0]
	for a := int32(0); a < int32(n); a++ {
		pa := m.pos[a]
		if !m.live.isAlive(pa) {
			continue // already a mate in an earlier group
		}
		// Whatever happens the anchor leaves the candidate set: either it is
		// matched now or no valid group contains it, and none ever will this
		// call since the set only shrinks.
		m.live.remove(pa)
		if !m.greedy(a, size) && (size <= 2 || !m.exact(a, size)) {
			continue
		}
		for _, k := range m.chosen {
			m.live.remove(m.pos[k])
		}
		m.members = append(m.members, m.chosen...)
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
// whose mates' total distance is smallest (ties: the first found, which
// prefers older tickets among equal ratings).
//
// A group is valid iff, with W its smallest window, all its members have
// window >= W and its ratings fit in an interval of length W. So it is enough
// to try each candidate window value W (capped by the anchor's) as the
// threshold, and for each, every split of the Size()-1 mates into the p
// nearest eligible below and the q nearest eligible above the anchor: the
// nearest ones minimise both the spread and the distances. Cost is
// O(k * distinct windows) for the k candidates within the anchor's window;
// it only runs when the greedy failed.
func (m *Matcher) exact(a int32, size int) bool {
	n := int32(len(m.sRat))
	pa := m.pos[a]
	ra := m.sRat[pa]
	wa := m.win[a]
	need := size - 1

	m.left, m.right, m.thresholds = m.left[:0], m.right[:0], m.thresholds[:0]
	for c := m.leftFrom(pa); c >= 0 && ra-m.sRat[c] <= wa; c = m.leftNext(c) {
		m.left = m.collect(m.left, c, ra-m.sRat[c], wa)
	}
	for c := m.rightNext(pa); c < n && m.sRat[c]-ra <= wa; c = m.rightNext(c) {
		m.right = m.collect(m.right, c, m.sRat[c]-ra, wa)
	}
	if len(m.left)+len(m.right) < need {
		return false
	}
	slices.Sort(m.thresholds)
	m.thresholds = slices.Compact(m.thresholds)

	found := false
	bestMax, bestSum := 0.0, 0.0
	for _, negW := range m.thresholds {
		w := -negW
		m.lm = eligible(m.lm[:0], m.left, w, need)
		m.rm = eligible(m.rm[:0], m.right, w, need)
		if len(m.lm)+len(m.rm) < need {
			continue
		}
		for p := max(0, need-len(m.rm)); p <= min(need, len(m.lm)); p++ {
			q := need - p
			dl, dr := 0.0, 0.0
			if p > 0 {
				dl = m.left[m.lm[p-1]].dist
			}
			if q > 0 {
				dr = m.right[m.rm[q-1]].dist
			}
			if dl+dr > w {
				continue
			}
			far := max(dl, dr)
			sum := 0.0
			for _, i := range m.lm[:p] {
				sum += m.left[i].dist
			}
			for _, i := range m.rm[:q] {
				sum += m.right[i].dist
			}
			if found && (far > bestMax || (far == bestMax && sum >= bestSum)) {
				continue
			}
			found, bestMax, bestSum = true, far, sum
			m.best = m.best[:0]
			for _, i := range m.lm[:p] {
				m.best = append(m.best, m.left[i].age)
			}
			for _, i := range m.rm[:q] {
				m.best = append(m.best, m.right[i].age)
			}
		}
	}
	if !found {
		return false
	}
	m.chosen = append(append(m.chosen[:0], a), m.best...)
	return true
}

// collect appends the candidate at position c if it could share a group with
// the anchor at all (its distance within its own window), and records its
// effective window as a threshold to try.
func (m *Matcher) collect(dst []cand, c int32, dist, wa float64) []cand {
	k := m.sAge[c]
	eff := min(m.win[k], wa)
	if dist > eff {
		return dst
	}
	m.thresholds = append(m.thresholds, -eff) // negated: sorted descending
	return append(dst, cand{dist: dist, eff: eff, age: k})
}

// eligible appends the indexes of the up to need nearest cands (cs is in
// distance order) with a window of at least w within distance w.
func eligible(dst []int32, cs []cand, w float64, need int) []int32 {
	for i := range cs {
		if len(dst) == need || cs[i].dist > w {
			break
		}
		if cs[i].eff >= w {
			dst = append(dst, int32(i))
		}
	}
	return dst
}

// build turns m.members into groups: three allocations in all, whatever the
// number of groups.
func (m *Matcher) build(pool []Ticket, p Params) []Group {
	size := p.Size()
	count := len(m.members) / size
	if count == 0 {
		return nil
	}
	groups := make([]Group, count)
	teams := make([][]Ticket, count*p.Teams)
	tickets := make([]Ticket, count*size)
	for g := range groups {
		mem := m.members[g*size : (g+1)*size]
		seated := m.balance(mem, p.Teams, p.TeamSize)
		out := tickets[g*size : (g+1)*size : (g+1)*size]
		lo, hi := math.Inf(1), math.Inf(-1)
		for i, k := range seated {
			out[i] = pool[m.orig[k]]
			lo = min(lo, out[i].Rating)
			hi = max(hi, out[i].Rating)
		}
		gt := teams[g*p.Teams : (g+1)*p.Teams : (g+1)*p.Teams]
		for t := range gt {
			gt[t] = out[t*p.TeamSize : (t+1)*p.TeamSize : (t+1)*p.TeamSize]
		}
		groups[g] = Group{Teams: gt, Spread: hi - lo}
	}
	return groups
}
