package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// legacyDecode is Decode as it stood before it had a fast parser, kept
// word for word: it pins down that sharing the rules between the two
// parsers changed no answer, not even an error message.
func legacyDecode(b []byte) (ClientMessage, error) {
	var raw map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&raw); err != nil || raw == nil {
		return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Message: "frame is not a JSON object"}
	}
	if len(bytes.Trim(b[d.InputOffset():], " \t\r\n")) > 0 {
		return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Message: "frame holds more than one JSON value"}
	}
	var m ClientMessage
	if r, ok := raw["rid"]; ok {
		if err := json.Unmarshal(r, &m.Rid); err != nil {
			return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Message: "rid must be a string"}
		}
		if utf8.RuneCountInString(m.Rid) > MaxRidLen {
			return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Message: fmt.Sprintf("rid is longer than %d characters", MaxRidLen)}
		}
	}
	t, ok := raw["type"]
	if !ok {
		return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: "type is required"}
	}
	if err := json.Unmarshal(t, &m.Type); err != nil || bytes.Equal(t, []byte("null")) {
		return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: "type must be a string"}
	}
	str := func(field string, dst *string) error {
		v, ok := raw[field]
		if !ok || bytes.Equal(v, []byte("null")) {
			return &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: field + " is required"}
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: field + " must be a string"}
		}
		if *dst == "" {
			return &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: field + " must not be empty"}
		}
		if len(*dst) > 128 {
			return &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: field + " is too long"}
		}
		return nil
	}
	switch m.Type {
	case TypeEnqueue:
		if err := str("mode", &m.Mode); err != nil {
			return ClientMessage{}, err
		}
		// Added with regions: an object of non-negative numbers.
		if v, ok := raw["latencies"]; ok && !bytes.Equal(v, []byte("null")) {
			var obj map[string]any
			if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
				return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: "latencies must be an object of region names to non-negative milliseconds"}
			}
			m.Latencies = map[string]float64{}
			for k, x := range obj {
				f, isNum := x.(float64)
				if !isNum || f < 0 {
					return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: "latencies must be an object of region names to non-negative milliseconds"}
				}
				m.Latencies[k] = f
			}
		}
	case TypeLoadingComplete:
		if err := str("match_id", &m.MatchID); err != nil {
			return ClientMessage{}, err
		}
	// Added with parties.
	case TypePartyInvite, TypePartyKick, TypePartyPromote:
		if err := str("player_id", &m.PlayerID); err != nil {
			return ClientMessage{}, err
		}
	case TypePartyJoin:
		if err := str("party_id", &m.PartyID); err != nil {
			return ClientMessage{}, err
		}
	case TypePartyCreate:
		if v, ok := raw["open"]; ok && !bytes.Equal(v, []byte("null")) {
			if err := json.Unmarshal(v, &m.Open); err != nil {
				return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: "open must be a boolean"}
			}
		}
	case TypeCancel, TypeSync, TypePing, TypePartyLeave:
	default:
		return ClientMessage{}, &DecodeError{Code: CodeUnknownType, Rid: m.Rid, Message: "unknown message type"}
	}
	return m, nil
}

// slowDecode is Decode with the fast parser taken out.
func slowDecode(b []byte) (ClientMessage, error) {
	f, err := readFrame(b)
	if err != nil {
		return ClientMessage{}, err
	}
	return f.message()
}

type decoded struct {
	msg ClientMessage
	err error
}

// fastDecode is Decode with the fallback taken out; false means the frame
// would have gone to readFrame.
func fastDecode(b []byte) (decoded, bool) {
	f, ok := scanFlatFrame(b)
	if !ok {
		return decoded{}, false
	}
	m, err := f.message()
	return decoded{m, err}, true
}

// resultDiff describes how two outcomes of decoding differ, or is empty.
func resultDiff(got, want decoded) string {
	if !reflect.DeepEqual(got.msg, want.msg) {
		return fmt.Sprintf("message %+v, want %+v", got.msg, want.msg)
	}
	if (got.err == nil) != (want.err == nil) {
		return fmt.Sprintf("error %v, want %v", got.err, want.err)
	}
	if got.err == nil {
		return ""
	}
	var g, w *DecodeError
	if !errors.As(got.err, &g) || !errors.As(want.err, &w) {
		return fmt.Sprintf("error %T %v, want %T %v, both *DecodeError", got.err, got.err, want.err, want.err)
	}
	if g.Code != w.Code || g.Rid != w.Rid || g.Message != w.Message {
		return fmt.Sprintf("error {%s %q %q}, want {%s %q %q}", g.Code, g.Rid, g.Message, w.Code, w.Rid, w.Message)
	}
	return ""
}

// checkEquivalent holds for every input: Decode answers as it always did,
// the fallback alone answers the same, and the fast parser, whenever it
// takes a frame, answers the same as the fallback. It reports whether the
// fast parser took the frame.
func checkEquivalent(t *testing.T, b []byte) bool {
	t.Helper()
	var legacy, slow, full decoded
	legacy.msg, legacy.err = legacyDecode(b)
	slow.msg, slow.err = slowDecode(b)
	full.msg, full.err = Decode(b)
	if d := resultDiff(slow, legacy); d != "" {
		t.Errorf("slowDecode(%q): %s (legacy)", b, d)
	}
	if d := resultDiff(full, legacy); d != "" {
		t.Errorf("Decode(%q): %s (legacy)", b, d)
	}
	fast, ok := fastDecode(b)
	if !ok {
		return false
	}
	if d := resultDiff(fast, slow); d != "" {
		t.Errorf("fastDecode(%q): %s (slow path)", b, d)
	}
	return true
}

// commonFrames are what real clients send; each must take the fast path.
var commonFrames = []struct {
	frame string
	want  ClientMessage
}{
	{`{"type":"enqueue","rid":"r1","mode":"duel"}`, ClientMessage{Type: TypeEnqueue, Rid: "r1", Mode: "duel"}},
	{`{"type":"enqueue","mode":"duel"}`, ClientMessage{Type: TypeEnqueue, Mode: "duel"}},
	{`{"type":"enqueue","rid":"req-000123","mode":"squad"}`, ClientMessage{Type: TypeEnqueue, Rid: "req-000123", Mode: "squad"}},
	{`{"type":"loading_complete","rid":"l-1","match_id":"01J9Z8Q4W6X2M3N5P7R9T1V3X5"}`, ClientMessage{Type: TypeLoadingComplete, Rid: "l-1", MatchID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5"}},
	{`{"type":"loading_complete","match_id":"01J9Z8Q4W6X2M3N5P7R9T1V3X5"}`, ClientMessage{Type: TypeLoadingComplete, MatchID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5"}},
	{`{"type":"cancel","rid":"c-1"}`, ClientMessage{Type: TypeCancel, Rid: "c-1"}},
	{`{"type":"cancel"}`, ClientMessage{Type: TypeCancel}},
	{`{"type":"ping","rid":"p-1"}`, ClientMessage{Type: TypePing, Rid: "p-1"}},
	{`{"type":"ping"}`, ClientMessage{Type: TypePing}},
	{`{"type":"sync","rid":"s-1"}`, ClientMessage{Type: TypeSync, Rid: "s-1"}},
	{`{"type":"sync"}`, ClientMessage{Type: TypeSync}},
	{`{"rid":"7","match_id":"m-1","type":"loading_complete"}`, ClientMessage{Type: TypeLoadingComplete, Rid: "7", MatchID: "m-1"}},
	{"{\n  \"type\": \"enqueue\",\n  \"rid\": \"r1\",\n  \"mode\": \"duel\"\n}\n", ClientMessage{Type: TypeEnqueue, Rid: "r1", Mode: "duel"}},
	{`{"type":"enqueue","mode":"дуэль-🎮","rid":"ü"}`, ClientMessage{Type: TypeEnqueue, Rid: "ü", Mode: "дуэль-🎮"}},
	{`{"type":"ping","client":"web/1.2","ts":"2025-01-01T00:00:00Z"}`, ClientMessage{Type: TypePing}},
	{`{"type":"party_create","rid":"c"}`, ClientMessage{Type: TypePartyCreate, Rid: "c"}},
	{`{"type":"party_create","rid":"c","open":true}`, ClientMessage{Type: TypePartyCreate, Rid: "c", Open: true}},
	{`{"type":"party_create","open" : false ,"rid":"c"}`, ClientMessage{Type: TypePartyCreate, Rid: "c"}},
	{`{"type":"party_invite","rid":"i","player_id":"bob"}`, ClientMessage{Type: TypePartyInvite, Rid: "i", PlayerID: "bob"}},
	{`{"type":"party_join","rid":"j","party_id":"01J9Z8Q4W6X2M3N5P7R9T1V3X5"}`, ClientMessage{Type: TypePartyJoin, Rid: "j", PartyID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5"}},
	{`{"type":"party_leave","rid":"l"}`, ClientMessage{Type: TypePartyLeave, Rid: "l"}},
	{`{"type":"party_kick","rid":"k","player_id":"bob"}`, ClientMessage{Type: TypePartyKick, Rid: "k", PlayerID: "bob"}},
	{`{"type":"party_promote","player_id":"bob"}`, ClientMessage{Type: TypePartyPromote, PlayerID: "bob"}},
}

// bailFrames are frames whose meaning depends on rules the fast parser
// does not implement; it must leave every one to readFrame.
var bailFrames = []string{
	``,
	` `,
	`null`,
	`[]`,
	`"ping"`,
	`{"type":"p\u0069ng"}`,
	`{"t\u0079pe":"ping"}`,
	`{"type":"ping","rid":"a\"b"}`,
	`{"type":"ping","rid":"a\\b"}`,
	`{"type":"ping","rid":"\/"}`,
	`{"type":"ping","x":"\n"}`,
	"{\"type\":\"ping\",\"rid\":\"a\tb\"}",
	"{\"type\":\"ping\",\"rid\":\"a\x00b\"}",
	"{\"type\":\"enqueue\",\"mode\":\"\xff\"}",
	"{\"type\":\"enqueue\",\"mode\":\"\xed\xa0\x80\"}",
	"{\"type\":\"ping\",\"x\":\"\xc3\"}",
	"{\"typ\xc3\xa9\":\"ping\"}",
	`{"type":"cancel","type":"ping"}`,
	`{"type":"ping","rid":"a","rid":"b"}`,
	`{"type":"ping","x":"1","x":"2"}`,
	`{"type":"ping","rid":null}`,
	`{"type":null}`,
	`{"type":"ping","n":1}`,
	`{"type":"ping","b":true}`,
	`{"type":"ping","b":false}`,
	`{"type":"ping","o":{}}`,
	`{"type":"ping","a":[]}`,
	`{"type":["ping"]}`,
	`{"type":"ping"}x`,
	`{"type":"ping"}{"type":"ping"}`,
	`{"type":"ping"} {}`,
	`{"type":"ping",}`,
	`{,"type":"ping"}`,
	`{"type" "ping"}`,
	`{"type":"ping" "rid":"a"}`,
	`{"type":"ping"`,
	`{'type':'ping'}`,
	`{type:"ping"}`,
	"\ufeff{\"type\":\"ping\"}",
	"\f{\"type\":\"ping\"}",
	"{\"type\":\"ping\"}\v",
	"{\"type\":\"ping\"}\u00a0",
	`{"a":"","b":"","c":"","d":"","e":"","f":"","g":"","type":"ping","rid":"x"}`,
	// Of the non-string values only open's true and false are read.
	`{"type":"party_create","open":null}`,
	`{"type":"party_create","open":1}`,
	`{"type":"party_create","open":{}}`,
	`{"type":"party_create","open":"tr\u0075e"}`,
	`{"type":"party_create","open":tru}`,
	`{"type":"party_create","open":True}`,
	`{"type":"party_create","open":truex}`,
	`{"type":"party_create","open":true1}`,
	`{"type":"party_create","open":true`,
	`{"type":"party_create","open":false,"open":true}`,
	`{"type":"party_create","closed":true}`,
	`{"type":"party_invite","player_id":true}`,
	`{"type":"party_join","party_id":false}`,
}

func TestFastDecodeCommonFrames(t *testing.T) {
	for _, tt := range commonFrames {
		got, ok := fastDecode([]byte(tt.frame))
		if !ok {
			t.Errorf("fastDecode(%q) fell back to the slow path, want it taken fast", tt.frame)
			continue
		}
		if got.err != nil || !reflect.DeepEqual(got.msg, tt.want) {
			t.Errorf("fastDecode(%q) = %+v, %v; want %+v, nil", tt.frame, got.msg, got.err, tt.want)
		}
		checkEquivalent(t, []byte(tt.frame))
	}
	// A client that marshals a ClientMessage gets the fast path too.
	for _, m := range []ClientMessage{
		{Type: TypeEnqueue, Rid: "r-42", Mode: "duel"},
		{Type: TypeLoadingComplete, MatchID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5"},
		{Type: TypePing},
		{Type: TypePartyCreate, Rid: "c", Open: true},
		{Type: TypePartyCreate},
		{Type: TypePartyInvite, Rid: "i", PlayerID: "bob"},
		{Type: TypePartyJoin, PartyID: "p-1"},
		{Type: TypePartyLeave},
	} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := fastDecode(b); !ok || got.err != nil || !reflect.DeepEqual(got.msg, m) {
			t.Errorf("fastDecode(%q) = %+v, %v, %v; want %+v, nil, true", b, got.msg, got.err, ok, m)
		}
	}
}

func TestFastDecodeBails(t *testing.T) {
	for _, f := range bailFrames {
		if got, ok := fastDecode([]byte(f)); ok {
			t.Errorf("fastDecode(%q) = %+v, %v, true; want it left to the slow path", f, got.msg, got.err)
		}
		checkEquivalent(t, []byte(f))
	}
}

// equivalenceFrames gathers every frame the tests know, for the
// differential test and as fuzz seeds.
func equivalenceFrames(tb testing.TB) []string {
	tb.Helper()
	var frames []string
	for _, tt := range decodeValidTests {
		frames = append(frames, tt.frame)
	}
	for _, tt := range decodeErrorTests {
		frames = append(frames, tt.frame)
	}
	for _, tt := range commonFrames {
		frames = append(frames, tt.frame)
	}
	frames = append(frames, bailFrames...)
	frames = append(frames, fuzzCorpus(tb, "FuzzDecode")...)

	r63 := strings.Repeat("r", 63)
	frames = append(frames,
		// Whitespace, only the four JSON blanks, anywhere a token may sit.
		` {"type":"ping"}`,
		`{"type":"ping"} `,
		"\t\r\n {\t\"type\"\r:\n\"ping\" ,\t\"rid\" : \"w\"\r\n}\t\r\n ",
		`{ }`,
		`{}`,
		` {} `,
		`{"type":"ping"}`+"\x00",
		"\x00"+`{"type":"ping"}`,
		"{\"type\":\"ping\"}\u2028",

		// Keys: unknown, case, empty, spaces, non-ASCII.
		`{"type":"ping","x":"y"}`,
		`{"":"","type":"ping"}`,
		`{"":"x"}`,
		`{"type":"ping","Type":"enqueue"}`,
		`{"TYPE":"ping"}`,
		`{"type ":"ping"}`,
		`{" type":"ping"}`,
		`{"type":"ping","ключ":"x"}`,
		`{"type":"ping","RID":"x"}`,
		`{"type":"enqueue","Mode":"duel"}`,
		`{"type":"loading_complete","matchId":"m"}`,
		`{"type":"loading_complete","match_id":"m","mode":"duel","rid":"r"}`,
		`{"type":"enqueue","mode":"duel","match_id":"m"}`,

		// Values: odd bytes that are still plain JSON strings.
		"{\"type\":\"ping\",\"rid\":\"\x7f\"}",
		"{\"type\":\"enqueue\",\"mode\":\"\x7f\"}",
		`{"type":"enqueue","mode":" "}`,
		`{"type":"enqueue","mode":"du el"}`,
		`{"type":"enqueue","mode":"düel"}`,
		`{"type":"enqueue","mode":"d\u00fcel"}`,
		"{\"type\":\"enqueue\",\"mode\":\"\ufffd\"}",
		"{\"type\":\"enqueue\",\"mode\":\"\ufeff\"}",
		"{\"type\":\"enqueue\",\"mode\":\"\u2028\"}",
		"{\"type\":\"ping\",\"rid\":\"\U0010ffff\"}",
		"{\"type\":\"enqueue\",\"mode\":\"\xc0\xaf\"}",
		"{\"type\":\"enqueue\",\"mode\":\"\xf4\x90\x80\x80\"}",
		"{\"type\":\"enqueue\",\"mode\":\"\xe2\x82\"}",
		"{\"type\":\"ping\",\"rid\":\"\xff\"}",
		`{"type":"ping","rid":"\ud83c\udfae"}`,
		`{"type":"ping","rid":"\ud800"}`,
		`{"type":"ping","rid":"\u0000"}`,
		`{"type":"\u0070ing"}`,
		`{"type":"ping\u0000"}`,

		// Types.
		`{"type":""}`,
		`{"type":"","rid":"x"}`,
		`{"type":"Ping"}`,
		`{"type":"welcome"}`,
		`{"type":"enqueue "}`,
		`{"type":"enqueuex","mode":"duel"}`,
		`{"type":"loading_complet","match_id":"m"}`,

		// Required fields empty, null, ill-typed, short and long.
		`{"type":"enqueue","mode":""}`,
		`{"type":"enqueue","mode":"","rid":"e"}`,
		`{"type":"loading_complete","match_id":""}`,
		`{"type":"enqueue","mode":"duel","rid":""}`,
		`{"type":"enqueue","mode":null,"rid":null}`,
		`{"type":"enqueue","mode":"x"}`,
		`{"type":"enqueue","mode":-0}`,
		`{"type":"enqueue","mode":"duel","rid":1e999}`,
		`{"type":"loading_complete","match_id":false,"rid":"l"}`,
		`{"type":"loading_complete","match_id":"m","rid":{}}`,

		// Nested and mixed values.
		`{"type":"ping","x":{"type":"enqueue"}}`,
		`{"type":"ping","x":["a","b"]}`,
		`{"type":{"type":"ping"}}`,
		`{"type":"ping","x":{}} `,
		`{"type":"ping","x":[{}]}x`,

		// Trailing garbage and second values.
		`{"type":"ping"},`,
		`{"type":"ping"} }`,
		`{"type":"ping"}"x"`,
		`{"type":"ping"}null`,
		`{"type":"ping"} {"type":"ping"}`,
		`{"type":"ping"}[`,
		`{"type":"ping"}/`,

		// Broken structure.
		`{`,
		`}`,
		`{"`,
		`{"type`,
		`{"type"`,
		`{"type":`,
		`{"type":"`,
		`{"type":"ping`,
		`{"type":"ping",`,
		`{"type":"ping","`,
		`{"type"::"ping"}`,
		`{"type":"ping",,"rid":"a"}`,
		`{"type":"ping";"rid":"a"}`,
		`{"type"="ping"}`,
		`{"type":"ping"]`,
		`{{"type":"ping"}}`,

		// Duplicates in every position.
		`{"type":"ping","type":"ping"}`,
		`{"type":"enqueue","mode":"a","mode":"b"}`,
		`{"type":"enqueue","mode":"","mode":"b"}`,
		`{"type":"loading_complete","match_id":"a","match_id":"b"}`,
		`{"rid":"a","type":"ping","rid":"`+longRid+`"}`,
		`{"rid":"`+longRid+`","type":"ping","rid":"a"}`,
		`{"type":"ping","type":null}`,
		`{"type":null,"type":"ping"}`,
		`{"type":"ping","x":"a","y":"b","x":"c"}`,

		// Many keys, just under and just over what the fast path tracks.
		`{"a":"","b":"","c":"","d":"","e":"","f":"","type":"ping","rid":"x"}`,
		`{"a":"","b":"","c":"","d":"","e":"","f":"","g":"","h":"","type":"ping"}`,

		// rid length counts characters, not bytes.
		`{"type":"ping","rid":"`+r63+`r"}`,
		`{"type":"ping","rid":"`+r63+`rr"}`,
		`{"type":"ping","rid":"`+strings.Repeat("é", 64)+`"}`,
		`{"type":"ping","rid":"`+strings.Repeat("é", 65)+`"}`,
		`{"type":"ping","rid":"`+strings.Repeat("🎮", 64)+`"}`,
		`{"type":"ping","rid":"`+strings.Repeat("🎮", 65)+`"}`,
		`{"type":"ping","rid":"`+r63+`🎮"}`,
		`{"type":"ping","rid":"`+r63+`🎮🎮"}`,
		`{"type":"ping","rid":"`+strings.Repeat("\u2028", 64)+`"}`,
		`{"type":"ping","rid":"`+strings.Repeat("\u2028", 65)+`"}`,
		`{"rid":"`+strings.Repeat("é", 65)+`"}`,
		`{"rid":"`+strings.Repeat("é", 65)+`","type":"dance"}`,
		`{"type":"ping","rid":"`+r63+"\xff"+`"}`,
		`{"type":"ping","rid":"`+strings.Repeat("é", 63)+"\xc3"+`"}`,

		// mode and match_id length counts bytes.
		`{"type":"enqueue","mode":"`+strings.Repeat("m", 128)+`"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("m", 129)+`"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("é", 64)+`"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("é", 64)+`m"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("é", 65)+`"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("m", 124)+`🎮"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("m", 125)+`🎮"}`,
		`{"type":"loading_complete","match_id":"`+strings.Repeat("x", 128)+`"}`,
		`{"type":"loading_complete","match_id":"`+strings.Repeat("x", 129)+`","rid":"l"}`,
		`{"type":"ping","mode":"`+strings.Repeat("m", 129)+`"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("m", 127)+"\xff"+`"}`,
		`{"type":"enqueue","mode":"`+strings.Repeat("m", 128)+"\xff"+`"}`,

		// Parties: the fields each request needs, and those it ignores.
		`{"type":"party_create"}`,
		`{"type":"party_create","open":true}`,
		`{"type":"party_create","open":false}`,
		`{"type":"party_create","open":"true","rid":"o"}`,
		`{"type":"party_create","open":"","rid":"o"}`,
		`{"type":"party_create", "open" :true , "rid":"o" }`,
		`{"type":"party_create","open":true,"player_id":"bob","party_id":"p"}`,
		`{"type":"party_create","open":null,"rid":"o"}`,
		`{"type":"party_create","open":0,"rid":"o"}`,
		`{"type":"party_create","open":[true],"rid":"o"}`,
		`{"type":"party_leave","open":"yes"}`,
		`{"type":"party_join","party_id":"p","open":"yes"}`,
		`{"type":"ping","open":true}`,
		`{"type":"enqueue","mode":"duel","open":"x"}`,
		`{"type":"party_invite","player_id":"bob"}`,
		`{"type":"party_invite","player_id":"","rid":"i"}`,
		`{"type":"party_invite","player_id":null,"rid":"i"}`,
		`{"type":"party_invite","player_id":7,"rid":"i"}`,
		`{"type":"party_invite","party_id":"p","rid":"i"}`,
		`{"type":"party_invite","player_id":"a","player_id":"b"}`,
		`{"type":"party_kick","player_id":"bob","rid":"k"}`,
		`{"type":"party_kick","rid":"k"}`,
		`{"type":"party_promote","player_id":"bob","rid":"p"}`,
		`{"type":"party_promote","player_id":"b\u00f6b"}`,
		`{"type":"party_promote","player_id":"`+strings.Repeat("p", 128)+`"}`,
		`{"type":"party_promote","player_id":"`+strings.Repeat("p", 129)+`"}`,
		`{"type":"party_join","party_id":"p"}`,
		`{"type":"party_join","party_id":"","rid":"j"}`,
		`{"type":"party_join","player_id":"bob","rid":"j"}`,
		`{"type":"party_join","party_id":"`+strings.Repeat("x", 129)+`"}`,
		`{"type":"party_leave"}`,
		`{"type":"party_leave","player_id":"bob","party_id":"p"}`,
		`{"type":"party_leaves"}`,
		`{"type":"party"}`,
		`{"type":"party_left"}`,
	)
	return frames
}

// fuzzCorpus reads the seeds of a fuzz test's corpus directory, so frames
// kept there are compared too.
func fuzzCorpus(tb testing.TB, name string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" {
			tb.Fatalf("%s: not a one-value fuzz corpus file", file)
		}
		lit, ok := strings.CutPrefix(lines[1], "[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		s, err := strconv.Unquote(lit)
		if !ok || !ok2 || err != nil {
			tb.Fatalf("%s: cannot read %q", file, lines[1])
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		tb.Fatalf("no corpus files for %s", name)
	}
	return out
}

func TestFastDecodeEquivalence(t *testing.T) {
	frames := equivalenceFrames(t)
	fast := 0
	for _, f := range frames {
		if checkEquivalent(t, []byte(f)) {
			fast++
		}
	}
	t.Logf("%d of %d frames took the fast path", fast, len(frames))
	// A fast path that refused everything would pass every comparison.
	if fast < len(frames)/4 {
		t.Errorf("only %d of %d frames took the fast path", fast, len(frames))
	}
}

// maxFuzzFrame bounds the inputs FuzzDecodeFastEquivalence looks at. The
// fuzzer shrinks every input that finds new code in time quadratic in its
// length, and a few kilobyte-long ones would take up a whole run; no rule
// of the fast path needs more room than a 65-character rid of 4-byte
// characters. The table test covers the longer frames.
const maxFuzzFrame = 512

func FuzzDecodeFastEquivalence(f *testing.F) {
	for _, s := range equivalenceFrames(f) {
		if len(s) <= maxFuzzFrame {
			f.Add([]byte(s))
		}
	}
	f.Add([]byte("\x00r1\x00duel\x00m-1"))
	f.Add([]byte("\x02\x00r1\x00duel\x00"))
	f.Add([]byte("\x03\x00\x00\x00m-1"))
	f.Add([]byte("\x05\x00r\x00\x00\x00"))
	f.Add([]byte("\x06\x00r\x00\x00\x00bob\x00"))
	f.Add([]byte("\x07\x00r\x00\x00\x00\x00p-1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzFrame {
			return
		}
		checkEquivalent(t, b)
		checkEquivalent(t, flatFrame(b))
	})
}

// flatFrame spreads b over the values of a frame with every known key.
// Mutated frames seldom stay inside the fast path's subset, so on their
// own they would mostly test the bail-outs; this keeps the fuzzer probing
// what the fast path accepts, with any bytes inside the quotes.
func flatFrame(b []byte) []byte {
	p := bytes.SplitN(b, []byte{0}, 6)
	for len(p) < 6 {
		p = append(p, nil)
	}
	typ := p[0]
	if len(typ) == 1 {
		names := []string{TypeEnqueue, TypeCancel, TypeLoadingComplete, TypeSync, TypePing,
			TypePartyCreate, TypePartyInvite, TypePartyJoin, TypePartyLeave, TypePartyKick, TypePartyPromote}
		typ = []byte(names[int(typ[0])%len(names)])
	}
	var f []byte
	f = append(f, `{"type":"`...)
	f = append(f, typ...)
	f = append(f, `","rid":"`...)
	f = append(f, p[1]...)
	f = append(f, `","mode":"`...)
	f = append(f, p[2]...)
	f = append(f, `","match_id":"`...)
	f = append(f, p[3]...)
	f = append(f, `","player_id":"`...)
	f = append(f, p[4]...)
	f = append(f, `","party_id":"`...)
	f = append(f, p[5]...)
	f = append(f, `"`...)
	// open as a bool, a string or not at all, by the length of the type.
	switch len(typ) % 3 {
	case 1:
		f = append(f, `,"open":true`...)
	case 2:
		f = append(f, `,"open":"`...)
		f = append(f, p[2]...)
		f = append(f, `"`...)
	}
	return append(f, `}`...)
}

func TestFastDecodeAllocs(t *testing.T) {
	// One allocation per returned string that is not a type name: rid,
	// mode, match_id, player_id and party_id are copied out of the frame, since the frame's
	// buffer is not ours to keep.
	tests := []struct {
		frame string
		want  float64
	}{
		{`{"type":"enqueue","rid":"r1","mode":"duel"}`, 2},
		{`{"type":"enqueue","mode":"duel"}`, 1},
		{`{"type":"loading_complete","rid":"l-1","match_id":"01J9Z8Q4W6X2M3N5P7R9T1V3X5"}`, 2},
		{`{"type":"ping"}`, 0},
		{`{"type":"ping","rid":"p-1"}`, 1},
		{`{"type":"party_create","rid":"c-1","open":true}`, 1},
		{`{"type":"party_invite","rid":"i-1","player_id":"bob"}`, 2},
		{`{"type":"party_leave"}`, 0},
	}
	for _, tt := range tests {
		b := []byte(tt.frame)
		if _, ok := scanFlatFrame(b); !ok {
			t.Fatalf("scanFlatFrame(%q) fell back", b)
		}
		got := testing.AllocsPerRun(1000, func() {
			if _, err := Decode(b); err != nil {
				t.Fatal(err)
			}
		})
		if got != tt.want {
			t.Errorf("Decode(%q) allocates %v times, want %v", b, got, tt.want)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	frames := []struct {
		name  string
		frame []byte
	}{
		{"enqueue", []byte(`{"type":"enqueue","rid":"req-000123","mode":"duel"}`)},
		{"loading_complete", []byte(`{"type":"loading_complete","rid":"req-000124","match_id":"01J9Z8Q4W6X2M3N5P7R9T1V3X5"}`)},
		{"ping", []byte(`{"type":"ping","rid":"req-000125"}`)},
	}
	paths := []struct {
		name   string
		decode func([]byte) (ClientMessage, error)
	}{
		{"slow", slowDecode},
		{"fast", Decode},
	}
	for _, fr := range frames {
		if _, ok := scanFlatFrame(fr.frame); !ok {
			b.Fatalf("scanFlatFrame(%q) fell back; the fast numbers would be the slow path's", fr.frame)
		}
		for _, p := range paths {
			b.Run(fr.name+"/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(fr.frame)))
				for b.Loop() {
					if _, err := p.decode(fr.frame); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
