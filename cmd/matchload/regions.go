package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// RegionRange is one region of --regions: each player's round trip to it
// is drawn uniformly from [LoMs, HiMs].
type RegionRange struct {
	Name       string
	LoMs, HiMs float64
}

// ParseRegions parses "eu=20:80,us-east=60:140,asia=150:250". Names may
// appear once; a range is lo:hi with 0 <= lo <= hi.
func ParseRegions(s string) ([]RegionRange, error) {
	var out []RegionRange
	for _, part := range splitList(s) {
		name, rng, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("region %q: want name=lo:hi (ms)", part)
		}
		los, his, ok := strings.Cut(rng, ":")
		lo, err1 := strconv.ParseFloat(strings.TrimSpace(los), 64)
		hi, err2 := strconv.ParseFloat(strings.TrimSpace(his), 64)
		if !ok || err1 != nil || err2 != nil || !(lo >= 0) || !(hi >= lo) || math.IsInf(hi, 0) {
			return nil, fmt.Errorf("region %q: want name=lo:hi with 0 <= lo <= hi (ms)", part)
		}
		for _, r := range out {
			if r.Name == name {
				return nil, fmt.Errorf("region %s given twice", name)
			}
		}
		out = append(out, RegionRange{Name: name, LoMs: lo, HiMs: hi})
	}
	if len(out) == 0 {
		return nil, errors.New("no regions")
	}
	return out, nil
}

// LatencyRule is the mode's latency rule (docs/protocol.md section 9.5),
// which the checker holds every match's region to.
type LatencyRule struct {
	MaxMs, WidenPerSecond, MaxMsLimit float64
}

// ParseLatencyRule parses "max_ms:widen_per_second:max_ms_limit".
func ParseLatencyRule(s string) (LatencyRule, error) {
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return LatencyRule{}, errors.New("want max_ms:widen_per_second:max_ms_limit")
	}
	var v [3]float64
	for i, x := range f {
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || !(n >= 0) || math.IsInf(n, 0) {
			return LatencyRule{}, fmt.Errorf("%q is not a number >= 0", x)
		}
		v[i] = n
	}
	return LatencyRule{MaxMs: v[0], WidenPerSecond: v[1], MaxMsLimit: v[2]}, nil
}

// Limit is a ticket's latency limit after waiting waited.
func (l LatencyRule) Limit(waited time.Duration) float64 {
	return min(l.MaxMs+l.WidenPerSecond*max(waited.Seconds(), 0), l.MaxMsLimit)
}

// ParseRegionNodes parses "eu=0,us-east=1,asia=1": every region of the
// populations mapped to an index into the nodes.
func ParseRegionNodes(s string, pops [][]RegionRange, nodes int) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range splitList(s) {
		name, idx, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(idx))
		if !ok || err != nil || n < 0 || n >= nodes {
			return nil, fmt.Errorf("%q: want region=index with 0 <= index < %d", part, nodes)
		}
		out[strings.TrimSpace(name)] = n
	}
	for _, regions := range pops {
		for _, r := range regions {
			if _, ok := out[r.Name]; !ok {
				return nil, fmt.Errorf("region %s has no node", r.Name)
			}
		}
	}
	return out, nil
}

// fastest is the region of lat with the lowest round trip (the first of
// regions on a tie).
func fastest(regions []RegionRange, lat map[string]float64) string {
	best := ""
	for _, r := range regions {
		if best == "" || lat[r.Name] < lat[best] {
			best = r.Name
		}
	}
	return best
}

// ParsePopulations parses populations separated by ';', each as
// ParseRegions reads it.
func ParsePopulations(s string) ([][]RegionRange, error) {
	var out [][]RegionRange
	for i, part := range strings.Split(s, ";") {
		p, err := ParseRegions(part)
		if err != nil {
			return nil, fmt.Errorf("population %d: %w", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// drawLatencies gives one player its round trip to each region.
func drawLatencies(rng *rand.Rand, regions []RegionRange) map[string]float64 {
	out := make(map[string]float64, len(regions))
	for _, r := range regions {
		out[r.Name] = math.Round(r.LoMs + rng.Float64()*(r.HiMs-r.LoMs))
	}
	return out
}
