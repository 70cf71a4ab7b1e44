package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// PartyShare is one entry of --party-mix: the fraction of parties that
// have Size members.
type PartyShare struct {
	Size int
	Frac float64
}

// PartyMix is --party-mix, by size ascending; its fractions sum to 1. A
// party of one is a player queueing alone (it creates no party).
type PartyMix []PartyShare

// SoloMix is the default: every player queues alone.
var SoloMix = PartyMix{{Size: 1, Frac: 1}}

// ParsePartyMix parses "1=0.6,2=0.25,3=0.1,5=0.05": party size = fraction
// of the parties. Sizes are integers >= 1, each given once; fractions are
// numbers >= 0 that must sum to 1 (within 1e-6: they are shares of the
// parties, so a typo that leaves them at 0.95 is an error, not a
// normalisation).
func ParsePartyMix(s string) (PartyMix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	var m PartyMix
	sum := 0.0
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		ks, vs, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("entry %q: want size=fraction", part)
		}
		size, err := strconv.Atoi(strings.TrimSpace(ks))
		if err != nil || size < 1 {
			return nil, fmt.Errorf("entry %q: the size must be an integer >= 1", part)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(vs), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return nil, fmt.Errorf("entry %q: the fraction must be a number >= 0", part)
		}
		for _, e := range m {
			if e.Size == size {
				return nil, fmt.Errorf("size %d given twice", size)
			}
		}
		m = append(m, PartyShare{Size: size, Frac: f})
		sum += f
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, fmt.Errorf("the fractions sum to %g, want 1", sum)
	}
	sort.Slice(m, func(i, j int) bool { return m[i].Size < m[j].Size })
	return m, nil
}

// String renders the mix as --party-mix takes it.
func (m PartyMix) String() string {
	parts := make([]string, 0, len(m))
	for _, e := range m {
		parts = append(parts, fmt.Sprintf("%d=%.4g", e.Size, e.Frac))
	}
	return strings.Join(parts, ",")
}

// Solo reports whether every player queues alone.
func (m PartyMix) Solo() bool {
	for _, e := range m {
		if e.Size > 1 && e.Frac > 0 {
			return false
		}
	}
	return true
}

// meanSize is the mean party size.
func (m PartyMix) meanSize() float64 {
	s := 0.0
	for _, e := range m {
		s += float64(e.Size) * e.Frac
	}
	return s
}

// Sizes deals n players into parties: the number of parties of each size
// follows the mix exactly (largest remainder over n / mean size parties),
// in an order shuffled by rng; the last party is cut short when the
// players run out, and players left over queue alone. The sizes sum to n.
func (m PartyMix) Sizes(n int, rng *rand.Rand) []int {
	if n <= 0 {
		return nil
	}
	mean := m.meanSize()
	if m.Solo() || mean <= 0 {
		out := make([]int, n)
		for i := range out {
			out[i] = 1
		}
		return out
	}
	parties := int(math.Floor(float64(n) / mean))
	counts := make([]int, len(m))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(m))
	total := 0
	for i, e := range m {
		exact := e.Frac * float64(parties)
		counts[i] = int(math.Floor(exact))
		total += counts[i]
		rems[i] = rem{i, exact - float64(counts[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for j := 0; total < parties; j++ {
		if r := rems[j%len(rems)]; m[r.i].Frac > 0 {
			counts[r.i]++
			total++
		}
	}
	var sizes []int
	for i, c := range counts {
		for range c {
			sizes = append(sizes, m[i].Size)
		}
	}
	rng.Shuffle(len(sizes), func(i, j int) { sizes[i], sizes[j] = sizes[j], sizes[i] })
	out := make([]int, 0, len(sizes))
	left := n
	for _, s := range sizes {
		if left == 0 {
			break
		}
		s = min(s, left)
		out = append(out, s)
		left -= s
	}
	for ; left > 0; left-- {
		out = append(out, 1)
	}
	return out
}
