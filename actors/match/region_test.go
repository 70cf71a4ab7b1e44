package match

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// regional is a 1v1 mode over three regions with the latency rule of
// the protocol's example: 60 ms, widening 2 ms/s, capped at 150.
func regional(region string) Params {
	p := duel
	p.Regions = []string{"eu", "us-east", "asia"}
	p.Latency = LatencyRule{MaxMs: 60, WidenPerSecond: 2, MaxMsLimit: 150}
	p.Region = region
	return p
}

// lat builds a ticket with latencies to eu, us-east, asia (-1: none).
func lat(id string, rating, agoSec float64, ms ...float64) Ticket {
	t := tk(id, rating, agoSec)
	t.LatencyMs = ms
	return t
}

func TestLatencyLimit(t *testing.T) {
	r := LatencyRule{MaxMs: 60, WidenPerSecond: 2, MaxMsLimit: 150}
	tests := []struct {
		name string
		ago  float64
		want float64
	}{
		{"just queued", 0, 60},
		{"ten seconds", 10, 80},
		{"capped", 100, 150},
		{"queued in the future", -5, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Limit(now-int64(tt.ago*1000), now); got != tt.want {
				t.Errorf("got Limit %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		want error
	}{
		{"no regions", duel, nil},
		{"a region of the mode", regional("asia"), nil},
		{"bad shape", Params{Teams: 0, TeamSize: 1}, ErrShape},
		{"unknown region", regional("mars"), ErrRegion},
		{"no region chosen", regional(""), ErrRegion},
		{"region twice", func() Params { p := regional("eu"); p.Regions = []string{"eu", "eu"}; return p }(), ErrDuplicateRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Validate(); !errors.Is(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	pool := []Ticket{lat("a", 1000, 0, 10, 10, 10), lat("b", 1000, 0, 10, 10, 10)}
	if got := Form(pool, regional("mars"), now); got != nil {
		t.Errorf("got %v for an unknown region, want no groups", ids(pool, got))
	}
}

func TestPlayable(t *testing.T) {
	p := regional("eu")
	pool := []Ticket{
		lat("near", 1000, 0, 50),
		lat("far-new", 1000, 0, 100),
		lat("far-old", 1000, 20, 100),     // limit 100 after 20 s
		lat("none", 1000, 99),             // no latencies at all
		lat("negative", 1000, 99, -1),     // unplayable
		lat("nan", 1000, 99, math.NaN()),  // unplayable
		lat("inf", 1000, 99, math.Inf(1)), // unplayable
	}
	var got []string
	for _, x := range p.Playable(pool, now, nil) {
		got = append(got, x.ID)
	}
	if want := []string{"near", "far-old"}; !slices.Equal(got, want) {
		t.Errorf("got playable %v, want %v", got, want)
	}
	if !p.Reachable(pool[1], 0) || p.Reachable(lat("x", 0, 0, 151), 0) || p.Reachable(pool[3], 0) {
		t.Errorf("got Reachable wrong: want within max_ms_limit only")
	}
}

func TestFormRegions(t *testing.T) {
	tests := []struct {
		name   string
		region string
		pool   []Ticket
		want   [][][]string
		where  string  // the groups' region
		ms     float64 // their worst latency
	}{
		{
			name:   "formed where it is best",
			region: "us-east",
			pool:   []Ticket{lat("a", 1000, 5, 50, 30, 90), lat("b", 1001, 4, 40, 20, 10)},
			want:   [][][]string{{{"b"}, {"a"}}},
			where:  "us-east", ms: 30,
		},
		{
			name:   "left to the best region's leader",
			region: "eu",
			pool:   []Ticket{lat("a", 1000, 5, 50, 30, 90), lat("b", 1001, 4, 40, 20, 10)},
			want:   nil,
		},
		{
			name:   "ties go to the earlier region",
			region: "eu",
			pool:   []Ticket{lat("a", 1000, 5, 30, 30, 30), lat("b", 1001, 4, 20, 30, 10)},
			want:   [][][]string{{{"b"}, {"a"}}},
			where:  "eu", ms: 30,
		},
		{
			name:   "disjoint regions never share a group",
			region: "eu",
			pool:   []Ticket{lat("eu1", 1000, 5, 20), lat("asia1", 1000, 4, -1, -1, 20), lat("eu2", 1050, 3, 30), lat("asia2", 1001, 2, -1, -1, 30)},
			want:   [][][]string{{{"eu2"}, {"eu1"}}},
			where:  "eu", ms: 30,
		},
		{
			name:   "a region only one member may play is not common",
			region: "asia",
			pool:   []Ticket{lat("a", 1000, 5, 50, -1, 20), lat("b", 1001, 4, 40, -1, 100)},
			want:   nil, // b may not play asia yet (limit 68); eu is theirs
		},
		{
			name:   "an anchor left to another region lets the rest match here",
			region: "eu",
			// a and b are best in us-east (30 < 50); a is left to its
			// leader, and b, c pair here.
			pool:  []Ticket{lat("a", 1000, 9, 50, 30), lat("b", 1001, 8, 50, 20), lat("c", 1003, 7, 40, 90)},
			want:  [][][]string{{{"c"}, {"b"}}},
			where: "eu", ms: 50,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Form(tt.pool, regional(tt.region), now)
			if fmt.Sprint(ids(tt.pool, got)) != fmt.Sprint(tt.want) {
				t.Fatalf("got groups %v, want %v", ids(tt.pool, got), tt.want)
			}
			for _, g := range got {
				if g.Region != tt.where || g.LatencyMs != tt.ms {
					t.Errorf("got region %q at %v ms, want %q at %v", g.Region, g.LatencyMs, tt.where, tt.ms)
				}
			}
		})
	}
}

// TestFormLatencyWidens is issue 17's case: a player who only reaches asia,
// at 140 ms, with a compatible mate there. The limit starts at 60 and
// widens 2 ms/s to 150, so it reaches 140 after 40 s: not matched before,
// matched from then on, and only ever in asia.
func TestFormLatencyWidens(t *testing.T) {
	queued := now
	far := Ticket{ID: "far", Rating: 1500, QueuedAtMs: queued, LatencyMs: []float64{-1, -1, 140}}
	mate := Ticket{ID: "mate", Rating: 1500, QueuedAtMs: queued, LatencyMs: []float64{30, 80, 25}}
	pool := []Ticket{far, mate}
	for _, region := range []string{"eu", "us-east", "asia"} {
		p := regional(region)
		for sec := 0.0; sec < 40; sec += 0.5 {
			if got := Form(pool, p, queued+int64(sec*1000)); got != nil {
				t.Fatalf("%s at %vs: got %v, want no match before the limit reaches 140", region, sec, ids(pool, got))
			}
		}
		for _, sec := range []float64{40, 41, 60, 500} {
			got := Form(pool, p, queued+int64(sec*1000))
			if region != "asia" {
				if got != nil {
					t.Fatalf("%s at %vs: got %v, want none outside asia", region, sec, ids(pool, got))
				}
				continue
			}
			if len(got) != 1 || got[0].Region != "asia" || got[0].LatencyMs != 140 {
				t.Fatalf("asia at %vs: got %v (%+v), want far and mate in asia at 140 ms", sec, ids(pool, got), got)
			}
		}
	}
}

// TestRegionLeaders plays one leader per region over one shared pool, as
// the queue actors do: each ticket listed in the pool of every region it
// could ever reach, the leaders ticking in turn as time goes on, each
// formed group taken out of every pool. Every group must be valid at its
// time, formed in its best common region; and the package doc's argument
// must hold at every round: when the leaders all tick at one instant and
// none forms anything, no valid group remains in any region. Played until
// the windows and limits stop widening and a round forms nothing, it also
// shows every ticket that can be matched eventually is.
func TestRegionLeaders(t *testing.T) {
	cases := 400
	if testing.Short() {
		cases /= 10
	}
	r := rand.New(rand.NewPCG(7, 7))
	rounds, formed := 0, 0
	for c := range cases {
		pool, p, at := randomUnitCase(r, 12, true)
		p.Regions = []string{"eu", "us-east", "asia"}[:2+r.IntN(2)]
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			left := slices.Clone(pool)
			nowMs := at
			var ms [3]Matcher
			settle := at + 200_000 // beyond every cap the generator makes
			for round := 0; ; round++ {
				if round > 5000 {
					t.Fatalf("got no quiescence after %d rounds, want the leaders to settle", round)
				}
				rounds++
				nowMs += int64(r.IntN(8000))
				got := 0
				for j := range p.Regions {
					i := (round + j) % len(p.Regions) // leaders take turns first
					pr := p
					pr.Region = p.Regions[i]
					var listed []Ticket
					for _, x := range left {
						if pr.Reachable(x, i) {
							listed = append(listed, x)
						}
					}
					if r.IntN(3) == 0 {
						nowMs += int64(r.IntN(3000)) // leaders need not tick together
					}
					for _, g := range ms[i].Form(listed, pr, nowMs) {
						got++
						var units []Ticket
						for _, team := range g.Teams {
							for _, j := range team {
								units = append(units, listed[j])
							}
						}
						checkRegionalGroup(t, pr, i, units, g, nowMs)
						left = slices.DeleteFunc(left, func(x Ticket) bool {
							return slices.ContainsFunc(units, func(u Ticket) bool { return u.ID == x.ID })
						})
					}
				}
				formed += got
				if got > 0 {
					continue
				}
				// No leader formed anything: at one instant, none may exist.
				all := p
				all.Region = ""
				rf := newURef(left, all, nowMs)
				if g := rf.anyValid(rf.in); g != nil {
					snapshot := true
					// Ticks at different instants: the leaders saw different
					// states, so only a shared instant is a claim.
					for j := range p.Regions {
						pr := p
						pr.Region = p.Regions[j]
						if len(ms[j].Form(left, pr, nowMs)) > 0 {
							snapshot = false
						}
					}
					if snapshot {
						t.Fatalf("round %d at %d: got no group from any leader, want one of %v", round, nowMs, refIDs(rf, []refGroup{{units: g}}))
					}
					continue
				}
				if nowMs > settle {
					return
				}
			}
		})
	}
	t.Logf("%d rounds, %d groups formed", rounds, formed)
}

// checkRegionalGroup checks that group g, formed by region i's leader at
// nowMs, is valid there and then: seats, spread, every member playable, and
// region i its best common region.
func checkRegionalGroup(t *testing.T, p Params, i int, units []Ticket, g Group, nowMs int64) {
	t.Helper()
	rf := newURef(units, p, nowMs)
	all := make([]int, len(units))
	for j := range all {
		all[j] = j
	}
	if len(rf.in) != len(units) || !rf.valid(all) {
		t.Fatalf("got group %v at %d, want valid with every member playable in %s", units, nowMs, p.Region)
	}
	best, worst := refBest(p, units, nowMs)
	if best != i || g.Region != p.Regions[i] || g.LatencyMs != worst {
		t.Fatalf("got group %v in %q at %v ms, want its best common region %d at %v", units, g.Region, g.LatencyMs, best, worst)
	}
}
