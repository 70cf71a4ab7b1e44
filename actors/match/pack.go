package match

import "slices"

// Packing parties into teams. A group of units fills its teams exactly when
// its seats add up to Teams*TeamSize and its parties (units of two or more)
// fit into Teams bins of TeamSize seats: solo players then fill whatever is
// left, one seat each. So only the parties need packing: bin packing of
// small items into bins of at most TeamSize seats. First fit, largest
// first, settles almost every case; the rest goes to an exact search over
// the bins grouped by their free seats (teams with equal free seats are
// interchangeable, so it branches at most TeamSize ways per party), which
// remembers the states it has proven hopeless.

// fitter decides whether parties pack into bins of given free seats.
type fitter struct {
	cnt    []int32 // bins by free seats
	failed map[string]struct{}
	nodes  int // states visited by this search
	key    []byte
	undo   []int32
}

// memoAfter is how many states a search visits before it starts to
// remember hopeless ones: small searches (two teams) are cheaper without.
const memoAfter = 256

// fit reports whether items (sorted largest first) fit into bins (free
// seats each); on success bins holds the free seats left (in some order),
// on failure it is unchanged.
func (f *fitter) fit(items, bins []int32) bool {
	f.undo = append(f.undo[:0], bins...)
	placed := 0
	for _, x := range items {
		b := 0
		for b < len(bins) && bins[b] < x {
			b++
		}
		if b == len(bins) {
			break
		}
		bins[b] -= x
		placed++
	}
	if placed == len(items) {
		return true
	}
	copy(bins, f.undo)

	maxFree := slices.Max(bins)
	f.cnt = grow(f.cnt, int(maxFree)+1)
	clear(f.cnt)
	for _, b := range bins {
		f.cnt[b]++
	}
	if len(f.failed) > 0 {
		clear(f.failed)
	}
	f.nodes = 0
	if !f.search(items, 0) {
		return false
	}
	i := 0
	for free, c := range f.cnt {
		for range c {
			bins[i] = int32(free)
			i++
		}
	}
	return true
}

// search places items[i:] into the bins counted by free seats in f.cnt,
// tightest fit first.
func (f *fitter) search(items []int32, i int) bool {
	if i == len(items) {
		return true
	}
	f.nodes++
	memo := f.nodes > memoAfter
	if memo {
		f.key = appendCount(f.key[:0], int32(i))
		for _, c := range f.cnt {
			f.key = appendCount(f.key, c)
		}
		if _, ok := f.failed[string(f.key)]; ok {
			return false
		}
	}
	x := items[i]
	for free := x; int(free) < len(f.cnt); free++ {
		if f.cnt[free] == 0 {
			continue
		}
		f.cnt[free]--
		f.cnt[free-x]++
		ok := f.search(items, i+1)
		if ok {
			return true
		}
		f.cnt[free]++
		f.cnt[free-x]--
	}
	if memo {
		// f.key was overwritten by the deeper calls: rebuild it.
		f.key = appendCount(f.key[:0], int32(i))
		for _, c := range f.cnt {
			f.key = appendCount(f.key, c)
		}
		if f.failed == nil {
			f.failed = map[string]struct{}{}
		}
		f.failed[string(f.key)] = struct{}{}
	}
	return false
}

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
	fit         fitter

	memo         map[string]bool // packable(party counts), per shape
	memoT, memoS int32
	key          []byte
	scratch      []int32
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
	if !k.fit.fit(k.sorted, k.bins) {
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
	v := k.fit.fit(k.sorted, k.scratch)
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
