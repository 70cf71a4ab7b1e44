package actors

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"
)

// EventSink appends state events to Redis.
type EventSink interface {
	AppendEvent(ctx context.Context, data []byte, maxLen int64) error
}

// Events publishes state events (docs/protocol.md section 10.4) while enabled. The
// flag is an atomic with sequentially consistent loads and stores, so a
// toggle is seen by every event emitted after the toggle returns.
type Events struct {
	enabled atomic.Bool
	sink    EventSink
	node    string
	maxLen  func() int64
	timeout func() time.Duration
	metrics *Metrics
	onEmit  func([]byte)
}

// NewEvents returns a publisher writing to sink, each append bounded by
// timeout; onEmit, when set, sees each event too (the /debug/events stream).
func NewEvents(sink EventSink, node string, maxLen func() int64, timeout func() time.Duration, m *Metrics, onEmit func([]byte)) *Events {
	return &Events{sink: sink, node: node, maxLen: maxLen, timeout: timeout, metrics: m, onEmit: onEmit}
}

// SetEnabled turns publishing on or off and reports whether it changed.
func (e *Events) SetEnabled(on bool) bool {
	old := e.enabled.Swap(on)
	if on {
		e.metrics.StateEventsOn.Set(1)
	} else {
		e.metrics.StateEventsOn.Set(0)
	}
	return old != on
}

// Enabled reports the flag in force.
func (e *Events) Enabled() bool { return e != nil && e.enabled.Load() }

// Emit publishes one event with the given fields when enabled.
func (e *Events) Emit(event string, fields map[string]any) {
	if !e.Enabled() {
		return
	}
	m := make(map[string]any, len(fields)+3)
	for k, v := range fields {
		m[k] = v
	}
	m["ts_ms"] = time.Now().UnixMilli()
	m["node_id"] = e.node
	m["event"] = event
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	if e.onEmit != nil {
		e.onEmit(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout())
	defer cancel()
	if err := e.sink.AppendEvent(ctx, data, e.maxLen()); err != nil {
		e.metrics.RedisErrors.WithLabelValues("append_event").Inc()
	}
}
