package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"
)

// debugEvents serves GET /debug/events: the state events of this node as
// Server-Sent Events, one "event: <name>" / "data: <json>" message each, a
// ": ping" comment every server.ping_interval (so proxies see the stream is
// alive) and ": dropped N" where this client was too slow
// and lost N events. Events flow only while state events are enabled
// (POST /admin/state-events); the stream says so in its first comment.
func (a *Admin) debugEvents(w http.ResponseWriter, r *http.Request) {
	if a.Hub == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "event stream not configured"})
		return
	}
	sub := a.Hub.Subscribe()
	defer sub.Close()
	cfg := a.Config.Get().Server
	a.serveEvents(w, r, sub, cfg.PingInterval, cfg.WriteTimeout)
}

func (a *Admin) serveEvents(w http.ResponseWriter, r *http.Request, sub *Subscription, ping, writeTimeout time.Duration) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	// write sends buf to the client within server.write_timeout; false when
	// the client is gone or stuck, so it does not pin a goroutine.
	var buf bytes.Buffer
	write := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := w.Write(buf.Bytes())
		buf.Reset()
		if err == nil {
			err = rc.Flush()
		}
		return err == nil
	}
	if a.Events.Enabled() {
		buf.WriteString(": connected; state events are enabled\n\n")
	} else {
		buf.WriteString(": connected; state events are disabled, POST /admin/state-events {\"enabled\": true} to turn them on\n\n")
	}
	if !write() {
		return
	}
	ticker := time.NewTicker(ping)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ticker.C:
			buf.WriteString(": ping\n\n")
			if !write() {
				return
			}
		case ev, ok := <-sub.Events():
			// Batch what is already buffered into one flush; this is the only
			// receiver, so a non-empty channel does not block.
			for ok {
				writeSSE(&buf, ev)
				if buf.Len() >= 64<<10 || len(sub.Events()) == 0 {
					break
				}
				ev, ok = <-sub.Events()
			}
			if n := sub.Lost(); n > 0 {
				fmt.Fprintf(&buf, ": dropped %d\n\n", n)
			}
			if !write() || !ok {
				return // the client is gone, or the hub closed: the node is shutting down
			}
		}
	}
}

// writeSSE appends one SSE message: the loss report that precedes it, if
// any, then "event:" and one "data:" line per line of the payload.
func writeSSE(w io.Writer, ev Event) {
	if ev.Dropped > 0 {
		fmt.Fprintf(w, ": dropped %d\n\n", ev.Dropped)
	}
	fmt.Fprintf(w, "event: %s\n", ev.Name)
	for line := range bytes.Lines(ev.Data) {
		line = bytes.TrimRight(line, "\r\n")
		fmt.Fprintf(w, "data: %s\n", line)
	}
	if len(ev.Data) == 0 {
		io.WriteString(w, "data: \n")
	}
	io.WriteString(w, "\n")
}
