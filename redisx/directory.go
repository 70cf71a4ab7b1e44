package redisx

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// DirEntry is a player's directory entry.
type DirEntry struct {
	Node    string
	Session string
}

// DirClaim makes session on node the player's one live session and returns
// the entry it replaced.
func (c *Client) DirClaim(ctx context.Context, player, node, session string, ttl time.Duration) (DirEntry, error) {
	arr, err := c.scripts.dirClaim.Exec(ctx, c.R, []string{c.Keys.Dir(player)}, []string{node, session, ms(ttl)}).AsStrSlice()
	if err != nil {
		return DirEntry{}, fmt.Errorf("redisx: dir claim: %w", err)
	}
	if len(arr) != 2 {
		return DirEntry{}, ErrBadReply
	}
	return DirEntry{Node: arr[0], Session: arr[1]}, nil
}

// DirTouch renews the entry for session on node, recreating it when Redis
// lost it; false means another session owns the player now.
func (c *Client) DirTouch(ctx context.Context, player, node, session string, ttl time.Duration) (bool, error) {
	n, err := c.scripts.dirTouch.Exec(ctx, c.R, []string{c.Keys.Dir(player)}, []string{session, ms(ttl), node}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: dir touch: %w", err)
	}
	return n != 0, nil
}

// DirLease is one session's claim on its player's directory entry.
type DirLease struct {
	Player, Session string
}

// DirTouchBatch renews many sessions' entries in one pipelined round trip;
// owned[i] is false when another session owns leases[i]'s player now.
func (c *Client) DirTouchBatch(ctx context.Context, node string, leases []DirLease, ttl time.Duration) ([]bool, error) {
	owned := make([]bool, len(leases))
	if len(leases) == 0 {
		return owned, nil
	}
	t := ms(ttl)
	build := func() rueidis.Commands {
		cmds := make(rueidis.Commands, len(leases))
		for i, l := range leases {
			cmds[i] = c.R.B().Evalsha().Sha1(c.scripts.dirTouchSHA).Numkeys(1).Key(c.Keys.Dir(l.Player)).Arg(l.Session, t, node).Build()
		}
		return cmds
	}
	res := c.R.DoMulti(ctx, build()...)
	if noScript(res) {
		// Redis lost its script cache (or never had the script): load it
		// through one plain call, then send the batch again.
		if _, err := c.DirTouch(ctx, leases[0].Player, node, leases[0].Session, ttl); err != nil {
			return nil, err
		}
		res = c.R.DoMulti(ctx, build()...)
	}
	for i, r := range res {
		n, err := r.AsInt64()
		if err != nil {
			return nil, fmt.Errorf("redisx: dir touch batch: %w", err)
		}
		owned[i] = n != 0
	}
	return owned, nil
}

// DirRelease removes the entry if session still owns it.
func (c *Client) DirRelease(ctx context.Context, player, session string) error {
	if err := c.scripts.dirRelease.Exec(ctx, c.R, []string{c.Keys.Dir(player)}, []string{session}).Error(); err != nil {
		return fmt.Errorf("redisx: dir release: %w", err)
	}
	return nil
}

// DirNodes returns the node owning each player that has a live entry, in one
// round trip.
func (c *Client) DirNodes(ctx context.Context, players []string) (map[string]string, error) {
	cmds := make(rueidis.Commands, len(players))
	for i, p := range players {
		cmds[i] = c.R.B().Hget().Key(c.Keys.Dir(p)).Field("node").Build()
	}
	out := make(map[string]string, len(players))
	for i, res := range c.R.DoMulti(ctx, cmds...) {
		s, err := res.ToString()
		if rueidis.IsRedisNil(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("redisx: dir nodes: %w", err)
		}
		out[players[i]] = s
	}
	return out, nil
}

// DropNode removes this node's liveness key at shutdown so that other nodes
// adopt its rooms at once.
func (c *Client) DropNode(ctx context.Context, node string) error {
	return c.R.Do(ctx, c.R.B().Del().Key(c.Keys.Node(node)).Build()).Error()
}

// NodeAlive reports whether a node's liveness key exists.
func (c *Client) NodeAlive(ctx context.Context, node string) (bool, error) {
	n, err := c.R.Do(ctx, c.R.B().Exists().Key(c.Keys.Node(node)).Build()).AsInt64()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// Epoch returns the Redis data epoch, setting it to candidate when there is
// none. A changed epoch means Redis lost its data (restarted empty, or a
// replica without it was promoted): nodes then re-assert what their
// connected players hold.
func (c *Client) Epoch(ctx context.Context, candidate string) (string, error) {
	res := c.R.DoMulti(ctx,
		c.R.B().Set().Key(c.Keys.Epoch()).Value(candidate).Nx().Build(),
		c.R.B().Get().Key(c.Keys.Epoch()).Build())
	s, err := res[1].ToString()
	if err != nil {
		return "", fmt.Errorf("redisx: epoch: %w", err)
	}
	return s, nil
}
