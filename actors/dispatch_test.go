package actors

import (
	"sync"
	"testing"
	"time"
)

// Every scheduled run happens exactly once, also when runs arrive faster
// than workers free up.
func TestWorkersRunEverything(t *testing.T) {
	w := newWorkers(10, time.Second)
	const n = 5000
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := make(map[int]int, n)
	wg.Add(n)
	for i := range n {
		w.Schedule(func() {
			mu.Lock()
			ran[i]++
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	for i := range n {
		if ran[i] != 1 {
			t.Fatalf("run %d ran %d times, want 1", i, ran[i])
		}
	}
}

// Runs one after another reuse workers (the point of the pool: a worker
// keeps its grown stack), and idle workers leave.
func TestWorkersReuseAndLeave(t *testing.T) {
	w := newWorkers(10, 20*time.Millisecond)
	const n = 1000
	done := make(chan struct{})
	for range n {
		w.Schedule(func() { done <- struct{}{} })
		<-done
	}
	if s := w.started.Load(); s >= n {
		t.Fatalf("%d sequential runs started %d workers: none was reused", n, s)
	} else {
		t.Logf("%d sequential runs, %d workers started", n, s)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.live.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still live 5s after the last run, want 0 (idle for 20ms)", w.live.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newID hands out distinct 128-bit hex ids, from any number of goroutines.
func TestNewIDUnique(t *testing.T) {
	const per, workers = 2000, 8
	var mu sync.Mutex
	seen := make(map[string]bool, per*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range per {
				id := newID()
				mu.Lock()
				if seen[id] || len(id) != 32 {
					t.Errorf("id %q: repeated or not 32 hex digits", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
