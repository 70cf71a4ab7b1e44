package redisx_test

import (
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// A room whose record expired before anyone resolved it (every node down for
// longer than the room TTL, about 155s with the defaults; or Redis evicting
// a key with a TTL under maxmemory) must not strand its players. The
// sweeper's path (actors/coordinator_actor.go, forget) is: OpenRooms lists
// the match, Room reports it gone, ForgetRoom forgets it and frees its
// players, PushOutcomes tells them room_lost. Afterwards the players are free
// to queue again, are told, and no key of the room remains once the players
// acknowledged.
func TestExpiredRoomFreesItsPlayers(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		tks := enqueueAll(t, c, mode, "p1", "p2")
		l := lease(t, c, mode, time.Minute)
		a := claimArgs
		a.RoomTTL = 150 * time.Millisecond
		if formed, err := c.Claim(ctx, mode, l, a, []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"])}); err != nil || !formed[0] {
			t.Fatalf("Claim: got %v, %v", formed, err)
		}
		if _, err := c.ReleaseLock(ctx, mode, l.Token); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, k.Room(mode, "m1"))

		// The sweeper's view.
		refs, err := c.OpenRooms(ctx, mode, deadline)
		if err != nil || !slices.Equal(refs, []redisx.RoomRef{ref("m1", deadline)}) {
			t.Fatalf("OpenRooms: got %v, %v; want m1", refs, err)
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
		r, err := c.Enqueue(ctx, ticket(mode, "p1", t0+200_000), t0+200_000)
		if err != nil || r.Status != redisx.EnqueueCreated || len(r.Outcomes) != 1 || r.Outcomes[0].ID() != "c:m1" {
			t.Errorf("Enqueue(p1) after its room expired: got %+v, %v; want created, c:m1 handed over", r, err)
		}
		if err := c.AckOutcomes(ctx, mode, map[string]string{"p2": "c:m1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RemoveTicket(ctx, mode, "p1", "", "", outcomeTTL); err != nil {
			t.Fatal(err)
		}
		if _, err := c.TakeQueueChanges(ctx, mode); err != nil {
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
