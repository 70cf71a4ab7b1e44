package gateway

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
)

// signer is one key of a test identity provider.
type signer struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
	use    jwkset.USE
}

func newSigner(t testing.TB, kid, alg string) signer {
	t.Helper()
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil || key == nil {
		t.Fatalf("generate %s key: %v", alg, err)
	}
	return signer{kid: kid, method: jwt.GetSigningMethod(alg), key: key}
}

// token signs claims with s, naming s.kid in the header.
func (s signer) token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, claims)
	tok.Header["kid"] = s.kid
	str, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return str
}

// keyServer is a test identity provider's key-set endpoint; it counts
// fetches so tests can see refreshes.
type keyServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []signer
	status  int
	fetches atomic.Int32
}

func newKeyServer(t testing.TB, keys ...signer) *keyServer {
	t.Helper()
	ks := &keyServer{keys: keys, status: http.StatusOK}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		if ks.status != http.StatusOK {
			w.WriteHeader(ks.status)
			return
		}
		var set jwkset.JWKSMarshal
		for _, k := range ks.keys {
			use := k.use
			if use == "" {
				use = jwkset.UseSig
			}
			j, err := jwkset.NewJWKFromKey(k.key.Public(), jwkset.JWKOptions{
				Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.ALG(k.method.Alg()), USE: use}})
			if err != nil {
				t.Errorf("jwk: %v", err)
				return
			}
			set.Keys = append(set.Keys, j.Marshal())
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) set(keys ...signer) {
	ks.mu.Lock()
	ks.keys = keys
	ks.mu.Unlock()
}

func jwksAuth(url string) config.Auth {
	a := config.Default().Auth
	a.Mode, a.JWKSURL, a.Issuer, a.Audience = "jwks", url, "https://idp.test/", "matchd"
	return a
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestKeySet(t testing.TB, a config.Auth) *KeySet {
	t.Helper()
	ks, err := NewKeySet(context.Background(), a, quietLog())
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	t.Cleanup(ks.Close)
	return ks
}

func validClaims(sub string) jwt.MapClaims {
	return jwt.MapClaims{"sub": sub, "iss": "https://idp.test/", "aud": "matchd", "exp": future()}
}

func authJWKS(ks *KeySet, tok string, how func(string) func(*http.Request)) (actors.PlayerInfo, error) {
	r := wsRequest(nil)
	how(tok)(r)
	return ks.authenticate(r)
}

func TestJWKSAccepts(t *testing.T) {
	rs, es, ed := newSigner(t, "rs", "RS256"), newSigner(t, "es", "ES256"), newSigner(t, "ed", "EdDSA")
	srv := newKeyServer(t, rs, es, ed)
	ks := newTestKeySet(t, jwksAuth(srv.URL))
	withAud := func(aud any) jwt.MapClaims { c := validClaims("p-aud"); c["aud"] = aud; return c }
	tests := []struct {
		name string
		tok  string
		how  func(string) func(*http.Request)
		want actors.PlayerInfo
	}{
		{"RS256 in the header", rs.token(t, validClaims("p-rs")), bearer, actors.PlayerInfo{ID: "p-rs", Rating: defaultRating}},
		{"ES256 in the query", es.token(t, validClaims("p-es")), queryToken, actors.PlayerInfo{ID: "p-es", Rating: defaultRating}},
		{"EdDSA", ed.token(t, validClaims("p-ed")), bearer, actors.PlayerInfo{ID: "p-ed", Rating: defaultRating}},
		{"audience among several", rs.token(t, withAud([]string{"web", "matchd"})), bearer, actors.PlayerInfo{ID: "p-aud", Rating: defaultRating}},
		{"rating and device", rs.token(t, func() jwt.MapClaims {
			c := validClaims("p-rd")
			c["rating"], c["device_id"] = 1234.5, "dev-1"
			return c
		}()), bearer, actors.PlayerInfo{ID: "p-rd", Rating: 1234.5, Device: "dev-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := authJWKS(ks, tt.tok, tt.how)
			if err != nil {
				t.Fatalf("authenticate() error = %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("authenticate() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestJWKSRefuses(t *testing.T) {
	rs, es := newSigner(t, "rs", "RS256"), newSigner(t, "es", "ES256")
	enc := newSigner(t, "enc", "RS256")
	enc.use = jwkset.UseEnc
	srv := newKeyServer(t, rs, es, enc)
	ks := newTestKeySet(t, jwksAuth(srv.URL))
	with := func(k string, v any) jwt.MapClaims { c := validClaims("p1"); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := validClaims("p1"); delete(c, k); return c }
	stranger := newSigner(t, "stranger", "RS256")
	impostor := newSigner(t, "rs", "RS256") // claims the kid of a published key
	pubDER, err := x509.MarshalPKIXPublicKey(rs.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	hsWithPublicKey := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims("p1"))
		tok.Header["kid"] = "rs"
		s, err := tok.SignedString(pubDER)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()
	tests := map[string]string{
		"no token":                  "",
		"expired":                   rs.token(t, with("exp", time.Now().Add(-time.Minute).Unix())),
		"no exp":                    rs.token(t, without("exp")),
		"not yet valid":             rs.token(t, with("nbf", time.Now().Add(time.Hour).Unix())),
		"wrong issuer":              rs.token(t, with("iss", "https://evil.test/")),
		"no issuer":                 rs.token(t, without("iss")),
		"wrong audience":            rs.token(t, with("aud", "another-app")),
		"no audience":               rs.token(t, without("aud")),
		"unknown key":               stranger.token(t, validClaims("p1")),
		"known kid, other key":      impostor.token(t, validClaims("p1")),
		"alg none":                  unsigned(t, map[string]any{"alg": "none", "kid": "rs"}, validClaims("p1")),
		"HS256 with the public key": hsWithPublicKey,
		"encryption key":            enc.token(t, validClaims("p1")),
		"no player id":              rs.token(t, without("sub")),
		"player id not a string":    rs.token(t, with("sub", 42)),
		"player id bad charset":     rs.token(t, with("sub", "auth0|abc")),
		"rating a string":           rs.token(t, with("rating", "high")),
		"device_id bad":             rs.token(t, with("device_id", "a b")),
		"garbage":                   "not.a.token",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := authJWKS(ks, tok, bearer)
			if err == nil {
				t.Fatalf("authenticate() = %+v, nil; want an error", got)
			}
			var ae *authError
			if !errors.Is(err, errUnauthorized) || !errors.As(err, &ae) || ae.msg == "" {
				t.Errorf("authenticate() error = %v, want errUnauthorized with a sentence", err)
			}
		})
	}
}

func TestJWKSPlayerClaim(t *testing.T) {
	rs := newSigner(t, "rs", "RS256")
	srv := newKeyServer(t, rs)
	a := jwksAuth(srv.URL)
	a.PlayerClaim, a.Issuer, a.Audience = "uid", "", ""
	ks := newTestKeySet(t, a)
	got, err := authJWKS(ks, rs.token(t, jwt.MapClaims{"sub": "ignored", "uid": "player-7", "exp": future()}), bearer)
	if err != nil || got.ID != "player-7" {
		t.Errorf("authenticate() = %+v, %v; want player-7 from the uid claim", got, err)
	}
	// Without issuer and audience configured, any iss and aud pass.
	got, err = authJWKS(ks, rs.token(t, jwt.MapClaims{"uid": "p8", "iss": "x", "aud": "y", "exp": future()}), bearer)
	if err != nil || got.ID != "p8" {
		t.Errorf("authenticate() = %+v, %v; want p8", got, err)
	}
	if _, err := authJWKS(ks, rs.token(t, jwt.MapClaims{"sub": "p9", "exp": future()}), bearer); !errors.Is(err, errUnauthorized) {
		t.Errorf("token without the uid claim: error = %v, want errUnauthorized", err)
	}
}

// TestJWKSRotation: a key published after start is fetched when a token
// names it, at most once per jwks_min_refresh_interval, and a withdrawn key
// stops working after a scheduled refresh.
func TestJWKSRotation(t *testing.T) {
	k1, k2, k3 := newSigner(t, "k1", "RS256"), newSigner(t, "k2", "ES256"), newSigner(t, "k3", "EdDSA")
	srv := newKeyServer(t, k1)
	a := jwksAuth(srv.URL)
	a.JWKSRefreshInterval = time.Hour
	a.JWKSMinRefreshInterval = time.Hour
	a.JWKSTimeout = 2 * time.Second
	ks := newTestKeySet(t, a)
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches at start, want 1", n)
	}
	old := k1.token(t, validClaims("p-old"))
	if _, err := authJWKS(ks, old, bearer); err != nil {
		t.Fatalf("k1 token before rotation: %v", err)
	}

	// The provider starts signing with k2: the first k2 token refreshes.
	srv.set(k1, k2)
	if got, err := authJWKS(ks, k2.token(t, validClaims("p-new")), bearer); err != nil || got.ID != "p-new" {
		t.Fatalf("k2 token after rotation = %+v, %v; want accepted", got, err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after the unknown kid, want 2", n)
	}
	if _, err := authJWKS(ks, old, bearer); err != nil {
		t.Errorf("k1 token still published: %v", err)
	}

	// Another new kid within the interval: no fetch, refused at once.
	srv.set(k1, k2, k3)
	if _, err := authJWKS(ks, k3.token(t, validClaims("p3")), bearer); !errors.Is(err, errUnauthorized) {
		t.Errorf("k3 within the rate limit: error = %v, want errUnauthorized", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after a rate-limited unknown kid, want still 2", n)
	}
}

// TestJWKSScheduledRefresh: withdrawn keys stop verifying after the next
// scheduled refresh, and a failed refresh keeps the keys in use.
func TestJWKSScheduledRefresh(t *testing.T) {
	k1, k2 := newSigner(t, "k1", "RS256"), newSigner(t, "k2", "RS256")
	srv := newKeyServer(t, k1, k2)
	a := jwksAuth(srv.URL)
	a.JWKSRefreshInterval = 50 * time.Millisecond
	a.JWKSMinRefreshInterval = time.Hour
	ks := newTestKeySet(t, a)
	tok1, tok2 := k1.token(t, validClaims("p1")), k2.token(t, validClaims("p2"))

	srv.mu.Lock()
	srv.status = http.StatusInternalServerError
	srv.mu.Unlock()
	start := srv.fetches.Load()
	waitFor(t, "two failed refreshes", func() bool { return srv.fetches.Load() >= start+2 })
	if _, err := authJWKS(ks, tok1, bearer); err != nil {
		t.Errorf("after failed refreshes, k1 token: %v; want the cached keys still in use", err)
	}

	srv.mu.Lock()
	srv.status = http.StatusOK
	srv.mu.Unlock()
	srv.set(k2)
	waitFor(t, "k1 refused after a refresh", func() bool {
		_, err := authJWKS(ks, tok1, bearer)
		return err != nil
	})
	if _, err := authJWKS(ks, tok2, bearer); err != nil {
		t.Errorf("k2 token after k1 was withdrawn: %v", err)
	}
}

func TestNewKeySetFails(t *testing.T) {
	srv := newKeyServer(t)
	srv.status = http.StatusNotFound
	for name, url := range map[string]string{
		"404":          srv.URL,
		"unreachable":  "http://127.0.0.1:1/jwks",
		"not key json": newHTMLServer(t),
	} {
		t.Run(name, func(t *testing.T) {
			a := jwksAuth(url)
			a.JWKSTimeout = 2 * time.Second
			ks, err := NewKeySet(context.Background(), a, quietLog())
			if err == nil {
				ks.Close()
				t.Fatal("NewKeySet succeeded, want an error")
			}
			if !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), "auth.jwks_url") {
				t.Errorf("error %v, want ErrKeySetUnavailable naming auth.jwks_url", err)
			}
		})
	}
}

func newHTMLServer(t *testing.T) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<html>login</html>")
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// TestServerJWKSWithoutKeySet: jwks mode without a key set refuses rather
// than letting anyone in.
func TestServerJWKSWithoutKeySet(t *testing.T) {
	s := &Server{}
	cfg := &config.Config{Auth: config.Auth{Mode: "jwks"}}
	if _, err := s.identify(wsRequest(nil), cfg); !errors.Is(err, errUnauthorized) {
		t.Errorf("identify() error = %v, want errUnauthorized", err)
	}
}
