package redisx

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// GameServer is one registered game server (allocator.mode http).
type GameServer struct {
	ID       string `json:"id"`
	Addr     string `json:"addr"`
	Capacity int    `json:"capacity"`
	// Active is the number of matches the server reported at its last
	// heartbeat; Allocated counts matches sent to it since then.
	Active    int       `json:"active"`
	Allocated int       `json:"allocated"`
	ExpiresAt time.Time `json:"expires_at"`
	// Region is where the server runs ("" serves any region).
	Region string `json:"region,omitempty"`
}

// Free is the capacity left for new matches.
func (g GameServer) Free() int { return g.Capacity - g.Active - g.Allocated }

// RegisterServer registers or renews a game server until ttl passes (by
// Redis's clock) without a renewal. A renewal resets the allocations
// counted since the last one, because the server's own report of active
// matches supersedes them.
func (c *Client) RegisterServer(ctx context.Context, g GameServer, ttl time.Duration) error {
	if err := c.scripts.serverRegister.Exec(ctx, c.R, []string{c.Keys.Server(g.ID), c.Keys.Servers()},
		[]string{g.ID, g.Addr, strconv.Itoa(g.Capacity), strconv.Itoa(g.Active), ms(ttl), g.Region}).Error(); err != nil {
		return fmt.Errorf("redisx: register server: %w", err)
	}
	return nil
}

// RemoveServer deregisters a game server.
func (c *Client) RemoveServer(ctx context.Context, id string) error {
	if err := c.scripts.serverRemove.Exec(ctx, c.R, []string{c.Keys.Server(id), c.Keys.Servers()}, []string{id}).Error(); err != nil {
		return fmt.Errorf("redisx: remove server: %w", err)
	}
	return nil
}

// Servers lists the live registrations (by Redis's clock), dropping
// expired ones from the index.
func (c *Client) Servers(ctx context.Context) ([]GameServer, error) {
	arr, err := c.scripts.serversLive.Exec(ctx, c.R, []string{c.Keys.Servers()}, nil).ToArray()
	if err != nil {
		return nil, fmt.Errorf("redisx: servers: %w", err)
	}
	if len(arr)%2 != 0 {
		return nil, ErrBadReply
	}
	if len(arr) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(arr)/2)
	exps := make([]int64, 0, len(arr)/2)
	cmds := make(rueidis.Commands, 0, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		id, err := arr[i].ToString()
		if err != nil {
			return nil, fmt.Errorf("%w: server id: %v", ErrBadReply, err)
		}
		exp, err := replyInt(arr[i+1])
		if err != nil {
			return nil, fmt.Errorf("%w: server expiry: %v", ErrBadReply, err)
		}
		ids, exps = append(ids, id), append(exps, exp)
		cmds = append(cmds, c.R.B().Hmget().Key(c.Keys.Server(id)).Field("addr", "capacity", "active", "allocated", "region").Build())
	}
	out := make([]GameServer, 0, len(ids))
	for i, r := range c.R.DoMulti(ctx, cmds...) {
		f, err := r.ToArray()
		if err != nil {
			return nil, fmt.Errorf("redisx: servers: %w", err)
		}
		if len(f) != 5 {
			return nil, ErrBadReply
		}
		addr, err := f[0].ToString()
		if err != nil {
			continue // lapsed between the two reads
		}
		g := GameServer{ID: ids[i], Addr: addr, ExpiresAt: time.UnixMilli(exps[i])}
		num := func(m rueidis.RedisMessage) int {
			s, _ := m.ToString() // absent fields read as 0
			n, _ := strconv.Atoi(s)
			return n
		}
		g.Capacity, g.Active, g.Allocated = num(f[1]), num(f[2]), num(f[3])
		g.Region, _ = f[4].ToString()
		out = append(out, g)
	}
	return out, nil
}

// CountAllocation records a match sent to a server. It never recreates a
// registration that lapsed meanwhile (counted reports whether it counted).
func (c *Client) CountAllocation(ctx context.Context, id string) (counted bool, err error) {
	n, err := c.scripts.serverCount.Exec(ctx, c.R, []string{c.Keys.Server(id)}, nil).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: count allocation: %w", err)
	}
	return n == 1, nil
}
