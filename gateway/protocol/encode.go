package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Appender is a frame that can append its JSON encoding to a buffer without
// reflection, so the send path can reuse one buffer instead of paying
// json.Marshal's reflection and allocations on every frame. The bytes are
// exactly those json.Marshal gives, so a client cannot tell which path
// encoded a frame; that includes a nil frame, which is null.
type Appender interface {
	AppendJSON(b []byte) []byte
}

// encodeBufs holds the buffers Encode appends into, so that a frame costs
// one allocation of its exact size: the frames Encode returns wait in send
// queues, where spare capacity would be memory held for nothing.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf keeps one outsized frame from pinning its buffer in the pool.
const maxPooledBuf = 64 << 10

// Encode is the drop-in replacement for json.Marshal on the send path: it
// takes the fast path for the server frames and keeps json.Marshal for
// anything else, and for a MatchReady whose Server is not valid JSON, so
// that such a frame is refused with json.Marshal's error instead of sent.
func Encode(frame any) ([]byte, error) {
	a, ok := frame.(Appender)
	if !ok {
		return json.Marshal(frame)
	}
	bp := encodeBufs.Get().(*[]byte)
	b := (*bp)[:0]
	if m, isReady := frame.(*MatchReady); isReady {
		b, ok = m.appendJSON(b)
	} else {
		b = a.AppendJSON(b)
	}
	var out []byte
	if ok {
		out = bytes.Clone(b)
	}
	if cap(b) <= maxPooledBuf {
		*bp = b
		encodeBufs.Put(bp)
	}
	if !ok {
		return json.Marshal(frame)
	}
	return out, nil
}

// AppendJSON implements Appender; State is also nested in other frames.
func (m *State) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"name":`, m.Name)
	b = appendOmitString(b, `,"mode":`, m.Mode)
	b = appendOmitString(b, `,"ticket_id":`, m.TicketID)
	b = appendOmitString(b, `,"match_id":`, m.MatchID)
	b = appendOmitString(b, `,"party_id":`, m.PartyID)
	b = appendIntField(b, `,"since_ms":`, m.SinceMs)
	return append(b, '}')
}

// AppendJSON implements Appender, since every connection is sent a Welcome.
func (m *Welcome) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendStringField(b, `,"protocol":`, m.Protocol)
	b = appendStringField(b, `,"session_id":`, m.SessionID)
	b = appendStringField(b, `,"player_id":`, m.PlayerID)
	b = appendStringField(b, `,"node_id":`, m.NodeID)
	b = appendIntField(b, `,"server_time_ms":`, m.ServerTimeMs)
	b = m.State.AppendJSON(append(b, `,"state":`...))
	return append(b, '}')
}

// AppendJSON implements Appender, since Queued answers every enqueue.
func (m *Queued) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendStringField(b, `,"mode":`, m.Mode)
	b = appendStringField(b, `,"ticket_id":`, m.TicketID)
	b = appendIntField(b, `,"queued_at_ms":`, m.QueuedAtMs)
	b = appendBoolField(b, `,"requeued":`, m.Requeued)
	return append(b, '}')
}

// AppendJSON implements Appender, since a drain dequeues many tickets at once.
func (m *Dequeued) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendStringField(b, `,"mode":`, m.Mode)
	b = appendStringField(b, `,"ticket_id":`, m.TicketID)
	b = appendStringField(b, `,"reason":`, m.Reason)
	return append(b, '}')
}

// AppendJSON implements Appender, since every member of every match is sent
// one and its teams make it the costliest frame for json.Marshal.
func (m *MatchFound) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendStringField(b, `,"match_id":`, m.MatchID)
	b = appendStringField(b, `,"mode":`, m.Mode)
	b = appendStringSlices(append(b, `,"teams":`...), m.Teams)
	b = appendIntField(b, `,"loading_deadline_ms":`, m.LoadingDeadlineMs)
	if m.Region == nil {
		b = append(b, `,"region":null`...)
	} else {
		b = appendStringField(b, `,"region":`, *m.Region)
	}
	return append(b, '}')
}

// AppendJSON implements Appender, since every member is sent one each time
// anyone in the match finishes loading.
func (m *LoadingStatus) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendStringField(b, `,"match_id":`, m.MatchID)
	b = appendStrings(append(b, `,"ready":`...), m.Ready)
	b = appendStrings(append(b, `,"waiting":`...), m.Waiting)
	return append(b, '}')
}

// AppendJSON implements Appender. json.Marshal would refuse a Server that is
// not valid JSON; AppendJSON cannot report that, so it writes null in its
// place. Callers that must not send such a frame use Encode, which returns
// json.Marshal's error instead.
func (m *MatchReady) AppendJSON(b []byte) []byte {
	b, _ = m.appendJSON(b)
	return b
}

// appendJSON is AppendJSON that also reports whether Server was valid, for
// Encode.
func (m *MatchReady) appendJSON(b []byte) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendStringField(b, `,"match_id":`, m.MatchID)
	b, ok := appendRaw(append(b, `,"server":`...), m.Server)
	if !ok {
		b = append(b, "null"...)
	}
	return append(b, '}'), ok
}

// AppendJSON implements Appender, since a dodge cancels for every member.
func (m *MatchCancelled) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendStringField(b, `,"match_id":`, m.MatchID)
	b = appendStringField(b, `,"reason":`, m.Reason)
	b = appendBoolField(b, `,"requeued":`, m.Requeued)
	b = appendStrings(append(b, `,"no_shows":`...), m.NoShows)
	return append(b, '}')
}

// AppendJSON implements Appender, so a sync reply takes the same path as
// every other frame.
func (m *StateReply) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = m.State.AppendJSON(append(b, `,"state":`...))
	return append(b, '}')
}

// AppendJSON implements Appender, since pings are the most frequent request.
func (m *Pong) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendIntField(b, `,"server_time_ms":`, m.ServerTimeMs)
	return append(b, '}')
}

// AppendJSON implements Appender, since a client hammering the rate limit is
// refused once per request.
func (m *Error) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendStringField(b, `,"code":`, string(m.Code))
	b = appendStringField(b, `,"message":`, m.Message)
	if m.RetryAfterMs != 0 {
		b = appendIntField(b, `,"retry_after_ms":`, m.RetryAfterMs)
	}
	if m.State != nil {
		b = m.State.AppendJSON(append(b, `,"state":`...))
	}
	b = appendOmitString(b, `,"incident_id":`, m.IncidentID)
	if len(m.Players) > 0 {
		b = appendStrings(append(b, `,"players":`...), m.Players)
	}
	return append(b, '}')
}

// AppendJSON implements Appender, since a drain tells every connection of
// the node at once.
func (m *ServerDraining) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendIntField(b, `,"reconnect_after_ms":`, m.ReconnectAfterMs)
	return append(b, '}')
}

// AppendJSON implements Appender, so a refused handshake is encoded the same
// way as a frame.
func (m *HTTPError) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"code":`, string(m.Code))
	b = appendStringField(b, `,"message":`, m.Message)
	return append(b, '}')
}

// The field helpers take the key already quoted, with its colon and the
// comma before it, so that each field costs one constant append.

func appendStringField(b []byte, key, s string) []byte {
	return appendString(append(b, key...), s)
}

// appendOmitString drops an empty string, as omitempty does.
func appendOmitString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendStringField(b, key, s)
}

func appendIntField(b []byte, key string, n int64) []byte {
	return strconv.AppendInt(append(b, key...), n, 10)
}

func appendBoolField(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(append(b, key...), v)
}

// appendStrings writes a nil slice as null and an empty one as [], because
// json.Marshal tells them apart and clients may too.
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendStringSlices is appendStrings one level up, nil teams included.
func appendStringSlices(b []byte, sss [][]string) []byte {
	if sss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, ss := range sss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStrings(b, ss)
	}
	return append(b, ']')
}

const hex = "0123456789abcdef"

// htmlSafe marks the ASCII bytes a string may carry unescaped. <, > and &
// are escaped because json.Marshal escapes them, lest a frame echoed into a
// web page be read as markup.
var htmlSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := byte(' '); c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

// appendString quotes s exactly as json.Marshal does, because clients and
// tests compare frames byte for byte: the short escapes for the five control
// characters that have one, \u00XX for the rest, \ufffd for each byte of
// invalid UTF-8, and \u2028 and \u2029, which JavaScript does not accept
// raw in a string literal.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendRaw writes raw as json.Marshal writes a json.RawMessage: nil as
// null, otherwise compacted and with the same HTML escaping as strings,
// because json.Marshal rewrites rather than copies it. It reports false,
// leaving b as it was, when raw is not valid JSON, which json.Marshal
// refuses.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, bool) {
	if raw == nil {
		return append(b, "null"...), true
	}
	// Validity checked, a byte-level walk that only tracks whether it is
	// inside a string is enough to compact: whitespace outside strings is
	// dropped, and the bytes to escape can only occur inside strings.
	if !json.Valid(raw) {
		return b, false
	}
	start, inString := 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++ // no escaped byte is one rewritten below
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			b = append(b, raw[start:i]...)
			start = i + 1
		case c == '<' || c == '>' || c == '&':
			b = append(b, raw[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			start = i + 1
		case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && raw[i+2]&^1 == 0xA8:
			// U+2028 or U+2029; invalid UTF-8 is copied as it is, as
			// json.Marshal does for a RawMessage.
			b = append(b, raw[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[raw[i+2]&0xF])
			i += 2
			start = i + 1
		}
	}
	return append(b, raw[start:]...), true
}

// Every frame the server sends is encoded without reflection.
var (
	_ Appender = (*Welcome)(nil)
	_ Appender = (*Queued)(nil)
	_ Appender = (*Dequeued)(nil)
	_ Appender = (*MatchFound)(nil)
	_ Appender = (*LoadingStatus)(nil)
	_ Appender = (*MatchReady)(nil)
	_ Appender = (*MatchCancelled)(nil)
	_ Appender = (*StateReply)(nil)
	_ Appender = (*Pong)(nil)
	_ Appender = (*Error)(nil)
	_ Appender = (*ServerDraining)(nil)
)
