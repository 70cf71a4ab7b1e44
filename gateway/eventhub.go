package gateway

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultEventBuffer is the number of events buffered per /debug/events
// subscriber before it starts losing events.
const DefaultEventBuffer = 256

// Event is one state event as delivered to a subscriber.
type Event struct {
	// Name is the event's "event" field (match_formed, enqueued, ...).
	Name string
	// Data is the event as published: one JSON object. Subscribers must not
	// modify it; every subscriber shares the same slice.
	Data []byte
	// Dropped is the number of events this subscriber lost, because its
	// buffer was full, just before this one.
	Dropped uint64
}

// EventHub fans state events out to /debug/events subscribers. Publish never
// blocks: each subscriber has a bounded buffer, and a subscriber that falls
// behind loses events (and is told how many) instead of slowing the actors
// that emit them or the other subscribers.
type EventHub struct {
	buffer int

	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
}

// Subscription is one subscriber's view of the hub.
type Subscription struct {
	hub *EventHub
	ch  chan Event
	// pending counts the events lost since the last one queued; written
	// only under hub.mu, read without it for a fast path.
	pending atomic.Uint64
}

// NewEventHub returns a hub with buffer events of room per subscriber
// (DefaultEventBuffer when buffer < 1).
func NewEventHub(buffer int) *EventHub {
	if buffer < 1 {
		buffer = DefaultEventBuffer
	}
	return &EventHub{buffer: buffer, subs: map[*Subscription]struct{}{}}
}

// Publish hands data (one JSON state event) to every subscriber without
// blocking. The hub keeps data: the caller must not modify it afterwards.
// Its signature fits actors.NewEvents' onEmit.
func (h *EventHub) Publish(data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		return
	}
	name := eventName(data)
	for s := range h.subs {
		ev := Event{Name: name, Data: data, Dropped: s.pending.Load()}
		select {
		case s.ch <- ev:
			s.pending.Store(0)
		default:
			s.pending.Add(1)
		}
	}
}

// Subscribe registers a subscriber; call Close on it when done. On a closed
// hub the subscription's channel is already closed.
func (h *EventHub) Subscribe() *Subscription {
	s := &Subscription{hub: h, ch: make(chan Event, h.buffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.ch)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Subscribers reports the number of live subscriptions.
func (h *EventHub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends every subscription (their channels close, so streams end) and
// makes later Publish calls no-ops. It is safe to call more than once.
func (h *EventHub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		close(s.ch)
		delete(h.subs, s)
	}
}

// Events delivers the subscriber's events in publish order; it is closed
// when the subscription or the hub is closed.
func (s *Subscription) Events() <-chan Event { return s.ch }

// Lost takes the number of events lost since the last one delivered, but
// only once every buffered event has been received, so that the count is
// reported in its place in the stream. Call it after draining Events.
func (s *Subscription) Lost() uint64 {
	if s.pending.Load() == 0 {
		return 0
	}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if len(s.ch) > 0 {
		return 0
	}
	return s.pending.Swap(0)
}

// Close unsubscribes; it is safe to call more than once and after the hub
// closed.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// eventName reads the "event" field of a state event, fit for an SSE
// "event:" line; "message" (the SSE default) when there is none.
func eventName(data []byte) string {
	var head struct {
		Event string `json:"event"`
	}
	if json.Unmarshal(data, &head) != nil || head.Event == "" || strings.ContainsAny(head.Event, "\r\n") {
		return "message"
	}
	return head.Event
}
