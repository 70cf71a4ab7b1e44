package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// escapes holds every class of byte appendString treats apart: quote and
// backslash, the short control escapes, the other control bytes, DEL (left
// raw), the HTML characters, U+2028/U+2029, valid multi-byte runes, and
// invalid UTF-8 (a stray continuation byte, a truncated sequence, an
// overlong NUL, a surrogate half and a rune past U+10FFFF).
const escapes = "q\"b\\s/\b\f\n\r\t\x00\x01\x1f\x7f<>&\u2028\u2029é€😀\xff\x80\xe2\x80\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\ufffd!"

// wantSame checks m against json.Marshal through AppendJSON (appending to a
// prefix) and Encode, and that Encode fails exactly when json.Marshal does.
func wantSame(t testing.TB, m Appender) {
	t.Helper()
	want, err := json.Marshal(m)
	got, gotErr := Encode(m)
	if err != nil {
		if gotErr == nil || gotErr.Error() != err.Error() {
			t.Fatalf("Encode(%#v) error = %v, json.Marshal error = %v", m, gotErr, err)
		}
		return
	}
	if gotErr != nil || !bytes.Equal(got, want) {
		t.Fatalf("Encode(%#v)\n got %q, %v\nwant %q", m, got, gotErr, want)
	}
	const prefix = "prefix"
	if got := m.AppendJSON([]byte(prefix)); !bytes.Equal(got, append([]byte(prefix), want...)) {
		t.Fatalf("AppendJSON(%#v)\n got %q\nwant %q", m, got, prefix+string(want))
	}
}

func TestAppendJSONMatchesMarshal(t *testing.T) {
	state := State{Name: StateLoading, Mode: "duel", TicketID: "t-1", MatchID: "m-1", SinceMs: 1735689600000}
	tests := []struct {
		name string
		m    Appender
	}{
		{"State zero", &State{}},
		{"State full", &state},
		{"State escapes", &State{Name: escapes, Mode: escapes, TicketID: escapes, MatchID: escapes, PartyID: escapes, SinceMs: -1}},
		{"State in a party", &State{Name: StateIdle, PartyID: "p-1", SinceMs: 1}},
		{"Welcome zero", &Welcome{}},
		{"Welcome", &Welcome{Type: TypeWelcome, Protocol: Subprotocol, SessionID: "s", PlayerID: "p", NodeID: "n", ServerTimeMs: 42, State: state}},
		{"Queued zero", &Queued{}},
		{"Queued", &Queued{Type: TypeQueued, Rid: "r", Mode: "duel", TicketID: "t", QueuedAtMs: math.MaxInt64, Requeued: true}},
		{"Queued min int", &Queued{Type: TypeQueued, QueuedAtMs: math.MinInt64}},
		{"Queued escapes", &Queued{Type: escapes, Rid: escapes, Mode: escapes, TicketID: escapes}},
		{"Dequeued zero", &Dequeued{}},
		{"Dequeued", &Dequeued{Type: TypeDequeued, Rid: "r", Mode: "duel", TicketID: "t", Reason: ReasonTimeout}},
		{"MatchFound nil teams", &MatchFound{Type: TypeMatchFound}},
		{"MatchFound empty teams", &MatchFound{Teams: [][]string{}}},
		{"MatchFound nil and empty team", &MatchFound{Teams: [][]string{nil, {}, {""}}}},
		{"MatchFound", &MatchFound{Type: TypeMatchFound, MatchID: "m", Mode: "squad", Teams: [][]string{{"a", "b"}, {"c", escapes}}, LoadingDeadlineMs: -7}},
		{"LoadingStatus nil lists", &LoadingStatus{Type: TypeLoadingStatus}},
		{"LoadingStatus empty lists", &LoadingStatus{Ready: []string{}, Waiting: []string{}}},
		{"LoadingStatus", &LoadingStatus{Type: TypeLoadingStatus, Rid: "r", MatchID: "m", Ready: []string{"a", ""}, Waiting: []string{escapes}}},
		{"MatchReady nil server", &MatchReady{Type: TypeMatchReady, MatchID: "m"}},
		{"MatchReady null server", &MatchReady{Server: json.RawMessage(`null`)}},
		{"MatchReady compact", &MatchReady{Server: json.RawMessage(`{"addr":"10.0.0.1:7777","region":"eu west","ports":[1,2]}`)}},
		{"MatchReady whitespace", &MatchReady{Server: json.RawMessage(" \t\r\n{ \"a\" : [ 1 , -2.5e3 , true , false , null ] ,\n \"b\" : { } , \"c\":[ ] }\n ")}},
		{"MatchReady scalar", &MatchReady{Server: json.RawMessage(` 12 `)}},
		{"MatchReady string escapes", &MatchReady{Server: json.RawMessage(`"\"\\ \u2028 \/ \n <>& "`)}},
		{"MatchReady raw HTML and separators", &MatchReady{Server: json.RawMessage("[\"<a href='x'>&amp;</a>\", \"\u2028\u2029\", \"\\\\\"]")}},
		{"MatchReady raw invalid UTF-8", &MatchReady{Server: json.RawMessage("\"\xff\xe2\x80 \xed\xa0\x80\"")}},
		{"MatchCancelled nil no-shows", &MatchCancelled{Type: TypeMatchCancelled}},
		{"MatchCancelled", &MatchCancelled{Type: TypeMatchCancelled, Rid: "r", MatchID: "m", Reason: ReasonPlayerLeft, Requeued: true, NoShows: []string{}}},
		{"StateReply zero", &StateReply{}},
		{"StateReply", &StateReply{Type: TypeState, Rid: "r", State: state}},
		{"Pong zero", &Pong{}},
		{"Pong", &Pong{Type: TypePong, Rid: "r", ServerTimeMs: 5}},
		{"Error zero", &Error{}},
		{"Error zero state", &Error{State: &State{}}},
		{"Error full", &Error{Type: TypeError, Rid: "r", Code: CodeRateLimited, Message: escapes, RetryAfterMs: -1, State: &state, IncidentID: "i"}},
		{"Error players", &Error{Type: TypeError, Rid: "r", Code: CodePartyNotReady, Message: "m", Players: []string{"bob", escapes}}},
		{"Error empty players", &Error{Type: TypeError, Code: CodeBanned, Players: []string{}}},
		{"Party zero", &Party{}},
		{"Party empty lists", &Party{Type: TypeParty, Members: []string{}, Invited: []string{}}},
		{"Party", &Party{Type: TypeParty, Rid: "r", PartyID: "p-1", Leader: "alice", Members: []string{"alice", "bob"}, Invited: []string{"carol"}, Open: true, MaxSize: 5}},
		{"Party escapes", &Party{Type: escapes, Rid: escapes, PartyID: escapes, Leader: escapes, Members: []string{escapes, ""}, MaxSize: math.MinInt}},
		{"Party max size", &Party{Type: TypeParty, MaxSize: math.MaxInt}},
		{"PartyInvite zero", &PartyInvite{}},
		{"PartyInvite", &PartyInvite{Type: TypePartyInvited, PartyID: "p-1", From: "alice", ExpiresMs: 1764755060000}},
		{"PartyInvite escapes", &PartyInvite{Type: escapes, PartyID: escapes, From: escapes, ExpiresMs: math.MinInt64}},
		{"PartyLeft zero", &PartyLeft{}},
		{"PartyLeft", &PartyLeft{Type: TypePartyLeft, Rid: "r", PartyID: "p-1", Reason: PartyLeftKicked}},
		{"PartyLeft escapes", &PartyLeft{Type: escapes, Rid: escapes, PartyID: escapes, Reason: escapes}},
		{"nil Party", (*Party)(nil)},
		{"nil PartyInvite", (*PartyInvite)(nil)},
		{"nil PartyLeft", (*PartyLeft)(nil)},
		{"ServerDraining zero", &ServerDraining{}},
		{"ServerDraining", &ServerDraining{Type: TypeServerDraining, ReconnectAfterMs: 1000}},
		{"HTTPError zero", &HTTPError{}},
		{"HTTPError", &HTTPError{Code: CodeUnauthorized, Message: escapes}},
		{"nil Queued", (*Queued)(nil)},
		{"nil MatchReady", (*MatchReady)(nil)},
		{"nil Error", (*Error)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantSame(t, tt.m) })
	}
}

// A party's lists are never null, however the server built the frame:
// through Encode, AppendJSON or json.Marshal, by pointer or by value.
func TestPartyListsNeverNull(t *testing.T) {
	p := Party{Type: TypeParty, PartyID: "p", Leader: "a", MaxSize: 5}
	want := `{"type":"party","party_id":"p","leader":"a","members":[],"invited":[],"open":false,"max_size":5}`
	enc, err := Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	byPtr, err := json.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	byVal, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"Encode": string(enc), "AppendJSON": string(p.AppendJSON(nil)), "json.Marshal(&p)": string(byPtr), "json.Marshal(p)": string(byVal)} {
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if p.Members != nil || p.Invited != nil {
		t.Errorf("encoding changed the frame: %+v", p)
	}
}

func TestEncodeInvalidServer(t *testing.T) {
	for _, raw := range []string{"", " ", "{", `{"a":1} x`, "nul", "\"\x01\"", "'a'", "[1,]", "{\"a\":1,}", "01", strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		m := &MatchReady{Type: TypeMatchReady, MatchID: "m", Server: json.RawMessage(raw)}
		if _, err := json.Marshal(m); err == nil {
			t.Fatalf("json.Marshal accepts server %q", raw)
		}
		wantSame(t, m) // the same error from Encode
		if got, want := string(m.AppendJSON(nil)), `{"type":"match_ready","match_id":"m","server":null}`; got != want {
			t.Errorf("AppendJSON with server %q = %s, want %s", raw, got, want)
		}
	}
}

func TestEncodeOtherTypes(t *testing.T) {
	for _, v := range []any{nil, Queued{Type: TypeQueued}, map[string]int{"a": 1}, &ClientMessage{Type: TypePing}} {
		want, err := json.Marshal(v)
		got, gotErr := Encode(v)
		if err != nil || gotErr != nil || !bytes.Equal(got, want) {
			t.Errorf("Encode(%#v) = %s, %v; want %s", v, got, gotErr, want)
		}
	}
}

// TestEncodeOwnsItsResult guards the pooled buffers: a frame waiting in a
// send queue must not change when the next one is encoded.
func TestEncodeOwnsItsResult(t *testing.T) {
	first, err := Encode(&Pong{Type: TypePong, ServerTimeMs: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := Encode(&Pong{Type: "overwritten", ServerTimeMs: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if want := `{"type":"pong","server_time_ms":1}`; string(first) != want {
		t.Errorf("first frame = %s, want %s", first, want)
	}
}

// gen makes random frame fields that lean on the cases encoders get wrong.
type gen struct{ r *rand.Rand }

// tricky are fragments worth more than their share of random picks.
var tricky = []string{"\"", "\\", "<", ">", "&", "\u2028", "\u2029", "\ufffd", "\x7f", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\x80", "\xe2\x80", "\xe2\x80\xa8", "\xe2\x80\xa9"}

func (g gen) str() string {
	if g.r.IntN(8) == 0 {
		return ""
	}
	var b []byte
	for range g.r.IntN(16) {
		switch g.r.IntN(6) {
		case 0:
			b = append(b, byte(g.r.IntN(256)))
		case 1:
			b = append(b, byte(g.r.IntN(utf8.RuneSelf)))
		case 2:
			b = utf8.AppendRune(b, rune(g.r.IntN(utf8.MaxRune+1))) // surrogates become U+FFFD
		case 3:
			b = append(b, tricky[g.r.IntN(len(tricky))]...)
		default:
			b = append(b, byte('a'+g.r.IntN(26)))
		}
	}
	return string(b)
}

func (g gen) strs() []string {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	ss := make([]string, 1+g.r.IntN(6))
	for i := range ss {
		ss[i] = g.str()
	}
	return ss
}

func (g gen) teams() [][]string {
	if g.r.IntN(5) == 0 {
		return nil
	}
	t := make([][]string, g.r.IntN(4))
	for i := range t {
		t[i] = g.strs()
	}
	return t
}

func (g gen) int() int64 {
	switch g.r.IntN(4) {
	case 0:
		return 0
	case 1:
		return []int64{math.MinInt64, math.MaxInt64, -1, 1}[g.r.IntN(4)]
	case 2:
		return g.r.Int64N(2000) - 1000
	}
	return int64(g.r.Uint64())
}

func (g gen) state() State {
	return State{Name: g.str(), Mode: g.str(), TicketID: g.str(), MatchID: g.str(), PartyID: g.str(), SinceMs: g.int()}
}

// raw makes a JSON value with random whitespace, strings that need HTML
// escaping or carry invalid UTF-8, and now and then a corruption that makes
// it invalid.
func (g gen) raw() json.RawMessage {
	switch g.r.IntN(10) {
	case 0:
		return nil
	case 1:
		return json.RawMessage{}
	}
	b := g.value(nil, 0)
	if g.r.IntN(10) == 0 && len(b) > 0 {
		i := g.r.IntN(len(b))
		if g.r.IntN(2) == 0 {
			b = b[:i]
		} else {
			b[i] = byte(g.r.IntN(256))
		}
	}
	return b
}

func (g gen) space(b []byte) []byte {
	for g.r.IntN(3) == 0 {
		b = append(b, " \t\r\n"[g.r.IntN(4)])
	}
	return b
}

func (g gen) value(b []byte, depth int) []byte {
	b = g.space(b)
	kind := g.r.IntN(7)
	if depth > 3 {
		kind %= 3
	}
	switch kind {
	case 0:
		b = append(b, []string{"null", "true", "false", "0", "-1", "12.5e-3", "1E+2", "-0.0"}[g.r.IntN(8)]...)
	case 1, 2, 3:
		b = g.jsonString(b)
	case 4, 5:
		b = append(b, '[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				b = append(g.space(b), ',')
			}
			b = g.value(b, depth+1)
		}
		b = append(g.space(b), ']')
	default:
		b = append(b, '{')
		for i := range g.r.IntN(4) {
			if i > 0 {
				b = append(g.space(b), ',')
			}
			b = append(g.jsonString(g.space(b)), g.space(nil)...)
			b = g.value(append(b, ':'), depth+1)
		}
		b = append(g.space(b), '}')
	}
	return g.space(b)
}

// jsonString writes a string the decoder accepts: escapes, raw bytes of any
// value from 0x20 up, including invalid UTF-8, but no raw '"' or '\'.
func (g gen) jsonString(b []byte) []byte {
	b = append(b, '"')
	for range g.r.IntN(10) {
		switch g.r.IntN(4) {
		case 0:
			b = append(b, []string{`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u2028`, `\u003C`, `\uD83D\uDE00`}[g.r.IntN(11)]...)
		case 1:
			if s := tricky[g.r.IntN(len(tricky))]; s != `"` && s != `\` {
				b = append(b, s...)
			}
		default:
			if c := byte(0x20 + g.r.IntN(256-0x20)); c != '"' && c != '\\' {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

func TestAppendJSONRandom(t *testing.T) {
	const n = 5000
	frames := []struct {
		name string
		make func(g gen) Appender
	}{
		{"State", func(g gen) Appender { s := g.state(); return &s }},
		{"Welcome", func(g gen) Appender {
			return &Welcome{Type: g.str(), Protocol: g.str(), SessionID: g.str(), PlayerID: g.str(), NodeID: g.str(), ServerTimeMs: g.int(), State: g.state()}
		}},
		{"Queued", func(g gen) Appender {
			return &Queued{Type: g.str(), Rid: g.str(), Mode: g.str(), TicketID: g.str(), QueuedAtMs: g.int(), Requeued: g.r.IntN(2) == 0}
		}},
		{"Dequeued", func(g gen) Appender {
			return &Dequeued{Type: g.str(), Rid: g.str(), Mode: g.str(), TicketID: g.str(), Reason: g.str()}
		}},
		{"MatchFound", func(g gen) Appender {
			return &MatchFound{Type: g.str(), MatchID: g.str(), Mode: g.str(), Teams: g.teams(), LoadingDeadlineMs: g.int()}
		}},
		{"LoadingStatus", func(g gen) Appender {
			return &LoadingStatus{Type: g.str(), Rid: g.str(), MatchID: g.str(), Ready: g.strs(), Waiting: g.strs()}
		}},
		{"MatchReady", func(g gen) Appender { return &MatchReady{Type: g.str(), MatchID: g.str(), Server: g.raw()} }},
		{"MatchCancelled", func(g gen) Appender {
			return &MatchCancelled{Type: g.str(), Rid: g.str(), MatchID: g.str(), Reason: g.str(), Requeued: g.r.IntN(2) == 0, NoShows: g.strs()}
		}},
		{"StateReply", func(g gen) Appender { return &StateReply{Type: g.str(), Rid: g.str(), State: g.state()} }},
		{"Pong", func(g gen) Appender { return &Pong{Type: g.str(), Rid: g.str(), ServerTimeMs: g.int()} }},
		{"Error", func(g gen) Appender {
			m := &Error{Type: g.str(), Rid: g.str(), Code: Code(g.str()), Message: g.str(), RetryAfterMs: g.int(), IncidentID: g.str(), Players: g.strs()}
			if g.r.IntN(2) == 0 {
				s := g.state()
				m.State = &s
			}
			return m
		}},
		{"ServerDraining", func(g gen) Appender { return &ServerDraining{Type: g.str(), ReconnectAfterMs: g.int()} }},
		{"Party", func(g gen) Appender {
			return &Party{Type: g.str(), Rid: g.str(), PartyID: g.str(), Leader: g.str(), Members: g.strs(), Invited: g.strs(), Open: g.r.IntN(2) == 0, MaxSize: int(g.int())}
		}},
		{"PartyInvite", func(g gen) Appender {
			return &PartyInvite{Type: g.str(), PartyID: g.str(), From: g.str(), ExpiresMs: g.int()}
		}},
		{"PartyLeft", func(g gen) Appender {
			return &PartyLeft{Type: g.str(), Rid: g.str(), PartyID: g.str(), Reason: g.str()}
		}},
		{"HTTPError", func(g gen) Appender { return &HTTPError{Code: Code(g.str()), Message: g.str()} }},
	}
	for i, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			g := gen{rand.New(rand.NewPCG(uint64(i), 0x6d61746368))}
			for range n {
				wantSame(t, f.make(g))
			}
		})
	}
}

func FuzzEncodeEquivalence(f *testing.F) {
	f.Add("match_found", "r-1", int64(0), false, []byte(`null`))
	f.Add("<&>\u2028\u2029", "\xff\x00\"\\\x7f", int64(-1), true, []byte(" { \"a\" : [1, 2, \"<b>\"] }\n"))
	f.Add("", "", int64(math.MinInt64), true, []byte{})
	f.Add("é\b\f\n\r\t", "\xed\xa0\x80\xe2\x80", int64(math.MaxInt64), false, []byte("\"\xe2\x80\xa8\xff\""))
	f.Fuzz(func(t *testing.T, a, b string, n int64, flag bool, raw []byte) {
		var server json.RawMessage
		if !flag || len(raw) > 0 {
			server = raw
		}
		var state *State
		if flag {
			state = &State{Name: a, Mode: b, TicketID: a, MatchID: b, SinceMs: n}
		}
		list := strings.Split(a, b)
		for _, m := range []Appender{
			&Welcome{Type: a, Protocol: b, SessionID: a, PlayerID: b, NodeID: a, ServerTimeMs: n, State: State{Name: b, Mode: a, SinceMs: n}},
			&Queued{Type: a, Rid: b, Mode: a, TicketID: b, QueuedAtMs: n, Requeued: flag},
			&MatchFound{Type: a, MatchID: b, Mode: a, Teams: [][]string{list, {b}, nil}, LoadingDeadlineMs: n},
			&LoadingStatus{Type: a, Rid: b, MatchID: a, Ready: list, Waiting: []string{b, a}},
			&MatchReady{Type: a, MatchID: b, Server: server},
			&MatchReady{Type: b, MatchID: a, Server: json.RawMessage(`[ "` + a + `" , ` + b + ` ]`)},
			&MatchCancelled{Rid: a, Reason: b, Requeued: flag, NoShows: list},
			&Error{Type: a, Rid: b, Code: Code(a), Message: b, RetryAfterMs: n, State: state, IncidentID: a, Players: list},
			&Party{Type: a, Rid: b, PartyID: a, Leader: b, Members: list, Invited: []string{a}, Open: flag, MaxSize: int(n)},
			&PartyInvite{Type: b, PartyID: a, From: b, ExpiresMs: n},
			&PartyLeft{Type: a, Rid: b, PartyID: b, Reason: a},
			&HTTPError{Code: Code(b), Message: a},
		} {
			wantSame(t, m)
		}
	})
}

func TestAppendJSONPreservesPrefix(t *testing.T) {
	buf := make([]byte, 0, 512)
	buf = append(buf, "frame 1;"...)
	buf = (&Pong{Type: TypePong, ServerTimeMs: 1}).AppendJSON(buf)
	buf = append(buf, ';')
	buf = (&MatchFound{Type: TypeMatchFound, Teams: [][]string{{"a"}, {"b"}}}).AppendJSON(buf)
	want := `frame 1;{"type":"pong","server_time_ms":1};{"type":"match_found","match_id":"","mode":"","teams":[["a"],["b"]],"loading_deadline_ms":0,"region":null}`
	if string(buf) != want {
		t.Errorf("buffer = %s, want %s", buf, want)
	}
}

// Frames for the allocation test and the benchmarks, sized as in play: a
// 5v5 match with ids of 20 characters.
var (
	benchIDs = func() (ids []string) {
		for i := range 10 {
			ids = append(ids, fmt.Sprintf("player-%013d", i))
		}
		return ids
	}()
	benchQueued = &Queued{Type: TypeQueued, Rid: "req-000123", Mode: "ranked-5v5", TicketID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5", QueuedAtMs: 1735689600000}
	benchFound  = &MatchFound{
		Type: TypeMatchFound, MatchID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5", Mode: "ranked-5v5",
		Teams: [][]string{benchIDs[:5], benchIDs[5:]}, LoadingDeadlineMs: 1735689630000,
	}
	benchLoading = &LoadingStatus{
		Type: TypeLoadingStatus, Rid: "req-000124", MatchID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5",
		Ready: benchIDs[:3], Waiting: benchIDs[3:],
	}
	benchReady = &MatchReady{
		Type: TypeMatchReady, MatchID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5",
		Server: json.RawMessage(`{"addr":"203.0.113.7:7777","region":"eu-west-1","token":"c2VydmVyLXRva2VuLWZvci10aGlzLW1hdGNo"}`),
	}
)

// TestAppendJSONAllocs holds the promise of AppendJSON: no allocation on
// the hot path. Under the race detector sync.Pool drops entries at random,
// so validating MatchReady's Server now and then allocates a scanner (about
// half an allocation per frame); AllocsPerRun's whole-number average rounds
// that away, while an allocation on every frame still fails.
func TestAppendJSONAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	party := &Party{Type: TypeParty, PartyID: "01J9Z8Q4W6X2M3N5P7R9T1V3X5", Leader: benchIDs[0], Members: benchIDs[:5], MaxSize: 5}
	for _, m := range []Appender{benchQueued, benchFound, benchLoading, benchReady, party} {
		if allocs := testing.AllocsPerRun(1000, func() { buf = m.AppendJSON(buf[:0]) }); allocs != 0 {
			t.Errorf("AppendJSON(%T) allocates %v times per frame, want 0", m, allocs)
		}
	}
}

// benchEncode compares json.Marshal with AppendJSON into a reused buffer,
// and with Encode, which allocates the frame it returns.
func benchEncode(b *testing.B, m Appender) {
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := m.AppendJSON(nil)
		for b.Loop() {
			buf = m.AppendJSON(buf[:0])
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeQueued(b *testing.B)        { benchEncode(b, benchQueued) }
func BenchmarkEncodeMatchFound(b *testing.B)    { benchEncode(b, benchFound) }
func BenchmarkEncodeLoadingStatus(b *testing.B) { benchEncode(b, benchLoading) }
func BenchmarkEncodeMatchReady(b *testing.B)    { benchEncode(b, benchReady) }
