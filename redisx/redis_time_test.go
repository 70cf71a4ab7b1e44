package redisx_test

// Redis's clock decides what nodes must agree on: a room's deadline, a
// late loading_complete, a timeout asked early, a ticket's queue time. Each
// is checked against TIME read around the call, on both servers.

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// The deadline is TIME at the claim plus the loading timeout, whatever the
// caller's clock; every formed room of a batch shares it.
func TestClaimDeadlineByRedisClock(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4")
		l := lease(t, c, mode, time.Minute)
		a := claimArgs
		a.LoadingTimeout = 7 * time.Second
		before := redisTime(t, c)
		cr, err := c.Claim(ctx, mode, l, a, []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"])})
		after := redisTime(t, c)
		if err != nil || !slices.Equal(cr.Formed, []bool{true, true}) {
			t.Fatalf("Claim: got %+v, %v", cr, err)
		}
		if !inWindow(cr.DeadlineMs, before+7000, after+7000) {
			t.Errorf("deadline %d: want Redis's clock at the claim + 7s, in [%d, %d]", cr.DeadlineMs, before+7000, after+7000)
		}
		for _, m := range []string{"m1", "m2"} {
			r, _, err := c.Room(ctx, mode, m)
			if err != nil || r.DeadlineMs != cr.DeadlineMs || r.CreatedMs != cr.DeadlineMs-7000 {
				t.Errorf("Room(%s): deadline %d, created %d, %v; want %d, %d", m, r.DeadlineMs, r.CreatedMs, err, cr.DeadlineMs, cr.DeadlineMs-7000)
			}
			if s, _ := zscore(t, c, k.Rooms(mode), m); int64(s) != cr.DeadlineMs {
				t.Errorf("rooms index score of %s: got %d, want %d", m, int64(s), cr.DeadlineMs)
			}
		}
	})
}

// A mark after the deadline by Redis's clock is refused and changes
// nothing; a node that was stalled may still count a mark that reached it
// in time (arrivedMs at or before the deadline), but never one from the
// future or after the deadline. A repeat of a mark made in time is no late
// mark. The room then ends as a timeout, with its late member a no-show.
func TestLateMark(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		members := []string{"p1", "p2", "p3"}
		a := claimArgs
		a.LoadingTimeout = 200 * time.Millisecond
		_, cr := formRoomWith(t, c, mode, "m1", a, members...)
		deadline := cr.DeadlineMs
		waitRedisPast(t, c, deadline)

		late := func(what string, r redisx.ReadyResult, err error, ready []string) {
			t.Helper()
			if err != nil || r.State != redisx.RoomLate || r.New || r.Started || r.Owner != owner ||
				!slices.Equal(r.Members, members) || !slices.Equal(r.Ready, ready) {
				t.Errorf("%s: got %+v, %v; want late, nothing marked, ready %v", what, r, err, ready)
			}
		}
		before := dump(t, c, mode)
		r, err := c.MarkReady(ctx, mode, "m1", "p1", 0)
		late("MarkReady after the deadline", r, err, nil)
		r, err = c.MarkReadyStart(ctx, mode, "m1", "p1", members, 0, finishedTTL, outcomeTTL)
		late("MarkReadyStart after the deadline", r, err, nil)
		r, err = c.MarkReady(ctx, mode, "m1", "p1", deadline+1)
		late("MarkReady arrived 1ms after the deadline", r, err, nil)
		r, err = c.MarkReady(ctx, mode, "m1", "p1", redisTime(t, c)+time.Hour.Milliseconds())
		late("MarkReady arrived in the future (taken as now)", r, err, nil)
		sameDump(t, before, dump(t, c, mode))

		// Arrived at the deadline exactly: in time.
		r, err = c.MarkReady(ctx, mode, "m1", "p2", deadline)
		if err != nil || r.State != redisx.RoomLoading || !r.New || !slices.Equal(r.Ready, []string{"p2"}) {
			t.Errorf("MarkReady arrived at the deadline: got %+v, %v; want marked", r, err)
		}
		r, err = c.MarkReady(ctx, mode, "m1", "p2", 0)
		if err != nil || r.State != redisx.RoomLoading || r.New {
			t.Errorf("repeated MarkReady after the deadline: got %+v, %v; want loading, not new (no late mark)", r, err)
		}
		r, err = c.MarkReadyStart(ctx, mode, "m1", "p3", members, deadline-100, finishedTTL, outcomeTTL)
		if err != nil || r.State != redisx.RoomLoading || !r.New || r.Started || !slices.Equal(r.Ready, []string{"p2", "p3"}) {
			t.Errorf("MarkReadyStart arrived before the deadline: got %+v, %v; want marked, not started (p1 never loaded)", r, err)
		}
		r, err = c.MarkReady(ctx, mode, "m1", "p1", 0)
		late("MarkReady after the others", r, err, []string{"p2", "p3"})

		got, err := c.Resolve(ctx, mode, "m1", members, cancel("loading_timeout", "", false))
		if want := (redisx.ResolveResult{Status: "ok", State: "cancelled", Requeued: []string{"p2", "p3"}, NoShows: []string{"p1"}}); err != nil || !sameResult(got, want) {
			t.Errorf("Resolve timeout: got %+v, %v; want %+v", got, err, want)
		}
		if r, _ := c.MarkReady(ctx, mode, "m1", "p1", deadline); r.State != redisx.RoomCancelled || r.New {
			t.Errorf("MarkReady in time but after the cancel: got %+v, want cancelled", r)
		}

		// A time of arrival in the future is taken as now: before the
		// deadline, the mark counts.
		formRoom(t, c, mode, "m2", "q1", "q2")
		if r, err := c.MarkReady(ctx, mode, "m2", "q1", redisTime(t, c)+time.Hour.Milliseconds()); err != nil || r.State != redisx.RoomLoading || !r.New {
			t.Errorf("MarkReady arrived in the future, before the deadline: got %+v, %v; want marked", r, err)
		}
	})
}

// A stalled node's in-time marks may complete a room after its deadline:
// the match starts.
func TestLateReadStartsMatch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		members := []string{"p1", "p2"}
		a := claimArgs
		a.LoadingTimeout = 100 * time.Millisecond
		_, cr := formRoomWith(t, c, mode, "m1", a, members...)
		waitRedisPast(t, c, cr.DeadlineMs)
		if r, err := c.MarkReadyStart(ctx, mode, "m1", "p1", members, cr.DeadlineMs-50, finishedTTL, outcomeTTL); err != nil || r.State != redisx.RoomLoading || !r.New {
			t.Fatalf("MarkReadyStart(p1) in time: got %+v, %v", r, err)
		}
		r, err := c.MarkReadyStart(ctx, mode, "m1", "p2", members, cr.DeadlineMs, finishedTTL, outcomeTTL)
		if err != nil || r.State != redisx.RoomStarted || !r.Started {
			t.Fatalf("MarkReadyStart(p2) in time: got %+v, %v; want started", r, err)
		}
		for _, p := range members {
			if out := readOutcomes(t, c, mode, p); len(out) != 1 || out[0].ID() != "s:m1" || out[0].DeadlineMs != cr.DeadlineMs {
				t.Errorf("outcomes of %s: got %+v, want s:m1 with deadline %d", p, out, cr.DeadlineMs)
			}
		}
	})
}

// A timeout asked before the deadline by Redis's clock (a node whose clock
// runs ahead) is not due: it says how long is left and changes nothing.
// Other cancels do not wait for the deadline.
func TestTimeoutNotDue(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		formRoom(t, c, mode, "m1", "p1", "p2")
		markReady(t, c, mode, "m1", "p1")
		deadline := roomDeadline(t, c, mode, "m1")
		for _, r := range []redisx.Resolution{cancel("loading_timeout", "", false), cancel("loading_timeout", "", true)} {
			snap := dump(t, c, mode)
			before := redisTime(t, c)
			got, err := c.Resolve(ctx, mode, "m1", []string{"p1", "p2"}, r)
			after := redisTime(t, c)
			lo, hi := time.Duration(deadline-after)*time.Millisecond, time.Duration(deadline-before)*time.Millisecond
			if err != nil || got.Status != redisx.ResolveNotDue || got.State != redisx.RoomLoading || got.Requeued != nil || got.NoShows != nil {
				t.Errorf("early timeout (requeue all %v): got %+v, %v; want not_due, loading", r.RequeueAll, got, err)
			}
			if got.Left < lo || got.Left > hi || got.Left <= 0 {
				t.Errorf("early timeout: left %v, want the time to the deadline, in [%v, %v]", got.Left, lo, hi)
			}
			sameDump(t, snap, dump(t, c, mode))
		}
		// The leaver's cancel is due at once.
		got, err := c.Resolve(ctx, mode, "m1", []string{"p1", "p2"}, cancel("player_left", "p2", false))
		if want := (redisx.ResolveResult{Status: "ok", State: "cancelled", Requeued: []string{"p1"}}); err != nil || !sameResult(got, want) {
			t.Errorf("player_left before the deadline: got %+v, %v; want %+v", got, err, want)
		}
	})
}

// A new ticket (queued_at_ms 0) is stamped with Redis's clock, in the
// reply, the stored JSON and the queue, and its wait starts at that very
// reading; a ticket put back after Redis lost it keeps its own time.
func TestEnqueueStampsQueueTime(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		tk := ticket(mode, "p1", 0)
		before := redisTime(t, c)
		r, err := c.Enqueue(ctx, tk)
		after := redisTime(t, c)
		if err != nil || r.Status != redisx.EnqueueCreated {
			t.Fatalf("Enqueue: got %+v, %v", r, err)
		}
		stamped := r.Ticket
		if !inWindow(stamped.QueuedAtMs, before, after) {
			t.Errorf("queued_at_ms %d: want Redis's clock at the enqueue, in [%d, %d]", stamped.QueuedAtMs, before, after)
		}
		want := tk
		want.QueuedAtMs = stamped.QueuedAtMs
		if !reflect.DeepEqual(stamped, want) {
			t.Errorf("Enqueue reply: got %+v, want %+v stamped", stamped, tk)
		}
		if js, _ := hget(t, c, k.Tickets(mode), tk.ID); js != ticketJSON(t, stamped) {
			t.Errorf("stored ticket: got %s, want %s", js, ticketJSON(t, stamped))
		}
		for _, key := range []string{k.Queue(mode), k.Waits(mode)} {
			if s, _ := zscore(t, c, key, tk.ID); int64(s) != stamped.QueuedAtMs {
				t.Errorf("ZSCORE %s: got %d, want the stamp %d", key, int64(s), stamped.QueuedAtMs)
			}
		}
		if got, _, _ := c.Ticket(ctx, mode, tk.ID); !reflect.DeepEqual(got, stamped) {
			t.Errorf("Ticket: got %+v, want %+v", got, stamped)
		}
		retry := ticket(mode, "p1", 0)
		retry.ID = "tk-p1-retry"
		if r, err := c.Enqueue(ctx, retry); err != nil || r.Status != redisx.EnqueueExisting || !reflect.DeepEqual(r.Ticket, stamped) {
			t.Errorf("retried Enqueue: got %+v, %v; want existing %+v", r, err, stamped)
		}
		l := lease(t, c, mode, time.Minute)
		if ch, err := c.TakeQueueChanges(ctx, mode, l, time.Minute); err != nil || len(ch.Added) != 1 || !reflect.DeepEqual(ch.Added[0], stamped) {
			t.Errorf("TakeQueueChanges: got %+v, %v; want the stamped ticket added", ch, err)
		}

		back := ticket(mode, "p2", t0)
		before = redisTime(t, c)
		r, err = c.Enqueue(ctx, back)
		after = redisTime(t, c)
		if err != nil || r.Status != redisx.EnqueueCreated || !reflect.DeepEqual(r.Ticket, back) {
			t.Fatalf("Enqueue of a ticket put back: got %+v, %v; want %+v as given", r, err, back)
		}
		if js, _ := hget(t, c, k.Tickets(mode), back.ID); js != ticketJSON(t, back) {
			t.Errorf("stored ticket put back: got %s, want %s", js, ticketJSON(t, back))
		}
		if s, _ := zscore(t, c, k.Queue(mode), back.ID); int64(s) != t0 {
			t.Errorf("ZSCORE q of the ticket put back: got %d, want its own %d", int64(s), t0)
		}
		if s, _ := zscore(t, c, k.Waits(mode), back.ID); !inWindow(int64(s), before, after) {
			t.Errorf("ZSCORE w of the ticket put back: got %d, want Redis's clock, in [%d, %d]", int64(s), before, after)
		}
	})
}
