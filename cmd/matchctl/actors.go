package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// snapshot is one node of the /debug/actors tree.
type snapshot struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	State    string         `json:"state"`
	Restarts int            `json:"restarts"`
	Mailbox  int            `json:"mailbox"`
	Children []*snapshot    `json:"children"`
	Details  map[string]any `json:"details"`
}

func cmdActors(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 0, "actors [--kind K] [--state S] [--mode M] [--player P] [--limit N] [--json]"); err != nil {
		return err
	}
	q := url.Values{}
	switch c.kind {
	case "":
	case "coordinator", "queue", "room", "session":
		q.Set("kind", c.kind)
	default:
		return usagef("--kind must be coordinator, queue, room or session, not %q", c.kind)
	}
	switch c.state {
	case "":
	case "idle", "queued", "loading":
		q.Set("state", c.state)
	default:
		return usagef("--state must be idle, queued or loading, not %q", c.state)
	}
	if c.limit < 0 {
		return usagef("--limit must be positive")
	}
	if c.limit > 0 {
		q.Set("limit", strconv.Itoa(c.limit))
	}
	if c.mode != "" {
		q.Set("mode", c.mode)
	}
	if c.player != "" {
		q.Set("player", c.player)
	}
	if c.party != "" {
		q.Set("party", c.party)
	}
	path := "/debug/actors"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	body, err := c.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return printJSON(c.stdout, body)
	}
	var tree struct {
		NodeID  string      `json:"node_id"`
		Actors  []*snapshot `json:"actors"`
		Omitted int         `json:"omitted"`
	}
	if err := decode(body, &tree); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "node %s\n", tree.NodeID)
	if len(tree.Actors) == 0 {
		fmt.Fprintln(c.stdout, "(none)")
	}
	printTree(c.stdout, sorted(tree.Actors), c.now())
	if tree.Omitted > 0 {
		fmt.Fprintf(c.stdout, "(%d more match; narrow with --state, --mode, --player or raise --limit)\n", tree.Omitted)
	}
	return nil
}

// kindOrder puts a node's children in a stable, readable order.
var kindOrder = map[string]int{"coordinator": 0, "queue": 1, "room": 2, "supervisor": 3, "session": 4}

func sorted(list []*snapshot) []*snapshot {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		ka, oka := kindOrder[a.Kind]
		kb, okb := kindOrder[b.Kind]
		if !oka {
			ka = len(kindOrder)
		}
		if !okb {
			kb = len(kindOrder)
		}
		if ka != kb {
			return ka < kb
		}
		return a.ID < b.ID
	})
	return list
}

// printTree prints the top level flush left and each level below it with
// tree branches.
func printTree(w io.Writer, list []*snapshot, now time.Time) {
	for _, s := range list {
		fmt.Fprintln(w, describe(s, now))
		printChildren(w, sorted(s.Children), "", now)
	}
}

func printChildren(w io.Writer, list []*snapshot, prefix string, now time.Time) {
	for i, s := range list {
		branch, indent := "├── ", "│   "
		if i == len(list)-1 {
			branch, indent = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s\n", prefix, branch, describe(s, now))
		printChildren(w, sorted(s.Children), prefix+indent, now)
	}
}

// describe is one line: id, state, then the details that matter for the
// kind, then restarts and mailbox when not zero.
func describe(s *snapshot, now time.Time) string {
	d := s.Details
	parts := []string{s.ID, s.State}
	add := func(k string, v any) {
		if str := value(v); str != "" {
			parts = append(parts, k+"="+str)
		}
	}
	switch s.Kind {
	case "coordinator":
		add("queues", d["queues"])
		add("rooms", d["rooms"])
	case "queue":
		add("tickets", d["tickets"])
		add("fence", d["fence"])
		if v, ok := d["last_tick_ms"].(float64); ok {
			parts = append(parts, fmt.Sprintf("last_tick=%.2fms", v))
		}
	case "room":
		add("mode", d["mode"])
		add("ready", d["ready"])
		add("waiting", d["waiting"])
		if ms, ok := d["deadline_ms"].(float64); ok && ms > 0 {
			parts = append(parts, "deadline="+relative(time.UnixMilli(int64(ms)), now))
		}
		if d["adopted"] == true {
			parts = append(parts, "adopted")
		}
	case "session":
		add("mode", d["mode"])
		add("ticket", d["ticket_id"])
		add("match", d["match_id"])
		add("rating", d["rating"])
		add("party", d["party_id"])
		if ms, ok := d["since_ms"].(float64); ok && ms > 0 {
			parts = append(parts, "for="+round(now.Sub(time.UnixMilli(int64(ms)))).String())
		}
		if d["connected"] == false {
			parts = append(parts, "disconnected")
		}
	case "supervisor":
		add("count", d["count"])
	default:
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			add(k, d[k])
		}
	}
	if s.Restarts > 0 {
		parts = append(parts, fmt.Sprintf("restarts=%d", s.Restarts))
	}
	if s.Mailbox > 0 {
		parts = append(parts, fmt.Sprintf("mailbox=%d", s.Mailbox))
	}
	return strings.Join(parts, "  ")
}

// value prints a detail compactly: integers without a decimal point, lists
// as [a b], nothing for empty strings and nulls.
func value(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return fmt.Sprintf("%d", int64(v))
		}
		return fmt.Sprintf("%g", v)
	case []any:
		items := make([]string, len(v))
		for i, x := range v {
			items[i] = value(x)
		}
		return "[" + strings.Join(items, " ") + "]"
	default:
		return fmt.Sprint(v)
	}
}

// relative says when t is from now: "in 9m56s" or "12s ago".
func relative(t, now time.Time) string {
	d := round(t.Sub(now))
	if d >= 0 {
		return "in " + d.String()
	}
	return (-d).String() + " ago"
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second || d < -10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
