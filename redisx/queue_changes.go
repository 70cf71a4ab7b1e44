package redisx

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/rueidis"
)

// QueueChanges is what changed in a mode's queue since the last call.
type QueueChanges struct {
	// Queued is the queue's size when the changes were taken.
	Queued  int64
	Added   []Ticket
	Removed []string
}

// TakeQueueChanges hands out, once, the tickets added to and removed from
// the mode's queue since the last call. Only the matching leader calls it.
func (c *Client) TakeQueueChanges(ctx context.Context, mode string) (QueueChanges, error) {
	var out QueueChanges
	err := c.DoTogether(ctx, c.QueueChangesRead(mode, &out))
	return out, err
}

// QueueChangesRead is TakeQueueChanges as a Read, to share a round trip;
// out is filled when the read succeeds.
func (c *Client) QueueChangesRead(mode string, out *QueueChanges) *Read {
	k := c.Keys
	keys := []string{k.Added(mode), k.Removed(mode), k.Tickets(mode), k.Queue(mode)}
	return c.scriptRead(c.scripts.queueChanges, c.scripts.queueChangesSHA, keys, nil, func(r rueidis.RedisResult) error {
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
	if len(arr) < 2 {
		return QueueChanges{}, ErrBadReply
	}
	var out QueueChanges
	var err error
	if out.Queued, err = arr[0].AsInt64(); err != nil {
		return QueueChanges{}, fmt.Errorf("%w: queue size: %v", ErrBadReply, err)
	}
	n, err := arr[1].AsInt64()
	if err != nil || n < 0 || int64(len(arr)) < 2+2*n {
		return QueueChanges{}, fmt.Errorf("%w: queue changes", ErrBadReply)
	}
	for i := int64(0); i < n; i++ {
		id, err1 := arr[2+2*i].ToString()
		js, err2 := arr[3+2*i].ToString()
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
	for _, m := range arr[2+2*n:] {
		id, err := m.ToString()
		if err != nil {
			return QueueChanges{}, fmt.Errorf("%w: removed ticket", ErrBadReply)
		}
		out.Removed = append(out.Removed, id)
	}
	return out, nil
}

// WaitedSince lists the tickets whose current wait began at or before
// beforeMs: the ones past max_wait.
func (c *Client) WaitedSince(ctx context.Context, mode string, beforeMs int64) ([]string, error) {
	var ids []string
	err := c.DoTogether(ctx, c.WaitedSinceRead(mode, beforeMs, &ids))
	return ids, err
}

// WaitedSinceRead is WaitedSince as a Read, to share a round trip.
func (c *Client) WaitedSinceRead(mode string, beforeMs int64, out *[]string) *Read {
	return &Read{
		cmds: rueidis.Commands{c.R.B().Zrangebyscore().Key(c.Keys.Waits(mode)).Min("-inf").Max(i64(beforeMs)).Build()},
		parse: func(r []rueidis.RedisResult) error {
			ids, err := r[0].AsStrSlice()
			if err != nil {
				return fmt.Errorf("redisx: waits: %w", err)
			}
			*out = ids
			return nil
		},
	}
}
