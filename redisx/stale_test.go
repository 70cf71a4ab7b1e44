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
// sweeper's path (actors/coordinator_actor.go, sweep) is: OpenRooms lists
// the match, Room reports it gone, DropRoomRef forgets it. Afterwards the
// players must be free to queue again and no key of the room may remain.
//
// This fails today: players' entries "m:<match>" outlive the room, so Enqueue
// answers EnqueueInRoom for ever (the session restores to idle, retries, and
// gets "Cannot queue while loading a match" again), and the players hash,
// which has no TTL, keeps the entries for ever.
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
		if err := c.DropRoomRef(ctx, mode, "m1"); err != nil {
			t.Fatal(err)
		}

		for _, p := range []string{"p1", "p2"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e != (redisx.Entry{}) {
				t.Errorf("PlayerEntry(%s) after its room expired and was dropped: got %c:%s, want none (stranded)", p, e.Kind, e.Ref)
			}
		}
		st, _, room, err := c.Enqueue(ctx, ticket(mode, "p1", t0+200_000), t0+200_000)
		if err != nil || st != redisx.EnqueueCreated {
			t.Errorf("Enqueue(p1) after its room expired: got status %d (room %q), %v; want created", st, room, err)
		}
		_, _, _ = c.RemoveTicket(ctx, mode, "p1", "")
		if _, err := c.TakeQueueChanges(ctx, mode); err != nil {
			t.Fatal(err)
		}
		if got, want := keysUnder(t, c), []string{k.Fence(mode)}; !slices.Equal(got, want) {
			t.Errorf("keys left: got %v, want %v", got, want)
		}
	})
}
