package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Parties when members go away end to end (docs/protocol.md section 9.6):
// dropped connections, expired graces and killed nodes.

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
