package redisx_test

import (
	"maps"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

func TestDirectory(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		const ttl = time.Minute

		prev, err := c.DirClaim(ctx, "p1", "node-a", "s1", ttl)
		if err != nil || prev != (redisx.DirEntry{}) {
			t.Fatalf("first DirClaim: got %+v, %v; want an empty previous entry", prev, err)
		}
		if h := hgetall(t, c, k.Dir("p1")); h["node"] != "node-a" || h["session"] != "s1" || len(h) != 2 {
			t.Errorf("entry after claim: got %v, want node-a/s1", h)
		}
		if p := pttl(t, c, k.Dir("p1")); p <= 0 || p > ttl.Milliseconds() {
			t.Errorf("entry PTTL: got %d, want in (0, %d]", p, ttl.Milliseconds())
		}

		// Touch records the mode for the owning session only; "-" keeps it.
		for i, tc := range []struct {
			session, mode string
			want          bool
			wantMode      string
		}{
			{"s1", "duel", true, "duel"},
			{"s1", "-", true, "duel"},
			{"s-other", "squad", false, "duel"},
			{"s1", "squad", true, "squad"},
		} {
			ok, err := c.DirTouch(ctx, "p1", "node-a", tc.session, tc.mode, 2*ttl)
			if err != nil || ok != tc.want {
				t.Errorf("step %d DirTouch(%s, %s): got %v, %v; want %v", i+1, tc.session, tc.mode, ok, err, tc.want)
			}
			if m, _ := hget(t, c, k.Dir("p1"), "mode"); m != tc.wantMode {
				t.Errorf("step %d mode: got %q, want %q", i+1, m, tc.wantMode)
			}
		}
		if p := pttl(t, c, k.Dir("p1")); p <= ttl.Milliseconds() {
			t.Errorf("entry PTTL after touch with 2m: got %d, want > %d", p, ttl.Milliseconds())
		}

		// A new session replaces the old one and learns the mode.
		prev, err = c.DirClaim(ctx, "p1", "node-b", "s2", ttl)
		if want := (redisx.DirEntry{Node: "node-a", Session: "s1", Mode: "squad"}); err != nil || prev != want {
			t.Fatalf("second DirClaim: got %+v, %v; want %+v", prev, err, want)
		}
		if m, _ := hget(t, c, k.Dir("p1"), "mode"); m != "squad" {
			t.Errorf("mode after a new claim: got %q, want it kept (squad)", m)
		}
		if ok, _ := c.DirTouch(ctx, "p1", "node-a", "s1", "-", ttl); ok {
			t.Errorf("DirTouch by the replaced session: got true, want false")
		}

		// Release only by the owner.
		if err := c.DirRelease(ctx, "p1", "s1"); err != nil {
			t.Fatal(err)
		}
		if s, _ := hget(t, c, k.Dir("p1"), "session"); s != "s2" {
			t.Errorf("entry after release by a non-owner: session %q, want s2 untouched", s)
		}
		if err := c.DirRelease(ctx, "p1", "s2"); err != nil {
			t.Fatal(err)
		}
		if exists(t, c, k.Dir("p1")) {
			t.Errorf("entry exists after release by its owner")
		}

		// An entry Redis lost (expired, flushed, a restart) is recreated by
		// the session that still holds the player, with the mode when given.
		for _, tc := range []struct {
			player, mode string
			want         map[string]string
		}{
			{"p1", "duel", map[string]string{"node": "node-b", "session": "s2", "mode": "duel"}},
			{"p2", "-", map[string]string{"node": "node-b", "session": "s2"}},
		} {
			ok, err := c.DirTouch(ctx, tc.player, "node-b", "s2", tc.mode, ttl)
			if err != nil || !ok {
				t.Errorf("DirTouch(%s) of a missing entry: got %v, %v; want true (recreated)", tc.player, ok, err)
			}
			if h := hgetall(t, c, k.Dir(tc.player)); !maps.Equal(h, tc.want) {
				t.Errorf("recreated entry %s: got %v, want %v", tc.player, h, tc.want)
			}
			if p := pttl(t, c, k.Dir(tc.player)); p <= 0 || p > ttl.Milliseconds() {
				t.Errorf("recreated entry %s PTTL: got %d, want in (0, %d]", tc.player, p, ttl.Milliseconds())
			}
		}

		// DirNodes: one call, players without an entry left out.
		for p, n := range map[string]string{"a": "node-a", "b": "node-b", "c": "node-a"} {
			if _, err := c.DirClaim(ctx, p, n, "s-"+p, ttl); err != nil {
				t.Fatal(err)
			}
		}
		got, err := c.DirNodes(ctx, []string{"a", "b", "ghost", "c"})
		if want := map[string]string{"a": "node-a", "b": "node-b", "c": "node-a"}; err != nil || !maps.Equal(got, want) {
			t.Errorf("DirNodes: got %v, %v; want %v", got, err, want)
		}
		if got, err := c.DirNodes(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("DirNodes(nil): got %v, %v; want empty", got, err)
		}
	})
}

func TestNodeLiveness(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		alive := func(node string) bool {
			t.Helper()
			ok, err := c.NodeAlive(ctx, node)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if alive("node-a") {
			t.Fatalf("NodeAlive before any touch: got true, want false")
		}
		if err := c.TouchNode(ctx, "node-a", time.Minute); err != nil {
			t.Fatal(err)
		}
		if !alive("node-a") || alive("node-b") {
			t.Errorf("after TouchNode(node-a): got a %v, b %v; want true, false", alive("node-a"), alive("node-b"))
		}
		if p := pttl(t, c, c.Keys.Node("node-a")); p <= 0 || p > time.Minute.Milliseconds() {
			t.Errorf("node key PTTL: got %d, want in (0, 60000]", p)
		}
		if err := c.DropNode(ctx, "node-a"); err != nil {
			t.Fatal(err)
		}
		if alive("node-a") {
			t.Errorf("NodeAlive after DropNode: got true, want false")
		}
		if err := c.DropNode(ctx, "node-a"); err != nil {
			t.Errorf("second DropNode: %v", err)
		}
		// A node that stops touching dies by its TTL.
		if err := c.TouchNode(ctx, "node-c", 150*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, c.Keys.Node("node-c"))
		if alive("node-c") {
			t.Errorf("NodeAlive after the TTL: got true, want false")
		}
	})
}
