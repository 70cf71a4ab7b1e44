package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Error is a request the server refused: an error frame (docs/protocol.md
// section 4).
type Error struct {
	Code    protocol.Code
	Message string
	// RetryAfter says when to try again (RATE_LIMITED, UNAVAILABLE) or
	// when a ban lifts (BANNED); zero when the frame had none.
	RetryAfter time.Duration
	// State is the server's view of the session, sent with INVALID_STATE
	// so the client can resynchronise.
	State *protocol.State
	// IncidentID names the server log line with the detail (INTERNAL).
	IncidentID string
	// Rid is the request id the frame answered.
	Rid string
	// Players names the party members the refusal is about
	// (PARTY_NOT_READY, and BANNED of a party's enqueue).
	Players []string
}

func (e *Error) Error() string {
	s := "matchd: " + string(e.Code) + ": " + e.Message
	if e.IncidentID != "" {
		s += " (incident " + e.IncidentID + ")"
	}
	return s
}

// Retryable reports whether the same request may succeed later, after
// RetryAfter: the server was busy or rate limiting, not refusing it.
func (e *Error) Retryable() bool {
	return e.Code == protocol.CodeUnavailable || e.Code == protocol.CodeRateLimited
}

// Is lets errors.Is(err, &Error{Code: c}) match every refusal with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Rid == ""
}

// HandshakeError is a connection the server refused before the upgrade
// (docs/protocol.md section 2.3): its HTTP status and the body's code and
// message.
type HandshakeError struct {
	StatusCode int
	Code       protocol.Code
	Message    string
	// Body is the response body as received (at most 4 KiB).
	Body []byte
	// Header is the refusal's response header (Retry-After, for one).
	Header http.Header
}

func (e *HandshakeError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("matchd: handshake refused: HTTP %d", e.StatusCode)
	}
	return fmt.Sprintf("matchd: handshake refused: HTTP %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// Temporary reports whether another attempt (later, or on another node)
// may be let in: the node is draining, full or cannot reach Redis. A
// refused identity or token is not.
func (e *HandshakeError) Temporary() bool { return e.StatusCode >= 500 }

// Errors of requests the server did not answer, and of the client's end.
var (
	// ErrDisconnected: there is no connection, or it dropped before the
	// reply came; the request may or may not have been applied (Sync
	// tells).
	ErrDisconnected = errors.New("matchd: disconnected")
	// ErrClosed: Close was called.
	ErrClosed = errors.New("matchd: client closed")
	// ErrSessionReplaced: another connection took over this player (close
	// code 4001); the client does not reconnect.
	ErrSessionReplaced = errors.New("matchd: session replaced by another connection")
	// ErrNoWelcome: a connection's first frame was not a welcome.
	ErrNoWelcome = errors.New("matchd: the first frame was not a welcome")
	// ErrUnexpectedReply: a typed request was answered with a frame of
	// another type than the one it returns (a server that does not speak
	// this version of the protocol).
	ErrUnexpectedReply = errors.New("matchd: unexpected reply")
)
