package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// Helpers of the party tests (docs/protocol.md section 9.6). Party
// requests go through gateway/client's typed calls on the test client's
// connection, so their replies are checked as a game would see them, and
// every frame (replies included) is still recorded for Expect and Dump.

// partyNodes starts one redis-server and two nodes sharing it, both with
// modes and set.
func partyNodes(t *testing.T, modes []Mode, set map[string]any) (*Node, *Node) {
	t.Helper()
	be := StandaloneBackend(t)
	n1 := StartNode(t, be.Apply(NodeOptions{Modes: modes, Set: set}))
	n2 := StartNode(t, be.Apply(NodeOptions{Modes: modes, Set: set}))
	return n1, n2
}

// teamMode is a mode of two teams of size players, with windows wide
// enough that the tests' ratings (all within 100) are compatible at once.
func teamMode(name string, size int) Mode {
	return Mode{Name: name, Teams: 2, TeamSize: size, InitialWindow: 500, WidenPerSecond: 50, MaxWindow: 1000,
		LoadingTimeout: 20 * time.Second}
}

// opCtx bounds one typed request.
func opCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	t.Cleanup(cancel)
	return ctx
}

// okParty returns a checker of a party request that must succeed: it
// fails the test on a refusal and returns the reply.
func okParty(t *testing.T, c *Client, what string) func(*protocol.Party, error) *protocol.Party {
	return func(p *protocol.Party, err error) *protocol.Party {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %s: %v\nframes:\n%s", c.Player, what, err, c.Dump())
		}
		return p
	}
}

// refusedWith returns a checker of a party request that must be refused
// with code: it returns the refusal.
func refusedWith(t *testing.T, c *Client, what string, code protocol.Code) func(*protocol.Party, error) *client.Error {
	return func(p *protocol.Party, err error) *client.Error {
		t.Helper()
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %s: got %+v, %v; want the error %s", c.Player, what, p, err, code)
		}
		if e.Code != code || e.Message == "" {
			t.Fatalf("%s: %s: refused %s (%q), want %s with a message", c.Player, what, e.Code, e.Message, code)
		}
		return e
	}
}

// formParty has leader create a closed party and invite each member in
// turn; each is told party_invite (on whatever node it is connected) and
// joins. It returns the party's id after checking the last reply lists
// the leader then the members, in join order.
func formParty(t *testing.T, leader *Client, members ...*Client) string {
	t.Helper()
	p := okParty(t, leader, "party_create")(leader.cl.PartyCreate(opCtx(t), false))
	if p.PartyID == "" || p.Leader != leader.Player || !slices.Equal(p.Members, []string{leader.Player}) || p.Open {
		t.Fatalf("%s: party_create reply %+v, want a closed party of the leader alone", leader.Player, p)
	}
	want := []string{leader.Player}
	for _, m := range members {
		inv := okParty(t, leader, "party_invite "+m.Player)(leader.cl.PartyInvite(opCtx(t), m.Player))
		if !slices.Contains(inv.Invited, m.Player) {
			t.Fatalf("%s: party_invite reply %+v does not list %s as invited", leader.Player, inv, m.Player)
		}
		f := m.Expect(t, protocol.TypePartyInvited)
		if f.Str("party_id") != p.PartyID || f.Str("from") != leader.Player || f.Int("expires_ms") <= 0 {
			t.Fatalf("%s: %s, want party_invite to %s from %s", m.Player, f, p.PartyID, leader.Player)
		}
		j := okParty(t, m, "party_join")(m.cl.PartyJoin(opCtx(t), p.PartyID))
		want = append(want, m.Player)
		if j.PartyID != p.PartyID || j.Leader != leader.Player || !slices.Equal(j.Members, want) {
			t.Fatalf("%s: party_join reply %+v, want party %s led by %s with %v", m.Player, j, p.PartyID, leader.Player, want)
		}
	}
	return p.PartyID
}

// expectParty waits for a party frame (pushed, no rid) that pred accepts.
func expectParty(t *testing.T, c *Client, what string, pred func(f Frame) bool) Frame {
	t.Helper()
	return c.ExpectFuncErrT(t, "party frame: "+what, func(f Frame) bool {
		return f.Type() == protocol.TypeParty && f.Str("rid") == "" && pred(f)
	})
}

// partyIs accepts a party frame of party id led by leader with exactly
// members (in join order).
func partyIs(id, leader string, members ...string) func(Frame) bool {
	return func(f Frame) bool {
		return f.Str("party_id") == id && f.Str("leader") == leader && slices.Equal(f.Strings("members"), members)
	}
}

// queueParty has the leader enqueue its party in mode and checks that
// every member is sent queued with the leader's ticket: the leader's copy
// is the reply, the members' are pushed. It returns the leader's queued.
func queueParty(t *testing.T, mode string, leader *Client, members ...*Client) Frame {
	t.Helper()
	rid := leader.Req(t, protocol.TypeEnqueue, "mode", mode)
	q := leader.ExpectFuncErrT(t, "the reply to enqueue "+rid, func(f Frame) bool { return f.Str("rid") == rid })
	if q.Type() != protocol.TypeQueued || q.Str("mode") != mode || q.Str("ticket_id") == "" || q.Bool("requeued") {
		t.Fatalf("%s: the party's enqueue: %s, want queued in %s", leader.Player, q, mode)
	}
	for _, m := range members {
		mq := m.Expect(t, protocol.TypeQueued)
		if mq.Str("ticket_id") != q.Str("ticket_id") || mq.Str("mode") != mode || mq.Has("rid") || mq.Bool("requeued") {
			t.Fatalf("%s: %s, want queued pushed (no rid) with the leader's ticket %s", m.Player, mq, q.Str("ticket_id"))
		}
	}
	return q
}

// syncState asks for the client's state and returns the state object.
func syncState(t *testing.T, c *Client) map[string]any {
	t.Helper()
	return c.Sync(t).Obj("state")
}

// wantState checks the client's synced state name and party id ("" none).
func wantState(t *testing.T, c *Client, name, party string) {
	t.Helper()
	st := syncState(t, c)
	got, _ := st["party_id"].(string)
	if st["name"] != name || got != party {
		t.Fatalf("%s: state %v, want %s in party %q\nframes:\n%s", c.Player, st, name, party, c.Dump())
	}
}

// debugTicket reads /debug/players/{player}'s ticket (nil when none).
func debugTicket(t *testing.T, n *Node, player string) (any, error) {
	code, body := n.Get(t, "/debug/players/"+player)
	if code != 200 {
		return nil, fmt.Errorf("/debug/players/%s: %d %s", player, code, body)
	}
	var v struct {
		Ticket any `json:"ticket"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return v.Ticket, nil
}
