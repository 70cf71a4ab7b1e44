package main

import (
	"strings"
	"testing"
)

// testNow is 1700000000000 ms; the replies below are built around it.
const (
	queuedReply = `{"player_id":"carol","node_id":"n1","session_id":"s1","now_ms":1700000000000,
 "state":{"name":"queued","mode":"duel","ticket_id":"t-c","since_ms":1699999875000},
 "ticket":{"ticket_id":"t-c","mode":"duel","rating":1500,"queued_at_ms":1699999875000,"wait_since_ms":1699999875000,
  "waited_ms":125000,"max_wait_ms":300000,"window":225,"verdict":"no_mate_in_window","verdict_at_ms":1699999876000},
 "match":null,"party":null,"last_verdict":"no_mate_in_window","outcomes":[],
 "sanctions":{"player":{"violations":[],"banned_until":null,"banned_for_ms":0}}}`
	loadingReply = `{"player_id":"alice","node_id":"n2","session_id":"s2","now_ms":1700000000000,
 "state":{"name":"loading","mode":"duel","match_id":"m1","since_ms":1699999990000},
 "ticket":null,"party":null,"last_verdict":"matched","outcomes":[],
 "match":{"match_id":"m1","mode":"duel","state":"loading","owner":"n1","teams":[["alice"],["bob"]],"ready":["alice"],"waiting":["bob"],
  "deadline_ms":1700000020000,"deadline_in_ms":20000},
 "sanctions":{"player":{"violations":[],"banned_until":null,"banned_for_ms":0}}}`
	bannedReply = `{"player_id":"mallory","node_id":"n1","session_id":"s3","now_ms":1700000000000,
 "state":{"name":"idle","since_ms":null},"ticket":null,"match":null,"party":null,"last_verdict":"banned",
 "outcomes":[{"kind":"dequeued","mode":"duel","ref":"t-m","reason":"banned","at_ms":1699999998000}],
 "sanctions":{"player":{"violations":[{"kind":"no_show","at":"2023-11-14T22:12:00Z","expires_at":"2023-11-15T22:12:00Z"},
  {"kind":"dodge","at":"2023-11-14T22:13:00Z","expires_at":"2023-11-15T22:13:00Z"}],"banned_until":"2023-11-14T22:14:20Z","banned_for_ms":60000}}}`
)

func TestPlayerExplains(t *testing.T) {
	routes := map[string]reply{
		"GET /debug/players/carol":   {200, queuedReply},
		"GET /debug/players/alice":   {200, loadingReply},
		"GET /debug/players/mallory": {200, bannedReply},
		"GET /debug/players/nobody":  {404, `{"code":"NOT_FOUND","message":"Redis knows nothing of this player"}`},
	}
	tests := []struct{ player, want string }{
		{"carol", `player carol: queued in duel, on node n1
  ticket    t-c
  rating    1500, window ±225.0 (accepts 1275 to 1725)
  waited    2m5s of max_wait 5m0s (timeout in 2m55s)
  verdict   no_mate_in_window (for 2m4s): no compatible mate within its rating window; the window widens as it waits
  sanctions none
`},
		{"alice", `player alice: loading match m1 in duel, on node n2
  match     [alice] vs [bob], loading, driven by node n1
  ready     alice
  waiting   bob
  deadline  in 20s (who has not loaded by then is a no-show)
  sanctions none
`},
		{"mallory", `player mallory: idle, on node n1
  verdict   banned: blocked by a ban: the ticket was dequeued
  sanctions BANNED for 1m0s more (until 2023-11-14T22:14:20Z), 2 live violation(s)
    no_show  1m20s ago, expires in 23h58m40s
    dodge    20s ago, expires in 23h59m40s
  not yet told:
    dequeued (banned) in duel, 2s ago
`},
	}
	for _, tt := range tests {
		t.Run(tt.player, func(t *testing.T) {
			f := newFakeAdmin(t, routes)
			code, stdout, stderr := runWithNow(t, []string{"--addr", f.URL, "--token", testToken, "player", tt.player})
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if stdout != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.want)
			}
		})
	}
	f := newFakeAdmin(t, routes)
	code, _, stderr := runWithNow(t, []string{"--addr", f.URL, "--token", testToken, "player", "nobody"})
	if code != 1 || !strings.Contains(stderr, "knows nothing") {
		t.Errorf("unknown player: exit %d, stderr %q; want 1 and the reason", code, stderr)
	}
}

func TestServersAndUndrain(t *testing.T) {
	routes := map[string]reply{
		"GET /admin/servers":        {200, `{"servers":[{"id":"gs1","addr":"10.0.0.5:7000","capacity":8,"active":2,"allocated":1,"expires_at":"2023-11-14T22:13:35Z","region":"eu"}]}`},
		"POST /admin/servers":       {200, `{"id":"gs2","addr":"10.0.0.6:7000","capacity":4,"active":0,"allocated":0,"expires_at":"2023-11-14T22:13:35Z"}`},
		"DELETE /admin/servers/gs1": {204, ``},
		"DELETE /admin/drain":       {200, `{"status":"serving"}`},
		"GET /debug/actors":         {200, `{"node_id":"n1","actors":[],"omitted":12}`},
	}
	tests := []struct {
		args                      []string
		method, path, query, body string
		stdout                    string
	}{
		{[]string{"servers", "list"}, "GET", "/admin/servers", "", "",
			"ID                   ADDR                     REGION   CAPACITY   ACTIVE  ALLOCATED  EXPIRES\n" +
				"gs1                  10.0.0.5:7000            eu              8        2          1  in 15s\n"},
		{[]string{"servers", "add", "gs2", "10.0.0.6:7000", "--capacity", "4"}, "POST", "/admin/servers", "",
			`{"addr":"10.0.0.6:7000","capacity":4,"id":"gs2"}`,
			"game server gs2 at 10.0.0.6:7000 registered (capacity 4); the registration lapses in 15s unless renewed\n"},
		{[]string{"servers", "remove", "gs1"}, "DELETE", "/admin/servers/gs1", "", "", "game server gs1 removed\n"},
		{[]string{"drain", "--undo"}, "DELETE", "/admin/drain", "", "", ""},
		{[]string{"actors", "--state", "queued", "--mode", "duel", "--player", "car", "--limit", "5"}, "GET", "/debug/actors",
			"limit=5&mode=duel&player=car&state=queued", "", "node n1\n(none)\n(12 more match; narrow with --state, --mode, --player or raise --limit)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := newFakeAdmin(t, routes)
			code, stdout, stderr := runWithNow(t, append([]string{"--addr", f.URL, "--token", testToken}, tt.args...))
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if want := (seen{tt.method, tt.path, tt.query, "Bearer " + testToken, tt.body}); reqs[0] != want {
				t.Errorf("request %+v, want %+v", reqs[0], want)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("stdout:\n%q\nwant:\n%q", stdout, tt.stdout)
			}
		})
	}
	// servers add without a capacity is a usage error, sent nowhere.
	f := newFakeAdmin(t, routes)
	if code, _, _ := runWithNow(t, []string{"--addr", f.URL, "--token", testToken, "servers", "add", "gs3", "h:1"}); code != 2 {
		t.Errorf("servers add without --capacity: exit %d, want 2", code)
	}
}

// Each command has help of its own, naming its synopsis.
func TestHelpPerCommand(t *testing.T) {
	c := &cli{}
	for name, cmd := range c.commands() {
		for _, args := range [][]string{{name, "-h"}, {"help", name}} {
			code, stdout, _ := runCLI(t, nil, args...)
			if code != 0 || !strings.HasPrefix(stdout, "Usage: matchctl "+name) {
				t.Errorf("%v: exit %d, stdout %q; want 0 and %s's own help", args, code, stdout, name)
			}
			if strings.Contains(stdout, "Commands (") {
				t.Errorf("%v printed the global help", args)
			}
		}
		if cmd.help == "" {
			t.Errorf("%s has no help", name)
		}
	}
}
