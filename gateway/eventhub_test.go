package gateway

import (
	"fmt"
	"testing"
	"time"
)

func stateEvent(name string, n int) []byte {
	return fmt.Appendf(nil, `{"event":%q,"n":%d}`, name, n)
}

// recv takes the next event or fails after a second.
func recv(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			t.Fatal("subscription closed, want an event")
		}
		return ev
	case <-time.After(time.Second):
		t.Fatal("no event within 1s")
	}
	return Event{}
}

func TestEventHubDeliversInOrder(t *testing.T) {
	h := NewEventHub(8)
	a, b := h.Subscribe(), h.Subscribe()
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	names := []string{"enqueued", "match_formed", "player_ready"}
	for i, n := range names {
		h.Publish(stateEvent(n, i))
	}
	for _, s := range []*Subscription{a, b} {
		for i, want := range names {
			ev := recv(t, s)
			if ev.Name != want || string(ev.Data) != string(stateEvent(want, i)) || ev.Dropped != 0 {
				t.Errorf("event %d: got %q %s dropped %d, want %q %s dropped 0", i, ev.Name, ev.Data, ev.Dropped, want, stateEvent(want, i))
			}
		}
	}
}

func TestEventHubSlowSubscriberDoesNotBlockPublish(t *testing.T) {
	const buffer, total = 4, 1000
	h := NewEventHub(buffer)
	slow := h.Subscribe() // never reads until the end
	t.Cleanup(slow.Close)
	fast := h.Subscribe()
	t.Cleanup(fast.Close)

	// The publisher and the fast subscriber go in lockstep, so the fast one
	// must see every event while the slow one's buffer is long full.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			h.Publish(stateEvent("enqueued", i))
			ev := <-fast.Events()
			if want := stateEvent("enqueued", i); string(ev.Data) != string(want) || ev.Dropped != 0 {
				t.Errorf("fast subscriber: got %s dropped %d, want %s dropped 0", ev.Data, ev.Dropped, want)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked behind a subscriber that does not read")
	}

	// The slow one kept its first buffer's worth, then lost the rest.
	for i := range buffer {
		if ev := recv(t, slow); string(ev.Data) != string(stateEvent("enqueued", i)) {
			t.Fatalf("slow subscriber event %d: got %s, want %s", i, ev.Data, stateEvent("enqueued", i))
		}
	}
	if got, want := slow.Lost(), uint64(total-buffer); got != want {
		t.Errorf("Lost() = %d, want %d", got, want)
	}
	if got := slow.Lost(); got != 0 {
		t.Errorf("second Lost() = %d, want 0 (already taken)", got)
	}
}

func TestEventHubReportsLossInPlace(t *testing.T) {
	h := NewEventHub(2)
	s := h.Subscribe()
	t.Cleanup(s.Close)
	for i := range 5 { // 0 and 1 fit; 2, 3, 4 are lost
		h.Publish(stateEvent("enqueued", i))
	}
	if ev := recv(t, s); ev.Dropped != 0 || string(ev.Data) != string(stateEvent("enqueued", 0)) {
		t.Fatalf("got %s dropped %d, want event 0 dropped 0", ev.Data, ev.Dropped)
	}
	if n := s.Lost(); n != 0 {
		t.Fatalf("Lost() with event 1 still buffered = %d, want 0: the loss comes after it", n)
	}
	h.Publish(stateEvent("dequeued", 5)) // a slot is free again
	if ev := recv(t, s); ev.Dropped != 0 || string(ev.Data) != string(stateEvent("enqueued", 1)) {
		t.Fatalf("got %s dropped %d, want event 1 dropped 0", ev.Data, ev.Dropped)
	}
	ev := recv(t, s)
	if ev.Name != "dequeued" || ev.Dropped != 3 {
		t.Fatalf("got %s %s dropped %d, want dequeued dropped 3", ev.Name, ev.Data, ev.Dropped)
	}
	if n := s.Lost(); n != 0 {
		t.Errorf("Lost() after the report = %d, want 0", n)
	}
}

func TestEventHubUnsubscribeAndClose(t *testing.T) {
	h := NewEventHub(4)
	a, b := h.Subscribe(), h.Subscribe()
	if got := h.Subscribers(); got != 2 {
		t.Fatalf("Subscribers() = %d, want 2", got)
	}
	a.Close()
	a.Close() // idempotent
	if _, ok := <-a.Events(); ok {
		t.Error("closed subscription still delivers")
	}
	h.Publish(stateEvent("enqueued", 0))
	if got := h.Subscribers(); got != 1 {
		t.Errorf("Subscribers() after Close = %d, want 1", got)
	}
	h.Close()
	h.Close() // idempotent
	if ev, ok := <-b.Events(); !ok || ev.Name != "enqueued" {
		t.Errorf("buffered event lost on hub Close: got %v %v", ev, ok)
	}
	if _, ok := <-b.Events(); ok {
		t.Error("subscription still open after hub Close")
	}
	b.Close() // after the hub closed: no double close
	c := h.Subscribe()
	if _, ok := <-c.Events(); ok {
		t.Error("Subscribe on a closed hub returned an open subscription")
	}
	h.Publish(stateEvent("enqueued", 1)) // no-op, no panic
}

func TestEventName(t *testing.T) {
	tests := []struct {
		data string
		want string
	}{
		{`{"event":"match_formed","ts_ms":1}`, "match_formed"},
		{`{"ts_ms":1}`, "message"},
		{`{"event":""}`, "message"},
		{`{"event":"a\nb"}`, "message"},
		{`not json`, "message"},
	}
	for _, tt := range tests {
		if got := eventName([]byte(tt.data)); got != tt.want {
			t.Errorf("eventName(%s) = %q, want %q", tt.data, got, tt.want)
		}
	}
}
