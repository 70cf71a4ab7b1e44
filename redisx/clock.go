package redisx

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Clock is this node's view of Redis's clock, the clock of record: every
// decision two nodes must agree on (deadlines, max_wait, adoption, lease
// and sanction expiry) is made by Redis TIME inside a script, or by this
// estimate of it where no script runs. The node's own clock (which may be
// skewed; debug.clock_offset skews it on purpose) only schedules when to
// ask. The estimate is the node's clock plus the offset last measured
// against Redis (TIME read at each node heartbeat, corrected by half the
// round trip), so it is off by at most about half a round trip.
type Clock struct {
	local  func() time.Time
	offset atomic.Int64 // ms to add to the local clock
	known  atomic.Bool
}

// NewClock returns a clock over local (nil: time.Now).
func NewClock(local func() time.Time) *Clock {
	if local == nil {
		local = time.Now
	}
	return &Clock{local: local}
}

// Local is the node's own clock.
func (c *Clock) Local() time.Time { return c.local() }

// Now is the estimate of Redis's clock.
func (c *Clock) Now() time.Time {
	return c.local().Add(time.Duration(c.offset.Load()) * time.Millisecond)
}

// NowMs is Now in unix milliseconds.
func (c *Clock) NowMs() int64 { return c.Now().UnixMilli() }

// Offset is Redis's clock minus the node's, as last measured.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) * time.Millisecond }

// observe records a TIME reading redisMs taken between sent and recv (node
// clock).
func (c *Clock) observe(redisMs int64, sent, recv time.Time) {
	mid := sent.Add(recv.Sub(sent) / 2)
	c.offset.Store(redisMs - mid.UnixMilli())
	c.known.Store(true)
}

// TouchNode renews this node's liveness key with Redis's clock of the
// heartbeat as its value (others read it to tell a node that was stalled
// from one that was not), and measures the clock's offset on the way.
func (c *Client) TouchNode(ctx context.Context, node string, ttl time.Duration) error {
	sent := c.Clock.Local()
	now, err := c.scripts.nodeTouch.Exec(ctx, c.R, []string{c.Keys.Node(node)}, []string{ms(ttl)}).AsInt64()
	if err != nil {
		return fmt.Errorf("redisx: touch node: %w", err)
	}
	c.Clock.observe(now, sent, c.Clock.Local())
	return nil
}

// NodesSeen returns, for each node whose liveness key exists, Redis's clock
// at its last heartbeat (ms); a node missing from the map is dead.
func (c *Client) NodesSeen(ctx context.Context, nodes []string) (map[string]int64, error) {
	out := make(map[string]int64, len(nodes))
	if len(nodes) == 0 {
		return out, nil
	}
	cmds := make(rueidis.Commands, len(nodes))
	for i, n := range nodes {
		cmds[i] = c.R.B().Get().Key(c.Keys.Node(n)).Build()
	}
	for i, r := range c.R.DoMulti(ctx, cmds...) {
		v, err := r.AsInt64()
		if err != nil {
			if rueidis.IsRedisNil(err) {
				continue
			}
			return nil, fmt.Errorf("redisx: nodes seen: %w", err)
		}
		out[nodes[i]] = v
	}
	return out, nil
}
