package config

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Store holds the live configuration of a running node. Components read it on
// every use through Get (one atomic load, no lock), so a reload reaches them
// without restarts or plumbing; components that cache derived state (a
// ticker, a logger level) learn of a reload through Subscribe.
type Store struct {
	cur atomic.Pointer[Config]

	mu   sync.Mutex // serialises Reload, guards subs
	subs map[chan struct{}]struct{}
}

// NewStore starts a Store with c, which should already be validated (Load
// does that).
func NewStore(c Config) *Store {
	s := &Store{subs: map[chan struct{}]struct{}{}}
	c = c.clone()
	s.cur.Store(&c)
	return s
}

// Get returns the current configuration. It is shared by every reader and
// replaced, never modified, by Reload: treat it as read-only, and read it
// once per operation if several fields must agree.
func (s *Store) Get() *Config { return s.cur.Load() }

// Subscribe returns a channel that receives a value after each reload that
// changed something, and a function that ends the subscription. The channel
// has room for one value and sends never block: a slow reader sees several
// reloads as one, which is enough since it re-reads Get anyway.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, ch)
			s.mu.Unlock()
		})
	}
}

// Reload loads the configuration afresh from args and environ (as Load),
// validates it, and applies the keys that are safe to change on a running
// node; the rest keep their current values until a restart. changed lists the
// keys applied now; restartNeeded lists keys whose new value differs from the
// running one but waits for a restart (it is reported again on every reload
// until then). On any error, including a new value that is only invalid in
// combination with a running value it cannot replace (a new tick against the
// old lock_ttl), nothing is applied and the current configuration stays.
//
// Live keys: matchmaking.tick; for modes present before and after, max_wait,
// loading_timeout, rating.* and latency.*; session.reconnect_grace;
// session.rate_limit.*; sanctions.*; log.level; state_events.enabled;
// allocator.request_timeout; allocator.max_attempts; rooms.*. Everything
// else, including adding or removing a mode or changing its teams or
// team_size, needs a restart.
func (s *Store) Reload(args, environ []string) (changed, restartNeeded []string, err error) {
	next, _, err := Load(args, environ)
	if err != nil {
		return nil, nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	cur := *s.cur.Load()
	merged := applyLive(cur, next)
	if err := merged.Validate(); err != nil {
		return nil, nil, fmt.Errorf("config: reload: the new live values do not fit the values that need a restart: %w", err)
	}
	changed = diffKeys(cur, merged)
	restartNeeded = diffKeys(merged, next)
	if len(changed) == 0 {
		return changed, restartNeeded, nil
	}
	s.cur.Store(&merged)
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return changed, restartNeeded, nil
}

// applyLive returns cur with the live-safe keys taken from next. This is
// the single definition of which keys are live: Reload derives both of its
// key lists from it.
func applyLive(cur, next Config) Config {
	out := cur.clone()
	out.Matchmaking.Tick = next.Matchmaking.Tick
	for i, m := range out.Matchmaking.Modes {
		if nm, ok := next.ModeByName(m.Name); ok {
			out.Matchmaking.Modes[i].MaxWait = nm.MaxWait
			out.Matchmaking.Modes[i].LoadingTimeout = nm.LoadingTimeout
			out.Matchmaking.Modes[i].Rating = nm.Rating
			out.Matchmaking.Modes[i].Latency = nm.Latency
		}
	}
	out.Session.ReconnectGrace = next.Session.ReconnectGrace
	out.Session.RateLimit = next.Session.RateLimit
	out.Sanctions = Sanctions{Ladder: slices.Clone(next.Sanctions.Ladder), Decay: next.Sanctions.Decay}
	out.Log.Level = next.Log.Level
	out.StateEvents.Enabled = next.StateEvents.Enabled
	out.Allocator.RequestTimeout = next.Allocator.RequestTimeout
	out.Allocator.MaxAttempts = next.Allocator.MaxAttempts
	out.Rooms = next.Rooms
	return out
}
