package redisx

import (
	"math"
	"strings"
)

// ModeRegions is what redisx needs of a mode's regions: their names in
// config order and the latency cap (ms) past which a ticket can never play.
type ModeRegions struct {
	Regions    []string
	MaxMsLimit float64
	// Home are the regions of the mode this node leads in preference
	// (matchmaking.home_regions): a node in a region's data centre, where
	// that region's players connect, then forms their matches itself.
	Home []string
}

// homeArg renders home regions for the lease scripts: ",eu,asia,".
func homeArg(home []string) string {
	return "," + strings.Join(home, ",") + ","
}

func (c *Client) regionsOf(mode string) ModeRegions {
	if c.Regions == nil {
		return ModeRegions{}
	}
	return c.Regions(mode)
}

// Listed returns the regions whose pools list ticket t: every region of
// its mode it could ever play in (its latency there within the cap), in
// config order. A ticket that can reach none is listed in its fastest
// region of the mode (the first when it measured none), so that region's
// leader still times it out at max_wait. Nil for a mode without regions.
func (m ModeRegions) Listed(latencies map[string]float64) []string {
	if len(m.Regions) == 0 {
		return nil
	}
	var out []string
	best, bestMs := m.Regions[0], math.Inf(1)
	for _, r := range m.Regions {
		ms, ok := latencies[r]
		if !ok || !(ms >= 0) || math.IsInf(ms, 1) {
			continue
		}
		if ms <= m.MaxMsLimit {
			out = append(out, r)
		}
		if ms < bestMs {
			best, bestMs = r, ms
		}
	}
	if len(out) == 0 {
		out = []string{best}
	}
	return out
}

// laneKeys returns, for each region of mode in config order, its pool and
// the list named by list (LaneAdded or LaneRemoved), flattened in pairs,
// and the region names; nil for a mode without regions.
func (c *Client) laneKeys(mode string, regions []string, list func(Lane) string) (keys, names []string) {
	for _, r := range regions {
		l := Lane{Mode: mode, Region: r}
		keys = append(keys, c.Keys.LaneQueue(l), list(l))
	}
	return keys, regions
}
