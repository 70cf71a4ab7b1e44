package redisx_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/matchd/matchd/redisx"
)

// ReadTruth tells a session, in one read, where its player stands in each
// mode asked, its untold outcomes over those modes by time, its directory
// entry and the data epoch.
func TestReadTruth(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		modes := []string{"duel", "squad"}
		read := func(player string) redisx.Truth {
			t.Helper()
			tr, err := c.ReadTruth(ctx, player, modes)
			if err != nil {
				t.Fatalf("ReadTruth(%s): %v", player, err)
			}
			return tr
		}

		// Nothing at all, not even an epoch yet.
		if tr := read("idle"); tr.Node != "" || tr.Session != "" || len(tr.Entries) != 0 || tr.Outcomes != nil || tr.Epoch != "" {
			t.Errorf("idle player, no epoch: got %+v, want the zero Truth", tr)
		}
		if _, err := c.Epoch(ctx, "e1"); err != nil {
			t.Fatal(err)
		}

		queued := enqueue(t, c, ticket("duel", "queued", t0))
		if _, err := c.DirClaim(ctx, "queued", "node-a", "s1", outcomeTTL); err != nil {
			t.Fatal(err)
		}
		formRoom(t, c, "squad", "m1", "seated", "other")
		both := enqueue(t, c, ticket("duel", "seated", t0+1))
		gone := enqueue(t, c, ticket("duel", "told", t0+2))
		if r, err := c.RemoveTicket(ctx, "duel", "told", gone.ID, "timeout", outcomeTTL); err != nil || !r.Removed {
			t.Fatalf("RemoveTicket(told): %+v, %v", r, err)
		}
		// Records of known times in both modes (and one of a mode not
		// asked), to see the order across modes.
		for _, kv := range [][2]string{
			{k.Outcomes("duel", "late"), "d:tk1|500|duel|timeout|0||tk1|0|0|[]|null"},
			{k.Outcomes("squad", "late"), "c:m9|1000|squad|room_lost|0|||0|0|[]|null"},
			{k.Outcomes("duel", "late"), "d:tk2|1500|duel|cancelled|0||tk2|0|0|[]|null"},
			{k.Outcomes("solo", "late"), "d:tk3|700|solo|cancelled|0||tk3|0|0|[]|null"},
		} {
			if err := c.R.Do(ctx, c.R.B().Rpush().Key(kv[0]).Element(kv[1]).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}

		idle := read("idle")
		if idle.Epoch != "e1" || idle.Node != "" || len(idle.Entries) != 0 || idle.Outcomes != nil {
			t.Errorf("idle player: got %+v, want nothing but epoch e1", idle)
		}
		if tr := read("queued"); tr.Node != "node-a" || tr.Session != "s1" || tr.Epoch != "e1" || tr.Outcomes != nil ||
			!maps.Equal(tr.Entries, map[string]redisx.Entry{"duel": entry(redisx.EntryQueued, queued.ID)}) {
			t.Errorf("queued player: got %+v, want node-a/s1, duel q:%s, no outcomes", tr, queued.ID)
		}
		if tr := read("seated"); tr.Node != "" || tr.Outcomes != nil ||
			!maps.Equal(tr.Entries, map[string]redisx.Entry{"duel": entry(redisx.EntryQueued, both.ID), "squad": entry(redisx.EntryInRoom, "m1")}) {
			t.Errorf("player queued in duel and seated in squad: got %+v", tr)
		}
		told := read("told")
		if len(told.Entries) != 0 || len(told.Outcomes) != 1 {
			t.Fatalf("dequeued player: got %+v, want no entry and one outcome", told)
		}
		sameOutcome(t, "dequeued player's outcome", told.Outcomes[0], redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: gone.ID, Mode: "duel",
			Reason: "timeout", Ticket: gone.ID, QueuedAtMs: gone.QueuedAtMs, Teams: [][]string{}, Server: []byte("null")})
		var ids []string
		for _, o := range read("late").Outcomes {
			ids = append(ids, o.ID())
		}
		if want := []string{"d:tk1", "c:m9", "d:tk2"}; !slices.Equal(ids, want) {
			t.Errorf("outcomes over two modes: got %v, want %v (by time; solo not asked)", ids, want)
		}
		if tr, err := c.ReadTruth(ctx, "queued", nil); err != nil || tr.Node != "node-a" || len(tr.Entries) != 0 {
			t.Errorf("ReadTruth with no modes: got %+v, %v; want the directory entry only", tr, err)
		}
	})
}

// ReadTruthBatch tells a node, for many players of a mode, where each stands
// and whether it has untold outcomes there.
func TestReadTruthBatch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		players := []string{"idle", "queued", "seated", "told", "both"}
		tq := enqueue(t, c, ticket("duel", "queued", t0))
		ts := enqueue(t, c, ticket("duel", "seated", t0+1))
		formRoom(t, c, "squad", "m1", "seated", "x")
		tb := enqueue(t, c, ticket("duel", "both", t0+2))
		for _, p := range []string{"told", "both"} {
			if err := c.PushOutcomes(ctx, "duel", map[string]redisx.Outcome{p: {Kind: redisx.OutcomeCancelled, Ref: "m0", Mode: "duel", Reason: "room_lost"}}, outcomeTTL); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.PushOutcomes(ctx, "squad", map[string]redisx.Outcome{"idle": {Kind: redisx.OutcomeCancelled, Ref: "m0", Mode: "squad", Reason: "room_lost"}}, outcomeTTL); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			mode    string
			entries []redisx.Entry
			pending []bool
		}{
			{"duel", []redisx.Entry{{}, entry(redisx.EntryQueued, tq.ID), entry(redisx.EntryQueued, ts.ID), {}, entry(redisx.EntryQueued, tb.ID)},
				[]bool{false, false, false, true, true}},
			{"squad", []redisx.Entry{{}, {}, entry(redisx.EntryInRoom, "m1"), {}, {}},
				[]bool{true, false, false, false, false}},
			{"solo", make([]redisx.Entry, 5), make([]bool, 5)},
		} {
			entries, pending, err := c.ReadTruthBatch(ctx, tc.mode, players)
			if err != nil {
				t.Fatalf("ReadTruthBatch(%s): %v", tc.mode, err)
			}
			if !slices.Equal(entries, tc.entries) || !slices.Equal(pending, tc.pending) {
				t.Errorf("ReadTruthBatch(%s, %v): got %v, %v; want %v, %v", tc.mode, players, entries, pending, tc.entries, tc.pending)
			}
		}
		if entries, pending, err := c.ReadTruthBatch(ctx, "duel", nil); err != nil || len(entries) != 0 || len(pending) != 0 {
			t.Errorf("ReadTruthBatch(nil): got %v, %v, %v; want empty", entries, pending, err)
		}
	})
}

// More players than one chunk of the batch read: each answer lands at its
// player's index, in every chunk (one of which has no outcome at all).
func TestReadTruthBatchChunks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		players := make([]string, 2500)
		for i := range players {
			players[i] = fmt.Sprintf("p%04d", i)
		}
		want := make([]redisx.Entry, len(players))
		wantPending := make([]bool, len(players))
		for _, i := range []int{0, 999, 1000, 1005, 2499} {
			want[i] = entry(redisx.EntryQueued, enqueue(t, c, ticket(mode, players[i], t0+int64(i))).ID)
		}
		formRoom(t, c, mode, "mx", players[2401], players[2402])
		want[2401], want[2402] = entry(redisx.EntryInRoom, "mx"), entry(redisx.EntryInRoom, "mx")
		recs := map[string]redisx.Outcome{}
		for _, i := range []int{5, 999, 2000, 2400, 2499} {
			recs[players[i]] = redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m0", Mode: mode, Reason: "room_lost"}
			wantPending[i] = true
		}
		if err := c.PushOutcomes(ctx, mode, recs, outcomeTTL); err != nil {
			t.Fatal(err)
		}
		entries, pending, err := c.ReadTruthBatch(ctx, mode, players)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(players) || len(pending) != len(players) {
			t.Fatalf("got %d entries, %d flags; want %d each", len(entries), len(pending), len(players))
		}
		for i := range players {
			if entries[i] != want[i] || pending[i] != wantPending[i] {
				t.Errorf("%s: got %+v pending %v, want %+v pending %v", players[i], entries[i], pending[i], want[i], wantPending[i])
			}
		}
	})
}
