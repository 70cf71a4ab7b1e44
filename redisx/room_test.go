package redisx_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

const finishedTTL = 5 * time.Second

func TestMarkReady(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		formRoom(t, c, mode, "m1", "p1", "p2", "p3")
		members := []string{"p1", "p2", "p3"}

		for i, tc := range []struct {
			player    string
			wantState redisx.RoomState
			wantNew   bool
			wantReady []string
		}{
			{"p2", "loading", true, []string{"p2"}},
			{"p2", "loading", false, []string{"p2"}},
			{"p1", "loading", true, []string{"p1", "p2"}},
			{"stranger", "not_member", false, nil},
			{"p1", "loading", false, []string{"p1", "p2"}},
		} {
			r, err := c.MarkReady(ctx, mode, "m1", tc.player, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := redisx.ReadyResult{State: tc.wantState, New: tc.wantNew, Ready: tc.wantReady}
			if tc.wantState == "loading" {
				want.Members, want.Owner = members, owner
			}
			if r.State != want.State || r.New != want.New || r.Owner != want.Owner ||
				!slices.Equal(r.Members, want.Members) || !slices.Equal(r.Ready, want.Ready) {
				t.Errorf("step %d MarkReady(%s): got %+v, want %+v", i+1, tc.player, r, want)
			}
		}
		if _, ok := hget(t, c, c.Keys.Room(mode, "m1"), "r:stranger"); ok {
			t.Errorf("a non-member's mark was written")
		}
		room, _, _ := c.Room(ctx, mode, "m1")
		if want := map[string]bool{"p1": true, "p2": true}; len(room.Ready) != 2 || !room.Ready["p1"] || !room.Ready["p2"] {
			t.Errorf("Room().Ready: got %v, want %v", room.Ready, want)
		}

		before := dump(t, c, mode)
		r, err := c.MarkReady(ctx, mode, "nope", "p1", 0)
		if err != nil || r.State != "gone" || r.New {
			t.Errorf("MarkReady on a missing room: got %+v, %v; want state gone", r, err)
		}
		sameDump(t, before, dump(t, c, mode))

		// After a resolve the mark no longer applies; the state says why.
		markReady(t, c, mode, "m1", "p3")
		if res, _ := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), redisx.Resolution{Outcome: "allocating", FinishedTTL: finishedTTL, OutcomeTTL: outcomeTTL}); res.Status != "ok" {
			t.Fatalf("Resolve allocating: got %+v", res)
		}
		for _, want := range []redisx.RoomState{redisx.RoomAllocating, redisx.RoomStarted} {
			if want == "started" {
				if res, _ := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), redisx.Resolution{Outcome: "start", FinishedTTL: finishedTTL, OutcomeTTL: outcomeTTL}); res.Status != "ok" {
					t.Fatalf("Resolve start: got %+v", res)
				}
			}
			r, err := c.MarkReady(ctx, mode, "m1", "p1", 0)
			if err != nil || r.State != want || r.New || r.Owner != owner || !slices.Equal(r.Ready, members) {
				t.Errorf("MarkReady in %s: got %+v, %v; want state %s, not new, all ready", want, r, err, want)
			}
		}

		formRoom(t, c, mode, "m2", "q1", "q2")
		expireDeadline(t, c, mode, "m2")
		if res, _ := c.Resolve(ctx, mode, "m2", roomMembers(t, c, mode, "m2"), redisx.Resolution{Outcome: "cancel", Reason: "loading_timeout", FinishedTTL: finishedTTL, OutcomeTTL: outcomeTTL}); res.Status != "ok" {
			t.Fatalf("Resolve cancel: got %+v", res)
		}
		before = dump(t, c, mode)
		r, err = c.MarkReady(ctx, mode, "m2", "q1", 0)
		if err != nil || r.State != "cancelled" || r.New || len(r.Ready) != 0 {
			t.Errorf("MarkReady in a cancelled room: got %+v, %v; want state cancelled, nothing marked", r, err)
		}
		sameDump(t, before, dump(t, c, mode))
	})
}

// entries returns the entries of the given players in mode's players hash
// ("" for none).
func entries(t *testing.T, c *redisx.Client, mode string, players ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range players {
		out[p], _ = hget(t, c, c.Keys.Players(mode), p)
	}
	return out
}

// assertRequeued checks that each player is back in the queue with the very
// ticket they had, at its original priority, with a fresh wait from
// Redis's clock at the resolve, read as before and after it; the room's end
// is stamped with the same reading.
func assertRequeued(t *testing.T, c *redisx.Client, mode, match string, before, after int64, tks map[string]redisx.Ticket, players ...string) {
	t.Helper()
	k := c.Keys
	for _, p := range players {
		tk := tks[p]
		if s, ok := zscore(t, c, k.Queue(mode), tk.ID); !ok || int64(s) != tk.QueuedAtMs {
			t.Errorf("requeued %s: ZSCORE q got %d (present %v), want the original %d", p, int64(s), ok, tk.QueuedAtMs)
		}
		if js, _ := hget(t, c, k.Tickets(mode), tk.ID); js != ticketJSON(t, tk) {
			t.Errorf("requeued %s: HGET t got %s, want %s", p, js, ticketJSON(t, tk))
		}
		if e, _ := hget(t, c, k.Players(mode), p); e != "q:"+tk.ID {
			t.Errorf("requeued %s: HGET pl got %q, want %q", p, e, "q:"+tk.ID)
		}
		ended, _ := hget(t, c, k.Room(mode, match), "ended")
		if s, ok := zscore(t, c, k.Waits(mode), tk.ID); !ok || !inWindow(int64(s), before, after) || itoa(int64(s)) != ended {
			t.Errorf("requeued %s: ZSCORE w got %d (present %v), want a fresh wait from Redis's clock, in [%d, %d], the room's end %s", p, int64(s), ok, before, after, ended)
		}
	}
}

// assertGoneFromMode checks that players hold nothing in mode any more.
func assertGoneFromMode(t *testing.T, c *redisx.Client, mode string, tks map[string]redisx.Ticket, players ...string) {
	t.Helper()
	for _, p := range players {
		if e, ok := hget(t, c, c.Keys.Players(mode), p); ok {
			t.Errorf("%s: players entry %q, want none", p, e)
		}
		if _, ok := zscore(t, c, c.Keys.Queue(mode), tks[p].ID); ok {
			t.Errorf("%s: ticket back in q, want not", p)
		}
	}
}

// assertFinished checks that a resolved room left the open set and got the
// short finished TTL.
func assertFinished(t *testing.T, c *redisx.Client, mode, match string, state redisx.RoomState) {
	t.Helper()
	if _, ok := zscore(t, c, c.Keys.Rooms(mode), match); ok {
		t.Errorf("room %s still in rooms ZSET after resolve", match)
	}
	if o, ok := hget(t, c, c.Keys.Owners(mode), match); ok {
		t.Errorf("room %s still in the owners index (%s) after resolve", match, o)
	}
	if ttl := pttl(t, c, c.Keys.Room(mode, match)); ttl <= 0 || ttl > finishedTTL.Milliseconds() {
		t.Errorf("room %s PTTL: got %d, want in (0, %d]", match, ttl, finishedTTL.Milliseconds())
	}
	if st, _ := hget(t, c, c.Keys.Room(mode, match), "state"); redisx.RoomState(st) != state {
		t.Errorf("room %s state: got %q, want %q", match, st, state)
	}
}

func res(outcome redisx.ResolveOutcome) redisx.Resolution {
	return redisx.Resolution{Outcome: outcome, FinishedTTL: finishedTTL, OutcomeTTL: outcomeTTL}
}

func cancel(reason, leaver string, all bool) redisx.Resolution {
	r := res("cancel")
	r.Reason, r.Leaver, r.RequeueAll = reason, leaver, all
	return r
}

func sameResult(got, want redisx.ResolveResult) bool {
	return got.Status == want.Status && got.State == want.State &&
		slices.Equal(got.Requeued, want.Requeued) && slices.Equal(got.NoShows, want.NoShows)
}

func TestResolve(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		t.Run("start_not_ready", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "start_not_ready"
			formRoom(t, c, mode, "m1", "p1", "p2")
			markReady(t, c, mode, "m1", "p1")
			for _, outcome := range []redisx.ResolveOutcome{redisx.ResolveStart, redisx.ResolveAllocating} {
				before := dump(t, c, mode)
				got, err := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), res(outcome))
				if err != nil {
					t.Fatal(err)
				}
				if want := (redisx.ResolveResult{Status: "not_ready", State: "loading"}); !sameResult(got, want) {
					t.Errorf("Resolve %s with p2 loading: got %+v, want %+v", outcome, got, want)
				}
				sameDump(t, before, dump(t, c, mode))
			}
		})

		t.Run("start", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "start"
			formRoom(t, c, mode, "m1", "p1", "p2")
			markReady(t, c, mode, "m1", "p1", "p2")
			r := res("start")
			r.Server = json.RawMessage(`{"addr":"10.0.0.1:7777","token":"x"}`)
			before := redisTime(t, c)
			got, err := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), r)
			after := redisTime(t, c)
			if err != nil {
				t.Fatal(err)
			}
			if want := (redisx.ResolveResult{Status: "ok", State: "started"}); !sameResult(got, want) {
				t.Fatalf("Resolve start: got %+v, want %+v", got, want)
			}
			if e := entries(t, c, mode, "p1", "p2"); e["p1"] != "" || e["p2"] != "" {
				t.Errorf("players entries after start: got %v, want none", e)
			}
			assertFinished(t, c, mode, "m1", "started")
			room, _, _ := c.Room(ctx, mode, "m1")
			if string(room.Server) != string(r.Server) {
				t.Errorf("room server: got %s, want %s", room.Server, r.Server)
			}
			if ended, _ := hget(t, c, c.Keys.Room(mode, "m1"), "ended"); !inWindow(atoi(t, ended), before, after) {
				t.Errorf("room ended: got %q, want Redis's clock during the resolve, in [%d, %d]", ended, before, after)
			}
			// The players are free to queue again.
			enqueue(t, c, ticket(mode, "p1", t0+70_000))
		})

		t.Run("start_without_server", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "start_nil"
			formRoom(t, c, mode, "m1", "p1", "p2")
			markReady(t, c, mode, "m1", "p1", "p2")
			if got, _ := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), res("start")); got.Status != "ok" {
				t.Fatalf("Resolve start: got %+v", got)
			}
			if s, _ := hget(t, c, c.Keys.Room(mode, "m1"), "server"); s != "null" {
				t.Errorf("room server: got %q, want null", s)
			}
		})

		t.Run("allocating_then_start", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "alloc_start"
			formRoom(t, c, mode, "m1", "p1", "p2")
			markReady(t, c, mode, "m1", "p1", "p2")
			got, err := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), res("allocating"))
			if want := (redisx.ResolveResult{Status: "ok", State: "allocating"}); err != nil || !sameResult(got, want) {
				t.Fatalf("Resolve allocating: got %+v, %v; want %+v", got, err, want)
			}
			// Still open: in the rooms set, players still seated, long TTL.
			if _, ok := zscore(t, c, c.Keys.Rooms(mode), "m1"); !ok {
				t.Errorf("allocating room left the rooms ZSET")
			}
			if o, _ := hget(t, c, c.Keys.Owners(mode), "m1"); o != owner {
				t.Errorf("allocating room owners entry: got %q, want %q", o, owner)
			}
			if e := entries(t, c, mode, "p1", "p2"); e["p1"] != "m:m1" || e["p2"] != "m:m1" {
				t.Errorf("players entries while allocating: got %v, want m:m1", e)
			}
			if ttl := pttl(t, c, c.Keys.Room(mode, "m1")); ttl <= finishedTTL.Milliseconds() {
				t.Errorf("allocating room PTTL: got %d, want the loading TTL (> %d)", ttl, finishedTTL.Milliseconds())
			}
			before := dump(t, c, mode)
			got, _ = c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), res("allocating"))
			if want := (redisx.ResolveResult{Status: "already", State: "allocating"}); !sameResult(got, want) {
				t.Errorf("second Resolve allocating: got %+v, want %+v", got, want)
			}
			sameDump(t, before, dump(t, c, mode))

			got, _ = c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), res("start"))
			if want := (redisx.ResolveResult{Status: "ok", State: "started"}); !sameResult(got, want) {
				t.Fatalf("Resolve start after allocating: got %+v, want %+v", got, want)
			}
			assertFinished(t, c, mode, "m1", "started")
		})

		t.Run("allocating_then_cancel_requeue_all", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "alloc_cancel"
			tks := formRoom(t, c, mode, "m1", "p1", "p2", "p3", "p4")
			markReady(t, c, mode, "m1", "p1", "p2", "p3", "p4")
			if got, _ := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), res("allocating")); got.Status != "ok" {
				t.Fatalf("Resolve allocating: got %+v", got)
			}
			r := cancel("allocation_failed", "", true)
			before := redisTime(t, c)
			got, err := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), r)
			after := redisTime(t, c)
			want := redisx.ResolveResult{Status: "ok", State: "cancelled", Requeued: []string{"p1", "p2", "p3", "p4"}}
			if err != nil || !sameResult(got, want) {
				t.Fatalf("Resolve cancel allocation_failed: got %+v, %v; want %+v", got, err, want)
			}
			assertRequeued(t, c, mode, "m1", before, after, tks, "p1", "p2", "p3", "p4")
			assertFinished(t, c, mode, "m1", "cancelled")
			room, _, _ := c.Room(ctx, mode, "m1")
			if room.Reason != "allocation_failed" || room.Leaver != "" || !slices.Equal(room.Requeued, want.Requeued) || len(room.NoShows) != 0 {
				t.Errorf("room outcome: got reason %q leaver %q requeued %v no_shows %v", room.Reason, room.Leaver, room.Requeued, room.NoShows)
			}
		})

		t.Run("cancel_loading_timeout", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "timeout"
			tks := formRoom(t, c, mode, "m1", "p1", "p2", "p3", "p4")
			bystander := enqueue(t, c, ticket(mode, "p9", t0+5))
			markReady(t, c, mode, "m1", "p1", "p3")
			expireDeadline(t, c, mode, "m1")
			r := cancel("loading_timeout", "", false)
			before := redisTime(t, c)
			got, err := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), r)
			after := redisTime(t, c)
			want := redisx.ResolveResult{Status: "ok", State: "cancelled", Requeued: []string{"p1", "p3"}, NoShows: []string{"p2", "p4"}}
			if err != nil || !sameResult(got, want) {
				t.Fatalf("Resolve cancel loading_timeout: got %+v, %v; want %+v", got, err, want)
			}
			assertRequeued(t, c, mode, "m1", before, after, tks, "p1", "p3")
			assertGoneFromMode(t, c, mode, tks, "p2", "p4")
			assertFinished(t, c, mode, "m1", "cancelled")
			if n, _ := c.QueueLen(ctx, mode); n != 3 {
				t.Errorf("QueueLen: got %d, want 3 (two requeued and a bystander)", n)
			}
			// Their place in the queue: original priorities, ahead of the bystander.
			ids, _ := c.R.Do(ctx, c.R.B().Zrange().Key(c.Keys.Queue(mode)).Min("0").Max("-1").Build()).AsStrSlice()
			if want := []string{tks["p1"].ID, bystander.ID, tks["p3"].ID}; !slices.Equal(ids, want) {
				t.Errorf("queue order: got %v, want %v", ids, want)
			}
			// A requeued player's enqueue finds the same ticket.
			if r, _ := c.Enqueue(ctx, ticket(mode, "p1", t0+99_000)); r.Status != redisx.EnqueueExisting || !reflect.DeepEqual(r.Ticket, tks["p1"]) {
				t.Errorf("Enqueue after requeue: got %+v, want existing %+v", r, tks["p1"])
			}
			room, _, _ := c.Room(ctx, mode, "m1")
			if room.Reason != "loading_timeout" || !slices.Equal(room.Requeued, want.Requeued) || !slices.Equal(room.NoShows, want.NoShows) {
				t.Errorf("room outcome: got reason %q requeued %v no_shows %v", room.Reason, room.Requeued, room.NoShows)
			}
		})

		t.Run("cancel_player_left", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "left"
			tks := formRoom(t, c, mode, "m1", "p1", "p2", "p3")
			markReady(t, c, mode, "m1", "p1", "p2") // p3 has not loaded
			r := cancel("player_left", "p2", false)
			before := redisTime(t, c)
			got, err := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), r)
			after := redisTime(t, c)
			want := redisx.ResolveResult{Status: "ok", State: "cancelled", Requeued: []string{"p1", "p3"}}
			if err != nil || !sameResult(got, want) {
				t.Fatalf("Resolve cancel player_left: got %+v, %v; want %+v", got, err, want)
			}
			assertRequeued(t, c, mode, "m1", before, after, tks, "p1", "p3")
			assertGoneFromMode(t, c, mode, tks, "p2")
			assertFinished(t, c, mode, "m1", "cancelled")
			room, _, _ := c.Room(ctx, mode, "m1")
			if room.Reason != "player_left" || room.Leaver != "p2" || len(room.NoShows) != 0 {
				t.Errorf("room outcome: got reason %q leaver %q no_shows %v", room.Reason, room.Leaver, room.NoShows)
			}
		})

		t.Run("cancel_requeue_all_from_loading", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "all_loading"
			tks := formRoom(t, c, mode, "m1", "p1", "p2")
			r := cancel("allocation_failed", "", true)
			before := redisTime(t, c)
			got, _ := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), r)
			after := redisTime(t, c)
			if want := (redisx.ResolveResult{Status: "ok", State: "cancelled", Requeued: []string{"p1", "p2"}}); !sameResult(got, want) {
				t.Fatalf("Resolve: got %+v, want %+v", got, want)
			}
			assertRequeued(t, c, mode, "m1", before, after, tks, "p1", "p2")
		})

		t.Run("gone", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "gone"
			formRoom(t, c, mode, "m0", "p1", "p2") // other keys of the mode exist
			for _, r := range []redisx.Resolution{res("start"), res("allocating"), cancel("loading_timeout", "", false), cancel("player_left", "p1", false)} {
				before := dump(t, c, mode)
				got, err := c.Resolve(ctx, mode, "nope", roomMembers(t, c, mode, "nope"), r)
				if want := (redisx.ResolveResult{Status: "gone"}); err != nil || !sameResult(got, want) {
					t.Errorf("Resolve %s of a missing room: got %+v, %v; want %+v", r.Outcome, got, err, want)
				}
				sameDump(t, before, dump(t, c, mode))
			}
		})

		// A resolved room answers "already" with its outcome to every later
		// resolve, whatever it asks for, and nothing changes.
		for _, fin := range []struct {
			name string
			r    redisx.Resolution
			want redisx.ResolveResult
		}{
			{"started", res("start"), redisx.ResolveResult{Status: "already", State: "started"}},
			{"cancelled", cancel("loading_timeout", "", false),
				redisx.ResolveResult{Status: "already", State: "cancelled", Requeued: []string{"p1", "p2"}, NoShows: []string{"p3"}}},
		} {
			t.Run("already_"+fin.name, func(t *testing.T) {
				t.Parallel()
				ctx, mode := t.Context(), "already_"+fin.name
				formRoom(t, c, mode, "m1", "p1", "p2", "p3")
				markReady(t, c, mode, "m1", "p1", "p2")
				if fin.name == "started" {
					markReady(t, c, mode, "m1", "p3")
				} else {
					expireDeadline(t, c, mode, "m1")
				}
				if got, _ := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), fin.r); got.Status != "ok" {
					t.Fatalf("first Resolve: got %+v", got)
				}
				for _, r := range []redisx.Resolution{
					res("start"), res("allocating"),
					cancel("loading_timeout", "", false), cancel("player_left", "p1", false), cancel("allocation_failed", "", true),
				} {
					before := dump(t, c, mode)
					got, err := c.Resolve(ctx, mode, "m1", roomMembers(t, c, mode, "m1"), r)
					if err != nil || !sameResult(got, fin.want) {
						t.Errorf("Resolve %s %s on a %s room: got %+v, %v; want %+v", r.Outcome, r.Reason, fin.name, got, err, fin.want)
					}
					sameDump(t, before, dump(t, c, mode))
				}
			})
		}
	})
}

func TestAdoptRoom(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		for _, tc := range []struct {
			name     string
			state    func(t *testing.T, mode string) // brings m1 into the state
			oldOwner string
			want     bool
		}{
			{"loading", func(*testing.T, string) {}, owner, true},
			{"allocating", func(t *testing.T, mode string) {
				markReady(t, c, mode, "m1", "p1", "p2")
				if got, _ := c.Resolve(t.Context(), mode, "m1", roomMembers(t, c, mode, "m1"), res("allocating")); got.Status != "ok" {
					t.Fatalf("Resolve allocating: got %+v", got)
				}
			}, owner, true},
			{"wrong_old_owner", func(*testing.T, string) {}, "node-z", false},
			{"started", func(t *testing.T, mode string) {
				markReady(t, c, mode, "m1", "p1", "p2")
				if got, _ := c.Resolve(t.Context(), mode, "m1", roomMembers(t, c, mode, "m1"), res("start")); got.Status != "ok" {
					t.Fatalf("Resolve start: got %+v", got)
				}
			}, owner, false},
			{"cancelled", func(t *testing.T, mode string) {
				expireDeadline(t, c, mode, "m1")
				if got, _ := c.Resolve(t.Context(), mode, "m1", roomMembers(t, c, mode, "m1"), cancel("loading_timeout", "", false)); got.Status != "ok" {
					t.Fatalf("Resolve cancel: got %+v", got)
				}
			}, owner, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx, mode := t.Context(), tc.name
				formRoom(t, c, mode, "m1", "p1", "p2")
				tc.state(t, mode)
				before := dump(t, c, mode)
				ok, err := c.AdoptRoom(ctx, mode, "m1", tc.oldOwner, "node-b", redisx.AdoptDead, time.Minute, time.Minute)
				if err != nil || ok != tc.want {
					t.Fatalf("AdoptRoom(%s -> node-b): got %v, %v; want %v", tc.oldOwner, ok, err, tc.want)
				}
				if !ok {
					sameDump(t, before, dump(t, c, mode))
					return
				}
				if o, _ := hget(t, c, c.Keys.Room(mode, "m1"), "owner"); o != "node-b" {
					t.Errorf("owner after adoption: got %q, want node-b", o)
				}
				if owners, _ := c.RoomOwners(ctx, mode); owners["m1"] != "node-b" || len(owners) != 1 {
					t.Errorf("RoomOwners after adoption: got %v, want m1 -> node-b", owners)
				}
				// The old owner cannot adopt it back on a stale read.
				if ok, _ := c.AdoptRoom(ctx, mode, "m1", owner, "node-c", redisx.AdoptDead, time.Minute, time.Minute); ok {
					t.Errorf("second AdoptRoom from the old owner: got true, want false")
				}
				if r, _ := c.MarkReady(ctx, mode, "m1", "p1", 0); r.Owner != "node-b" {
					t.Errorf("MarkReady owner after adoption: got %q, want node-b", r.Owner)
				}
			})
		}
		t.Run("gone", func(t *testing.T) {
			t.Parallel()
			if ok, err := c.AdoptRoom(t.Context(), "gone", "nope", owner, "node-b", redisx.AdoptDead, time.Minute, time.Minute); err != nil || ok {
				t.Errorf("AdoptRoom of a missing room: got %v, %v; want false", ok, err)
			}
			if exists(t, c, c.Keys.Room("gone", "nope")) {
				t.Errorf("AdoptRoom created a missing room")
			}
		})
	})
}

// OverdueRooms lists the unresolved rooms whose deadline is at least
// adopt_after behind Redis's clock, by deadline. The rooms here are formed
// with deadlines already far behind it (negative loading timeouts), 100s
// apart, so that the cut of each adopt_after is clear whatever the test's
// own pace.
func TestOverdueRooms(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4", "p5", "p6")
		l := lease(t, c, mode, time.Minute)
		deadlines := map[string]int64{}
		for i, m := range []redisx.ClaimMatch{cm("late", tks["p1"], tks["p2"]), cm("early", tks["p3"], tks["p4"]), cm("mid", tks["p5"], tks["p6"])} {
			a := claimArgs
			a.LoadingTimeout = []time.Duration{-100 * time.Second, -300 * time.Second, -200 * time.Second}[i]
			cr, err := c.Claim(ctx, mode, l, a, []redisx.ClaimMatch{m})
			if err != nil || !cr.Formed[0] {
				t.Fatalf("Claim(%s): %+v %v", m.MatchID, cr, err)
			}
			deadlines[m.MatchID] = cr.DeadlineMs
		}
		early, mid, late := ref("early", deadlines["early"]), ref("mid", deadlines["mid"]), ref("late", deadlines["late"])
		for _, tc := range []struct {
			adoptAfter time.Duration
			want       []redisx.RoomRef
		}{
			{350 * time.Second, []redisx.RoomRef{}},
			{250 * time.Second, []redisx.RoomRef{early}},
			{150 * time.Second, []redisx.RoomRef{early, mid}},
			{50 * time.Second, []redisx.RoomRef{early, mid, late}},
		} {
			got, err := c.OverdueRooms(ctx, mode, tc.adoptAfter)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("OverdueRooms(%v): got %v, %v; want %v", tc.adoptAfter, got, err, tc.want)
			}
		}
		// A room whose record exists is never forgotten: it must be resolved.
		if st, freed, err := c.ForgetRoom(ctx, mode, "mid"); err != nil || st != redisx.ForgetExists || freed != nil {
			t.Fatalf("ForgetRoom of a live room: got %d, %v, %v; want exists", st, freed, err)
		}
		if got, _ := c.OverdueRooms(ctx, mode, 0); len(got) != 3 {
			t.Errorf("ForgetRoom of a live room changed the open set: got %v, want all 3", got)
		}
		// Once its record is gone, the references go too.
		if err := c.R.Do(ctx, c.R.B().Del().Key(c.Keys.Room(mode, "mid")).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if st, _, err := c.ForgetRoom(ctx, mode, "mid"); err != nil || st != redisx.ForgetDone {
			t.Fatalf("ForgetRoom(mid): got %d, %v; want done", st, err)
		}
		if st, _, err := c.ForgetRoom(ctx, mode, "never"); err != nil || st != redisx.ForgetNotIndexed {
			t.Errorf("ForgetRoom of an unknown match: got %d, %v; want not indexed", st, err)
		}
		got, _ := c.OverdueRooms(ctx, mode, 0)
		if want := []redisx.RoomRef{early, late}; !slices.Equal(got, want) {
			t.Errorf("OverdueRooms after ForgetRoom(mid): got %v, want %v", got, want)
		}
		owners, err := c.RoomOwners(ctx, mode)
		if want := map[string]string{"early": owner, "late": owner}; err != nil || !maps.Equal(owners, want) {
			t.Errorf("RoomOwners after ForgetRoom(mid): got %v, %v; want %v", owners, err, want)
		}
		// A resolve takes a room out of the open set (its deadline passed:
		// the timeout is due).
		if r, _ := c.Resolve(ctx, mode, "early", roomMembers(t, c, mode, "early"), cancel("loading_timeout", "", false)); r.Status != "ok" {
			t.Fatalf("Resolve: %+v", r)
		}
		got, _ = c.OverdueRooms(ctx, mode, 0)
		if want := []redisx.RoomRef{late}; !slices.Equal(got, want) {
			t.Errorf("OverdueRooms after resolve: got %v, want %v", got, want)
		}
		if owners, _ := c.RoomOwners(ctx, mode); !maps.Equal(owners, map[string]string{"late": owner}) {
			t.Errorf("RoomOwners after resolve: got %v, want late only", owners)
		}
		if owners, err := c.RoomOwners(ctx, "empty"); err != nil || len(owners) != 0 {
			t.Errorf("RoomOwners(empty): got %v, %v; want none", owners, err)
		}
		if got, err := c.OverdueRooms(ctx, "empty", 0); err != nil || len(got) != 0 {
			t.Errorf("OverdueRooms(empty): got %v, %v; want none", got, err)
		}
	})
}

func ref(match string, deadlineMs int64) redisx.RoomRef {
	return redisx.RoomRef{MatchID: match, DeadlineMs: deadlineMs}
}

// A member requeued by a cancelled room is told so by its outcome: the
// match, the reason, that it was requeued, with which ticket and original
// queue time; the leaver is told the match was cancelled without a requeue.
// The record outlives the ticket: a cancel of the requeued ticket adds its
// own record after it, and a claim leaves it for the session to tell.
func TestRequeuedOutcome(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "rqfrom"
		tks := formRoom(t, c, mode, "m1", "p1", "p2", "p3", "p4")
		if got, err := c.Resolve(ctx, mode, "m1", []string{"p1", "p2", "p3", "p4"}, cancel("player_left", "p4", true)); err != nil || got.Status != redisx.ResolveOK {
			t.Fatalf("p4 dodges m1: %+v, %v", got, err)
		}
		for _, p := range []string{"p1", "p2", "p3", "p4"} {
			out := readOutcomes(t, c, mode, p)
			if len(out) != 1 {
				t.Fatalf("outcomes of %s: got %+v, want one", p, out)
			}
			o := out[0]
			if o.Kind != redisx.OutcomeCancelled || o.Ref != "m1" || o.ID() != "c:m1" || o.Reason != "player_left" || o.Mode != mode {
				t.Errorf("outcome of %s: got %+v, want c:m1 player_left", p, o)
			}
			if p == "p4" {
				if o.Requeued || o.Ticket != tks[p].ID || o.QueuedAtMs != tks[p].QueuedAtMs {
					t.Errorf("the leaver's outcome: got requeued %v ticket %q queued_at %d, want not requeued, seated with %s", o.Requeued, o.Ticket, o.QueuedAtMs, tks[p].ID)
				}
				continue
			}
			if !o.Requeued || o.Ticket != tks[p].ID || o.QueuedAtMs != tks[p].QueuedAtMs {
				t.Errorf("outcome of %s: got requeued %v ticket %q queued_at %d, want requeued with %s queued at %d",
					p, o.Requeued, o.Ticket, o.QueuedAtMs, tks[p].ID, tks[p].QueuedAtMs)
			}
		}
		// p1 cancels: its dequeued record follows the cancelled one.
		r, err := c.RemoveTicket(ctx, mode, "p1", tks["p1"].ID, "cancelled", outcomeTTL)
		if err != nil || !r.Removed || len(r.Outcomes) != 2 || r.Outcomes[0].ID() != "c:m1" || r.Outcomes[1].ID() != "d:"+tks["p1"].ID {
			t.Fatalf("RemoveTicket p1: got %+v, %v; want removed, outcomes [c:m1 d:%s]", r, err, tks["p1"].ID)
		}
		// p2 and p3 are matched again: their outcome stays until told.
		l := lease(t, c, mode, time.Minute)
		if cr, err := c.Claim(ctx, mode, l, claimArgs, []redisx.ClaimMatch{cm("m2", tks["p2"], tks["p3"])}); err != nil || !cr.Formed[0] {
			t.Fatalf("claim m2: %+v, %v", cr, err)
		}
		for _, p := range []string{"p2", "p3"} {
			if out := readOutcomes(t, c, mode, p); len(out) != 1 || out[0].ID() != "c:m1" || !out[0].Requeued {
				t.Errorf("outcomes of %s after the claim: got %+v, want c:m1 requeued", p, out)
			}
		}
	})
}

// The mark that completes a room with MarkReadyStart leaves Redis exactly as
// marking it and then resolving it "start" does (same keys, same fields,
// same finished TTL), and only that mark reports Started.
func TestMarkReadyStartIsMarkThenStart(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		// Two modes with names of one length, so the dumps compare after a
		// rename.
		formRoom(t, c, "foldref", "m1", "p1", "p2", "p3")
		formRoom(t, c, "foldnew", "m1", "p1", "p2", "p3")
		for _, p := range []string{"p1", "p2", "p3"} {
			markReady(t, c, "foldref", "m1", p)
		}
		members := []string{"p1", "p2", "p3"}
		res, err := c.Resolve(ctx, "foldref", "m1", members, redisx.Resolution{Outcome: redisx.ResolveStart, FinishedTTL: finishedTTL, OutcomeTTL: outcomeTTL})
		if err != nil || res.Status != redisx.ResolveOK {
			t.Fatalf("Resolve start: got %+v, %v", res, err)
		}

		for i, tc := range []struct {
			player               string
			wantState            redisx.RoomState
			wantNew, wantStarted bool
		}{
			{"p2", "loading", true, false},
			{"p2", "loading", false, false},
			{"p1", "loading", true, false},
			{"p3", "started", true, true},
			{"p3", "started", false, false},
			{"p1", "started", false, false},
		} {
			r, err := c.MarkReadyStart(ctx, "foldnew", "m1", tc.player, members, 0, finishedTTL, outcomeTTL)
			if err != nil || r.State != tc.wantState || r.New != tc.wantNew || r.Started != tc.wantStarted || r.Owner != owner {
				t.Fatalf("step %d MarkReadyStart(%s): got %+v, %v; want state %s, new %v, started %v", i+1, tc.player, r, err, tc.wantState, tc.wantNew, tc.wantStarted)
			}
		}

		// The two match but for the times Redis's clock stamped, which
		// differ between the two rooms: each room's creation, deadline and
		// end, and each outcome record's time and (the room's) deadline.
		at := regexp.MustCompile(`(?m)^((?:list\|(?:ttl|persist)\|)?[dsc]:[^|\n]*)\|\d+\|((?:[^|\n]*\|){6})\d+\|`)
		field := regexp.MustCompile(`(?m)(^|\|)(created|deadline|ended)=\d+$`)
		norm := func(v string) string {
			return field.ReplaceAllString(at.ReplaceAllString(v, "$1|@|$2@|"), "$1$2=@")
		}
		want := map[string]string{}
		for k, v := range dump(t, c, "foldref") {
			want[strings.ReplaceAll(k, "foldref", "foldnew")] = norm(strings.ReplaceAll(v, "foldref", "foldnew"))
		}
		got := dump(t, c, "foldnew")
		for k, v := range got {
			got[k] = norm(v)
		}
		for _, p := range members {
			if _, ok := got[c.Keys.Outcomes("foldnew", p)]; !ok {
				t.Errorf("no outcome list for %s after MarkReadyStart", p)
			}
		}
		if !maps.Equal(got, want) {
			for k := range maps.Keys(want) {
				if got[k] != want[k] {
					t.Errorf("key %s: got\n%s\nwant (mark, then resolve start)\n%s", k, got[k], want[k])
				}
			}
			for k := range maps.Keys(got) {
				if _, ok := want[k]; !ok {
					t.Errorf("key %s: only after MarkReadyStart", k)
				}
			}
		}
		if ttl := pttl(t, c, c.Keys.Room("foldnew", "m1")); ttl <= 0 || ttl > finishedTTL.Milliseconds() {
			t.Errorf("started room PTTL %d ms, want the finished TTL (at most %d)", ttl, finishedTTL.Milliseconds())
		}
	})
}

// When the last members mark at the same moment, exactly one of them starts
// the match.
func TestMarkReadyStartOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		for round := range 20 {
			match := fmt.Sprintf("m%d", round)
			players := []string{match + "a", match + "b", match + "c", match + "d"}
			formRoom(t, c, mode, match, players...)
			var started atomic.Int32
			var wg sync.WaitGroup
			for _, p := range players {
				wg.Go(func() {
					r, err := c.MarkReadyStart(ctx, mode, match, p, players, 0, finishedTTL, outcomeTTL)
					if err != nil {
						t.Error(err)
					}
					if r.Started {
						started.Add(1)
					}
				})
			}
			wg.Wait()
			if n := started.Load(); n != 1 {
				t.Fatalf("round %d: %d marks started the match, want exactly 1", round, n)
			}
			// ... and each member is told once.
			for _, p := range players {
				if out := readOutcomes(t, c, mode, p); len(out) != 1 || out[0].ID() != "s:"+match {
					t.Errorf("round %d: outcomes of %s: got %+v, want one s:%s", round, p, out, match)
				}
			}
		}
	})
}
