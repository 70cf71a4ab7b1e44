package redisx

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// QueueInsight is what a mode's lease holder publishes about its last tick
// while tickets wait, so any node can show it (GET /debug/cluster).
type QueueInsight struct {
	Node    string
	Fence   int64
	TickMs  int64 // Redis's clock at the holder's last tick
	TookUs  int64 // that tick's duration
	Oldest  int64 // age of the oldest waiting ticket, ms
	Tickets int
}

// Verdict is the matcher's last word on one player's ticket, as the lease
// holder published it.
type Verdict struct {
	Verdict string `json:"verdict"`
	Ticket  string `json:"ticket_id"`
	AtMs    int64  `json:"at_ms"`
}

// EncodeVerdict is the verdicts hash's value for v.
func EncodeVerdict(v Verdict) string {
	return v.Verdict + "|" + v.Ticket + "|" + strconv.FormatInt(v.AtMs, 10)
}

// DecodeVerdict reads a verdicts hash value; false for one it cannot read.
func DecodeVerdict(s string) (Verdict, bool) {
	parts := strings.SplitN(s, "|", 3)
	if len(parts) != 3 {
		return Verdict{}, false
	}
	at, _ := strconv.ParseInt(parts[2], 10, 64)
	return Verdict{Verdict: parts[0], Ticket: parts[1], AtMs: at}, true
}

// PublishInsight writes the holder's tick summary and the changes to its
// verdicts (set: player -> encoded verdict; del: players no longer judged)
// in one pipelined round trip; both keys live ttl past the last write, so
// a holder that stops leaves nothing behind.
func (c *Client) PublishInsight(ctx context.Context, mode string, in QueueInsight, set map[string]string, del []string, ttl time.Duration) error {
	info, why := c.Keys.Insight(mode), c.Keys.Verdicts(mode)
	// One transaction, so no reader ever sees a key without its TTL.
	cmds := rueidis.Commands{
		c.R.B().Multi().Build(),
		c.R.B().Hset().Key(info).FieldValue().
			FieldValue("node", in.Node).FieldValue("fence", i64(in.Fence)).FieldValue("tick_ms", i64(in.TickMs)).
			FieldValue("took_us", i64(in.TookUs)).FieldValue("oldest_ms", i64(in.Oldest)).
			FieldValue("tickets", strconv.Itoa(in.Tickets)).Build(),
		c.R.B().Pexpire().Key(info).Milliseconds(ttl.Milliseconds()).Build(),
	}
	if len(del) > 0 {
		cmds = append(cmds, unpooled(c.R.B().Hdel().Key(why).Field(del...).Build()))
	}
	if len(set) > 0 {
		b := c.R.B().Hset().Key(why).FieldValue()
		for p, v := range set {
			b = b.FieldValue(p, v)
		}
		cmds = append(cmds, unpooled(b.Build()))
	}
	cmds = append(cmds, c.R.B().Pexpire().Key(why).Milliseconds(ttl.Milliseconds()).Build(), c.R.B().Exec().Build())
	res := c.R.DoMulti(ctx, cmds...)
	for _, r := range res {
		if err := r.Error(); err != nil {
			return fmt.Errorf("redisx: publish insight: %w", err)
		}
	}
	replies, err := res[len(res)-1].ToArray()
	if err != nil {
		return fmt.Errorf("redisx: publish insight: %w", err)
	}
	for _, r := range replies {
		if err := r.Error(); err != nil {
			return fmt.Errorf("redisx: publish insight: %w", err)
		}
	}
	return nil
}

// ClearInsight deletes a mode's published insight (its queue emptied).
func (c *Client) ClearInsight(ctx context.Context, mode string) error {
	if err := c.R.Do(ctx, c.R.B().Del().Key(c.Keys.Insight(mode), c.Keys.Verdicts(mode)).Build()).Error(); err != nil {
		return fmt.Errorf("redisx: clear insight: %w", err)
	}
	return nil
}

// TicketView is one queued ticket as an operator sees it.
type TicketView struct {
	Ticket Ticket
	// WaitSinceMs starts the ticket's current wait (max_wait counts from it).
	WaitSinceMs int64
	// Verdict is the lease holder's last word on it (nil: none yet).
	Verdict *Verdict
}

// TicketViews reads the given tickets of a mode (ids) with their wait
// starts and the verdicts on their players, in one round trip. Tickets no
// longer queued are left out.
func (c *Client) TicketViews(ctx context.Context, mode string, ids, players []string) (map[string]TicketView, error) {
	out := make(map[string]TicketView, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	res := c.R.DoMulti(ctx,
		unpooled(c.R.B().Hmget().Key(c.Keys.Tickets(mode)).Field(ids...).Build()),
		unpooled(c.R.B().Zmscore().Key(c.Keys.Waits(mode)).Member(ids...).Build()),
		unpooled(c.R.B().Hmget().Key(c.Keys.Verdicts(mode)).Field(players...).Build()))
	tickets, err := res[0].ToArray()
	if err != nil {
		return nil, fmt.Errorf("redisx: ticket views: %w", err)
	}
	waits, err := res[1].ToArray()
	if err != nil {
		return nil, fmt.Errorf("redisx: ticket views: %w", err)
	}
	verdicts, err := res[2].ToArray()
	if err != nil {
		return nil, fmt.Errorf("redisx: ticket views: %w", err)
	}
	for i, id := range ids {
		s, err := tickets[i].ToString()
		if err != nil {
			continue // not queued any more
		}
		var v TicketView
		if err := json.Unmarshal([]byte(s), &v.Ticket); err != nil {
			return nil, fmt.Errorf("redisx: ticket %s: %w", id, err)
		}
		if i < len(waits) {
			if f, err := waits[i].AsFloat64(); err == nil {
				v.WaitSinceMs = int64(f)
			}
		}
		if i < len(verdicts) {
			if s, err := verdicts[i].ToString(); err == nil {
				if vd, ok := DecodeVerdict(s); ok && vd.Ticket == id {
					v.Verdict = &vd
				}
			}
		}
		out[id] = v
	}
	return out, nil
}

// PlayerVerdict is the lease holder's last word on the player in mode, if
// it published one.
func (c *Client) PlayerVerdict(ctx context.Context, mode, player string) (*Verdict, error) {
	s, err := c.R.Do(ctx, c.R.B().Hget().Key(c.Keys.Verdicts(mode)).Field(player).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisx: player verdict: %w", err)
	}
	v, ok := DecodeVerdict(s)
	if !ok {
		return nil, nil
	}
	return &v, nil
}

// LiveNode is one node whose liveness key exists.
type LiveNode struct {
	Node string
	// SeenMs is Redis's clock at its last heartbeat.
	SeenMs int64
}

// LiveNodes lists every node whose liveness key exists, by scanning for the
// keys (every master on Cluster): a debug read, never on a hot path.
func (c *Client) LiveNodes(ctx context.Context) ([]LiveNode, error) {
	pattern := c.Keys.Node("*")
	prefix := strings.TrimSuffix(pattern, "*")
	seen := map[string]bool{}
	var keys []string
	nodes := c.R.Nodes()
	if len(nodes) == 0 {
		nodes = map[string]rueidis.Client{"": c.R}
	}
	for _, n := range nodes {
		var cursor uint64
		for {
			e, err := n.Do(ctx, n.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Build()).AsScanEntry()
			if err != nil {
				return nil, fmt.Errorf("redisx: live nodes: %w", err)
			}
			for _, k := range e.Elements {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			if e.Cursor == 0 {
				break
			}
			cursor = e.Cursor
		}
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		names = append(names, strings.TrimPrefix(k, prefix))
	}
	seenMs, err := c.NodesSeen(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make([]LiveNode, 0, len(seenMs))
	for n, ms := range seenMs {
		out = append(out, LiveNode{Node: n, SeenMs: ms})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// LeaseView is who holds a mode's matching lease, read from Redis.
type LeaseView struct {
	Mode string
	// Holder is the node holding the lease ("" when nobody does).
	Holder string
	Fence  int64
	// TTLMs is what is left of the lease; the holder renews it every
	// lock_ttl/3 while it ticks.
	TTLMs int64
	// Queued is the mode's queue depth.
	Queued int64
	// Insight is the holder's last published tick, while tickets wait.
	Insight *QueueInsight
}

// Leases reads every given mode's lease, fence, queue depth and published
// insight in one round trip.
func (c *Client) Leases(ctx context.Context, modes []string) ([]LeaseView, error) {
	const per = 5
	cmds := make(rueidis.Commands, 0, per*len(modes))
	for _, m := range modes {
		cmds = append(cmds,
			c.R.B().Get().Key(c.Keys.Lock(m)).Build(),
			c.R.B().Pttl().Key(c.Keys.Lock(m)).Build(),
			c.R.B().Get().Key(c.Keys.Fence(m)).Build(),
			c.R.B().Zcard().Key(c.Keys.Queue(m)).Build(),
			c.R.B().Hgetall().Key(c.Keys.Insight(m)).Build())
	}
	res := c.R.DoMulti(ctx, cmds...)
	out := make([]LeaseView, len(modes))
	for i, m := range modes {
		r := res[per*i : per*i+per]
		v := LeaseView{Mode: m}
		if tok, err := r[0].ToString(); err == nil {
			v.Holder = LeaseHolder(tok)
		} else if !rueidis.IsRedisNil(err) {
			return nil, fmt.Errorf("redisx: leases: %w", err)
		}
		v.TTLMs, _ = r[1].AsInt64()
		v.Fence, _ = r[2].AsInt64()
		v.Queued, _ = r[3].AsInt64()
		if h, err := r[4].AsStrMap(); err == nil && len(h) > 0 {
			in := QueueInsight{Node: h["node"]}
			in.Fence, _ = strconv.ParseInt(h["fence"], 10, 64)
			in.TickMs, _ = strconv.ParseInt(h["tick_ms"], 10, 64)
			in.TookUs, _ = strconv.ParseInt(h["took_us"], 10, 64)
			in.Oldest, _ = strconv.ParseInt(h["oldest_ms"], 10, 64)
			in.Tickets, _ = strconv.Atoi(h["tickets"])
			v.Insight = &in
		}
		out[i] = v
	}
	return out, nil
}

// LeaseHolder is the node named by a lease token (LeaseToken: the node,
// then a random part after the last "|"), or "" for a token that names
// none.
func LeaseHolder(token string) string {
	i := strings.LastIndex(token, "|")
	if i <= 0 {
		return ""
	}
	return token[:i]
}
