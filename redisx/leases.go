package redisx

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease identifies a held matching lease.
type Lease struct {
	Token string
	Fence int64
}

// ErrLeaseLost reports that a fenced call was refused because the caller's
// lease or fence is no longer current: nothing was changed.
var ErrLeaseLost = errors.New("redisx: matching lease lost")

// AcquireLock takes the mode's lease for token, returning its fencing number,
// or 0 when another owner holds it.
func (c *Client) AcquireLock(ctx context.Context, mode, token string, ttl time.Duration) (int64, error) {
	f, err := c.scripts.lockAcquire.Exec(ctx, c.R, []string{c.Keys.Lock(mode), c.Keys.Fence(mode)}, []string{token, ms(ttl)}).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisx: acquire lock: %w", err)
	}
	return f, nil
}

// ExtendLock renews the lease for its owner; false means it was lost.
func (c *Client) ExtendLock(ctx context.Context, mode, token string, ttl time.Duration) (bool, error) {
	n, err := c.scripts.lockExtend.Exec(ctx, c.R, []string{c.Keys.Lock(mode)}, []string{token, ms(ttl)}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: extend lock: %w", err)
	}
	return n == 1, nil
}

// ReleaseLock drops the lease for its owner; false means it was not held.
func (c *Client) ReleaseLock(ctx context.Context, mode, token string) (bool, error) {
	n, err := c.scripts.lockRelease.Exec(ctx, c.R, []string{c.Keys.Lock(mode)}, []string{token}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: release lock: %w", err)
	}
	return n == 1, nil
}
