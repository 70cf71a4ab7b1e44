package redisx

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// A timeout is Redis's fault only when the call noticed its own deadline in
// time; one that took far longer was made by a process that was stopped or
// starved (SIGSTOP, a long pause) and must not open the breaker on waking.
func TestBreakerBlamesStallsOnTheProcess(t *testing.T) {
	b := &breakerClient{stallAfter: 100 * time.Millisecond}
	timeout := fmt.Errorf("redisx: enqueue: %w", context.DeadlineExceeded)
	for _, tc := range []struct {
		name  string
		err   error
		took  time.Duration
		blame bool
	}{
		{"a timeout noticed in time", timeout, 10 * time.Millisecond, true},
		{"a timeout after a stall", timeout, 300 * time.Millisecond, false},
		{"another failure after a stall", errors.New("i/o timeout"), 300 * time.Millisecond, false},
		{"another failure noticed in time", errors.New("connection reset"), 10 * time.Millisecond, true},
		{"success", nil, 300 * time.Millisecond, false},
	} {
		got := b.blame(tc.err, time.Now().Add(-tc.took))
		if (got != nil) != tc.blame {
			t.Errorf("%s: blame %v, want blamed=%v", tc.name, got, tc.blame)
		}
	}
	if off := (&breakerClient{}).blame(timeout, time.Now().Add(-time.Hour)); off == nil {
		t.Error("with StallAfter 0 every timeout must count")
	}
}

// While the process says it is catching up after a stall, failures are its
// own doing; once it is not, they count again.
func TestBreakerExcusesFailuresWhileCatchingUp(t *testing.T) {
	b := &breakerClient{}
	timeout := fmt.Errorf("redisx: mark ready: %w", context.DeadlineExceeded)
	catchingUp := true
	f := func() bool { return catchingUp }
	b.excused.Store(&f)
	if got := b.blame(timeout, time.Now()); got != nil {
		t.Errorf("while catching up: blame %v, want none", got)
	}
	catchingUp = false
	if got := b.blame(timeout, time.Now()); got == nil {
		t.Error("after catching up: a timeout must count")
	}
}
