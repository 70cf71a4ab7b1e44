package match

import (
	"errors"
	"fmt"
	"math"
)

// LatencyRule says how far a ticket may play (the protocol's regions section): its
// limit at now is min(MaxMs + WidenPerSecond*secondsWaited, MaxMsLimit), so
// it widens with the wait like the rating window, but independently of it.
type LatencyRule struct {
	// MaxMs is the limit at enqueue, WidenPerSecond its growth per second
	// waited and MaxMsLimit its cap, all in milliseconds.
	MaxMs, WidenPerSecond, MaxMsLimit float64
}

// Limit returns the latency limit of a ticket queued at queuedAtMs, at nowMs.
func (r LatencyRule) Limit(queuedAtMs, nowMs int64) float64 {
	return min(r.MaxMs+r.WidenPerSecond*waited(queuedAtMs, nowMs), r.MaxMsLimit)
}

// Errors of Params.Validate.
var (
	// ErrShape: Teams or TeamSize is below 1, or their product overflows.
	ErrShape = errors.New("match: teams and team_size must be at least 1")
	// ErrRegion: Regions is set and Region is not one of them.
	ErrRegion = errors.New("match: region is not one of the mode's regions")
	// ErrDuplicateRegion: a region is listed twice.
	ErrDuplicateRegion = errors.New("match: region listed twice")
)

// Validate reports why Form would form nothing whatever the pool: an
// invalid shape, a region listed twice, or a Region that is not one of
// Regions. Callers check it once when they build Params.
func (p Params) Validate() error {
	if p.Size() == 0 {
		return ErrShape
	}
	for i, r := range p.Regions {
		for _, q := range p.Regions[:i] {
			if q == r {
				return fmt.Errorf("%w: %q", ErrDuplicateRegion, r)
			}
		}
	}
	if len(p.Regions) > 0 && p.RegionIndex(p.Region) < 0 {
		return fmt.Errorf("%w: %q", ErrRegion, p.Region)
	}
	return nil
}

// RegionIndex returns the index of region name in p.Regions, or -1.
func (p Params) RegionIndex(name string) int {
	for i, r := range p.Regions {
		if r == name {
			return i
		}
	}
	return -1
}

// latency returns t's latency to region i, or +Inf when it has none that
// counts (missing, negative, NaN or infinite).
func latency(t *Ticket, i int) float64 {
	if i < 0 || i >= len(t.LatencyMs) {
		return math.Inf(1)
	}
	l := t.LatencyMs[i]
	if !(l >= 0) || math.IsInf(l, 1) {
		return math.Inf(1)
	}
	return l
}

// PlayableIn reports whether t may play in region i (an index of p.Regions)
// at nowMs: its latency there is within its current limit.
func (p Params) PlayableIn(t Ticket, i int, nowMs int64) bool {
	return p.playable(&t, i, nowMs)
}

func (p Params) playable(t *Ticket, i int, nowMs int64) bool {
	return latency(t, i) <= p.Latency.Limit(t.QueuedAtMs, nowMs)
}

// Reachable reports whether t could ever play in region i, once its limit
// has widened to MaxMsLimit: the regions whose pools should list t.
func (p Params) Reachable(t Ticket, i int) bool {
	return latency(&t, i) <= p.Latency.MaxMsLimit
}

// Playable appends to dst the tickets of pool that may play in p.Region at
// nowMs and returns it. Form applies the same filter itself, so a caller
// needs this only to look (a gauge, a checker), not before Form.
func (p Params) Playable(pool []Ticket, nowMs int64, dst []Ticket) []Ticket {
	i := p.RegionIndex(p.Region)
	if i < 0 {
		return dst
	}
	for k := range pool {
		if p.playable(&pool[k], i, nowMs) {
			dst = append(dst, pool[k])
		}
	}
	return dst
}

// BestRegion returns the best common region of units at nowMs: among the
// regions every unit may play in, the one with the lowest worst-unit
// latency, the earliest in p.Regions on a tie. ok is false when they have
// no common region (or p has no regions).
func (p Params) BestRegion(units []Ticket, nowMs int64) (region int, worstMs float64, ok bool) {
	return p.bestRegion(len(units), func(j int) *Ticket { return &units[j] }, nowMs)
}

func (p Params) bestRegion(n int, unit func(int) *Ticket, nowMs int64) (region int, worstMs float64, ok bool) {
	region, worstMs = -1, math.Inf(1)
	for i := range p.Regions {
		worst := 0.0
		for j := range n {
			t := unit(j)
			if !p.playable(t, i, nowMs) {
				worst = math.Inf(1)
				break
			}
			worst = max(worst, latency(t, i))
		}
		if worst < worstMs {
			region, worstMs = i, worst
		}
	}
	if region < 0 {
		return -1, 0, false
	}
	return region, worstMs, true
}
