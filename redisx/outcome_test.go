package redisx_test

// Outcomes as the sessions use them. Every script that changes a player's
// place records what the player must be told, in the same step, in a list of
// the mode's slot that the player's session acknowledges once told: here the
// records' parsing, the acknowledgement, the hand-over to a new ticket and
// records pushed for a change made in an earlier step.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

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
		r, err := c.Enqueue(ctx, again)
		if err != nil || r.Status != redisx.EnqueueCreated || !reflect.DeepEqual(r.Ticket, again) {
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
			r, err := c.Enqueue(ctx, ticket(mode, tc.player, t0+99))
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
			NoShows: []string{"p3", "p4"}, Ticket: "tk-p1", QueuedAtMs: t0, DeadlineMs: t0 + 30_000,
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
