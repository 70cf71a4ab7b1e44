package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Parties through matching, loading and failures end to end (docs/protocol.md
// section 9.6), on two nodes sharing one redis-server.

// teamOf returns the index of the team of match_found's teams that holds
// player, or -1.
func teamOf(teams [][]string, player string) int {
	for i, tm := range teams {
		if slices.Contains(tm, player) {
			return i
		}
	}
	return -1
}

// TestPartyFiveVFive: in a 5 v 5 mode a trio, two duos and three solos,
// each party spread over both nodes, form one match: every party is whole
// on one team, each team has five, every player gets the same match_found,
// and every member of a party was queued with its leader's ticket. They
// load and play.
func TestPartyFiveVFive(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("five", 5)}, nil)
	dial := func(id string, n *Node, rating float64) *Client { return Dial(t, n, "p5-"+id, rating, "dev-p5-"+id) }
	trio := []*Client{dial("t1", n1, 1500), dial("t2", n2, 1540), dial("t3", n1, 1460)}
	duoA := []*Client{dial("a1", n2, 1520), dial("a2", n1, 1480)}
	duoB := []*Client{dial("b1", n1, 1510), dial("b2", n2, 1490)}
	solos := []*Client{dial("s1", n1, 1505), dial("s2", n2, 1495), dial("s3", n2, 1500)}
	parties := [][]*Client{trio, duoA, duoB}
	var all []*Client
	for _, p := range parties {
		formParty(t, p[0], p[1:]...)
		all = append(all, p...)
	}
	all = append(all, solos...)
	// The parties queue first, each member told; the solos last, so that
	// the match can only form once everyone is in.
	for _, p := range parties {
		queueParty(t, "five", p[0], p[1:]...)
	}
	for _, s := range solos {
		rid := s.Req(t, protocol.TypeEnqueue, "mode", "five")
		s.ExpectRid(t, protocol.TypeQueued, rid)
	}

	found := map[string]Frame{}
	for _, c := range all {
		found[c.Player] = c.Expect(t, protocol.TypeMatchFound)
	}
	first := found[trio[0].Player]
	match, teams := first.Str("match_id"), first.Teams()
	for p, f := range found {
		if f.Str("match_id") != match || !slices.EqualFunc(f.Teams(), teams, slices.Equal[[]string]) {
			t.Fatalf("%s: %s, want the match_found of %s: %s", p, f, match, first)
		}
	}
	if len(teams) != 2 || len(teams[0]) != 5 || len(teams[1]) != 5 {
		t.Fatalf("teams %v, want two teams of five", teams)
	}
	for _, c := range all {
		if teamOf(teams, c.Player) < 0 {
			t.Fatalf("%s is in no team of %v", c.Player, teams)
		}
	}
	for _, p := range parties {
		team := teamOf(teams, p[0].Player)
		for _, m := range p[1:] {
			if teamOf(teams, m.Player) != team {
				t.Errorf("the party of %s is split: %s is on another team of %v", p[0].Player, m.Player, teams)
			}
		}
	}
	nodes := []*Node{n1, n2}
	for size, want := range map[string]float64{"3": 1, "2": 2} {
		if got := SumMetric(t, nodes, `matchd_party_tickets_enqueued_total{mode="five",size="`+size+`"}`); got != want {
			t.Errorf("party tickets of size %s: %v, want %v", size, got, want)
		}
	}

	for _, c := range all {
		rid := c.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		c.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	}
	for _, c := range all {
		if f := c.Expect(t, protocol.TypeMatchReady); f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match_ready of %s", c.Player, f, match)
		}
	}
	CheckInvariants(t, all, CheckOptions{})
}

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

// TestPartyLeaderAwayPassesLead: the leader's connection stays away past
// session.reconnect_grace: it leaves the party, the lead passes to the
// member who joined earliest, and the others are sent the party with its
// new leader. The new leader leads (it may invite); the old one comes back
// in no party.
func TestPartyLeaderAwayPassesLead(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{Duel()}, map[string]any{"session.reconnect_grace": "2s"})
	leader := Dial(t, n1, "pl-leader", 1000, "")
	m1 := Dial(t, n2, "pl-m1", 1000, "")
	m2 := Dial(t, n1, "pl-m2", 1000, "")
	party := formParty(t, leader, m1, m2)
	expectParty(t, m1, "m2 joined", partyIs(party, leader.Player, leader.Player, m1.Player, m2.Player))
	leader.Close()

	for _, c := range []*Client{m1, m2} {
		f := expectParty(t, c, "the lead passed to "+m1.Player, func(f Frame) bool { return !slices.Contains(f.Strings("members"), leader.Player) })
		if !partyIs(party, m1.Player, m1.Player, m2.Player)(f) {
			t.Fatalf("%s: %s, want party %s led by %s with [%s %s]", c.Player, f, party, m1.Player, m1.Player, m2.Player)
		}
	}
	okParty(t, m1, "the new leader's invite")(m1.cl.PartyInvite(opCtx(t), leader.Player))
	back := Dial(t, n2, leader.Player, 1000, "")
	if _, ok := back.Welcome.Obj("state")["party_id"]; ok {
		t.Fatalf("welcome after the grace %s, want no party", back.Welcome)
	}
	if f := back.NextIs(t, protocol.TypePartyInvited); f.Str("party_id") != party || f.Str("from") != m1.Player {
		t.Fatalf("after the welcome: %s, want the new leader's invitation", f)
	}
	wantState(t, back, protocol.StateIdle, "")
}

// TestPartyRatedAtMean: a duo rated 1000 and 2000 counts as one unit
// rated 1500, so in a mode whose window stays at 10 it is matched at once
// with two solos of 1500 (its members' own ratings are 500 away from
// them), and team balance sums the members' ratings (3000 against 3000).
func TestPartyRatedAtMean(t *testing.T) {
	t.Parallel()
	narrow := Mode{Name: "narrow", Teams: 2, TeamSize: 2, InitialWindow: 10, WidenPerSecond: 0.001, MaxWindow: 10,
		LoadingTimeout: 20 * time.Second}
	n1, n2 := partyNodes(t, []Mode{narrow}, nil)
	low := Dial(t, n1, "pm-low", 1000, "")
	high := Dial(t, n2, "pm-high", 2000, "")
	s1 := Dial(t, n2, "pm-s1", 1500, "")
	s2 := Dial(t, n1, "pm-s2", 1500, "")
	formParty(t, low, high)
	queueParty(t, "narrow", low, high)
	for _, s := range []*Client{s1, s2} {
		rid := s.Req(t, protocol.TypeEnqueue, "mode", "narrow")
		s.ExpectRid(t, protocol.TypeQueued, rid)
	}
	var match string
	for _, c := range []*Client{low, high, s1, s2} {
		f := c.Expect(t, protocol.TypeMatchFound)
		if match == "" {
			match = f.Str("match_id")
			if teams := f.Teams(); teamOf(teams, low.Player) != teamOf(teams, high.Player) || teamOf(teams, s1.Player) != teamOf(teams, s2.Player) {
				t.Fatalf("teams %v, want the duo against the two solos", teams)
			}
		}
		if f.Str("match_id") != match {
			t.Fatalf("%s: %s, want match %s", c.Player, f, match)
		}
	}
}

// TestPartyMaxWait: a party's ticket that waits past max_wait leaves the
// queue whole: every member is sent dequeued (timeout) with its ticket.
func TestPartyMaxWait(t *testing.T) {
	t.Parallel()
	short := teamMode("short", 2)
	short.MaxWait = time.Second
	n1, n2 := partyNodes(t, []Mode{short}, nil)
	leader := Dial(t, n1, "pw-leader", 1000, "")
	mate := Dial(t, n2, "pw-mate", 1000, "")
	party := formParty(t, leader, mate)
	q := queueParty(t, "short", leader, mate)
	for _, c := range []*Client{leader, mate} {
		d := c.ExpectFuncErrT(t, "dequeued", func(f Frame) bool { return f.Type() == protocol.TypeDequeued })
		if d.Str("reason") != protocol.ReasonTimeout || d.Str("ticket_id") != q.Str("ticket_id") {
			t.Fatalf("%s: %s, want dequeued timeout of %s", c.Player, d, q.Str("ticket_id"))
		}
		wantState(t, c, protocol.StateIdle, party)
	}
}

// TestPartyQueuedLeaderAway: the leader of a queued party drops its
// connection and stays away past the grace: the party's ticket leaves the
// queue whole (every member is sent dequeued, reason disconnected), then
// the leader leaves the party and the lead passes on.
func TestPartyQueuedLeaderAway(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("trio", 3)}, map[string]any{"session.reconnect_grace": "2s"})
	leader := Dial(t, n1, "pg-leader", 1000, "")
	m1 := Dial(t, n2, "pg-m1", 1000, "")
	m2 := Dial(t, n1, "pg-m2", 1000, "")
	party := formParty(t, leader, m1, m2)
	q := queueParty(t, "trio", leader, m1, m2)
	leader.CloseNow()

	for _, c := range []*Client{m1, m2} {
		d := c.ExpectFuncErrT(t, "dequeued", func(f Frame) bool { return f.Type() == protocol.TypeDequeued })
		if d.Str("reason") != protocol.ReasonDisconnected || d.Str("ticket_id") != q.Str("ticket_id") {
			t.Fatalf("%s: %s, want dequeued disconnected of %s", c.Player, d, q.Str("ticket_id"))
		}
		expectParty(t, c, "the lead passed to "+m1.Player, partyIs(party, m1.Player, m1.Player, m2.Player))
		wantState(t, c, protocol.StateIdle, party)
	}
}

// TestPartySurvivesNodeKill: the node holding half of a party is killed
// (SIGKILL). The party survives in Redis: the members that reconnect to
// the other node get a welcome naming it, followed by the party listing
// every member, and the leader can queue the party at once.
func TestPartySurvivesNodeKill(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("four", 4)}, nil)
	leader := Dial(t, n1, "pk-leader", 1000, "")
	a := Dial(t, n2, "pk-a", 1000, "")
	b := Dial(t, n1, "pk-b", 1000, "")
	c := Dial(t, n2, "pk-c", 1000, "")
	party := formParty(t, leader, a, b, c)
	members := []string{leader.Player, a.Player, b.Player, c.Player}

	n2.Kill()
	var back []*Client
	for _, gone := range []*Client{a, c} {
		select {
		case <-gone.Closed():
		case <-time.After(DefaultWait):
			t.Fatalf("%s: the connection to the killed node did not end", gone.Player)
		}
		r := Dial(t, n1, gone.Player, 1000, "")
		if StateField(r.Welcome, "party_id") != party || StateName(r.Welcome) != protocol.StateIdle {
			t.Fatalf("%s: welcome on %s: %s, want idle in party %s", r.Player, n1.ID, r.Welcome, party)
		}
		f := r.NextIs(t, protocol.TypeParty)
		if !partyIs(party, leader.Player, members...)(f) || f.Has("rid") {
			t.Fatalf("%s: after the welcome: %s, want the party %s led by %s with %v", r.Player, f, party, leader.Player, members)
		}
		back = append(back, r)
	}
	queueParty(t, "four", leader, b, back[0], back[1])
}

// TestPartyMemberAwayWithinGrace: a member whose connection dropped less
// than the grace ago counts as connected: the leader queues the party,
// and the member, back on the other node, finds itself queued with the
// party's ticket, in the party.
func TestPartyMemberAwayWithinGrace(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("squad", 2)}, nil)
	leader := Dial(t, n1, "pa-leader", 1000, "")
	away := Dial(t, n2, "pa-away", 1000, "")
	party := formParty(t, leader, away)
	away.Close()
	q := queueParty(t, "squad", leader)
	back := Dial(t, n1, away.Player, 1000, "")
	if StateName(back.Welcome) != protocol.StateQueued || StateField(back.Welcome, "ticket_id") != q.Str("ticket_id") ||
		StateField(back.Welcome, "party_id") != party {
		t.Fatalf("welcome %s, want queued with the party's ticket %s, in party %s", back.Welcome, q.Str("ticket_id"), party)
	}
	expectParty(t, back, "its party after the welcome", partyIs(party, leader.Player, leader.Player, away.Player))
}

// TestPartyDeadMemberNotReady: a member whose node was killed and who
// never comes back has no live session, so the leader's enqueue is refused
// PARTY_NOT_READY naming it (docs/parties.md, "What a node's death does"),
// at the latest once the node's death is known (its liveness key lives
// 1.5s here) and its grace (2s) is over, long before its directory entry
// would lapse (30s). Until then an enqueue that is accepted is cancelled,
// and asked again.
func TestPartyDeadMemberNotReady(t *testing.T) {
	t.Parallel()
	n1, n2 := partyNodes(t, []Mode{teamMode("squad", 2)},
		map[string]any{"session.reconnect_grace": "2s", "session.directory_ttl": "30s", "rooms.node_ttl": "1500ms"})
	leader := Dial(t, n1, "pz-leader", 1000, "")
	dead := Dial(t, n2, "pz-dead", 1000, "")
	formParty(t, leader, dead)
	n2.Kill()
	killed := time.Now()
	accepted := 0
	// Polled every 250ms, well within the session's rate limit.
	err := poll(12*time.Second, func() error {
		time.Sleep(250 * time.Millisecond)
		rid := leader.Req(t, protocol.TypeEnqueue, "mode", "squad")
		f := leader.ExpectFuncErrT(t, "the reply to "+rid, func(f Frame) bool { return f.Str("rid") == rid })
		switch {
		case f.Type() == protocol.TypeQueued:
			accepted++
			rid := leader.Req(t, protocol.TypeCancel)
			leader.ExpectFuncErrT(t, "the reply to "+rid, func(f Frame) bool { return f.Str("rid") == rid })
			return fmt.Errorf("enqueue accepted %d times, the last %s after the kill", accepted, time.Since(killed).Round(time.Millisecond))
		case f.Str("code") == string(protocol.CodePartyNotReady) && slices.Equal(f.Strings("players"), []string{dead.Player}):
			return nil
		}
		return fmt.Errorf("enqueue answered %s", f)
	})
	if err != nil {
		t.Fatalf("no PARTY_NOT_READY naming %s, whose node was killed, 12s after the kill with a 2s grace: %v", dead.Player, err)
	}
	t.Logf("refused %s after the kill; accepted %d times before", time.Since(killed).Round(time.Millisecond), accepted)
}
