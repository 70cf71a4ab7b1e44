package main

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// decodeFrame fills f from a server frame. The server's frames are flat
// objects of plain values, which a small scanner reads without
// encoding/json's reflection (about a tenth of the generator's CPU went
// there); anything it would have to guess at (escapes, other cases of a
// key, unexpected types, malformed input) goes through encoding/json, so
// the result is always what json.Unmarshal gives.
func decodeFrame(data []byte, f *inFrame) error {
	*f = inFrame{}
	s := scanner{b: data}
	if s.frame(f) {
		return nil
	}
	*f = inFrame{}
	return json.Unmarshal(data, f)
}

var frameKeys = []string{"type", "rid", "match_id", "teams", "requeued", "code", "reason", "ticket_id", "retry_after_ms", "state", "no_shows", "loading_deadline_ms"}

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

// str reads a string without escapes or control characters; false for
// anything else.
func (s *scanner) str() (string, bool) {
	if !s.eat('"') {
		return "", false
	}
	start, ascii := s.i, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			// encoding/json replaces invalid UTF-8; leave that to it.
			return string(raw), ascii || utf8.Valid(raw)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	return "", false
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

// member reads an object member's key and colon, and returns the key.
func (s *scanner) member() (string, bool) {
	key, ok := s.str()
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
		_, ok := s.str()
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
		_, ok := s.integer()
		return ok
	}
	return false
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

func (s *scanner) frame(f *inFrame) bool {
	ok := s.seq('{', '}', func() bool {
		key, ok := s.member()
		return ok && s.field(f, key)
	})
	s.space()
	return ok && s.i == len(s.b)
}

func (s *scanner) field(f *inFrame, key string) bool {
	switch key {
	case "type":
		return s.optString(&f.Type)
	case "rid":
		return s.optString(&f.Rid)
	case "match_id":
		return s.optString(&f.MatchID)
	case "code":
		return s.optString(&f.Code)
	case "reason":
		return s.optString(&f.Reason)
	case "ticket_id":
		return s.optString(&f.TicketID)
	case "requeued":
		switch s.peek() {
		case 't':
			f.Requeued = true
			return s.word("true")
		case 'f':
			f.Requeued = false
			return s.word("false")
		case 'n':
			return s.word("null")
		}
		return false
	case "retry_after_ms":
		if s.peek() == 'n' {
			return s.word("null")
		}
		n, ok := s.integer()
		f.RetryAfterMs = n
		return ok
	case "loading_deadline_ms":
		if s.peek() == 'n' {
			return s.word("null")
		}
		n, ok := s.integer()
		f.LoadingDeadlineMs = n
		return ok
	case "no_shows":
		return s.strings(&f.NoShows)
	case "teams":
		return s.teams(f)
	case "state":
		return s.state(f)
	}
	for _, k := range frameKeys {
		if strings.EqualFold(k, key) {
			return false // encoding/json matches keys in any case
		}
	}
	return s.skip(0)
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

func (s *scanner) teams(f *inFrame) bool {
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

func (s *scanner) state(f *inFrame) bool {
	switch s.peek() {
	case 'n':
		f.State = nil
		return s.word("null")
	case '{':
	default:
		return false
	}
	if f.State == nil {
		f.State = &struct {
			Name    string `json:"name"`
			MatchID string `json:"match_id"`
		}{}
	}
	return s.seq('{', '}', func() bool {
		key, ok := s.member()
		switch {
		case !ok:
			return false
		case key == "name":
			return s.optString(&f.State.Name)
		case key == "match_id":
			return s.optString(&f.State.MatchID)
		case strings.EqualFold(key, "name") || strings.EqualFold(key, "match_id"):
			return false
		}
		return s.skip(1)
	})
}
