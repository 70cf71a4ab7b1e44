package redisx_test

import (
	"maps"
	"slices"
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

		// Touch renews the entry for the owning session only.
		ok, err := c.DirTouch(ctx, "p1", "node-a", "s1", 2*ttl)
		if err != nil || !ok {
			t.Fatalf("DirTouch by the owner: got %v, %v; want true", ok, err)
		}
		if p := pttl(t, c, k.Dir("p1")); p <= ttl.Milliseconds() {
			t.Errorf("entry PTTL after touch with 2m: got %d, want > %d", p, ttl.Milliseconds())
		}
		before := hgetall(t, c, k.Dir("p1"))
		if ok, err := c.DirTouch(ctx, "p1", "node-z", "s-other", 10*ttl); err != nil || ok {
			t.Errorf("DirTouch by another session: got %v, %v; want false", ok, err)
		}
		if h := hgetall(t, c, k.Dir("p1")); !maps.Equal(h, before) {
			t.Errorf("entry after a stranger's touch: got %v, want %v untouched", h, before)
		}
		if p := pttl(t, c, k.Dir("p1")); p > 2*ttl.Milliseconds() {
			t.Errorf("entry PTTL after a stranger's touch with 10m: got %d, want it not renewed (<= %d)", p, 2*ttl.Milliseconds())
		}

		// A new session replaces the old one.
		prev, err = c.DirClaim(ctx, "p1", "node-b", "s2", ttl)
		if want := (redisx.DirEntry{Node: "node-a", Session: "s1"}); err != nil || prev != want {
			t.Fatalf("second DirClaim: got %+v, %v; want %+v", prev, err, want)
		}
		if ok, _ := c.DirTouch(ctx, "p1", "node-a", "s1", ttl); ok {
			t.Errorf("DirTouch by the replaced session: got true, want false")
		}
		if h := hgetall(t, c, k.Dir("p1")); h["node"] != "node-b" || h["session"] != "s2" {
			t.Errorf("entry after the replaced session's touch: got %v, want node-b/s2", h)
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
		// the session that still holds the player, on the node it names.
		for _, player := range []string{"p1", "p2"} {
			ok, err := c.DirTouch(ctx, player, "node-b", "s2", ttl)
			if err != nil || !ok {
				t.Errorf("DirTouch(%s) of a missing entry: got %v, %v; want true (recreated)", player, ok, err)
			}
			if h, want := hgetall(t, c, k.Dir(player)), map[string]string{"node": "node-b", "session": "s2"}; !maps.Equal(h, want) {
				t.Errorf("recreated entry %s: got %v, want %v", player, h, want)
			}
			if p := pttl(t, c, k.Dir(player)); p <= 0 || p > ttl.Milliseconds() {
				t.Errorf("recreated entry %s PTTL: got %d, want in (0, %d]", player, p, ttl.Milliseconds())
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

// A node renews all its sessions' entries in one pipelined batch: owned
// entries are renewed, a player another session took is reported (and left
// alone), a lapsed entry is recreated for the session that still holds the
// player. Each round also runs after Redis lost its script cache, as after a
// restart: the batch goes by EVALSHA and must load the script itself.
func TestDirTouchBatch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		const short, long = 20 * time.Second, 2 * time.Minute
		leases := []redisx.DirLease{{Player: "p1", Session: "s1"}, {Player: "p2", Session: "s2"}, {Player: "p3", Session: "s3"}, {Player: "p4", Session: "s4"}}
		want := []bool{true, true, false, true}

		for _, flush := range []bool{false, true} {
			for _, l := range leases[:3] {
				if _, err := c.DirClaim(ctx, l.Player, "node-a", l.Session, short); err != nil {
					t.Fatal(err)
				}
			}
			// p3 moved to a session on another node; p4's entry lapsed.
			if _, err := c.DirClaim(ctx, "p3", "node-b", "s3-new", short); err != nil {
				t.Fatal(err)
			}
			if err := c.R.Do(ctx, c.R.B().Del().Key(k.Dir("p4")).Build()).Error(); err != nil {
				t.Fatal(err)
			}
			if flush {
				if err := c.R.Do(ctx, c.R.B().ScriptFlush().Build()).Error(); err != nil {
					t.Fatal(err)
				}
			}

			owned, err := c.DirTouchBatch(ctx, "node-a", leases, long)
			if err != nil {
				t.Fatalf("flush %v: DirTouchBatch: %v", flush, err)
			}
			if !slices.Equal(owned, want) {
				t.Errorf("flush %v: owned: got %v, want %v", flush, owned, want)
			}
			for _, l := range []redisx.DirLease{leases[0], leases[1], leases[3]} {
				if h, w := hgetall(t, c, k.Dir(l.Player)), map[string]string{"node": "node-a", "session": l.Session}; !maps.Equal(h, w) {
					t.Errorf("flush %v: entry %s: got %v, want %v", flush, l.Player, h, w)
				}
				if p := pttl(t, c, k.Dir(l.Player)); p <= short.Milliseconds() || p > long.Milliseconds() {
					t.Errorf("flush %v: entry %s PTTL: got %d, want renewed to (%d, %d]", flush, l.Player, p, short.Milliseconds(), long.Milliseconds())
				}
			}
			if h, w := hgetall(t, c, k.Dir("p3")), map[string]string{"node": "node-b", "session": "s3-new"}; !maps.Equal(h, w) {
				t.Errorf("flush %v: the taken entry p3: got %v, want %v untouched", flush, h, w)
			}
			if p := pttl(t, c, k.Dir("p3")); p <= 0 || p > short.Milliseconds() {
				t.Errorf("flush %v: the taken entry p3 PTTL: got %d, want not renewed (0, %d]", flush, p, short.Milliseconds())
			}
		}

		if owned, err := c.DirTouchBatch(ctx, "node-a", nil, long); err != nil || len(owned) != 0 {
			t.Errorf("DirTouchBatch(nil): got %v, %v; want empty", owned, err)
		}
	})
}
