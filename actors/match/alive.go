package match

// alive is the set of still-available positions 0..n-1 of the rating order,
// supporting removal and "nearest alive at or after / at or before p" in
// amortised near-constant time (two union-find forests with path halving).
// A doubly linked list would give O(1) neighbours too, but cannot jump from
// an arbitrary position (a run boundary) to the nearest alive one, which the
// left cursor needs to visit equal ratings oldest first.
//
// Internally positions are shifted by one so that 0 and n+1 are permanent
// sentinels and no lookup needs a bounds check.
type alive struct {
	next, prev []int32
}

func (a *alive) reset(n int) {
	a.next = grow(a.next, n+2)
	a.prev = grow(a.prev, n+2)
	for i := range a.next {
		a.next[i] = int32(i)
		a.prev[i] = int32(i)
	}
}

// remove makes position p unavailable. Removing twice is harmless.
func (a *alive) remove(p int32) {
	a.next[p+1] = p + 2
	a.prev[p+1] = p
}

// isAlive reports whether position p is still available.
func (a *alive) isAlive(p int32) bool { return a.next[p+1] == p+1 }

// after returns the smallest alive position >= p, or n when there is none.
// p may be n.
func (a *alive) after(p int32) int32 {
	x := p + 1
	for a.next[x] != x {
		a.next[x] = a.next[a.next[x]]
		x = a.next[x]
	}
	return x - 1
}

// before returns the largest alive position <= p, or -1 when there is none.
// p may be -1.
func (a *alive) before(p int32) int32 {
	x := p + 1
	for a.prev[x] != x {
		a.prev[x] = a.prev[a.prev[x]]
		x = a.prev[x]
	}
	return x - 1
}

// grow returns s resized to n, reusing its storage when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
