package redisx_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

func TestEnqueue(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		tk := ticket(mode, "p1", t0+5)

		before := redisTime(t, c)
		r, err := c.Enqueue(ctx, tk)
		after := redisTime(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != redisx.EnqueueCreated || !reflect.DeepEqual(r.Ticket, tk) || r.Match != "" || r.Outcomes != nil {
			t.Fatalf("Enqueue: got %+v, want created %+v, no match, no outcomes", r, tk)
		}

		// The four keys, as the script header documents them: the queue
		// time given is kept (a ticket put back keeps its place), the wait
		// starts at Redis's clock.
		if s, ok := zscore(t, c, k.Queue(mode), tk.ID); !ok || int64(s) != tk.QueuedAtMs {
			t.Errorf("ZSCORE q %s: got %v (present %v), want %d", tk.ID, int64(s), ok, tk.QueuedAtMs)
		}
		if js, _ := hget(t, c, k.Tickets(mode), tk.ID); js != ticketJSON(t, tk) {
			t.Errorf("HGET t %s: got %s, want %s", tk.ID, js, ticketJSON(t, tk))
		}
		if e, _ := hget(t, c, k.Players(mode), "p1"); e != "q:"+tk.ID {
			t.Errorf("HGET pl p1: got %q, want %q", e, "q:"+tk.ID)
		}
		w1, ok := zscore(t, c, k.Waits(mode), tk.ID)
		if !ok || !inWindow(int64(w1), before, after) {
			t.Errorf("ZSCORE w %s: got %v (present %v), want Redis's clock at the enqueue, in [%d, %d]", tk.ID, int64(w1), ok, before, after)
		}

		// A retry, with another id and time, finds the original ticket.
		retry := tk
		retry.ID, retry.QueuedAtMs = "tk-p1-retry", t0+500
		snap := dump(t, c, mode)
		r, err = c.Enqueue(ctx, retry)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != redisx.EnqueueExisting || !reflect.DeepEqual(r.Ticket, tk) || r.Match != "" {
			t.Fatalf("repeat Enqueue: got %+v, want existing %+v", r, tk)
		}
		sameDump(t, snap, dump(t, c, mode))

		// p2 queued earlier in priority but began this wait later; p3 is
		// in another mode and must not show up here.
		tk2 := ticket(mode, "p2", t0+3)
		if r, err := c.Enqueue(ctx, tk2); err != nil || r.Status != redisx.EnqueueCreated {
			t.Fatalf("Enqueue(p2): got %d, %v", r.Status, err)
		}
		if w2, _ := zscore(t, c, k.Waits(mode), tk2.ID); w2 < w1 {
			t.Errorf("ZSCORE w: p2's wait began at %d, before p1's %d, want after", int64(w2), int64(w1))
		}
		if s, _ := zscore(t, c, k.Queue(mode), tk2.ID); int64(s) != tk2.QueuedAtMs {
			t.Errorf("ZSCORE q %s: got %d, want its own queue time %d", tk2.ID, int64(s), tk2.QueuedAtMs)
		}
		if _, err := c.Enqueue(ctx, ticket("other", "p3", t0)); err != nil {
			t.Fatal(err)
		}

		if n, err := c.QueueLen(ctx, mode); err != nil || n != 2 {
			t.Errorf("QueueLen(%s): got %d, %v; want 2", mode, n, err)
		}
		if n, _ := c.QueueLen(ctx, "empty"); n != 0 {
			t.Errorf("QueueLen(empty): got %d, want 0", n)
		}
		pool, err := c.Pool(ctx, mode)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(pool, func(a, b redisx.Ticket) int { return strings.Compare(a.ID, b.ID) })
		if want := []redisx.Ticket{tk, tk2}; !reflect.DeepEqual(pool, want) {
			t.Errorf("Pool: got %+v, want %+v", pool, want)
		}
		if pool, _ := c.Pool(ctx, "empty"); len(pool) != 0 {
			t.Errorf("Pool(empty): got %d tickets, want 0", len(pool))
		}
		if got, ok, err := c.Ticket(ctx, mode, tk.ID); err != nil || !ok || !reflect.DeepEqual(got, tk) {
			t.Errorf("Ticket(%s): got %+v, %v, %v; want %+v", tk.ID, got, ok, err, tk)
		}
		if _, ok, _ := c.Ticket(ctx, mode, "nope"); ok {
			t.Errorf("Ticket(nope): got ok, want not found")
		}
		if e, _ := c.PlayerEntry(ctx, mode, "p1"); e != entry(redisx.EntryQueued, tk.ID) {
			t.Errorf("PlayerEntry(p1): got %+v, want q:%s", e, tk.ID)
		}
		if e, _ := c.PlayerEntry(ctx, mode, "nobody"); e != (redisx.Entry{}) {
			t.Errorf("PlayerEntry(nobody): got %+v, want zero", e)
		}

	})
}

// A players entry that points at a ticket whose record is gone (a foreign
// delete, a half-restored Redis) must not wedge the player: enqueue creates a
// fresh ticket.
func TestEnqueueOverStaleEntry(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		if err := c.R.Do(ctx, c.R.B().Hset().Key(c.Keys.Players(mode)).FieldValue().FieldValue("p1", "q:ghost").Build()).Error(); err != nil {
			t.Fatal(err)
		}
		tk := ticket(mode, "p1", t0)
		r, err := c.Enqueue(ctx, tk)
		if err != nil || r.Status != redisx.EnqueueCreated || !reflect.DeepEqual(r.Ticket, tk) {
			t.Fatalf("Enqueue over a stale entry: got (%+v, %v), want (created, %+v)", r, err, tk)
		}
		if e, _ := c.PlayerEntry(ctx, mode, "p1"); e != entry(redisx.EntryQueued, tk.ID) {
			t.Errorf("PlayerEntry: got %+v, want q:%s", e, tk.ID)
		}
	})
}

func TestRemoveTicket(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		for _, tc := range []struct {
			name      string
			enqueue   bool
			ticketID  func(tk redisx.Ticket) string
			reason    string
			wantOK    bool
			wantEntry func(tk redisx.Ticket) redisx.Entry
		}{
			{"by_player", true, func(redisx.Ticket) string { return "" }, "cancelled", true, nil},
			{"by_ticket_id", true, func(tk redisx.Ticket) string { return tk.ID }, "timeout", true, nil},
			{"no_reason", true, func(tk redisx.Ticket) string { return tk.ID }, "", true, nil},
			{"wrong_ticket_id", true, func(redisx.Ticket) string { return "tk-stale" }, "cancelled", false,
				func(tk redisx.Ticket) redisx.Entry { return entry(redisx.EntryQueued, tk.ID) }},
			{"no_ticket", false, func(redisx.Ticket) string { return "" }, "cancelled", false,
				func(redisx.Ticket) redisx.Entry { return redisx.Entry{} }},
			{"no_ticket_named_id", false, func(tk redisx.Ticket) string { return tk.ID }, "cancelled", false,
				func(redisx.Ticket) redisx.Entry { return redisx.Entry{} }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx, mode, k := t.Context(), tc.name, c.Keys
				tk := ticket(mode, "p1", t0)
				if tc.enqueue {
					enqueue(t, c, tk)
				}
				// A bystander whose ticket must survive every case.
				other := enqueue(t, c, ticket(mode, "p2", t0+1))
				before := dump(t, c, mode)

				r, err := c.RemoveTicket(ctx, mode, "p1", tc.ticketID(tk), tc.reason, outcomeTTL)
				if err != nil {
					t.Fatal(err)
				}
				if !tc.wantOK {
					if r.Removed || r.Ticket != "" || r.Entry != tc.wantEntry(tk) || r.Outcomes != nil {
						t.Fatalf("RemoveTicket: got %+v, want not removed, entry %+v", r, tc.wantEntry(tk))
					}
					sameDump(t, before, dump(t, c, mode))
					return
				}
				if !r.Removed || r.Ticket != tk.ID || r.Entry != (redisx.Entry{}) {
					t.Fatalf("RemoveTicket: got %+v, want removed %s", r, tk.ID)
				}
				// A reason is recorded as the player's outcome in the same
				// step (the reply carries it); none without one.
				if tc.reason == "" {
					if r.Outcomes != nil || exists(t, c, k.Outcomes(mode, "p1")) {
						t.Errorf("removal without a reason: got outcomes %+v (list exists %v), want none", r.Outcomes, exists(t, c, k.Outcomes(mode, "p1")))
					}
				} else {
					want := redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: tk.ID, Mode: mode, Reason: tc.reason, Ticket: tk.ID, QueuedAtMs: tk.QueuedAtMs, Teams: [][]string{}, Server: []byte("null")}
					stored := readOutcomes(t, c, mode, "p1")
					if len(r.Outcomes) != 1 || len(stored) != 1 {
						t.Fatalf("outcomes: got reply %+v, stored %+v; want one each", r.Outcomes, stored)
					}
					sameOutcome(t, "reply", r.Outcomes[0], want)
					sameOutcome(t, "stored", stored[0], want)
					if stored[0].AtMs != r.Outcomes[0].AtMs {
						t.Errorf("stored outcome at %d, reply at %d: want the same record", stored[0].AtMs, r.Outcomes[0].AtMs)
					}
				}
				if _, in := zscore(t, c, k.Queue(mode), tk.ID); in {
					t.Errorf("ticket still in q")
				}
				if _, in := hget(t, c, k.Tickets(mode), tk.ID); in {
					t.Errorf("ticket still in t")
				}
				if _, in := hget(t, c, k.Players(mode), "p1"); in {
					t.Errorf("player still in pl")
				}
				if _, in := zscore(t, c, k.Waits(mode), tk.ID); in {
					t.Errorf("ticket still in w")
				}
				if got, _, _ := c.Ticket(ctx, mode, other.ID); !reflect.DeepEqual(got, other) {
					t.Errorf("bystander ticket: got %+v, want %+v", got, other)
				}
				if exists(t, c, k.Outcomes(mode, "p2")) {
					t.Errorf("the bystander got an outcome")
				}
				// Removing the last ticket leaves no queue key behind.
				if r, _ := c.RemoveTicket(ctx, mode, "p2", other.ID, "", outcomeTTL); !r.Removed {
					t.Fatalf("RemoveTicket(p2): got %+v, want removed", r)
				}
				for _, key := range []string{k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode)} {
					if exists(t, c, key) {
						t.Errorf("key %s exists after the last ticket left", key)
					}
				}
			})
		}
	})
}

// A player in a loading room holds no ticket: remove reports the room, and
// enqueue refuses with the match id, both without writing anything.
func TestTicketWhileInRoom(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		formRoom(t, c, mode, "m1", "p1", "p2")
		before := dump(t, c, mode)

		for _, id := range []string{"", "tk-p1"} {
			r, err := c.RemoveTicket(ctx, mode, "p1", id, "cancelled", outcomeTTL)
			if err != nil || r.Removed || r.Entry != entry(redisx.EntryInRoom, "m1") || r.Outcomes != nil {
				t.Errorf("RemoveTicket(%q) in a room: got %+v, %v; want not removed, m:m1", id, r, err)
			}
		}
		r, err := c.Enqueue(ctx, ticket(mode, "p1", t0+99))
		if err != nil || r.Status != redisx.EnqueueInRoom || r.Match != "m1" || !reflect.DeepEqual(r.Ticket, redisx.Ticket{}) || r.Outcomes != nil {
			t.Errorf("Enqueue in a room: got %+v, %v; want in room m1, no ticket", r, err)
		}
		if e, _ := c.PlayerEntry(ctx, mode, "p1"); e != entry(redisx.EntryInRoom, "m1") {
			t.Errorf("PlayerEntry: got %+v, want m:m1", e)
		}
		sameDump(t, before, dump(t, c, mode))
	})
}

// The ticket JSON round-trips through the store without loss.
func TestTicketJSON(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		tk := redisx.Ticket{ID: "tk-ü,\"x\"", Player: "späler", Mode: "duel", Rating: -0.125, QueuedAtMs: 1<<53 - 1}
		got := enqueue(t, c, tk)
		if !reflect.DeepEqual(got, tk) {
			t.Errorf("Enqueue reply: got %+v, want %+v", got, tk)
		}
		js, _ := hget(t, c, c.Keys.Tickets("duel"), tk.ID)
		var stored redisx.Ticket
		if err := json.Unmarshal([]byte(js), &stored); err != nil || !reflect.DeepEqual(stored, tk) {
			t.Errorf("stored ticket: got %+v (%v), want %+v", stored, err, tk)
		}
	})
}

// The matching leader keeps its copy of the pool from the change lists:
// each addition and removal is handed out exactly once, with the queue size
// at that instant.
func TestTakeQueueChanges(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		tks := enqueueAll(t, c, mode, "p1", "p2", "p3")
		if r, err := c.RemoveTicket(ctx, mode, "p2", "", "cancelled", outcomeTTL); err != nil || !r.Removed {
			t.Fatalf("RemoveTicket(p2): %+v %v", r, err)
		}
		l := lease(t, c, mode, time.Minute)
		ch, err := c.TakeQueueChanges(ctx, mode, l, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var added []string
		for _, tk := range ch.Added {
			added = append(added, tk.Player)
		}
		if ch.Queued != 2 || !slices.Equal(added, []string{"p1", "p3"}) || !slices.Equal(ch.Removed, []string{tks["p2"].ID}) || len(ch.Expired) != 0 {
			t.Fatalf("got queued %d, added %v, removed %v, expired %v; want 2, [p1 p3] (p2 left already), [%s], none", ch.Queued, added, ch.Removed, ch.Expired, tks["p2"].ID)
		}
		again, err := c.TakeQueueChanges(ctx, mode, l, time.Minute)
		if err != nil || len(again.Added) != 0 || len(again.Removed) != 0 || again.Queued != 2 {
			t.Fatalf("second take: got %+v, %v; want nothing new and queued 2", again, err)
		}
	})
}

// Reads issued together each get their own replies, and a script among
// them still runs after Redis lost its script cache (NOSCRIPT falls back to
// EVAL), as after a restart. The reads are the matching leader's: the
// queue's changes and the ban index.
func TestDoTogether(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		enqueueAll(t, c, mode, "p1")
		s := redisx.NewSanctions(c, ladderPolicy(time.Hour, time.Hour), nil)
		if ban, err := s.Record(ctx, "banned", "", "dodge"); err != nil || ban != time.Hour {
			t.Fatalf("Record: got %v, %v; want a 1h ban", ban, err)
		}
		l := lease(t, c, mode, time.Minute)
		var (
			ch   redisx.QueueChanges
			bans []string
		)
		if err := c.DoTogether(ctx, c.QueueChangesRead(mode, l, time.Minute, &ch), nil, s.BanIndexRead(&bans)); err != nil {
			t.Fatal(err)
		}
		if ch.Queued != 1 || len(ch.Added) != 1 || ch.Added[0].Player != "p1" || !slices.Equal(bans, []string{"p:banned"}) {
			t.Fatalf("got changes %+v, bans %v; want p1 added, queued 1, and p:banned", ch, bans)
		}
		if err := c.R.Do(ctx, c.R.B().ScriptFlush().Build()).Error(); err != nil {
			t.Fatal(err)
		}
		enqueueAll(t, c, mode, "p2")
		ch, bans = redisx.QueueChanges{}, nil
		if err := c.DoTogether(ctx, c.QueueChangesRead(mode, l, time.Minute, &ch), s.BanIndexRead(&bans)); err != nil {
			t.Fatalf("after SCRIPT FLUSH: %v", err)
		}
		if ch.Queued != 2 || len(ch.Added) != 1 || ch.Added[0].Player != "p2" || !slices.Equal(bans, []string{"p:banned"}) {
			t.Fatalf("after SCRIPT FLUSH: got changes %+v, bans %v; want p2 added, queued 2, p:banned", ch, bans)
		}
		if err := c.DoTogether(ctx); err != nil {
			t.Fatalf("no reads: %v", err)
		}
	})
}
