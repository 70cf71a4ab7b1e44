package redisx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// Party is a party as Redis holds it.
type Party struct {
	ID     string
	Leader string
	// Members are in join order; the earliest is the next leader.
	Members []string
	// Invited are the unexpired invitations, in invitation order (by
	// expiry: every invitation lasts party.invite_ttl).
	Invited []string
	Open    bool
	MaxSize int
	// Queue is the "<mode>|<ticket>" marker of the ticket the party was
	// queued with, "" when none: a hint the queue's own records confirm.
	Queue string
	// Ver is bumped by every change, so a caller can compare-and-set.
	Ver int64
}

// Invite is an unexpired invitation of a player.
type Invite struct {
	Party, From string
	// ExpiresMs is when it lapses, on Redis's clock.
	ExpiresMs int64
}

// Party errors. On ErrPartyForbidden, ErrPartyFull and ErrPartyStale the
// mutating calls also return the party as it stands, so a caller sees the
// marker or version that it must retry with.
var (
	// ErrPartyNotFound: no such party, or it ended.
	ErrPartyNotFound = errors.New("redisx: party not found")
	// ErrPartyForbidden: the caller is not the leader, the player is not
	// invited to a closed party, or the target is not a member.
	ErrPartyForbidden = errors.New("redisx: party change not allowed")
	// ErrPartyFull: the members would exceed the party's max size.
	ErrPartyFull = errors.New("redisx: party full")
	// ErrPartyStale: the party's version (or queue marker) is not what the
	// caller expected: re-read and retry.
	ErrPartyStale = errors.New("redisx: party changed since it was read")
	// ErrInParty: the player already belongs to a live party.
	ErrInParty = errors.New("redisx: player already in a party")
	// ErrPartyInvalid: an empty id, a max size below 1 or a TTL under a
	// millisecond.
	ErrPartyInvalid = errors.New("redisx: invalid party argument")
)

// Reply codes of the scripts on a party's slot (lua/party_lib.lua).
const (
	partyOK        = 1
	partyNotFound  = 0
	partyForbidden = -1
	partyFull      = -2
	partyStale     = -3
)

// partyReply is a party script's reply: its code, its extra value and,
// while the party exists, its view.
type partyReply struct {
	code  int64
	extra string
	party Party
	found bool
}

func (r partyReply) err() error {
	switch r.code {
	case partyOK:
		return nil
	case partyNotFound:
		return ErrPartyNotFound
	case partyForbidden:
		return ErrPartyForbidden
	case partyFull:
		return ErrPartyFull
	case partyStale:
		return ErrPartyStale
	}
	return fmt.Errorf("%w: party code %d", ErrBadReply, r.code)
}

func (c *Client) partyKeys(id string) []string {
	return []string{c.Keys.Party(id), c.Keys.PartyMembers(id), c.Keys.PartyInvited(id)}
}

// partyRun runs a script on the party's slot and parses its reply.
func (c *Client) partyRun(ctx context.Context, s *rueidis.Lua, what, id string, args ...string) (partyReply, error) {
	r, err := parsePartyReply(id, s.Exec(ctx, c.R, c.partyKeys(id), args))
	if err != nil {
		return partyReply{}, fmt.Errorf("redisx: party %s: %w", what, err)
	}
	return r, nil
}

// parsePartyReply reads {code, extra[, leader, open, max, ver, queue,
// #members, members..., #invited, invited...]}.
func parsePartyReply(id string, res rueidis.RedisResult) (partyReply, error) {
	arr, err := res.ToArray()
	if err != nil {
		return partyReply{}, err
	}
	if len(arr) < 2 {
		return partyReply{}, fmt.Errorf("%w: party reply of %d elements", ErrBadReply, len(arr))
	}
	r := partyReply{party: Party{ID: id}}
	if r.code, err = arr[0].AsInt64(); err != nil {
		return partyReply{}, fmt.Errorf("%w: party code: %v", ErrBadReply, err)
	}
	if r.extra, err = arr[1].ToString(); err != nil {
		return partyReply{}, fmt.Errorf("%w: party extra: %v", ErrBadReply, err)
	}
	if len(arr) == 2 {
		return r, nil
	}
	if len(arr) < 9 {
		return partyReply{}, fmt.Errorf("%w: party view of %d elements", ErrBadReply, len(arr))
	}
	var f [5]string
	for i := range f {
		if f[i], err = arr[2+i].ToString(); err != nil {
			return partyReply{}, fmt.Errorf("%w: party field %d: %v", ErrBadReply, i, err)
		}
	}
	p := &r.party
	p.Leader, p.Open, p.Queue = f[0], f[1] == "1", f[4]
	if p.MaxSize, err = strconv.Atoi(f[2]); err != nil {
		return partyReply{}, fmt.Errorf("%w: party max %q", ErrBadReply, f[2])
	}
	if p.Ver, err = strconv.ParseInt(f[3], 10, 64); err != nil {
		return partyReply{}, fmt.Errorf("%w: party ver %q", ErrBadReply, f[3])
	}
	rest := arr[7:]
	if p.Members, rest, err = counted(rest); err != nil {
		return partyReply{}, fmt.Errorf("%w: party members: %v", ErrBadReply, err)
	}
	if p.Invited, rest, err = counted(rest); err != nil {
		return partyReply{}, fmt.Errorf("%w: party invited: %v", ErrBadReply, err)
	}
	if len(rest) != 0 {
		return partyReply{}, fmt.Errorf("%w: party reply: %d elements past the view", ErrBadReply, len(rest))
	}
	r.found = true
	return r, nil
}

// counted reads a count n and the n strings after it.
func counted(arr []rueidis.RedisMessage) ([]string, []rueidis.RedisMessage, error) {
	if len(arr) == 0 {
		return nil, nil, errors.New("count missing")
	}
	n, err := arr[0].AsInt64()
	if err != nil || n < 0 || n > int64(len(arr)-1) {
		return nil, nil, fmt.Errorf("count %d of %d (%v)", n, len(arr)-1, err)
	}
	out := make([]string, n)
	for i := range out {
		if out[i], err = arr[1+i].ToString(); err != nil {
			return nil, nil, err
		}
	}
	return out, arr[1+n:], nil
}

func validParty(ttl time.Duration, ids ...string) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("%w: ttl %v", ErrPartyInvalid, ttl)
	}
	for _, id := range ids {
		if id == "" {
			return fmt.Errorf("%w: empty id", ErrPartyInvalid)
		}
	}
	return nil
}

// claimPointer points player at party id. A pointer to another party
// counts only while that party lists the player (ErrInParty); a stale one
// is overwritten, compare-and-set, so that a concurrent claim is seen.
func (c *Client) claimPointer(ctx context.Context, player, id string, ttl time.Duration) error {
	key, stale := c.Keys.PlayerParty(player), ""
	for range 4 {
		arr, err := c.scripts.party.ptrClaim.Exec(ctx, c.R, []string{key}, []string{id, stale, ms(ttl)}).ToArray()
		if err != nil {
			return fmt.Errorf("redisx: party pointer claim: %w", err)
		}
		if len(arr) != 2 {
			return fmt.Errorf("%w: party pointer claim of %d elements", ErrBadReply, len(arr))
		}
		ok, err1 := arr[0].AsInt64()
		cur, err2 := arr[1].ToString()
		if err1 != nil || err2 != nil {
			return fmt.Errorf("%w: party pointer claim: %v", ErrBadReply, errors.Join(err1, err2))
		}
		if ok == 1 {
			return nil
		}
		listed, err := c.partyLists(ctx, cur, player)
		if err != nil {
			return err
		}
		if listed {
			return fmt.Errorf("%w: %s", ErrInParty, cur)
		}
		stale = cur
	}
	return fmt.Errorf("%w: the party pointer of %s keeps changing", ErrPartyStale, player)
}

// partyLists reports whether party id lists player as a member.
func (c *Client) partyLists(ctx context.Context, id, player string) (bool, error) {
	err := c.R.Do(ctx, c.R.B().Zscore().Key(c.Keys.PartyMembers(id)).Member(player).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redisx: party members: %w", err)
	}
	return true, nil
}

// releasePointer deletes player's pointer if it names party id.
func (c *Client) releasePointer(ctx context.Context, player, id string) error {
	if err := c.scripts.party.ptrRelease.Exec(ctx, c.R, []string{c.Keys.PlayerParty(player)}, []string{id}).Error(); err != nil {
		return fmt.Errorf("redisx: party pointer release: %w", err)
	}
	return nil
}

// rollback undoes a pointer claim after the party refused the player; a
// failure only leaves a stale pointer, which readers drop, so it joins err.
func (c *Client) rollback(ctx context.Context, r partyReply, player, id string, err error) error {
	if r.found && slices.Contains(r.party.Members, player) {
		return err
	}
	return errors.Join(err, c.releasePointer(ctx, player, id))
}

// PartyCreate creates party id led by leader, its only member. It first
// points the leader at the party (ErrInParty when the leader's pointer
// names another party that lists it), then creates the party, then lists
// it in the index. It is idempotent for the same id and leader.
func (c *Client) PartyCreate(ctx context.Context, id, leader string, open bool, maxSize int, ttl time.Duration) (Party, error) {
	if err := validParty(ttl, id, leader); err != nil {
		return Party{}, err
	}
	if maxSize < 1 {
		return Party{}, fmt.Errorf("%w: max size %d", ErrPartyInvalid, maxSize)
	}
	if err := c.claimPointer(ctx, leader, id, ttl); err != nil {
		return Party{}, err
	}
	o := "0"
	if open {
		o = "1"
	}
	r, err := c.partyRun(ctx, c.scripts.party.create, "create", id, leader, o, strconv.Itoa(maxSize), ms(ttl))
	if err != nil {
		return Party{}, err
	}
	if err := r.err(); err != nil {
		return r.party, c.rollback(ctx, r, leader, id, err)
	}
	if err := c.indexParty(ctx, id, ttl); err != nil {
		return r.party, err
	}
	return r.party, nil
}

func (c *Client) indexParty(ctx context.Context, id string, ttl time.Duration) error {
	if err := c.scripts.party.index.Exec(ctx, c.R, []string{c.Keys.PartyIndex()}, []string{id, ms(ttl)}).Error(); err != nil {
		return fmt.Errorf("redisx: party index: %w", err)
	}
	return nil
}

// PartyGet reads party id; false when it does not exist.
func (c *Client) PartyGet(ctx context.Context, id string) (Party, bool, error) {
	if id == "" {
		return Party{}, false, fmt.Errorf("%w: empty id", ErrPartyInvalid)
	}
	r, err := c.partyRun(ctx, c.scripts.party.get, "get", id)
	if err != nil {
		return Party{}, false, err
	}
	if r.code == partyNotFound {
		return Party{}, false, nil
	}
	if err := r.err(); err != nil || !r.found {
		return Party{}, false, fmt.Errorf("%w: party get: code %d", ErrBadReply, r.code)
	}
	return r.party, true, nil
}

// PartyOf returns the player's live party through its pointer. A stale
// pointer (the party is gone or does not list the player) is deleted,
// compare-and-delete, and reported as false.
func (c *Client) PartyOf(ctx context.Context, player string) (Party, bool, error) {
	id, err := c.R.Do(ctx, c.R.B().Get().Key(c.Keys.PlayerParty(player)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return Party{}, false, nil
	}
	if err != nil {
		return Party{}, false, fmt.Errorf("redisx: party of: %w", err)
	}
	p, ok, err := c.PartyGet(ctx, id)
	if err != nil {
		return Party{}, false, err
	}
	if ok && slices.Contains(p.Members, player) {
		return p, true, nil
	}
	return Party{}, false, c.releasePointer(ctx, player, id)
}

// PartyJoin adds player to party id: it points the player at the party
// (ErrInParty when in another live party), then joins it, undoing the
// pointer when the party refuses: ErrPartyNotFound, ErrPartyForbidden
// (closed and no unexpired invitation), ErrPartyFull, ErrPartyStale (the
// queue marker is not expectQueue: the caller takes the party's ticket out
// and retries with the marker it saw). A join clears the marker, and then
// the player's invitation. Joining again is a no-op.
func (c *Client) PartyJoin(ctx context.Context, id, player string, expectQueue string, ttl time.Duration) (Party, error) {
	if err := validParty(ttl, id, player); err != nil {
		return Party{}, err
	}
	if err := c.claimPointer(ctx, player, id, ttl); err != nil {
		return Party{}, err
	}
	r, err := c.partyRun(ctx, c.scripts.party.join, "join", id, player, expectQueue, ms(ttl))
	if err != nil {
		return Party{}, err
	}
	if err := r.err(); err != nil {
		return r.party, c.rollback(ctx, r, player, id, err)
	}
	if err := c.R.Do(ctx, c.R.B().Hdel().Key(c.Keys.PlayerInvites(player)).Field(id).Build()).Error(); err != nil {
		return r.party, fmt.Errorf("redisx: party join: drop invitation: %w", err)
	}
	return r.party, nil
}

// PartyLeave takes player out of party id (ErrPartyNotFound when the party
// is gone, ErrPartyForbidden when it does not list the player,
// ErrPartyStale when its queue marker is not expectQueue). A leaving
// leader hands the lead to the earliest-joined member; the last member's
// leave deletes the party (disbanded) and its index entry. Then the
// player's pointer goes, if it names the party.
func (c *Client) PartyLeave(ctx context.Context, id, player, expectQueue string, ttl time.Duration) (p Party, disbanded bool, err error) {
	if err := validParty(ttl, id, player); err != nil {
		return Party{}, false, err
	}
	r, err := c.partyRun(ctx, c.scripts.party.leave, "leave", id, player, expectQueue, ms(ttl))
	if err != nil {
		return Party{}, false, err
	}
	switch err := r.err(); {
	case errors.Is(err, ErrPartyNotFound), errors.Is(err, ErrPartyForbidden):
		// Not a member: a pointer to the party is stale.
		return r.party, false, errors.Join(err, c.releasePointer(ctx, player, id))
	case err != nil:
		return r.party, false, err
	}
	disbanded = r.extra == "1"
	if disbanded {
		if err := c.R.Do(ctx, c.R.B().Zrem().Key(c.Keys.PartyIndex()).Member(id).Build()).Error(); err != nil {
			return r.party, true, fmt.Errorf("redisx: party leave: index: %w", err)
		}
	}
	return r.party, disbanded, c.releasePointer(ctx, player, id)
}
