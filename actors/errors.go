package actors

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// Errors an actor reports to the gateway.
var (
	// ErrNotStarted: the node's actors are not running (yet, or any more).
	ErrNotStarted = errors.New("actors: node not started")
	// ErrUnknownMode: a request named a mode that is not configured.
	ErrUnknownMode = errors.New("actors: unknown mode")
)

// errorTable is matchd's one error vocabulary: it maps internal errors to
// the docs/protocol.md section 4.1 code a client is told, the one short sentence
// that goes with it, and the HTTP status of a refused handshake. The
// gateway and the actors both answer through it, so a sentence is written
// once; detail goes to the log only.
var errorTable = []struct {
	err     error
	code    protocol.Code
	message string
	status  int
}{
	{redisx.ErrCircuitOpen, protocol.CodeUnavailable, "Matchmaking is temporarily unavailable, please retry.", http.StatusServiceUnavailable},
	{redisx.ErrUnavailable, protocol.CodeUnavailable, "Matchmaking is temporarily unavailable, please retry.", http.StatusServiceUnavailable},
	{context.DeadlineExceeded, protocol.CodeUnavailable, "Matchmaking is temporarily unavailable, please retry.", http.StatusServiceUnavailable},
	{ErrNotStarted, protocol.CodeUnavailable, "Matchmaking is temporarily unavailable, please retry.", http.StatusServiceUnavailable},
	{ErrUnknownMode, protocol.CodeUnknownMode, "No such game mode.", http.StatusBadRequest},
}

// codeMessages holds the sentence of each code that is not tied to one
// internal error.
var codeMessages = map[protocol.Code]string{
	protocol.CodeBanned:          "You are temporarily banned from matchmaking.",
	protocol.CodeRateLimited:     "Too many requests, slow down.",
	protocol.CodeInternal:        "Something went wrong on our side.",
	protocol.CodeSessionReplaced: "Another connection took over this player.",
}

// messageFor is the one sentence a client is told with code.
func messageFor(code protocol.Code) string {
	if m, ok := codeMessages[code]; ok {
		return m
	}
	for _, e := range errorTable {
		if e.code == code {
			return e.message
		}
	}
	return string(code)
}

// MessageFor is messageFor for the gateway.
func MessageFor(code protocol.Code) string { return messageFor(code) }

// Classify maps err to its wire code, the client's sentence and an HTTP
// status. An error the table does not know is a bug: INTERNAL, logged with
// an incident id that the client is given too.
func Classify(log *slog.Logger, err error) (code protocol.Code, message string, status int, incident string) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.code, e.message, e.status, ""
		}
	}
	incident = newID()[:16]
	log.Error("internal error", "incident_id", incident, "err", err)
	return protocol.CodeInternal, messageFor(protocol.CodeInternal), http.StatusInternalServerError, incident
}

// incident logs an internal error with a fresh incident id and returns the
// id, for the client's INTERNAL frame.
func (e *Env) incident(msg string, attrs ...any) string {
	id := newID()[:16]
	e.Log.Error(msg, append([]any{"incident_id", id}, attrs...)...)
	return id
}
