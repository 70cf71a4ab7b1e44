package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeValidTests are shared with the fast parser's equivalence tests.
var decodeValidTests = []struct {
	name  string
	frame string
	want  ClientMessage
}{
	{"enqueue", `{"type":"enqueue","mode":"duel"}`, ClientMessage{Type: TypeEnqueue, Mode: "duel"}},
	{"enqueue with rid", `{"type":"enqueue","rid":"r1","mode":"duel"}`, ClientMessage{Type: TypeEnqueue, Rid: "r1", Mode: "duel"}},
	{"enqueue unicode mode", `{"type":"enqueue","mode":"d\u00fcel"}`, ClientMessage{Type: TypeEnqueue, Mode: "düel"}},
	{"enqueue mode of 128 bytes", `{"type":"enqueue","mode":"` + strings.Repeat("m", 128) + `"}`, ClientMessage{Type: TypeEnqueue, Mode: strings.Repeat("m", 128)}},
	{"cancel", `{"type":"cancel"}`, ClientMessage{Type: TypeCancel}},
	{"cancel with rid", `{"type":"cancel","rid":"x"}`, ClientMessage{Type: TypeCancel, Rid: "x"}},
	{"loading_complete", `{"type":"loading_complete","match_id":"m-1"}`, ClientMessage{Type: TypeLoadingComplete, MatchID: "m-1"}},
	{"loading_complete with rid", `{"rid":"7","type":"loading_complete","match_id":"m-1"}`, ClientMessage{Type: TypeLoadingComplete, Rid: "7", MatchID: "m-1"}},
	{"sync", `{"type":"sync"}`, ClientMessage{Type: TypeSync}},
	{"sync with rid", `{"type":"sync","rid":"s"}`, ClientMessage{Type: TypeSync, Rid: "s"}},
	{"ping", `{"type":"ping"}`, ClientMessage{Type: TypePing}},
	{"ping with rid", `{"type":"ping","rid":"p"}`, ClientMessage{Type: TypePing, Rid: "p"}},
	{"rid of 64", `{"type":"ping","rid":"` + strings.Repeat("r", 64) + `"}`, ClientMessage{Type: TypePing, Rid: strings.Repeat("r", 64)}},
	{"empty rid", `{"type":"ping","rid":""}`, ClientMessage{Type: TypePing}},
	{"null rid is absent", `{"type":"ping","rid":null}`, ClientMessage{Type: TypePing}},
	{"unknown fields ignored", `{"type":"enqueue","mode":"duel","extra":{"a":[1,2,3]},"n":1e999,"b":true}`, ClientMessage{Type: TypeEnqueue, Mode: "duel"}},
	{"fields of other types ignored", `{"type":"ping","mode":"duel","match_id":"m"}`, ClientMessage{Type: TypePing}},
	{"ill-typed unused field ignored", `{"type":"cancel","mode":5,"match_id":[]}`, ClientMessage{Type: TypeCancel}},
	{"whitespace around", " \t\r\n{ \"type\" : \"ping\" } \n", ClientMessage{Type: TypePing}},
	{"duplicate key last wins", `{"type":"cancel","type":"ping"}`, ClientMessage{Type: TypePing}},
	{"enqueue with latencies", `{"type":"enqueue","mode":"duel","latencies":{"eu":24,"asia":140.5,"mars":0}}`,
		ClientMessage{Type: TypeEnqueue, Mode: "duel", Latencies: map[string]float64{"eu": 24, "asia": 140.5, "mars": 0}}},
	{"enqueue with empty latencies", `{"type":"enqueue","mode":"duel","latencies":{}}`,
		ClientMessage{Type: TypeEnqueue, Mode: "duel", Latencies: map[string]float64{}}},
	{"null latencies are absent", `{"type":"enqueue","mode":"duel","latencies":null}`, ClientMessage{Type: TypeEnqueue, Mode: "duel"}},
	{"latencies of a cancel ignored", `{"type":"cancel","latencies":"fast"}`, ClientMessage{Type: TypeCancel}},

	{"party_create", `{"type":"party_create","rid":"c"}`, ClientMessage{Type: TypePartyCreate, Rid: "c"}},
	{"party_create open", `{"type":"party_create","open":true}`, ClientMessage{Type: TypePartyCreate, Open: true}},
	{"party_create closed", `{"type":"party_create","open":false}`, ClientMessage{Type: TypePartyCreate}},
	{"party_create null open is absent", `{"type":"party_create","open":null}`, ClientMessage{Type: TypePartyCreate}},
	{"party_create ignores player_id", `{"type":"party_create","player_id":"bob","party_id":"p"}`, ClientMessage{Type: TypePartyCreate}},
	{"party_invite", `{"type":"party_invite","rid":"i","player_id":"bob"}`, ClientMessage{Type: TypePartyInvite, Rid: "i", PlayerID: "bob"}},
	{"party_invite player_id of 128 bytes", `{"type":"party_invite","player_id":"` + strings.Repeat("p", 128) + `"}`, ClientMessage{Type: TypePartyInvite, PlayerID: strings.Repeat("p", 128)}},
	{"party_join", `{"type":"party_join","party_id":"p-1"}`, ClientMessage{Type: TypePartyJoin, PartyID: "p-1"}},
	{"party_leave", `{"type":"party_leave","rid":"l"}`, ClientMessage{Type: TypePartyLeave, Rid: "l"}},
	{"party_leave ignores ill-typed fields", `{"type":"party_leave","open":"yes","player_id":1}`, ClientMessage{Type: TypePartyLeave}},
	{"party_kick", `{"type":"party_kick","player_id":"bob"}`, ClientMessage{Type: TypePartyKick, PlayerID: "bob"}},
	{"party_promote", `{"type":"party_promote","player_id":"b\u00f6b"}`, ClientMessage{Type: TypePartyPromote, PlayerID: "böb"}},
	{"open of another type ignored", `{"type":"ping","open":"wide"}`, ClientMessage{Type: TypePing}},
}

func TestDecodeValid(t *testing.T) {
	for _, tt := range decodeValidTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.frame))
			if err != nil {
				t.Fatalf("Decode(%q) error = %v, want nil", tt.frame, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode(%q) = %+v, want %+v", tt.frame, got, tt.want)
			}
		})
	}
}

var longRid = strings.Repeat("r", MaxRidLen+1)

// decodeErrorTests are shared with the fast parser's equivalence tests.
var decodeErrorTests = []struct {
	name     string
	frame    string
	wantCode Code
	wantRid  string
}{
	// Not a single JSON object.
	{"empty", ``, CodeBadRequest, ""},
	// An enqueue's latencies of the wrong shape.
	{"latencies a string", `{"type":"enqueue","rid":"l","mode":"duel","latencies":"eu"}`, CodeBadRequest, "l"},
	{"latencies an array", `{"type":"enqueue","rid":"l","mode":"duel","latencies":[24]}`, CodeBadRequest, "l"},
	{"latency negative", `{"type":"enqueue","rid":"l","mode":"duel","latencies":{"eu":-1}}`, CodeBadRequest, "l"},
	{"latency a string", `{"type":"enqueue","rid":"l","mode":"duel","latencies":{"eu":"24"}}`, CodeBadRequest, "l"},
	{"latency null", `{"type":"enqueue","rid":"l","mode":"duel","latencies":{"eu":null}}`, CodeBadRequest, "l"},
	{"whitespace only", "  \n", CodeBadRequest, ""},
	{"not JSON", `hello`, CodeBadRequest, ""},
	{"truncated", `{"type":"ping"`, CodeBadRequest, ""},
	{"JSON array", `[{"type":"ping"}]`, CodeBadRequest, ""},
	{"JSON string", `"ping"`, CodeBadRequest, ""},
	{"JSON number", `42`, CodeBadRequest, ""},
	{"JSON bool", `true`, CodeBadRequest, ""},
	{"JSON null", `null`, CodeBadRequest, ""},
	{"two objects", `{"type":"ping"}{"type":"ping"}`, CodeBadRequest, ""},
	{"two objects spaced", `{"type":"ping"} {"type":"sync"}`, CodeBadRequest, ""},
	{"object then number", `{"type":"ping"} 1`, CodeBadRequest, ""},
	{"trailing garbage", `{"type":"ping"} x`, CodeBadRequest, ""},
	{"trailing close bracket", `{"type":"ping"}]`, CodeBadRequest, ""},
	{"trailing close brace", `{"type":"ping"}}`, CodeBadRequest, ""},
	{"trailing nbsp", "{\"type\":\"ping\"}\u00a0", CodeBadRequest, ""},
	{"invalid escape", `{"type":"p\ing"}`, CodeBadRequest, ""},

	// type missing or ill-typed: BAD_REQUEST, rid echoed.
	{"type missing", `{"rid":"a"}`, CodeBadRequest, "a"},
	{"type missing empty object", `{}`, CodeBadRequest, ""},
	{"type number", `{"type":1,"rid":"a"}`, CodeBadRequest, "a"},
	{"type object", `{"type":{},"rid":"a"}`, CodeBadRequest, "a"},
	{"type array", `{"type":["ping"],"rid":"a"}`, CodeBadRequest, "a"},
	{"type bool", `{"type":true,"rid":"a"}`, CodeBadRequest, "a"},
	{"type null", `{"type":null,"rid":"a"}`, CodeBadRequest, "a"},

	// rid ill-typed or too long: BAD_REQUEST, rid not readable.
	{"rid number", `{"type":"ping","rid":1}`, CodeBadRequest, ""},
	{"rid object", `{"type":"ping","rid":{}}`, CodeBadRequest, ""},
	{"rid array", `{"type":"ping","rid":["a"]}`, CodeBadRequest, ""},
	{"rid bool", `{"type":"ping","rid":false}`, CodeBadRequest, ""},
	{"rid longer than 64", `{"type":"ping","rid":"` + longRid + `"}`, CodeBadRequest, ""},
	{"rid longer than 64 on enqueue", `{"type":"enqueue","mode":"duel","rid":"` + longRid + `"}`, CodeBadRequest, ""},

	// Unknown type: UNKNOWN_TYPE, rid echoed.
	{"unknown type", `{"type":"dance","rid":"u1"}`, CodeUnknownType, "u1"},
	{"unknown type no rid", `{"type":"dance"}`, CodeUnknownType, ""},
	{"empty type", `{"type":"","rid":"u2"}`, CodeUnknownType, "u2"},
	{"server type from client", `{"type":"welcome","rid":"u3"}`, CodeUnknownType, "u3"},
	{"type wrong case", `{"type":"PING","rid":"u4"}`, CodeUnknownType, "u4"},
	{"type with space", `{"type":"ping ","rid":"u5"}`, CodeUnknownType, "u5"},

	// enqueue: mode required, a non-empty string.
	{"enqueue mode missing", `{"type":"enqueue","rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode null", `{"type":"enqueue","mode":null,"rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode empty", `{"type":"enqueue","mode":"","rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode number", `{"type":"enqueue","mode":1,"rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode huge number", `{"type":"enqueue","mode":1e99999,"rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode object", `{"type":"enqueue","mode":{"name":"duel"},"rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode array", `{"type":"enqueue","mode":["duel"],"rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode bool", `{"type":"enqueue","mode":true,"rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode too long", `{"type":"enqueue","mode":"` + strings.Repeat("m", 129) + `","rid":"e"}`, CodeBadRequest, "e"},
	{"enqueue mode missing no rid", `{"type":"enqueue"}`, CodeBadRequest, ""},

	// loading_complete: match_id required, a non-empty string.
	{"loading_complete match_id missing", `{"type":"loading_complete","rid":"l"}`, CodeBadRequest, "l"},
	{"loading_complete match_id null", `{"type":"loading_complete","match_id":null,"rid":"l"}`, CodeBadRequest, "l"},
	{"loading_complete match_id empty", `{"type":"loading_complete","match_id":"","rid":"l"}`, CodeBadRequest, "l"},
	{"loading_complete match_id number", `{"type":"loading_complete","match_id":12,"rid":"l"}`, CodeBadRequest, "l"},
	{"loading_complete match_id object", `{"type":"loading_complete","match_id":{},"rid":"l"}`, CodeBadRequest, "l"},
	{"loading_complete match_id too long", `{"type":"loading_complete","match_id":"` + strings.Repeat("x", 129) + `","rid":"l"}`, CodeBadRequest, "l"},
	{"loading_complete mode instead", `{"type":"loading_complete","mode":"duel","rid":"l"}`, CodeBadRequest, "l"},

	// Parties: player_id and party_id as mode is; open a bool.
	{"party_create open a string", `{"type":"party_create","open":"true","rid":"c"}`, CodeBadRequest, "c"},
	{"party_create open a number", `{"type":"party_create","open":1,"rid":"c"}`, CodeBadRequest, "c"},
	{"party_create open an object", `{"type":"party_create","open":{},"rid":"c"}`, CodeBadRequest, "c"},
	{"party_invite player_id missing", `{"type":"party_invite","rid":"i"}`, CodeBadRequest, "i"},
	{"party_invite player_id null", `{"type":"party_invite","player_id":null,"rid":"i"}`, CodeBadRequest, "i"},
	{"party_invite player_id empty", `{"type":"party_invite","player_id":"","rid":"i"}`, CodeBadRequest, "i"},
	{"party_invite player_id number", `{"type":"party_invite","player_id":5,"rid":"i"}`, CodeBadRequest, "i"},
	{"party_invite player_id too long", `{"type":"party_invite","player_id":"` + strings.Repeat("p", 129) + `","rid":"i"}`, CodeBadRequest, "i"},
	{"party_invite party_id instead", `{"type":"party_invite","party_id":"p","rid":"i"}`, CodeBadRequest, "i"},
	{"party_kick player_id missing", `{"type":"party_kick","rid":"k"}`, CodeBadRequest, "k"},
	{"party_kick player_id bool", `{"type":"party_kick","player_id":true,"rid":"k"}`, CodeBadRequest, "k"},
	{"party_promote player_id missing", `{"type":"party_promote","rid":"p"}`, CodeBadRequest, "p"},
	{"party_promote player_id array", `{"type":"party_promote","player_id":["bob"],"rid":"p"}`, CodeBadRequest, "p"},
	{"party_join party_id missing", `{"type":"party_join","rid":"j"}`, CodeBadRequest, "j"},
	{"party_join party_id empty", `{"type":"party_join","party_id":"","rid":"j"}`, CodeBadRequest, "j"},
	{"party_join party_id object", `{"type":"party_join","party_id":{},"rid":"j"}`, CodeBadRequest, "j"},
	{"party_join party_id too long", `{"type":"party_join","party_id":"` + strings.Repeat("x", 129) + `","rid":"j"}`, CodeBadRequest, "j"},
	{"server party frame from client", `{"type":"party","rid":"u"}`, CodeUnknownType, "u"},
	{"server party_left from client", `{"type":"party_left","rid":"u"}`, CodeUnknownType, "u"},
}

func TestDecodeErrors(t *testing.T) {
	for _, tt := range decodeErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.frame))
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, nil; want a %s error", tt.frame, got, tt.wantCode)
			}
			if !reflect.DeepEqual(got, ClientMessage{}) {
				t.Errorf("Decode(%q) message = %+v, want the zero message on error", tt.frame, got)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%q) error = %T %v, want *DecodeError", tt.frame, err, err)
			}
			if de.Code != tt.wantCode {
				t.Errorf("Decode(%q) code = %s, want %s (message %q)", tt.frame, de.Code, tt.wantCode, de.Message)
			}
			if de.Rid != tt.wantRid {
				t.Errorf("Decode(%q) rid = %q, want %q", tt.frame, de.Rid, tt.wantRid)
			}
			if de.Message == "" {
				t.Errorf("Decode(%q) message is empty, want a sentence", tt.frame)
			}
			if got, want := de.Error(), string(de.Code)+": "+de.Message; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestAsDecodeError(t *testing.T) {
	_, err := Decode([]byte(`{"type":"dance","rid":"z"}`))
	tests := []struct {
		name    string
		err     error
		wantOK  bool
		wantRid string
	}{
		{"direct", err, true, "z"},
		{"wrapped", errors.Join(errors.New("ctx"), err), true, "z"},
		{"other", errors.New("nope"), false, ""},
		{"nil", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			de, ok := AsDecodeError(tt.err)
			if ok != tt.wantOK {
				t.Fatalf("AsDecodeError(%v) ok = %v, want %v", tt.err, ok, tt.wantOK)
			}
			if ok && de.Rid != tt.wantRid {
				t.Errorf("AsDecodeError(%v).Rid = %q, want %q", tt.err, de.Rid, tt.wantRid)
			}
		})
	}
}

// TestDecodeMaxFrame decodes a frame of exactly the default
// server.max_message_bytes (4096): the decoder has no size limit of its own.
func TestDecodeMaxFrame(t *testing.T) {
	prefix := `{"type":"ping","pad":"`
	suffix := `"}`
	frame := prefix + strings.Repeat("x", 4096-len(prefix)-len(suffix)) + suffix
	if got, want := len(frame), 4096; got != want {
		t.Fatalf("frame is %d bytes, want %d", got, want)
	}
	got, err := Decode([]byte(frame))
	if err != nil {
		t.Fatalf("Decode(4096-byte frame) error = %v, want nil", err)
	}
	if got.Type != TypePing {
		t.Errorf("Decode(4096-byte frame).Type = %q, want %q", got.Type, TypePing)
	}
}

func TestDecodeDeepNesting(t *testing.T) {
	deep := `{"type":"ping","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	_, err := Decode([]byte(deep))
	de, ok := AsDecodeError(err)
	if !ok || de.Code != CodeBadRequest {
		t.Errorf("Decode(20000-deep frame) error = %v, want BAD_REQUEST", err)
	}
}

var clientTypes = map[string]bool{
	TypeEnqueue: true, TypeCancel: true, TypeLoadingComplete: true, TypeSync: true, TypePing: true,
	TypePartyCreate: true, TypePartyInvite: true, TypePartyJoin: true, TypePartyLeave: true, TypePartyKick: true, TypePartyPromote: true,
}

// Messages of the open flag, so the fuzzer checks them like the others.
func TestDecodeOpenMessage(t *testing.T) {
	_, err := Decode([]byte(`{"type":"party_create","open":"yes","rid":"o"}`))
	de, ok := AsDecodeError(err)
	if !ok || de.Message != "open must be a boolean" {
		t.Errorf("Decode(open a string) error = %v, want BAD_REQUEST open must be a boolean", err)
	}
}

func FuzzDecode(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecode.
	for _, s := range []string{
		`{"type":"enqueue","mode":"duel","rid":"1"}`,
		`{"type":"cancel"}`,
		`{"type":"loading_complete","match_id":"m"}`,
		`{"type":"sync","rid":""}`,
		`{"type":"ping","rid":null}`,
		`{"type":"ping"}]`,
		`{"type":"party_create","open":true}`,
		`{"type":"party_invite","player_id":"bob"}`,
		`{"type":"party_join","party_id":"p"}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%q) error = %T %v, want *DecodeError", b, err, err)
			}
			if de.Code != CodeBadRequest && de.Code != CodeUnknownType {
				t.Fatalf("Decode(%q) code = %s, want BAD_REQUEST or UNKNOWN_TYPE", b, de.Code)
			}
			// MaxRidLen counts characters, as the contract does, not bytes.
			if n := utf8.RuneCountInString(de.Rid); n > MaxRidLen {
				t.Fatalf("Decode(%q) error rid has %d characters, want at most %d", b, n, MaxRidLen)
			}
			if !reflect.DeepEqual(m, ClientMessage{}) {
				t.Fatalf("Decode(%q) = %+v with an error, want the zero message", b, m)
			}
			return
		}
		if !clientTypes[m.Type] {
			t.Fatalf("Decode(%q).Type = %q, want a client type", b, m.Type)
		}
		if n := utf8.RuneCountInString(m.Rid); n > MaxRidLen {
			t.Fatalf("Decode(%q).Rid has %d characters, want at most %d", b, n, MaxRidLen)
		}
		// Each type yields exactly the fields it takes, and the ones it
		// needs are set.
		want := ClientMessage{Type: m.Type, Rid: m.Rid}
		switch m.Type {
		case TypeEnqueue:
			want.Mode, want.Latencies = m.Mode, m.Latencies
			if m.Mode == "" {
				t.Fatalf("Decode(%q) = %+v, want a mode", b, m)
			}
		case TypeLoadingComplete:
			want.MatchID = m.MatchID
			if m.MatchID == "" {
				t.Fatalf("Decode(%q) = %+v, want a match_id", b, m)
			}
		case TypePartyInvite, TypePartyKick, TypePartyPromote:
			want.PlayerID = m.PlayerID
			if m.PlayerID == "" {
				t.Fatalf("Decode(%q) = %+v, want a player_id", b, m)
			}
		case TypePartyJoin:
			want.PartyID = m.PartyID
			if m.PartyID == "" {
				t.Fatalf("Decode(%q) = %+v, want a party_id", b, m)
			}
		case TypePartyCreate:
			want.Open = m.Open
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("Decode(%q) = %+v, want only the fields of %s: %+v", b, m, m.Type, want)
		}
		// Decoded strings are valid UTF-8 (encoding/json replaces bad bytes),
		// so echoing them back in a reply is safe.
		for _, s := range []string{m.Type, m.Rid, m.Mode, m.MatchID, m.PlayerID, m.PartyID} {
			if !utf8.ValidString(s) {
				t.Fatalf("Decode(%q) yielded invalid UTF-8 %q", b, s)
			}
		}
		// A successful frame is a single valid JSON object.
		if !json.Valid(b) {
			t.Fatalf("Decode(%q) succeeded, want an error for invalid JSON", b)
		}
		// Re-encoding and decoding again is stable.
		re, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("json.Marshal(%+v) error = %v", m, err)
		}
		m2, err := Decode(re)
		if err != nil {
			t.Fatalf("Decode(Marshal(%+v)) error = %v, want nil", m, err)
		}
		if !reflect.DeepEqual(m2, m) {
			t.Fatalf("Decode(Marshal(m)) = %+v, want %+v", m2, m)
		}
	})
}
