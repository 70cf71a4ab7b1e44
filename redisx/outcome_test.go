package redisx_test

// Outcomes: every script that changes a player's place records what the
// player must be told, in the same step, in a list of the mode's slot that
// the player's session acknowledges once told.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// A record parses back field by field; server, last, may hold '|'; anything
// else malformed is ErrBadReply.
func TestParseOutcome(t *testing.T) {
	t.Parallel()
	rec := `c:m-1|1700000000999|duel|loading_timeout|1|p2,p4|tk-p1|1700000000123|1700000030123|[["p1","p2"],["p3","p4"]]|{"addr":"a|b","x":"|@|"}`
	got, err := redisx.ParseOutcome(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m-1", AtMs: 1700000000999, Mode: "duel", Reason: "loading_timeout",
		Requeued: true, NoShows: []string{"p2", "p4"}, Ticket: "tk-p1", QueuedAtMs: 1700000000123, DeadlineMs: 1700000030123,
		Teams: [][]string{{"p1", "p2"}, {"p3", "p4"}}, Server: json.RawMessage(`{"addr":"a|b","x":"|@|"}`)}
	if got.AtMs != want.AtMs || showOutcome(got) != showOutcome(want) {
		t.Errorf("ParseOutcome: got %s at %d, want %s at %d", showOutcome(got), got.AtMs, showOutcome(want), want.AtMs)
	}
	if got.ID() != "c:m-1" {
		t.Errorf("ID: got %q, want c:m-1", got.ID())
	}
	// Redis may print an integer score in exponent form.
	if o, err := redisx.ParseOutcome(`d:tk|5|duel|timeout|0||tk|1.700000000123e+12|0|[]|null`); err != nil || o.QueuedAtMs != 1700000000123 {
		t.Errorf("exponent queued_at: got %d, %v; want 1700000000123", o.QueuedAtMs, err)
	}
	for _, bad := range []string{
		"",
		"s:m1",
		`s:m1|5|duel||0|||0|0|[]`,              // 10 fields
		`x:m1|5|duel||0|||0|0|[]|null`,         // unknown kind
		`s:|5|duel||0|||0|0|[]|null`,           // no ref
		`sm1|5|duel||0|||0|0|[]|null`,          // no ':'
		`s:m1|@|duel||0|||0|0|[]|null`,         // time never filled in
		`s:m1|5|duel||0|||x|0|[]|null`,         // queued_at
		`s:m1|5|duel||0|||0|soon|[]|null`,      // deadline
		`s:m1|5|duel||0|||0|0|[["p1"|null`,     // teams
		`s:m1|5|duel||0|||0|0|{"a":1}|null`,    // teams not a list of lists
		`d:tk|5.5|duel|timeout|0||tk|0|0|[]|x`, // time not an integer
	} {
		if o, err := redisx.ParseOutcome(bad); !errors.Is(err, redisx.ErrBadReply) {
			t.Errorf("ParseOutcome(%q): got %s, %v; want ErrBadReply", bad, showOutcome(o), err)
		}
	}
}

// Resolve records one outcome per member, in the same step as the end of
// the room, with everything a session needs to tell it: the started match's
// server, or the cancel's reason, no-shows, and for a requeued member its
// ticket and original queue time. Nobody else is told anything.
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
				func(p string, _ redisx.Ticket) redisx.Outcome {
					return redisx.Outcome{Kind: redisx.OutcomeStarted, Ref: "m1", Teams: teams2,
						Server: json.RawMessage(`{"addr":"10.0.0.1:7777","token":"a|b||c","note":"|@|"}`)}
				}},
			{"start_without_server", []string{"p1", "p2"}, []string{"p1", "p2"}, res(redisx.ResolveStart),
				func(p string, _ redisx.Ticket) redisx.Outcome {
					return redisx.Outcome{Kind: redisx.OutcomeStarted, Ref: "m1", Teams: teams2, Server: json.RawMessage("null")}
				}},
			{"cancel_loading_timeout", []string{"p1", "p2", "p3", "p4"}, []string{"p1", "p3"}, cancel("loading_timeout", "", false),
				func(p string, tk redisx.Ticket) redisx.Outcome {
					o := redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m1", Reason: "loading_timeout", NoShows: []string{"p2", "p4"},
						Teams: teams4, Server: json.RawMessage("null")}
					if p == "p1" || p == "p3" {
						o.Requeued, o.Ticket, o.QueuedAtMs = true, tk.ID, tk.QueuedAtMs
					}
					return o
				}},
			{"cancel_player_left", []string{"p1", "p2", "p3", "p4"}, []string{"p1", "p2"}, cancel("player_left", "p2", false),
				func(p string, tk redisx.Ticket) redisx.Outcome {
					// Everyone but the leaver goes back, loaded or not; the
					// leaver is no no-show.
					o := redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m1", Reason: "player_left", Teams: teams4, Server: json.RawMessage("null")}
					if p != "p2" {
						o.Requeued, o.Ticket, o.QueuedAtMs = true, tk.ID, tk.QueuedAtMs
					}
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
		formRoom(t, c, mode, "m1", members...)
		for _, p := range []string{"p1", "p2"} {
			if r, err := c.MarkReadyStart(ctx, mode, "m1", p, members, t0, finishedTTL, outcomeTTL); err != nil || r.Started {
				t.Fatalf("MarkReadyStart(%s): got %+v, %v; want marked, not started", p, r, err)
			}
		}
		for _, p := range members {
			if exists(t, c, c.Keys.Outcomes(mode, p)) {
				t.Fatalf("outcomes of %s before the start", p)
			}
		}
		if r, err := c.MarkReadyStart(ctx, mode, "m1", "p3", members, t0, finishedTTL, outcomeTTL); err != nil || !r.Started {
			t.Fatalf("MarkReadyStart(p3): got %+v, %v; want started", r, err)
		}
		for _, p := range members {
			out := readOutcomes(t, c, mode, p)
			if len(out) != 1 {
				t.Errorf("outcomes of %s: got %d records, want exactly 1", p, len(out))
				continue
			}
			sameOutcome(t, "outcome of "+p, out[0], redisx.Outcome{Kind: redisx.OutcomeStarted, Ref: "m1", Mode: mode,
				DeadlineMs: deadline, Teams: [][]string{{"p1", "p2"}, {"p3"}}, Server: json.RawMessage("null")})
			assertOutcomeTTL(t, c, mode, p, 0)
		}
		// Repeated marks of the started room record nothing more.
		before := dump(t, c, mode)
		if r, _ := c.MarkReadyStart(ctx, mode, "m1", "p3", members, t0, finishedTTL, outcomeTTL); r.Started || r.State != redisx.RoomStarted {
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
		if r, err := c.MarkReadyStart(ctx, mode, "m1", "p3", []string{"p1", "p3"}, t0, finishedTTL, outcomeTTL); err == nil {
			t.Errorf("MarkReadyStart without p2's outcome key: got %+v, want an error", r)
		}
		sameDump(t, before, dump(t, c, mode))
		// With the full list, p3's mark starts the match.
		if r, err := c.MarkReadyStart(ctx, mode, "m1", "p3", members, t0, finishedTTL, outcomeTTL); err != nil || !r.Started {
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
				if r, err := c.Resolve(t.Context(), mode, "m1", []string{"p1", "p2"}, cancel("loading_timeout", "", false)); err != nil || r.Status != redisx.ResolveOK {
					t.Fatalf("Resolve: %+v, %v", r, err)
				}
				return "c:m1"
			}},
			{"mark_ready_start", func(t *testing.T, mode string) string {
				formRoom(t, c, mode, "m1", "p1", "p2")
				markReady(t, c, mode, "m1", "p2")
				prefill(t, c, mode, "p1", 8, short)
				if r, err := c.MarkReadyStart(t.Context(), mode, "m1", "p1", []string{"p1", "p2"}, t0, finishedTTL, outcomeTTL); err != nil || !r.Started {
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

// AckOutcomes forgets the told record and every one before it, keeps what
// was written after, deletes an emptied list, and does so for many players
// in one call.
func TestAckOutcomes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		push := func(player string, refs ...string) {
			t.Helper()
			for _, r := range refs {
				if err := c.PushOutcomes(ctx, mode, map[string]redisx.Outcome{player: {Kind: redisx.OutcomeDequeued, Ref: r, Mode: mode, Reason: "cancelled"}}, outcomeTTL); err != nil {
					t.Fatal(err)
				}
			}
		}
		ack := func(acks map[string]string) {
			t.Helper()
			if err := c.AckOutcomes(ctx, mode, acks); err != nil {
				t.Fatalf("AckOutcomes(%v): %v", acks, err)
			}
		}

		push("a", "t1", "t2", "t3")
		ack(map[string]string{"a": "d:t2"})
		if got := outcomeIDs(t, c, mode, "a"); !slices.Equal(got, []string{"d:t3"}) {
			t.Errorf("after acking d:t2: got %v, want [d:t3]", got)
		}
		// A record written after the session read the list survives the ack
		// of what it read.
		push("a", "t4")
		ack(map[string]string{"a": "d:t3"})
		if got := outcomeIDs(t, c, mode, "a"); !slices.Equal(got, []string{"d:t4"}) {
			t.Errorf("after acking d:t3 with d:t4 written since: got %v, want [d:t4]", got)
		}
		assertOutcomeTTL(t, c, mode, "a", 0)
		ack(map[string]string{"a": "d:t4"})
		if exists(t, c, k.Outcomes(mode, "a")) {
			t.Errorf("list exists after its last record was acknowledged: %v", outcomeIDs(t, c, mode, "a"))
		}

		// An id that is not in the list, or only a prefix of one, changes
		// nothing; a missing list is no error and is not created.
		push("b", "t10", "t2")
		before := dump(t, c, mode)
		ack(map[string]string{"b": "d:t1", "ghost": "d:t1"})
		ack(map[string]string{"b": "c:t10"})
		sameDump(t, before, dump(t, c, mode))
		if exists(t, c, k.Outcomes(mode, "ghost")) {
			t.Errorf("AckOutcomes created a list for a player without one")
		}
		if err := c.AckOutcomes(ctx, mode, nil); err != nil {
			t.Errorf("AckOutcomes(nil): %v", err)
		}

		// Many players at once: half acknowledge everything, half their
		// first record only.
		acks := map[string]string{}
		for i := range 300 {
			p := fmt.Sprintf("m%03d", i)
			push(p, "x", "y")
			acks[p] = map[bool]string{true: "d:y", false: "d:x"}[i%2 == 0]
		}
		ack(acks)
		for i := range 300 {
			p := fmt.Sprintf("m%03d", i)
			got := outcomeIDs(t, c, mode, p)
			if i%2 == 0 && (len(got) != 0 || exists(t, c, k.Outcomes(mode, p))) {
				t.Errorf("%s after acking its last record: got %v, want the list deleted", p, got)
			}
			if i%2 == 1 && !slices.Equal(got, []string{"d:y"}) {
				t.Errorf("%s after acking its first record: got %v, want [d:y]", p, got)
			}
		}
		if got := outcomeIDs(t, c, mode, "b"); !slices.Equal(got, []string{"d:t10", "d:t2"}) {
			t.Errorf("b, not in the batch: got %v, want untouched", got)
		}
	})
}

// A created ticket hands the player's untold outcomes of the mode over to
// the caller, oldest first, and deletes them (the new ticket supersedes
// them); an enqueue that finds a ticket or a room hands nothing over and
// leaves them be.
func TestEnqueueHandsOverOutcomes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		tk := enqueue(t, c, ticket(mode, "p1", t0))
		if r, err := c.RemoveTicket(ctx, mode, "p1", tk.ID, "timeout", outcomeTTL); err != nil || !r.Removed {
			t.Fatalf("RemoveTicket: %+v, %v", r, err)
		}
		if err := c.PushOutcomes(ctx, mode, map[string]redisx.Outcome{"p1": {Kind: redisx.OutcomeCancelled, Ref: "lost", Mode: mode, Reason: "room_lost"}}, outcomeTTL); err != nil {
			t.Fatal(err)
		}
		// An outcome in another mode is not this mode's to hand over.
		if err := c.PushOutcomes(ctx, "other", map[string]redisx.Outcome{"p1": {Kind: redisx.OutcomeCancelled, Ref: "x", Mode: "other", Reason: "room_lost"}}, outcomeTTL); err != nil {
			t.Fatal(err)
		}
		stored := readOutcomes(t, c, mode, "p1")

		again := ticket(mode, "p1", t0+50)
		again.ID = "tk-p1-again"
		r, err := c.Enqueue(ctx, again, t0+50)
		if err != nil || r.Status != redisx.EnqueueCreated || r.Ticket != again {
			t.Fatalf("Enqueue: got %+v, %v; want created", r, err)
		}
		if len(r.Outcomes) != 2 || len(stored) != 2 {
			t.Fatalf("handed over: got %d outcomes, want the 2 stored", len(r.Outcomes))
		}
		for i := range stored {
			sameOutcome(t, fmt.Sprintf("handed over [%d]", i), r.Outcomes[i], stored[i])
			if r.Outcomes[i].AtMs != stored[i].AtMs {
				t.Errorf("handed over [%d] at %d, stored at %d", i, r.Outcomes[i].AtMs, stored[i].AtMs)
			}
		}
		if r.Outcomes[0].ID() != "d:"+tk.ID || r.Outcomes[1].ID() != "c:lost" {
			t.Errorf("handed over: got %s, %s; want d:%s then c:lost", r.Outcomes[0].ID(), r.Outcomes[1].ID(), tk.ID)
		}
		if exists(t, c, k.Outcomes(mode, "p1")) {
			t.Errorf("outcomes still stored after the hand-over: %v", outcomeIDs(t, c, mode, "p1"))
		}
		if got := outcomeIDs(t, c, "other", "p1"); !slices.Equal(got, []string{"c:x"}) {
			t.Errorf("the other mode's outcomes: got %v, want [c:x] untouched", got)
		}

		// Already queued (a retry), or seated in a room: nothing handed over.
		formRoom(t, c, mode, "m1", "p2", "p3")
		for _, p := range []string{"p1", "p2"} {
			if err := c.PushOutcomes(ctx, mode, map[string]redisx.Outcome{p: {Kind: redisx.OutcomeCancelled, Ref: "m0", Mode: mode, Reason: "room_lost"}}, outcomeTTL); err != nil {
				t.Fatal(err)
			}
		}
		before := dump(t, c, mode)
		for _, tc := range []struct {
			player string
			want   redisx.EnqueueStatus
		}{{"p1", redisx.EnqueueExisting}, {"p2", redisx.EnqueueInRoom}} {
			r, err := c.Enqueue(ctx, ticket(mode, tc.player, t0+99), t0+99)
			if err != nil || r.Status != tc.want || r.Outcomes != nil {
				t.Errorf("Enqueue(%s): got %+v, %v; want status %d, nothing handed over", tc.player, r, err, tc.want)
			}
		}
		sameDump(t, before, dump(t, c, mode))
	})
}

// PushOutcomes writes each record with Redis's time in place of '@', and
// the record parses back to what was pushed, whatever the server holds.
func TestPushOutcomes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		full := redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m-1", Mode: mode, Reason: "room_lost", Requeued: true,
			NoShows: []string{"p3", "p4"}, Ticket: "tk-p1", QueuedAtMs: t0, DeadlineMs: deadline,
			Teams: [][]string{{"p1", "p2"}, {"p3", "p4"}}, Server: json.RawMessage(`{"a":"|@|","b":"x|y"}`)}
		bare := redisx.Outcome{Kind: redisx.OutcomeStarted, Ref: "m2", Mode: mode}
		if err := c.PushOutcomes(ctx, mode, map[string]redisx.Outcome{"p1": full, "p2": bare}, outcomeTTL); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]redisx.Outcome{"p1": full, "p2": bare} {
			raw := lrange(t, c, c.Keys.Outcomes(mode, p))
			if len(raw) != 1 {
				t.Fatalf("%s: got %d records, want 1", p, len(raw))
			}
			id := want.ID()
			if !strings.HasPrefix(raw[0], id+"|") || strings.HasPrefix(raw[0], id+"|@|") {
				t.Errorf("%s: raw record %q, want the time in place of '@'", p, raw[0])
			}
			got, err := redisx.ParseOutcome(raw[0])
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if want.Teams == nil {
				want.Teams = [][]string{}
			}
			if want.Server == nil {
				want.Server = json.RawMessage("null")
			}
			sameOutcome(t, p, got, want)
			assertOutcomeTTL(t, c, mode, p, 0)
		}
		if err := c.PushOutcomes(ctx, mode, nil, outcomeTTL); err != nil {
			t.Errorf("PushOutcomes(nil): %v", err)
		}
	})
}

// ForgetRoom frees the players of a room whose record is gone (those whose
// entry names the match, nobody else), takes the room out of the indexes,
// and says what it did: exists, done (with the freed), or not indexed.
func TestForgetRoom(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		// Enough players that the players hash is scanned in several pages.
		var fill []string
		for i := range 1500 {
			fill = append(fill, fmt.Sprintf("x%04d", i), fmt.Sprintf("q:t%04d", i))
		}
		if err := c.R.Do(ctx, c.R.B().Hset().Key(k.Players(mode)).FieldValue().FieldValue(fill[0], fill[1]).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if err := c.R.Do(ctx, c.R.B().Arbitrary("HSET").Keys(k.Players(mode)).Args(fill[2:]...).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		formRoom(t, c, mode, "m1", "p1", "p2", "p3")
		formRoom(t, c, mode, "m2", "p4", "p5")
		bystander := enqueue(t, c, ticket(mode, "p6", t0+9))

		before := dump(t, c, mode)
		if st, freed, err := c.ForgetRoom(ctx, mode, "m1"); err != nil || st != redisx.ForgetExists || freed != nil {
			t.Fatalf("ForgetRoom of a live room: got %d, %v, %v; want exists, nothing freed", st, freed, err)
		}
		sameDump(t, before, dump(t, c, mode))

		if err := c.R.Do(ctx, c.R.B().Del().Key(k.Room(mode, "m1")).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		st, freed, err := c.ForgetRoom(ctx, mode, "m1")
		slices.Sort(freed)
		if err != nil || st != redisx.ForgetDone || !slices.Equal(freed, []string{"p1", "p2", "p3"}) {
			t.Fatalf("ForgetRoom(m1): got %d, %v, %v; want done, [p1 p2 p3] freed", st, freed, err)
		}
		for _, p := range []string{"p1", "p2", "p3"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e != (redisx.Entry{}) {
				t.Errorf("%s after the forget: entry %+v, want none", p, e)
			}
		}
		for p, want := range map[string]redisx.Entry{"p4": entry(redisx.EntryInRoom, "m2"), "p5": entry(redisx.EntryInRoom, "m2"), "p6": entry(redisx.EntryQueued, bystander.ID), "x0700": entry(redisx.EntryQueued, "t0700")} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e != want {
				t.Errorf("%s after the forget: entry %+v, want %+v untouched", p, e, want)
			}
		}
		if n, _ := c.R.Do(ctx, c.R.B().Hlen().Key(k.Players(mode)).Build()).AsInt64(); n != 1500+3 {
			t.Errorf("players hash: %d entries, want %d (only m1's three freed)", n, 1500+3)
		}
		if _, ok := zscore(t, c, k.Rooms(mode), "m1"); ok {
			t.Errorf("m1 still in the rooms ZSET")
		}
		if o, ok := hget(t, c, k.Owners(mode), "m1"); ok {
			t.Errorf("m1 still in the owners index (%s)", o)
		}
		if _, ok := zscore(t, c, k.Rooms(mode), "m2"); !ok {
			t.Errorf("m2 left the rooms ZSET, want it untouched")
		}
		for _, p := range []string{"p1", "p2", "p3"} {
			if exists(t, c, k.Outcomes(mode, p)) {
				t.Errorf("ForgetRoom wrote %s's outcome, want that left to PushOutcomes", p)
			}
		}

		before = dump(t, c, mode)
		if st, freed, err := c.ForgetRoom(ctx, mode, "m1"); err != nil || st != redisx.ForgetNotIndexed || freed != nil {
			t.Errorf("second ForgetRoom(m1): got %d, %v, %v; want not indexed", st, freed, err)
		}
		if st, freed, err := c.ForgetRoom(ctx, mode, "never"); err != nil || st != redisx.ForgetNotIndexed || freed != nil {
			t.Errorf("ForgetRoom(never): got %d, %v, %v; want not indexed", st, freed, err)
		}
		sameDump(t, before, dump(t, c, mode))

		// A room gone from the indexes whose players are still seated (a
		// forget that crashed half-way cannot happen in one script, but a
		// foreign delete can) still frees them.
		if err := c.R.Do(ctx, c.R.B().Del().Key(k.Room(mode, "m2"), k.Rooms(mode), k.Owners(mode)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		st, freed, err = c.ForgetRoom(ctx, mode, "m2")
		slices.Sort(freed)
		if err != nil || st != redisx.ForgetDone || !slices.Equal(freed, []string{"p4", "p5"}) {
			t.Errorf("ForgetRoom(m2) with no index: got %d, %v, %v; want done, [p4 p5] freed", st, freed, err)
		}
	})
}

// The first report of a lost room wins, once; the marker expires.
func TestFirstToReportLost(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		for i, want := range []bool{true, false, false} {
			first, err := c.FirstToReportLost(ctx, mode, "m1", outcomeTTL)
			if err != nil || first != want {
				t.Errorf("report %d: got %v, %v; want %v", i+1, first, err, want)
			}
		}
		if first, _ := c.FirstToReportLost(ctx, mode, "m2", outcomeTTL); !first {
			t.Errorf("first report of m2: got false, want true")
		}
		if ttl := pttl(t, c, k.LostMarker(mode, "m1")); ttl <= 0 || ttl > outcomeTTL.Milliseconds() {
			t.Errorf("marker PTTL: got %d, want in (0, %d]", ttl, outcomeTTL.Milliseconds())
		}
		if first, _ := c.FirstToReportLost(ctx, mode, "m3", 150*time.Millisecond); !first {
			t.Fatalf("first report of m3: got false")
		}
		waitGone(t, c, k.LostMarker(mode, "m3"))
		if first, _ := c.FirstToReportLost(ctx, mode, "m3", outcomeTTL); !first {
			t.Errorf("report of m3 after its marker expired: got false, want true")
		}
	})
}
