package match

import "math"

// balance seats one group's members (age ranks mem, ratings rat) into teams
// and returns them laid out team by team, teamSize each, in draft order
// (highest rating first, older first on equal ratings), with the group's
// spread.
//
// Two greedy deals are tried and the one whose teams' rating sums differ
// least (max sum - min sum) is kept, the snake on a tie:
//
//   - snake draft: picks go to teams 0,1,...,T-1,T-1,...,0,0,1,...;
//   - lowest sum: each next-highest player joins the team with the lowest
//     rating sum that still has a free seat (lowest index on a tie).
//
// Neither is optimal (that is a partition problem), but each is a good
// greedy and together they cover each other's bad cases: the snake is
// blind to the actual gaps between ratings, the lowest-sum deal can fill the
// weakest team with strong players early and run out of seats.
func (m *Matcher) balance(mem []int32, rat []float64, teams, teamSize int) (seated []int32, spread float64) {
	size := len(mem)
	// d is the draft: indexes into mem, highest rating first, older (lower
	// age rank) first on equal ratings. Insertion sort: groups are small and
	// this allocates nothing.
	m.draft = grow(m.draft, 2*size)
	d, out := m.draft[:size], m.draft[size:]
	for i := range d {
		d[i] = int32(i)
	}
	for i := 1; i < size; i++ {
		x := d[i]
		j := i
		for j > 0 && (rat[d[j-1]] < rat[x] || (rat[d[j-1]] == rat[x] && mem[d[j-1]] > mem[x])) {
			d[j] = d[j-1]
			j--
		}
		d[j] = x
	}
	spread = rat[d[0]] - rat[d[size-1]]
	if teamSize == 1 || teams == 1 {
		// One seat per team (or one team): every deal is the draft order.
		for i, x := range d {
			out[i] = mem[x]
		}
		return out, spread
	}

	m.teamA = grow(m.teamA, size)
	m.teamB = grow(m.teamB, size)
	m.sums = grow(m.sums, 2*teams)
	m.seats = grow(m.seats, teams)
	sumA, sumB := m.sums[:teams], m.sums[teams:]
	clear(m.sums)
	clear(m.seats)
	for i, x := range d {
		t := i % teams
		if (i/teams)%2 == 1 {
			t = teams - 1 - t
		}
		m.teamA[i] = int32(t)
		sumA[t] += rat[x]

		best := -1
		for t := range teams {
			if m.seats[t] < teamSize && (best < 0 || sumB[t] < sumB[best]) {
				best = t
			}
		}
		m.teamB[i] = int32(best)
		m.seats[best]++
		sumB[best] += rat[x]
	}
	assign := m.teamA
	if spreadOf(sumB) < spreadOf(sumA) {
		assign = m.teamB
	}

	// Lay the members out team by team, the seat counters as write offsets.
	for t := range m.seats {
		m.seats[t] = t * teamSize
	}
	for i, x := range d {
		t := assign[i]
		out[m.seats[t]] = mem[x]
		m.seats[t]++
	}
	return out, spread
}

// spreadOf returns max - min of sums.
func spreadOf(sums []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range sums {
		lo, hi = min(lo, s), max(hi, s)
	}
	return hi - lo
}
