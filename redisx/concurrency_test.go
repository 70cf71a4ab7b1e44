package redisx_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// race runs fn(i) for i in [0, n) at once and waits for all.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// Many nodes taking one mode's lease at once: exactly one wins.
func TestLockContention(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		const n = 16
		fences := make([]int64, n)
		errs := make([]error, n)
		race(n, func(i int) {
			fences[i], errs[i] = c.AcquireLock(t.Context(), "duel", fmt.Sprint("tok-", i), time.Minute)
		})
		winners := 0
		for i, f := range fences {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if f > 0 {
				winners++
				if f != 1 {
					t.Errorf("winner's fence: got %d, want 1", f)
				}
			}
		}
		if winners != 1 {
			t.Errorf("holders after %d concurrent acquisitions: got %d, want 1", n, winners)
		}
	})
}

// A player enqueueing from several nodes at once ends up with one ticket.
func TestEnqueueConcurrent(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		const n = 16
		type result struct {
			st  redisx.EnqueueStatus
			tk  redisx.Ticket
			err error
		}
		res := make([]result, n)
		race(n, func(i int) {
			tk := ticket("duel", "p1", t0+int64(i))
			tk.ID = fmt.Sprint("tk-", i)
			r, err := c.Enqueue(t.Context(), tk)
			res[i].st, res[i].tk, res[i].err = r.Status, r.Ticket, err
		})
		created, id := 0, ""
		for _, r := range res {
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.st == redisx.EnqueueCreated {
				created++
				id = r.tk.ID
			}
		}
		if created != 1 {
			t.Fatalf("created: got %d, want 1", created)
		}
		for i, r := range res {
			if r.tk.ID != id {
				t.Errorf("caller %d: got ticket %s, want the one ticket %s", i, r.tk.ID, id)
			}
		}
		if n, _ := c.QueueLen(t.Context(), "duel"); n != 1 {
			t.Errorf("QueueLen: got %d, want 1", n)
		}
	})
}

// The owner and an adopter resolving one room at once, with different
// outcomes: exactly one call resolves it, the rest see its outcome.
func TestResolveExactlyOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		mode := "duel"
		formRoom(t, c, mode, "m1", "p1", "p2")
		markReady(t, c, mode, "m1", "p1", "p2")
		expireDeadline(t, c, mode, "m1") // the timeout is due
		const n = 16
		members := roomMembers(t, c, mode, "m1")
		out := make([]redisx.ResolveResult, n)
		errs := make([]error, n)
		race(n, func(i int) {
			r := res("start")
			if i%2 == 1 {
				r = cancel("loading_timeout", "", false)
			}
			out[i], errs[i] = c.Resolve(t.Context(), mode, "m1", members, r)
		})
		oks, final := 0, redisx.RoomState("")
		for i, r := range out {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if r.Status == "ok" {
				oks++
				final = r.State
			}
		}
		if oks != 1 {
			t.Fatalf("resolves that got ok: got %d, want 1", oks)
		}
		for i, r := range out {
			if r.Status != "ok" && (r.Status != "already" || r.State != final) {
				t.Errorf("caller %d: got %+v, want already/%s", i, r, final)
			}
		}
		if final == "cancelled" {
			if n, _ := c.QueueLen(t.Context(), mode); n != 2 {
				t.Errorf("QueueLen after a cancel with both ready: got %d, want 2", n)
			}
		}
	})
}
