package redisx

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// ClaimMatch is one match to form: its id, teams and tickets.
type ClaimMatch struct {
	MatchID string
	// Teams holds player ids per team; it is stored with the room.
	Teams   [][]string
	Tickets []Ticket
}

// ClaimArgs are the room parameters shared by one batch of claims.
type ClaimArgs struct {
	Owner string
	// LoadingTimeout is added to Redis's clock for the rooms' deadline.
	LoadingTimeout time.Duration
	RoomTTL        time.Duration
}

// ClaimResult is what one batch of claims did.
type ClaimResult struct {
	// Formed says, per match, whether it was formed.
	Formed []bool
	// DeadlineMs is the formed rooms' loading deadline, by Redis's clock.
	DeadlineMs int64
}

// Claim forms the given matches in one script call. Each match is formed
// only if all its tickets are still queued. A stale lease forms nothing and
// returns ErrLeaseLost. A region's lease forms matches played in its
// region, and takes their tickets out of every region's pool.
func (c *Client) Claim(ctx context.Context, mode string, lease Lease, a ClaimArgs, matches []ClaimMatch) (ClaimResult, error) {
	k := c.Keys
	l := Lane{Mode: mode, Region: lease.Region}
	keys := make([]string, 0, 8+len(matches))
	keys = append(keys, k.LaneLock(l), k.LaneFence(l), k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Rooms(mode), k.Owners(mode))
	args := make([]string, 0, 8+len(matches)*8)
	args = append(args, lease.Token, i64(lease.Fence), a.Owner, ms(a.LoadingTimeout), ms(a.RoomTTL), mode, lease.Region, strconv.Itoa(len(matches)))
	for _, m := range matches {
		keys = append(keys, k.Room(mode, m.MatchID))
		teams, err := json.Marshal(m.Teams)
		if err != nil {
			return ClaimResult{}, err
		}
		// One (ticket, player) pair per seat: a party ticket seats each of
		// its members, all of whom must still hold it.
		at := len(args) + 2
		args = append(args, m.MatchID, string(teams), "")
		seats := 0
		for i := range m.Tickets {
			for _, p := range m.Tickets[i].Players() {
				args = append(args, m.Tickets[i].ID, p)
				seats++
			}
		}
		args[at] = strconv.Itoa(seats)
	}
	var regions []string
	if lease.Region != "" {
		regions = c.regionsOf(mode).Regions
	}
	lanes, names := c.laneKeys(mode, regions, k.LaneRemoved)
	keys = append(keys, lanes...)
	args = append(args, strconv.Itoa(len(names)))
	args = append(args, names...)
	arr, err := c.scripts.claim.Exec(ctx, c.R, keys, args).ToArray()
	if err != nil {
		return ClaimResult{}, fmt.Errorf("redisx: claim: %w", err)
	}
	if len(arr) == 0 {
		return ClaimResult{}, ErrBadReply
	}
	if ok, err := arr[0].AsInt64(); err != nil {
		return ClaimResult{}, fmt.Errorf("%w: claim status: %v", ErrBadReply, err)
	} else if ok != 1 {
		return ClaimResult{}, ErrLeaseLost
	}
	if len(arr) != len(matches)+2 {
		return ClaimResult{}, ErrBadReply
	}
	out := ClaimResult{Formed: make([]bool, len(matches))}
	if out.DeadlineMs, err = arr[1].AsInt64(); err != nil {
		return ClaimResult{}, fmt.Errorf("%w: claim deadline: %v", ErrBadReply, err)
	}
	for i := range matches {
		v, err := arr[i+2].AsInt64()
		if err != nil {
			return ClaimResult{}, fmt.Errorf("%w: claim result: %v", ErrBadReply, err)
		}
		out.Formed[i] = v == 1
	}
	return out, nil
}
