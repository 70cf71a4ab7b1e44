package redisx

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"
)

// ErrCircuitOpen is returned without calling Redis while the circuit breaker
// is open: Redis failed repeatedly and is given time to recover.
var ErrCircuitOpen = errors.New("redisx: redis circuit open")

// breakerClient puts a circuit breaker in front of every command and script
// (rueidis Lua Exec goes through Do). Only transport failures count: a Redis
// reply, even an error reply or nil, proves the server is there.
type breakerClient struct {
	rueidis.Client
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]
	// stallAfter: a failed call that took longer than this (longer than any
	// deadline it had) failed because this process was stopped or starved,
	// not because of Redis, and does not count against Redis.
	stallAfter time.Duration
	// excused, when set, says whether failures are this process's own
	// doing right now (it is catching up after a stall): they do not count.
	excused atomic.Pointer[func() bool]
}

// BreakerOptions configure the Redis circuit breaker.
type BreakerOptions struct {
	// Failures is the number of consecutive failures that opens it.
	Failures int
	// Cooldown is how long it stays open before a probe.
	Cooldown time.Duration
	// OnChange is called with true when it opens and false when it closes.
	OnChange func(open bool)
	// StallAfter is how long past its deadline a timed-out call must have
	// taken to be blamed on this process rather than on Redis (a node
	// that was stopped must not open its breaker for it on waking). 0: off.
	StallAfter time.Duration
}

func newBreakerClient(c rueidis.Client, o BreakerOptions) *breakerClient {
	return &breakerClient{Client: c, stallAfter: o.StallAfter, cb: gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Timeout:     o.Cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(o.Failures) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if o.OnChange != nil && to != gobreaker.StateHalfOpen {
				o.OnChange(to == gobreaker.StateOpen)
			}
		},
		IsSuccessful: isAnswer,
	})}
}

// isAnswer reports whether err still means Redis answered (or the caller
// gave up on its own), so it must not count against Redis.
func isAnswer(err error) bool {
	if err == nil || rueidis.IsRedisNil(err) || errors.Is(err, context.Canceled) {
		return true
	}
	_, ok := rueidis.IsRedisErr(err)
	return ok
}

func (b *breakerClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	done, err := b.cb.Allow()
	if err != nil {
		return rueidis.NewErrorResult(ErrCircuitOpen)
	}
	start := time.Now()
	res := b.Client.Do(ctx, cmd)
	done(b.blame(res.Error(), start))
	return res
}

// blame is the error the breaker counts for a call that began at start.
func (b *breakerClient) blame(err error, start time.Time) error {
	if err != nil && b.stallAfter > 0 && time.Since(start) > b.stallAfter {
		return nil
	}
	if f := b.excused.Load(); err != nil && f != nil && (*f)() {
		return nil
	}
	return err
}

func (b *breakerClient) DoMulti(ctx context.Context, cmds ...rueidis.Completed) []rueidis.RedisResult {
	done, err := b.cb.Allow()
	if err != nil {
		out := make([]rueidis.RedisResult, len(cmds))
		for i := range out {
			out[i] = rueidis.NewErrorResult(ErrCircuitOpen)
		}
		return out
	}
	start := time.Now()
	res := b.Client.DoMulti(ctx, cmds...)
	var first error
	for _, r := range res {
		if e := r.Error(); !isAnswer(e) {
			first = e
			break
		}
	}
	done(b.blame(first, start))
	return res
}

// NotSent reports whether a failed call certainly never reached Redis: the
// circuit breaker refused it, or no connection could be made. Any other
// failure (a timeout, a connection lost while waiting for the reply) may
// have come after Redis ran the command, so its outcome is unknown and must
// be settled by reading Redis, never reported as a failure.
func NotSent(err error) bool {
	if errors.Is(err, ErrCircuitOpen) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
