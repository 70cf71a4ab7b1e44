// Package redisx is matchd's Redis layer: one rueidis client for every
// topology (embedded, standalone, sentinel, cluster), the key schema, typed
// wrappers over the Lua scripts of package lua, and the cross-node bus.
package redisx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/rueidis"

	"github.com/matchd/matchd/config"
)

// ErrUnavailable reports that Redis could not be reached in time.
var ErrUnavailable = errors.New("redisx: redis unavailable")

// Client is a connected Redis client with matchd's key schema and scripts.
// It is safe for concurrent use.
type Client struct {
	// R is the underlying rueidis client, for commands without a wrapper.
	R    rueidis.Client
	Keys Keys

	// Clock is the node's estimate of Redis's clock, measured at each
	// TouchNode.
	Clock *Clock

	// Regions tells, per mode, its regions and how far a ticket may ever
	// play (docs/protocol.md section 9.5): which regions' pools list a
	// ticket. Nil: no mode has regions. Set once, before use.
	Regions func(mode string) ModeRegions

	embedded *miniredis.Miniredis
	scripts  scripts
	// retry is redis.retry_interval, the pause before resubscribing.
	retry time.Duration
}

// Open connects to Redis as cfg describes. With mode embedded it starts an
// in-process Redis-compatible server on a free loopback port (so redis-cli can
// look in) whose TTLs follow the wall clock. Start-up retries an unreachable
// server until cfg.StartupTimeout, because rueidis fails at once when the
// server is down and a fleet often starts before its Redis.
func Open(ctx context.Context, cfg config.Redis, log *slog.Logger) (*Client, error) {
	return OpenWithBreaker(ctx, cfg, log, nil)
}

// OpenWithBreaker is Open with a callback told when the Redis circuit
// breaker opens (true) and closes (false).
func OpenWithBreaker(ctx context.Context, cfg config.Redis, log *slog.Logger, onChange func(open bool)) (*Client, error) {
	opt := rueidis.ClientOption{
		DisableCache:     true,
		Password:         cfg.Password,
		Dialer:           net.Dialer{Timeout: cfg.DialTimeout},
		ConnWriteTimeout: cfg.OpTimeout,
	}
	var embedded *miniredis.Miniredis
	switch cfg.Mode {
	case "embedded":
		embedded = miniredis.NewMiniRedis()
		if err := embedded.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("redisx: start embedded redis: %w", err)
		}
		embedded.ClockTTL(true)
		if cfg.Password != "" {
			embedded.RequireAuth(cfg.Password)
		}
		// miniredis answers CLUSTER SLOTS, so without ForceSingleClient
		// rueidis would build a cluster client on it.
		opt.InitAddress = []string{embedded.Addr()}
		opt.ForceSingleClient = true
		opt.DialCtxFn = func(context.Context, string, *net.Dialer, *tls.Config) (net.Conn, error) {
			return embedded.Dial()
		}
		log.Info("embedded redis started", "addr", embedded.Addr())
	case "standalone":
		opt.InitAddress = cfg.Addrs
		opt.ForceSingleClient = true
	case "sentinel":
		opt.InitAddress = cfg.Addrs
		opt.Sentinel = rueidis.SentinelOption{
			MasterSet:               cfg.MasterSet,
			Password:                cfg.Password,
			TopologyRefreshInterval: cfg.TopologyRefresh,
		}
	case "cluster":
		opt.InitAddress = cfg.Addrs
		opt.ClusterOption = rueidis.ClusterOption{ShardsRefreshInterval: cfg.TopologyRefresh}
	default:
		return nil, fmt.Errorf("redisx: unknown redis.mode %q", cfg.Mode)
	}
	var r rueidis.Client
	deadline := time.Now().Add(cfg.StartupTimeout)
	for attempt := 1; ; attempt++ {
		var err error
		r, err = rueidis.NewClient(opt)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if embedded != nil {
				embedded.Close()
			}
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		log.Warn("redis not reachable yet, retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(cfg.RetryInterval):
		}
	}
	// A call's deadline is at most op_timeout plus the shared deadline
	// window (actors' opCtx); one that took a second longer than that could
	// not see its own deadline: the process was stalled, not Redis.
	stall := cfg.OpTimeout + time.Second
	wrapped := newBreakerClient(r, BreakerOptions{Failures: max(cfg.BreakerFailures, 1), Cooldown: max(cfg.BreakerCooldown, time.Millisecond), StallAfter: stall, OnChange: func(open bool) {
		if open {
			log.Error("redis circuit breaker open: matching paused, clients told to retry")
		} else {
			log.Info("redis circuit breaker closed: redis answers again")
		}
		if onChange != nil {
			onChange(open)
		}
	}})
	return &Client{R: wrapped, Keys: NewKeys(cfg.KeyPrefix), Clock: NewClock(nil), embedded: embedded, scripts: newScripts(), retry: max(cfg.RetryInterval, time.Millisecond)}, nil
}

// ExcuseFailuresWhile has the circuit breaker not count failed calls while
// excused reports true: a process waking from a stall has a backlog of
// work whose calls time out on its own account (thousands of sessions
// catching up at once), and opening the breaker then would refuse the very
// marks and requests that arrived in time.
func (c *Client) ExcuseFailuresWhile(excused func() bool) {
	if b, ok := c.R.(*breakerClient); ok {
		b.excused.Store(&excused)
	}
}

// Close releases the connections and stops an embedded server.
func (c *Client) Close() {
	c.R.Close()
	if c.embedded != nil {
		c.embedded.Close()
	}
}

// Ping reports whether Redis answers; /readyz uses it.
func (c *Client) Ping(ctx context.Context) error {
	return c.R.Do(ctx, c.R.B().Ping().Build()).Error()
}

// EmbeddedAddr is the address of the embedded server, or "" when Redis is
// external.
func (c *Client) EmbeddedAddr() string {
	if c.embedded == nil {
		return ""
	}
	return c.embedded.Addr()
}
