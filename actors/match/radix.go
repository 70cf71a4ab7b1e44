package match

import "math"

// keyed is a sort key and the index it belongs to.
type keyed struct {
	key uint64
	idx int32
}

const (
	radixBits    = 11
	radixBuckets = 1 << radixBits
)

// radixSort sorts xs by key, stably, using tmp (grown as needed) as scratch,
// and returns the sorted slice (xs or tmp) and the other one as the new
// scratch. Keys are rebased on their minimum and only the digits that
// differ are passed over, so a minute of millisecond timestamps costs two
// passes. It is the hot path's sort: pdqsort with a comparator took most of
// Form's time on a 100k pool.
func radixSort(xs, tmp []keyed, count *[radixBuckets]int32) (sorted, scratch []keyed) {
	tmp = grow(tmp, len(xs))
	if len(xs) < 2 {
		return xs, tmp
	}
	lo, hi := xs[0].key, xs[0].key
	for _, x := range xs {
		lo, hi = min(lo, x.key), max(hi, x.key)
	}
	for shift := 0; shift < 64 && (hi-lo)>>shift != 0; shift += radixBits {
		clear(count[:])
		for _, x := range xs {
			count[((x.key-lo)>>shift)&(radixBuckets-1)]++
		}
		sum := int32(0)
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, x := range xs {
			d := ((x.key - lo) >> shift) & (radixBuckets - 1)
			tmp[count[d]] = x
			count[d]++
		}
		xs, tmp = tmp, xs
	}
	return xs, tmp
}

// timeKey maps a signed time to an unsigned key with the same order.
func timeKey(ms int64) uint64 { return uint64(ms) ^ 1<<63 }

// timeFromKey inverts timeKey.
func timeFromKey(k uint64) int64 { return int64(k ^ 1<<63) }

// ratingKey maps a finite float64 to an unsigned key with the same order
// (-0 and +0 map alike, callers fold -0 first).
func ratingKey(r float64) uint64 {
	b := math.Float64bits(r)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

// ratingFromKey inverts ratingKey.
func ratingFromKey(k uint64) float64 {
	if k&(1<<63) != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// idPrefix returns the first 8 bytes of id big-endian, zero padded: ordering
// by it agrees with ordering by id wherever the prefixes differ.
func idPrefix(id string) uint64 {
	var v uint64
	for i := 0; i < 8; i++ {
		v <<= 8
		if i < len(id) {
			v |= uint64(id[i])
		}
	}
	return v
}
