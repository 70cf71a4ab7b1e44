package match

import (
	"math"
	"reflect"
	"testing"
)

const now = int64(1_000_000_000)

// tk builds a ticket queued agoSec seconds before now.
func tk(id string, rating float64, agoSec float64) Ticket {
	return Ticket{ID: id, Rating: rating, QueuedAtMs: now - int64(agoSec*1000)}
}

// ids flattens groups formed out of pool to team-by-team ID lists, the
// shape the tests compare.
func ids(pool []Ticket, groups []Group) [][][]string {
	if groups == nil {
		return nil
	}
	out := make([][][]string, len(groups))
	for g, grp := range groups {
		for _, team := range grp.Teams {
			var t []string
			for _, i := range team {
				t = append(t, pool[i].ID)
			}
			out[g] = append(out[g], t)
		}
	}
	return out
}

var (
	duel = Params{Teams: 2, TeamSize: 1, InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000}
	twos = Params{Teams: 2, TeamSize: 2, InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000}
	five = Params{Teams: 2, TeamSize: 5, InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000}
	tri  = Params{Teams: 3, TeamSize: 2, InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000}
)

func TestWindow(t *testing.T) {
	tests := []struct {
		name string
		ago  float64
		want float64
	}{
		{"just queued", 0, 100},
		{"ten seconds", 10, 300},
		{"capped", 100, 1000},
		{"queued in the future", -5, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := duel.Window(tk("a", 0, tt.ago), now); got != tt.want {
				t.Errorf("got Window %v, want %v", got, tt.want)
			}
		})
	}
}

func TestForm(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		pool   []Ticket
		now    int64 // 0 means now
		want   [][][]string
	}{
		{
			name:   "empty pool",
			params: duel,
			want:   nil,
		},
		{
			name:   "pool smaller than a match",
			params: five,
			pool:   []Ticket{tk("a", 1000, 0), tk("b", 1000, 0), tk("c", 1000, 0)},
			want:   nil,
		},
		{
			name:   "invalid shape",
			params: Params{Teams: 0, TeamSize: 1, InitialWindow: 100, MaxWindow: 100},
			pool:   []Ticket{tk("a", 1000, 0), tk("b", 1000, 0)},
			want:   nil,
		},
		{
			name:   "1v1 exact pairs",
			params: duel,
			pool:   []Ticket{tk("c", 2000, 2), tk("a", 1000, 4), tk("d", 2010, 1), tk("b", 1050, 3)},
			want:   [][][]string{{{"b"}, {"a"}}, {{"d"}, {"c"}}},
		},
		{
			name:   "oldest served first",
			params: duel,
			pool:   []Ticket{tk("young", 1000, 1), tk("old", 1000, 3), tk("mid", 1000, 2)},
			want:   [][][]string{{{"old"}, {"mid"}}},
		},
		{
			name:   "equal queue times ordered by ID",
			params: duel,
			pool:   []Ticket{tk("z", 1000, 1), tk("y", 1000, 1), tk("x", 1000, 1)},
			want:   [][][]string{{{"x"}, {"y"}}},
		},
		{
			name:   "closest mate beats an older farther one",
			params: duel,
			pool:   []Ticket{tk("anchor", 1000, 5), tk("older", 1080, 4), tk("close", 1010, 1)},
			want:   [][][]string{{{"close"}, {"anchor"}}},
		},
		{
			name:   "equal distance prefers the older mate",
			params: duel,
			pool:   []Ticket{tk("anchor", 1000, 5), tk("below", 990, 1), tk("above", 1010, 2)},
			want:   [][][]string{{{"above"}, {"anchor"}}},
		},
		{
			name:   "equal distance prefers the older mate below",
			params: duel,
			pool:   []Ticket{tk("anchor", 1000, 5), tk("below2", 990, 1), tk("below1", 990, 3), tk("above", 1010, 2)},
			want:   [][][]string{{{"anchor"}, {"below1"}}, {{"above"}, {"below2"}}},
		},
		{
			name:   "unmatchable oldest does not block",
			params: duel,
			pool:   []Ticket{tk("lonely", 0, 9), tk("b", 1500, 2), tk("c", 1520, 1)},
			want:   [][][]string{{{"c"}, {"b"}}},
		},
		{
			name:   "too far apart now",
			params: duel,
			pool:   []Ticket{tk("a", 1000, 0), tk("b", 1300, 0)},
			want:   nil,
		},
		{
			name:   "windows widen with wait",
			params: duel,
			pool:   []Ticket{tk("a", 1000, 0), tk("b", 1300, 0)},
			now:    now + 10_000, // both windows 100 + 20*10 = 300
			want:   [][][]string{{{"b"}, {"a"}}},
		},
		{
			name:   "a mate's narrow window counts",
			params: duel,
			pool:   []Ticket{tk("old", 1000, 20), tk("new", 1300, 0)},
			want:   nil,
		},
		{
			name:   "max window caps",
			params: duel,
			pool:   []Ticket{tk("a", 1000, 3600), tk("b", 2001, 3600)},
			want:   nil,
		},
		{
			name:   "max window is inclusive",
			params: duel,
			pool:   []Ticket{tk("a", 1000, 3600), tk("b", 2000, 3600)},
			want:   [][][]string{{{"b"}, {"a"}}},
		},
		{
			name:   "non-finite ratings never match",
			params: duel,
			pool:   []Ticket{tk("nan", math.NaN(), 9), tk("inf", math.Inf(1), 8), tk("a", 1000, 1), tk("b", 1000, 0)},
			want:   [][][]string{{{"a"}, {"b"}}},
		},
		{
			name:   "2v2 filled and balanced",
			params: twos,
			pool:   []Ticket{tk("a", 1000, 4), tk("b", 1010, 3), tk("c", 1020, 2), tk("d", 1030, 1), tk("far", 1500, 0)},
			want:   [][][]string{{{"d", "a"}, {"c", "b"}}},
		},
		{
			name:   "5v5 closest mates, filled and balanced",
			params: five,
			pool: []Ticket{
				tk("p0", 1000, 10), tk("p1", 1001, 9), tk("p2", 1002, 8), tk("p3", 1003, 7), tk("p4", 1004, 6),
				tk("p5", 1005, 5), tk("p6", 1006, 4), tk("p7", 1007, 3), tk("p8", 1008, 2), tk("p9", 1009, 1),
				tk("extra", 1004, 0),
			},
			// extra (1004) is closer to the anchor p0 than p9 (1009), so p9
			// waits. Snake: 8,5,4,2,1 vs 7,6,4,3,0 = 20 vs 20.
			want: [][][]string{{{"p8", "p5", "p4", "p2", "p1"}, {"p7", "p6", "extra", "p3", "p0"}}},
		},
		{
			name:   "3 teams of 2",
			params: tri,
			pool:   []Ticket{tk("a", 1001, 6), tk("b", 1002, 5), tk("c", 1003, 4), tk("d", 1004, 3), tk("e", 1005, 2), tk("f", 1006, 1)},
			want:   [][][]string{{{"f", "a"}, {"e", "b"}, {"d", "c"}}},
		},
		{
			name:   "closest-first dead end falls back to the exact search",
			params: twos,
			// The anchor's closest ticket is new and its narrow window
			// (100) rules out c, d, e; the group {anchor, c, d, e} is
			// valid (spread 170 <= 300) and is formed instead.
			pool: []Ticket{tk("anchor", 1000, 10), tk("b", 1010, 0), tk("c", 1150, 9), tk("d", 1160, 8), tk("e", 1170, 7)},
			want: [][][]string{{{"e", "anchor"}, {"d", "c"}}},
		},
		{
			name:   "exact search honours a window met exactly",
			params: Params{Teams: 3, TeamSize: 1, InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000},
			// Closest-first takes b and its 100 window dead-ends. c is 200
			// away with a window of exactly 200: {anchor, d, c} is valid.
			pool: []Ticket{tk("anchor", 1000, 10), tk("b", 1010, 0), tk("c", 1200, 5), tk("d", 1150, 9.5)},
			want: [][][]string{{{"c"}, {"d"}, {"anchor"}}},
		},
		{
			name:   "several groups in age order",
			params: duel,
			pool:   []Ticket{tk("a", 1000, 6), tk("b", 3000, 5), tk("c", 3001, 4), tk("d", 999, 3), tk("e", 500, 2), tk("f", 3002, 1)},
			want:   [][][]string{{{"a"}, {"d"}}, {{"c"}, {"b"}}},
		},
		{
			name:   "a team of one per match",
			params: Params{Teams: 1, TeamSize: 1, InitialWindow: 0, MaxWindow: 0},
			pool:   []Ticket{tk("b", 5, 1), tk("a", 7, 2)},
			want:   [][][]string{{{"a"}}, {{"b"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.now
			if at == 0 {
				at = now
			}
			got := Form(tt.pool, tt.params, at)
			if !reflect.DeepEqual(ids(tt.pool, got), tt.want) {
				t.Errorf("got groups %v, want %v", ids(tt.pool, got), tt.want)
			}
			for _, g := range got {
				if want := groupSpread(tt.pool, g); g.Spread != want {
					t.Errorf("got Spread %v, want %v", g.Spread, want)
				}
			}
		})
	}
}

func groupSpread(pool []Ticket, g Group) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, team := range g.Teams {
		for _, i := range team {
			lo, hi = min(lo, pool[i].Rating), max(hi, pool[i].Rating)
		}
	}
	return hi - lo
}

func TestBalance(t *testing.T) {
	wide := Params{InitialWindow: 10_000, MaxWindow: 10_000}
	tests := []struct {
		name        string
		teams, size int
		ratings     []float64
		want        [][]float64
	}{
		{
			name: "snake and lowest-sum tie: snake kept",
			// Both deal 4+1 / 3+2.
			teams: 2, size: 2,
			ratings: []float64{1, 2, 3, 4},
			want:    [][]float64{{4, 1}, {3, 2}},
		},
		{
			name: "lowest-sum deal kept when closer",
			// Snake: 14+4+3 / 11+5+2 / 8+6+1 = 21 / 18 / 15 (diff 6).
			// Lowest sum: 14+4+1 / 11+5+2 / 8+6+3 = 19 / 18 / 17 (diff 2).
			teams: 3, size: 3,
			ratings: []float64{14, 11, 8, 6, 5, 4, 3, 2, 1},
			want:    [][]float64{{14, 4, 1}, {11, 5, 2}, {8, 6, 3}},
		},
		{
			name: "snake kept when closer",
			// Snake: 348 / 349 (diff 1). Lowest sum: 346 / 351 (diff 5).
			teams: 2, size: 5,
			ratings: []float64{99, 97, 90, 82, 75, 72, 60, 53, 39, 30},
			want:    [][]float64{{99, 82, 75, 53, 39}, {97, 90, 72, 60, 30}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := wide
			p.Teams, p.TeamSize = tt.teams, tt.size
			var pool []Ticket
			for i, r := range tt.ratings {
				pool = append(pool, Ticket{ID: string(rune('a' + i)), Rating: r, QueuedAtMs: int64(i)})
			}
			got := Form(pool, p, 100)
			if len(got) != 1 {
				t.Fatalf("got %d groups, want 1", len(got))
			}
			var gotR [][]float64
			for _, team := range got[0].Teams {
				var rs []float64
				for _, i := range team {
					rs = append(rs, pool[i].Rating)
				}
				gotR = append(gotR, rs)
			}
			if !reflect.DeepEqual(gotR, tt.want) {
				t.Errorf("got teams %v, want %v", gotR, tt.want)
			}
		})
	}
}
