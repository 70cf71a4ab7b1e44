package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Parties' requests and refusals end to end (docs/protocol.md section
// 9.6): two nodes on one redis-server, each party's members spread over
// both, so every party change crosses nodes.

// TestPartyInviteOfflineAfterWelcome: an invitation to a player who is
// not connected reaches it after its next welcome, on whichever node it
// connects to, while the invitation lasts; once it has lapsed a new
// welcome brings none, and joining is refused.
func TestPartyInviteOfflineAfterWelcome(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{Duel()}, map[string]any{"party.invite_ttl": "4s"})
	leader := Dial(t, n1, "pi-leader", 1000, "")
	party := formParty(t, leader)
	okParty(t, leader, "party_invite of an offline player")(leader.cl.PartyInvite(opCtx(t), "pi-offline"))

	off := Dial(t, n2, "pi-offline", 1000, "")
	inv := off.NextIs(t, protocol.TypePartyInvited)
	if inv.Str("party_id") != party || inv.Str("from") != leader.Player || inv.Int("expires_ms") <= off.Welcome.Int("server_time_ms") {
		t.Fatalf("after the welcome %s: %s, want party_invite to %s from %s, still lasting", off.Welcome, inv, party, leader.Player)
	}
	if _, ok := off.Welcome.Obj("state")["party_id"]; ok {
		t.Errorf("welcome of an invited player %s names a party: an invitation is not membership", off.Welcome)
	}
	off.Close()

	// The invitation lapses (the leader's view of the party drops it, by
	// Redis's clock); a later welcome no longer brings it.
	eventually(t, 15*time.Second, "the invitation to lapse", func() error {
		p, err := leader.cl.PartyJoin(opCtx(t), party) // a member's join of its own party reads it
		if err != nil {
			return err
		}
		if len(p.Invited) != 0 {
			return fmt.Errorf("still invited: %v", p.Invited)
		}
		return nil
	})
	off = Dial(t, n1, "pi-offline", 1000, "")
	if st := off.Sync(t); StateName(st) != protocol.StateIdle {
		t.Fatalf("sync after the lapse: %s", st)
	}
	for _, f := range off.Frames() {
		if f.Type() == protocol.TypePartyInvited {
			t.Fatalf("a lapsed invitation was delivered: %s\n%s", f, off.Dump())
		}
	}
	refusedWith(t, off, "party_join on a lapsed invitation", protocol.CodeForbidden)(off.cl.PartyJoin(opCtx(t), party))
}

// TestPartyClosedAndFull: a closed party refuses a stranger FORBIDDEN; an
// unknown party is NOT_FOUND; at party.max_size (2 here) both a join and
// an invitation are refused PARTY_FULL, although invitations alone do not
// count toward the size. An open party lets anyone in up to its size.
func TestPartyClosedAndFull(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{Duel()}, map[string]any{"party.max_size": 2})
	leader := Dial(t, n1, "pf-leader", 1000, "")
	stranger := Dial(t, n2, "pf-stranger", 1000, "")
	mate := Dial(t, n2, "pf-mate", 1000, "")
	late := Dial(t, n1, "pf-late", 1000, "")

	p := okParty(t, leader, "party_create")(leader.cl.PartyCreate(opCtx(t), false))
	if p.MaxSize != 2 || p.Open {
		t.Fatalf("party_create reply %+v, want closed, max_size 2", p)
	}
	refusedWith(t, stranger, "party_join of a closed party, uninvited", protocol.CodeForbidden)(stranger.cl.PartyJoin(opCtx(t), p.PartyID))
	refusedWith(t, stranger, "party_join of no party", protocol.CodeNotFound)(stranger.cl.PartyJoin(opCtx(t), "no-such-party"))

	// Two invitations to a party of one: invitations do not count.
	okParty(t, leader, "party_invite mate")(leader.cl.PartyInvite(opCtx(t), mate.Player))
	inv := okParty(t, leader, "party_invite late")(leader.cl.PartyInvite(opCtx(t), late.Player))
	if !slices.Equal(inv.Invited, []string{mate.Player, late.Player}) {
		t.Fatalf("invited %v, want [%s %s]", inv.Invited, mate.Player, late.Player)
	}
	j := okParty(t, mate, "party_join")(mate.cl.PartyJoin(opCtx(t), p.PartyID))
	if !slices.Equal(j.Members, []string{leader.Player, mate.Player}) {
		t.Fatalf("members %v after the join", j.Members)
	}
	expectParty(t, leader, "the mate joined", partyIs(p.PartyID, leader.Player, leader.Player, mate.Player))
	refusedWith(t, late, "party_join of a full party", protocol.CodePartyFull)(late.cl.PartyJoin(opCtx(t), p.PartyID))
	refusedWith(t, leader, "party_invite into a full party", protocol.CodePartyFull)(leader.cl.PartyInvite(opCtx(t), stranger.Player))
	wantState(t, late, protocol.StateIdle, "")
	wantState(t, mate, protocol.StateIdle, p.PartyID)

	// An open party: no invitation needed, the size still holds.
	open := okParty(t, late, "party_create open")(late.cl.PartyCreate(opCtx(t), true))
	if !open.Open {
		t.Fatalf("party_create open reply %+v", open)
	}
	okParty(t, stranger, "party_join of an open party")(stranger.cl.PartyJoin(opCtx(t), open.PartyID))
	third := Dial(t, n2, "pf-third", 1000, "")
	refusedWith(t, third, "party_join of a full open party", protocol.CodePartyFull)(third.cl.PartyJoin(opCtx(t), open.PartyID))
}

// TestPartyMemberEnqueueAndTooLarge: a member's own enqueue is FORBIDDEN;
// the leader's enqueue of a party of five for a mode of teams of one is
// PARTY_TOO_LARGE. Nobody is queued by either.
func TestPartyMemberEnqueueAndTooLarge(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{Duel()}, nil)
	var cs []*Client
	for i, n := range []*Node{n1, n2, n1, n2, n1} {
		cs = append(cs, Dial(t, n, fmt.Sprintf("pq-%d", i), 1000, ""))
	}
	party := formParty(t, cs[0], cs[1:]...)
	rid := cs[1].Req(t, protocol.TypeEnqueue, "mode", "duel")
	cs[1].ExpectError(t, rid, protocol.CodeForbidden)
	rid = cs[0].Req(t, protocol.TypeEnqueue, "mode", "duel")
	cs[0].ExpectError(t, rid, protocol.CodePartyTooLarge)
	for _, c := range cs {
		wantState(t, c, protocol.StateIdle, party)
	}
}

// TestPartyMemberQueuedAloneNotReady: a member who queued alone before it
// joined blocks its party's enqueue with PARTY_NOT_READY naming it, and
// keeps its own ticket; once it cancels, the party queues, every member
// with the leader's ticket.
func TestPartyMemberQueuedAloneNotReady(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("squad", 2)}, nil)
	leader := Dial(t, n1, "pn-leader", 1000, "")
	solo := Dial(t, n2, "pn-solo", 1000, "")
	rid := solo.Req(t, protocol.TypeEnqueue, "mode", "squad")
	own := solo.ExpectRid(t, protocol.TypeQueued, rid)
	party := formParty(t, leader, solo)

	rid = leader.Req(t, protocol.TypeEnqueue, "mode", "squad")
	e := leader.ExpectError(t, rid, protocol.CodePartyNotReady)
	if !slices.Equal(e.Strings("players"), []string{solo.Player}) {
		t.Fatalf("PARTY_NOT_READY %s, want players [%s]", e, solo.Player)
	}
	wantState(t, leader, protocol.StateIdle, party)
	if st := syncState(t, solo); st["name"] != protocol.StateQueued || st["ticket_id"] != own.Str("ticket_id") {
		t.Fatalf("%s: state %v, want still queued with its own ticket %s", solo.Player, st, own.Str("ticket_id"))
	}

	rid = solo.Req(t, protocol.TypeCancel)
	solo.ExpectRid(t, protocol.TypeDequeued, rid)
	q := queueParty(t, "squad", leader, solo)
	if q.Str("ticket_id") == own.Str("ticket_id") {
		t.Fatalf("the party was queued with the member's own ticket %s", q)
	}
}

// TestPartyBannedMemberBlocks: a member banned for a no-show (a one-step
// ladder: the first violation bans for a minute) blocks its party's
// enqueue: BANNED, players naming it, retry_after_ms its ban's.
func TestPartyBannedMemberBlocks(t *testing.T) {
	t.Parallel()
	duel := Duel()
	duel.LoadingTimeout = time.Second
	n1, n2 := partyNodes(t, []Mode{duel, teamMode("squad", 2)},
		map[string]any{"sanctions.ladder": []string{"1m"}, "sanctions.decay": "1h"})
	leader := Dial(t, n1, "pb-leader", 1000, "dev-pb-leader")
	banned := Dial(t, n2, "pb-banned", 1000, "dev-pb-banned")
	noShowOnce(t, n1, banned, "pb-opponent")
	rec, _ := getSanctions(t, n2, "/admin/sanctions/"+banned.Player)
	if len(rec.Violations) != 1 || rec.BannedForMs <= 0 {
		t.Fatalf("%s's sanctions %+v, want one violation and a ban", banned.Player, rec)
	}
	party := formParty(t, leader, banned)

	rid := leader.Req(t, protocol.TypeEnqueue, "mode", "squad")
	e := leader.ExpectError(t, rid, protocol.CodeBanned)
	if !slices.Equal(e.Strings("players"), []string{banned.Player}) {
		t.Errorf("BANNED %s, want players [%s]", e, banned.Player)
	}
	if ms := e.Int("retry_after_ms"); ms <= 0 || ms > 60_000 {
		t.Errorf("BANNED retry_after_ms %d, want the member's ban, in (0, 60000]", ms)
	}
	wantState(t, leader, protocol.StateIdle, party)
	wantState(t, banned, protocol.StateIdle, party)
	if v := violations(t, n1, leader.Player); v != 0 {
		t.Errorf("the leader has %d violations, want none", v)
	}
}

// TestPartyJoinWhileQueued: a join while the party is queued takes its
// ticket out first: every member is sent dequeued (party_changed) with the
// ticket, the newcomer is in, and the party is in no queue. Queued again,
// all three get the new ticket; a member's cancel takes it out for all.
func TestPartyJoinWhileQueued(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("trio", 3)}, nil)
	leader := Dial(t, n1, "pj-leader", 1000, "")
	mate := Dial(t, n2, "pj-mate", 1000, "")
	newcomer := Dial(t, n2, "pj-new", 1000, "")
	party := formParty(t, leader, mate)
	okParty(t, leader, "party_invite")(leader.cl.PartyInvite(opCtx(t), newcomer.Player))
	newcomer.Expect(t, protocol.TypePartyInvited)
	q := queueParty(t, "trio", leader, mate)

	j := okParty(t, newcomer, "party_join of a queued party")(newcomer.cl.PartyJoin(opCtx(t), party))
	all := []string{leader.Player, mate.Player, newcomer.Player}
	if !slices.Equal(j.Members, all) {
		t.Fatalf("party_join reply %+v, want members %v", j, all)
	}
	for _, c := range []*Client{leader, mate} {
		d := c.ExpectFuncErrT(t, "dequeued", func(f Frame) bool { return f.Type() == protocol.TypeDequeued })
		if d.Str("reason") != protocol.ReasonPartyChanged || d.Str("ticket_id") != q.Str("ticket_id") || d.Str("mode") != "trio" {
			t.Fatalf("%s: %s, want dequeued party_changed of %s", c.Player, d, q.Str("ticket_id"))
		}
		expectParty(t, c, "the newcomer joined", partyIs(party, leader.Player, all...))
	}
	for _, c := range []*Client{leader, mate, newcomer} {
		wantState(t, c, protocol.StateIdle, party)
	}
	eventually(t, 5*time.Second, "no ticket for any member in Redis", func() error {
		for _, p := range all {
			tk, err := debugTicket(t, n1, p)
			if err != nil {
				return err
			}
			if tk != nil {
				return fmt.Errorf("%s holds %v", p, tk)
			}
		}
		return nil
	})

	q2 := queueParty(t, "trio", leader, mate, newcomer)
	if q2.Str("ticket_id") == q.Str("ticket_id") {
		t.Fatalf("queued again with the removed ticket: %s", q2)
	}
	rid := leader.Req(t, protocol.TypeEnqueue, "mode", "trio")
	if again := leader.ExpectRid(t, protocol.TypeQueued, rid); again.Str("ticket_id") != q2.Str("ticket_id") {
		t.Fatalf("the leader's repeated enqueue: %s, want the same ticket %s", again, q2.Str("ticket_id"))
	}
	rid = newcomer.Req(t, protocol.TypeCancel)
	if d := newcomer.ExpectRid(t, protocol.TypeDequeued, rid); d.Str("reason") != protocol.ReasonCancelled || d.Str("ticket_id") != q2.Str("ticket_id") {
		t.Fatalf("a member's cancel: %s", d)
	}
	for _, c := range []*Client{leader, mate} {
		d := c.ExpectFuncErrT(t, "dequeued", func(f Frame) bool { return f.Type() == protocol.TypeDequeued })
		if d.Str("reason") != protocol.ReasonCancelled || d.Str("ticket_id") != q2.Str("ticket_id") {
			t.Fatalf("%s: %s, want dequeued cancelled of %s", c.Player, d, q2.Str("ticket_id"))
		}
		wantState(t, c, protocol.StateIdle, party)
	}
}

// TestPartyLeavesInARow: the members of a party spread over both nodes
// leave one right after another, each as soon as the previous leave was
// answered, the leader first. Each is answered party_left and then stands
// in no party: no party frame follows its party_left (the news of the
// leaves before its own, still on their way, is not taken for its party),
// and its state names none. The last leave ends the party.
func TestPartyLeavesInARow(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{Duel()}, nil)
	leader := Dial(t, n1, "pr-leader", 1000, "")
	m1 := Dial(t, n2, "pr-m1", 1000, "")
	m2 := Dial(t, n1, "pr-m2", 1000, "")
	m3 := Dial(t, n2, "pr-m3", 1000, "")
	party := formParty(t, leader, m1, m2, m3)
	all := []*Client{leader, m1, m2, m3}
	for _, c := range all {
		l, err := c.cl.PartyLeave(opCtx(t))
		if err != nil || l.PartyID != party || l.Reason != protocol.PartyLeftLeft {
			t.Fatalf("%s: party_leave: %+v, %v", c.Player, l, err)
		}
	}
	for _, c := range all {
		wantState(t, c, protocol.StateIdle, "")
		frames := c.Frames()
		left := slices.IndexFunc(frames, func(f Frame) bool { return f.Type() == protocol.TypePartyLeft })
		for _, f := range frames[left+1:] {
			if f.Type() == protocol.TypeParty {
				t.Errorf("%s: a party frame after its party_left: %s\n%s", c.Player, f, c.Dump())
			}
		}
	}
	refusedWith(t, leader, "party_join of the ended party", protocol.CodeNotFound)(leader.cl.PartyJoin(opCtx(t), party))
}

// TestPartyPromoteAndKick: only the leader invites, kicks and promotes; a
// promotion moves the lead (every member is told), after which the old
// leader is a member like any other (its enqueue is FORBIDDEN); the new
// leader's kick sends the removed member party_left (kicked) and leaves it
// in no party; nobody kicks itself or creates a party while in one.
func TestPartyPromoteAndKick(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("trio", 3)}, nil)
	leader := Dial(t, n1, "pp-leader", 1000, "")
	a := Dial(t, n2, "pp-a", 1000, "")
	b := Dial(t, n1, "pp-b", 1000, "")
	party := formParty(t, leader, a, b)
	expectParty(t, a, "b joined", partyIs(party, leader.Player, leader.Player, a.Player, b.Player))

	refusedWith(t, a, "a member's invite", protocol.CodeForbidden)(a.cl.PartyInvite(opCtx(t), "pp-nobody"))
	refusedWith(t, a, "a member's kick", protocol.CodeForbidden)(a.cl.PartyKick(opCtx(t), b.Player))
	refusedWith(t, a, "a member's promote", protocol.CodeForbidden)(a.cl.PartyPromote(opCtx(t), a.Player))
	refusedWith(t, a, "party_create while in a party", protocol.CodeForbidden)(a.cl.PartyCreate(opCtx(t), false))

	all := []string{leader.Player, a.Player, b.Player}
	p := okParty(t, leader, "party_promote")(leader.cl.PartyPromote(opCtx(t), a.Player))
	if p.Leader != a.Player || !slices.Equal(p.Members, all) {
		t.Fatalf("party_promote reply %+v, want %s leading %v", p, a.Player, all)
	}
	for _, c := range []*Client{a, b} {
		expectParty(t, c, "the promotion", partyIs(party, a.Player, all...))
	}
	rid := leader.Req(t, protocol.TypeEnqueue, "mode", "trio")
	leader.ExpectError(t, rid, protocol.CodeForbidden)
	refusedWith(t, leader, "the old leader's kick", protocol.CodeForbidden)(leader.cl.PartyKick(opCtx(t), b.Player))

	refusedWith(t, a, "a kick of oneself", protocol.CodeForbidden)(a.cl.PartyKick(opCtx(t), a.Player))
	k := okParty(t, a, "party_kick")(a.cl.PartyKick(opCtx(t), b.Player))
	if !slices.Equal(k.Members, []string{leader.Player, a.Player}) || k.Leader != a.Player {
		t.Fatalf("party_kick reply %+v", k)
	}
	if l := b.Expect(t, protocol.TypePartyLeft); l.Str("party_id") != party || l.Str("reason") != protocol.PartyLeftKicked {
		t.Fatalf("%s: %s, want party_left kicked", b.Player, l)
	}
	expectParty(t, leader, "the kick", partyIs(party, a.Player, leader.Player, a.Player))
	wantState(t, b, protocol.StateIdle, "")
	queueParty(t, "trio", a, leader)
}

// TestPartyDebugPlayers: GET /debug/players/{id} shows a member's party,
// in "party" (null only while the player is in none) and in its state
// object's party_id (docs/protocol.md sections 3.4 and 10.5).
func TestPartyDebugPlayers(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{Duel()}, nil)
	leader := Dial(t, n1, "pd-leader", 1000, "")
	mate := Dial(t, n2, "pd-mate", 1000, "")
	party := formParty(t, leader, mate)
	for _, n := range []*Node{n1, n2} {
		code, body := n.Get(t, "/debug/players/"+mate.Player)
		var v struct {
			Party map[string]any `json:"party"`
			State map[string]any `json:"state"`
		}
		if code != 200 || json.Unmarshal(body, &v) != nil {
			t.Fatalf("GET /debug/players/%s on %s: %d %s", mate.Player, n.ID, code, body)
		}
		if v.Party == nil || v.Party["party_id"] != party {
			t.Errorf("GET /debug/players/%s on %s: party %v, want the party %s: %s", mate.Player, n.ID, v.Party, party, body)
		}
		if v.State["party_id"] != party {
			t.Errorf("GET /debug/players/%s on %s: state %v, want party_id %s (a state object names the party)", mate.Player, n.ID, v.State, party)
		}
	}
}
