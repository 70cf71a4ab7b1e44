package redisx

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// QueueChanges is what changed in a mode's queue since the last call.
type QueueChanges struct {
	// NowMs is Redis's clock when the changes were taken: the leader
	// matches (rating windows, max_wait) by it, not by its own clock.
	NowMs int64
	// Queued is the lane's pool's size when the changes were taken;
	// ModeQueued the whole mode's (the same without regions).
	Queued     int64
	ModeQueued int64
	Added      []Ticket
	Removed    []string
	// Expired are the tickets whose current wait passed max_wait.
	Expired []string
}

// TakeQueueChanges hands out, once, the tickets added to and removed from
// the mode's queue since the last call, for the holder of lease only.
func (c *Client) TakeQueueChanges(ctx context.Context, mode string, lease Lease, maxWait time.Duration) (QueueChanges, error) {
	var out QueueChanges
	err := c.DoTogether(ctx, c.QueueChangesRead(mode, lease, maxWait, &out))
	return out, err
}

// QueueChangesRead is TakeQueueChanges as a Read, to share a round trip;
// out is filled when the read succeeds. A lease that is no longer current
// reads nothing and fails with ErrLeaseLost. A region's lease (its Region
// set) reads that region's pool's changes.
func (c *Client) QueueChangesRead(mode string, lease Lease, maxWait time.Duration, out *QueueChanges) *Read {
	k := c.Keys
	l := Lane{Mode: mode, Region: lease.Region}
	keys := []string{k.LaneAdded(l), k.LaneRemoved(l), k.Tickets(mode), k.LaneQueue(l), k.LaneLock(l), k.LaneFence(l), k.Waits(mode), k.Queue(mode)}
	args := []string{lease.Token, i64(lease.Fence), ms(maxWait)}
	return c.scriptRead(c.scripts.queueChanges, c.scripts.queueChangesSHA, keys, args, func(r rueidis.RedisResult) error {
		arr, err := r.ToArray()
		if err != nil {
			return fmt.Errorf("redisx: queue changes: %w", err)
		}
		ch, err := parseQueueChanges(arr)
		if err != nil {
			return err
		}
		*out = ch
		return nil
	})
}

func parseQueueChanges(arr []rueidis.RedisMessage) (QueueChanges, error) {
	if len(arr) == 0 {
		return QueueChanges{}, ErrBadReply
	}
	if ok, err := arr[0].AsInt64(); err != nil {
		return QueueChanges{}, fmt.Errorf("%w: queue changes status: %v", ErrBadReply, err)
	} else if ok != 1 {
		return QueueChanges{}, ErrLeaseLost
	}
	if len(arr) < 5 {
		return QueueChanges{}, ErrBadReply
	}
	var out QueueChanges
	var err error
	if out.NowMs, err = arr[1].AsInt64(); err != nil {
		return QueueChanges{}, fmt.Errorf("%w: queue changes time: %v", ErrBadReply, err)
	}
	if out.Queued, err = arr[2].AsInt64(); err != nil {
		return QueueChanges{}, fmt.Errorf("%w: queue size: %v", ErrBadReply, err)
	}
	if out.ModeQueued, err = arr[3].AsInt64(); err != nil {
		return QueueChanges{}, fmt.Errorf("%w: mode queue size: %v", ErrBadReply, err)
	}
	n, err := arr[4].AsInt64()
	if err != nil || n < 0 || int64(len(arr)) < 6+2*n {
		return QueueChanges{}, fmt.Errorf("%w: queue changes", ErrBadReply)
	}
	i := int64(5)
	for ; i < 5+2*n; i += 2 {
		id, err1 := arr[i].ToString()
		js, err2 := arr[i+1].ToString()
		if err1 != nil || err2 != nil {
			return QueueChanges{}, fmt.Errorf("%w: added ticket", ErrBadReply)
		}
		if js == "" {
			continue
		}
		var t Ticket
		if err := json.Unmarshal([]byte(js), &t); err != nil {
			return QueueChanges{}, fmt.Errorf("redisx: ticket %s: %w", id, err)
		}
		out.Added = append(out.Added, t)
	}
	nr, err := arr[i].AsInt64()
	if err != nil || nr < 0 || int64(len(arr)) < i+1+nr {
		return QueueChanges{}, fmt.Errorf("%w: removed tickets", ErrBadReply)
	}
	i++
	for _, m := range arr[i : i+nr] {
		id, err := m.ToString()
		if err != nil {
			return QueueChanges{}, fmt.Errorf("%w: removed ticket", ErrBadReply)
		}
		out.Removed = append(out.Removed, id)
	}
	for _, m := range arr[i+nr:] {
		id, err := m.ToString()
		if err != nil {
			return QueueChanges{}, fmt.Errorf("%w: expired ticket", ErrBadReply)
		}
		out.Expired = append(out.Expired, id)
	}
	return out, nil
}

// LanePool reads every ticket a lane's pool lists: the mode's whole queue
// for a lane without a region.
func (c *Client) LanePool(ctx context.Context, l Lane) ([]Ticket, error) {
	if l.Region == "" {
		return c.Pool(ctx, l.Mode)
	}
	ids, err := c.R.Do(ctx, c.R.B().Zrange().Key(c.Keys.LaneQueue(l)).Min("0").Max("-1").Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("redisx: pool: %w", err)
	}
	out := make([]Ticket, 0, len(ids))
	for i := 0; i < len(ids); i += 4000 {
		part := ids[i:min(i+4000, len(ids))]
		bodies, err := c.R.Do(ctx, unpooled(c.R.B().Hmget().Key(c.Keys.Tickets(l.Mode)).Field(part...).Build())).ToArray()
		if err != nil {
			return nil, fmt.Errorf("redisx: pool: %w", err)
		}
		for j, b := range bodies {
			s, err := b.ToString()
			if err != nil {
				continue // left meanwhile
			}
			var t Ticket
			if err := json.Unmarshal([]byte(s), &t); err != nil {
				return nil, fmt.Errorf("redisx: ticket %s: %w", part[j], err)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// QueueLen counts a mode's queued tickets.
func (c *Client) QueueLen(ctx context.Context, mode string) (int64, error) {
	n, err := c.R.Do(ctx, c.R.B().Zcard().Key(c.Keys.Queue(mode)).Build()).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisx: queue len: %w", err)
	}
	return n, nil
}
