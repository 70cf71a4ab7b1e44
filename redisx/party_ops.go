package redisx

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// PartyInvite has the leader of party id invite invitee for inviteTTL
// (ErrPartyForbidden when leader does not lead or invitee is a member,
// ErrPartyFull when the party is full); inviting again refreshes the
// expiry. The invitation is recorded in the party, then in the invitee's
// own list, which lives at least inviteTTL.
func (c *Client) PartyInvite(ctx context.Context, id, leader, invitee string, inviteTTL, ttl time.Duration) (Party, Invite, error) {
	if err := validParty(min(ttl, inviteTTL), id, leader, invitee); err != nil {
		return Party{}, Invite{}, err
	}
	r, err := c.partyRun(ctx, c.scripts.party.invite, "invite", id, leader, invitee, ms(inviteTTL), ms(ttl))
	if err != nil {
		return Party{}, Invite{}, err
	}
	if err := r.err(); err != nil {
		return r.party, Invite{}, err
	}
	exp, err := strconv.ParseInt(r.extra, 10, 64)
	if err != nil {
		return r.party, Invite{}, fmt.Errorf("%w: invitation expiry %q", ErrBadReply, r.extra)
	}
	inv := Invite{Party: id, From: leader, ExpiresMs: exp}
	if err := c.scripts.party.invAdd.Exec(ctx, c.R, []string{c.Keys.PlayerInvites(invitee)},
		[]string{id, leader, r.extra, ms(inviteTTL)}).Error(); err != nil {
		return r.party, inv, fmt.Errorf("redisx: party invite: invitee's list: %w", err)
	}
	return r.party, inv, nil
}

// PartyKick has the leader of party id remove target, another member
// (else ErrPartyForbidden), if its queue marker is expectQueue (else
// ErrPartyStale); then target's pointer goes, if it names the party.
func (c *Client) PartyKick(ctx context.Context, id, leader, target, expectQueue string, ttl time.Duration) (Party, error) {
	if err := validParty(ttl, id, leader, target); err != nil {
		return Party{}, err
	}
	r, err := c.partyRun(ctx, c.scripts.party.kick, "kick", id, leader, target, expectQueue, ms(ttl))
	if err != nil {
		return Party{}, err
	}
	if err := r.err(); err != nil {
		return r.party, err
	}
	return r.party, c.releasePointer(ctx, target, id)
}

// PartyPromote has the leader of party id hand the lead to target, a
// member (else ErrPartyForbidden). Membership does not change, so the
// queue marker stays.
func (c *Client) PartyPromote(ctx context.Context, id, leader, target string, ttl time.Duration) (Party, error) {
	if err := validParty(ttl, id, leader, target); err != nil {
		return Party{}, err
	}
	r, err := c.partyRun(ctx, c.scripts.party.promote, "promote", id, leader, target, ms(ttl))
	if err != nil {
		return Party{}, err
	}
	return r.party, r.err()
}

// PartyMarkQueued records that the leader queued party id with the ticket
// marker names ("<mode>|<ticket>"), if the party is still at expectVer
// (else ErrPartyStale): so the members the ticket lists are the party's.
// It is idempotent while the marker is in place.
func (c *Client) PartyMarkQueued(ctx context.Context, id, leader, marker string, expectVer int64, ttl time.Duration) (Party, error) {
	if err := validParty(ttl, id, leader, marker); err != nil {
		return Party{}, err
	}
	r, err := c.partyRun(ctx, c.scripts.party.mark, "mark queued", id, leader, marker, i64(expectVer), ms(ttl))
	if err != nil {
		return Party{}, err
	}
	return r.party, r.err()
}

// PartyClearQueued clears party id's queue marker if it is marker; false
// when it was not (or the party is gone).
func (c *Client) PartyClearQueued(ctx context.Context, id, marker string) (bool, error) {
	if id == "" || marker == "" {
		return false, fmt.Errorf("%w: empty id or marker", ErrPartyInvalid)
	}
	r, err := c.partyRun(ctx, c.scripts.party.unmark, "clear queued", id, marker)
	if err != nil {
		return false, err
	}
	switch r.code {
	case partyOK:
		return true, nil
	case partyNotFound, partyStale:
		return false, nil
	}
	return false, r.err()
}

// PartyTouch renews party id's keys for player, then (pipelined) the
// player's pointer and the party's index entry; false when the party no
// longer lists the player, and then nothing is renewed. The pointer and the
// index are renewed only after the party confirmed the player, so a touch
// racing the party's end never lists it again.
func (c *Client) PartyTouch(ctx context.Context, id, player string, ttl time.Duration) (bool, error) {
	if err := validParty(ttl, id, player); err != nil {
		return false, err
	}
	n, err := c.scripts.party.touch.Exec(ctx, c.R, c.partyKeys(id), []string{player, ms(ttl)}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: party touch: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	t, s := ms(ttl), &c.scripts.party
	build := func() rueidis.Commands {
		return rueidis.Commands{
			c.R.B().Evalsha().Sha1(s.ptrTouchSHA).Numkeys(1).Key(c.Keys.PlayerParty(player)).Arg(id, t).Build(),
			c.R.B().Evalsha().Sha1(s.indexSHA).Numkeys(1).Key(c.Keys.PartyIndex()).Arg(id, t).Build(),
		}
	}
	res := c.R.DoMulti(ctx, build()...)
	if noScript(res) {
		// Redis lost its script cache: one plain call of each loads it.
		res = []rueidis.RedisResult{
			s.ptrTouch.Exec(ctx, c.R, []string{c.Keys.PlayerParty(player)}, []string{id, t}),
			s.index.Exec(ctx, c.R, []string{c.Keys.PartyIndex()}, []string{id, t}),
		}
	}
	for _, r := range res {
		if err := r.Error(); err != nil {
			return true, fmt.Errorf("redisx: party touch: %w", err)
		}
	}
	return true, nil
}

// Invitations lists the player's unexpired invitations by Redis's clock,
// oldest first, dropping expired ones.
func (c *Client) Invitations(ctx context.Context, player string) ([]Invite, error) {
	arr, err := c.scripts.party.invList.Exec(ctx, c.R, []string{c.Keys.PlayerInvites(player)}, nil).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("redisx: invitations: %w", err)
	}
	if len(arr)%2 != 0 {
		return nil, fmt.Errorf("%w: invitations of %d elements", ErrBadReply, len(arr))
	}
	out := make([]Invite, 0, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		j := strings.LastIndexByte(arr[i+1], '|')
		if j < 0 {
			return nil, fmt.Errorf("%w: invitation %q", ErrBadReply, arr[i+1])
		}
		exp, err := strconv.ParseInt(arr[i+1][j+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: invitation %q", ErrBadReply, arr[i+1])
		}
		out = append(out, Invite{Party: arr[i], From: arr[i+1][:j], ExpiresMs: exp})
	}
	// Every invitation lasts party.invite_ttl, so the oldest expires first.
	slices.SortFunc(out, func(a, b Invite) int {
		return cmp.Or(cmp.Compare(a.ExpiresMs, b.ExpiresMs), strings.Compare(a.Party, b.Party))
	})
	return out, nil
}

// PartiesCount counts the live parties of every node from the index,
// dropping entries whose TTL passed (their parties' members all vanished).
func (c *Client) PartiesCount(ctx context.Context) (int64, error) {
	n, err := c.scripts.party.count.Exec(ctx, c.R, []string{c.Keys.PartyIndex()}, nil).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisx: parties count: %w", err)
	}
	return n, nil
}
