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

// Decode parses one client frame and checks the fields its type requires.
// Unknown fields are ignored, as the contract says; a field of the wrong
// JSON type is BAD_REQUEST.
func Decode(b []byte) (ClientMessage, error) {
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
	case TypeLoadingComplete:
		if err := str("match_id", &m.MatchID); err != nil {
			return ClientMessage{}, err
		}
	case TypeCancel, TypeSync, TypePing:
	default:
		return ClientMessage{}, &DecodeError{Code: CodeUnknownType, Rid: m.Rid, Message: "unknown message type"}
	}
	return m, nil
}

// AsDecodeError unwraps err to a *DecodeError.
func AsDecodeError(err error) (*DecodeError, bool) {
	var de *DecodeError
	ok := errors.As(err, &de)
	return de, ok
}
