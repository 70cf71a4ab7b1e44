package redisx_test

// The writers of outcomes: resolving a room and the mark that starts one
// record each member's outcome in the same step, and every writer keeps the
// list capped and expiring.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// Resolve records one outcome per member, in the same step as the end of
// the room, with everything a session needs to tell it: the started match's
// server, or the cancel's reason, no-shows, and every member's ticket and
// original queue time (a requeued member holds it again). Nobody else is
// told anything.
func TestResolveOutcomes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		teams2 := [][]string{{"p1"}, {"p2"}}
		teams4 := [][]string{{"p1", "p2"}, {"p3", "p4"}}
		for _, tc := range []struct {
			name    string
			players []string
			ready   []string
			r       redisx.Resolution
			// want builds each member's outcome from its ticket.
			want func(p string, tk redisx.Ticket) redisx.Outcome
		}{
			{"start", []string{"p1", "p2"}, []string{"p1", "p2"},
				func() redisx.Resolution {
					r := res(redisx.ResolveStart)
					r.Server = json.RawMessage(`{"addr":"10.0.0.1:7777","token":"a|b||c","note":"|@|"}`)
					return r
				}(),
				func(p string, tk redisx.Ticket) redisx.Outcome {
					return redisx.Outcome{Kind: redisx.OutcomeStarted, Ref: "m1", Teams: teams2, Ticket: tk.ID, QueuedAtMs: tk.QueuedAtMs,
						Server: json.RawMessage(`{"addr":"10.0.0.1:7777","token":"a|b||c","note":"|@|"}`)}
				}},
			{"start_without_server", []string{"p1", "p2"}, []string{"p1", "p2"}, res(redisx.ResolveStart),
				func(p string, tk redisx.Ticket) redisx.Outcome {
					return redisx.Outcome{Kind: redisx.OutcomeStarted, Ref: "m1", Teams: teams2, Ticket: tk.ID, QueuedAtMs: tk.QueuedAtMs,
						Server: json.RawMessage("null")}
				}},
			{"cancel_loading_timeout", []string{"p1", "p2", "p3", "p4"}, []string{"p1", "p3"}, cancel("loading_timeout", "", false),
				func(p string, tk redisx.Ticket) redisx.Outcome {
					o := redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m1", Reason: "loading_timeout", NoShows: []string{"p2", "p4"},
						Teams: teams4, Server: json.RawMessage("null"), Ticket: tk.ID, QueuedAtMs: tk.QueuedAtMs}
					o.Requeued = p == "p1" || p == "p3"
					return o
				}},
			{"cancel_player_left", []string{"p1", "p2", "p3", "p4"}, []string{"p1", "p2"}, cancel("player_left", "p2", false),
				func(p string, tk redisx.Ticket) redisx.Outcome {
					// Everyone but the leaver goes back, loaded or not; the
					// leaver is no no-show.
					o := redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m1", Reason: "player_left", Teams: teams4, Server: json.RawMessage("null"),
						Ticket: tk.ID, QueuedAtMs: tk.QueuedAtMs}
					o.Requeued = p != "p2"
					return o
				}},
			{"cancel_requeue_all", []string{"p1", "p2", "p3", "p4"}, nil, cancel("allocation_failed", "", true),
				func(p string, tk redisx.Ticket) redisx.Outcome {
					return redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m1", Reason: "allocation_failed", Requeued: true,
						Ticket: tk.ID, QueuedAtMs: tk.QueuedAtMs, Teams: teams4, Server: json.RawMessage("null")}
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx, mode := t.Context(), tc.name
				tks := formRoom(t, c, mode, "m1", tc.players...)
				enqueue(t, c, ticket(mode, "p9", t0+5)) // a bystander
				if len(tc.ready) > 0 {
					markReady(t, c, mode, "m1", tc.ready...)
				}
				if tc.r.Reason == "loading_timeout" {
					expireDeadline(t, c, mode, "m1")
				}
				deadline := roomDeadline(t, c, mode, "m1")
				for _, p := range tc.players {
					if exists(t, c, c.Keys.Outcomes(mode, p)) {
						t.Fatalf("outcomes of %s before the resolve", p)
					}
				}
				got, err := c.Resolve(ctx, mode, "m1", tc.players, tc.r)
				if err != nil || got.Status != redisx.ResolveOK {
					t.Fatalf("Resolve: got %+v, %v; want ok", got, err)
				}
				for _, p := range tc.players {
					out := readOutcomes(t, c, mode, p)
					if len(out) != 1 {
						t.Errorf("outcomes of %s: got %d records, want exactly 1", p, len(out))
						continue
					}
					want := tc.want(p, tks[p])
					want.Mode, want.DeadlineMs = mode, deadline
					sameOutcome(t, "outcome of "+p, out[0], want)
					assertOutcomeTTL(t, c, mode, p, 0)
				}
				if exists(t, c, c.Keys.Outcomes(mode, "p9")) {
					t.Errorf("the bystander was given an outcome")
				}
				// A later resolve of the resolved room records nothing more.
				before := dump(t, c, mode)
				if got, _ := c.Resolve(ctx, mode, "m1", tc.players, cancel("loading_timeout", "", true)); got.Status != redisx.ResolveAlready {
					t.Errorf("second Resolve: got %+v, want already", got)
				}
				sameDump(t, before, dump(t, c, mode))
			})
		}

		// Marking a room allocating, or a start refused while a member
		// loads, tells nobody anything.
		t.Run("no_outcome_until_the_end", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "allocating"
			formRoom(t, c, mode, "m1", "p1", "p2")
			markReady(t, c, mode, "m1", "p1")
			if got, _ := c.Resolve(ctx, mode, "m1", []string{"p1", "p2"}, res(redisx.ResolveStart)); got.Status != redisx.ResolveNotReady {
				t.Fatalf("Resolve start with p2 loading: got %+v, want not_ready", got)
			}
			markReady(t, c, mode, "m1", "p2")
			if got, _ := c.Resolve(ctx, mode, "m1", []string{"p1", "p2"}, res(redisx.ResolveAllocating)); got.Status != redisx.ResolveOK {
				t.Fatalf("Resolve allocating: got %+v", got)
			}
			for _, p := range []string{"p1", "p2"} {
				if exists(t, c, c.Keys.Outcomes(mode, p)) {
					t.Errorf("outcomes of %s: %v, want none while the room is open", p, outcomeIDs(t, c, mode, p))
				}
			}
		})

		// A members list that misses a member is refused before anything
		// is written: that member would never be told.
		t.Run("member_missing", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "missing"
			formRoom(t, c, mode, "m1", "p1", "p2", "p3")
			markReady(t, c, mode, "m1", "p1", "p2", "p3")
			for _, r := range []redisx.Resolution{res(redisx.ResolveStart), cancel("loading_timeout", "", false), cancel("player_left", "p3", false)} {
				before := dump(t, c, mode)
				if got, err := c.Resolve(ctx, mode, "m1", []string{"p1", "p3"}, r); err == nil {
					t.Errorf("Resolve %s %s without p2's outcome key: got %+v, want an error", r.Outcome, r.Reason, got)
				}
				sameDump(t, before, dump(t, c, mode))
			}
		})
	})
}

// The mark that starts a match (MarkReadyStart) records each member's
// started outcome, server null, and only that mark.
func TestMarkReadyStartOutcomes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		members := []string{"p1", "p2", "p3"}
		tks := formRoom(t, c, mode, "m1", members...)
		for _, p := range []string{"p1", "p2"} {
			if r, err := c.MarkReadyStart(ctx, mode, "m1", p, members, 0, finishedTTL, outcomeTTL); err != nil || r.Started {
				t.Fatalf("MarkReadyStart(%s): got %+v, %v; want marked, not started", p, r, err)
			}
		}
		for _, p := range members {
			if exists(t, c, c.Keys.Outcomes(mode, p)) {
				t.Fatalf("outcomes of %s before the start", p)
			}
		}
		deadline := roomDeadline(t, c, mode, "m1")
		if r, err := c.MarkReadyStart(ctx, mode, "m1", "p3", members, 0, finishedTTL, outcomeTTL); err != nil || !r.Started {
			t.Fatalf("MarkReadyStart(p3): got %+v, %v; want started", r, err)
		}
		for _, p := range members {
			out := readOutcomes(t, c, mode, p)
			if len(out) != 1 {
				t.Errorf("outcomes of %s: got %d records, want exactly 1", p, len(out))
				continue
			}
			sameOutcome(t, "outcome of "+p, out[0], redisx.Outcome{Kind: redisx.OutcomeStarted, Ref: "m1", Mode: mode,
				DeadlineMs: deadline, Teams: [][]string{{"p1", "p2"}, {"p3"}}, Server: json.RawMessage("null"),
				Ticket: tks[p].ID, QueuedAtMs: tks[p].QueuedAtMs})
			assertOutcomeTTL(t, c, mode, p, 0)
		}
		// Repeated marks of the started room record nothing more.
		before := dump(t, c, mode)
		if r, _ := c.MarkReadyStart(ctx, mode, "m1", "p3", members, 0, finishedTTL, outcomeTTL); r.Started || r.State != redisx.RoomStarted {
			t.Errorf("repeated MarkReadyStart: got %+v, want state started, not started by this call", r)
		}
		sameDump(t, before, dump(t, c, mode))
	})
}

// The mark that would start the match with a members list that misses a
// member must fail without writing: else the mark is kept while the start is
// refused, and since a repeated mark is no longer new, no later mark starts
// the match; the room loads until its deadline and is cancelled although
// every member loaded.
func TestMarkReadyStartMemberMissing(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		members := []string{"p1", "p2", "p3"}
		formRoom(t, c, mode, "m1", members...)
		markReady(t, c, mode, "m1", "p1", "p2")
		before := dump(t, c, mode)
		if r, err := c.MarkReadyStart(ctx, mode, "m1", "p3", []string{"p1", "p3"}, 0, finishedTTL, outcomeTTL); err == nil {
			t.Errorf("MarkReadyStart without p2's outcome key: got %+v, want an error", r)
		}
		sameDump(t, before, dump(t, c, mode))
		// With the full list, p3's mark starts the match.
		if r, err := c.MarkReadyStart(ctx, mode, "m1", "p3", members, 0, finishedTTL, outcomeTTL); err != nil || !r.Started {
			t.Errorf("MarkReadyStart(p3) with every member: got %+v, %v; want started", r, err)
		}
	})
}

// prefill pushes n old records to a player's list, with a short TTL, so a
// test sees both the cap and the writer's renewal of the TTL.
func prefill(tb testing.TB, c *redisx.Client, mode, player string, n int, ttl time.Duration) {
	tb.Helper()
	for i := range n {
		o := redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: fmt.Sprintf("old%d", i), Mode: mode, Reason: "cancelled"}
		if err := c.PushOutcomes(context.Background(), mode, map[string]redisx.Outcome{player: o}, ttl); err != nil {
			tb.Fatal(err)
		}
	}
}

// Every writer keeps a list to its last 8 records, dropping the oldest, and
// gives it the outcome TTL.
func TestOutcomeListCapAndTTL(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		const short = 10 * time.Second
		old := func(from int) []string {
			var ids []string
			for i := from; i < 8; i++ {
				ids = append(ids, fmt.Sprintf("d:old%d", i))
			}
			return ids
		}
		for _, tc := range []struct {
			name string
			// write records the newest outcome of p1 and returns its id.
			write func(t *testing.T, mode string) string
		}{
			{"remove_ticket", func(t *testing.T, mode string) string {
				tk := enqueue(t, c, ticket(mode, "p1", t0))
				// The enqueue handed the old records over; write them again.
				prefill(t, c, mode, "p1", 8, short)
				r, err := c.RemoveTicket(t.Context(), mode, "p1", tk.ID, "timeout", outcomeTTL)
				if err != nil || !r.Removed {
					t.Fatalf("RemoveTicket: %+v, %v", r, err)
				}
				if len(r.Outcomes) != 8 || r.Outcomes[7].ID() != "d:"+tk.ID {
					t.Errorf("RemoveTicket reply: got %d outcomes, want the 8 kept, its own last", len(r.Outcomes))
				}
				return "d:" + tk.ID
			}},
			{"resolve_start", func(t *testing.T, mode string) string {
				formRoom(t, c, mode, "m1", "p1", "p2")
				markReady(t, c, mode, "m1", "p1", "p2")
				prefill(t, c, mode, "p1", 8, short)
				if r, err := c.Resolve(t.Context(), mode, "m1", []string{"p1", "p2"}, res(redisx.ResolveStart)); err != nil || r.Status != redisx.ResolveOK {
					t.Fatalf("Resolve: %+v, %v", r, err)
				}
				return "s:m1"
			}},
			{"resolve_cancel", func(t *testing.T, mode string) string {
				formRoom(t, c, mode, "m1", "p1", "p2")
				prefill(t, c, mode, "p1", 8, short)
				expireDeadline(t, c, mode, "m1")
				if r, err := c.Resolve(t.Context(), mode, "m1", []string{"p1", "p2"}, cancel("loading_timeout", "", false)); err != nil || r.Status != redisx.ResolveOK {
					t.Fatalf("Resolve: %+v, %v", r, err)
				}
				return "c:m1"
			}},
			{"mark_ready_start", func(t *testing.T, mode string) string {
				formRoom(t, c, mode, "m1", "p1", "p2")
				markReady(t, c, mode, "m1", "p2")
				prefill(t, c, mode, "p1", 8, short)
				if r, err := c.MarkReadyStart(t.Context(), mode, "m1", "p1", []string{"p1", "p2"}, 0, finishedTTL, outcomeTTL); err != nil || !r.Started {
					t.Fatalf("MarkReadyStart: %+v, %v", r, err)
				}
				return "s:m1"
			}},
			{"push", func(t *testing.T, mode string) string {
				prefill(t, c, mode, "p1", 8, short)
				if err := c.PushOutcomes(t.Context(), mode, map[string]redisx.Outcome{"p1": {Kind: redisx.OutcomeCancelled, Ref: "lost", Mode: mode, Reason: "room_lost"}}, outcomeTTL); err != nil {
					t.Fatal(err)
				}
				return "c:lost"
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				mode := tc.name
				id := tc.write(t, mode)
				if got, want := outcomeIDs(t, c, mode, "p1"), append(old(1), id); !slices.Equal(got, want) {
					t.Errorf("outcomes: got %v, want %v", got, want)
				}
				assertOutcomeTTL(t, c, mode, "p1", short)
			})
		}
	})
}
