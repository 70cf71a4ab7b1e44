package redisx_test

// The queue's change lists are emptied as they are read, so only the
// current holder of the mode's lease may read them: a leader that stalled
// past its lease must neither get them nor take them from its successor.
// The same read lists the tickets past max_wait by Redis's clock.

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// A stale lease, whichever way it went stale, reads nothing and consumes
// nothing: the current holder then gets every change, once.
func TestQueueChangesFenced(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		tks := enqueueAll(t, c, mode, "p1", "p2", "p3")
		if r, err := c.RemoveTicket(ctx, mode, "p2", "", "cancelled", outcomeTTL); err != nil || !r.Removed {
			t.Fatalf("RemoveTicket(p2): %+v, %v", r, err)
		}
		// The old leader released (or lost) its lease, and a new one holds
		// the next fence.
		old := lease(t, c, mode, time.Minute)
		if ok, err := c.ReleaseLock(ctx, mode, old.Token); err != nil || !ok {
			t.Fatalf("ReleaseLock: %v, %v", ok, err)
		}
		cur := lease(t, c, mode, time.Minute)
		if cur.Fence <= old.Fence {
			t.Fatalf("new fence %d, want > %d", cur.Fence, old.Fence)
		}

		for _, tc := range []struct {
			name  string
			stale redisx.Lease
		}{
			{"old_lease", old},
			{"current_token_old_fence", redisx.Lease{Token: cur.Token, Fence: old.Fence}},
			{"old_token_current_fence", redisx.Lease{Token: old.Token, Fence: cur.Fence}},
			{"never_held", redisx.Lease{Token: token(), Fence: cur.Fence}},
		} {
			before := dump(t, c, mode)
			ch, err := c.TakeQueueChanges(ctx, mode, tc.stale, time.Minute)
			if !errors.Is(err, redisx.ErrLeaseLost) || ch.NowMs != 0 || ch.Added != nil || ch.Removed != nil || ch.Expired != nil {
				t.Errorf("%s: TakeQueueChanges got %+v, %v; want nothing, ErrLeaseLost", tc.name, ch, err)
			}
			// The same through a shared round trip, as the leader reads.
			var got redisx.QueueChanges
			if err := c.DoTogether(ctx, c.QueueChangesRead(mode, tc.stale, time.Minute, &got)); !errors.Is(err, redisx.ErrLeaseLost) {
				t.Errorf("%s: QueueChangesRead got %+v, %v; want ErrLeaseLost", tc.name, got, err)
			}
			sameDump(t, before, dump(t, c, mode))
		}

		before := redisTime(t, c)
		ch, err := c.TakeQueueChanges(ctx, mode, cur, time.Minute)
		after := redisTime(t, c)
		if err != nil {
			t.Fatalf("TakeQueueChanges with the current lease: %v", err)
		}
		var added []string
		for _, tk := range ch.Added {
			added = append(added, tk.ID)
		}
		if ch.Queued != 2 || !slices.Equal(added, []string{tks["p1"].ID, tks["p3"].ID}) || !slices.Equal(ch.Removed, []string{tks["p2"].ID}) {
			t.Errorf("current holder: got queued %d, added %v, removed %v; want 2, [p1 p3], [p2] (left for it by the stale reads)", ch.Queued, added, ch.Removed)
		}
		if !inWindow(ch.NowMs, before, after) {
			t.Errorf("NowMs %d: want Redis's clock during the call, in [%d, %d]", ch.NowMs, before, after)
		}
		for _, key := range []string{c.Keys.Added(mode), c.Keys.Removed(mode)} {
			if exists(t, c, key) {
				t.Errorf("change list %s still exists after the current holder took it", key)
			}
		}
		if again, err := c.TakeQueueChanges(ctx, mode, cur, time.Minute); err != nil || len(again.Added) != 0 || len(again.Removed) != 0 {
			t.Errorf("second take: got %+v, %v; want nothing new", again, err)
		}
	})
}

// A lease that expired while its holder stalled reads nothing: the lists
// stay for whoever takes the lease next.
func TestQueueChangesLeaseExpired(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		tks := enqueueAll(t, c, mode, "p1")
		stalled := lease(t, c, mode, 150*time.Millisecond)
		waitGone(t, c, c.Keys.Lock(mode))
		before := dump(t, c, mode)
		if ch, err := c.TakeQueueChanges(ctx, mode, stalled, time.Minute); !errors.Is(err, redisx.ErrLeaseLost) {
			t.Fatalf("TakeQueueChanges with an expired lease: got %+v, %v; want ErrLeaseLost", ch, err)
		}
		sameDump(t, before, dump(t, c, mode))
		next := lease(t, c, mode, time.Minute)
		ch, err := c.TakeQueueChanges(ctx, mode, next, time.Minute)
		if err != nil || len(ch.Added) != 1 || !reflect.DeepEqual(ch.Added[0], tks["p1"]) {
			t.Errorf("next holder: got %+v, %v; want p1's ticket added", ch, err)
		}
	})
}

// Expired lists exactly the tickets whose current wait began max_wait or
// longer ago by Redis's clock (the reply's NowMs), every read until they
// leave; the lists are not what decides it.
func TestQueueChangesExpired(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		const maxWait = 500 * time.Millisecond
		l := lease(t, c, mode, time.Minute)
		old := enqueue(t, c, ticket(mode, "old", t0))
		oldWait, _ := zscore(t, c, k.Waits(mode), old.ID)
		waitRedisPast(t, c, int64(oldWait)+maxWait.Milliseconds())
		fresh := enqueue(t, c, ticket(mode, "fresh", t0-1)) // queued earlier in priority, waiting since now

		ch, err := c.TakeQueueChanges(ctx, mode, l, maxWait)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ch.Expired, []string{old.ID}) {
			t.Errorf("Expired: got %v, want [%s] (the fresh ticket %s waits less than %v)", ch.Expired, old.ID, fresh.ID, maxWait)
		}
		// Exactly the tickets past max_wait at the reply's clock.
		var want []string
		for _, id := range []string{old.ID, fresh.ID} {
			if w, _ := zscore(t, c, k.Waits(mode), id); int64(w) <= ch.NowMs-maxWait.Milliseconds() {
				want = append(want, id)
			}
		}
		if !slices.Equal(ch.Expired, want) {
			t.Errorf("Expired %v at Redis's clock %d: want the tickets whose wait began at or before %d, %v", ch.Expired, ch.NowMs, ch.NowMs-maxWait.Milliseconds(), want)
		}

		// Not consumed: listed again until it leaves the queue.
		if again, err := c.TakeQueueChanges(ctx, mode, l, maxWait); err != nil || !slices.Contains(again.Expired, old.ID) {
			t.Errorf("second read: got %+v, %v; want %s still expired", again, err, old.ID)
		}
		if r, err := c.RemoveTicket(ctx, mode, "old", old.ID, "timeout", outcomeTTL); err != nil || !r.Removed {
			t.Fatalf("RemoveTicket(old): %+v, %v", r, err)
		}
		if after, err := c.TakeQueueChanges(ctx, mode, l, time.Hour); err != nil || len(after.Expired) != 0 || !slices.Equal(after.Removed, []string{old.ID}) {
			t.Errorf("after the timeout: got %+v, %v; want nothing expired, %s removed", after, err, old.ID)
		}
		// max_wait 0: every wait began at or before now.
		if zero, err := c.TakeQueueChanges(ctx, mode, l, 0); err != nil || !slices.Equal(zero.Expired, []string{fresh.ID}) {
			t.Errorf("max_wait 0: got %+v, %v; want [%s]", zero, err, fresh.ID)
		}
	})
}
