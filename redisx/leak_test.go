package redisx_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// lifecycle runs a mode through a full round: six players queued, three
// matches claimed in one batch under a lease that is extended, m1 started by
// a resolve, m3 started by its last mark (MarkReadyStart), m2 cancelled with
// p3 requeued and p4 a no-show, the requeued ticket removed, p4 queued again
// (which hands over its outcome) and timed out, and the lease released.
// Every player's outcomes are then read and acknowledged, in one call, as
// the sessions of a node do.
func lifecycle(t *testing.T, c *redisx.Client, mode string) {
	t.Helper()
	ctx, k := t.Context(), c.Keys
	tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4", "p5", "p6")
	l := lease(t, c, mode, time.Minute)
	if ok, err := c.ExtendLock(ctx, mode, l.Token, time.Minute); err != nil || !ok {
		t.Fatalf("ExtendLock: got %v, %v", ok, err)
	}
	cr, err := c.Claim(ctx, mode, l, claimArgs, []redisx.ClaimMatch{
		cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"]), cm("m3", tks["p5"], tks["p6"]),
	})
	if err != nil || !slices.Equal(cr.Formed, []bool{true, true, true}) {
		t.Fatalf("Claim: got %+v, %v; want [true true true]", cr, err)
	}
	markReady(t, c, mode, "m1", "p1", "p2")
	if r, err := c.Resolve(ctx, mode, "m1", []string{"p1", "p2"}, res(redisx.ResolveStart)); err != nil || r.Status != redisx.ResolveOK {
		t.Fatalf("Resolve m1 start: got %+v, %v", r, err)
	}
	for _, p := range []string{"p5", "p6"} {
		if _, err := c.MarkReadyStart(ctx, mode, "m3", p, []string{"p5", "p6"}, 0, finishedTTL, outcomeTTL); err != nil {
			t.Fatalf("MarkReadyStart(m3, %s): %v", p, err)
		}
	}
	markReady(t, c, mode, "m2", "p3")
	expireDeadline(t, c, mode, "m2")
	r, err := c.Resolve(ctx, mode, "m2", []string{"p3", "p4"}, cancel("loading_timeout", "", false))
	if err != nil || !slices.Equal(r.Requeued, []string{"p3"}) || !slices.Equal(r.NoShows, []string{"p4"}) {
		t.Fatalf("Resolve m2 cancel: got %+v, %v; want p3 requeued, p4 a no-show", r, err)
	}
	if rm, err := c.RemoveTicket(ctx, mode, "p3", tks["p3"].ID, "cancelled", outcomeTTL); err != nil || !rm.Removed {
		t.Fatalf("RemoveTicket(p3): got %+v, %v", rm, err)
	}
	again := ticket(mode, "p4", t0+90_000)
	again.ID = "tk-p4-again"
	if er, err := c.Enqueue(ctx, again); err != nil || er.Status != redisx.EnqueueCreated || len(er.Outcomes) != 1 {
		t.Fatalf("Enqueue(p4) again: got %+v, %v; want created with m2's outcome handed over", er, err)
	}
	if rm, err := c.RemoveTicket(ctx, mode, "p4", again.ID, "timeout", outcomeTTL); err != nil || !rm.Removed {
		t.Fatalf("RemoveTicket(p4): got %+v, %v", rm, err)
	}
	// The matching leader takes the queue's change lists every tick, which
	// empties them.
	if _, err := c.TakeQueueChanges(ctx, mode, l, time.Minute); err != nil {
		t.Fatalf("TakeQueueChanges: %v", err)
	}
	if ok, err := c.ReleaseLock(ctx, mode, l.Token); err != nil || !ok {
		t.Fatalf("ReleaseLock: got %v, %v", ok, err)
	}

	// Until told, every outcome list lives at most outcomeTTL.
	acks := map[string]string{}
	for _, p := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		key := k.Outcomes(mode, p)
		if ttl := pttl(t, c, key); ttl <= 0 || ttl > outcomeTTL.Milliseconds() {
			t.Errorf("outcomes of %s PTTL: got %d, want in (0, %d]", p, ttl, outcomeTTL.Milliseconds())
		}
		out := readOutcomes(t, c, mode, p)
		if len(out) == 0 {
			t.Fatalf("outcomes of %s: none, want at least one", p)
		}
		acks[p] = out[len(out)-1].ID()
	}
	if err := c.AckOutcomes(ctx, mode, acks); err != nil {
		t.Fatalf("AckOutcomes: %v", err)
	}
}

// After a full round nothing of the mode is left but the fence counter and
// the finished room records, which expire by themselves.
func TestNoLeak(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		mode, k := "duel", c.Keys
		lifecycle(t, c, mode)
		want := []string{k.Fence(mode), k.Room(mode, "m1"), k.Room(mode, "m2"), k.Room(mode, "m3")}
		slices.Sort(want)
		got := keysUnder(t, c)
		if !slices.Equal(got, want) {
			t.Errorf("keys left: got %v, want %v", got, want)
		}
		for _, key := range got {
			ttl := pttl(t, c, key)
			switch {
			case key == k.Fence(mode):
				if ttl != -1 {
					t.Errorf("fence PTTL: got %d, want -1 (it must outlive every lease)", ttl)
				}
			case ttl <= 0 || ttl > finishedTTL.Milliseconds():
				t.Errorf("key %s PTTL: got %d, want in (0, %d]", key, ttl, finishedTTL.Milliseconds())
			}
		}
	})
}

// TestNoKeyLeaks: at every step of a round, every key of the mode either
// has a TTL or is one of the mode's shared structures, which the scripts
// delete once empty (and the fence, which must outlive every lease); a
// player's outcome list is never left without a TTL.
func TestNoKeyLeaks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		shared := map[string]bool{
			k.Queue(mode): true, k.Tickets(mode): true, k.Players(mode): true, k.Waits(mode): true,
			k.Added(mode): true, k.Removed(mode): true, k.Rooms(mode): true, k.Owners(mode): true, k.Fence(mode): true,
		}
		check := func(step string) {
			t.Helper()
			for _, key := range keysUnder(t, c) {
				if shared[key] {
					continue
				}
				if ttl := pttl(t, c, key); ttl <= 0 {
					t.Errorf("after %s: key %s has no TTL (PTTL %d)", step, key, ttl)
				}
			}
		}
		tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4")
		check("enqueue")
		l := lease(t, c, mode, time.Minute)
		if cr, err := c.Claim(ctx, mode, l, claimArgs, []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"])}); err != nil || !cr.Formed[0] || !cr.Formed[1] {
			t.Fatalf("Claim: %+v, %v", cr, err)
		}
		check("claim")
		markReady(t, c, mode, "m1", "p1")
		if _, err := c.MarkReadyStart(ctx, mode, "m1", "p2", []string{"p1", "p2"}, 0, finishedTTL, outcomeTTL); err != nil {
			t.Fatal(err)
		}
		check("start")
		if r, err := c.Resolve(ctx, mode, "m2", []string{"p3", "p4"}, cancel("player_left", "p4", false)); err != nil || r.Status != redisx.ResolveOK {
			t.Fatalf("Resolve m2: %+v, %v", r, err)
		}
		check("cancel")
		if r, err := c.RemoveTicket(ctx, mode, "p3", "", "timeout", outcomeTTL); err != nil || !r.Removed {
			t.Fatalf("RemoveTicket(p3): %+v, %v", r, err)
		}
		check("remove")
		if _, err := c.TakeQueueChanges(ctx, mode, l, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReleaseLock(ctx, mode, l.Token); err != nil {
			t.Fatal(err)
		}
		var lists []string
		for _, key := range keysUnder(t, c) {
			if strings.Contains(key, ":o:") {
				lists = append(lists, key)
			}
		}
		if want := []string{k.Outcomes(mode, "p1"), k.Outcomes(mode, "p2"), k.Outcomes(mode, "p3"), k.Outcomes(mode, "p4")}; !slices.Equal(lists, want) {
			t.Errorf("outcome lists: got %v, want %v", lists, want)
		}
		acks := map[string]string{}
		for _, p := range []string{"p1", "p2", "p3", "p4"} {
			out := readOutcomes(t, c, mode, p)
			acks[p] = out[len(out)-1].ID()
		}
		if err := c.AckOutcomes(ctx, mode, acks); err != nil {
			t.Fatal(err)
		}
		check("ack")
		left := map[string]bool{}
		for _, key := range keysUnder(t, c) {
			left[key] = true
		}
		if want := map[string]bool{k.Fence(mode): true, k.Room(mode, "m1"): true, k.Room(mode, "m2"): true}; !maps.Equal(left, want) {
			t.Errorf("keys left after the acks: got %v, want %v", slices.Sorted(maps.Keys(left)), slices.Sorted(maps.Keys(want)))
		}
	})
}

// TestPartyNoKeyLeaks: at every step of parties' lives every key has a TTL
// (so a party whose members' nodes all died expires by itself), and a
// party's end deletes its keys and its members' pointers; what is left is
// invitation lists, each expiring with its newest invitation.
func TestPartyNoKeyLeaks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		check := func(step string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			for _, key := range keysUnder(t, c) {
				if ttl := pttl(t, c, key); ttl <= 0 {
					t.Errorf("after %s: key %s has no TTL (PTTL %d)", step, key, ttl)
				}
			}
		}
		_, err := c.PartyCreate(ctx, "P1", "alice", false, 3, partyTTL)
		check("create P1", err)
		_, err = c.PartyCreate(ctx, "P2", "erin", true, 3, partyTTL)
		check("create P2", err)
		_, _, err = c.PartyInvite(ctx, "P1", "alice", "bob", inviteTTL, partyTTL)
		check("invite bob", err)
		_, _, err = c.PartyInvite(ctx, "P1", "alice", "carol", inviteTTL, partyTTL)
		check("invite carol", err)
		_, err = c.PartyJoin(ctx, "P1", "bob", "", partyTTL)
		check("join bob", err)
		_, err = c.PartyJoin(ctx, "P1", "dave", "", partyTTL)
		if !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Fatalf("join dave uninvited: got %v, want ErrPartyForbidden", err)
		}
		check("refused join", nil)
		_, err = c.PartyJoin(ctx, "P2", "carol", "", partyTTL)
		check("join carol to P2", err)
		p, err := c.PartyMarkQueued(ctx, "P2", "erin", "duel|t1", 2, partyTTL)
		check("mark P2", err)
		_, err = c.PartyKick(ctx, "P2", "erin", "carol", p.Queue, partyTTL)
		check("kick carol", err)
		_, err = c.PartyTouch(ctx, "P1", "bob", partyTTL)
		check("touch", err)
		_, _, err = c.PartyLeave(ctx, "P1", "alice", "", partyTTL)
		check("leave alice", err)
		_, _, err = c.PartyLeave(ctx, "P1", "bob", "", partyTTL)
		check("leave bob (P1 ends)", err)
		_, _, err = c.PartyLeave(ctx, "P2", "erin", "", partyTTL)
		check("leave erin (P2 ends)", err)
		// Only carol's invitation to P1 is left, in her own list.
		if got, want := keysUnder(t, c), []string{k.PlayerInvites("carol")}; !slices.Equal(got, want) {
			t.Errorf("keys left after both parties ended: got %v, want %v", got, want)
		}
		if ttl := pttl(t, c, k.PlayerInvites("carol")); ttl > inviteTTL.Milliseconds() {
			t.Errorf("carol's invitations PTTL: got %d, want at most %d", ttl, inviteTTL.Milliseconds())
		}
	})
}
