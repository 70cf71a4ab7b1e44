package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The party of these replies: alice leads, carol is connected, bob's
// connection is gone (within its grace it would still count), dave is
// invited for 58s more.
const (
	partyJSON = `{"party_id":"p1","leader":"alice","open":false,"max_size":5,"version":4,
 "members":[{"player_id":"alice","leader":true,"connected":true,"busy":false},
            {"player_id":"carol","leader":false,"connected":true,"busy":false},
            {"player_id":"bob","leader":false,"connected":false,"busy":false}],
 "invited":[{"player_id":"dave","expires_ms":1700000058000,"expires_in_ms":58000}],"queue":null`
	partyReply       = partyJSON + `,"now_ms":1700000000000}`
	queuedPartyReply = `{"party_id":"p2","leader":"erin","open":true,"max_size":5,"version":9,"now_ms":1700000000000,
 "members":[{"player_id":"erin","leader":true,"connected":true,"busy":true},{"player_id":"frank","leader":false,"connected":true,"busy":true}],
 "invited":[],"queue":{"mode":"squad","ticket_id":"t-9"}}`
	carolReply = `{"player_id":"carol","node_id":"n1","session_id":"s1","now_ms":1700000000000,
 "state":{"name":"idle","party_id":"p1","since_ms":null},"ticket":null,"match":null,"last_verdict":null,"outcomes":[],
 "party":` + partyJSON + `},
 "sanctions":{"player":{"violations":[],"banned_until":null,"banned_for_ms":0}}}`
)

func TestParty(t *testing.T) {
	routes := map[string]reply{
		"GET /debug/parties/p1":     {200, partyReply},
		"GET /debug/parties/p2":     {200, queuedPartyReply},
		"GET /debug/parties/carol":  {404, `{"code":"NOT_FOUND","message":"no such party"}`},
		"GET /debug/players/carol":  {200, carolReply},
		"GET /debug/parties/carl":   {404, `{"code":"NOT_FOUND","message":"no such party"}`},
		"GET /debug/players/carl":   {200, queuedReply},
		"GET /debug/parties/nobody": {404, `{"code":"NOT_FOUND","message":"no such party"}`},
		"GET /debug/players/nobody": {404, `{"code":"NOT_FOUND","message":"Redis knows nothing of this player"}`},
	}
	wantP1 := `party p1: invite-only, 3 of 5 members, led by alice, not queued
  members, in join order:
    alice  leader  connected      idle
    carol          connected      idle
    bob            NOT CONNECTED  idle
  invited:
    dave, expires in 58s
  the leader's enqueue would be refused PARTY_NOT_READY for bob (not connected)
`
	tests := []struct{ arg, want string }{
		{"p1", wantP1},
		{"carol", "player carol is in party p1\n" + wantP1},
		{"p2", `party p2: open, 2 of 5 members, led by erin, queued in squad (ticket t-9)
  members, in join order:
    erin   leader  connected  in a queue or a match
    frank          connected  in a queue or a match
  invited:  (none)
`},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			f := newFakeAdmin(t, routes)
			code, stdout, stderr := runWithNow(t, []string{"--addr", f.URL, "--token", testToken, "party", tt.arg})
			if code != 0 || stdout != tt.want {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, stdout, tt.want)
			}
		})
	}
	for arg, why := range map[string]string{"carl": "is in no party", "nobody": "no player nobody in a party"} {
		f := newFakeAdmin(t, routes)
		code, stdout, stderr := runWithNow(t, []string{"--addr", f.URL, "--token", testToken, "party", arg})
		if code != 1 || stdout != "" || !strings.Contains(stderr, why) {
			t.Errorf("party %s: exit %d, stdout %q, stderr %q; want 1 and %q", arg, code, stdout, stderr, why)
		}
	}
	// --json prints the party, whichever way it was found.
	for _, arg := range []string{"p1", "carol"} {
		f := newFakeAdmin(t, routes)
		code, stdout, stderr := runWithNow(t, []string{"--addr", f.URL, "--token", testToken, "party", arg, "--json"})
		var v partyView
		if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v.PartyID != "p1" || len(v.Members) != 3 {
			t.Errorf("party %s --json: exit %d, stderr %q, stdout %q", arg, code, stderr, stdout)
		}
	}
	if code, _, _ := runWithNow(t, []string{"party"}); code != 2 {
		t.Errorf("party without an id: exit %d, want 2", code)
	}
}
