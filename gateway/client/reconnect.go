package client

import (
	"math"
	"time"
)

// Reconnect is the backoff between connection attempts: exponential with
// jitter, never sooner than the server asked. A zero field takes its
// default.
type Reconnect struct {
	// Off: never reconnect; a dropped connection ends the client.
	Off bool
	// Initial is the delay before the first retry (default 250 ms), Max
	// the cap (default 15 s), Factor the growth per failed attempt
	// (default 2).
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	// Jitter is the fraction of each delay left to chance (default 0.5):
	// the players of a node that went down spread their returns.
	Jitter float64
	// MaxAttempts is how many failed attempts in a row end the client (0:
	// no limit).
	MaxAttempts int
}

func (r Reconnect) withDefaults() Reconnect {
	if r.Initial <= 0 {
		r.Initial = 250 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 15 * time.Second
	}
	if r.Factor < 1 {
		r.Factor = 2
	}
	if r.Jitter <= 0 || r.Jitter > 1 {
		r.Jitter = 0.5
	}
	return r
}

// delay is the wait number waits+1 since the last welcome: Initial x
// Factor^waits, capped at Max, less up to Jitter of it; and at least
// hint (server_draining.reconnect_after_ms, or the retry_after_ms of an
// UNAVAILABLE that answered no request), plus up to Jitter of the hint, so
// a drained node's players do not all arrive at the next node at once.
func (r Reconnect) delay(waits int, hint time.Duration, rnd func() float64) time.Duration {
	base := min(float64(r.Max), float64(r.Initial)*math.Pow(r.Factor, float64(waits)))
	d := base * (1 - r.Jitter*rnd())
	if hint > 0 {
		d = max(d, float64(hint)*(1+r.Jitter*rnd()))
	}
	return time.Duration(d)
}
