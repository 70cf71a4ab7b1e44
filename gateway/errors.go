package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// errorTable maps internal sentinels to what a client is told. The client
// gets the code and a short sentence; the detail goes to the log only.
var errorTable = []struct {
	err     error
	code    protocol.Code
	message string
	status  int
}{
	{redisx.ErrUnavailable, protocol.CodeUnavailable, "Matchmaking is temporarily unavailable, please retry.", http.StatusServiceUnavailable},
	{errBadIdentity, protocol.CodeBadRequest, "", http.StatusBadRequest},
	{errUnauthorized, protocol.CodeUnauthorized, "", http.StatusUnauthorized},
}

// incidentID names one internal error in both the client's INTERNAL frame
// and the server's log line, so support can find the detail.
func incidentID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// classify maps err to its wire code, a client-safe message and an HTTP
// status. Unknown errors are INTERNAL and logged with an incident id.
func classify(log *slog.Logger, err error) (protocol.Code, string, int, string) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			msg := e.message
			if msg == "" {
				var ae *authError
				if errors.As(err, &ae) {
					msg = ae.msg
				}
			}
			return e.code, msg, e.status, ""
		}
	}
	id := incidentID()
	log.Error("internal error", "incident_id", id, "err", err)
	return protocol.CodeInternal, "Something went wrong on our side.", http.StatusInternalServerError, id
}

func writeHTTPError(w http.ResponseWriter, status int, code protocol.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(protocol.HTTPError{Code: code, Message: msg})
}
