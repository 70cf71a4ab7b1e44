package gateway

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/gateway/protocol"
)

// classify maps err to its wire code, a client-safe message and an HTTP
// status. A refused identity carries its own sentence; everything else is
// answered through the one error table (actors.Classify), which logs an
// unknown error with an incident id and returns that id too.
func classify(log *slog.Logger, err error) (protocol.Code, string, int, string) {
	var ae *authError
	switch {
	case errors.Is(err, errBadIdentity) && errors.As(err, &ae):
		return protocol.CodeBadRequest, ae.msg, http.StatusBadRequest, ""
	case errors.Is(err, errUnauthorized) && errors.As(err, &ae):
		return protocol.CodeUnauthorized, ae.msg, http.StatusUnauthorized, ""
	case errors.Is(err, errBadIdentity):
		return protocol.CodeBadRequest, "Invalid identity.", http.StatusBadRequest, ""
	case errors.Is(err, errUnauthorized):
		return protocol.CodeUnauthorized, "Not authorized.", http.StatusUnauthorized, ""
	}
	return actors.Classify(log, err)
}

func writeHTTPError(w http.ResponseWriter, status int, code protocol.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(protocol.HTTPError{Code: code, Message: msg})
}
