package client

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"github.com/matchd/matchd/gateway/protocol"
)

// serverFrames are frames as the server encodes them, with awkward values
// mixed in (escapes, non-ASCII, empty teams, nulls).
func serverFrames(t testing.TB, r *rand.Rand, n int) [][]byte {
	return framesOf(t, r, n, []string{"", "p1", "m-42", "tk_9", `q"uote`, `back\slash`, "ünï", "ctl\x01", "a b", "queued", "BANNED"})
}

// framesOf encodes n random server frames of every type, whose strings
// are drawn from words.
func framesOf(t testing.TB, r *rand.Rand, n int, words []string) [][]byte {
	w := func() string { return words[r.IntN(len(words))] }
	ws := func() []string {
		out := []string{}
		for range r.IntN(3) {
			out = append(out, w())
		}
		return out
	}
	state := func() protocol.State {
		return protocol.State{Name: w(), Mode: w(), TicketID: w(), MatchID: w(), PartyID: w(), SinceMs: r.Int64N(1 << 42)}
	}
	var out [][]byte
	for range n {
		var frame any
		switch r.IntN(14) {
		case 0:
			frame = &protocol.Queued{Type: protocol.TypeQueued, Rid: w(), Mode: w(), TicketID: w(), QueuedAtMs: r.Int64N(1 << 42), Requeued: r.IntN(2) == 0}
		case 1:
			teams := make([][]string, r.IntN(3))
			for i := range teams {
				teams[i] = ws()
			}
			frame = &protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: w(), Mode: w(), Teams: teams, LoadingDeadlineMs: r.Int64N(1 << 42)}
		case 2:
			server := json.RawMessage("null")
			switch r.IntN(3) {
			case 0:
				server = json.RawMessage(`{"addr":"10.0.0.1:7777","tags":["x",1,{"k":null}]}`)
			case 1:
				server = json.RawMessage(`{"addr":"10.0.0.1:7777","session_id":"s-1","load":0.5}`)
			}
			frame = &protocol.MatchReady{Type: protocol.TypeMatchReady, MatchID: w(), Server: server}
		case 3:
			frame = &protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, Rid: w(), MatchID: w(), Reason: w(), Requeued: r.IntN(2) == 0, NoShows: ws()}
		case 4:
			e := &protocol.Error{Type: protocol.TypeError, Rid: w(), Code: protocol.Code(w()), Message: w(), RetryAfterMs: r.Int64N(5000), IncidentID: w(), Players: ws()}
			if r.IntN(2) == 0 {
				st := state()
				e.State = &st
			}
			frame = e
		case 5:
			frame = &protocol.Dequeued{Type: protocol.TypeDequeued, Rid: w(), Mode: w(), TicketID: w(), Reason: w()}
		case 6:
			frame = &protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, Rid: w(), MatchID: w(), Ready: ws(), Waiting: ws()}
		case 7:
			frame = &protocol.Welcome{Type: protocol.TypeWelcome, Protocol: protocol.Subprotocol, SessionID: w(), PlayerID: w(), NodeID: w(), ServerTimeMs: r.Int64N(1 << 42), State: state()}
		case 8:
			frame = &protocol.StateReply{Type: protocol.TypeState, Rid: w(), State: state()}
		case 9:
			frame = &protocol.ServerDraining{Type: protocol.TypeServerDraining, ReconnectAfterMs: r.Int64N(5000)}
		case 10:
			frame = &protocol.Party{Type: protocol.TypeParty, Rid: w(), PartyID: w(), Leader: w(), Members: ws(), Invited: ws(), Open: r.IntN(2) == 0, MaxSize: r.IntN(10)}
		case 11:
			frame = &protocol.PartyInvite{Type: protocol.TypePartyInvited, PartyID: w(), From: w(), ExpiresMs: r.Int64N(1 << 42)}
		case 12:
			frame = &protocol.PartyLeft{Type: protocol.TypePartyLeft, Rid: w(), PartyID: w(), Reason: w()}
		default:
			frame = &protocol.Pong{Type: protocol.TypePong, Rid: w(), ServerTimeMs: r.Int64N(1 << 42)}
		}
		b, err := protocol.Encode(frame)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// oddFrames are inputs the scanner must hand to encoding/json, or read the
// same way it does.
var oddFrames = []string{
	``, `null`, `{}`, `[]`, `{"type":"queued",}`, `{"type":"queued"} x`, `{"type":5}`,
	`{"Type":"queued"}`, `{"type":"a","TYPE":"b"}`, `{"requeued":null,"retry_after_ms":null}`,
	`{"retry_after_ms":1.5}`, `{"retry_after_ms":-0}`, `{"retry_after_ms":01}`, `{"retry_after_ms":99999999999999999999}`,
	`{"teams":null}`, `{"teams":[]}`, `{"teams":[[]]}`, `{"teams":[null,["a"]]}`, `{"teams":[["a",1]]}`,
	`{"state":null}`, `{"state":{}}`, `{"state":{"Name":"x"}}`, `{"state":{"name":"a","name":"b","x":[1,{"y":true}]}}`,
	`{"state":{"name":"a"},"state":{"match_id":"m"}}`, `{"rid":"\u0041"}`, "{\"rid\":\"\xff\"}", `{"x":"\"","type":"t"}`,
	` { "type" : "queued" , "requeued" : true } `, `{"type":"queued","requeued":tru}`, `{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":{"r":1}}}}}}}}}}}}}}}}}}`,
	`{"type":"queued","match_id":"m","match_id":null}`, `{"requeued":true,"requeued":false}`,
	`{"server":null}`, `{"server": { "addr" : "a:1" } }`, `{"server":[1, 2]}`, `{"server":"x"}`, `{"server":1.5}`, `{"server":{"a":"\n"}}`,
	`{"server":{"a":1},"server":null}`, `{"code":null}`, `{"code":"X","code":null}`, `{"code":7}`, `{"Code":"X"}`,
	`{"ready":null,"waiting":[]}`, `{"ready":["a",null]}`, `{"state":{"since_ms":1e3}}`, `{"state":{"SINCE_MS":1}}`,
	"{\"tic\u212aet_id\":\"x\"}", `{"state":{"name":null,"mode":"m"}}`, `{"queued_at_ms":-12,"server_time_ms":9}`,
	`{"server":{"a":-0.5e+3,"b":1E2,"c":0.0}}`, `{"server":{"a":1.}}`, `{"server":{"a":.5}}`, `{"server":{"a":-}}`, `{"server":{"a":1e}}`,
	`{"x":00}`, `{"x":-01.5}`, `{"x":2e-308}`,
	`{"open":null}`, `{"open":1}`, `{"open":"true"}`, `{"OPEN":true}`, `{"open":true,"open":null}`, `{"max_size":1.5}`, `{"max_size":-3}`,
	`{"max_size":99999999999999999999}`, `{"members":null,"invited":[]}`, `{"members":["a",null]}`, `{"players":["a",1]}`,
	`{"Members":["a"]}`, `{"state":{"party_id":null}}`, `{"state":{"Party_ID":"p"}}`, `{"expires_ms":1e3}`, `{"from":"\u0041"}`,
}

func sameAsJSON(t *testing.T, data []byte) {
	t.Helper()
	var want Frame
	wantErr := json.Unmarshal(data, &want)
	var got Frame
	gotErr := DecodeFrame(data, &got)
	if (gotErr != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeFrame(%s) = %+v (err %v); encoding/json gives %+v (err %v)", data, got, gotErr, want, wantErr)
	}
}

// The scanner reads every frame exactly as encoding/json does.
func TestDecodeFrameMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, b := range serverFrames(t, r, 20000) {
		sameAsJSON(t, b)
	}
	for _, s := range oddFrames {
		sameAsJSON(t, []byte(s))
	}
}

// The frames the server actually writes are read by the scanner itself,
// not handed to encoding/json: the fast path is the path taken.
func TestDecodeFrameScansServerFrames(t *testing.T) {
	frames := framesOf(t, rand.New(rand.NewPCG(7, 8)), 2000, []string{"lt7t3a7c-1188", "e17", "duel", "cancelled", "ünï", ""})
	for _, b := range frames {
		var f Frame
		s := scanner{b: b}
		if !s.frame(&f) {
			t.Fatalf("the scanner gave up on %s", b)
		}
	}
}

// Known names are the protocol's constants, not copies: a load generator
// reads hundreds of thousands of them a second.
func TestDecodeFrameInternsNames(t *testing.T) {
	var f Frame
	if err := DecodeFrame([]byte(`{"type":"dequeued","reason":"cancelled","code":"BANNED","state":{"name":"idle"}}`), &f); err != nil {
		t.Fatal(err)
	}
	var g Frame
	if err := DecodeFrame([]byte(`{"type":"party_left","reason":"kicked","code":"PARTY_NOT_READY"}`), &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{f.Type, protocol.TypeDequeued}, {f.Reason, protocol.ReasonCancelled},
		{string(f.Code), string(protocol.CodeBanned)}, {f.State.Name, protocol.StateIdle},
		{g.Type, protocol.TypePartyLeft}, {g.Reason, protocol.PartyLeftKicked}, {string(g.Code), string(protocol.CodePartyNotReady)},
	} {
		if unsafe.StringData(c.got) != unsafe.StringData(c.want) {
			t.Errorf("%q was copied, want the protocol's constant", c.got)
		}
	}
}

func TestPeekType(t *testing.T) {
	for in, want := range map[string]string{
		`{"type":"loading_status","match_id":"m"}`: "loading_status",
		`{"type":"pong"}`:                          "pong",
		`{"rid":"x","type":"pong"}`:                "",
		`{"type":"unterminated`:                    "",
		``:                                         "",
	} {
		if got := string(PeekType([]byte(in))); got != want {
			t.Errorf("PeekType(%s) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, b := range serverFrames(f, r, 50) {
		f.Add(b)
	}
	for _, s := range oddFrames {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data)
	})
}

func BenchmarkDecodeFrame(b *testing.B) {
	// Ids as the server makes them: plain hex.
	frames := framesOf(b, rand.New(rand.NewPCG(5, 6)), 256, []string{"lt7t3a7c-1188", "e17", "8d3b4ef6d2c916bbb92f882adef0afe9", "duel", "cancelled"})
	b.Run("scanner", func(b *testing.B) {
		var f Frame
		for i := range b.N {
			_ = DecodeFrame(frames[i%len(frames)], &f)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		var f Frame
		for i := range b.N {
			f = Frame{}
			_ = json.Unmarshal(frames[i%len(frames)], &f)
		}
	})
}
