package redisx

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// Publish sends payload to one node's channel. Pub/Sub may drop messages, so
// every receiver also reconciles with Redis; a publish is a fast path, not
// the truth.
func (c *Client) Publish(ctx context.Context, node string, payload []byte) error {
	return c.R.Do(ctx, c.R.B().Publish().Channel(c.Keys.NodeChannel(node)).Message(rueidis.BinaryString(payload)).Build()).Error()
}

// Subscribe delivers every message sent to node's channel to fn, in order,
// until ctx ends, resubscribing after a connection loss. onSubscribed runs
// each time the subscription is (re)established, so the caller can reconcile
// whatever it may have missed in between.
func (c *Client) Subscribe(ctx context.Context, node string, fn func([]byte), onSubscribed func(), log *slog.Logger) {
	c.SubscribeWithRetry(ctx, node, fn, onSubscribed, log, c.retry)
}

// SubscribeWithRetry is Subscribe with the pause before resubscribing.
func (c *Client) SubscribeWithRetry(ctx context.Context, node string, fn func([]byte), onSubscribed func(), log *slog.Logger, retry time.Duration) {
	ch := c.Keys.NodeChannel(node)
	for ctx.Err() == nil {
		dc, cancel := c.R.Dedicate()
		var once sync.Once
		wait := dc.SetPubSubHooks(rueidis.PubSubHooks{
			OnMessage: func(m rueidis.PubSubMessage) { fn([]byte(m.Message)) },
			OnSubscription: func(s rueidis.PubSubSubscription) {
				if s.Kind == "subscribe" && onSubscribed != nil {
					once.Do(onSubscribed)
				}
			},
		})
		var err error
		if err = dc.Do(ctx, dc.B().Subscribe().Channel(ch).Build()).Error(); err == nil {
			select {
			case err = <-wait:
			case <-ctx.Done():
			}
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		log.Warn("bus subscription lost, resubscribing", "channel", ch, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}
