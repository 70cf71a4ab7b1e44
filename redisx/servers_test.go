package redisx_test

// The game-server registry (allocator.mode http): registrations expire by
// Redis's clock, a count never brings back one that lapsed, and no key of
// the registry is ever left without a TTL but its index, which empties.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// registryKeys lists the keys of the client's registry (tag {gs}).
func registryKeys(tb testing.TB, c *redisx.Client) []string {
	tb.Helper()
	var out []string
	for _, k := range keysUnder(tb, c) {
		if strings.Contains(k, ":{gs}:") {
			out = append(out, k)
		}
	}
	return out
}

func servers(tb testing.TB, c *redisx.Client) []redisx.GameServer {
	tb.Helper()
	list, err := c.Servers(tb.Context())
	if err != nil {
		tb.Fatalf("Servers: %v", err)
	}
	slices.SortFunc(list, func(a, b redisx.GameServer) int { return strings.Compare(a.ID, b.ID) })
	return list
}

func TestServerRegistry(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		g1 := redisx.GameServer{ID: "gs-1", Addr: "10.0.0.1:7777", Capacity: 8, Active: 2, Region: "eu"}
		g2 := redisx.GameServer{ID: "gs-2", Addr: "10.0.0.2:7777", Capacity: 4}
		before := redisTime(t, c)
		if err := c.RegisterServer(ctx, g1, time.Minute); err != nil {
			t.Fatal(err)
		}
		after := redisTime(t, c)
		if err := c.RegisterServer(ctx, g2, time.Minute); err != nil {
			t.Fatal(err)
		}
		if h, want := hgetall(t, c, k.Server("gs-1")), map[string]string{"addr": g1.Addr, "capacity": "8", "active": "2", "allocated": "0", "region": "eu"}; !mapsEqual(h, want) {
			t.Errorf("registration gs-1: got %v, want %v", h, want)
		}
		if p := pttl(t, c, k.Server("gs-1")); p <= 0 || p > time.Minute.Milliseconds() {
			t.Errorf("registration PTTL: got %d, want in (0, 60000]", p)
		}
		exp, ok := zscore(t, c, k.Servers(), "gs-1")
		if !ok || !inWindow(int64(exp), before+60_000, after+60_000) {
			t.Errorf("index expiry of gs-1: got %d (present %v), want Redis's clock at the registration + 60s, in [%d, %d]", int64(exp), ok, before+60_000, after+60_000)
		}
		list := servers(t, c)
		if len(list) != 2 {
			t.Fatalf("Servers: got %+v, want gs-1 and gs-2", list)
		}
		want1 := g1
		want1.ExpiresAt = time.UnixMilli(int64(exp))
		if !sameServer(list[0], want1) || list[1].ID != "gs-2" || list[1].Region != "" || list[1].Free() != 4 {
			t.Errorf("Servers: got %+v, want %+v and gs-2 (any region, 4 free)", list, want1)
		}

		// Counted allocations add up until the server's next heartbeat.
		for range 2 {
			if counted, err := c.CountAllocation(ctx, "gs-1"); err != nil || !counted {
				t.Fatalf("CountAllocation(gs-1): got %v, %v; want counted", counted, err)
			}
		}
		if list := servers(t, c); list[0].Allocated != 2 || list[0].Free() != 8-2-2 {
			t.Errorf("after two counts: got %+v, want allocated 2, free 4", list[0])
		}
		g1.Active = 4
		if err := c.RegisterServer(ctx, g1, time.Minute); err != nil {
			t.Fatal(err)
		}
		if list := servers(t, c); list[0].Allocated != 0 || list[0].Active != 4 {
			t.Errorf("after a renewal: got %+v, want allocated reset to 0, active 4", list[0])
		}

		// A count for a server that is not registered writes nothing.
		snap := registryKeys(t, c)
		if counted, err := c.CountAllocation(ctx, "ghost"); err != nil || counted {
			t.Errorf("CountAllocation(ghost): got %v, %v; want not counted", counted, err)
		}
		if exists(t, c, k.Server("ghost")) || !slices.Equal(registryKeys(t, c), snap) {
			t.Errorf("CountAllocation(ghost) wrote keys: got %v, want %v", registryKeys(t, c), snap)
		}

		if err := c.RemoveServer(ctx, "gs-1"); err != nil {
			t.Fatal(err)
		}
		if exists(t, c, k.Server("gs-1")) {
			t.Errorf("registration of gs-1 exists after RemoveServer")
		}
		if _, ok := zscore(t, c, k.Servers(), "gs-1"); ok {
			t.Errorf("gs-1 still in the index after RemoveServer")
		}
		if list := servers(t, c); len(list) != 1 || list[0].ID != "gs-2" {
			t.Errorf("Servers after RemoveServer(gs-1): got %+v, want gs-2 only", list)
		}
		if counted, _ := c.CountAllocation(ctx, "gs-1"); counted || exists(t, c, k.Server("gs-1")) {
			t.Errorf("CountAllocation after RemoveServer: counted %v, key exists %v; want neither", counted, exists(t, c, k.Server("gs-1")))
		}
		if err := c.RemoveServer(ctx, "gs-1"); err != nil {
			t.Errorf("second RemoveServer: %v", err)
		}
		if err := c.RemoveServer(ctx, "gs-2"); err != nil {
			t.Fatal(err)
		}
		if left := registryKeys(t, c); len(left) != 0 {
			t.Errorf("registry keys after every server left: %v, want none", left)
		}
		if list := servers(t, c); len(list) != 0 {
			t.Errorf("Servers of an empty registry: got %+v", list)
		}
	})
}

// A registration that is not renewed lapses by Redis's clock: a count sent
// to it afterwards is refused and does not bring it back (the old HINCRBY
// recreated the hash without a TTL, a server nobody renews, forever), and
// the listing drops it from the index. At every step, every key of the
// registry but its index has a TTL, and the index is gone once empty.
func TestServerRegistrationLapses(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		check := func(step string) {
			t.Helper()
			for _, key := range registryKeys(t, c) {
				if key == k.Servers() {
					continue
				}
				if ttl := pttl(t, c, key); ttl <= 0 {
					t.Errorf("after %s: key %s has no TTL (PTTL %d)", step, key, ttl)
				}
			}
		}
		short := redisx.GameServer{ID: "gs-short", Addr: "10.0.0.3:7777", Capacity: 2}
		long := redisx.GameServer{ID: "gs-long", Addr: "10.0.0.4:7777", Capacity: 2}
		if err := c.RegisterServer(ctx, short, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := c.RegisterServer(ctx, long, time.Minute); err != nil {
			t.Fatal(err)
		}
		check("register")
		if counted, err := c.CountAllocation(ctx, "gs-short"); err != nil || !counted {
			t.Fatalf("CountAllocation(gs-short) while registered: got %v, %v; want counted", counted, err)
		}
		check("count")

		waitGone(t, c, k.Server("gs-short"))
		if counted, err := c.CountAllocation(ctx, "gs-short"); err != nil || counted {
			t.Errorf("CountAllocation(gs-short) after it lapsed: got %v, %v; want not counted", counted, err)
		}
		if exists(t, c, k.Server("gs-short")) {
			t.Errorf("CountAllocation recreated the lapsed registration (PTTL %d)", pttl(t, c, k.Server("gs-short")))
		}
		check("count after the lapse")

		// The listing never offers the lapsed server; its index entry goes
		// once Redis's clock passed its expiry (at once, or the next call).
		limit := time.Now().Add(5 * time.Second)
		for {
			list := servers(t, c)
			if len(list) != 1 || list[0].ID != "gs-long" {
				t.Fatalf("Servers after gs-short lapsed: got %+v, want gs-long only", list)
			}
			if _, ok := zscore(t, c, k.Servers(), "gs-short"); !ok {
				break
			}
			if time.Now().After(limit) {
				t.Fatal("gs-short still in the index 5s after it lapsed")
			}
			time.Sleep(5 * time.Millisecond)
		}
		check("listing")

		if err := c.RemoveServer(ctx, "gs-long"); err != nil {
			t.Fatal(err)
		}
		check("remove")
		if left := registryKeys(t, c); len(left) != 0 {
			t.Errorf("registry keys once no server is registered: %v, want none", left)
		}
	})
}

// A game server may be named "idx" (the id charset allows it), yet the
// registration key of that id is the registry's index key: the server's
// registration and every other server's break. This test fails until the
// registrations get a key space of their own.
func TestServerNamedIdx(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		if k := c.Keys; k.Server("idx") == k.Servers() {
			t.Errorf("Keys.Server(%q) = %s is the index key", "idx", k.Server("idx"))
		}
		for _, g := range []redisx.GameServer{
			{ID: "idx", Addr: "10.0.0.5:7777", Capacity: 2},
			{ID: "gs-1", Addr: "10.0.0.1:7777", Capacity: 2},
		} {
			if err := c.RegisterServer(ctx, g, time.Minute); err != nil {
				t.Errorf("RegisterServer(%s): %v", g.ID, err)
			}
		}
		list, err := c.Servers(ctx)
		var ids []string
		for _, g := range list {
			ids = append(ids, g.ID)
		}
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, []string{"gs-1", "idx"}) {
			t.Errorf("Servers: got %v, %v; want [gs-1 idx]", ids, err)
		}
	})
}

func sameServer(got, want redisx.GameServer) bool {
	return got.ID == want.ID && got.Addr == want.Addr && got.Capacity == want.Capacity && got.Active == want.Active &&
		got.Allocated == want.Allocated && got.Region == want.Region && got.ExpiresAt.Equal(want.ExpiresAt)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
