package gateway

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/config"
)

const testAdminToken = "admin-token-for-tests"

// newEventsAdmin builds an Admin whose /debug/events reads hub, behind
// testAdminToken, and serves it; the server closes with the test.
func newEventsAdmin(t *testing.T, hub *EventHub) *httptest.Server {
	t.Helper()
	cfg := config.Default()
	cfg.Admin.Token = testAdminToken
	a := &Admin{Config: config.NewStore(cfg), Hub: hub, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// sseMessage is one SSE block: its comment lines and its fields.
type sseMessage struct {
	comments []string
	event    string
	data     string
}

// readSSE reads one block (up to a blank line) from r.
func readSSE(t *testing.T, r *bufio.Reader) sseMessage {
	t.Helper()
	var m sseMessage
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v (message so far %+v)", err, m)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			m.data = strings.Join(data, "\n")
			return m
		case strings.HasPrefix(line, ":"):
			m.comments = append(m.comments, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "event: "):
			m.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):])
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
}

// openStream GETs /debug/events and returns the reader, past the greeting
// comment; the hub then has the subscriber.
func openStream(t *testing.T, ctx context.Context, srv *httptest.Server) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/debug/events", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type %q, want text/event-stream", got)
	}
	r := bufio.NewReader(resp.Body)
	hello := readSSE(t, r)
	if len(hello.comments) != 1 || !strings.Contains(hello.comments[0], "state events are disabled") {
		t.Errorf("greeting %+v, want a comment saying state events are disabled", hello)
	}
	return resp, r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDebugEventsStreamsInOrder(t *testing.T) {
	hub := NewEventHub(16)
	srv := newEventsAdmin(t, hub)
	_, r := openStream(t, context.Background(), srv)

	events := []string{
		`{"event":"enqueued","mode":"duel","player_id":"alice","ts_ms":1}`,
		`{"event":"match_formed","match_id":"m1","mode":"duel","ts_ms":2}`,
		`{"event":"player_ready","match_id":"m1","player_id":"alice","ts_ms":3}`,
	}
	for _, e := range events {
		hub.Publish([]byte(e))
	}
	for i, want := range []string{"enqueued", "match_formed", "player_ready"} {
		m := readSSE(t, r)
		if m.event != want || m.data != events[i] || len(m.comments) != 0 {
			t.Errorf("message %d: got %+v, want event %q data %s", i, m, want, events[i])
		}
	}
}

func TestDebugEventsEndsWhenClientLeaves(t *testing.T) {
	hub := NewEventHub(16)
	srv := newEventsAdmin(t, hub)
	ctx, cancel := context.WithCancel(context.Background())
	openStream(t, ctx, srv)
	if got := hub.Subscribers(); got != 1 {
		t.Fatalf("Subscribers() = %d, want 1", got)
	}
	cancel()
	waitFor(t, "the handler to unsubscribe", func() bool { return hub.Subscribers() == 0 })
}

func TestDebugEventsEndsWhenHubCloses(t *testing.T) {
	hub := NewEventHub(16)
	srv := newEventsAdmin(t, hub)
	_, r := openStream(t, context.Background(), srv)
	hub.Publish([]byte(`{"event":"enqueued"}`))
	hub.Close()
	if m := readSSE(t, r); m.event != "enqueued" {
		t.Errorf("got %+v, want the event published before Close", m)
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Errorf("after hub Close: read %q, %v; want a clean end of stream", rest, err)
	}
}

func TestDebugEventsRequiresToken(t *testing.T) {
	srv := newEventsAdmin(t, NewEventHub(1))
	for _, auth := range []string{"", "Bearer wrong", testAdminToken} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/debug/events", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
}

func TestDebugEventsWithoutHub(t *testing.T) {
	srv := newEventsAdmin(t, nil)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/debug/events", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
}

// syncWriter is a ResponseWriter that a test may read while the handler
// writes.
type syncWriter struct {
	header http.Header
	mu     chan struct{}
	buf    bytes.Buffer
}

func newSyncWriter() *syncWriter {
	return &syncWriter{header: http.Header{}, mu: make(chan struct{}, 1)}
}
func (w *syncWriter) Header() http.Header { return w.header }
func (w *syncWriter) WriteHeader(int)     {}
func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu <- struct{}{}
	defer func() { <-w.mu }()
	return w.buf.Write(p)
}
func (w *syncWriter) Flush() {}
func (w *syncWriter) String() string {
	w.mu <- struct{}{}
	defer func() { <-w.mu }()
	return w.buf.String()
}

func TestDebugEventsPings(t *testing.T) {
	hub := NewEventHub(4)
	sub := hub.Subscribe()
	t.Cleanup(sub.Close)
	a := &Admin{}
	w := newSyncWriter()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.serveEvents(w, httptest.NewRequestWithContext(ctx, http.MethodGet, "/debug/events", nil), sub, 10*time.Millisecond, 10*time.Second)
	}()
	waitFor(t, "two pings", func() bool { return strings.Count(w.String(), ": ping\n\n") >= 2 })
	cancel()
	<-done
}

func TestDebugEventsReportsDropped(t *testing.T) {
	hub := NewEventHub(2)
	sub := hub.Subscribe()
	for i := range 5 { // 0 and 1 are buffered, 2..4 lost
		hub.Publish(stateEvent("enqueued", i))
	}
	hub.Close() // the handler drains what is buffered, reports the loss and ends
	w := newSyncWriter()
	(&Admin{}).serveEvents(w, httptest.NewRequest(http.MethodGet, "/debug/events", nil), sub, time.Hour, 10*time.Second)
	want := ": connected; state events are disabled, POST /admin/state-events {\"enabled\": true} to turn them on\n\n" +
		"event: enqueued\ndata: " + string(stateEvent("enqueued", 0)) + "\n\n" +
		"event: enqueued\ndata: " + string(stateEvent("enqueued", 1)) + "\n\n" +
		": dropped 3\n\n"
	if got := w.String(); got != want {
		t.Errorf("stream:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteSSE(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"plain", Event{Name: "enqueued", Data: []byte(`{"a":1}`)}, "event: enqueued\ndata: {\"a\":1}\n\n"},
		{"after a loss", Event{Name: "banned", Data: []byte(`{}`), Dropped: 7}, ": dropped 7\n\nevent: banned\ndata: {}\n\n"},
		{"multi-line data", Event{Name: "message", Data: []byte("{\n\"a\": 1\r\n}")}, "event: message\ndata: {\ndata: \"a\": 1\ndata: }\n\n"},
		{"empty data", Event{Name: "message"}, "event: message\ndata: \n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeSSE(&b, tt.ev)
			if got := b.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
