package match

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// randomCase builds a pool and params small and dense enough that windows,
// ties and dead ends all happen often.
func randomCase(r *rand.Rand, maxN int) ([]Ticket, Params, int64) {
	p := Params{
		Teams:          1 + r.IntN(3),
		TeamSize:       1 + r.IntN(3),
		InitialWindow:  float64(r.IntN(150)),
		WidenPerSecond: r.Float64() * 30,
	}
	if r.IntN(3) == 0 {
		// Newcomers with next to no window among old tickets: the
		// closest-first greedy dead-ends often.
		p.InitialWindow = float64(r.IntN(10))
	}
	p.MaxWindow = p.InitialWindow + r.Float64()*400
	if r.IntN(10) == 0 {
		p.MaxWindow = r.Float64() * p.InitialWindow // cap below the start
	}
	if r.IntN(4) == 0 {
		p.Teams = 2 // the common shapes, more often
	}
	if r.IntN(20) == 0 {
		p.WidenPerSecond = -r.Float64() // nonsense, but must stay correct
	}
	at := int64(1_700_000_000_000)
	span := []float64{20, 100, 300, 1000}[r.IntN(4)]
	integer := r.IntN(3) == 0
	sameTimes := r.IntN(5) == 0
	idFormat := "t%03d"
	if r.IntN(4) == 0 {
		idFormat = "shared-prefix-%d" // ties beyond the 8-byte ID prefix
	}
	n := r.IntN(maxN + 1)
	ids := r.Perm(n)
	pool := make([]Ticket, n)
	for i := range pool {
		rating := 1000 + r.Float64()*span
		if integer {
			rating = math.Round(rating / 5)
		}
		ago := r.Int64N(60_000)
		if sameTimes {
			ago = int64(r.IntN(4)) * 1000
		}
		pool[i] = Ticket{ID: fmt.Sprintf(idFormat, ids[i]), Rating: rating, QueuedAtMs: at - ago}
	}
	return pool, p, at
}

// ref holds a pool and its windows for the reference checks, which are
// written independently of the implementation (brute force, plain loops).
type ref struct {
	pool    []Ticket
	p       Params
	win     []float64
	byID    map[string]int
	ageRank []int // 0 = oldest
}

func newRef(pool []Ticket, p Params, at int64) *ref {
	rf := &ref{pool: pool, p: p, win: make([]float64, len(pool)), byID: map[string]int{}}
	order := make([]int, len(pool))
	for i, t := range pool {
		rf.win[i] = p.Window(t, at)
		rf.byID[t.ID] = i
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		if rf.older(x, y) {
			return -1
		}
		if rf.older(y, x) {
			return 1
		}
		return 0
	})
	rf.ageRank = make([]int, len(pool))
	for r, i := range order {
		rf.ageRank[i] = r
	}
	return rf
}

func (rf *ref) older(a, b int) bool {
	x, y := rf.pool[a], rf.pool[b]
	if x.QueuedAtMs != y.QueuedAtMs {
		return x.QueuedAtMs < y.QueuedAtMs
	}
	return x.ID < y.ID
}

func (rf *ref) dist(a, b int) float64 { return math.Abs(rf.pool[a].Rating - rf.pool[b].Rating) }

// valid reports whether members may form a match.
func (rf *ref) valid(members []int) bool {
	lo, hi, w := math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, i := range members {
		lo, hi, w = min(lo, rf.pool[i].Rating), max(hi, rf.pool[i].Rating), min(w, rf.win[i])
	}
	return hi-lo <= w
}

// feasible reports whether some valid group of set's tickets contains a
// (a need not be in set): for each possible smallest window W, the
// tickets with window >= W near a, taken N-1 consecutive in rating order.
func (rf *ref) feasible(a int, set map[int]bool) bool {
	need := rf.p.Size() - 1
	wa := rf.win[a]
	if !(wa >= 0) {
		return false
	}
	if need == 0 {
		return true
	}
	ra := rf.pool[a].Rating
	for x := range set {
		w := min(rf.win[x], wa)
		var elig []float64
		for y := range set {
			if y != a && rf.win[y] >= w && rf.dist(a, y) <= w {
				elig = append(elig, rf.pool[y].Rating)
			}
		}
		slices.Sort(elig)
		for i := 0; i+need-1 < len(elig); i++ {
			if max(ra, elig[i+need-1])-min(ra, elig[i]) <= w {
				return true
			}
		}
	}
	return false
}

// groupsWith calls fn with every valid group of set's tickets containing a.
func (rf *ref) groupsWith(a int, set map[int]bool, fn func([]int)) {
	var others []int
	for x := range set {
		if x != a {
			others = append(others, x)
		}
	}
	slices.Sort(others)
	need := rf.p.Size() - 1
	cur := []int{a}
	var rec func(from int)
	rec = func(from int) {
		if len(cur) == need+1 {
			if rf.valid(cur) {
				fn(cur)
			}
			return
		}
		for i := from; i < len(others); i++ {
			cur = append(cur, others[i])
			rec(i + 1)
			cur = cur[:len(cur)-1]
		}
	}
	rec(0)
}

// greedy is the closest-first rule: repeatedly the closest (older first)
// unrefused ticket within the smallest window so far, taken if the group
// stays valid, refused otherwise.
func (rf *ref) greedy(a int, set map[int]bool) ([]int, bool) {
	chosen := []int{a}
	refused := map[int]bool{}
	minW := rf.win[a]
	if !(minW >= 0) {
		return nil, false
	}
	for len(chosen) < rf.p.Size() {
		best := -1
		for c := range set {
			if c == a || refused[c] || slices.Contains(chosen, c) || rf.dist(a, c) > minW {
				continue
			}
			if best < 0 || rf.dist(a, c) < rf.dist(a, best) || (rf.dist(a, c) == rf.dist(a, best) && rf.older(c, best)) {
				best = c
			}
		}
		if best < 0 {
			return nil, false
		}
		if rf.valid(append(slices.Clone(chosen), best)) {
			chosen = append(chosen, best)
			minW = min(minW, rf.win[best])
		} else {
			refused[best] = true
		}
	}
	return chosen, true
}

// closeness returns how far group g's mates are from anchor a: the farthest
// distance, the sum of distances, and the sum of the mates' age ranks (the
// exact search's three keys).
func (rf *ref) closeness(a int, g []int) (far, sum float64, ages int) {
	for _, x := range g {
		if x == a {
			continue
		}
		far = max(far, rf.dist(a, x))
		sum += rf.dist(a, x)
		ages += rf.ageRank[x]
	}
	return far, sum, ages
}

// dealSpreads returns the team-sum spread of the snake and lowest-sum deals
// of ratings, as the brief defines them.
func dealSpreads(ratings []float64, teams, size int) (snake, lowest float64) {
	rs := slices.Clone(ratings)
	slices.SortFunc(rs, func(x, y float64) int { return -cmpFloat(x, y) })
	a, b := make([]float64, teams), make([]float64, teams)
	seats := make([]int, teams)
	for i, x := range rs {
		t := i % teams
		if (i/teams)%2 == 1 {
			t = teams - 1 - t
		}
		a[t] += x
		best := -1
		for t := range teams {
			if seats[t] < size && (best < 0 || b[t] < b[best]) {
				best = t
			}
		}
		seats[best]++
		b[best] += x
	}
	return slices.Max(a) - slices.Min(a), slices.Max(b) - slices.Min(b)
}

// checkForm runs every property on one case; exhaustive enables the
// brute-force checks that enumerate subsets (small pools only). It returns
// how many groups needed more than the closest-first greedy.
func checkForm(t *testing.T, m *Matcher, pool []Ticket, p Params, at int64, exhaustive bool) (fallbacks int) {
	t.Helper()
	before := slices.Clone(pool)
	groups := Form(pool, p, at)
	if !reflect.DeepEqual(pool, before) {
		t.Fatalf("got pool %v after Form, want it unchanged %v", pool, before)
	}
	if reused := m.Form(pool, p, at); !reflect.DeepEqual(reused, groups) {
		t.Fatalf("got Matcher.Form %v, want Form's %v", ids(pool, reused), ids(pool, groups))
	}
	shuffled := slices.Clone(pool)
	rand.New(rand.NewPCG(uint64(len(pool)), 7)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	if got := Form(shuffled, p, at); !reflect.DeepEqual(ids(shuffled, got), ids(pool, groups)) {
		t.Fatalf("got Form(shuffled) %v, want %v", ids(shuffled, got), ids(pool, groups))
	}

	rf := newRef(pool, p, at)
	unmatched := map[int]bool{}
	for i := range pool {
		unmatched[i] = true
	}
	hopeless := map[int]bool{} // proven unmatchable; stays so as the set shrinks
	for gi, g := range groups {
		if len(g.Teams) != p.Teams {
			t.Fatalf("group %d: got %d teams, want %d", gi, len(g.Teams), p.Teams)
		}
		var members []int
		var ratings []float64
		for ti, team := range g.Teams {
			if len(team) != p.TeamSize {
				t.Fatalf("group %d team %d: got %d members, want %d", gi, ti, len(team), p.TeamSize)
			}
			for j, i := range team {
				if i < 0 || i >= len(pool) {
					t.Fatalf("group %d: got ticket index %d, want one of the pool's %d", gi, i, len(pool))
				}
				x := pool[i]
				if !unmatched[i] {
					t.Fatalf("group %d: got ticket %s twice", gi, x.ID)
				}
				if j > 0 && pool[team[j-1]].Rating < x.Rating {
					t.Errorf("group %d team %d: got %v before %v, want highest rating first", gi, ti, pool[team[j-1]].Rating, x.Rating)
				}
				members = append(members, i)
				ratings = append(ratings, x.Rating)
			}
		}
		if want := slices.Max(ratings) - slices.Min(ratings); g.Spread != want {
			t.Errorf("group %d: got Spread %v, want %v", gi, g.Spread, want)
		}
		if !rf.valid(members) {
			t.Fatalf("group %d: got spread %v, want <= the smallest window of %v", gi, g.Spread, ids(pool, []Group{g}))
		}
		sums := make([]float64, p.Teams)
		for ti, team := range g.Teams {
			for _, i := range team {
				sums[ti] += pool[i].Rating
			}
		}
		snake, lowest := dealSpreads(ratings, p.Teams, p.TeamSize)
		if got, want := slices.Max(sums)-slices.Min(sums), min(snake, lowest); got != want {
			t.Errorf("group %d: got team sums spread %v, want %v", gi, got, want)
		}

		// The anchor is the oldest member, and no older unmatched ticket
		// could have been matched.
		anchor := members[0]
		for _, x := range members {
			if rf.older(x, anchor) {
				anchor = x
			}
		}
		for u := range unmatched {
			if rf.older(u, anchor) && !hopeless[u] {
				if rf.feasible(u, unmatched) {
					t.Fatalf("group %d: got anchor %s, want older matchable %s served first", gi, pool[anchor].ID, pool[u].ID)
				}
				hopeless[u] = true
			}
		}

		if p.Size() == 2 {
			// 1v1: the mate is the closest compatible ticket, older first.
			mate := members[0]
			if mate == anchor {
				mate = members[1]
			}
			for u := range unmatched {
				if u == anchor || u == mate || !rf.valid([]int{anchor, u}) {
					continue
				}
				if d, dm := rf.dist(anchor, u), rf.dist(anchor, mate); d < dm || (d == dm && rf.older(u, mate)) {
					t.Fatalf("group %d: got mate %s at %v, want %s at %v", gi, pool[mate].ID, dm, pool[u].ID, d)
				}
			}
		}

		// The mates are the closest-first greedy's, or when it dead-ends the
		// valid group with the nearest farthest mate.
		delete(unmatched, anchor)
		got := slices.Clone(members)
		slices.Sort(got)
		if want, ok := rf.greedy(anchor, unmatched); ok {
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("group %d: got members %v, want closest-first %v", gi, got, want)
			}
		} else {
			fallbacks++
			if p.Size() <= 2 {
				t.Fatalf("group %d: got %v where closest-first found nothing, want no group", gi, got)
			}
			if exhaustive {
				gotFar, gotSum, gotAges := rf.closeness(anchor, members)
				rf.groupsWith(anchor, unmatched, func(g []int) {
					far, sum, ages := rf.closeness(anchor, g)
					if far < gotFar || (far == gotFar && (sum < gotSum || (sum == gotSum && ages < gotAges))) {
						t.Fatalf("group %d: got farthest %v sum %v ages %d, want %v sum %v ages %d (%v)",
							gi, gotFar, gotSum, gotAges, far, sum, ages, g)
					}
				})
			}
		}
		for _, x := range members {
			delete(unmatched, x)
		}
	}

	// Maximal: the leftovers hold no valid group at all.
	for u := range unmatched {
		if !hopeless[u] && rf.feasible(u, unmatched) {
			t.Fatalf("got leftover %s still matchable, want no valid group among leftovers", pool[u].ID)
		}
	}
	if p.Size() == 2 {
		for u := range unmatched {
			for v := range unmatched {
				if u < v && rf.valid([]int{u, v}) {
					t.Fatalf("got leftovers %s and %s compatible, want none", pool[u].ID, pool[v].ID)
				}
			}
		}
	}
	if exhaustive {
		for u := range unmatched {
			rf.groupsWith(u, unmatched, func(g []int) {
				t.Fatalf("got leftovers %v forming a valid group, want none", g)
			})
		}
	}
	return fallbacks
}

func TestFormProperties(t *testing.T) {
	tests := []struct {
		name       string
		seed       uint64
		cases      int
		maxN       int
		exhaustive bool
	}{
		{"small exhaustive", 1, 5000, 16, true},
		{"medium", 2, 1500, 60, false},
		{"large", 3, 60, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cases := tt.cases
			if testing.Short() {
				cases /= 10
			}
			r := rand.New(rand.NewPCG(tt.seed, 99))
			var m Matcher
			fallbacks := 0
			for i := range cases {
				pool, p, at := randomCase(r, tt.maxN)
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					fallbacks += checkForm(t, &m, pool, p, at, tt.exhaustive)
				})
			}
			if tt.maxN >= 60 && !testing.Short() && fallbacks == 0 {
				t.Errorf("got 0 groups from the exact search, want some: the cases do not exercise it")
			}
			t.Logf("%d groups needed the exact search", fallbacks)
		})
	}
}

// TestFormLargePools checks the cheap properties on pools big enough for the
// radix sorts and the ID-prefix tie-break to take their fast paths, where
// the brute-force replay of checkForm would be too slow.
func TestFormLargePools(t *testing.T) {
	const at = int64(1_700_000_000_000)
	tests := []struct {
		name string
		p    Params
		n    int
	}{
		{"1v1", duel, 20_000},
		{"5v5", five, 20_000},
		{"3 teams of 2", tri, 20_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := uniformPool(tt.n, 11, at)
			groups := Form(pool, tt.p, at)
			shuffled := slices.Clone(pool)
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) {
				shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
			})
			if got := Form(shuffled, tt.p, at); !reflect.DeepEqual(ids(shuffled, got), ids(pool, groups)) {
				t.Fatalf("got different groups from a shuffled pool, want the same")
			}

			rf := newRef(pool, tt.p, at)
			left := map[int]bool{}
			for i := range pool {
				left[i] = true
			}
			for gi, g := range groups {
				var members []int
				for _, team := range g.Teams {
					if len(team) != tt.p.TeamSize {
						t.Fatalf("group %d: got team of %d, want %d", gi, len(team), tt.p.TeamSize)
					}
					for _, i := range team {
						if !left[i] {
							t.Fatalf("group %d: got ticket %d unknown or twice, want each pool ticket at most once", gi, i)
						}
						delete(left, i)
						members = append(members, i)
					}
				}
				if len(g.Teams) != tt.p.Teams || !rf.valid(members) {
					t.Fatalf("group %d: got %d teams, valid %v; want %d, true", gi, len(g.Teams), rf.valid(members), tt.p.Teams)
				}
			}
			if len(left) > tt.n/100 {
				t.Errorf("got %d tickets left over, want at most %d in a dense pool", len(left), tt.n/100)
			}
			for u := range left {
				if rf.feasible(u, left) {
					t.Fatalf("got leftover %s still matchable, want no valid group among leftovers", pool[u].ID)
				}
			}
		})
	}
}
