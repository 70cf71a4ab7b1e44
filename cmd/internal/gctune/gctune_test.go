package gctune

import (
	"context"
	"testing"
	"time"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	p := DefaultPolicy
	cases := []struct {
		name            string
		rate            float64
		live, scannable uint64
		want            int
	}{
		// 19,000 idle sessions: ~150 MiB live, ~190 MiB scannable, ~2.5 MiB/s.
		{"idle node", 2.5 * mib, 150 * mib, 190 * mib, 27},
		{"quieter still: the floor", 0.5 * mib, 150 * mib, 190 * mib, 25},
		{"busy node: the default", 300 * mib, 150 * mib, 190 * mib, 100},
		{"small heap: the default", 0.1 * mib, 20 * mib, 30 * mib, 100},
		{"nothing scannable", 1 * mib, 100 * mib, 0, 100},
	}
	for _, c := range cases {
		if got := p.Percent(c.rate, c.live, c.scannable); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// fakeRuntime allocates rate bytes per simulated second.
type fakeRuntime struct {
	allocs, live, scannable uint64
	set                     []int
	percent                 int
}

func (f *fakeRuntime) tuner() *Tuner {
	return &Tuner{Policy: DefaultPolicy,
		Read: func() Sample { return Sample{Allocs: f.allocs, Live: f.live, Scannable: f.scannable} },
		Set: func(p int) int {
			old := f.percent
			f.percent = p
			f.set = append(f.set, p)
			return old
		}}
}

// A burst of work finds the full headroom at the next sample; when it
// ends, the percent comes down over seconds, not at once.
func TestStepRisesAtOnceFallsSlowly(t *testing.T) {
	f := &fakeRuntime{live: 150 * mib, scannable: 190 * mib, percent: 100}
	tu := f.tuner()
	tu.percent = 100
	now := time.Unix(1000, 0)
	tu.last, tu.lastAt = tu.Read(), now
	step := func(rate uint64) {
		now = now.Add(time.Second)
		f.allocs += rate
		tu.Step(now)
	}
	for range 60 {
		step(2 * mib) // idle
	}
	if f.percent > 30 {
		t.Fatalf("after a idle minute the percent is %d, want near 25", f.percent)
	}
	step(400 * mib) // a burst
	if f.percent != 100 {
		t.Fatalf("one second into a burst the percent is %d, want 100", f.percent)
	}
	step(2 * mib)
	if f.percent != 100 {
		t.Fatalf("one quiet second after the burst the percent is %d, want still 100", f.percent)
	}
	for range 60 {
		step(2 * mib)
	}
	if f.percent > 30 {
		t.Fatalf("a quiet minute after the burst the percent is %d, want back near 25", f.percent)
	}
}

// Run sets the default at start and gives the process its percent back
// when it ends.
func TestRunRestores(t *testing.T) {
	f := &fakeRuntime{live: 150 * mib, scannable: 190 * mib, percent: 80}
	tu := f.tuner()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tu.Run(ctx); close(done) }()
	cancel()
	<-done
	if f.percent != 80 || len(f.set) < 2 || f.set[0] != 100 {
		t.Fatalf("percents set %v, now %d: want 100 first and 80 restored", f.set, f.percent)
	}
}

func TestReadRuntime(t *testing.T) {
	s := ReadRuntime()
	if s.Allocs == 0 || s.Scannable < s.Live {
		t.Fatalf("sample %+v", s)
	}
}
