package redisx_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

func TestPubSub(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		const n = 100
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		got := make(chan string, 2*n)
		subscribed := make(chan struct{}, 4)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Subscribe(ctx, "node-a", func(b []byte) { got <- string(b) },
				func() { subscribed <- struct{}{} }, discard)
		}()
		select {
		case <-subscribed:
		case <-time.After(5 * time.Second):
			t.Fatal("onSubscribed not called within 5s")
		}

		// Another node's channel does not reach node-a.
		if err := c.Publish(t.Context(), "node-b", []byte("not for a")); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := c.Publish(t.Context(), "node-a", fmt.Appendf(nil, "msg-%03d\x00\xff", i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			want := fmt.Sprintf("msg-%03d\x00\xff", i)
			select {
			case m := <-got:
				if m != want {
					t.Fatalf("message %d: got %q, want %q", i, m, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("message %d: none within 5s", i)
			}
		}
		select {
		case m := <-got:
			t.Errorf("extra message: got %q, want none", m)
		case <-time.After(50 * time.Millisecond):
		}

		stop()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Subscribe did not return within 5s of its context ending")
		}
		if len(subscribed) != 0 {
			t.Errorf("onSubscribed: called %d more times, want once", len(subscribed))
		}
	})
}

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		events := []string{`{"type":"enqueued","player_id":"p1"}`, `{"type":"match_formed"}`, "raw\x00bytes"}
		for _, e := range events {
			if err := c.AppendEvent(ctx, []byte(e), 1000); err != nil {
				t.Fatal(err)
			}
		}
		es, err := c.R.Do(ctx, c.R.B().Xrange().Key(c.Keys.Events()).Start("-").End("+").Build()).AsXRange()
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(events) {
			t.Fatalf("stream length: got %d, want %d", len(es), len(events))
		}
		for i, e := range es {
			if len(e.FieldValues) != 1 || e.FieldValues["data"] != events[i] {
				t.Errorf("entry %d: got %v, want data=%q", i, e.FieldValues, events[i])
			}
		}

		// The stream is capped (approximately: MAXLEN ~ trims whole nodes).
		const maxLen, total = 10, 500
		for i := range total {
			if err := c.AppendEvent(ctx, fmt.Appendf(nil, "e%d", i), maxLen); err != nil {
				t.Fatal(err)
			}
		}
		n, err := c.R.Do(ctx, c.R.B().Xlen().Key(c.Keys.Events()).Build()).AsInt64()
		if err != nil || n < maxLen || n > maxLen+100 {
			t.Errorf("XLEN after %d appends capped at ~%d: got %d, %v; want in [%d, %d]", total, maxLen, n, err, maxLen, maxLen+100)
		}
	})
}
