package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// streamIdle is how long the event stream may stay silent before matchctl
// gives up on it: matchd sends a ": ping" comment every 15s.
const streamIdle = 45 * time.Second

func cmdEvents(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 0, "events [--json]"); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.request(ctx, http.MethodGet, "/debug/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = c.timeout
	resp, err := c.send(&http.Client{Transport: tr}, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	// A stream that goes silent past the pings is a dead connection.
	var stalled atomic.Bool
	watchdog := time.AfterFunc(streamIdle, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()

	err = c.readEvents(resp.Body, func() { watchdog.Reset(streamIdle) })
	switch {
	case stalled.Load():
		return fmt.Errorf("the event stream from %s went silent for %s (no events, no pings): connection lost", c.base.Host, streamIdle)
	case ctx.Err() != nil:
		return ctx.Err() // interrupted
	case err != nil:
		return fmt.Errorf("reading the event stream from %s: %w", c.base.Host, err)
	}
	return fmt.Errorf("the admin listener at %s ended the event stream (is the node shutting down?)", c.base.Host)
}

// readEvents parses the SSE stream and prints one line per event; comments
// go to stderr when they say something. alive is called on every line.
func (c *cli) readEvents(r io.Reader, alive func()) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var name string
	var data []string
	for sc.Scan() {
		alive()
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				c.printEvent(name, strings.Join(data, "\n"))
			}
			name, data = "", nil
		case strings.HasPrefix(line, ":"):
			c.comment(strings.TrimSpace(line[1:]))
		default:
			field, val, _ := strings.Cut(line, ":")
			val = strings.TrimPrefix(val, " ")
			switch field {
			case "event":
				name = val
			case "data":
				data = append(data, val)
			}
		}
	}
	return sc.Err()
}

func (c *cli) comment(text string) {
	switch {
	case text == "ping", text == "":
	case strings.HasPrefix(text, "dropped "):
		fmt.Fprintf(c.stderr, "matchctl: %s events lost: this client fell behind the stream\n", strings.TrimPrefix(text, "dropped "))
	case strings.Contains(text, "state events are disabled"):
		fmt.Fprintf(c.stderr, "matchctl: state events are off on %s, so nothing will flow; turn them on with: matchctl state-events on\n", c.base.Host)
	case strings.HasPrefix(text, "connected"):
		fmt.Fprintf(c.stderr, "matchctl: following state events of %s (Ctrl-C to stop)\n", c.base.Host)
	}
}

// eventKeyOrder puts the ids an on-call person looks for first.
var eventKeyOrder = []string{"player_id", "device_id", "mode", "match_id", "ticket_id", "reason", "kind"}

// printEvent prints "15:04:05.000  match_formed      mode=duel ... node=n1".
func (c *cli) printEvent(name, data string) {
	if c.jsonOut {
		fmt.Fprintln(c.stdout, data)
		return
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		fmt.Fprintf(c.stdout, "%-12s  %-16s  %s\n", "?", name, data)
		return
	}
	ts := "?"
	if ms, ok := ev["ts_ms"].(float64); ok {
		ts = time.UnixMilli(int64(ms)).Format("15:04:05.000")
	}
	if n, ok := ev["event"].(string); ok && n != "" {
		name = n
	}
	node := value(ev["node_id"])
	for _, k := range []string{"ts_ms", "event", "node_id"} {
		delete(ev, k)
	}
	var parts []string
	add := func(k string) {
		if v := value(ev[k]); v != "" {
			parts = append(parts, k+"="+v)
		}
		delete(ev, k)
	}
	for _, k := range eventKeyOrder {
		add(k)
	}
	rest := make([]string, 0, len(ev))
	for k := range ev {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k)
	}
	if node != "" {
		parts = append(parts, "node="+node)
	}
	fmt.Fprintf(c.stdout, "%s  %-16s  %s\n", ts, name, strings.Join(parts, " "))
}
