package redisx_test

import (
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// fakeClock is a settable clock for the sanctions store.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fakeClock) Set(t time.Time) { f.mu.Lock(); f.now = t; f.mu.Unlock() }

func TestSanctions(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		const decay = time.Hour
		at := func(ms int64) time.Time { return time.UnixMilli(t0 + ms) }
		clock := &fakeClock{now: at(0)}
		s := redisx.NewSanctions(c, func() redisx.SanctionPolicy {
			return redisx.SanctionPolicy{Ladder: []time.Duration{0, time.Minute, 10 * time.Minute}, Decay: decay}
		}, clock.Now)

		ban, err := s.Record(ctx, "p1", "d1", "dodge")
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
		}
		if exists(t, c, k.Bans()) {
			t.Errorf("bans index written for a violation that earns no ban")
		}

		clock.Set(at(1000))
		ban, err = s.Record(ctx, "p1", "d1", "afk")
		if err != nil || ban != time.Minute {
			t.Fatalf("second violation: got ban %v, %v; want 1m", ban, err)
		}
		until := at(1000).Add(time.Minute)
		for _, m := range []string{"p:p1", "d:d1"} {
			if sc, ok := zscore(t, c, k.Bans(), m); !ok || int64(sc) != until.UnixMilli() {
				t.Errorf("ZSCORE bans %s: got %d (present %v), want %d", m, int64(sc), ok, until.UnixMilli())
			}
		}
		for _, tc := range []struct {
			player, device string
			want           time.Duration
		}{
			{"p1", "", time.Minute},
			{"p2", "d1", time.Minute}, // a device ban applies to another player on it
			{"p2", "d2", 0},
			{"p2", "", 0},
		} {
			if got, err := s.BannedFor(ctx, tc.player, tc.device); err != nil || got != tc.want {
				t.Errorf("BannedFor(%s, %s): got %v, %v; want %v", tc.player, tc.device, got, err, tc.want)
			}
		}
		st, err := s.Status(ctx, "player", "p1")
		if err != nil || len(st.Violations) != 2 || st.Violations[0].Kind != "dodge" || st.Violations[1].Kind != "afk" ||
			st.BannedUntil == nil || !st.BannedUntil.Equal(until) || st.BannedForMs != time.Minute.Milliseconds() {
			t.Errorf("Status(p1): got %+v, %v; want dodge, afk, banned until %v", st, err, until)
		}
		if got, err := s.ActiveBans(ctx); err != nil || !maps.Equal(got, map[string]bool{"p:p1": true, "d:d1": true}) {
			t.Errorf("ActiveBans: got %v, %v; want p:p1 and d:d1", got, err)
		}

		// The ban runs out; the index drops it.
		clock.Set(until.Add(time.Millisecond))
		if got, _ := s.ActiveBans(ctx); len(got) != 0 {
			t.Errorf("ActiveBans after the ban: got %v, want none", got)
		}
		if exists(t, c, k.Bans()) {
			t.Errorf("bans index exists with no active ban")
		}
		if got, _ := s.BannedFor(ctx, "p1", "d1"); got != 0 {
			t.Errorf("BannedFor after the ban: got %v, want 0", got)
		}

		// Decay: past the first violation's life, a new one counts two, not
		// three (one step at a time).
		clock.Set(at(decay.Milliseconds() + 500))
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
