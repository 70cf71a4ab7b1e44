package actors

import (
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Every scheduled run happens exactly once, also when runs arrive faster
// than workers free up.
func TestWorkersRunEverything(t *testing.T) {
	w := newWorkers(10, time.Second)
	defer w.close()
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
	defer w.close()
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
			t.Fatalf("%d workers still live 5s after the last run, want 0 (reaped every 20ms)", w.live.Load())
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

// recorder is a stand-in room actor: it takes over its pending entry when it
// starts, like a room actor, and records what it receives.
type recorder struct {
	reg   *registry
	match string
	got   chan int
}

func (r *recorder) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.reg.roomStarted(ctx, r.match)
	case int:
		r.got <- m
	}
}

// Messages for a room whose actor is still being spawned wait for it and
// reach it in the order they were sent, before anything sent after it
// started; a match with no local room takes nothing.
func TestPendingRoomHoldsMessages(t *testing.T) {
	sys := actor.NewActorSystem()
	reg := &registry{}
	reg.pend("m1")
	for i := range 3 {
		if !reg.toRoom(sys, "m1", i) {
			t.Fatalf("toRoom(%d) to a pending room: not taken", i)
		}
	}
	if reg.room("m1") != nil {
		t.Fatalf("a pending room has a pid before its actor started")
	}
	rec := &recorder{reg: reg, match: "m1", got: make(chan int, 10)}
	sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return rec }))
	for i := 3; i < 6; i++ {
		reg.toRoom(sys, "m1", i)
	}
	for want := range 6 {
		select {
		case got := <-rec.got:
			if got != want {
				t.Fatalf("room received %d, want %d (in send order)", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("room never received message %d", want)
		}
	}
	if reg.room("m1") == nil {
		t.Fatalf("started room: no pid registered")
	}
	if reg.toRoom(sys, "nope", 1) {
		t.Fatalf("toRoom to an unknown match: taken")
	}
}

// Closing the pool retires its idle workers.
func TestWorkersClose(t *testing.T) {
	w := newWorkers(10, time.Hour)
	done := make(chan struct{})
	for range 3 {
		w.Schedule(func() { done <- struct{}{} })
	}
	for range 3 {
		<-done
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.idle.Load() != w.live.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("workers never went idle")
		}
		time.Sleep(time.Millisecond)
	}
	w.close()
	for w.live.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers live after close, want 0", w.live.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// close retires every worker, also the ones that counted themselves idle
// but had not parked yet when close ran (the race that leaked goroutines):
// no goroutine of the pool survives close.
func TestWorkersCloseLeavesNoGoroutine(t *testing.T) {
	for range 200 {
		w := newWorkers(10, time.Hour)
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			w.Schedule(wg.Done)
		}
		wg.Wait()
		w.close()
		deadline := time.Now().Add(5 * time.Second)
		for w.live.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d workers live 5s after close, want 0", w.live.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
}
