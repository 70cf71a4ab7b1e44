package gateway

import (
	"errors"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
)

// idPattern is the charset of player and device ids (docs/protocol.md section 2.2).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// Handshake failures, mapped to HTTP statuses by the handler.
var (
	errBadIdentity   = errors.New("gateway: bad identity")
	errUnauthorized  = errors.New("gateway: unauthorized")
	defaultRating    = 1000.0
	maxAbsRating     = 1e7
	errRatingInvalid = errors.New("rating must be a finite number")
)

type authError struct {
	kind error
	msg  string
}

func (e *authError) Error() string { return e.msg }
func (e *authError) Unwrap() error { return e.kind }

func badIdentity(msg string) error { return &authError{kind: errBadIdentity, msg: msg} }

func unauthorized(msg string) error { return &authError{kind: errUnauthorized, msg: msg} }

func parseRating(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxAbsRating {
		return 0, errRatingInvalid
	}
	return v, nil
}

// authenticate establishes who is connecting, as auth.mode says.
func authenticate(r *http.Request, cfg *config.Config) (actors.PlayerInfo, error) {
	if cfg.Auth.Mode == "hmac" {
		return authHMAC(r, cfg.Auth.HMACSecret)
	}
	q := r.URL.Query()
	p := actors.PlayerInfo{ID: q.Get("player_id"), Rating: defaultRating, Device: q.Get("device_id")}
	if !idPattern.MatchString(p.ID) {
		return p, badIdentity("player_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
	}
	if p.Device != "" && !idPattern.MatchString(p.Device) {
		return p, badIdentity("device_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
	}
	if s := q.Get("rating"); s != "" {
		v, err := parseRating(s)
		if err != nil {
			return p, badIdentity("rating must be a finite number")
		}
		p.Rating = v
	}
	return p, nil
}

// bearerToken returns the request's player token: the Authorization
// Bearer header, else the token query parameter (browsers cannot set
// headers on a WebSocket handshake).
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return h[7:]
	}
	return r.URL.Query().Get("token")
}

// identify establishes who is connecting: jwks mode through the server's
// key set, the other modes through authenticate.
func (s *Server) identify(r *http.Request, cfg *config.Config) (actors.PlayerInfo, error) {
	if cfg.Auth.Mode != "jwks" {
		return authenticate(r, cfg)
	}
	if s.keys == nil {
		// cmd/matchd always sets one in jwks mode; refuse rather than guess.
		return actors.PlayerInfo{}, unauthorized("player tokens are not configured")
	}
	return s.keys.authenticate(r)
}

// playerClaims are the claims of a player token.
type playerClaims struct {
	Rating   *float64 `json:"rating,omitempty"`
	DeviceID string   `json:"device_id,omitempty"`
	jwt.RegisteredClaims
}

func authHMAC(r *http.Request, secret string) (actors.PlayerInfo, error) {
	if secret == "" {
		// Validation forbids it; refuse rather than verify with an empty key.
		return actors.PlayerInfo{}, unauthorized("player tokens are not configured")
	}
	tok := bearerToken(r)
	if tok == "" {
		return actors.PlayerInfo{}, unauthorized("a player token is required")
	}
	var c playerClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		return actors.PlayerInfo{}, unauthorized("the player token is invalid or expired")
	}
	p := actors.PlayerInfo{ID: c.Subject, Rating: defaultRating, Device: c.DeviceID}
	if !idPattern.MatchString(p.ID) {
		return p, unauthorized("the token's subject is not a valid player id")
	}
	if p.Device != "" && !idPattern.MatchString(p.Device) {
		return p, unauthorized("the token's device_id is not valid")
	}
	if c.Rating != nil {
		if math.IsNaN(*c.Rating) || math.IsInf(*c.Rating, 0) || math.Abs(*c.Rating) > maxAbsRating {
			return p, unauthorized("the token's rating is not valid")
		}
		p.Rating = *c.Rating
	}
	return p, nil
}
