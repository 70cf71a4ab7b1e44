package actors

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// workers is the dispatcher of the session, room and queue actors: it runs
// mailboxes on goroutines that outlive one run. protoactor's default starts
// a goroutine per mailbox run; a new goroutine begins with a small stack and
// grows it (by copying) as soon as the run goes down into the Redis client
// and the codec, which cost about 5% of the CPU under load. A worker keeps
// its grown stack for the next run. Every idleFor a reaper retires as many
// workers as stayed idle throughout, so the pool follows the load and an
// idle node holds none; workers themselves arm no timer per run.
type workers struct {
	// work hands a run to a worker waiting for one; unbuffered, so a run is
	// never queued behind another while no worker is free. A nil run
	// retires the worker that takes it.
	work       chan func()
	throughput int
	// idle counts the workers waiting for a run; lowest is the fewest that
	// waited at any moment since the last reap.
	idle, lowest atomic.Int64
	// started counts the workers ever started, live those running now.
	started, live atomic.Int64
	stop          chan struct{}
	stopOnce      sync.Once
	stopped       atomic.Bool
}

var _ actor.Dispatcher = (*workers)(nil)

func newWorkers(throughput int, idleFor time.Duration) *workers {
	w := &workers{work: make(chan func()), throughput: throughput, stop: make(chan struct{})}
	go w.reap(idleFor)
	return w
}

// Schedule runs fn on an idle worker, or on a new one when none is idle.
func (w *workers) Schedule(fn func()) {
	select {
	case w.work <- fn:
	default:
		w.started.Add(1)
		w.live.Add(1)
		go w.run(fn)
	}
}

// Throughput is how many messages a mailbox run handles before yielding.
func (w *workers) Throughput() int { return w.throughput }

func (w *workers) run(fn func()) {
	defer w.live.Add(-1)
	for {
		fn()
		if w.stopped.Load() {
			return
		}
		w.idle.Add(1)
		select {
		case fn = <-w.work:
		case <-w.stop:
			// Closed while idle: a worker counted idle just before it parks
			// would miss a retirement sent by close, so it watches stop too.
			w.idle.Add(-1)
			return
		}
		n := w.idle.Add(-1)
		for {
			low := w.lowest.Load()
			if n >= low || w.lowest.CompareAndSwap(low, n) {
				break
			}
		}
		if fn == nil {
			return
		}
	}
}

// reap retires, every idleFor, the workers that were not needed since the
// last time: as many as were idle at the busiest moment.
func (w *workers) reap(idleFor time.Duration) {
	t := time.NewTicker(idleFor)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		spare := w.lowest.Swap(w.idle.Load())
		for range spare {
			select {
			case w.work <- nil:
			default:
			}
		}
	}
}

// close stops the reaper and retires the workers: the idle ones now (they
// watch stop), the busy ones when their run ends.
func (w *workers) close() {
	w.stopOnce.Do(func() {
		w.stopped.Store(true)
		close(w.stop)
	})
}

// props builds the props of one of the node's many actors (sessions, rooms,
// queues), run by the node's workers.
func (e *Env) props(producer actor.Producer) *actor.Props {
	if e.workers == nil {
		return actor.PropsFromProducer(producer)
	}
	return actor.PropsFromProducer(producer, actor.WithDispatcher(e.workers))
}
