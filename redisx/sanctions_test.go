package redisx_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// fakeClock is a settable clock for the sanctions store.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fakeClock) Set(t time.Time) { f.mu.Lock(); f.now = t; f.mu.Unlock() }

// newest is the time of the newest violation stored in key: Record stamps
// violations with Redis's clock, so a test reads the stamp back to know
// when a ban ends.
func newest(tb testing.TB, c *redisx.Client, key string) time.Time {
	tb.Helper()
	zs, err := do(tb, c, c.R.B().Zrange().Key(key).Min("-1").Max("-1").Withscores().Build()).AsZScores()
	if err != nil || len(zs) != 1 {
		tb.Fatalf("newest violation in %s: got %v, %v", key, zs, err)
	}
	return time.UnixMilli(int64(zs[0].Score))
}

// backdate stores a violation of kind as if Record had recorded it at at:
// Record stamps violations with Redis's clock, which a test cannot move,
// so a past is written this way (as Record writes it: a member that names
// the time and kind, and the key living decay).
func backdate(tb testing.TB, c *redisx.Client, key string, at time.Time, kind string, decay time.Duration) {
	tb.Helper()
	member := fmt.Sprintf("%d:%s:%s", at.UnixMilli(), kind, token())
	for _, r := range c.R.DoMulti(context.Background(),
		c.R.B().Zadd().Key(key).ScoreMember().ScoreMember(float64(at.UnixMilli()), member).Build(),
		c.R.B().Pexpire().Key(key).Milliseconds(decay.Milliseconds()).Build()) {
		if err := r.Error(); err != nil {
			tb.Fatalf("backdate a violation in %s: %v", key, err)
		}
	}
}

// The reads judge by the store's clock (here a fake one, set to the times
// of interest); Record judges by Redis's clock, and its stamps are read
// back.
func TestSanctions(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		const decay = time.Hour
		clock := &fakeClock{}
		s := redisx.NewSanctions(c, func() redisx.SanctionPolicy {
			return redisx.SanctionPolicy{Ladder: []time.Duration{0, time.Minute, 10 * time.Minute}, Decay: decay}
		}, clock.Now)

		before := redisTime(t, c)
		ban, err := s.Record(ctx, "p1", "d1", "dodge")
		after := redisTime(t, c)
		if err != nil || ban != 0 {
			t.Fatalf("first violation: got ban %v, %v; want none", ban, err)
		}
		for _, key := range []string{k.PlayerViolations("p1"), k.DeviceViolations("d1")} {
			if n := zcard(t, c, key); n != 1 {
				t.Errorf("ZCARD %s: got %d, want 1", key, n)
			}
			if p := pttl(t, c, key); p <= 0 || p > decay.Milliseconds() {
				t.Errorf("PTTL %s: got %d, want in (0, %d]", key, p, decay.Milliseconds())
			}
			if at := newest(t, c, key).UnixMilli(); !inWindow(at, before, after) {
				t.Errorf("violation in %s stamped %d, want Redis's clock during Record, in [%d, %d]", key, at, before, after)
			}
		}
		if exists(t, c, k.Bans()) {
			t.Errorf("bans index written for a violation that earns no ban")
		}

		// Record's ban is exact whatever the store's clock: it is judged
		// by Redis's.
		clock.Set(time.UnixMilli(t0))
		ban, err = s.Record(ctx, "p1", "d1", "afk")
		if err != nil || ban != time.Minute {
			t.Fatalf("second violation: got ban %v, %v; want 1m", ban, err)
		}
		until := map[string]time.Time{
			"p:p1": newest(t, c, k.PlayerViolations("p1")).Add(time.Minute),
			"d:d1": newest(t, c, k.DeviceViolations("d1")).Add(time.Minute),
		}
		for m, u := range until {
			if sc, ok := zscore(t, c, k.Bans(), m); !ok || int64(sc) != u.UnixMilli() {
				t.Errorf("ZSCORE bans %s: got %d (present %v), want %d", m, int64(sc), ok, u.UnixMilli())
			}
		}
		clock.Set(until["p:p1"].Add(-time.Minute)) // the time of p1's newest violation
		left := func(m string) time.Duration { return until[m].Sub(clock.Now()) }
		for _, tc := range []struct {
			player, device string
			want           time.Duration
		}{
			{"p1", "", left("p:p1")},
			{"p2", "d1", left("d:d1")}, // a device ban applies to another player on it
			{"p2", "d2", 0},
			{"p2", "", 0},
		} {
			if got, err := s.BannedFor(ctx, tc.player, tc.device); err != nil || got != tc.want {
				t.Errorf("BannedFor(%s, %s): got %v, %v; want %v", tc.player, tc.device, got, err, tc.want)
			}
		}
		if left("p:p1") != time.Minute {
			t.Errorf("p1's ban from its newest violation: %v, want 1m", left("p:p1"))
		}
		st, err := s.Status(ctx, "player", "p1")
		if err != nil || len(st.Violations) != 2 || st.Violations[0].Kind != "dodge" || st.Violations[1].Kind != "afk" ||
			st.BannedUntil == nil || !st.BannedUntil.Equal(until["p:p1"]) || st.BannedForMs != time.Minute.Milliseconds() {
			t.Errorf("Status(p1): got %+v, %v; want dodge, afk, banned until %v", st, err, until["p:p1"])
		}
		if got, err := s.ActiveBans(ctx); err != nil || !maps.Equal(got, map[string]bool{"p:p1": true, "d:d1": true}) {
			t.Errorf("ActiveBans: got %v, %v; want p:p1 and d:d1", got, err)
		}

		// The bans run out; the index drops them.
		later := until["p:p1"]
		if until["d:d1"].After(later) {
			later = until["d:d1"]
		}
		clock.Set(later.Add(time.Millisecond))
		if got, _ := s.ActiveBans(ctx); len(got) != 0 {
			t.Errorf("ActiveBans after the ban: got %v, want none", got)
		}
		if exists(t, c, k.Bans()) {
			t.Errorf("bans index exists with no active ban")
		}
		if got, _ := s.BannedFor(ctx, "p1", "d1"); got != 0 {
			t.Errorf("BannedFor after the ban: got %v, want 0", got)
		}

		// Decay, by Redis's clock: past the first violation's life (it is
		// aged past it here, as Redis's clock cannot be moved), a new one
		// counts two, not three (one step at a time).
		first, err := do(t, c, c.R.B().Zrange().Key(k.PlayerViolations("p1")).Min("0").Max("0").Build()).AsStrSlice()
		if err != nil || len(first) != 1 {
			t.Fatalf("first violation: %v, %v", first, err)
		}
		aged := redisTime(t, c) - decay.Milliseconds() - 1000
		if err := do(t, c, c.R.B().Zadd().Key(k.PlayerViolations("p1")).Xx().ScoreMember().ScoreMember(float64(aged), first[0]).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		ban, err = s.Record(ctx, "p1", "", "dodge")
		if err != nil || ban != time.Minute {
			t.Errorf("violation after decay: got ban %v, %v; want 1m (two live violations)", ban, err)
		}
		if n := zcard(t, c, k.PlayerViolations("p1")); n != 2 {
			t.Errorf("ZCARD violations after decay: got %d, want 2", n)
		}

		if err := s.Lift(ctx, "player", "p1"); err != nil {
			t.Fatal(err)
		}
		if exists(t, c, k.PlayerViolations("p1")) {
			t.Errorf("violations exist after Lift")
		}
		if _, ok := zscore(t, c, k.Bans(), "p:p1"); ok {
			t.Errorf("ban index entry exists after Lift")
		}
		if st, _ := s.Status(ctx, "player", "p1"); len(st.Violations) != 0 || st.BannedUntil != nil {
			t.Errorf("Status after Lift: got %+v, want clean", st)
		}
	})
}

// ladderPolicy is a fixed sanctions policy.
func ladderPolicy(decay time.Duration, ladder ...time.Duration) func() redisx.SanctionPolicy {
	return func() redisx.SanctionPolicy { return redisx.SanctionPolicy{Ladder: ladder, Decay: decay} }
}

func TestSanctionBanLength(t *testing.T) {
	t.Parallel()
	p := redisx.SanctionPolicy{Ladder: []time.Duration{0, time.Minute, 5 * time.Minute}, Decay: time.Hour}
	for n, want := range map[int]time.Duration{-1: 0, 0: 0, 1: 0, 2: time.Minute, 3: 5 * time.Minute, 4: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := p.BanLength(n); got != want {
			t.Errorf("BanLength(%d) = %v, want %v", n, got, want)
		}
	}
	if got := (redisx.SanctionPolicy{}).BanLength(3); got != 0 {
		t.Errorf("BanLength with an empty ladder = %v, want 0", got)
	}
}

// The ban climbs the ladder one step per live violation; past its end the
// last entry applies.
func TestSanctionsLadderByCount(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		clock := &fakeClock{}
		s := redisx.NewSanctions(c, ladderPolicy(time.Hour, 0, time.Minute, 10*time.Minute), clock.Now)
		for i, want := range []time.Duration{0, time.Minute, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute} {
			ban, err := s.Record(ctx, "p1", "", "no_show")
			if err != nil || ban != want {
				t.Fatalf("violation %d: Record = %v, %v; want %v", i+1, ban, err, want)
			}
			// The reads, at the time of this violation.
			clock.Set(newest(t, c, c.Keys.PlayerViolations("p1")))
			if got, err := s.BannedFor(ctx, "p1", ""); err != nil || got != want {
				t.Errorf("violation %d: BannedFor = %v, %v; want %v", i+1, got, err, want)
			}
			st, err := s.Status(ctx, "player", "p1")
			if err != nil || len(st.Violations) != i+1 || st.BannedForMs != want.Milliseconds() {
				t.Errorf("violation %d: Status = %+v, %v; want %d violations, banned %v", i+1, st, err, i+1, want)
			}
			if want == 0 && st.BannedUntil != nil {
				t.Errorf("violation %d: a warning has banned_until %v", i+1, st.BannedUntil)
			}
		}
	})
}

// Each violation decays on its own: the ban steps down the ladder one
// violation at a time (counted from the newest), not all at once; a
// violation expires exactly decay after it was recorded.
func TestSanctionsDecayStepByStep(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		const decay = 10 * time.Minute
		// Four violations a minute apart, the first decay+2m+2s before
		// Redis's clock now (written in the past: Record stamps with
		// Redis's clock, which a test cannot move), so the reads below can
		// step through their decay and a Record at the end finds one live.
		base := time.UnixMilli(redisTime(t, c)).Add(-(decay + 2*time.Minute + 2*time.Second))
		at := func(d time.Duration) time.Time { return base.Add(d) }
		clock := &fakeClock{now: at(0)}
		s := redisx.NewSanctions(c, ladderPolicy(decay, 0, time.Hour, 2*time.Hour, 3*time.Hour), clock.Now)
		for i := range 4 {
			backdate(t, c, c.Keys.PlayerViolations("p1"), at(time.Duration(i)*time.Minute), "dodge", decay)
			backdate(t, c, c.Keys.DeviceViolations("d1"), at(time.Duration(i)*time.Minute), "dodge", decay)
		}
		newest := at(3 * time.Minute)
		for _, step := range []struct {
			now   time.Duration
			live  int
			until time.Duration // 0: not banned
		}{
			{3 * time.Minute, 4, 3 * time.Hour},
			{decay - time.Millisecond, 4, 3 * time.Hour},
			{decay, 3, 2 * time.Hour}, // the first expires at decay exactly
			{decay + time.Minute - time.Millisecond, 3, 2 * time.Hour},
			{decay + time.Minute, 2, time.Hour},
			{decay + 2*time.Minute, 1, 0},
			{decay + 3*time.Minute, 0, 0},
		} {
			clock.Set(at(step.now))
			var want time.Duration
			if step.until > 0 {
				want = newest.Add(step.until).Sub(clock.Now())
			}
			for _, sub := range [][2]string{{"player", "p1"}, {"device", "d1"}} {
				st, err := s.Status(ctx, sub[0], sub[1])
				if err != nil || len(st.Violations) != step.live || st.BannedForMs != want.Milliseconds() ||
					(step.until > 0) != (st.BannedUntil != nil) {
					t.Errorf("at +%v: Status(%s %s) = %+v, %v; want %d live, banned %v", step.now, sub[0], sub[1], st, err, step.live, want)
				}
			}
			if got, err := s.BannedFor(ctx, "p1", "d1"); err != nil || got != want {
				t.Errorf("at +%v: BannedFor = %v, %v; want %v", step.now, got, err, want)
			}
		}
		// A new violation after the decay (Redis's clock now stands at
		// 12m2s) counts the live ones only: one live plus this one is the
		// 1h step, not the 4h end of the ladder.
		if ban, err := s.Record(ctx, "p2", "", "dodge"); err != nil || ban != 0 {
			t.Fatalf("p2: %v, %v", ban, err)
		}
		// p1 has one live violation (at 3m, expiring at 13m) left.
		if ban, err := s.Record(ctx, "p1", "", "dodge"); err != nil || ban != time.Hour {
			t.Errorf("a violation with one still live: ban %v, %v; want 1h", ban, err)
		}
	})
}

// A ban on either the player or its device applies; the longer one wins.
func TestSanctionsPlayerOrDevice(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		clock := &fakeClock{}
		s := redisx.NewSanctions(c, ladderPolicy(time.Hour, 0, time.Minute, 10*time.Minute), clock.Now)
		first := redisTime(t, c)
		record := func(player, device string) {
			t.Helper()
			if _, err := s.Record(ctx, player, device, "no_show"); err != nil {
				t.Fatal(err)
			}
		}
		// pl is banned as a player (two violations on two devices); neither
		// device is.
		record("pl", "dA")
		record("pl", "dB")
		// dv is banned as a device (one violation each by two accounts);
		// neither account is.
		record("v1", "dv")
		record("v2", "dv")
		// dz: three accounts, the 10m step; z1 also has a second violation
		// elsewhere (1m as a player).
		record("z1", "dz")
		record("z2", "dz")
		record("z3", "dz")
		record("z1", "dY")
		// The reads at a time just after the last violation: a ban then
		// has at most the time the records took less than its length left.
		last := redisTime(t, c)
		clock.Set(time.UnixMilli(last))
		spread := time.Duration(last-first) * time.Millisecond
		banned := func(got, want time.Duration) bool {
			if want == 0 {
				return got == 0
			}
			return got <= want && got >= want-spread
		}
		for _, tc := range []struct {
			player, device string
			want           time.Duration
		}{
			{"pl", "", time.Minute},
			{"pl", "dA", time.Minute},
			{"pl", "fresh-device", time.Minute}, // a new device does not help
			{"fresh", "dA", 0},
			{"v1", "", 0},
			{"v1", "dv", time.Minute},
			{"new-account", "dv", time.Minute}, // a new account does not help
			{"z1", "", time.Minute},
			{"z1", "dz", 10 * time.Minute}, // the longer (device) ban wins
			{"z1", "dY", time.Minute},
			{"z2", "dY", 0},
		} {
			if got, err := s.BannedFor(ctx, tc.player, tc.device); err != nil || !banned(got, tc.want) {
				t.Errorf("BannedFor(%q, %q) = %v, %v; want %v (less at most %v)", tc.player, tc.device, got, err, tc.want, spread)
			}
		}
		bans, err := s.ActiveBans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"p:pl": true, "d:dA": false, "d:dv": true, "p:v1": false, "d:dz": true, "p:z1": true, "p:z2": false} {
			if bans[id] != want {
				t.Errorf("ActiveBans[%s] = %v, want %v (all: %v)", id, bans[id], want, bans)
			}
		}
		// Lifting the player leaves its device's ban, and the other way.
		if err := s.Lift(ctx, "player", "z1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BannedFor(ctx, "z1", "dz"); !banned(got, 10*time.Minute) {
			t.Errorf("after lifting player z1: BannedFor(z1, dz) = %v, want the device's 10m", got)
		}
		if got, _ := s.BannedFor(ctx, "z1", "dY"); got != 0 {
			t.Errorf("after lifting player z1: BannedFor(z1, dY) = %v, want 0", got)
		}
		if err := s.Lift(ctx, "device", "dz"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BannedFor(ctx, "z2", "dz"); got != 0 {
			t.Errorf("after lifting device dz: BannedFor(z2, dz) = %v, want 0", got)
		}
	})
}

// Two nodes (two clients on one Redis) recording violations against one
// player and device at once lose none.
func TestSanctionsConcurrentRecords(t *testing.T) {
	t.Parallel()
	cfg := redistest.Config(t)
	nodes := []*redisx.Client{open(t, cfg), open(t, cfg)}
	clock := &fakeClock{}
	pol := ladderPolicy(time.Hour, 0, time.Minute, 10*time.Minute)
	stores := []*redisx.Sanctions{redisx.NewSanctions(nodes[0], pol, clock.Now), redisx.NewSanctions(nodes[1], pol, clock.Now)}
	const goroutines, each = 8, 25
	errs := make([]error, goroutines)
	race(goroutines, func(i int) {
		for range each {
			if _, err := stores[i%2].Record(t.Context(), "hot", "hot-dev", "dodge"); err != nil {
				errs[i] = err
				return
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	k := nodes[0].Keys
	for _, key := range []string{k.PlayerViolations("hot"), k.DeviceViolations("hot-dev")} {
		if n := zcard(t, nodes[0], key); n != goroutines*each {
			t.Errorf("ZCARD %s = %d, want %d", key, n, goroutines*each)
		}
	}
	for i, s := range stores {
		for _, sub := range [][2]string{{"player", "hot"}, {"device", "hot-dev"}} {
			key := k.PlayerViolations(sub[1])
			if sub[0] == "device" {
				key = k.DeviceViolations(sub[1])
			}
			clock.Set(newest(t, nodes[0], key)) // read at the newest violation's time
			st, err := s.Status(t.Context(), sub[0], sub[1])
			if err != nil || len(st.Violations) != goroutines*each || st.BannedForMs != (10*time.Minute).Milliseconds() {
				t.Errorf("node %d: Status(%s) = %d violations, banned %dms, %v; want %d, 600000ms", i, sub[1], len(st.Violations), st.BannedForMs, err, goroutines*each)
			}
		}
	}
	if bans, err := stores[1].ActiveBans(t.Context()); err != nil || !bans["p:hot"] || !bans["d:hot-dev"] {
		t.Errorf("ActiveBans = %v, %v; want p:hot and d:hot-dev", bans, err)
	}
}

// The bans index that the queue's "sanctioned while queued" check reads
// (ActiveBans) must agree with BannedFor as violations decay: when the ban
// has eased and run out, the player and device are no longer listed, or
// the queue dequeues (reason banned) a ticket that enqueue just accepted.
func TestSanctionsActiveBansFollowDecay(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		const decay = 5 * time.Minute
		// Violations at 0 and 4m (written in the past: Record stamps with
		// Redis's clock, which a test cannot move), and one recorded now,
		// at 4m1s.
		now := time.UnixMilli(redisTime(t, c))
		for _, ago := range []time.Duration{4*time.Minute + time.Second, time.Second} {
			backdate(t, c, c.Keys.PlayerViolations("p1"), now.Add(-ago), "no_show", decay)
			backdate(t, c, c.Keys.DeviceViolations("d1"), now.Add(-ago), "no_show", decay)
		}
		clock := &fakeClock{}
		s := redisx.NewSanctions(c, ladderPolicy(decay, 0, time.Minute, 10*time.Minute), clock.Now)
		if ban, err := s.Record(ctx, "p1", "d1", "no_show"); err != nil || ban != 10*time.Minute {
			t.Fatalf("third violation: got ban %v, %v; want 10m", ban, err)
		}
		// 4m1s is the later of the two stamps of that violation.
		anchor := newest(t, c, c.Keys.PlayerViolations("p1"))
		if d := newest(t, c, c.Keys.DeviceViolations("d1")); d.After(anchor) {
			anchor = d
		}
		at := func(d time.Duration) time.Time { return anchor.Add(d - (4*time.Minute + time.Second)) }
		// Banned 10m (three live). At 5m the first decays: the 1m step
		// from the newest (4m1s) leaves 1s of ban.
		clock.Set(at(decay))
		if got, _ := s.BannedFor(ctx, "p1", "d1"); got != time.Second {
			t.Fatalf("at 5m: BannedFor = %v, want 1s", got)
		}
		bans, err := s.ActiveBans(ctx)
		if err != nil || !bans["p:p1"] || !bans["d:d1"] {
			t.Errorf("at 5m (still banned 1s): ActiveBans = %v, %v; want p:p1 and d:d1", bans, err)
		}
		// At 5m2s the eased ban is over.
		clock.Set(at(decay + 2*time.Second))
		if got, _ := s.BannedFor(ctx, "p1", "d1"); got != 0 {
			t.Fatalf("at 5m2s: BannedFor = %v, want 0", got)
		}
		bans, err = s.ActiveBans(ctx)
		if err != nil || bans["p:p1"] || bans["d:d1"] {
			t.Errorf("at 5m2s BannedFor is 0 but ActiveBans = %v, %v: the index still holds the 10m ban (until 14m1s) "+
				"that decay eased; the queue would dequeue p1's new ticket as banned", bans, err)
		}
	})
}
