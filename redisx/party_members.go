package redisx

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// PlayerProfile is the key of what a party's leader needs to know of a
// member to queue it: its rating and device, as its own connection
// authenticated them. It shares the player's directory slot.
func (k Keys) PlayerProfile(player string) string { return k.Dir(player) + ":prof" }

// SetProfile records the player's rating and device for its party's
// enqueue, for ttl (renewed while the player is in a party).
func (c *Client) SetProfile(ctx context.Context, player string, rating float64, device string, ttl time.Duration) error {
	key := c.Keys.PlayerProfile(player)
	res := c.R.DoMulti(ctx,
		c.R.B().Hset().Key(key).FieldValue().FieldValue("rating", strconv.FormatFloat(rating, 'g', -1, 64)).FieldValue("device", device).Build(),
		c.R.B().Pexpire().Key(key).Milliseconds(ttl.Milliseconds()).Build())
	for _, r := range res {
		if err := r.Error(); err != nil {
			return fmt.Errorf("redisx: set profile: %w", err)
		}
	}
	return nil
}

// MemberInfo is what a party's enqueue knows of one member.
type MemberInfo struct {
	Player string
	// Connected: a live session holds the player (its directory entry
	// names a live node), including one whose connection is within its
	// reconnect grace.
	Connected bool
	// Busy: the player holds a ticket or a seat in one of the modes.
	Busy bool
	// Profiled: the member's rating and device are known.
	Profiled bool
	Rating   float64
	Device   string
}

// ReadMembers reads, in one round trip (and one more for the liveness of
// the nodes their sessions are on), whether each player is connected,
// whether it holds anything in any of modes, and its profile.
func (c *Client) ReadMembers(ctx context.Context, players, modes []string) ([]MemberInfo, error) {
	cmds := make(rueidis.Commands, 0, 2*len(players)+len(modes))
	for _, p := range players {
		cmds = append(cmds,
			c.R.B().Hget().Key(c.Keys.Dir(p)).Field("node").Build(),
			c.R.B().Hmget().Key(c.Keys.PlayerProfile(p)).Field("rating", "device").Build())
	}
	for _, m := range modes {
		cmds = append(cmds, c.R.B().Hmget().Key(c.Keys.Players(m)).Field(players...).Build())
	}
	res := c.R.DoMulti(ctx, cmds...)
	out := make([]MemberInfo, len(players))
	nodes := make([]string, len(players))
	for i, p := range players {
		out[i].Player = p
		node, err := res[2*i].ToString()
		switch {
		case rueidis.IsRedisNil(err):
		case err != nil:
			return nil, fmt.Errorf("redisx: read members: %w", err)
		default:
			nodes[i] = node
		}
		prof, err := res[2*i+1].ToArray()
		if err != nil {
			return nil, fmt.Errorf("redisx: read members: %w", err)
		}
		if len(prof) == 2 {
			if r, err := prof[0].ToString(); err == nil {
				if v, err := strconv.ParseFloat(r, 64); err == nil {
					out[i].Rating, out[i].Profiled = v, true
				}
			}
			out[i].Device, _ = prof[1].ToString()
		}
	}
	if err := c.onLiveNodes(ctx, out, nodes); err != nil {
		return nil, err
	}
	for j := range modes {
		vals, err := res[2*len(players)+j].ToArray()
		if err != nil {
			return nil, fmt.Errorf("redisx: read members: %w", err)
		}
		for i := range players {
			if i < len(vals) {
				if s, err := vals[i].ToString(); err == nil && parseEntry(s).Kind != EntryNone {
					out[i].Busy = true
				}
			}
		}
	}
	return out, nil
}

// onLiveNodes marks out[i] connected when nodes[i], the node its
// directory entry names, is alive. A directory entry outlives its node by
// up to session.directory_ttl; a session on a node that died is gone, and
// its player is no longer connected (its grace, which that node would have
// counted, died with it).
func (c *Client) onLiveNodes(ctx context.Context, out []MemberInfo, nodes []string) error {
	var distinct []string
	for _, n := range nodes {
		if n != "" && !slices.Contains(distinct, n) {
			distinct = append(distinct, n)
		}
	}
	if len(distinct) == 0 {
		return nil
	}
	cmds := make(rueidis.Commands, len(distinct))
	for i, n := range distinct {
		cmds[i] = c.R.B().Exists().Key(c.Keys.Node(n)).Build()
	}
	alive := make(map[string]bool, len(distinct))
	for i, r := range c.R.DoMulti(ctx, cmds...) {
		n, err := r.AsInt64()
		if err != nil {
			return fmt.Errorf("redisx: read members: node liveness: %w", err)
		}
		alive[distinct[i]] = n == 1
	}
	for i, n := range nodes {
		out[i].Connected = n != "" && alive[n]
	}
	return nil
}

// BanSubject is a player and its device ("" when unknown), whose bans
// apply together.
type BanSubject struct {
	Player, Device string
}

// BannedForEach is BannedFor of many players at once, in one round trip:
// out[i] is how long subjects[i] stays banned (0: not banned).
func (s *Sanctions) BannedForEach(ctx context.Context, subjects []BanSubject) ([]time.Duration, error) {
	pol, now := s.policy(), s.now()
	cmds := make(rueidis.Commands, 0, 2*len(subjects))
	owner := make([]int, 0, 2*len(subjects))
	for i, sub := range subjects {
		cmds = append(cmds, s.live("player", sub.Player, now, pol))
		owner = append(owner, i)
		if sub.Device != "" {
			cmds = append(cmds, s.live("device", sub.Device, now, pol))
			owner = append(owner, i)
		}
	}
	out := make([]time.Duration, len(subjects))
	for j, res := range s.c.R.DoMulti(ctx, cmds...) {
		zs, err := res.AsZScores()
		if err != nil {
			return nil, fmt.Errorf("redisx: ban check: %w", err)
		}
		st := s.status(zs, pol, now)
		out[owner[j]] = max(out[owner[j]], time.Duration(st.BannedForMs)*time.Millisecond)
	}
	return out, nil
}
