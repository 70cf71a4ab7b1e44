package redisx_test

// Nodes' heartbeats hold Redis's clock, which other nodes read, and measure
// the node's estimate of it (Client.Clock), by which a node judges what no
// script decides for it (bans, here).

import (
	"maps"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

func TestNodesSeen(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		if seen, err := c.NodesSeen(ctx, nil); err != nil || len(seen) != 0 {
			t.Errorf("NodesSeen(nil): got %v, %v; want empty", seen, err)
		}
		before := redisTime(t, c)
		if err := c.TouchNode(ctx, "node-a", time.Minute); err != nil {
			t.Fatal(err)
		}
		after := redisTime(t, c)
		if err := c.TouchNode(ctx, "node-b", 150*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		seen, err := c.NodesSeen(ctx, []string{"node-a", "node-b", "node-c"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := seen["node-b"]; len(seen) != 2 || !ok || !inWindow(seen["node-a"], before, after) {
			t.Errorf("NodesSeen: got %v, want node-a at Redis's clock of its heartbeat, in [%d, %d], node-b, and node-c missing (dead)", seen, before, after)
		}
		if v, _ := get(t, c, k.Node("node-a")); v != itoa(seen["node-a"]) {
			t.Errorf("liveness key of node-a holds %q, want %d", v, seen["node-a"])
		}
		if p := pttl(t, c, k.Node("node-a")); p <= 0 || p > time.Minute.Milliseconds() {
			t.Errorf("liveness key PTTL: got %d, want in (0, 60000]", p)
		}

		// The next heartbeat moves the value on; a node that stops
		// heartbeating, or leaves, is missing.
		waitGone(t, c, k.Node("node-b"))
		waitRedisPast(t, c, seen["node-a"])
		if err := c.TouchNode(ctx, "node-a", time.Minute); err != nil {
			t.Fatal(err)
		}
		again, err := c.NodesSeen(ctx, []string{"node-a", "node-b"})
		if _, ok := again["node-b"]; err != nil || ok || again["node-a"] <= seen["node-a"] {
			t.Errorf("NodesSeen after node-b lapsed and node-a heartbeated again: got %v, %v; want node-a later than %d, no node-b", again, err, seen["node-a"])
		}
		if err := c.DropNode(ctx, "node-a"); err != nil {
			t.Fatal(err)
		}
		if gone, err := c.NodesSeen(ctx, []string{"node-a", "node-b"}); err != nil || !maps.Equal(gone, map[string]int64{}) {
			t.Errorf("NodesSeen after DropNode: got %v, %v; want none", gone, err)
		}
	})
}

// skewedClock is a node clock 20s ahead of the machine's (and so of
// Redis's, which runs on this machine).
func skewedClock() *redisx.Clock {
	return redisx.NewClock(func() time.Time { return time.Now().Add(20 * time.Second) })
}

// A node whose clock runs 20s ahead measures an offset of about -20s at its
// heartbeat, after which its estimate of Redis's clock is within a second
// of TIME; until then its own clock is all it has.
func TestClockOffset(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		c.Clock = skewedClock()
		if off := c.Clock.Offset(); off != 0 {
			t.Fatalf("offset before any heartbeat: got %v, want 0", off)
		}
		if d := c.Clock.Now().Sub(time.UnixMilli(redisTime(t, c))); d < 19*time.Second || d > 21*time.Second {
			t.Errorf("estimate before any heartbeat: %v from TIME, want the node's own clock, about +20s", d)
		}
		if err := c.TouchNode(t.Context(), "node-a", time.Minute); err != nil {
			t.Fatal(err)
		}
		if off := c.Clock.Offset(); off < -21*time.Second || off > -19*time.Second {
			t.Errorf("offset after a heartbeat: got %v, want about -20s", off)
		}
		before := redisTime(t, c)
		now := c.Clock.NowMs()
		after := redisTime(t, c)
		if now < before-1000 || now > after+1000 {
			t.Errorf("estimate after a heartbeat: %d, want within 1s of TIME [%d, %d]", now, before, after)
		}
		if d := time.Until(c.Clock.Local()); d < 19*time.Second || d > 21*time.Second {
			t.Errorf("Local: %v ahead of the machine's clock, want still the node's own, about +20s", d)
		}
		if d := time.Since(redisx.NewClock(nil).Now()); d < 0 || d > time.Second {
			t.Errorf("NewClock(nil).Now: %v behind time.Now, want time.Now", d)
		}
	})
}

// A node whose clock runs ahead records a ban of exactly its length (the
// script judges by Redis's clock), and once a heartbeat measured its
// offset, its default store (NewSanctions with a nil clock) judges the ban
// by its estimate of Redis's clock, not by its own clock.
func TestSanctionsByRedisClock(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		c.Clock = skewedClock()
		s := redisx.NewSanctions(c, ladderPolicy(time.Hour, 0, time.Hour), nil)
		if ban, err := s.Record(ctx, "p1", "", "dodge"); err != nil || ban != 0 {
			t.Fatalf("first violation: got %v, %v; want a warning", ban, err)
		}
		if ban, err := s.Record(ctx, "p1", "", "dodge"); err != nil || ban != time.Hour {
			t.Fatalf("second violation: got %v, %v; want exactly 1h", ban, err)
		}
		if err := c.TouchNode(ctx, "node-a", time.Minute); err != nil {
			t.Fatal(err)
		}
		if got, err := s.BannedFor(ctx, "p1", ""); err != nil || got > time.Hour || got < time.Hour-time.Second {
			t.Errorf("BannedFor after a heartbeat: got %v, %v; want about 1h (a node clock 20s ahead would say 59m40s)", got, err)
		}
		st, err := s.Status(ctx, "player", "p1")
		if until := newest(t, c, c.Keys.PlayerViolations("p1")).Add(time.Hour); err != nil || st.BannedUntil == nil || !st.BannedUntil.Equal(until) {
			t.Errorf("Status: got %+v, %v; want banned until %v", st, err, until)
		}
	})
}
