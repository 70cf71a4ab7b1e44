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
	// Region is the region whose pool the lease leads ("" for a mode's
	// own lease): fenced calls made with it act on that lane.
	Region string
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

// LeaseToken returns a fresh lease token for node: a region's lease names
// its holder ("<node>|<random>"), so the lease scripts can count how many
// of a mode's regions each node leads.
func LeaseToken(node, random string) string { return node + "|" + random }

// regionLockKeys returns the lease keys of every region of lane's mode, in
// config order (nil for a lane without a region).
func (c *Client) regionLockKeys(l Lane) []string {
	if l.Region == "" {
		return nil
	}
	regs := c.regionsOf(l.Mode).Regions
	out := make([]string, len(regs))
	for i, r := range regs {
		out[i] = c.Keys.LaneLock(Lane{Mode: l.Mode, Region: r})
	}
	return out
}

// AcquireLane takes a lane's lease for token (see AcquireLock). For a
// region's lease, node is the caller's node, and the lease is refused (0)
// while another live node should take it: one whose home the region is
// (ModeRegions.Home), or, when it is home to no other live node, one that
// leads fewer of the mode's regions than the caller (who leads some). So
// the regions of a mode spread over its nodes, home regions first.
func (c *Client) AcquireLane(ctx context.Context, l Lane, node, token string, ttl time.Duration) (int64, error) {
	if l.Region == "" {
		return c.AcquireLock(ctx, l.Mode, token, ttl)
	}
	keys := append([]string{c.Keys.LaneLock(l), c.Keys.LaneFence(l), c.Keys.Leaders(l.Mode), c.Keys.Homes(l.Mode)}, c.regionLockKeys(l)...)
	f, err := c.scripts.lockAcquire.Exec(ctx, c.R, keys, []string{token, ms(ttl), node, homeArg(c.regionsOf(l.Mode).Home), l.Region}).AsInt64()
	if err != nil {
		return 0, fmt.Errorf("redisx: acquire lock: %w", err)
	}
	return f, nil
}

// Renewal is the outcome of ExtendLane.
type Renewal int

// Renewal outcomes.
const (
	// RenewLost: the caller no longer holds the lease.
	RenewLost Renewal = 0
	// Renewed: the lease is the caller's for another ttl.
	Renewed Renewal = 1
	// RenewHandedBack: the caller gave this lease back for another live
	// node to take: the region is that node's home (and not the caller's),
	// or the caller leads at least two regions of the mode more than it.
	RenewHandedBack Renewal = 2
)

// ExtendLane renews a lane's lease for its owner; a region's lease may be
// handed back instead, to spread the mode's regions over its nodes.
func (c *Client) ExtendLane(ctx context.Context, l Lane, node, token string, ttl time.Duration) (Renewal, error) {
	if l.Region == "" {
		ok, err := c.ExtendLock(ctx, l.Mode, token, ttl)
		if ok {
			return Renewed, err
		}
		return RenewLost, err
	}
	mr := c.regionsOf(l.Mode)
	keys := append([]string{c.Keys.LaneLock(l), c.Keys.Leaders(l.Mode), c.Keys.Homes(l.Mode)}, c.regionLockKeys(l)...)
	args := append([]string{token, ms(ttl), node, homeArg(mr.Home), l.Region}, mr.Regions...)
	n, err := c.scripts.lockExtend.Exec(ctx, c.R, keys, args).AsInt64()
	if err != nil {
		return RenewLost, fmt.Errorf("redisx: extend lock: %w", err)
	}
	return Renewal(n), nil
}

// ReleaseLane drops a lane's lease for its owner; for a region's, node
// also stops counting as a node that may lead the mode's regions.
func (c *Client) ReleaseLane(ctx context.Context, l Lane, node, token string) (bool, error) {
	if l.Region == "" {
		return c.ReleaseLock(ctx, l.Mode, token)
	}
	n, err := c.scripts.lockRelease.Exec(ctx, c.R, []string{c.Keys.LaneLock(l), c.Keys.Leaders(l.Mode), c.Keys.Homes(l.Mode)}, []string{token, node}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: release lock: %w", err)
	}
	return n == 1, nil
}
