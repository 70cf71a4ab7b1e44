package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "tok-123"

// seen is one request the fake admin listener received.
type seen struct {
	method, path, query, auth, body string
}

// fakeAdmin is an admin listener whose routes are canned replies; it
// records every request.
type fakeAdmin struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

type reply struct {
	status int
	body   string
}

func newFakeAdmin(t *testing.T, routes map[string]reply) *fakeAdmin {
	t.Helper()
	f := &fakeAdmin{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), string(b)})
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":"UNAUTHORIZED","message":"admin token required"}`)
			return
		}
		rep, ok := routes[r.Method+" "+r.URL.EscapedPath()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAdmin) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// runCLI runs matchctl with args and the given environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

var testNow = time.UnixMilli(1_700_000_000_000)

const actorsReply = `{"node_id":"n1","actors":[{"id":"coordinator","kind":"coordinator","state":"running","restarts":0,"mailbox":0,
 "details":{"node_id":"n1","queues":1,"rooms":1},"children":[
  {"id":"sessions","kind":"supervisor","state":"running","restarts":0,"mailbox":0,"children":[
    {"id":"session/bob","kind":"session","state":"queued","restarts":2,"mailbox":0,"children":[],
     "details":{"player_id":"bob","mode":"duel","ticket_id":"t-b","match_id":"","rating":1010,"since_ms":1699999995000,"connected":false,"party_id":"p1"}},
    {"id":"session/alice","kind":"session","state":"loading","restarts":0,"mailbox":3,"children":[],
     "details":{"player_id":"alice","mode":"duel","ticket_id":"","match_id":"m1","rating":1000.5,"since_ms":1699999999500,"connected":true}}],
   "details":{"count":2}},
  {"id":"room/m1","kind":"room","state":"loading","restarts":0,"mailbox":0,"children":[],
   "details":{"match_id":"m1","mode":"duel","ready":["alice"],"waiting":["carol","dave"],"deadline_ms":1700000012000,"adopted":true,"teams":[["alice"],["carol"]]}},
  {"id":"queue/duel","kind":"queue","state":"leader","restarts":0,"mailbox":0,"children":[],
   "details":{"mode":"duel","tickets":1,"fence":7,"last_tick_ms":0.125}}]}]}`

func TestCommands(t *testing.T) {
	routes := map[string]reply{
		"GET /debug/actors":                 {200, actorsReply},
		"GET /admin/sanctions/bob":          {200, `{"player_id":"bob","violations":[{"kind":"dodge","at":"2023-11-14T22:13:00Z","expires_at":"2023-11-15T22:13:00Z"},{"kind":"no_show","at":"2023-11-14T22:13:10Z","expires_at":"2023-11-15T22:13:10Z"}],"banned_until":"2023-11-14T22:14:20Z","banned_for_ms":60000}`},
		"DELETE /admin/sanctions/bob":       {200, `{"player_id":"bob","violations":[],"banned_for_ms":0}`},
		"GET /admin/sanctions/device/dev:1": {200, `{"device_id":"dev:1","violations":[],"banned_for_ms":0}`},
		"DELETE /admin/sanctions/device/d2": {200, `{"device_id":"d2","violations":[],"banned_for_ms":0}`},
		"POST /admin/drain":                 {202, `{"status":"draining"}`},
		"GET /debug/config":                 {200, `{"node_id":"n1","admin":{"addr":"127.0.0.1:9090","token":"***"}}`},
		"POST /admin/state-events":          {200, `{"enabled":true}`},
	}
	tests := []struct {
		name   string
		args   []string
		method string
		path   string
		query  string
		body   string
		stdout string
	}{
		{name: "actors tree", args: []string{"actors"}, method: "GET", path: "/debug/actors",
			stdout: `node n1
coordinator  running  queues=1  rooms=1
├── queue/duel  leader  tickets=1  fence=7  last_tick=0.12ms
├── room/m1  loading  mode=duel  ready=[alice]  waiting=[carol dave]  deadline=in 12s  adopted
└── sessions  running  count=2
    ├── session/alice  loading  mode=duel  match=m1  rating=1000.5  for=500ms  mailbox=3
    └── session/bob  queued  mode=duel  ticket=t-b  rating=1010  party=p1  for=5s  disconnected  restarts=2
`},
		{name: "actors by kind", args: []string{"actors", "--kind", "session"}, method: "GET", path: "/debug/actors", query: "kind=session"},
		{name: "actors of a party", args: []string{"actors", "--party", "p1", "--state", "queued"}, method: "GET", path: "/debug/actors", query: "party=p1&state=queued"},
		{name: "actors json", args: []string{"actors", "--json"}, method: "GET", path: "/debug/actors"},
		{name: "sanctions get", args: []string{"sanctions", "get", "bob"}, method: "GET", path: "/admin/sanctions/bob",
			stdout: `player bob: banned for 1m0s more (until 2023-11-14T22:14:20Z), 2 live violation(s)
  dodge     at 2023-11-14T22:13:00Z  expires in 23h59m40s
  no_show   at 2023-11-14T22:13:10Z  expires in 23h59m50s
`},
		{name: "sanctions lift", args: []string{"sanctions", "lift", "bob"}, method: "DELETE", path: "/admin/sanctions/bob",
			stdout: "player bob: sanctions lifted\nplayer bob: not banned, 0 live violation(s)\n"},
		{name: "device get, flag after id", args: []string{"sanctions", "get", "dev:1", "--device"}, method: "GET", path: "/admin/sanctions/device/dev:1",
			stdout: "device dev:1: not banned, 0 live violation(s)\n"},
		{name: "device lift, flag first", args: []string{"sanctions", "--device", "lift", "d2"}, method: "DELETE", path: "/admin/sanctions/device/d2",
			stdout: "device d2: sanctions lifted\ndevice d2: not banned, 0 live violation(s)\n"},
		{name: "drain", args: []string{"drain"}, method: "POST", path: "/admin/drain"},
		{name: "config", args: []string{"config"}, method: "GET", path: "/debug/config",
			stdout: "{\n  \"node_id\": \"n1\",\n  \"admin\": {\n    \"addr\": \"127.0.0.1:9090\",\n    \"token\": \"***\"\n  }\n}\n"},
		{name: "state events on", args: []string{"state-events", "on"}, method: "POST", path: "/admin/state-events",
			body: `{"enabled":true}`, stdout: "state events: on\n"},
		{name: "state events off", args: []string{"state-events", "off"}, method: "POST", path: "/admin/state-events",
			body: `{"enabled":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAdmin(t, routes)
			code, stdout, stderr := runWithNow(t, append([]string{"--addr", f.URL, "--token", testToken}, tt.args...))
			if code != 0 {
				t.Fatalf("exit %d, want 0; stderr %q", code, stderr)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1: %+v", len(reqs), reqs)
			}
			got := reqs[0]
			want := seen{tt.method, tt.path, tt.query, "Bearer " + testToken, tt.body}
			if got != want {
				t.Errorf("request %+v, want %+v", got, want)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.stdout)
			}
			if stdout == "" {
				t.Error("printed nothing")
			}
		})
	}
}

// runWithNow is runCLI with the clock at testNow.
func runWithNow(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	old := nowFunc
	nowFunc = func() time.Time { return testNow }
	t.Cleanup(func() { nowFunc = old })
	return runCLI(t, nil, args...)
}

func TestAddrAndTokenFromEnv(t *testing.T) {
	f := newFakeAdmin(t, map[string]reply{"POST /admin/drain": {202, `{}`}})
	env := map[string]string{"MATCHD_ADMIN__ADDR": strings.TrimPrefix(f.URL, "http://"), "MATCHD_ADMIN__TOKEN": testToken}
	if code, _, stderr := runCLI(t, env, "drain"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	// Flags win over the environment, before or after the command.
	env["MATCHD_ADMIN__TOKEN"] = "stale"
	if code, _, stderr := runCLI(t, env, "drain", "--token", testToken); code != 0 {
		t.Fatalf("--token after the command: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCLI(t, env, "drain"); code != 1 {
		t.Errorf("stale token from env: exit %d, want 1", code)
	}
	for i, r := range f.requests() {
		if want := []string{"Bearer " + testToken, "Bearer " + testToken, "Bearer stale"}[i]; r.auth != want {
			t.Errorf("request %d: Authorization %q, want %q", i, r.auth, want)
		}
	}
}

func TestErrors(t *testing.T) {
	f := newFakeAdmin(t, map[string]reply{
		"GET /admin/sanctions/bob": {503, `{"code":"UNAVAILABLE","message":"redis unavailable"}`},
	})
	// A port nothing listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unreachable", []string{"--addr", dead, "drain"}, 1, "matchctl: cannot reach the admin listener at " + dead + ": "},
		{"no token", []string{"--addr", f.URL, "drain"}, 1, "wants an admin token: pass --token or set MATCHD_ADMIN__TOKEN"},
		{"wrong token", []string{"--addr", f.URL, "--token", "nope", "drain"}, 1, "refused the admin token"},
		{"server error", []string{"--addr", f.URL, "--token", testToken, "sanctions", "get", "bob"}, 1,
			"matchctl: GET /admin/sanctions/bob: 503 Service Unavailable: UNAVAILABLE: redis unavailable"},
		{"not found", []string{"--addr", f.URL, "--token", testToken, "config"}, 1, "GET /debug/config: not found"},
		{"no command", nil, 2, "matchctl: no command given"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"actors", "--nope"}, 2, "flag provided but not defined: -nope"},
		{"bad kind", []string{"actors", "--kind", "robot"}, 2, "--kind must be coordinator, queue, room or session"},
		{"sanctions without id", []string{"sanctions", "get"}, 2, "usage: matchctl sanctions get|lift ID [--device]"},
		{"sanctions bad verb", []string{"sanctions", "ban", "bob"}, 2, `sanctions takes get or lift, not "ban"`},
		{"state-events bad arg", []string{"state-events", "maybe"}, 2, `state-events takes on or off, not "maybe"`},
		{"state-events no arg", []string{"state-events"}, 2, "usage: matchctl state-events on|off"},
		{"extra arg", []string{"drain", "now"}, 2, "usage: matchctl drain"},
		{"bad addr", []string{"--addr", "ftp://x", "drain"}, 2, "is not host:port or an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"actors", "-h"}} {
		code, stdout, _ := runCLI(t, nil, args...)
		if code != 0 || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%v: exit %d, stdout %q; want 0 and the usage", args, code, stdout)
		}
	}
}

func TestResolveAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1:9090", "http://127.0.0.1:9090"},
		{":9090", "http://127.0.0.1:9090"},
		{"0.0.0.0:9090", "http://127.0.0.1:9090"},
		{"[::]:9090", "http://[::1]:9090"},
		{"http://admin.internal:9090/", "http://admin.internal:9090"},
		{"https://gw.example/matchd/?x=1", "https://gw.example/matchd"},
	}
	for _, tt := range tests {
		c := &cli{addr: tt.in}
		if err := c.resolveAddr(); err != nil || c.base.String() != tt.want {
			t.Errorf("resolveAddr(%q) = %v, %v; want %s", tt.in, c.base, err, tt.want)
		}
	}
}

// sseHandler serves /debug/events: it writes chunks one by one, then ends
// the stream.
func sseHandler(t *testing.T, chunks ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/debug/events" || r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("got %s %s auth %q, want GET /debug/events with the token", r.Method, r.URL.Path, r.Header.Get("Authorization"))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if got := r.Header.Get("Accept"); got != "text/event-stream" {
			t.Errorf("Accept %q, want text/event-stream", got)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range chunks {
			io.WriteString(w, c)
			w.(http.Flusher).Flush()
		}
	}
}

func TestEvents(t *testing.T) {
	ts1 := time.UnixMilli(1700000000123).Format("15:04:05.000")
	ts2 := time.UnixMilli(1700000001000).Format("15:04:05.000")
	srv := httptest.NewServer(sseHandler(t,
		": connected; state events are enabled\n\n",
		"event: enqueued\ndata: {\"event\":\"enqueued\",\"mode\":\"duel\",\"node_id\":\"n1\",\"player_id\":\"alice\",\"rating\":1000,\"ticket_id\":\"t1\",\"ts_ms\":1700000000123}\n\n",
		": ping\n\n",
		": dropped 4\n\n",
		"event: match_cancelled\ndata: {\"event\":\"match_cancelled\",\"match_id\":\"m1\",\"mode\":\"duel\",\"no_shows\":null,\"node_id\":\"n1\",\"reason\":\"player_left\",\"requeued\":[\"bob\",\"carol\"],\"ts_ms\":1700000001000}\n\n",
	))
	t.Cleanup(srv.Close)
	code, stdout, stderr := runCLI(t, nil, "--addr", srv.URL, "--token", testToken, "events")
	want := fmt.Sprintf("%s  enqueued          player_id=alice mode=duel ticket_id=t1 rating=1000 node=n1\n"+
		"%s  match_cancelled   mode=duel match_id=m1 reason=player_left requeued=[bob carol] node=n1\n", ts1, ts2)
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	for _, w := range []string{"following state events of", "4 events lost", "ended the event stream"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
	if code != 1 {
		t.Errorf("exit %d when the server ends the stream, want 1", code)
	}
}

func TestEventsJSONAndDisabledHint(t *testing.T) {
	data := `{"event":"banned","player_id":"bob","ts_ms":1}`
	srv := httptest.NewServer(sseHandler(t,
		": connected; state events are disabled, POST /admin/state-events {\"enabled\": true} to turn them on\n\n",
		"event: banned\ndata: "+data+"\n\n"))
	t.Cleanup(srv.Close)
	_, stdout, stderr := runCLI(t, nil, "--addr", srv.URL, "--token", testToken, "events", "--json")
	if stdout != data+"\n" {
		t.Errorf("stdout %q, want %q", stdout, data+"\n")
	}
	if !strings.Contains(stderr, "matchctl state-events on") {
		t.Errorf("stderr %q lacks the hint to turn state events on", stderr)
	}
}

func TestEventsInterrupted(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": connected; state events are enabled\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel) // as Ctrl-C would
	var out, errb bytes.Buffer
	code := run(ctx, []string{"--addr", srv.URL, "events"}, func(string) string { return "" }, &out, &errb)
	if code != 0 {
		t.Errorf("exit %d after an interrupt, want 0 (stderr %q)", code, errb.String())
	}
}
