package redisx_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// A room whose record expired before anyone resolved it (every node down for
// longer than the room TTL, about 155s with the defaults; or Redis evicting
// a key with a TTL under maxmemory) must not strand its players. The
// sweeper's path (actors/coordinator_actor.go, forget) is: RoomOwners lists
// the match under its dead owner, Room reports it gone, ForgetRoom forgets
// it and frees its players, PushOutcomes tells them room_lost. Afterwards
// the players are free to queue again, are told, and no key of the room
// remains once the players acknowledged.
func TestExpiredRoomFreesItsPlayers(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		tks := enqueueAll(t, c, mode, "p1", "p2")
		l := lease(t, c, mode, time.Minute)
		a := claimArgs
		a.RoomTTL = 150 * time.Millisecond
		if cr, err := c.Claim(ctx, mode, l, a, []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"])}); err != nil || !cr.Formed[0] {
			t.Fatalf("Claim: got %+v, %v", cr, err)
		}
		if _, err := c.ReleaseLock(ctx, mode, l.Token); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, k.Room(mode, "m1"))

		// The sweeper's view: the room is still indexed under its owner
		// (whose node is gone, so another adopts it) ...
		if owners, err := c.RoomOwners(ctx, mode); err != nil || owners["m1"] != owner {
			t.Fatalf("RoomOwners: got %v, %v; want m1 -> %s", owners, err, owner)
		}
		if _, ok, err := c.Room(ctx, mode, "m1"); err != nil || ok {
			t.Fatalf("Room(m1): got ok %v, %v; want gone", ok, err)
		}
		st, freed, err := c.ForgetRoom(ctx, mode, "m1")
		if err != nil || st != redisx.ForgetDone {
			t.Fatalf("ForgetRoom: got %d, %v; want done", st, err)
		}
		slices.Sort(freed)
		if !slices.Equal(freed, []string{"p1", "p2"}) {
			t.Errorf("ForgetRoom freed %v, want [p1 p2]", freed)
		}
		recs := map[string]redisx.Outcome{}
		for _, p := range freed {
			recs[p] = redisx.Outcome{Kind: redisx.OutcomeCancelled, Ref: "m1", Mode: mode, Reason: "room_lost"}
		}
		if err := c.PushOutcomes(ctx, mode, recs, outcomeTTL); err != nil {
			t.Fatal(err)
		}
		if first, err := c.FirstToReportLost(ctx, mode, "m1", outcomeTTL); err != nil || !first {
			t.Errorf("FirstToReportLost: got %v, %v; want true", first, err)
		}

		for _, p := range []string{"p1", "p2"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e != (redisx.Entry{}) {
				t.Errorf("PlayerEntry(%s) after its room expired and was forgotten: got %c:%s, want none (stranded)", p, e.Kind, e.Ref)
			}
			if out := readOutcomes(t, c, mode, p); len(out) != 1 || out[0].ID() != "c:m1" || out[0].Reason != "room_lost" {
				t.Errorf("outcomes of %s: got %+v, want one c:m1 room_lost", p, out)
			}
		}
		// p1 queues again, which hands its outcome over; p2's session tells
		// it and acknowledges.
		r, err := c.Enqueue(ctx, ticket(mode, "p1", t0+200_000))
		if err != nil || r.Status != redisx.EnqueueCreated || len(r.Outcomes) != 1 || r.Outcomes[0].ID() != "c:m1" {
			t.Errorf("Enqueue(p1) after its room expired: got %+v, %v; want created, c:m1 handed over", r, err)
		}
		if err := c.AckOutcomes(ctx, mode, map[string]string{"p2": "c:m1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RemoveTicket(ctx, mode, "p1", "", "", outcomeTTL); err != nil {
			t.Fatal(err)
		}
		l = lease(t, c, mode, time.Minute)
		if _, err := c.TakeQueueChanges(ctx, mode, l, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReleaseLock(ctx, mode, l.Token); err != nil {
			t.Fatal(err)
		}
		// What is left: the fence, and the lost marker until its TTL.
		if got, want := keysUnder(t, c), []string{k.Fence(mode), k.LostMarker(mode, "m1")}; !slices.Equal(got, want) {
			t.Errorf("keys left: got %v, want %v", got, want)
		}
		if ttl := pttl(t, c, k.LostMarker(mode, "m1")); ttl <= 0 || ttl > outcomeTTL.Milliseconds() {
			t.Errorf("lost marker PTTL: got %d, want in (0, %d]", ttl, outcomeTTL.Milliseconds())
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
