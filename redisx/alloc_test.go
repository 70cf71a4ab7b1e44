package redisx_test

// An allocation is recorded in its room before the allocator is asked, so
// nobody asks twice; adoption is judged by Redis's clock and never takes a
// room from a living owner in the middle of an allocation.

import (
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// allocatingRoom forms a room of p1 and p2, both loaded, asking for a
// server.
func allocatingRoom(tb testing.TB, c *redisx.Client, mode string) {
	tb.Helper()
	formRoom(tb, c, mode, "m1", "p1", "p2")
	markReady(tb, c, mode, "m1", "p1", "p2")
	if got, err := c.Resolve(tb.Context(), mode, "m1", []string{"p1", "p2"}, res(redisx.ResolveAllocating)); err != nil || got.Status != redisx.ResolveOK {
		tb.Fatalf("Resolve allocating: got %+v, %v", got, err)
	}
}

func TestRecordAlloc(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		a1 := redisx.AllocMark{By: "node-a/1", Server: "gs-1", Attempt: 1}

		// Only a room waiting for a server records one.
		formRoom(t, c, mode, "m0", "q1", "q2")
		snap := dump(t, c, mode)
		for _, match := range []string{"m0", "nope"} {
			if st, held, err := c.RecordAlloc(ctx, mode, match, a1, time.Minute); err != nil || st != redisx.AllocNotAllocating || held != nil {
				t.Errorf("RecordAlloc(%s): got %q, %+v, %v; want not_allocating", match, st, held, err)
			}
		}
		sameDump(t, snap, dump(t, c, mode))

		allocatingRoom(t, c, mode)
		before := redisTime(t, c)
		st, held, err := c.RecordAlloc(ctx, mode, "m1", a1, time.Minute)
		after := redisTime(t, c)
		if err != nil || st != redisx.AllocRecorded || held != nil {
			t.Fatalf("RecordAlloc: got %q, %+v, %v; want recorded", st, held, err)
		}
		r, _, _ := c.Room(ctx, mode, "m1")
		if r.Alloc == nil || r.Alloc.By != a1.By || r.Alloc.Server != a1.Server || r.Alloc.Attempt != 1 || !inWindow(r.Alloc.AtMs, before, after) {
			t.Fatalf("Room().Alloc: got %+v, want %+v at Redis's clock in [%d, %d]", r.Alloc, a1, before, after)
		}

		// Another asker finds it in flight within the budget and asks
		// nobody; nothing changes.
		b1 := redisx.AllocMark{By: "node-b/1", Server: "gs-2", Attempt: 1}
		snap = dump(t, c, mode)
		st, held, err = c.RecordAlloc(ctx, mode, "m1", b1, time.Minute)
		if err != nil || st != redisx.AllocHeld || held == nil || held.By != a1.By || held.Server != a1.Server || held.Attempt != 1 {
			t.Errorf("RecordAlloc by another within the budget: got %q, %+v, %v; want held by %+v", st, held, err, a1)
		}
		sameDump(t, snap, dump(t, c, mode))

		// The asker itself records its next attempt.
		a2 := redisx.AllocMark{By: a1.By, Server: "gs-3", Attempt: 2}
		if st, _, err := c.RecordAlloc(ctx, mode, "m1", a2, time.Minute); err != nil || st != redisx.AllocRecorded {
			t.Fatalf("RecordAlloc of the next attempt: got %q, %v; want recorded", st, err)
		}
		r, _, _ = c.Room(ctx, mode, "m1")
		if r.Alloc == nil || r.Alloc.Server != "gs-3" || r.Alloc.Attempt != 2 {
			t.Fatalf("Room().Alloc after the next attempt: got %+v, want gs-3, attempt 2", r.Alloc)
		}

		// Past its budget (Redis's clock) the allocation is taken for dead
		// and another asker takes over.
		const budget = 300 * time.Millisecond
		for limit := time.Now().Add(10 * time.Second); ; {
			before := redisTime(t, c)
			st, held, err := c.RecordAlloc(ctx, mode, "m1", b1, budget)
			after := redisTime(t, c)
			if err != nil {
				t.Fatal(err)
			}
			if st == redisx.AllocRecorded {
				if after < r.Alloc.AtMs+budget.Milliseconds() {
					t.Errorf("taken over by Redis's clock %d at the latest, before the budget ran out at %d", after, r.Alloc.AtMs+budget.Milliseconds())
				}
				break
			}
			if st != redisx.AllocHeld || held.By != a1.By || before >= r.Alloc.AtMs+budget.Milliseconds() {
				t.Fatalf("RecordAlloc by another: got %q, %+v at Redis's clock %d or later; want held until %d", st, held, before, r.Alloc.AtMs+budget.Milliseconds())
			}
			if time.Now().After(limit) {
				t.Fatal("allocation still held 10s on")
			}
			time.Sleep(10 * time.Millisecond)
		}
		r, _, _ = c.Room(ctx, mode, "m1")
		if r.Alloc == nil || r.Alloc.By != b1.By || r.Alloc.Server != b1.Server || r.Alloc.Attempt != 1 {
			t.Errorf("Room().Alloc after the take-over: got %+v, want %+v", r.Alloc, b1)
		}
		if st, _, _ := c.RecordAlloc(ctx, mode, "m1", a1, time.Minute); st != redisx.AllocHeld {
			t.Errorf("RecordAlloc by the first asker after the take-over: got %q, want held", st)
		}

		// Once started, there is nothing to allocate.
		if got, _ := c.Resolve(ctx, mode, "m1", []string{"p1", "p2"}, res(redisx.ResolveStart)); got.Status != redisx.ResolveOK {
			t.Fatalf("Resolve start: %+v", got)
		}
		if st, _, err := c.RecordAlloc(ctx, mode, "m1", a1, time.Minute); err != nil || st != redisx.AllocNotAllocating {
			t.Errorf("RecordAlloc in a started room: got %q, %v; want not_allocating", st, err)
		}
	})
}

// The grounds of an adoption are checked by the script, by Redis's clock.
func TestAdoptRules(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		adopt := func(t *testing.T, mode, oldOwner, newOwner string, why redisx.AdoptWhy, adoptAfter, budget time.Duration, want bool) {
			t.Helper()
			snap := dump(t, c, mode)
			ok, err := c.AdoptRoom(t.Context(), mode, "m1", oldOwner, newOwner, why, adoptAfter, budget)
			if err != nil || ok != want {
				t.Fatalf("AdoptRoom(%s -> %q, %s, after %v, budget %v): got %v, %v; want %v", oldOwner, newOwner, why, adoptAfter, budget, ok, err, want)
			}
			if !want {
				sameDump(t, snap, dump(t, c, mode))
				return
			}
			if o, _ := hget(t, c, c.Keys.Room(mode, "m1"), "owner"); o != newOwner {
				t.Errorf("room owner: got %q, want %q", o, newOwner)
			}
			if o, ok := hget(t, c, c.Keys.Owners(mode), "m1"); !ok || o != newOwner {
				t.Errorf("owners index: got %q (present %v), want %q", o, ok, newOwner)
			}
		}
		overdue := func(t *testing.T, mode string, adoptAfter time.Duration) bool {
			t.Helper()
			refs, err := c.OverdueRooms(t.Context(), mode, adoptAfter)
			if err != nil {
				t.Fatal(err)
			}
			return len(refs) == 1 && refs[0].MatchID == "m1"
		}

		t.Run("overdue", func(t *testing.T) {
			t.Parallel()
			mode := "overdue"
			formRoom(t, c, mode, "m1", "p1", "p2")
			// Before the deadline: never overdue.
			adopt(t, mode, owner, "node-b", redisx.AdoptOverdue, 0, time.Minute, false)
			// Past the deadline, but not yet by adopt_after.
			expireDeadline(t, c, mode, "m1")
			if overdue(t, mode, time.Hour) {
				t.Errorf("OverdueRooms(1h) lists a room 1ms past its deadline")
			}
			adopt(t, mode, owner, "node-b", redisx.AdoptOverdue, time.Hour, time.Minute, false)
			// By adopt_after: taken, from the owner the caller saw only.
			if !overdue(t, mode, 0) {
				t.Errorf("OverdueRooms(0) does not list a room past its deadline")
			}
			adopt(t, mode, "node-z", "node-b", redisx.AdoptOverdue, 0, time.Minute, false)
			adopt(t, mode, owner, "node-b", redisx.AdoptOverdue, 0, time.Minute, true)
		})

		t.Run("overdue_after_adopt_after", func(t *testing.T) {
			t.Parallel()
			mode := "overdue_wait"
			const adoptAfter = 300 * time.Millisecond
			a := claimArgs
			a.LoadingTimeout = 0
			_, cr := formRoomWith(t, c, mode, "m1", a, "p1", "p2")
			due := cr.DeadlineMs + adoptAfter.Milliseconds()
			for limit := time.Now().Add(10 * time.Second); ; {
				before := redisTime(t, c)
				ok, err := c.AdoptRoom(t.Context(), mode, "m1", owner, "node-b", redisx.AdoptOverdue, adoptAfter, time.Minute)
				after := redisTime(t, c)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					if after < due {
						t.Errorf("adopted by Redis's clock %d at the latest, before deadline + adopt_after %d", after, due)
					}
					break
				}
				if before >= due {
					t.Fatalf("refused at Redis's clock %d or later, past deadline + adopt_after %d", before, due)
				}
				if time.Now().After(limit) {
					t.Fatal("not adopted 10s on")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})

		t.Run("allocation_in_flight", func(t *testing.T) {
			t.Parallel()
			mode := "in_flight"
			allocatingRoom(t, c, mode)
			expireDeadline(t, c, mode, "m1")
			// Overdue, but not mid-allocation, whatever adopt_after.
			if st, _, err := c.RecordAlloc(t.Context(), mode, "m1", redisx.AllocMark{By: "node-a/1", Server: "gs-1", Attempt: 1}, time.Minute); err != nil || st != redisx.AllocRecorded {
				t.Fatalf("RecordAlloc: %q, %v", st, err)
			}
			adopt(t, mode, owner, "node-b", redisx.AdoptOverdue, 0, time.Hour, false)
			// Past the allocation's budget it is taken.
			const budget = 300 * time.Millisecond
			at := func() int64 {
				r, _, _ := c.Room(t.Context(), mode, "m1")
				return r.Alloc.AtMs
			}()
			waitRedisPast(t, c, at+budget.Milliseconds())
			adopt(t, mode, owner, "node-b", redisx.AdoptOverdue, 0, budget, true)
		})

		t.Run("allocating_nothing_in_flight", func(t *testing.T) {
			t.Parallel()
			mode := "nothing_in_flight"
			allocatingRoom(t, c, mode)
			expireDeadline(t, c, mode, "m1")
			adopt(t, mode, owner, "node-b", redisx.AdoptOverdue, 0, time.Hour, true)
		})

		t.Run("dead_owner", func(t *testing.T) {
			t.Parallel()
			mode := "dead"
			allocatingRoom(t, c, mode)
			if st, _, err := c.RecordAlloc(t.Context(), mode, "m1", redisx.AllocMark{By: "node-a/1", Server: "gs-1", Attempt: 1}, time.Minute); err != nil || st != redisx.AllocRecorded {
				t.Fatalf("RecordAlloc: %q, %v", st, err)
			}
			// A dead owner's room is taken at once: before its deadline,
			// mid-allocation (the adopter resumes the recorded one).
			adopt(t, mode, owner, "node-b", redisx.AdoptDead, time.Hour, time.Hour, true)
			if r, _, _ := c.Room(t.Context(), mode, "m1"); r.Alloc == nil || r.Alloc.Server != "gs-1" {
				t.Errorf("allocation after the adoption: got %+v, want gs-1's kept for the adopter", r.Alloc)
			}
		})

		t.Run("handover", func(t *testing.T) {
			t.Parallel()
			mode := "handover"
			formRoom(t, c, mode, "m1", "p1", "p2")
			// Only from the owner; at once, before any deadline.
			adopt(t, mode, "node-z", "", redisx.AdoptHandover, time.Hour, time.Hour, false)
			adopt(t, mode, owner, "", redisx.AdoptHandover, time.Hour, time.Hour, true)
			if owners, _ := c.RoomOwners(t.Context(), mode); owners["m1"] != "" || len(owners) != 1 {
				t.Errorf("RoomOwners after the handover: got %v, want m1 with no owner", owners)
			}
			if r, _ := c.MarkReady(t.Context(), mode, "m1", "p1", 0); r.State != redisx.RoomLoading || r.Owner != "" {
				t.Errorf("MarkReady after the handover: got %+v, want loading, no owner", r)
			}
			// The old owner cannot hand it over twice; any node adopts it.
			adopt(t, mode, owner, "", redisx.AdoptHandover, time.Hour, time.Hour, false)
			adopt(t, mode, "", "node-b", redisx.AdoptDead, time.Hour, time.Hour, true)
			adopt(t, mode, "", "node-c", redisx.AdoptDead, time.Hour, time.Hour, false)
		})
	})
}
