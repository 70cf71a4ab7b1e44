package redisx_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

const (
	partyTTL  = time.Minute
	inviteTTL = time.Minute
)

// newParty creates party id led by leader, whose other members join in
// the order given (the party is open while they join, then set as asked).
func newParty(tb testing.TB, c *redisx.Client, id string, open bool, maxSize int, leader string, members ...string) redisx.Party {
	tb.Helper()
	ctx := tb.Context()
	p, err := c.PartyCreate(ctx, id, leader, true, maxSize, partyTTL)
	if err != nil {
		tb.Fatalf("PartyCreate(%s, %s): %v", id, leader, err)
	}
	for _, m := range members {
		if p, err = c.PartyJoin(ctx, id, m, "", partyTTL); err != nil {
			tb.Fatalf("PartyJoin(%s, %s): %v", id, m, err)
		}
	}
	if !open {
		// No API reopens or closes a party; a test sets the flag directly.
		do(tb, c, c.R.B().Hset().Key(c.Keys.Party(id)).FieldValue().FieldValue("open", "0").Build())
		p.Open = false
	}
	return p
}

func mustGet(tb testing.TB, c *redisx.Client, id string) redisx.Party {
	tb.Helper()
	p, ok, err := c.PartyGet(tb.Context(), id)
	if err != nil || !ok {
		tb.Fatalf("PartyGet(%s): got %v, %v; want the party", id, ok, err)
	}
	return p
}

// pointer reads a player's party pointer as stored.
func pointer(tb testing.TB, c *redisx.Client, player string) string {
	tb.Helper()
	s, _ := get(tb, c, c.Keys.PlayerParty(player))
	return s
}

func showParty(p redisx.Party) string {
	return fmt.Sprintf("{id %s leader %s members %v invited %v open %v max %d queue %q ver %d}",
		p.ID, p.Leader, p.Members, p.Invited, p.Open, p.MaxSize, p.Queue, p.Ver)
}

// partyDump renders every key of a party and of the players named, with
// its contents and whether it has a TTL, so a test can show that a refused
// call changed nothing.
func partyDump(tb testing.TB, c *redisx.Client, id string, players ...string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, k := range keysUnder(tb, c) {
		mine := strings.Contains(k, "{party:"+id+"}")
		for _, p := range players {
			mine = mine || strings.Contains(k, "{p:"+p+"}")
		}
		if !mine {
			continue
		}
		typ, _ := do(tb, c, c.R.B().Type().Key(k).Build()).ToString()
		var body string
		switch typ {
		case "string":
			body, _ = get(tb, c, k)
		case "hash":
			body = fmt.Sprint(hgetall(tb, c, k))
		case "zset":
			zs, err := do(tb, c, c.R.B().Zrange().Key(k).Min("0").Max("-1").Withscores().Build()).AsZScores()
			if err != nil {
				tb.Fatalf("ZRANGE %s: %v", k, err)
			}
			body = fmt.Sprint(zs)
		}
		out[k] = fmt.Sprintf("%s|ttl=%v|%s", typ, pttl(tb, c, k) > 0, body)
	}
	return out
}

func TestPartyCreateGetOf(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		p, err := c.PartyCreate(ctx, "P1", "alice", false, 5, partyTTL)
		if err != nil {
			t.Fatalf("PartyCreate: %v", err)
		}
		want := redisx.Party{ID: "P1", Leader: "alice", Members: []string{"alice"}, MaxSize: 5, Ver: 1}
		same := func(what string, got redisx.Party) {
			t.Helper()
			if showParty(got) != showParty(want) {
				t.Errorf("%s: got %s, want %s", what, showParty(got), showParty(want))
			}
		}
		same("PartyCreate", p)
		same("PartyGet", mustGet(t, c, "P1"))
		if got, ok, err := c.PartyOf(ctx, "alice"); err != nil || !ok {
			t.Errorf("PartyOf(alice): got %v, %v; want the party", ok, err)
		} else {
			same("PartyOf(alice)", got)
		}
		if _, ok, err := c.PartyOf(ctx, "bob"); err != nil || ok {
			t.Errorf("PartyOf(bob): got %v, %v; want false", ok, err)
		}
		if _, ok, err := c.PartyGet(ctx, "nope"); err != nil || ok {
			t.Errorf("PartyGet(nope): got %v, %v; want false", ok, err)
		}
		for _, key := range []string{k.Party("P1"), k.PartyMembers("P1"), k.PlayerParty("alice"), k.PartyIndex()} {
			if ttl := pttl(t, c, key); ttl <= 0 || ttl > partyTTL.Milliseconds() {
				t.Errorf("key %s PTTL: got %d, want in (0, %d]", key, ttl, partyTTL.Milliseconds())
			}
		}
		if created, _ := hget(t, c, k.Party("P1"), "created"); atoi(t, created) <= 0 {
			t.Errorf("created: got %q, want Redis's clock in ms", created)
		}

		// The same call again is a no-op; another party while in one is not.
		p, err = c.PartyCreate(ctx, "P1", "alice", false, 5, partyTTL)
		if err != nil {
			t.Fatalf("PartyCreate again: %v", err)
		}
		same("PartyCreate again", p)
		if _, err := c.PartyCreate(ctx, "P2", "alice", false, 5, partyTTL); !errors.Is(err, redisx.ErrInParty) {
			t.Errorf("PartyCreate(P2, alice) while in P1: got %v, want ErrInParty", err)
		}
		if exists(t, c, k.Party("P2")) || pointer(t, c, "alice") != "P1" {
			t.Errorf("after the refused create: P2 exists %v, alice's pointer %q; want no P2, P1",
				exists(t, c, k.Party("P2")), pointer(t, c, "alice"))
		}
		// Another leader's id: refused, and bob's pointer claim undone.
		if _, err := c.PartyCreate(ctx, "P1", "bob", false, 5, partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Errorf("PartyCreate(P1, bob): got %v, want ErrPartyForbidden", err)
		}
		if got := pointer(t, c, "bob"); got != "" {
			t.Errorf("bob's pointer after the refused create: got %q, want none", got)
		}
		if n, err := c.PartiesCount(ctx); err != nil || n != 1 {
			t.Errorf("PartiesCount: got %d, %v; want 1", n, err)
		}
	})
}

func TestPartyInvalidArguments(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		for name, err := range map[string]error{
			"empty id":     func() error { _, err := c.PartyCreate(ctx, "", "alice", true, 5, partyTTL); return err }(),
			"max 0":        func() error { _, err := c.PartyCreate(ctx, "P", "alice", true, 0, partyTTL); return err }(),
			"no ttl":       func() error { _, err := c.PartyJoin(ctx, "P", "alice", "", 0); return err }(),
			"empty player": func() error { _, _, err := c.PartyLeave(ctx, "P", "", "", partyTTL); return err }(),
			"no invite ttl": func() error {
				_, _, err := c.PartyInvite(ctx, "P", "alice", "bob", 0, partyTTL)
				return err
			}(),
		} {
			if !errors.Is(err, redisx.ErrPartyInvalid) {
				t.Errorf("%s: got %v, want ErrPartyInvalid", name, err)
			}
		}
		if keys := keysUnder(t, c); len(keys) != 0 {
			t.Errorf("keys after refused calls: got %v, want none", keys)
		}
	})
}

// A pointer counts only while its party lists the player: a crash between a
// party's step and the player's leaves one behind, which readers drop.
func TestPartyStalePointer(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		set := func(player, id string) {
			t.Helper()
			do(t, c, c.R.B().Set().Key(k.PlayerParty(player)).Value(id).Px(partyTTL).Build())
		}
		// A create or join that died after claiming the pointer: the party
		// never existed.
		set("alice", "ghost")
		if _, ok, err := c.PartyOf(ctx, "alice"); err != nil || ok {
			t.Errorf("PartyOf(alice) with a pointer to no party: got %v, %v; want false", ok, err)
		}
		if exists(t, c, k.PlayerParty("alice")) {
			t.Error("alice's stale pointer: still there after PartyOf, want it deleted")
		}
		set("alice", "ghost")
		if _, err := c.PartyCreate(ctx, "P1", "alice", true, 5, partyTTL); err != nil {
			t.Fatalf("PartyCreate over a stale pointer: %v", err)
		}
		if got := pointer(t, c, "alice"); got != "P1" {
			t.Errorf("alice's pointer: got %q, want P1", got)
		}

		// A join that died after the pointer: P1 exists but does not list bob.
		set("bob", "P1")
		if _, ok, err := c.PartyOf(ctx, "bob"); err != nil || ok {
			t.Errorf("PartyOf(bob) pointing at a party without him: got %v, %v; want false", ok, err)
		}
		if exists(t, c, k.PlayerParty("bob")) {
			t.Error("bob's stale pointer: still there after PartyOf, want it deleted")
		}
		set("bob", "P1")
		newParty(t, c, "P2", true, 5, "carol")
		if p, err := c.PartyJoin(ctx, "P2", "bob", "", partyTTL); err != nil || !slices.Equal(p.Members, []string{"carol", "bob"}) {
			t.Fatalf("PartyJoin(P2, bob) over a stale pointer to P1: got %s, %v", showParty(p), err)
		}

		// A leave that died after the party's step: bob left P2, his
		// pointer still names it.
		if _, _, err := c.PartyLeave(ctx, "P2", "bob", "", partyTTL); err != nil {
			t.Fatal(err)
		}
		set("bob", "P2")
		if _, ok, err := c.PartyOf(ctx, "bob"); err != nil || ok {
			t.Errorf("PartyOf(bob) after a half-done leave: got %v, %v; want false", ok, err)
		}
		// Leaving again reports that he is not a member and drops the pointer.
		set("bob", "P2")
		if _, _, err := c.PartyLeave(ctx, "P2", "bob", "", partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Errorf("PartyLeave(P2, bob) again: got %v, want ErrPartyForbidden", err)
		}
		if exists(t, c, k.PlayerParty("bob")) {
			t.Error("bob's pointer after leaving again: still there, want it deleted")
		}
		// A pointer to another live party is never dropped by a reader.
		set("carol", "P1")
		if p, ok, err := c.PartyOf(ctx, "alice"); err != nil || !ok || p.ID != "P1" {
			t.Errorf("PartyOf(alice): got %s, %v, %v; want P1", showParty(p), ok, err)
		}
	})
}

func TestPartyClosedInvitations(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		newParty(t, c, "P1", false, 5, "alice")
		if _, err := c.PartyJoin(ctx, "P1", "bob", "", partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Errorf("PartyJoin(bob) uninvited to a closed party: got %v, want ErrPartyForbidden", err)
		}
		if exists(t, c, k.PlayerParty("bob")) {
			t.Errorf("bob's pointer after the refused join: %q, want none", pointer(t, c, "bob"))
		}
		before := redisTime(t, c)
		p, inv, err := c.PartyInvite(ctx, "P1", "alice", "bob", inviteTTL, partyTTL)
		after := redisTime(t, c)
		if err != nil || !slices.Equal(p.Invited, []string{"bob"}) || p.Ver != 2 {
			t.Fatalf("PartyInvite(bob): got %s, %v; want bob invited at ver 2", showParty(p), err)
		}
		if inv.Party != "P1" || inv.From != "alice" || !inWindow(inv.ExpiresMs, before+inviteTTL.Milliseconds(), after+inviteTTL.Milliseconds()) {
			t.Errorf("invitation: got %+v, want P1 from alice expiring %d..%d", inv, before+inviteTTL.Milliseconds(), after+inviteTTL.Milliseconds())
		}
		if got, err := c.Invitations(ctx, "bob"); err != nil || !slices.Equal(got, []redisx.Invite{inv}) {
			t.Errorf("Invitations(bob): got %+v, %v; want [%+v]", got, err, inv)
		}
		if ttl := pttl(t, c, k.PlayerInvites("bob")); ttl < inviteTTL.Milliseconds()-1000 {
			t.Errorf("bob's invitations PTTL: got %d, want about %d", ttl, inviteTTL.Milliseconds())
		}
		for _, tc := range []struct{ name, by, who string }{
			{"by a non-leader", "bob", "carol"},
			{"of a member", "alice", "alice"},
		} {
			if _, _, err := c.PartyInvite(ctx, "P1", tc.by, tc.who, inviteTTL, partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
				t.Errorf("PartyInvite %s: got %v, want ErrPartyForbidden", tc.name, err)
			}
		}
		if _, _, err := c.PartyInvite(ctx, "gone", "alice", "bob", inviteTTL, partyTTL); !errors.Is(err, redisx.ErrPartyNotFound) {
			t.Errorf("PartyInvite to no party: got %v, want ErrPartyNotFound", err)
		}

		p, err = c.PartyJoin(ctx, "P1", "bob", "", partyTTL)
		if err != nil || !slices.Equal(p.Members, []string{"alice", "bob"}) || len(p.Invited) != 0 || p.Ver != 3 {
			t.Fatalf("PartyJoin(bob) invited: got %s, %v; want alice, bob, nobody invited, ver 3", showParty(p), err)
		}
		if got, err := c.Invitations(ctx, "bob"); err != nil || len(got) != 0 {
			t.Errorf("Invitations(bob) after joining: got %+v, %v; want none", got, err)
		}
		if got := pointer(t, c, "bob"); got != "P1" {
			t.Errorf("bob's pointer: got %q, want P1", got)
		}
		// Joining again changes nothing.
		if p2, err := c.PartyJoin(ctx, "P1", "bob", "", partyTTL); err != nil || showParty(p2) != showParty(p) {
			t.Errorf("PartyJoin(bob) again: got %s, %v; want %s", showParty(p2), err, showParty(p))
		}

		// An invitation whose expiry Redis's clock has passed lets nobody in
		// and is reported nowhere.
		_, inv, err = c.PartyInvite(ctx, "P1", "alice", "carol", 50*time.Millisecond, partyTTL)
		if err != nil {
			t.Fatal(err)
		}
		waitRedisPast(t, c, inv.ExpiresMs)
		if got, err := c.Invitations(ctx, "carol"); err != nil || len(got) != 0 {
			t.Errorf("Invitations(carol) expired: got %+v, %v; want none", got, err)
		}
		if n, _ := do(t, c, c.R.B().Hlen().Key(k.PlayerInvites("carol")).Build()).AsInt64(); n != 0 {
			t.Errorf("carol's invitations hash: %d entries, want the expired one pruned", n)
		}
		if p := mustGet(t, c, "P1"); len(p.Invited) != 0 {
			t.Errorf("PartyGet after carol's invitation expired: invited %v, want none", p.Invited)
		}
		if _, err := c.PartyJoin(ctx, "P1", "carol", "", partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Errorf("PartyJoin(carol) with an expired invitation: got %v, want ErrPartyForbidden", err)
		}
		if exists(t, c, k.PlayerParty("carol")) {
			t.Error("carol's pointer after the refused join: there, want none")
		}
	})
}

func TestPartyOpenAndFull(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		newParty(t, c, "P1", true, 3, "alice", "bob", "carol")
		before := partyDump(t, c, "P1", "dave")
		if _, err := c.PartyJoin(ctx, "P1", "dave", "", partyTTL); !errors.Is(err, redisx.ErrPartyFull) {
			t.Errorf("PartyJoin(dave) to a full party: got %v, want ErrPartyFull", err)
		}
		sameDump(t, before, partyDump(t, c, "P1", "dave"))
		if exists(t, c, k.PlayerParty("dave")) {
			t.Error("dave's pointer after the refused join: there, want it rolled back")
		}
		if _, _, err := c.PartyInvite(ctx, "P1", "alice", "dave", inviteTTL, partyTTL); !errors.Is(err, redisx.ErrPartyFull) {
			t.Errorf("PartyInvite(dave) to a full party: got %v, want ErrPartyFull", err)
		}
		if _, err := c.PartyJoin(ctx, "gone", "dave", "", partyTTL); !errors.Is(err, redisx.ErrPartyNotFound) {
			t.Errorf("PartyJoin to no party: got %v, want ErrPartyNotFound", err)
		}
		if exists(t, c, k.PlayerParty("dave")) {
			t.Error("dave's pointer after joining no party: there, want it rolled back")
		}
	})
}

// Members keep their join order, and the lead passes to the earliest.
func TestPartyLeaderPassesToEarliest(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		p := newParty(t, c, "P1", true, 5, "alice", "bob", "carol", "dave")
		if !slices.Equal(p.Members, []string{"alice", "bob", "carol", "dave"}) {
			t.Fatalf("members: got %v, want join order", p.Members)
		}
		var last float64
		for _, m := range p.Members {
			s, _ := zscore(t, c, k.PartyMembers("P1"), m)
			if s <= last {
				t.Errorf("join order of %s: %v, want above %v", m, s, last)
			}
			last = s
		}
		p, disbanded, err := c.PartyLeave(ctx, "P1", "alice", "", partyTTL)
		if err != nil || disbanded || p.Leader != "bob" || !slices.Equal(p.Members, []string{"bob", "carol", "dave"}) {
			t.Fatalf("PartyLeave(alice): got %s, %v, %v; want bob leading bob, carol, dave", showParty(p), disbanded, err)
		}
		if exists(t, c, k.PlayerParty("alice")) {
			t.Error("alice's pointer after leaving: there, want it deleted")
		}
		// A member who is not the leader leaves: the lead stays.
		if p, _, err = c.PartyLeave(ctx, "P1", "carol", "", partyTTL); err != nil || p.Leader != "bob" {
			t.Fatalf("PartyLeave(carol): got %s, %v; want bob leading", showParty(p), err)
		}
		// She comes back last.
		if p, err = c.PartyJoin(ctx, "P1", "carol", "", partyTTL); err != nil || !slices.Equal(p.Members, []string{"bob", "dave", "carol"}) {
			t.Fatalf("PartyJoin(carol) again: got %s, %v", showParty(p), err)
		}
		if p, _, err = c.PartyLeave(ctx, "P1", "bob", "", partyTTL); err != nil || p.Leader != "dave" {
			t.Fatalf("PartyLeave(bob): got %s, %v; want dave leading", showParty(p), err)
		}
	})
}
