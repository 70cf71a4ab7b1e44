package match

// deal seats a group holding parties (age ranks mem) into teams and returns
// the units laid out team by team, each team in draft order, and the number
// of units on each team:
//
//   - units are drafted by strength, the sum of their members' own ratings,
//     highest first (older first on ties);
//   - snake deal: a pointer walks the snake order of turns (teams
//     0,1,...,T-1,T-1,...,0,0,1,...); each unit goes to the team of the
//     first turn from the pointer whose team can take it, and the pointer
//     moves past that turn (turns passed over are lost). A team can take a
//     unit when it has the seats and the parties still to come can then be
//     packed into the seats left (solo players always fit), so every team
//     ends exactly full;
//   - then, while exchanging a unit for one or two units of the same total
//     seats on another team narrows the spread (max - min) of the teams'
//     sums, the exchange that narrows it most is made (the first found on a
//     tie, in draft order of the unit, then of the others). An exchange
//     keeps every team's seats. It matters because ranking units by total
//     strength ranks a duo against solo players poorly: two strong duos
//     dealt to one team leave four seats of duos against four solo players,
//     which one exchange of a duo for two solo players repairs.
//
// Solo groups are dealt by balance (the snake or the lowest-sum deal) as
// before parties existed. For groups with parties the lowest-sum deal is not
// tried: with the exchanges after it, it left the measured worst margin
// unchanged and the mean within 4%, for twice the cost.
func (m *Matcher) deal(mem []int32) (seated, counts []int32) {
	u := &m.units
	nu := len(mem)
	teams := u.teams
	u.sums = grow(u.sums, nu+teams)
	str := u.sums[:nu]
	u.order = grow(u.order, nu)
	for i, k := range mem {
		str[i] = m.ustr[k]
	}
	// The draft: strength descending, older first; insertion sort, as
	// groups are small.
	for i := range nu {
		x, j := int32(i), i
		for j > 0 && (str[u.order[j-1]] < str[x] || (str[u.order[j-1]] == str[x] && mem[u.order[j-1]] > mem[x])) {
			u.order[j] = u.order[j-1]
			j--
		}
		u.order[j] = x
	}

	u.assign = grow(u.assign, nu)
	assign, sums := u.assign, u.sums[nu:nu+teams]
	m.snake(mem, assign, sums)
	m.swaps(mem, assign, sums)

	// Lay the units out team by team, in draft order within each team.
	u.teamOf = grow(u.teamOf, 2*teams)
	counts, off := u.teamOf[:teams], u.teamOf[teams:]
	clear(counts)
	for _, t := range assign {
		counts[t]++
	}
	sum := int32(0)
	for t := range teams {
		off[t] = sum
		sum += counts[t]
	}
	m.draft = grow(m.draft, nu)
	for i, x := range u.order {
		t := assign[i]
		m.draft[off[t]] = mem[x]
		off[t]++
	}
	return m.draft[:nu], counts
}

// snake deals the units in draft order (u.order), writing each unit's team
// into assign (by draft index) and the teams' rating sums into sums.
func (m *Matcher) snake(mem, assign []int32, sums []float64) {
	u := &m.units
	teams := u.teams
	u.res = grow(u.res, teams)
	for t := range u.res {
		u.res[t] = int32(u.teamSize)
	}
	clear(sums)
	// u.rest counts the parties still to come by size.
	u.rest = grow(u.rest, u.teamSize+1)
	clear(u.rest)
	parties := 0
	for _, x := range u.order {
		if s := m.usize[mem[x]]; s > 1 {
			u.rest[s]++
			parties++
		}
	}
	turn := 0
	for i, x := range u.order {
		sz := m.usize[mem[x]]
		if sz > 1 {
			u.rest[sz]--
			parties--
		}
		best := -1
		// Any 2T-1 turns in a row hold a whole round, so every team.
		for q := turn; q < turn+2*teams-1; q++ {
			t := q % teams
			if (q/teams)%2 == 1 {
				t = teams - 1 - t
			}
			if u.res[t] >= sz && (parties == 0 || m.restFits(t, sz)) {
				best, turn = t, q+1
				break
			}
		}
		// best >= 0: the deal so far extends to a full seating (an
		// invariant of restFits), and the unit sits on some team of it.
		assign[i] = int32(best)
		u.res[best] -= sz
		sums[best] += u.sums[x]
	}
}

// restFits reports whether the parties still to come (u.rest) pack into
// the free seats u.res once team t has taken sz more.
func (m *Matcher) restFits(t int, sz int32) bool {
	u := &m.units
	k := &m.units.pack
	k.sorted = k.sorted[:0]
	for s := len(u.rest) - 1; s > 1; s-- {
		for range u.rest[s] {
			k.sorted = append(k.sorted, int32(s))
		}
	}
	bins := append(k.scratch[:0], u.res...)
	k.scratch = bins
	bins[t] -= sz
	return k.fit.fit(k.sorted, bins)
}

// swaps improves a deal (assign by draft index, sums by team) by the best
// exchanges, as deal describes. Each one strictly narrows the spread, so it
// ends; the cap only bounds floating-point pathologies.
func (m *Matcher) swaps(mem, assign []int32, sums []float64) {
	u := &m.units
	nu, teams := len(u.order), len(sums)
	// By draft index: seats and strength.
	u.dsz = grow(u.dsz, nu)
	u.dstr = grow(u.dstr, nu)
	for i, x := range u.order {
		u.dsz[i], u.dstr[i] = m.usize[mem[x]], u.sums[x]
	}
	sz, str := u.dsz, u.dstr
	u.byTeam = grow(u.byTeam, nu)
	u.teamAt = grow(u.teamAt, teams+1)
	u.all = grow(u.all, nu)
	for i := range u.all {
		u.all[i] = int32(i)
	}
	var ex extremes
	for range nu * nu {
		bi, bj, bk, best := -1, -1, -1, spreadOf(sums)
		if best == 0 {
			return
		}
		if teams > 2 {
			ex.of(sums)
		}
		// Each team's units in draft order: u.byTeam[u.teamAt[t]:u.teamAt[t+1]];
		// two teams need no lists.
		h, l := int32(0), int32(1) // two teams: both are extremes
		if teams > 2 {
			h, l = ex.hi[0], ex.lo[0]
			m.listTeams(assign, teams)
			u.edge = mergeAsc(u.edge[:0], u.byTeam[u.teamAt[h]:u.teamAt[h+1]], u.byTeam[u.teamAt[l]:u.teamAt[l+1]])
		}
		for i := range nu {
			ti, si := assign[i], sz[i]
			// Only an exchange with the largest or the smallest team can
			// narrow max - min; the others are skipped, in the same order.
			others := u.edge // units of the largest and smallest teams
			if ti == h || ti == l || teams == 2 {
				others = u.all[:nu]
			}
			for _, j32 := range others {
				j := int(j32)
				tj := assign[j]
				if tj == ti || sz[j] > si {
					continue
				}
				if sz[j] == si {
					if j > i { // each one-for-one exchange once
						d := str[i] - str[j]
						if s := ex.spreadSwapped(sums, ti, sums[ti]-d, tj, sums[tj]+d); s < best {
							bi, bj, bk, best = i, j, -1, s
						}
					}
					continue
				}
				ks := u.all[j+1 : nu]
				if teams > 2 {
					ks = u.byTeam[u.teamAt[tj]:u.teamAt[tj+1]]
				}
				for _, k := range ks {
					if int(k) <= j || sz[j]+sz[k] != si || assign[k] != tj {
						continue
					}
					d := str[i] - (str[j] + str[k])
					if s := ex.spreadSwapped(sums, ti, sums[ti]-d, tj, sums[tj]+d); s < best {
						bi, bj, bk, best = i, j, int(k), s
					}
				}
			}
		}
		if bi < 0 {
			return
		}
		ti, tj := assign[bi], assign[bj]
		d := str[bi] - str[bj]
		if bk >= 0 {
			d = str[bi] - (str[bj] + str[bk])
			assign[bk] = ti
		}
		sums[ti], sums[tj] = sums[ti]-d, sums[tj]+d
		assign[bi], assign[bj] = tj, ti
	}
}

// listTeams lays out each team's units in draft order in
// u.byTeam[u.teamAt[t]:u.teamAt[t+1]].
func (m *Matcher) listTeams(assign []int32, teams int) {
	u := &m.units
	clear(u.teamAt)
	for _, t := range assign {
		u.teamAt[t+1]++
	}
	for t := range teams {
		u.teamAt[t+1] += u.teamAt[t]
	}
	for i, t := range assign {
		u.byTeam[u.teamAt[t]] = int32(i)
		u.teamAt[t]++
	}
	copy(u.teamAt[1:], u.teamAt[:teams])
	u.teamAt[0] = 0
}

// mergeAsc appends the union of two ascending lists to dst, ascending.
func mergeAsc(dst, a, b []int32) []int32 {
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0] < b[0]):
			dst, a = append(dst, a[0]), a[1:]
		case len(a) == 0 || b[0] < a[0]:
			dst, b = append(dst, b[0]), b[1:]
		default: // the same list twice (one team is both)
			dst, a, b = append(dst, a[0]), a[1:], b[1:]
		}
	}
	return dst
}

// extremes holds the three largest and three smallest team sums, so the
// spread with two teams' sums replaced costs O(1) whatever the teams.
type extremes struct {
	hi, lo [3]int32 // team indexes, largest (smallest) first; -1 if fewer teams
}

func (e *extremes) of(sums []float64) {
	e.hi, e.lo = [3]int32{-1, -1, -1}, [3]int32{-1, -1, -1}
	for t, s := range sums {
		for r := range 3 {
			if e.hi[r] < 0 || s > sums[e.hi[r]] {
				copy(e.hi[r+1:], e.hi[r:2])
				e.hi[r] = int32(t)
				break
			}
		}
		for r := range 3 {
			if e.lo[r] < 0 || s < sums[e.lo[r]] {
				copy(e.lo[r+1:], e.lo[r:2])
				e.lo[r] = int32(t)
				break
			}
		}
	}
}

// spreadSwapped returns max - min of sums with sums[ti] read as si and
// sums[tj] as sj.
func (e *extremes) spreadSwapped(sums []float64, ti int32, si float64, tj int32, sj float64) float64 {
	hi, lo := max(si, sj), min(si, sj)
	if len(sums) == 2 {
		return hi - lo // no other team
	}
	for _, t := range e.hi {
		if t >= 0 && t != ti && t != tj {
			hi = max(hi, sums[t])
			break
		}
	}
	for _, t := range e.lo {
		if t >= 0 && t != ti && t != tj {
			lo = min(lo, sums[t])
			break
		}
	}
	return hi - lo
}
