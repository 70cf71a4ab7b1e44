package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Parties through loading end to end (docs/protocol.md section 9.6): who
// is requeued, who stays idle and who is charged when a match with a party
// is cancelled.

// TestPartyMemberNoShow: a duo faces two solos in 2 v 2; one member of the
// duo loads, the other never does. At the deadline the duo stays together
// and idle (match_cancelled requeued:false for both), only the no-show is
// charged, and the solos, who loaded, are requeued with their tickets and
// queue times. While loading, the party's membership cannot change.
func TestPartyMemberNoShow(t *testing.T) {
	t.Parallel()
	squad := teamMode("squad", 2)
	squad.LoadingTimeout = 3 * time.Second
	n1, n2 := partyNodes(t, []Mode{squad}, nil)
	ready := Dial(t, n1, "pns-ready", 1500, "dev-pns-ready")
	noShow := Dial(t, n2, "pns-noshow", 1500, "dev-pns-noshow")
	s1 := Dial(t, n2, "pns-s1", 1500, "dev-pns-s1")
	s2 := Dial(t, n1, "pns-s2", 1500, "dev-pns-s2")
	late := Dial(t, n2, "pns-late", 1500, "dev-pns-late")
	party := formParty(t, ready, noShow)
	queueParty(t, "squad", ready, noShow)
	solosQueued := map[string]Frame{}
	for _, s := range []*Client{s1, s2} {
		rid := s.Req(t, protocol.TypeEnqueue, "mode", "squad")
		solosQueued[s.Player] = s.ExpectRid(t, protocol.TypeQueued, rid)
	}
	all := []*Client{ready, noShow, s1, s2}
	var match string
	for _, c := range all {
		f := c.Expect(t, protocol.TypeMatchFound)
		if match == "" {
			match = f.Str("match_id")
			teams := f.Teams()
			if teamOf(teams, ready.Player) != teamOf(teams, noShow.Player) || teamOf(teams, s1.Player) != teamOf(teams, s2.Player) {
				t.Fatalf("teams %v, want the duo against the two solos", teams)
			}
		}
		if f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match %s", c.Player, f, match)
		}
	}
	for _, c := range []*Client{ready, s1, s2} {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	// While the party loads its membership holds: a leave, a kick and a
	// join are INVALID_STATE; an invitation is served.
	rid := noShow.Req(t, protocol.TypePartyLeave)
	noShow.ExpectError(t, rid, protocol.CodeInvalidState)
	rid = ready.Req(t, protocol.TypePartyKick, "player_id", noShow.Player)
	ready.ExpectError(t, rid, protocol.CodeInvalidState)
	okParty(t, ready, "party_invite while loading")(ready.cl.PartyInvite(opCtx(t), late.Player))
	refusedWith(t, late, "party_join of a party loading a match", protocol.CodeInvalidState)(late.cl.PartyJoin(opCtx(t), party))

	for _, c := range all {
		mc := c.Expect(t, protocol.TypeMatchCancelled)
		solo := c == s1 || c == s2
		if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonLoadingTimeout || mc.Bool("requeued") != solo ||
			!slices.Equal(mc.Strings("no_shows"), []string{noShow.Player}) {
			t.Errorf("%s: %s, want match_cancelled loading_timeout, requeued %v, no_shows [%s]", c.Player, mc, solo, noShow.Player)
		}
		if solo {
			q := c.NextIs(t, protocol.TypeQueued)
			orig := solosQueued[c.Player]
			if !q.Bool("requeued") || q.Str("ticket_id") != orig.Str("ticket_id") || q.Int("queued_at_ms") != orig.Int("queued_at_ms") {
				t.Errorf("%s: %s, want queued requeued with its ticket and queue time %s", c.Player, q, orig)
			}
		}
	}
	wantState(t, ready, protocol.StateIdle, party)
	wantState(t, noShow, protocol.StateIdle, party)
	for _, s := range []*Client{s1, s2} {
		if st := syncState(t, s); st["name"] != protocol.StateQueued {
			t.Errorf("%s: state %v, want queued", s.Player, st)
		}
	}
	// Idle again, the party takes the invited player in.
	j := okParty(t, late, "party_join after the cancel")(late.cl.PartyJoin(opCtx(t), party))
	if !slices.Equal(j.Members, []string{ready.Player, noShow.Player, late.Player}) {
		t.Errorf("members %v after the join", j.Members)
	}
	want := map[*Client]int{ready: 0, noShow: 1, s1: 0, s2: 0}
	for c, v := range want {
		if got := violations(t, n1, c.Player); got != v {
			t.Errorf("%s has %d violations, want %d", c.Player, got, v)
		}
	}
}

// matchAll waits for every client's match_found and returns the match id
// after checking they agree and that the duo faces the two solos.
func matchAll(t *testing.T, duo, solos []*Client) string {
	t.Helper()
	match := ""
	for _, c := range append(slices.Clone(duo), solos...) {
		f := c.Expect(t, protocol.TypeMatchFound)
		if match == "" {
			match = f.Str("match_id")
			teams := f.Teams()
			if teamOf(teams, duo[0].Player) != teamOf(teams, duo[1].Player) || teamOf(teams, solos[0].Player) != teamOf(teams, solos[1].Player) {
				t.Fatalf("teams %v, want the duo against the two solos", teams)
			}
		}
		if f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match %s", c.Player, f, match)
		}
	}
	return match
}

// expectRequeued reads match_cancelled (player_left, requeued) and then
// queued (requeued) with the ticket and queue time of q.
func expectRequeued(t *testing.T, c *Client, match string, q Frame) {
	t.Helper()
	mc := c.Expect(t, protocol.TypeMatchCancelled)
	if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonPlayerLeft || !mc.Bool("requeued") {
		t.Fatalf("%s: %s, want match_cancelled player_left requeued of %s", c.Player, mc, match)
	}
	rq := c.NextIs(t, protocol.TypeQueued)
	if !rq.Bool("requeued") || rq.Str("ticket_id") != q.Str("ticket_id") || rq.Int("queued_at_ms") != q.Int("queued_at_ms") {
		t.Fatalf("%s: %s, want queued requeued with the ticket and queue time of %s", c.Player, rq, q)
	}
}

// TestPartyDodge: a duo faces two solos in 2 v 2. First a solo dodges: the
// match was cancelled by someone outside the party, so the duo is requeued
// whole with its ticket and queue time, as is the other solo. Then, in the
// next match, a member of the duo dodges: its mate is sent
// match_cancelled requeued:false and stays with it, idle, uncharged; the
// solos are requeued. Only the two dodgers are charged.
func TestPartyDodge(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("squad", 2)}, nil)
	d1 := Dial(t, n1, "pdg-d1", 1500, "dev-pdg-d1")
	d2 := Dial(t, n2, "pdg-d2", 1500, "dev-pdg-d2")
	s1 := Dial(t, n2, "pdg-s1", 1500, "dev-pdg-s1")
	s2 := Dial(t, n1, "pdg-s2", 1500, "dev-pdg-s2")
	duo, solos := []*Client{d1, d2}, []*Client{s1, s2}
	party := formParty(t, d1, d2)
	qd := queueParty(t, "squad", d1, d2)
	q := map[*Client]Frame{d1: qd, d2: qd}
	for _, s := range solos {
		rid := s.Req(t, protocol.TypeEnqueue, "mode", "squad")
		q[s] = s.ExpectRid(t, protocol.TypeQueued, rid)
	}

	first := matchAll(t, duo, solos)
	rid := s1.Req(t, protocol.TypeCancel)
	if mc := s1.ExpectRid(t, protocol.TypeMatchCancelled, rid); mc.Str("reason") != protocol.ReasonPlayerLeft || mc.Bool("requeued") {
		t.Fatalf("the solo dodger: %s", mc)
	}
	for _, c := range []*Client{d1, d2, s2} {
		expectRequeued(t, c, first, q[c])
	}

	rid = s1.Req(t, protocol.TypeEnqueue, "mode", "squad") // a first violation is a warning
	q[s1] = s1.ExpectRid(t, protocol.TypeQueued, rid)
	second := matchAll(t, duo, solos)
	if second == first {
		t.Fatalf("matched into the cancelled match %s again", first)
	}
	rid = d2.Req(t, protocol.TypeCancel)
	if mc := d2.ExpectRid(t, protocol.TypeMatchCancelled, rid); mc.Str("reason") != protocol.ReasonPlayerLeft || mc.Bool("requeued") {
		t.Fatalf("the member dodger: %s", mc)
	}
	mc := d1.Expect(t, protocol.TypeMatchCancelled)
	if mc.Str("match_id") != second || mc.Str("reason") != protocol.ReasonPlayerLeft || mc.Bool("requeued") {
		t.Fatalf("%s: %s, want match_cancelled player_left not requeued: its mate dodged", d1.Player, mc)
	}
	for _, s := range solos {
		expectRequeued(t, s, second, q[s])
	}
	wantState(t, d1, protocol.StateIdle, party)
	wantState(t, d2, protocol.StateIdle, party)
	want := map[*Client]int{d1: 0, d2: 1, s1: 1, s2: 0}
	for c, v := range want {
		if got := violations(t, n2, c.Player); got != v {
			t.Errorf("%s has %d violations, want %d", c.Player, got, v)
		}
	}
}
