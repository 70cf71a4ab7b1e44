package match

import "math"

// unitState is the working memory of the units path (a pool with parties,
// or a mode with regions), kept apart from the solo path's.
type unitState struct {
	seats, teams, teamSize int // the shape of this call: Size(), Teams, TeamSize

	ends []int32   // end offset in Matcher.members of each group formed
	lat  []float64 // worst latency of each group formed (regions only)

	pack   packer     // the parties of the group being built, packed
	search completion // the lookahead's existence search

	// Team dealing scratch.
	order, assign, teamOf []int32
	sums                  []float64
	dsz, byTeam, teamAt   []int32
	all, edge             []int32
	dstr                  []float64
	res                   []int32
	rest                  []int32 // parties still to deal, by size
}

// formUnits is Form's loop for pools of units: tickets that take several
// seats, or a region to play in. Same oldest-first pass as the solo path;
// each anchor's mates are chosen by unitGroup, and with regions the group is
// formed only if p.Region is its best common region.
func (m *Matcher) formUnits(pool []Ticket, p Params, region int, nowMs int64, n int) []Group {
	u := &m.units
	u.ends, u.lat = u.ends[:0], u.lat[:0]
	m.members = m.members[:0]
	u.seats, u.teams, u.teamSize = p.Size(), p.Teams, p.TeamSize
	m.units.pack.reset(p)
	m.units.search.begin(n, p)
	for a := int32(0); a < int32(n); a++ {
		pa := m.pos[a]
		if !m.live.isAlive(pa) {
			continue
		}
		// The anchor leaves the candidate set whatever happens: matched now,
		// proven unmatchable, or left to the leader of its group's region.
		m.live.remove(pa)
		if !m.unitGroup(a) {
			continue
		}
		worst := 0.0
		if region >= 0 {
			best, w, ok := p.bestRegion(len(m.chosen), func(j int) *Ticket { return &pool[m.orig[m.chosen[j]]] }, nowMs)
			if !ok || best != region {
				continue // the group's best region leads it; see the package doc
			}
			worst = w
		}
		for _, k := range m.chosen {
			m.live.remove(m.pos[k])
			m.members = append(m.members, k)
		}
		u.ends = append(u.ends, int32(len(m.members)))
		u.lat = append(u.lat, worst)
	}
	return m.buildUnits(p)
}

// walker walks the alive candidates outward from an anchor in mate order
// (closest first, older first on equal distance), like the solo greedy.
type walker struct {
	lc, rc int32
	ra     float64
}

func (m *Matcher) walkFrom(pa int32) walker {
	return walker{lc: m.leftFrom(pa), rc: m.rightNext(pa), ra: m.sRat[pa]}
}

// next returns the next candidate position no farther than lim from the
// anchor, or -1 when there is none. A side whose next candidate is farther
// than lim is closed for good: callers pass a lim that only shrinks.
func (m *Matcher) next(w *walker, lim float64) int32 {
	n := int32(len(m.sRat))
	inf := math.Inf(1)
	dl, dr := inf, inf
	if w.lc >= 0 {
		if dl = w.ra - m.sRat[w.lc]; dl > lim {
			w.lc, dl = -1, inf
		}
	}
	if w.rc < n {
		if dr = m.sRat[w.rc] - w.ra; dr > lim {
			w.rc, dr = n, inf
		}
	}
	switch {
	case w.lc < 0 && w.rc >= n:
		return -1
	case w.rc >= n || (w.lc >= 0 && (dl < dr || (dl == dr && m.sAge[w.lc] < m.sAge[w.rc]))):
		c := w.lc
		w.lc = m.leftNext(c)
		return c
	default:
		c := w.rc
		w.rc = m.rightNext(c)
		return c
	}
}

// span is the state of a group being built: its rating interval, smallest
// window and seats taken.
type span struct {
	lo, hi, minW float64
	seats        int
}

func (s span) with(r, w float64, seats int) span {
	return span{lo: min(s.lo, r), hi: max(s.hi, r), minW: min(s.minW, w), seats: s.seats + seats}
}

// unitGroup chooses anchor a's mates, leaving the group in m.chosen: the
// lexicographically closest valid group, candidates taken in mate order,
// each one taken iff the group with it can still be completed. The
// closest-first greedy (take iff the group with it is still valid so far)
// finds exactly that group whenever it completes, so the lookahead only
// runs when the greedy dead-ends.
func (m *Matcher) unitGroup(a int32) bool {
	size := m.units.seats
	pa := m.pos[a]
	s := span{lo: m.sRat[pa], hi: m.sRat[pa], minW: m.win[a], seats: int(m.usize[a])}
	if !(s.minW >= 0) {
		return false
	}
	pk := &m.units.pack
	m.chosen = append(m.chosen[:0], a)
	pk.clear()
	pk.add(m.usize[a])
	// Closest-first greedy.
	w := m.walkFrom(pa)
	for s.seats < size {
		c := m.next(&w, s.minW)
		if c < 0 {
			break
		}
		ns := s.with(m.sRat[c], m.sWin[c], int(m.sSize[c]))
		if ns.hi-ns.lo <= ns.minW && ns.seats <= size && pk.add(m.sSize[c]) {
			m.chosen = append(m.chosen, m.sAge[c])
			s = ns
		}
	}
	if s.seats == size {
		return true
	}

	// Lookahead: the same walk, each candidate taken only if an existence
	// search says the group with it can still be completed.
	cs := &m.units.search
	cs.newSet()
	s = span{lo: m.sRat[pa], hi: m.sRat[pa], minW: m.win[a], seats: int(m.usize[a])}
	m.chosen = append(m.chosen[:0], a)
	pk.clear()
	pk.add(m.usize[a])
	cs.force(pa, m.usize[a])
	if !m.completable(s) {
		return false
	}
	w = m.walkFrom(pa)
	for s.seats < size {
		c := m.next(&w, s.minW)
		if c < 0 {
			return false // unreachable: completable promised a completion
		}
		sz := m.sSize[c]
		ns := s.with(m.sRat[c], m.sWin[c], int(sz))
		if ns.hi-ns.lo > ns.minW || ns.seats > size || !pk.add(sz) {
			continue
		}
		cs.force(c, sz)
		if ns.seats == size || m.completable(ns) {
			m.chosen = append(m.chosen, m.sAge[c])
			s = ns
			continue
		}
		cs.unforce(c, sz)
		pk.undo()
	}
	return true
}

// buildUnits turns the groups formed by formUnits into Groups: three
// allocations in all, as on the solo path.
func (m *Matcher) buildUnits(p Params) []Group {
	u := &m.units
	count := len(u.ends)
	if count == 0 {
		return nil
	}
	groups := make([]Group, count)
	teams := make([][]int, count*p.Teams)
	units := make([]int, len(m.members))
	start := 0
	for g := range groups {
		end := int(u.ends[g])
		mem := m.members[start:end]
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, k := range mem {
			r := m.sRat[m.pos[k]]
			lo, hi = min(lo, r), max(hi, r)
		}
		out := units[start:end:end]
		gt := teams[g*p.Teams : (g+1)*p.Teams : (g+1)*p.Teams]
		if len(mem) == p.Size() {
			// All solo: the solo path's balance, so a solo group is dealt
			// alike on both paths.
			rat := grow(m.memberRat, len(mem))
			for i, k := range mem {
				rat[i] = m.sRat[m.pos[k]]
			}
			m.memberRat = rat
			seated, _ := m.balance(mem, rat, p.Teams, p.TeamSize)
			for i, k := range seated {
				out[i] = int(m.orig[k])
			}
			for t := range gt {
				gt[t] = out[t*p.TeamSize : (t+1)*p.TeamSize : (t+1)*p.TeamSize]
			}
		} else {
			seated, counts := m.deal(mem)
			for i, k := range seated {
				out[i] = int(m.orig[k])
			}
			off := 0
			for t := range gt {
				gt[t] = out[off : off+int(counts[t]) : off+int(counts[t])]
				off += int(counts[t])
			}
		}
		groups[g] = Group{Teams: gt, Spread: hi - lo}
		if len(p.Regions) > 0 {
			groups[g].Region, groups[g].LatencyMs = p.Region, u.lat[g]
		}
		start = end
	}
	return groups
}
