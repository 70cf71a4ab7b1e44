package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	prevHi := uint64(0)
	for i := 0; i < histBuckets; i++ {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d,%d] maps to %d/%d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if lo >= histSub && float64(hi-lo+1)/float64(lo) > 1.0/histSub+1e-12 {
			t.Fatalf("bucket %d is %d wide at %d", i, hi-lo+1, lo)
		}
		prevHi = hi
		if hi == math.MaxUint64 {
			break
		}
	}
	if prevHi != math.MaxUint64 {
		t.Fatalf("buckets end at %d", prevHi)
	}
}

func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = max(rank, 1)
	return sorted[rank-1]
}

func TestQuantilesMatchExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 10, 1000, 100000} {
		var h Histogram
		vals := make([]time.Duration, n)
		for i := range vals {
			// Log-normal-ish latencies from 50us to minutes.
			v := time.Duration(math.Exp(rng.NormFloat64()*2+11)) * time.Nanosecond * 100
			vals[i] = v.Truncate(time.Microsecond)
			h.Record(vals[i])
		}
		slices.Sort(vals)
		for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 1} {
			got, want := h.Quantile(q), exactQuantile(vals, q)
			if d := math.Abs(float64(got - want)); d > float64(want)/histSub+float64(time.Microsecond) {
				t.Errorf("n=%d q=%v: got %v, want %v", n, q, got, want)
			}
		}
		s := h.Stats()
		if s.Count != uint64(n) || s.MinMs != ms(vals[0]) || s.MaxMs != ms(vals[n-1]) {
			t.Errorf("n=%d stats %+v, min %v max %v", n, s, vals[0], vals[n-1])
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Stats() != (Stats{}) {
		t.Error("empty histogram is not zero")
	}
	h.Record(-time.Second) // clamps to 0
	h.Record(0)
	if h.Quantile(1) != 0 || h.Count() != 2 {
		t.Errorf("zeros: q1=%v n=%d", h.Quantile(1), h.Count())
	}
	var one Histogram
	one.Record(1234567 * time.Microsecond)
	for _, q := range []float64{0.01, 0.5, 1} {
		if got := one.Quantile(q); got != 1234567*time.Microsecond {
			t.Errorf("single value q=%v: %v (clamped to min/max)", q, got)
		}
	}
	// p50 of {1ms, 2ms} is 1ms (rank = ceil(q*n)), within a bucket.
	var two Histogram
	two.Record(time.Millisecond)
	two.Record(2 * time.Millisecond)
	if got := two.Quantile(0.5); got < time.Millisecond || got > time.Millisecond+time.Millisecond/histSub {
		t.Errorf("p50 of {1ms,2ms} = %v", got)
	}
}

func TestHistogramConcurrent(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				h.Record(time.Duration(g*10000+i) * time.Microsecond)
			}
		}()
	}
	for range 100 {
		_ = h.Quantile(0.99) // concurrent readers, as the progress line does
	}
	wg.Wait()
	s := h.Stats()
	if s.Count != 80000 || s.MinMs != 0 || s.MaxMs != 79.999 {
		t.Errorf("stats %+v", s)
	}
}
