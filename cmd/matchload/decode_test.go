package main

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/matchd/matchd/gateway/protocol"
)

// serverFrames are frames as the server encodes them, with awkward values
// mixed in (escapes, non-ASCII, empty teams, nulls).
func serverFrames(t testing.TB, r *rand.Rand, n int) [][]byte {
	return framesOf(t, r, n, []string{"", "p1", "m-42", "tk_9", `q"uote`, `back\slash`, "ünï", "ctl\x01", "a b"})
}

// framesOf encodes n random server frames whose strings are drawn from words.
func framesOf(t testing.TB, r *rand.Rand, n int, words []string) [][]byte {
	w := func() string { return words[r.IntN(len(words))] }
	var out [][]byte
	for range n {
		var frame any
		switch r.IntN(8) {
		case 0:
			frame = &protocol.Queued{Type: protocol.TypeQueued, Rid: w(), Mode: w(), TicketID: w(), QueuedAtMs: r.Int64N(1 << 42), Requeued: r.IntN(2) == 0}
		case 1:
			teams := make([][]string, r.IntN(3))
			for i := range teams {
				for range r.IntN(3) {
					teams[i] = append(teams[i], w())
				}
			}
			frame = &protocol.MatchFound{Type: protocol.TypeMatchFound, MatchID: w(), Mode: w(), Teams: teams, LoadingDeadlineMs: r.Int64N(1 << 42)}
		case 2:
			server := json.RawMessage("null")
			if r.IntN(2) == 0 {
				server = json.RawMessage(`{"addr":"10.0.0.1:7777","tags":["x",1.5,{"k":null}]}`)
			}
			frame = &protocol.MatchReady{Type: protocol.TypeMatchReady, MatchID: w(), Server: server}
		case 3:
			frame = &protocol.MatchCancelled{Type: protocol.TypeMatchCancelled, MatchID: w(), Reason: w(), Requeued: r.IntN(2) == 0, NoShows: []string{w()}}
		case 4:
			e := &protocol.Error{Type: protocol.TypeError, Rid: w(), Code: protocol.Code(w()), Message: w(), RetryAfterMs: r.Int64N(5000), IncidentID: w()}
			if r.IntN(2) == 0 {
				e.State = &protocol.State{Name: w(), Mode: w(), TicketID: w(), MatchID: w(), SinceMs: r.Int64N(1 << 42)}
			}
			frame = e
		case 5:
			frame = &protocol.Dequeued{Type: protocol.TypeDequeued, Rid: w(), Mode: w(), TicketID: w(), Reason: w()}
		case 6:
			frame = &protocol.LoadingStatus{Type: protocol.TypeLoadingStatus, Rid: w(), MatchID: w(), Ready: []string{w()}, Waiting: []string{}}
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
}

func sameAsJSON(t *testing.T, data []byte) {
	t.Helper()
	var want inFrame
	wantErr := json.Unmarshal(data, &want)
	var got inFrame
	gotErr := decodeFrame(data, &got)
	if (gotErr != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeFrame(%s) = %+v (err %v); encoding/json gives %+v (err %v)", data, got, gotErr, want, wantErr)
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
		var f inFrame
		for i := range b.N {
			_ = decodeFrame(frames[i%len(frames)], &f)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		var f inFrame
		for i := range b.N {
			f = inFrame{}
			_ = json.Unmarshal(frames[i%len(frames)], &f)
		}
	})
}
