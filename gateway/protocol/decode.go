package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DecodeError is a client frame that cannot be served; Code says which
// error the client gets and Rid echoes the request id when one was readable.
type DecodeError struct {
	Code    Code
	Rid     string
	Message string
}

// Error gives the code and the sentence the client is sent.
func (e *DecodeError) Error() string { return string(e.Code) + ": " + e.Message }

// MaxRidLen bounds a request id, in characters.
const MaxRidLen = 64

// maxFieldLen bounds mode, match_id, player_id and party_id in bytes, not in characters as
// MaxRidLen does.
const maxFieldLen = 128

// Decode parses one client frame and checks the fields its type requires.
// Unknown fields are ignored, as the contract says; a field of the wrong
// JSON type is BAD_REQUEST.
func Decode(b []byte) (ClientMessage, error) {
	// Well-formed client frames are flat objects of plain strings, which
	// scanFlatFrame reads without encoding/json's reflection and map; it
	// refuses anything whose meaning it would have to guess, and readFrame
	// then decides. Both only gather fields, so the rules in message are
	// the same for every frame.
	f, ok := scanFlatFrame(b)
	if !ok {
		var err error
		if f, err = readFrame(b); err != nil {
			return ClientMessage{}, err
		}
	}
	return f.message()
}

// fieldKind is the JSON type of a field as far as the rules care: the
// rules answer a missing, a null and a non-string field differently.
type fieldKind uint8

const (
	fieldAbsent fieldKind = iota
	fieldNull
	fieldString
	fieldBool
	fieldOther
)

// field is one of the keys a frame's meaning depends on.
type field struct {
	kind fieldKind
	s    string // the decoded string when kind is fieldString
	b    bool   // the value when kind is fieldBool
}

// frameFields holds what a frame says under the only keys Decode reads;
// any other key cannot change the outcome.
type frameFields struct {
	typ, rid, mode, matchID field
	// playerID and partyID name who or which party a party request is
	// about; open is a party_create's flag.
	playerID, partyID, open field
	// latencies is the raw value of an enqueue's latencies, nil when the
	// frame has none (scanFlatFrame leaves any frame with one to readFrame).
	latencies json.RawMessage
}

// readFrame takes any frame: whatever encoding/json accepts as a single
// object is read with its rules (escapes, invalid UTF-8 replaced, the last
// of duplicate keys wins), so it is the reference scanFlatFrame must agree
// with.
func readFrame(b []byte) (frameFields, error) {
	var raw map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&raw); err != nil || raw == nil {
		return frameFields{}, &DecodeError{Code: CodeBadRequest, Message: "frame is not a JSON object"}
	}
	if len(bytes.Trim(b[d.InputOffset():], " \t\r\n")) > 0 {
		return frameFields{}, &DecodeError{Code: CodeBadRequest, Message: "frame holds more than one JSON value"}
	}
	// One frameFields escapes to the heap for Unmarshal to write into,
	// rather than one string per field.
	var f frameFields
	rawField(raw, "type", &f.typ)
	rawField(raw, "rid", &f.rid)
	rawField(raw, "mode", &f.mode)
	rawField(raw, "match_id", &f.matchID)
	rawField(raw, "player_id", &f.playerID)
	rawField(raw, "party_id", &f.partyID)
	rawBool(raw, "open", &f.open)
	if v, ok := raw["latencies"]; ok && !bytes.Equal(v, []byte("null")) {
		f.latencies = v
	}
	return f, nil
}

func rawField(raw map[string]json.RawMessage, key string, dst *field) {
	v, ok := raw[key]
	switch {
	case !ok:
		dst.kind = fieldAbsent
	case bytes.Equal(v, []byte("null")):
		// Unmarshal accepts null into a string and leaves it empty, which
		// would make a null type look like an empty one.
		dst.kind = fieldNull
	case json.Unmarshal(v, &dst.s) != nil:
		dst.kind, dst.s = fieldOther, ""
	default:
		dst.kind = fieldString
	}
}

// rawBool is rawField for a field that should hold a JSON bool.
func rawBool(raw map[string]json.RawMessage, key string, dst *field) {
	v, ok := raw[key]
	switch {
	case !ok:
		dst.kind = fieldAbsent
	case bytes.Equal(v, []byte("null")):
		dst.kind = fieldNull
	case json.Unmarshal(v, &dst.b) != nil:
		dst.kind, dst.b = fieldOther, false
	default:
		dst.kind = fieldBool
	}
}

// message applies the contract's rules to a frame's fields. The order of
// the checks decides which error a frame with several faults gets, and
// whether its rid is echoed: an unreadable rid is never echoed.
func (f *frameFields) message() (ClientMessage, error) {
	var m ClientMessage
	switch f.rid.kind {
	case fieldOther:
		return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Message: "rid must be a string"}
	case fieldString:
		if utf8.RuneCountInString(f.rid.s) > MaxRidLen {
			return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Message: fmt.Sprintf("rid is longer than %d characters", MaxRidLen)}
		}
		m.Rid = f.rid.s
	}
	switch f.typ.kind {
	case fieldAbsent:
		return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: "type is required"}
	case fieldNull, fieldOther:
		return ClientMessage{}, &DecodeError{Code: CodeBadRequest, Rid: m.Rid, Message: "type must be a string"}
	}
	m.Type = f.typ.s
	var err error
	switch m.Type {
	case TypeEnqueue:
		m.Mode, err = f.mode.required("mode", m.Rid)
		if err == nil && f.latencies != nil {
			m.Latencies, err = decodeLatencies(f.latencies, m.Rid)
		}
	case TypeLoadingComplete:
		m.MatchID, err = f.matchID.required("match_id", m.Rid)
	case TypePartyInvite, TypePartyKick, TypePartyPromote:
		m.PlayerID, err = f.playerID.required("player_id", m.Rid)
	case TypePartyJoin:
		m.PartyID, err = f.partyID.required("party_id", m.Rid)
	case TypePartyCreate:
		m.Open, err = f.open.optionalBool("open", m.Rid)
	case TypeCancel, TypeSync, TypePing, TypePartyLeave:
	default:
		return ClientMessage{}, &DecodeError{Code: CodeUnknownType, Rid: m.Rid, Message: "unknown message type"}
	}
	if err != nil {
		return ClientMessage{}, err
	}
	return m, nil
}

// decodeLatencies reads an enqueue's latencies: an object of region name
// to round-trip ms, each a non-negative number. Whether the mode needs them
// (and names a region of its own) is the session's to judge.
func decodeLatencies(raw json.RawMessage, rid string) (map[string]float64, error) {
	var vals map[string]json.RawMessage
	if err := json.Unmarshal(raw, &vals); err != nil || vals == nil {
		return nil, &DecodeError{Code: CodeBadRequest, Rid: rid, Message: "latencies must be an object of region names to non-negative milliseconds"}
	}
	out := make(map[string]float64, len(vals))
	for name, v := range vals {
		var ms float64
		// Unmarshal into a float64 takes only JSON numbers (never null,
		// which it would leave as 0), and JSON has no NaN or infinity.
		if bytes.Equal(v, []byte("null")) || json.Unmarshal(v, &ms) != nil || ms < 0 {
			return nil, &DecodeError{Code: CodeBadRequest, Rid: rid, Message: "latencies must be an object of region names to non-negative milliseconds"}
		}
		out[name] = ms
	}
	return out, nil
}

// required checks a field the frame's type cannot do without; a null one
// counts as missing.
func (v field) required(name, rid string) (string, error) {
	switch {
	case v.kind == fieldAbsent || v.kind == fieldNull:
		return "", &DecodeError{Code: CodeBadRequest, Rid: rid, Message: name + " is required"}
	case v.kind == fieldOther:
		return "", &DecodeError{Code: CodeBadRequest, Rid: rid, Message: name + " must be a string"}
	case v.s == "":
		return "", &DecodeError{Code: CodeBadRequest, Rid: rid, Message: name + " must not be empty"}
	case len(v.s) > maxFieldLen:
		return "", &DecodeError{Code: CodeBadRequest, Rid: rid, Message: name + " is too long"}
	}
	return v.s, nil
}

// optionalBool reads a flag that defaults to false; null counts as
// missing, as it does for required fields.
func (v field) optionalBool(name, rid string) (bool, error) {
	switch v.kind {
	case fieldAbsent, fieldNull:
		return false, nil
	case fieldBool:
		return v.b, nil
	}
	return false, &DecodeError{Code: CodeBadRequest, Rid: rid, Message: name + " must be a boolean"}
}

// AsDecodeError unwraps err to a *DecodeError.
func AsDecodeError(err error) (*DecodeError, bool) {
	var de *DecodeError
	ok := errors.As(err, &de)
	return de, ok
}
