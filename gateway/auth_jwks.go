package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
)

// jwksMethods are the signature algorithms accepted in jwks mode: what
// identity providers sign with. Symmetric algorithms are excluded so that a
// public key can never be used as an HMAC secret, and "none" never verifies.
var jwksMethods = []string{"RS256", "ES256", "EdDSA"}

// KeySet verifies player tokens issued by an identity provider (auth.mode
// jwks) against the provider's published key set. The set is fetched at
// start, fetched again every auth.jwks_refresh_interval (so withdrawn keys
// stop working) and when a token names a key id the cache lacks (so a
// rotated-in key works at once), at most once per
// auth.jwks_min_refresh_interval (so forged key ids cannot make matchd
// hammer the provider). Fetching and parsing key sets is left to
// MicahParks/keyfunc and jwkset; verifying tokens to golang-jwt.
type KeySet struct {
	kf     keyfunc.Keyfunc
	parser *jwt.Parser
	claim  string
	log    *slog.Logger
	cancel context.CancelFunc
}

// ErrKeySetUnavailable is returned by NewKeySet when the first fetch of the
// key set fails: a node that cannot verify any token should not start.
var ErrKeySetUnavailable = errors.New("gateway: the jwks key set cannot be fetched")

// NewKeySet fetches the key set at a.JWKSURL and keeps it fresh until Close
// or until ctx ends.
func NewKeySet(ctx context.Context, a config.Auth, log *slog.Logger) (*KeySet, error) {
	ctx, cancel := context.WithCancel(ctx)
	store, err := jwkset.NewStorageFromHTTP(a.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:          &http.Client{},
		Ctx:             ctx,
		HTTPTimeout:     a.JWKSTimeout,
		RefreshInterval: a.JWKSRefreshInterval,
		RefreshErrorHandler: func(_ context.Context, err error) {
			log.Warn("jwks: key set refresh failed; the keys fetched before stay in use", "url", a.JWKSURL, "err", err)
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w from auth.jwks_url %s: %w", ErrKeySetUnavailable, a.JWKSURL, err)
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{a.JWKSURL: store},
		// An unknown kid refreshes at most once per interval; a handshake
		// waits for that refresh (or a slot for it) at most JWKSTimeout.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(a.JWKSMinRefreshInterval), 1),
		RateLimitWaitMax:  a.JWKSTimeout,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
	}
	kf, err := keyfunc.New(keyfunc.Options{
		Ctx:     ctx,
		Storage: client,
		// Keys marked for encryption do not verify signatures; keys with no
		// "use" are accepted, as most providers omit it.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(jwksMethods), jwt.WithExpirationRequired()}
	if a.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(a.Issuer))
	}
	if a.Audience != "" {
		opts = append(opts, jwt.WithAudience(a.Audience))
	}
	return &KeySet{kf: kf, parser: jwt.NewParser(opts...), claim: a.PlayerClaim, log: log, cancel: cancel}, nil
}

// Close stops the scheduled refresh.
func (k *KeySet) Close() { k.cancel() }

// Keys reports how many keys the cached set holds, for the start-up log.
func (k *KeySet) Keys(ctx context.Context) int {
	all, err := k.kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return 0
	}
	return len(all)
}

// authenticate verifies the request's token and returns the player it
// names. Every refusal is errUnauthorized with a sentence for the player;
// the reason (expired, wrong audience, unknown key, ...) goes to the debug
// log without the token.
func (k *KeySet) authenticate(r *http.Request) (actors.PlayerInfo, error) {
	tok := bearerToken(r)
	if tok == "" {
		return actors.PlayerInfo{}, unauthorized("a player token is required")
	}
	claims := jwt.MapClaims{}
	if _, err := k.parser.ParseWithClaims(tok, claims, k.kf.KeyfuncCtx(r.Context())); err != nil {
		k.log.Debug("jwks: token refused", "reason", err.Error())
		return actors.PlayerInfo{}, unauthorized("the player token is invalid or expired")
	}
	id, _ := claims[k.claim].(string)
	p := actors.PlayerInfo{ID: id, Rating: defaultRating}
	if !idPattern.MatchString(id) {
		return p, unauthorized(fmt.Sprintf("the token's %s claim is not a valid player id", k.claim))
	}
	if v, ok := claims["device_id"]; ok {
		d, isStr := v.(string)
		if !isStr || (d != "" && !idPattern.MatchString(d)) {
			return p, unauthorized("the token's device_id is not valid")
		}
		p.Device = d
	}
	if v, ok := claims["rating"]; ok {
		f, isNum := v.(float64)
		if !isNum || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxAbsRating {
			return p, unauthorized("the token's rating is not valid")
		}
		p.Rating = f
	}
	return p, nil
}
