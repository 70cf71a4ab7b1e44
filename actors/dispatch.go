package actors

import (
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// workers is the dispatcher of the session, room and queue actors: it runs
// mailboxes on goroutines that outlive one run. protoactor's default starts
// a goroutine per mailbox run; a new goroutine begins with a small stack and
// grows it (by copying) as soon as the run goes down into the Redis client
// and the codec, which cost about 5% of the CPU under load. A worker keeps
// its grown stack for the next run, and leaves after idling for idleFor, so
// the pool follows the load and an idle node holds no workers.
type workers struct {
	// work hands a run to a worker waiting for one; unbuffered, so a run is
	// never queued behind another while no worker is free.
	work       chan func()
	idleFor    time.Duration
	throughput int
	// started counts the workers ever started, live those running now.
	started, live atomic.Int64
}

var _ actor.Dispatcher = (*workers)(nil)

func newWorkers(throughput int, idleFor time.Duration) *workers {
	return &workers{work: make(chan func()), idleFor: idleFor, throughput: throughput}
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
	idle := time.NewTimer(w.idleFor)
	defer idle.Stop()
	for {
		fn()
		idle.Reset(w.idleFor)
		select {
		case fn = <-w.work:
		case <-idle.C:
			return
		}
	}
}

// props builds the props of one of the node's many actors (sessions, rooms,
// queues), run by the node's workers.
func (e *Env) props(producer actor.Producer) *actor.Props {
	if e.workers == nil {
		return actor.PropsFromProducer(producer)
	}
	return actor.PropsFromProducer(producer, actor.WithDispatcher(e.workers))
}
