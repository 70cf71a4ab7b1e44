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
}

// Free is the capacity left for new matches.
func (g GameServer) Free() int { return g.Capacity - g.Active - g.Allocated }

// RegisterServer registers or renews a game server until ttl passes without
// a renewal. A renewal resets the allocations counted since the last one,
// because the server's own report of active matches supersedes them.
func (c *Client) RegisterServer(ctx context.Context, g GameServer, ttl time.Duration, now time.Time) error {
	k := c.Keys.Server(g.ID)
	exp := now.Add(ttl)
	for _, res := range c.R.DoMulti(ctx,
		c.R.B().Hset().Key(k).FieldValue().FieldValue("addr", g.Addr).FieldValue("capacity", strconv.Itoa(g.Capacity)).
			FieldValue("active", strconv.Itoa(g.Active)).FieldValue("allocated", "0").Build(),
		c.R.B().Pexpire().Key(k).Milliseconds(ttl.Milliseconds()).Build(),
		c.R.B().Zadd().Key(c.Keys.Servers()).ScoreMember().ScoreMember(float64(exp.UnixMilli()), g.ID).Build(),
	) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("redisx: register server: %w", err)
		}
	}
	return nil
}

// RemoveServer deregisters a game server.
func (c *Client) RemoveServer(ctx context.Context, id string) error {
	for _, res := range c.R.DoMulti(ctx,
		c.R.B().Del().Key(c.Keys.Server(id)).Build(),
		c.R.B().Zrem().Key(c.Keys.Servers()).Member(id).Build()) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("redisx: remove server: %w", err)
		}
	}
	return nil
}

// Servers lists the live registrations, dropping expired ones.
func (c *Client) Servers(ctx context.Context, now time.Time) ([]GameServer, error) {
	nowS := strconv.FormatInt(now.UnixMilli(), 10)
	res := c.R.DoMulti(ctx,
		c.R.B().Zremrangebyscore().Key(c.Keys.Servers()).Min("-inf").Max(nowS).Build(),
		c.R.B().Zrangebyscore().Key(c.Keys.Servers()).Min("("+nowS).Max("+inf").Withscores().Build())
	zs, err := res[1].AsZScores()
	if err != nil {
		return nil, fmt.Errorf("redisx: servers: %w", err)
	}
	if len(zs) == 0 {
		return nil, nil
	}
	cmds := make([]string, 0, len(zs))
	for _, z := range zs {
		cmds = append(cmds, z.Member)
	}
	out := make([]GameServer, 0, len(zs))
	for i, r := range c.R.DoMulti(ctx, hgetalls(c, cmds)...) {
		m, err := r.AsStrMap()
		if err != nil || len(m) == 0 {
			continue
		}
		g := GameServer{ID: cmds[i], Addr: m["addr"], ExpiresAt: time.UnixMilli(int64(zs[i].Score))}
		g.Capacity, _ = strconv.Atoi(m["capacity"])
		g.Active, _ = strconv.Atoi(m["active"])
		g.Allocated, _ = strconv.Atoi(m["allocated"])
		out = append(out, g)
	}
	return out, nil
}

// CountAllocation records a match sent to a server.
func (c *Client) CountAllocation(ctx context.Context, id string) error {
	return c.R.Do(ctx, c.R.B().Hincrby().Key(c.Keys.Server(id)).Field("allocated").Increment(1).Build()).Error()
}

func hgetalls(c *Client, ids []string) []rueidis.Completed {
	out := make([]rueidis.Completed, len(ids))
	for i, id := range ids {
		out[i] = c.R.B().Hgetall().Key(c.Keys.Server(id)).Build()
	}
	return out
}
