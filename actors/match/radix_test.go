package match

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRadixSort(t *testing.T) {
	tests := []struct {
		name string
		n    int
		key  func(r *rand.Rand) uint64
	}{
		{"empty", 0, func(r *rand.Rand) uint64 { return r.Uint64() }},
		{"one", 1, func(r *rand.Rand) uint64 { return r.Uint64() }},
		{"all equal", 500, func(*rand.Rand) uint64 { return 42 }},
		{"full range", 5000, func(r *rand.Rand) uint64 { return r.Uint64() }},
		{"narrow, many ties", 5000, func(r *rand.Rand) uint64 { return 1<<63 + r.Uint64N(50) }},
		{"a minute of ms", 5000, func(r *rand.Rand) uint64 { return timeKey(1_700_000_000_000 - r.Int64N(60_000)) }},
		{"signed ratings", 5000, func(r *rand.Rand) uint64 { return ratingKey((r.Float64() - 0.5) * 6000) }},
		{"extremes", 100, func(r *rand.Rand) uint64 { return []uint64{0, math.MaxUint64, 1 << 63}[r.IntN(3)] }},
	}
	var count [radixBuckets]int32
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tt.n), 3))
			xs := make([]keyed, tt.n)
			for i := range xs {
				xs[i] = keyed{tt.key(r), int32(i)}
			}
			want := slices.Clone(xs)
			slices.SortStableFunc(want, func(x, y keyed) int { return cmp.Compare(x.key, y.key) })
			got, _ := radixSort(xs, nil, &count)
			if !slices.Equal(got, want) {
				t.Errorf("got a different order than a stable sort by key (first %v, want %v)", head(got), head(want))
			}
		})
	}
}

func head(xs []keyed) []keyed { return xs[:min(len(xs), 5)] }

func TestKeysKeepOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	ratings := []float64{math.Inf(-1), -3000, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 0.5, 1, 3000, math.MaxFloat64}
	for range 1000 {
		ratings = append(ratings, (r.Float64()-0.5)*r.Float64()*1e6)
	}
	slices.Sort(ratings)
	for i, x := range ratings {
		if got := ratingFromKey(ratingKey(x)); got != x {
			t.Errorf("got ratingFromKey(ratingKey(%v)) = %v, want %v", x, got, x)
		}
		if i > 0 && ratingKey(ratings[i-1]) > ratingKey(x) {
			t.Errorf("got ratingKey(%v) > ratingKey(%v), want <=", ratings[i-1], x)
		}
	}
	times := []int64{math.MinInt64, -1, 0, 1, 1_700_000_000_000, math.MaxInt64}
	for i, x := range times {
		if got := timeFromKey(timeKey(x)); got != x {
			t.Errorf("got timeFromKey(timeKey(%d)) = %d, want %d", x, got, x)
		}
		if i > 0 && timeKey(times[i-1]) >= timeKey(x) {
			t.Errorf("got timeKey(%d) >= timeKey(%d), want <", times[i-1], x)
		}
	}
	ids := []string{"", "a", "a\x00", "ab", "abcdefgh", "abcdefgh0", "abcdefgi", "b"}
	for i := 1; i < len(ids); i++ {
		if idPrefix(ids[i-1]) > idPrefix(ids[i]) {
			t.Errorf("got idPrefix(%q) > idPrefix(%q), want <=", ids[i-1], ids[i])
		}
	}
}
