package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram is a lock-free log-linear histogram of durations in
// microseconds, HDR-style: values below 128us are exact, larger ones fall in
// buckets 1/128 of a power of two wide, so any percentile is within 0.4% of
// the true value (the bucket midpoint is reported, clamped to the exact min
// and max). Memory is fixed (~60 KiB) however many values are recorded;
// Record is a few atomic adds, safe from any goroutine.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // microseconds
	min    atomic.Uint64 // microseconds+1; 0 means unset
	max    atomic.Uint64 // microseconds
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	histBuckets = histSub + (64-histSubBits)*histSub
)

// bucketOf maps a value to its bucket index.
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	top := v >> uint(shift) // in [histSub, 2*histSub)
	return histSub + shift*histSub + int(top-histSub)
}

// bucketRange is the inclusive value range of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < histSub {
		return uint64(i), uint64(i)
	}
	shift := (i - histSub) / histSub
	top := uint64(histSub + (i-histSub)%histSub)
	lo = top << uint(shift)
	hi = lo + (uint64(1) << uint(shift)) - 1
	return lo, hi
}

// Record adds one duration (negative durations count as 0).
func (h *Histogram) Record(d time.Duration) {
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	h.sum.Add(us)
	for {
		cur := h.min.Load()
		if cur != 0 && cur-1 <= us {
			break
		}
		if h.min.CompareAndSwap(cur, us+1) {
			break
		}
	}
	for {
		cur := h.max.Load()
		if cur >= us || h.max.CompareAndSwap(cur, us) {
			break
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Quantile returns the q-quantile (0 < q <= 1), 0 when empty. The rank is
// ceil(q*n), so p100 is the maximum and p50 of {1,2} is 1.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	lo, hi := uint64(0), h.max.Load()
	if m := h.min.Load(); m > 0 {
		lo = m - 1
	}
	var cum uint64
	for i := range h.counts {
		c := h.counts[i].Load()
		if c == 0 {
			continue
		}
		cum += c
		if cum >= rank {
			blo, bhi := bucketRange(i)
			v := blo + (bhi-blo)/2
			v = max(v, lo)
			v = min(v, hi)
			return time.Duration(v) * time.Microsecond
		}
	}
	return time.Duration(hi) * time.Microsecond
}

// Stats is a histogram summary for reports.
type Stats struct {
	Count  uint64  `json:"count"`
	MinMs  float64 `json:"min_ms"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// Stats summarises the histogram.
func (h *Histogram) Stats() Stats {
	n := h.n.Load()
	if n == 0 {
		return Stats{}
	}
	return Stats{
		Count:  n,
		MinMs:  ms(time.Duration(h.min.Load()-1) * time.Microsecond),
		MeanMs: ms(time.Duration(h.sum.Load()/n) * time.Microsecond),
		P50Ms:  ms(h.Quantile(0.50)),
		P90Ms:  ms(h.Quantile(0.90)),
		P99Ms:  ms(h.Quantile(0.99)),
		P999Ms: ms(h.Quantile(0.999)),
		MaxMs:  ms(time.Duration(h.max.Load()) * time.Microsecond),
	}
}
