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
	in0           []unitIn // pool index -> what prepare read of the ticket
	idPre         []uint64 // pool index -> first 8 bytes of the ID
	count         [radixBuckets]int32

	orig  []int32   // age rank -> index in pool
	win   []float64 // age rank -> window at now
	pos   []int32   // age rank -> position in rating order
	usize []int32   // age rank -> seats (units path)
	ustr  []float64 // age rank -> strength: rating, or a party's sum (units path)

	sAge     []int32   // position -> age rank
	sRat     []float64 // position -> rating
	sWin     []float64 // position -> window (units path)
	sSize    []int32   // position -> seats (units path)
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

	units unitState // the units path: parties and regions
}

// Form is the package-level Form reusing m's buffers. The returned groups are
// freshly allocated and owned by the caller.
func (m *Matcher) Form(pool []Ticket, p Params, nowMs int64) []Group {
	size := p.Size()
	if p.Validate() != nil || len(pool) > math.MaxInt32-2 {
		return nil
	}
	region := p.RegionIndex(p.Region) // -1 without regions
	if region < 0 && len(pool) < size && !hasParty(pool) {
		return nil
	}
	n, seats, parties := m.prepare(pool, p, region, nowMs)
	if seats < size {
		return nil
	}
	if parties || region >= 0 {
		return m.formUnits(pool, p, region, nowMs, n)
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
	return m.build(p)
}

// unitIn is what prepare reads of one ticket, kept together because the
// age-order pass reads it back in scattered order.
type unitIn struct {
	rat, sum float64 // rating (a party's mean); a party's members' sum
	size     int32
}

// hasParty reports whether any ticket of pool is a party of two or more.
func hasParty(pool []Ticket) bool {
	for i := range pool {
		if len(pool[i].Members) > 1 {
			return true
		}
	}
	return false
}

// prepare fills the age and rating orders and the alive set, and returns the
// number of tickets taking part (those with a finite rating, no larger than
// a team, and, with regions, playable in region), their seats, and whether
// any of them is a party of two or more.
//
// It reads pool sequentially once into dense arrays and otherwise works on
// those: on a 100k pool, random reads of Ticket structs and ID strings cost
// more than the sorting.
func (m *Matcher) prepare(pool []Ticket, p Params, region int, nowMs int64) (n, seats int, parties bool) {
	keys := m.keys[:0]
	m.in0 = grow(m.in0, len(pool))
	m.idPre = grow(m.idPre, len(pool))
	for i := range pool {
		t := &pool[i]
		r, sz, sum := t.Rating, 1, 0.0
		if len(t.Members) > 0 {
			sz = len(t.Members)
			if sz > p.TeamSize {
				continue // can never be seated on one team
			}
			// The deal needs the sum: read the members once, here, in pool
			// order rather than scattered later.
			sum = t.sum()
			r = sum / float64(sz)
		}
		if math.IsNaN(r) || math.IsInf(r, 0) {
			continue
		}
		if region >= 0 && !p.playable(t, region, nowMs) {
			continue
		}
		if r == 0 {
			r = 0 // fold -0 into +0
		}
		parties = parties || sz > 1
		seats += sz
		m.in0[i] = unitIn{rat: r, sum: sum, size: int32(sz)}
		m.idPre[i] = idPrefix(t.ID)
		keys = append(keys, keyed{timeKey(t.QueuedAtMs), int32(i)})
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

	n = len(keys)
	m.orig = grow(m.orig, n)
	m.win = grow(m.win, n)
	m.pos = grow(m.pos, n)
	units := parties || region >= 0
	if units {
		m.usize = grow(m.usize, n)
		m.ustr = grow(m.ustr, n)
	}
	for k := range keys {
		i := keys[k].idx
		m.orig[k] = i
		if units {
			// A unit of one seat is as strong as its rating; a party's
			// strength is its members' sum.
			in := &m.in0[i]
			m.usize[k], m.ustr[k] = in.size, in.rat
			if in.size > 1 {
				m.ustr[k] = in.sum
			}
		}
		m.win[k] = p.window(timeFromKey(keys[k].key), nowMs)
		// Stable on input in age order: equal ratings stay oldest first.
		keys[k] = keyed{ratingKey(m.in0[i].rat), int32(k)}
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
	if units {
		// The units walk reads these for every candidate it passes, which
		// are neighbours in rating: laid out by position they share cache
		// lines, by age rank they would not.
		m.sWin = grow(m.sWin, n)
		m.sSize = grow(m.sSize, n)
		for i, k := range m.sAge[:n] {
			m.sWin[i], m.sSize[i] = m.win[k], m.usize[k]
		}
	}
	m.live.reset(n)
	return n, seats, parties
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

// build turns m.members into groups: three allocations in all, whatever the
// number of groups. Groups name tickets by their index in pool, so nothing
// is copied: on a 100k pool, copying the tickets out cost more than the
// whole greedy pass.
func (m *Matcher) build(p Params) []Group {
	size := p.Size()
	count := len(m.members) / size
	if count == 0 {
		return nil
	}
	groups := make([]Group, count)
	teams := make([][]int, count*p.Teams)
	seats := make([]int, count*size)
	for g := range groups {
		seated, spread := m.balance(m.members[g*size:(g+1)*size], m.memberRat[g*size:(g+1)*size], p.Teams, p.TeamSize)
		out := seats[g*size : (g+1)*size : (g+1)*size]
		for i, k := range seated {
			out[i] = int(m.orig[k])
		}
		gt := teams[g*p.Teams : (g+1)*p.Teams : (g+1)*p.Teams]
		for t := range gt {
			gt[t] = out[t*p.TeamSize : (t+1)*p.TeamSize : (t+1)*p.TeamSize]
		}
		groups[g] = Group{Teams: gt, Spread: spread}
	}
	return groups
}
