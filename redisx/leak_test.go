package redisx_test

import (
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// lifecycle runs a mode through a full round: four players queued, two
// matches claimed in one batch under a lease that is extended, m1 started,
// m2 cancelled with p3 requeued and p4 a no-show, the requeued ticket removed
// and the lease released.
func lifecycle(t *testing.T, c *redisx.Client, mode string) {
	t.Helper()
	ctx := t.Context()
	tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4")
	l := lease(t, c, mode, time.Minute)
	if ok, err := c.ExtendLock(ctx, mode, l.Token, time.Minute); err != nil || !ok {
		t.Fatalf("ExtendLock: got %v, %v", ok, err)
	}
	formed, err := c.Claim(ctx, mode, l, claimArgs, []redisx.ClaimMatch{
		cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"]),
	})
	if err != nil || !slices.Equal(formed, []bool{true, true}) {
		t.Fatalf("Claim: got %v, %v; want [true true]", formed, err)
	}
	markReady(t, c, mode, "m1", "p1", "p2")
	if r, err := c.Resolve(ctx, mode, "m1", res("start")); err != nil || r.Status != "ok" {
		t.Fatalf("Resolve m1 start: got %+v, %v", r, err)
	}
	markReady(t, c, mode, "m2", "p3")
	r, err := c.Resolve(ctx, mode, "m2", cancel("loading_timeout", "", false))
	if err != nil || !slices.Equal(r.Requeued, []string{"p3"}) || !slices.Equal(r.NoShows, []string{"p4"}) {
		t.Fatalf("Resolve m2 cancel: got %+v, %v; want p3 requeued, p4 a no-show", r, err)
	}
	if ok, _, err := c.RemoveTicket(ctx, mode, "p3", tks["p3"].ID); err != nil || !ok {
		t.Fatalf("RemoveTicket(p3): got %v, %v", ok, err)
	}
	// The matching leader takes the queue's change lists every tick, which
	// empties them.
	if _, err := c.TakeQueueChanges(ctx, mode); err != nil {
		t.Fatalf("TakeQueueChanges: %v", err)
	}
	if ok, err := c.ReleaseLock(ctx, mode, l.Token); err != nil || !ok {
		t.Fatalf("ReleaseLock: got %v, %v", ok, err)
	}
}

// After a full round nothing of the mode is left but the fence counter and
// the two finished room records, which expire by themselves.
func TestNoLeak(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		mode, k := "duel", c.Keys
		lifecycle(t, c, mode)
		want := []string{k.Fence(mode), k.Room(mode, "m1"), k.Room(mode, "m2")}
		slices.Sort(want)
		got := keysUnder(t, c)
		if !slices.Equal(got, want) {
			t.Errorf("keys left: got %v, want %v", got, want)
		}
		for _, key := range got {
			ttl := pttl(t, c, key)
			switch {
			case key == k.Fence(mode):
				if ttl != -1 {
					t.Errorf("fence PTTL: got %d, want -1 (it must outlive every lease)", ttl)
				}
			case ttl <= 0 || ttl > finishedTTL.Milliseconds():
				t.Errorf("key %s PTTL: got %d, want in (0, %d]", key, ttl, finishedTTL.Milliseconds())
			}
		}
	})
}
