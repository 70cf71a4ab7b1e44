package redisx_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// partyTicket is a party's one ticket: the leader (first) queues it for
// every member.
func partyTicket(mode, id string, queuedAt int64, players ...string) redisx.Ticket {
	tk := redisx.Ticket{ID: "tk-" + id, Player: players[0], Mode: mode, Rating: 1500, QueuedAtMs: queuedAt, Party: id}
	for i, p := range players {
		tk.Members = append(tk.Members, redisx.TicketMember{Player: p, Rating: 1400 + float64(100*i), Device: "dev-" + p})
	}
	return tk
}

func TestPartyTicketEnqueue(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "five"
		// A member holding its own ticket blocks the party: nothing written.
		enqueue(t, c, ticket(mode, "b", t0))
		pt := partyTicket(mode, "P", 0, "a", "b", "c")
		r, err := c.Enqueue(ctx, pt)
		if err != nil || r.Status != redisx.EnqueueMembersBusy || !slices.Equal(r.Busy, []string{"b"}) {
			t.Fatalf("Enqueue(party with b queued): got %+v, %v; want members busy [b]", r, err)
		}
		for _, p := range []string{"a", "c"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e.Kind != redisx.EntryNone {
				t.Errorf("refused party enqueue seated %s: %+v", p, e)
			}
		}
		if _, err := c.RemoveTicket(ctx, mode, "b", "", "", 0); err != nil {
			t.Fatal(err)
		}
		r, err = c.Enqueue(ctx, pt)
		if err != nil || r.Status != redisx.EnqueueCreated {
			t.Fatalf("Enqueue(party): got %+v, %v; want created", r, err)
		}
		for _, p := range []string{"a", "b", "c"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e != entry(redisx.EntryQueued, pt.ID) {
				t.Errorf("entry of %s: got %+v, want q:%s", p, e, pt.ID)
			}
		}
		got, ok, err := c.Ticket(ctx, mode, pt.ID)
		if err != nil || !ok || len(got.Members) != 3 || got.Party != "P" || !slices.Equal(got.Players(), []string{"a", "b", "c"}) {
			t.Fatalf("Ticket: got %+v %v %v; want the party's three members", got, ok, err)
		}
		// The leader's retry answers the same ticket.
		r, err = c.Enqueue(ctx, partyTicket(mode, "P", 0, "a", "b", "c"))
		if err != nil || r.Status != redisx.EnqueueExisting || r.Ticket.ID != pt.ID {
			t.Fatalf("retried Enqueue: got %+v, %v; want existing %s", r, err, pt.ID)
		}
	})
}

func TestPartyTicketLeavesWhole(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "five"
		pt := partyTicket(mode, "P", 0, "a", "b", "c")
		enqueue(t, c, pt)
		// Any member's cancel takes the ticket out for every member, and
		// each member's list records why.
		r, err := c.RemoveTicket(ctx, mode, "b", pt.ID, "cancelled", outcomeTTL)
		if err != nil || !r.Removed || r.Ticket != pt.ID || !slices.Equal(r.Others, []string{"a", "c"}) {
			t.Fatalf("RemoveTicket(b): got %+v, %v; want removed with others [a c]", r, err)
		}
		if _, ok, _ := c.Ticket(ctx, mode, pt.ID); ok {
			t.Errorf("party ticket still queued")
		}
		for _, p := range []string{"a", "b", "c"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e.Kind != redisx.EntryNone {
				t.Errorf("entry of %s after removal: %+v", p, e)
			}
			os := readOutcomes(t, c, mode, p)
			if len(os) != 1 || os[0].Kind != redisx.OutcomeDequeued || os[0].Ref != pt.ID || os[0].Reason != "cancelled" {
				t.Errorf("outcomes of %s: got %v, want one dequeued(cancelled) of %s", p, os, pt.ID)
			}
		}
	})
}

// formParty queues a party of three and two solos and forms them into one
// match: the party on one team, the solos on the other.
func formParty(t *testing.T, c *redisx.Client, mode, match string) redisx.Ticket {
	t.Helper()
	pt := enqueue(t, c, partyTicket(mode, "P", t0, "a", "b", "c"))
	s1 := enqueue(t, c, ticket(mode, "x", t0+1))
	s2 := enqueue(t, c, ticket(mode, "y", t0+2))
	l := lease(t, c, mode, time.Minute)
	cr, err := c.Claim(context.Background(), mode, l, claimArgs, []redisx.ClaimMatch{{
		MatchID: match, Teams: [][]string{{"a", "b", "c"}, {"x", "y"}}, Tickets: []redisx.Ticket{pt, s1, s2},
	}})
	if err != nil || !slices.Equal(cr.Formed, []bool{true}) {
		t.Fatalf("Claim: got %+v, %v; want formed", cr, err)
	}
	if _, err := c.ReleaseLock(context.Background(), mode, l.Token); err != nil {
		t.Fatal(err)
	}
	return pt
}

func TestPartyTicketClaimSeatsEveryMember(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "five"
		pt := formParty(t, c, mode, "m1")
		for _, p := range []string{"a", "b", "c", "x", "y"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e != entry(redisx.EntryInRoom, "m1") {
				t.Errorf("entry of %s: got %+v, want m:m1", p, e)
			}
		}
		room, ok, err := c.Room(ctx, mode, "m1")
		if err != nil || !ok {
			t.Fatalf("Room: %v %v", ok, err)
		}
		if ids := room.TicketIDs(); ids["a"] != pt.ID || ids["c"] != pt.ID || ids["x"] == pt.ID {
			t.Errorf("room ticket ids: %v; want a, b, c on %s", ids, pt.ID)
		}
		if zcard(t, c, c.Keys.Queue(mode)) != 0 {
			t.Errorf("queue not empty after the claim")
		}
	})
}

func TestPartyTicketClaimSkipsAPartyWithAMemberGone(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "five"
		pt := enqueue(t, c, partyTicket(mode, "P", t0, "a", "b"))
		s1 := enqueue(t, c, ticket(mode, "x", t0+1))
		s2 := enqueue(t, c, ticket(mode, "y", t0+2))
		// b's entry moved (a foreign writer): the match must not form.
		do(t, c, c.R.B().Hset().Key(c.Keys.Players(mode)).FieldValue().FieldValue("b", "q:other").Build())
		l := lease(t, c, mode, time.Minute)
		cr, err := c.Claim(ctx, mode, l, claimArgs, []redisx.ClaimMatch{{
			MatchID: "m1", Teams: [][]string{{"a", "b"}, {"x", "y"}}, Tickets: []redisx.Ticket{pt, s1, s2},
		}})
		if err != nil || !slices.Equal(cr.Formed, []bool{false}) {
			t.Fatalf("Claim: got %+v, %v; want not formed", cr, err)
		}
		if e, _ := c.PlayerEntry(ctx, mode, "a"); e != entry(redisx.EntryQueued, pt.ID) {
			t.Errorf("a left the queue: %+v", e)
		}
	})
}

func resolveCancel(t *testing.T, c *redisx.Client, mode, match string, r redisx.Resolution) redisx.ResolveResult {
	t.Helper()
	r.Outcome, r.FinishedTTL, r.OutcomeTTL = redisx.ResolveCancel, finishedTTL, outcomeTTL
	if r.Reason == "loading_timeout" {
		expireDeadline(t, c, mode, match)
	}
	res, err := c.Resolve(context.Background(), mode, match, []string{"a", "b", "c", "x", "y"}, r)
	if err != nil || res.Status != redisx.ResolveOK {
		t.Fatalf("Resolve: got %+v, %v; want ok", res, err)
	}
	return res
}

func TestPartyRequeuedWholeOnlyIfAllReady(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "five"
		pt := formParty(t, c, mode, "m1")
		// Every party member loaded; the solo y did not.
		markReady(t, c, mode, "m1", "a", "b", "c", "x")
		res := resolveCancel(t, c, mode, "m1", redisx.Resolution{Reason: "loading_timeout"})
		if !slices.Equal(res.Requeued, []string{"a", "b", "c", "x"}) || !slices.Equal(res.NoShows, []string{"y"}) {
			t.Fatalf("resolve: requeued %v no-shows %v; want [a b c x] / [y]", res.Requeued, res.NoShows)
		}
		got, ok, err := c.Ticket(ctx, mode, pt.ID)
		if err != nil || !ok || len(got.Members) != 3 || got.QueuedAtMs != t0 {
			t.Fatalf("requeued party ticket: %+v %v %v; want its three members at %d", got, ok, err, t0)
		}
		for _, p := range []string{"a", "b", "c"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e != entry(redisx.EntryQueued, pt.ID) {
				t.Errorf("entry of %s: %+v, want the party ticket", p, e)
			}
		}
	})
}

func TestPartyWithANoShowStaysOut(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "five"
		pt := formParty(t, c, mode, "m1")
		// c never loads: a and b are neither requeued nor charged; the
		// ready solos are requeued.
		markReady(t, c, mode, "m1", "a", "b", "x", "y")
		res := resolveCancel(t, c, mode, "m1", redisx.Resolution{Reason: "loading_timeout"})
		if !slices.Equal(res.Requeued, []string{"x", "y"}) || !slices.Equal(res.NoShows, []string{"c"}) {
			t.Fatalf("resolve: requeued %v no-shows %v; want [x y] / [c]", res.Requeued, res.NoShows)
		}
		if _, ok, _ := c.Ticket(ctx, mode, pt.ID); ok {
			t.Errorf("the party's ticket was requeued without c")
		}
		for _, p := range []string{"a", "b", "c"} {
			if e, _ := c.PlayerEntry(ctx, mode, p); e.Kind != redisx.EntryNone {
				t.Errorf("entry of %s: %+v, want none", p, e)
			}
			os := readOutcomes(t, c, mode, p)
			if len(os) != 1 || os[0].Requeued {
				t.Errorf("outcome of %s: %v; want one, not requeued", p, os)
			}
		}
	})
}

func TestPartyDodge(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "five"
		// A party member dodges: its mates stay out, uncharged; the solos
		// are requeued.
		formParty(t, c, mode, "m1")
		res := resolveCancel(t, c, mode, "m1", redisx.Resolution{Reason: "player_left", Leaver: "b"})
		if !slices.Equal(res.Requeued, []string{"x", "y"}) || len(res.NoShows) != 0 {
			t.Fatalf("member dodge: requeued %v no-shows %v; want [x y] / []", res.Requeued, res.NoShows)
		}
		// An outsider dodges: the party is requeued whole.
		mode = "five2"
		pt := formParty(t, c, mode, "m2")
		res = resolveCancel(t, c, mode, "m2", redisx.Resolution{Reason: "player_left", Leaver: "y"})
		if !slices.Equal(res.Requeued, []string{"a", "b", "c", "x"}) || len(res.NoShows) != 0 {
			t.Fatalf("outsider dodge: requeued %v no-shows %v; want [a b c x] / []", res.Requeued, res.NoShows)
		}
		if _, ok, _ := c.Ticket(ctx, mode, pt.ID); !ok {
			t.Errorf("party ticket not requeued after an outsider's dodge")
		}
	})
}
