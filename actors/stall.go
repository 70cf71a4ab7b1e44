package actors

import (
	"sync/atomic"
	"time"
)

// stallWatch notices when this process itself was stalled (stopped with
// SIGSTOP, paused by its host, starved of CPU): a ticker that should fire
// every period finds a much longer gap. Frames a client sent during the
// stall are read late, through no fault of the client: a frame read while
// the node is waking counts as having arrived when the stall began (by the
// estimate of Redis's clock), and the node's rooms wait for its sessions to
// catch up before judging no-shows.
type stallWatch struct {
	clock interface{ NowMs() int64 }
	log   func(gap time.Duration)
	state atomic.Pointer[stallState]
	stop  chan struct{}
}

// stallState is one tick's view, replaced whole at each tick.
type stallState struct {
	tick   time.Time // when the watch last ticked (local, monotonic)
	tickMs int64     // the Redis-clock estimate then
	// stallFromMs is the estimate at the last tick before the latest
	// stall, wokeAt when the watch noticed it had ended.
	stallFromMs int64
	wokeAt      time.Time
}

// stallPeriod is the watch's tick; a gap of stallGap or more is a stall;
// frames read within wakeWindow of waking count from the stall's start.
const (
	stallPeriod = 100 * time.Millisecond
	stallGap    = time.Second
	wakeWindow  = 300 * time.Millisecond
	// catchUp is how long after waking the node's Redis failures are
	// blamed on its own backlog rather than on Redis.
	catchUp = 3 * time.Second
)

func newStallWatch(clock interface{ NowMs() int64 }, log func(gap time.Duration)) *stallWatch {
	w := &stallWatch{clock: clock, log: log, stop: make(chan struct{})}
	w.state.Store(&stallState{tick: time.Now(), tickMs: clock.NowMs()})
	go w.run()
	return w
}

func (w *stallWatch) run() {
	t := time.NewTicker(stallPeriod)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		prev := w.state.Load()
		next := &stallState{tick: now, tickMs: w.clock.NowMs(), stallFromMs: prev.stallFromMs, wokeAt: prev.wokeAt}
		if gap := now.Sub(prev.tick); gap >= stallGap {
			next.stallFromMs, next.wokeAt = prev.tickMs, now
			if w.log != nil {
				w.log(gap)
			}
		}
		w.state.Store(next)
	}
}

func (w *stallWatch) close() { close(w.stop) }

// wokeWithin reports whether the process woke from a stall within d, or is
// waking from one now (the watch has not ticked since).
func (w *stallWatch) wokeWithin(d time.Duration) bool {
	s := w.state.Load()
	return time.Since(s.tick) >= stallGap || (!s.wokeAt.IsZero() && time.Since(s.wokeAt) < d)
}

// arrivalMs is when a frame read now reached this node at the latest, by
// the estimate of Redis's clock: now, or, while the node is waking from a
// stall, the stall's start (the frame may have waited unread all along).
func (w *stallWatch) arrivalMs() int64 {
	s := w.state.Load()
	switch {
	case time.Since(s.tick) >= stallGap:
		return s.tickMs // a stall the watch has not ticked past yet
	case !s.wokeAt.IsZero() && time.Since(s.wokeAt) < wakeWindow:
		return s.stallFromMs
	}
	return w.clock.NowMs()
}
