package actors

import (
	"sync/atomic"
	"time"
)

// stallWatch notices when this process itself was stalled (stopped with
// SIGSTOP, paused by its host, starved of CPU): a ticker that should fire
// every period finds a much longer gap. Frames a client sent during the
// stall are read late, through no fault of the client: for a moment after
// waking, a loading_complete counts as having arrived when the stall began
// (by the estimate of Redis's clock), and the node's rooms wait for its
// sessions to catch up before judging no-shows.
type stallWatch struct {
	clock interface{ NowMs() int64 }
	// lastMs is the Redis-clock estimate at the last tick; stallFromMs is
	// the one at the last tick before the latest stall, wokeAt when it
	// ended (unix ns, local).
	lastMs, stallFromMs, wokeAt atomic.Int64
	// lastTick is when the watch last ticked (unix ns, local).
	lastTick atomic.Int64
	stop                        chan struct{}
}

// stallPeriod is the watch's tick; a gap of stallGap or more is a stall.
const (
	stallPeriod = 100 * time.Millisecond
	stallGap    = time.Second
)

func newStallWatch(clock interface{ NowMs() int64 }) *stallWatch {
	w := &stallWatch{clock: clock, stop: make(chan struct{})}
	w.lastMs.Store(clock.NowMs())
	w.lastTick.Store(time.Now().UnixNano())
	go w.run()
	return w
}

func (w *stallWatch) run() {
	t := time.NewTicker(stallPeriod)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			if now.Sub(last) >= stallGap {
				w.stallFromMs.Store(w.lastMs.Load())
				w.wokeAt.Store(now.UnixNano())
			}
			last = now
			w.lastMs.Store(w.clock.NowMs())
			w.lastTick.Store(now.UnixNano())
		}
	}
}

func (w *stallWatch) close() { close(w.stop) }

// wokeWithin reports whether the process woke from a stall within d, or
// is waking from one now (the watch has not ticked since).
func (w *stallWatch) wokeWithin(d time.Duration) bool {
	if w.stalledNow() {
		return true
	}
	at := w.wokeAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < d
}

// stalledNow reports a stall the watch has not ticked past yet: whoever
// runs first after a stall sees it before the watch does.
func (w *stallWatch) stalledNow() bool {
	return time.Since(time.Unix(0, w.lastTick.Load())) >= stallGap
}

// arrivedMs is when a frame read now reached this node at the latest, by
// Redis's clock, when the node just woke from a stall: the stall's start
// (the frame may have waited unread all along). 0 otherwise: now.
func (w *stallWatch) arrivedMs() int64 {
	if w.stalledNow() {
		return w.lastMs.Load()
	}
	if w.wokeWithin(time.Second) {
		return w.stallFromMs.Load()
	}
	return 0
}
