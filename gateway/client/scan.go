package client

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/matchd/matchd/gateway/protocol"
)

// frameKeys are the keys scanner reads; a key that equals one of them in
// another case is left to encoding/json, which matches keys in any case.
var frameKeys = []string{
	"type", "rid", "protocol", "session_id", "player_id", "node_id", "server_time_ms", "state",
	"mode", "ticket_id", "queued_at_ms", "requeued", "reason",
	"match_id", "teams", "loading_deadline_ms", "region", "ready", "waiting", "server", "no_shows",
	"code", "message", "retry_after_ms", "incident_id", "reconnect_after_ms",
	"party_id", "leader", "members", "invited", "open", "max_size", "from", "expires_ms", "players",
}

// stateKeys are the keys of the state object, likewise.
var stateKeys = []string{"name", "mode", "ticket_id", "match_id", "party_id", "since_ms"}

// scanner reads one frame of the shape the server writes. Every method
// reports false for anything it does not read exactly as encoding/json
// would, and DecodeFrame then starts over with encoding/json.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next byte after white space, or 0 at the end.
func (s *scanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// word consumes a literal (true, false, null).
func (s *scanner) word(w string) bool {
	s.space()
	if strings.HasPrefix(string(s.b[s.i:min(s.i+len(w), len(s.b))]), w) {
		s.i += len(w)
		return true
	}
	return false
}

// raw reads a string without escapes or control characters and returns
// its bytes, still in the frame; false for anything else.
func (s *scanner) raw() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			// encoding/json replaces invalid UTF-8; leave that to it.
			return raw, ascii || utf8.Valid(raw)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	return nil, false
}

func (s *scanner) str() (string, bool) {
	raw, ok := s.raw()
	return string(raw), ok
}

// seq reads a bracketed, comma-separated sequence (an array, or an object
// when item reads a key and its value), calling item for each element.
func (s *scanner) seq(open, close byte, item func() bool) bool {
	if !s.eat(open) {
		return false
	}
	if s.eat(close) {
		return true
	}
	for {
		if !item() {
			return false
		}
		if s.eat(close) {
			return true
		}
		if !s.eat(',') {
			return false
		}
	}
}

// member reads an object member's key and colon, and returns the key; the
// key's bytes stay in the frame, so reading it costs no allocation.
func (s *scanner) member() ([]byte, bool) {
	key, ok := s.raw()
	return key, ok && s.eat(':')
}

// skip passes over one value of any kind; false for anything malformed or
// unusual (then encoding/json decides).
func (s *scanner) skip(depth int) bool {
	if depth > 16 {
		return false
	}
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.raw()
		return ok
	case c == '{':
		return s.seq('{', '}', func() bool {
			_, ok := s.member()
			return ok && s.skip(depth+1)
		})
	case c == '[':
		return s.seq('[', ']', func() bool { return s.skip(depth + 1) })
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

// number passes over a number in JSON's grammar: -?(0|[1-9][0-9]*)
// (.[0-9]+)?([eE][+-]?[0-9]+)?. Its value is never needed.
func (s *scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	start := s.i
	if n := digits(); n == 0 || (n > 1 && s.b[start] == '0') {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// integer reads a plain integer (no fraction or exponent).
func (s *scanner) integer() (int64, bool) {
	s.space()
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		if s.i-start >= 18 {
			return 0, false
		}
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	if s.i == start || (s.b[start] == '0' && s.i-start > 1) {
		return 0, false
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// optString reads a string, or null (which leaves *dst as it is).
func (s *scanner) optString(dst *string) bool {
	if s.peek() == 'n' {
		return s.word("null")
	}
	v, ok := s.str()
	if ok {
		*dst = v
	}
	return ok
}

// optName reads a string that is usually one of the protocol's names (a
// type, code, reason or state), or null; a known name costs no allocation.
func (s *scanner) optName(dst *string) bool {
	if s.peek() == 'n' {
		return s.word("null")
	}
	v, ok := s.raw()
	if ok {
		*dst = name(v)
	}
	return ok
}

// optInt reads an integer, or null (which leaves *dst as it is).
func (s *scanner) optInt(dst *int64) bool {
	if s.peek() == 'n' {
		return s.word("null")
	}
	n, ok := s.integer()
	if ok {
		*dst = n
	}
	return ok
}

// optBool reads true, false, or null (which leaves *dst as it is).
func (s *scanner) optBool(dst *bool) bool {
	switch s.peek() {
	case 't':
		*dst = true
		return s.word("true")
	case 'f':
		*dst = false
		return s.word("false")
	case 'n':
		return s.word("null")
	}
	return false
}

func (s *scanner) frame(f *Frame) bool {
	ok := s.seq('{', '}', func() bool {
		key, ok := s.member()
		return ok && s.field(f, key)
	})
	s.space()
	return ok && s.i == len(s.b)
}

func (s *scanner) field(f *Frame, key []byte) bool {
	switch string(key) {
	case "type":
		return s.optName(&f.Type)
	case "rid":
		return s.optString(&f.Rid)
	case "protocol":
		return s.optName(&f.Protocol)
	case "session_id":
		return s.optString(&f.SessionID)
	case "player_id":
		return s.optString(&f.PlayerID)
	case "node_id":
		return s.optString(&f.NodeID)
	case "server_time_ms":
		return s.optInt(&f.ServerTimeMs)
	case "state":
		return s.state(f)
	case "mode":
		return s.optString(&f.Mode)
	case "ticket_id":
		return s.optString(&f.TicketID)
	case "queued_at_ms":
		return s.optInt(&f.QueuedAtMs)
	case "requeued":
		return s.optBool(&f.Requeued)
	case "reason":
		return s.optName(&f.Reason)
	case "match_id":
		return s.optString(&f.MatchID)
	case "teams":
		return s.teams(f)
	case "loading_deadline_ms":
		return s.optInt(&f.LoadingDeadlineMs)
	case "region":
		return s.optString(&f.Region)
	case "ready":
		return s.strings(&f.Ready)
	case "waiting":
		return s.strings(&f.Waiting)
	case "server":
		return s.rawValue(&f.Server)
	case "no_shows":
		return s.strings(&f.NoShows)
	case "code":
		c := string(f.Code)
		ok := s.optName(&c)
		f.Code = protocol.Code(c)
		return ok
	case "message":
		return s.optString(&f.Message)
	case "retry_after_ms":
		return s.optInt(&f.RetryAfterMs)
	case "incident_id":
		return s.optString(&f.IncidentID)
	case "reconnect_after_ms":
		return s.optInt(&f.ReconnectAfterMs)
	case "players":
		return s.strings(&f.Players)
	case "party_id":
		return s.optString(&f.PartyID)
	case "leader":
		return s.optString(&f.Leader)
	case "members":
		return s.strings(&f.Members)
	case "invited":
		return s.strings(&f.Invited)
	case "open":
		return s.optBool(&f.Open)
	case "max_size":
		n := int64(f.MaxSize)
		ok := s.optInt(&n)
		f.MaxSize = int(n)
		return ok
	case "from":
		return s.optString(&f.From)
	case "expires_ms":
		return s.optInt(&f.ExpiresMs)
	}
	if foldsToOneOf(key, frameKeys) {
		return false
	}
	return s.skip(0)
}

// foldsToOneOf reports whether key equals one of keys in another case
// (encoding/json's key match, Unicode folding included).
func foldsToOneOf(key []byte, keys []string) bool {
	for _, k := range keys {
		if strings.EqualFold(k, string(key)) {
			return true
		}
	}
	return false
}

// rawValue keeps one value's bytes as they are, as json.RawMessage does
// (null included); the copy lets the frame's buffer be reused.
func (s *scanner) rawValue(dst *json.RawMessage) bool {
	s.space()
	start := s.i
	if !s.skip(0) {
		return false
	}
	*dst = append([]byte(nil), s.b[start:s.i]...)
	return true
}

// strings reads an array of strings (or null, which sets nil).
func (s *scanner) strings(dst *[]string) bool {
	if s.peek() == 'n' {
		*dst = nil
		return s.word("null")
	}
	out := []string{}
	ok := s.seq('[', ']', func() bool {
		v, ok := s.str()
		out = append(out, v)
		return ok
	})
	if ok {
		*dst = out
	}
	return ok
}

func (s *scanner) teams(f *Frame) bool {
	if s.peek() == 'n' {
		f.Teams = nil
		return s.word("null")
	}
	teams := [][]string{}
	ok := s.seq('[', ']', func() bool {
		if s.peek() == 'n' {
			teams = append(teams, nil)
			return s.word("null")
		}
		team := []string{}
		ok := s.seq('[', ']', func() bool {
			v, ok := s.str()
			team = append(team, v)
			return ok
		})
		teams = append(teams, team)
		return ok
	})
	if ok {
		f.Teams = teams
	}
	return ok
}

// state reads the state object. Like encoding/json it fills the State a
// frame with two state keys already has, rather than a fresh one.
func (s *scanner) state(f *Frame) bool {
	switch s.peek() {
	case 'n':
		f.State = nil
		return s.word("null")
	case '{':
	default:
		return false
	}
	if f.State == nil {
		f.State = &protocol.State{}
	}
	st := f.State
	return s.seq('{', '}', func() bool {
		key, ok := s.member()
		if !ok {
			return false
		}
		switch string(key) {
		case "name":
			return s.optName(&st.Name)
		case "mode":
			return s.optString(&st.Mode)
		case "ticket_id":
			return s.optString(&st.TicketID)
		case "match_id":
			return s.optString(&st.MatchID)
		case "party_id":
			return s.optString(&st.PartyID)
		case "since_ms":
			return s.optInt(&st.SinceMs)
		}
		if foldsToOneOf(key, stateKeys) {
			return false
		}
		return s.skip(1)
	})
}
