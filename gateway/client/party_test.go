package client

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// lastOf returns the latest frame of type typ the recorder holds, or nil.
func (r *recorder) lastOf(typ string) *Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.frames) - 1; i >= 0; i-- {
		if r.frames[i].Type == typ {
			f := r.frames[i]
			return &f
		}
	}
	return nil
}

func wantCode(t *testing.T, what string, err error, code protocol.Code) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Rid == "" {
		t.Fatalf("%s: %v, want %s answering the request", what, err, code)
	}
	return e
}

// Each party request returns its reply typed; what the other members are
// sent arrives as frames, read with Frame.Party, PartyInvite and
// PartyLeft; refusals are *Error values; State follows the player's party.
func TestPartyRequests(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	alice, arec := newTestClient(t, Options{PlayerID: "alice"}, n)
	bob, brec := newTestClient(t, Options{PlayerID: "bob"}, n)
	ctx := testCtx(t)

	p, err := alice.PartyCreate(ctx, false)
	if err != nil || p.Type != protocol.TypeParty || p.Rid == "" || p.Leader != "alice" || !slices.Equal(p.Members, []string{"alice"}) ||
		p.Invited == nil || len(p.Invited) != 0 || p.Open || p.MaxSize != fakeMaxSize {
		t.Fatalf("party_create: %+v, %v", p, err)
	}
	id := p.PartyID
	if st, _ := alice.State(); st.PartyID != id {
		t.Errorf("alice's State().PartyID = %q after party_create, want %q", st.PartyID, id)
	}
	_, err = alice.PartyCreate(ctx, true)
	wantCode(t, "party_create in a party", err, protocol.CodeForbidden)

	p, err = alice.PartyInvite(ctx, "bob")
	if err != nil || !slices.Equal(p.Invited, []string{"bob"}) {
		t.Fatalf("party_invite: %+v, %v", p, err)
	}
	brec.waitFor(t, "bob's invitation", func() bool { return slices.Contains(typesLocked(brec), protocol.TypePartyInvited) })
	inv := brec.lastOf(protocol.TypePartyInvited).PartyInvite()
	if inv == nil || inv.PartyID != id || inv.From != "alice" || inv.ExpiresMs == 0 {
		t.Errorf("bob's party_invite: %+v", inv)
	}

	_, err = bob.PartyJoin(ctx, "pt-none")
	wantCode(t, "party_join of no party", err, protocol.CodeNotFound)
	p, err = bob.PartyJoin(ctx, id)
	if err != nil || !slices.Equal(p.Members, []string{"alice", "bob"}) || len(p.Invited) != 0 {
		t.Fatalf("party_join: %+v, %v", p, err)
	}
	arec.waitFor(t, "alice told of bob's join", func() bool {
		for _, f := range arec.frames {
			if f.Type == protocol.TypeParty && f.Rid == "" && len(f.Members) == 2 {
				return true
			}
		}
		return false
	})
	if again, err := bob.PartyJoin(ctx, id); err != nil || !slices.Equal(again.Members, p.Members) {
		t.Errorf("a repeated party_join: %+v, %v; want the party unchanged", again, err)
	}

	_, err = bob.Enqueue(ctx, "duel")
	wantCode(t, "a member's enqueue", err, protocol.CodeForbidden)
	_, err = alice.PartyKick(ctx, "alice")
	wantCode(t, "kicking oneself", err, protocol.CodeForbidden)
	_, err = bob.PartyInvite(ctx, "carol")
	wantCode(t, "an invitation by a member", err, protocol.CodeForbidden)

	if p, err = alice.PartyPromote(ctx, "bob"); err != nil || p.Leader != "bob" {
		t.Fatalf("party_promote: %+v, %v", p, err)
	}
	if p, err = bob.PartyKick(ctx, "alice"); err != nil || !slices.Equal(p.Members, []string{"bob"}) || p.Leader != "bob" {
		t.Fatalf("party_kick: %+v, %v", p, err)
	}
	arec.waitFor(t, "alice told she was kicked", func() bool { return slices.Contains(typesLocked(arec), protocol.TypePartyLeft) })
	if l := arec.lastOf(protocol.TypePartyLeft).PartyLeft(); l == nil || l.PartyID != id || l.Reason != protocol.PartyLeftKicked || l.Rid != "" {
		t.Errorf("alice's party_left: %+v", l)
	}
	if st, _ := alice.State(); st.PartyID != "" {
		t.Errorf("alice's State().PartyID = %q after her kick, want none", st.PartyID)
	}

	l, err := bob.PartyLeave(ctx)
	if err != nil || l.Type != protocol.TypePartyLeft || l.Rid == "" || l.PartyID != id || l.Reason != protocol.PartyLeftLeft {
		t.Fatalf("party_leave: %+v, %v", l, err)
	}
	if st, _ := bob.State(); st.PartyID != "" {
		t.Errorf("bob's State().PartyID = %q after leaving, want none", st.PartyID)
	}
	_, err = bob.PartyLeave(ctx)
	wantCode(t, "party_leave in no party", err, protocol.CodeForbidden)
}

func typesLocked(r *recorder) []string {
	var out []string
	for _, f := range r.frames {
		out = append(out, f.Type)
	}
	return out
}

// A refused party enqueue names the members concerned; a full party
// refuses invitations.
func TestPartyRefusalsNamePlayers(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	alice, _ := newTestClient(t, Options{PlayerID: "alice"}, n)
	ctx := testCtx(t)
	p, err := alice.PartyCreate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"bob", "carol"} {
		c, _ := newTestClient(t, Options{PlayerID: who}, n)
		if _, err := c.PartyJoin(ctx, p.PartyID); err != nil {
			t.Fatalf("%s joins the open party: %v", who, err)
		}
		if who == "carol" {
			conn := n.players.conn("carol")
			_ = c.CloseNow()
			<-conn.closed // the node has seen carol go
		}
	}
	_, err = alice.PartyInvite(ctx, "dave")
	wantCode(t, "an invitation to a full party", err, protocol.CodePartyFull)

	_, err = alice.Enqueue(ctx, "duel")
	e := wantCode(t, "the party's enqueue", err, protocol.CodePartyNotReady)
	if !slices.Equal(e.Players, []string{"carol"}) {
		t.Errorf("PARTY_NOT_READY names %v, want [carol]", e.Players)
	}
	if !strings.Contains(e.Error(), string(protocol.CodePartyNotReady)) {
		t.Errorf("Error() = %q", e.Error())
	}
}

// After a reconnect the welcome says the player is in its party, and the
// party follows it; a player in no party is given its invitations again.
func TestPartyAfterReconnect(t *testing.T) {
	players := newFakePlayers()
	a, b := newFakeNode(t, "a", players), newFakeNode(t, "b", players)
	o := func(id string) Options {
		return Options{PlayerID: id, Rand: noJitter, Reconnect: Reconnect{Initial: 10 * time.Millisecond}}
	}
	alice, arec := newTestClient(t, o("alice"), a, b)
	bob, brec := newTestClient(t, o("bob"), a, b)
	ctx := testCtx(t)
	p, err := alice.PartyCreate(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.PartyInvite(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	brec.waitFor(t, "bob's invitation", func() bool { return slices.Contains(typesLocked(brec), protocol.TypePartyInvited) })

	for _, c := range []struct {
		name string
		rec  *recorder
		conn *fakeConn
		then []string
	}{
		{"alice", arec, players.conn("alice"), []string{protocol.TypeWelcome, protocol.TypeParty}},
		{"bob", brec, players.conn("bob"), []string{protocol.TypeWelcome, protocol.TypePartyInvited}},
	} {
		c.rec.mu.Lock()
		before := len(c.rec.frames)
		c.rec.mu.Unlock()
		c.conn.closeWith(&protocol.ServerDraining{Type: protocol.TypeServerDraining, ReconnectAfterMs: 10}, websocket.StatusServiceRestart)
		c.rec.waitFor(t, c.name+"'s frames after the resume", func() bool { return len(c.rec.frames) >= before+1+len(c.then) })
		c.rec.mu.Lock()
		var got []string
		for _, f := range c.rec.frames[before:] {
			if f.Type != protocol.TypeServerDraining {
				got = append(got, f.Type)
			}
		}
		after := c.rec.frames[len(c.rec.frames)-1]
		c.rec.mu.Unlock()
		if !slices.Equal(got, c.then) {
			t.Errorf("%s was sent %v on its new connection, want %v", c.name, got, c.then)
		}
		if c.name == "alice" && (after.Party() == nil || after.Party().PartyID != p.PartyID || after.Party().Leader != "alice") {
			t.Errorf("alice's party after the resume: %+v", after)
		}
	}
	if st, _ := alice.State(); st.PartyID != p.PartyID {
		t.Errorf("alice's State() after the resume = %+v, want party %s", st, p.PartyID)
	}
	if w, _ := alice.Welcome(); w.State == nil || w.State.PartyID != p.PartyID || w.NodeID != "b" {
		t.Errorf("alice's welcome on b: %+v", w)
	}
	if _, err := bob.PartyJoin(ctx, p.PartyID); err != nil {
		t.Errorf("bob joins after the resume: %v", err)
	}
}

// A typed request answered with a frame of another type says so.
func TestPartyUnexpectedReply(t *testing.T) {
	n := newFakeNode(t, "n1", nil)
	n.hold = func(m protocol.ClientMessage) bool {
		if m.Type != protocol.TypePartyCreate && m.Type != protocol.TypePartyLeave {
			return false
		}
		go n.lastConn(t).send(&protocol.Pong{Type: protocol.TypePong, Rid: m.Rid})
		return true
	}
	c, _ := newTestClient(t, Options{PlayerID: "alice"}, n)
	if p, err := c.PartyCreate(testCtx(t), false); !errors.Is(err, ErrUnexpectedReply) || p != nil {
		t.Errorf("party_create answered with pong: %+v, %v; want ErrUnexpectedReply", p, err)
	}
	if l, err := c.PartyLeave(testCtx(t)); !errors.Is(err, ErrUnexpectedReply) || l != nil {
		t.Errorf("party_leave answered with pong: %+v, %v; want ErrUnexpectedReply", l, err)
	}
}
