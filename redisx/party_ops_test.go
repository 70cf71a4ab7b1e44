package redisx_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/matchd/matchd/redisx"
)

func TestPartyInvitationsOrderAndPrune(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		var want []redisx.Invite
		for i, leader := range []string{"a1", "a2", "a3"} {
			id := fmt.Sprintf("P%d", i)
			newParty(t, c, id, false, 5, leader)
			_, inv, err := c.PartyInvite(ctx, id, leader, "zoe", inviteTTL, partyTTL)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, inv)
			// The next invitation must expire later: wait for Redis's clock.
			waitRedisPast(t, c, redisTime(t, c))
		}
		if got, err := c.Invitations(ctx, "zoe"); err != nil || !slices.Equal(got, want) {
			t.Errorf("Invitations(zoe): got %+v, %v; want %+v", got, err, want)
		}
		// P1's invitation lapsed (expiry put behind Redis's clock in both lists).
		do(t, c, c.R.B().Hset().Key(k.PlayerInvites("zoe")).FieldValue().FieldValue("P1", "a2|1").Build())
		if got, err := c.Invitations(ctx, "zoe"); err != nil || !slices.Equal(got, []redisx.Invite{want[0], want[2]}) {
			t.Errorf("Invitations(zoe) with P1's lapsed: got %+v, %v; want %+v", got, err, []redisx.Invite{want[0], want[2]})
		}
		if _, ok := hget(t, c, k.PlayerInvites("zoe"), "P1"); ok {
			t.Error("the lapsed invitation: still in zoe's hash, want it pruned")
		}
	})
}

func TestPartyKick(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		newParty(t, c, "P1", true, 5, "alice", "bob", "carol")
		for _, tc := range []struct{ name, by, target string }{
			{"by a non-leader", "bob", "carol"},
			{"of the leader", "alice", "alice"},
			{"of a non-member", "alice", "zed"},
		} {
			before := partyDump(t, c, "P1", "alice", "bob", "carol")
			if _, err := c.PartyKick(ctx, "P1", tc.by, tc.target, "", partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
				t.Errorf("PartyKick %s: got %v, want ErrPartyForbidden", tc.name, err)
			}
			sameDump(t, before, partyDump(t, c, "P1", "alice", "bob", "carol"))
		}
		p, err := c.PartyKick(ctx, "P1", "alice", "carol", "", partyTTL)
		if err != nil || !slices.Equal(p.Members, []string{"alice", "bob"}) || p.Leader != "alice" {
			t.Fatalf("PartyKick(carol): got %s, %v; want alice, bob", showParty(p), err)
		}
		if exists(t, c, k.PlayerParty("carol")) {
			t.Error("carol's pointer after the kick: there, want it deleted")
		}
		if got := pointer(t, c, "bob"); got != "P1" {
			t.Errorf("bob's pointer: got %q, want P1", got)
		}
		if _, err := c.PartyKick(ctx, "gone", "alice", "bob", "", partyTTL); !errors.Is(err, redisx.ErrPartyNotFound) {
			t.Errorf("PartyKick in no party: got %v, want ErrPartyNotFound", err)
		}
	})
}

func TestPartyPromote(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		p0 := newParty(t, c, "P1", true, 5, "alice", "bob")
		p, err := c.PartyPromote(ctx, "P1", "alice", "bob", partyTTL)
		if err != nil || p.Leader != "bob" || p.Ver != p0.Ver+1 || !slices.Equal(p.Members, p0.Members) {
			t.Fatalf("PartyPromote(bob): got %s, %v; want bob leading, ver %d", showParty(p), err, p0.Ver+1)
		}
		if _, err := c.PartyPromote(ctx, "P1", "alice", "alice", partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Errorf("PartyPromote by the former leader: got %v, want ErrPartyForbidden", err)
		}
		if _, err := c.PartyPromote(ctx, "P1", "bob", "zed", partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Errorf("PartyPromote of a non-member: got %v, want ErrPartyForbidden", err)
		}
		// Promotion keeps the queue marker: the members did not change.
		if _, err := c.PartyMarkQueued(ctx, "P1", "bob", "duel|t1", p.Ver, partyTTL); err != nil {
			t.Fatal(err)
		}
		if p, err = c.PartyPromote(ctx, "P1", "bob", "alice", partyTTL); err != nil || p.Leader != "alice" || p.Queue != "duel|t1" {
			t.Errorf("PartyPromote(alice) while queued: got %s, %v; want alice leading, marker kept", showParty(p), err)
		}
	})
}

// The last member's leave deletes every key of the party and its index
// entry.
func TestPartyDisband(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		newParty(t, c, "P1", false, 5, "alice", "bob")
		newParty(t, c, "P2", true, 5, "carol")
		if _, _, err := c.PartyInvite(ctx, "P1", "alice", "dave", inviteTTL, partyTTL); err != nil {
			t.Fatal(err)
		}
		if n, err := c.PartiesCount(ctx); err != nil || n != 2 {
			t.Fatalf("PartiesCount: got %d, %v; want 2", n, err)
		}
		if _, d, err := c.PartyLeave(ctx, "P1", "bob", "", partyTTL); err != nil || d {
			t.Fatalf("PartyLeave(bob): got disbanded %v, %v; want false", d, err)
		}
		p, d, err := c.PartyLeave(ctx, "P1", "alice", "", partyTTL)
		if err != nil || !d || p.ID != "P1" || len(p.Members) != 0 {
			t.Fatalf("PartyLeave(alice), the last: got %s, disbanded %v, %v; want P1 disbanded", showParty(p), d, err)
		}
		for _, key := range keysUnder(t, c) {
			if strings.Contains(key, "{party:P1}") {
				t.Errorf("key %s left after P1 ended", key)
			}
		}
		if exists(t, c, k.PlayerParty("alice")) || exists(t, c, k.PlayerParty("bob")) {
			t.Error("a pointer to P1 is left after it ended")
		}
		if _, ok := zscore(t, c, k.PartyIndex(), "P1"); ok {
			t.Error("P1 still in the index after it ended")
		}
		if n, err := c.PartiesCount(ctx); err != nil || n != 1 {
			t.Errorf("PartiesCount after P1 ended: got %d, %v; want 1", n, err)
		}
		if _, ok, err := c.PartyGet(ctx, "P1"); err != nil || ok {
			t.Errorf("PartyGet(P1) after it ended: got %v, %v; want false", ok, err)
		}
		if _, _, err := c.PartyLeave(ctx, "P1", "alice", "", partyTTL); !errors.Is(err, redisx.ErrPartyNotFound) {
			t.Errorf("PartyLeave(P1) after it ended: got %v, want ErrPartyNotFound", err)
		}
		// dave's invitation outlives the party in his own list; joining tells
		// him it ended.
		if _, err := c.PartyJoin(ctx, "P1", "dave", "", partyTTL); !errors.Is(err, redisx.ErrPartyNotFound) {
			t.Errorf("PartyJoin(P1) after it ended: got %v, want ErrPartyNotFound", err)
		}
	})
}

// A membership change while the party is queued must take its ticket out
// first: a caller whose marker is not the party's is told so and nothing
// changes.
func TestPartyQueueMarker(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		p := newParty(t, c, "P1", true, 5, "alice", "bob", "carol")
		if _, err := c.PartyMarkQueued(ctx, "P1", "alice", "duel|t1", p.Ver-1, partyTTL); !errors.Is(err, redisx.ErrPartyStale) {
			t.Errorf("PartyMarkQueued with an old ver: got %v, want ErrPartyStale", err)
		}
		if _, err := c.PartyMarkQueued(ctx, "P1", "bob", "duel|t1", p.Ver, partyTTL); !errors.Is(err, redisx.ErrPartyForbidden) {
			t.Errorf("PartyMarkQueued by a non-leader: got %v, want ErrPartyForbidden", err)
		}
		q, err := c.PartyMarkQueued(ctx, "P1", "alice", "duel|t1", p.Ver, partyTTL)
		if err != nil || q.Queue != "duel|t1" || q.Ver != p.Ver+1 {
			t.Fatalf("PartyMarkQueued: got %s, %v; want marker duel|t1 at ver %d", showParty(q), err, p.Ver+1)
		}
		if again, err := c.PartyMarkQueued(ctx, "P1", "alice", "duel|t1", p.Ver, partyTTL); err != nil || showParty(again) != showParty(q) {
			t.Errorf("PartyMarkQueued again: got %s, %v; want %s unchanged", showParty(again), err, showParty(q))
		}
		everyone := []string{"alice", "bob", "carol", "dave"}
		for name, call := range map[string]func(string) (redisx.Party, error){
			"join": func(m string) (redisx.Party, error) { return c.PartyJoin(ctx, "P1", "dave", m, partyTTL) },
			"leave": func(m string) (redisx.Party, error) {
				p, _, err := c.PartyLeave(ctx, "P1", "bob", m, partyTTL)
				return p, err
			},
			"kick": func(m string) (redisx.Party, error) { return c.PartyKick(ctx, "P1", "alice", "carol", m, partyTTL) },
		} {
			for _, m := range []string{"", "duel|t0"} {
				before := partyDump(t, c, "P1", everyone...)
				got, err := call(m)
				if !errors.Is(err, redisx.ErrPartyStale) || got.Queue != "duel|t1" {
					t.Errorf("%s expecting %q while queued with duel|t1: got %s, %v; want ErrPartyStale and the marker seen", name, m, showParty(got), err)
				}
				sameDump(t, before, partyDump(t, c, "P1", everyone...))
			}
		}
		// With the marker it saw, the join goes through and clears it.
		j, err := c.PartyJoin(ctx, "P1", "dave", "duel|t1", partyTTL)
		if err != nil || j.Queue != "" || !slices.Contains(j.Members, "dave") || j.Ver != q.Ver+1 {
			t.Fatalf("PartyJoin(dave) with the marker: got %s, %v; want dave in, marker cleared", showParty(j), err)
		}
		if _, err := c.PartyMarkQueued(ctx, "P1", "alice", "duel|t2", j.Ver, partyTTL); err != nil {
			t.Fatal(err)
		}
		if ok, err := c.PartyClearQueued(ctx, "P1", "duel|t1"); err != nil || ok {
			t.Errorf("PartyClearQueued of another marker: got %v, %v; want false", ok, err)
		}
		if ok, err := c.PartyClearQueued(ctx, "P1", "duel|t2"); err != nil || !ok {
			t.Errorf("PartyClearQueued: got %v, %v; want true", ok, err)
		}
		if p := mustGet(t, c, "P1"); p.Queue != "" || p.Ver != j.Ver+2 {
			t.Errorf("after PartyClearQueued: got %s, want no marker at ver %d", showParty(p), j.Ver+2)
		}
		if ok, err := c.PartyClearQueued(ctx, "P1", "duel|t2"); err != nil || ok {
			t.Errorf("PartyClearQueued again: got %v, %v; want false", ok, err)
		}
		if ok, err := c.PartyClearQueued(ctx, "gone", "duel|t2"); err != nil || ok {
			t.Errorf("PartyClearQueued of no party: got %v, %v; want false", ok, err)
		}
		// Leave and kick with the marker in place clear it.
		for _, step := range []func(string) (redisx.Party, error){
			func(m string) (redisx.Party, error) {
				p, _, err := c.PartyLeave(ctx, "P1", "bob", m, partyTTL)
				return p, err
			},
			func(m string) (redisx.Party, error) { return c.PartyKick(ctx, "P1", "alice", "carol", m, partyTTL) },
		} {
			cur := mustGet(t, c, "P1")
			if _, err := c.PartyMarkQueued(ctx, "P1", "alice", "duel|t3", cur.Ver, partyTTL); err != nil {
				t.Fatal(err)
			}
			if got, err := step("duel|t3"); err != nil || got.Queue != "" || len(got.Members) != len(cur.Members)-1 {
				t.Errorf("a change with the marker: got %s, %v; want one member fewer, marker cleared", showParty(got), err)
			}
		}
	})
}

func TestPartyTouch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		newParty(t, c, "P1", false, 5, "alice", "bob")
		if _, _, err := c.PartyInvite(ctx, "P1", "alice", "carol", inviteTTL, partyTTL); err != nil {
			t.Fatal(err)
		}
		keys := []string{k.Party("P1"), k.PartyMembers("P1"), k.PartyInvited("P1"), k.PlayerParty("bob")}
		for _, key := range keys {
			do(t, c, c.R.B().Pexpire().Key(key).Milliseconds(5000).Build())
		}
		do(t, c, c.R.B().Zadd().Key(k.PartyIndex()).ScoreMember().ScoreMember(1, "P1").Build())
		// Redis lost bob's pointer; a touch puts it back.
		do(t, c, c.R.B().Del().Key(k.PlayerParty("bob")).Build())
		before := redisTime(t, c)
		if ok, err := c.PartyTouch(ctx, "P1", "bob", partyTTL); err != nil || !ok {
			t.Fatalf("PartyTouch(bob): got %v, %v; want true", ok, err)
		}
		for _, key := range keys {
			if ttl := pttl(t, c, key); ttl <= 5000 || ttl > partyTTL.Milliseconds() {
				t.Errorf("key %s PTTL after a touch: got %d, want in (5000, %d]", key, ttl, partyTTL.Milliseconds())
			}
		}
		if s, _ := zscore(t, c, k.PartyIndex(), "P1"); int64(s) < before+partyTTL.Milliseconds() {
			t.Errorf("index entry after a touch: got %v, want at least %d", s, before+partyTTL.Milliseconds())
		}
		if got := pointer(t, c, "bob"); got != "P1" {
			t.Errorf("bob's pointer after a touch: got %q, want P1", got)
		}
		// A non-member's touch renews nothing and names no party.
		if ok, err := c.PartyTouch(ctx, "P1", "carol", partyTTL); err != nil || ok {
			t.Errorf("PartyTouch(carol), invited only: got %v, %v; want false", ok, err)
		}
		if exists(t, c, k.PlayerParty("carol")) {
			t.Error("carol's pointer after her touch: there, want none")
		}
		if ok, err := c.PartyTouch(ctx, "gone", "bob", partyTTL); err != nil || ok {
			t.Errorf("PartyTouch of no party: got %v, %v; want false", ok, err)
		}
		if _, ok := zscore(t, c, k.PartyIndex(), "gone"); ok {
			t.Error("a touch of no party listed it in the index")
		}
	})
}

// The index counts live parties; an entry whose TTL passed (every node of
// its members died) is not counted and leaves.
func TestPartiesCount(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, k := t.Context(), c.Keys
		if n, err := c.PartiesCount(ctx); err != nil || n != 0 {
			t.Errorf("PartiesCount with none: got %d, %v; want 0", n, err)
		}
		for _, id := range []string{"P1", "P2", "P3"} {
			newParty(t, c, id, true, 5, "lead-"+id)
		}
		do(t, c, c.R.B().Zadd().Key(k.PartyIndex()).ScoreMember().ScoreMember(1, "dead").Build())
		if n, err := c.PartiesCount(ctx); err != nil || n != 3 {
			t.Errorf("PartiesCount: got %d, %v; want 3", n, err)
		}
		if _, ok := zscore(t, c, k.PartyIndex(), "dead"); ok {
			t.Error("an expired index entry: still there after counting, want it pruned")
		}
	})
}

// Twenty players join an open party of five at once: exactly four get in,
// and only they point at it.
func TestPartyConcurrentJoins(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		newParty(t, c, "P1", true, 5, "leader")
		errs := make([]error, 20)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = c.PartyJoin(ctx, "P1", player(i), "", partyTTL)
			})
		}
		wg.Wait()
		var in []string
		for i, err := range errs {
			switch {
			case err == nil:
				in = append(in, player(i))
			case !errors.Is(err, redisx.ErrPartyFull):
				t.Errorf("PartyJoin(%s): got %v, want nil or ErrPartyFull", player(i), err)
			}
		}
		if len(in) != 4 {
			t.Fatalf("joined: got %v, want 4 of them", in)
		}
		p := mustGet(t, c, "P1")
		if got := slices.Sorted(slices.Values(p.Members[1:])); p.Members[0] != "leader" || !slices.Equal(got, in) {
			t.Errorf("members: got %v, want leader then %v", p.Members, in)
		}
		for i := range errs {
			want := ""
			if errs[i] == nil {
				want = "P1"
			}
			if got := pointer(t, c, player(i)); got != want {
				t.Errorf("%s's pointer: got %q, want %q", player(i), got, want)
			}
		}
	})
}

func player(i int) string { return "j" + string(rune('a'+i)) }

// A foreign writer's corrupt party reads as ErrBadReply, never as a party.
func TestPartyBadReply(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		newParty(t, c, "P1", true, 5, "alice")
		do(t, c, c.R.B().Hset().Key(c.Keys.Party("P1")).FieldValue().FieldValue("max", "five").Build())
		if _, ok, err := c.PartyGet(t.Context(), "P1"); !errors.Is(err, redisx.ErrBadReply) || ok {
			t.Errorf("PartyGet of a corrupt party: got %v, %v; want ErrBadReply", ok, err)
		}
	})
}
