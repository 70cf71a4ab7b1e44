package match

import "slices"

// Packing parties into teams. A group of units fills its teams exactly when
// its seats add up to Teams*TeamSize and its parties (units of two or more)
// fit into Teams bins of TeamSize seats: solo players then fill whatever is
// left, one seat each. So only the parties need packing, which is bin
// packing of a handful of small items, solved exactly by a depth-first
// search that never tries two bins with the same free seats at one level.

// packer keeps the parties of the group being built packed into teams, so
// the greedy can ask "does this party still fit?" at the cost of a first-fit
// scan, repacking from scratch only when first fit fails.
type packer struct {
	teams, size int32
	items       []int32 // party sizes, in the order added
	bins        []int32 // free seats per team for the current packing
	prev        []int32 // bins before the last add, for undo
	sorted      []int32
	lastParty   bool

	memo             map[string]bool // packable(party counts), per shape
	memoT, memoS     int32
	key              []byte
	counted, scratch []int32
}

// reset prepares the packer (and clears its memo) for a shape.
func (k *packer) reset(p Params) {
	t, s := int32(p.Teams), int32(p.TeamSize)
	if k.memo == nil || k.memoT != t || k.memoS != s {
		k.memo = map[string]bool{}
		k.memoT, k.memoS = t, s
	}
	k.teams, k.size = t, s
	k.bins = grow(k.bins, int(t))
	k.prev = grow(k.prev, int(t))
	k.clear()
}

// clear empties the packing.
func (k *packer) clear() {
	k.items = k.items[:0]
	for i := range k.bins {
		k.bins[i] = k.size
	}
	k.lastParty = false
}

// add packs a unit of sz seats along with the parties so far and reports
// whether they still fit; when they do not, nothing changes. Solo players
// always fit (the caller counts seats).
func (k *packer) add(sz int32) bool {
	k.lastParty = false
	if sz < 2 {
		return true
	}
	copy(k.prev, k.bins)
	for i, b := range k.bins {
		if b >= sz {
			k.bins[i] -= sz
			k.items = append(k.items, sz)
			k.lastParty = true
			return true
		}
	}
	k.sorted = append(append(k.sorted[:0], k.items...), sz)
	slices.SortFunc(k.sorted, func(x, y int32) int { return int(y - x) })
	for i := range k.bins {
		k.bins[i] = k.size
	}
	if !packDFS(k.sorted, k.bins, 0) {
		copy(k.bins, k.prev)
		return false
	}
	k.items = append(k.items, sz)
	k.lastParty = true
	return true
}

// undo takes back the last successful add.
func (k *packer) undo() {
	if k.lastParty {
		k.items = k.items[:len(k.items)-1]
		copy(k.bins, k.prev)
		k.lastParty = false
	}
}

// packDFS places items[i:] (sorted largest first) into bins (free seats,
// updated in place on success) and reports whether they all fit.
func packDFS(items, bins []int32, i int) bool {
	if i == len(items) {
		return true
	}
	x := items[i]
	for b := range bins {
		if bins[b] < x || slices.Contains(bins[:b], bins[b]) {
			continue // no room, or the same as a bin already tried
		}
		bins[b] -= x
		if packDFS(items, bins, i+1) {
			return true
		}
		bins[b] += x
	}
	return false
}

// packable reports whether parties with counts[s] parties of s seats (s >=
// 2; counts[0] and counts[1] are ignored) fit into the shape's teams. It is
// memoised per shape: the lookahead asks the same few questions over and
// over.
func (k *packer) packable(counts []int32) bool {
	k.key = k.key[:0]
	seats := int32(0)
	for s := 2; s < len(counts); s++ {
		seats += int32(s) * counts[s]
		k.key = appendCount(k.key, counts[s])
	}
	if seats > k.teams*k.size {
		return false
	}
	if seats == 0 {
		return true
	}
	if v, ok := k.memo[string(k.key)]; ok {
		return v
	}
	k.sorted = k.sorted[:0]
	for s := len(counts) - 1; s >= 2; s-- {
		for range counts[s] {
			k.sorted = append(k.sorted, int32(s))
		}
	}
	k.scratch = grow(k.scratch, int(k.teams))
	for i := range k.scratch {
		k.scratch[i] = k.size
	}
	v := packDFS(k.sorted, k.scratch, 0)
	k.memo[string(k.key)] = v
	return v
}

// appendCount appends c to a memo key (uvarint).
func appendCount(key []byte, c int32) []byte {
	u := uint32(c)
	for u >= 0x80 {
		key = append(key, byte(u)|0x80)
		u >>= 7
	}
	return append(key, byte(u))
}
