package client

import (
	"context"
	"fmt"

	"github.com/matchd/matchd/gateway/protocol"
)

// Party requests (docs/protocol.md section 9.6). Each returns the reply
// typed; a refusal is an *Error (NOT_FOUND, FORBIDDEN, PARTY_FULL,
// INVALID_STATE, ...). What the party's other members are sent, and the
// party frames pushed to this player (another member joined, it was
// invited or kicked, its party after a reconnect's welcome), reach
// Options.Frames and Options.OnFrame like every frame; Frame.Party,
// Frame.PartyInvite and Frame.PartyLeft read them.

// PartyCreate makes a party led by this player; open lets anyone join it
// without an invitation.
func (c *Client) PartyCreate(ctx context.Context, open bool) (*protocol.Party, error) {
	return c.partyRequest(ctx, protocol.ClientMessage{Type: protocol.TypePartyCreate, Open: open})
}

// PartyInvite invites playerID to this player's party (the leader's
// request); the invitee is sent a party_invite.
func (c *Client) PartyInvite(ctx context.Context, playerID string) (*protocol.Party, error) {
	return c.partyRequest(ctx, protocol.ClientMessage{Type: protocol.TypePartyInvite, PlayerID: playerID})
}

// PartyJoin joins partyID, which this player was invited to or which is
// open. Joining the party it is already in changes nothing.
func (c *Client) PartyJoin(ctx context.Context, partyID string) (*protocol.Party, error) {
	return c.partyRequest(ctx, protocol.ClientMessage{Type: protocol.TypePartyJoin, PartyID: partyID})
}

// PartyKick removes playerID from this player's party (the leader's
// request).
func (c *Client) PartyKick(ctx context.Context, playerID string) (*protocol.Party, error) {
	return c.partyRequest(ctx, protocol.ClientMessage{Type: protocol.TypePartyKick, PlayerID: playerID})
}

// PartyPromote hands the lead of this player's party to playerID.
func (c *Client) PartyPromote(ctx context.Context, playerID string) (*protocol.Party, error) {
	return c.partyRequest(ctx, protocol.ClientMessage{Type: protocol.TypePartyPromote, PlayerID: playerID})
}

// PartyLeave leaves this player's party; the reply is party_left with
// reason left.
func (c *Client) PartyLeave(ctx context.Context) (*protocol.PartyLeft, error) {
	f, err := c.Request(ctx, protocol.ClientMessage{Type: protocol.TypePartyLeave})
	if err != nil {
		return nil, err
	}
	if l := f.PartyLeft(); l != nil {
		return l, nil
	}
	return nil, fmt.Errorf("%w: %s to %s", ErrUnexpectedReply, f.Type, protocol.TypePartyLeave)
}

func (c *Client) partyRequest(ctx context.Context, m protocol.ClientMessage) (*protocol.Party, error) {
	f, err := c.Request(ctx, m)
	if err != nil {
		return nil, err
	}
	if p := f.Party(); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %s to %s", ErrUnexpectedReply, f.Type, m.Type)
}

// notePartyLocked keeps State's PartyID in step with the party frames
// between welcomes and syncs: a party frame says the player is in that
// party, a party_left that it no longer is. c.mu is held.
func (c *Client) notePartyLocked(f *Frame) {
	if c.state == nil {
		return
	}
	switch f.Type {
	case protocol.TypeParty:
		if c.state.PartyID != f.PartyID {
			st := *c.state
			st.PartyID = f.PartyID
			c.state = &st
		}
	case protocol.TypePartyLeft:
		if c.state.PartyID == f.PartyID {
			st := *c.state
			st.PartyID = ""
			c.state = &st
		}
	}
}
