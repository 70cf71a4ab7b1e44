package e2e

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// idpKey is one signing key of the test identity provider.
type idpKey struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
}

func newIDPKey(t *testing.T, kid, alg string) idpKey {
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
	default:
		t.Fatalf("no such algorithm %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return idpKey{kid: kid, method: jwt.GetSigningMethod(alg), key: key}
}

// jwk is the key's public half as a JSON Web Key (RFC 7517/7518/8037),
// written out by hand so the test does not share matchd's key-set library.
func (k idpKey) jwk(t *testing.T) map[string]any {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": k.kid, "alg": k.method.Alg(), "use": "sig"}
	switch pub := k.key.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		pt, err := pub.Bytes() // 0x04 || X || Y
		if err != nil {
			t.Fatal(err)
		}
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64(pt[1:33]), b64(pt[33:65])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(pub)
	}
	return m
}

// sign makes a token for player with the provider's usual claims; mutate
// may change them.
func (k idpKey) sign(t *testing.T, player string, exp time.Time, mutate func(jwt.MapClaims)) string {
	t.Helper()
	c := jwt.MapClaims{"sub": player, "iss": testIssuer, "aud": []string{"web", testAudience}, "exp": exp.Unix(),
		"iat": time.Now().Unix(), "rating": 1500}
	if mutate != nil {
		mutate(c)
	}
	tok := jwt.NewWithClaims(k.method, c)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	testIssuer   = "https://idp.matchd.test/"
	testAudience = "matchd-game"
)

// keyServer is the identity provider's key-set endpoint, on loopback.
type keyServer struct {
	url     string
	mu      sync.Mutex
	set     []byte
	fetches atomic.Int64
}

func startKeyServer(t *testing.T, keys ...idpKey) *keyServer {
	t.Helper()
	ks := &keyServer{}
	ks.publish(t, keys...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		body := ks.set
		ks.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	ks.url = srv.URL + "/.well-known/jwks.json"
	return ks
}

// publish replaces the served key set with keys.
func (ks *keyServer) publish(t *testing.T, keys ...idpKey) {
	t.Helper()
	set := map[string]any{"keys": []any{}}
	for _, k := range keys {
		set["keys"] = append(set["keys"].([]any), k.jwk(t))
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	ks.mu.Lock()
	ks.set = b
	ks.mu.Unlock()
}

// dialToken opens a session with tok in the Authorization header.
func dialToken(t *testing.T, n *Node, tok string) (*Client, error) {
	return DialWith(t, n, "", DialOptions{}, websocket.DialOptions{HTTPHeader: bearer(tok)})
}

// TestJWKSAuth: auth.mode jwks against a local identity provider that
// rotates its key mid-test. Tokens signed with a published key (RS256,
// ES256, EdDSA) are accepted; expired, wrong-issuer, wrong-audience,
// unknown-key and alg-none tokens get 401. After the provider starts
// signing with a new key, new tokens are accepted within one refresh; old
// tokens keep working until their own expiry while the old key is still
// published, and stop once the provider withdraws it.
func TestJWKSAuth(t *testing.T) {
	t.Parallel()
	const refresh = time.Second
	k1, k2 := newIDPKey(t, "k1-rsa", "RS256"), newIDPKey(t, "k2-ec", "ES256")
	ks := startKeyServer(t, k1, k2)
	n := StartNode(t, NodeOptions{Set: map[string]any{
		"auth.mode": "jwks", "auth.jwks_url": ks.url, "auth.issuer": testIssuer, "auth.audience": testAudience,
		"auth.jwks_refresh_interval": refresh, "auth.jwks_min_refresh_interval": refresh, "auth.jwks_timeout": "5s",
	}})
	hour := time.Now().Add(time.Hour)

	// Accepted: each published key, in the header or the query.
	for _, tc := range []struct {
		player string
		key    idpKey
		query  bool
	}{{"jw-rsa", k1, false}, {"jw-ec", k2, true}} {
		tok := tc.key.sign(t, tc.player, hour, nil)
		var c *Client
		var err error
		if tc.query {
			c, err = DialErr(t, n, "", DialOptions{RawQuery: "token=" + tok})
		} else {
			c, err = dialToken(t, n, tok)
		}
		if err != nil {
			t.Fatalf("%s token (%s): %v", tc.key.method.Alg(), tc.player, err)
		}
		if got := c.Welcome.Str("player_id"); got != tc.player {
			t.Errorf("welcome player_id %q, want %q (from sub)", got, tc.player)
		}
		c.Close()
	}

	// Refused with 401 before any upgrade.
	stranger := newIDPKey(t, "stranger", "RS256")
	for name, tok := range map[string]string{
		"expired":        k1.sign(t, "jw-x", time.Now().Add(-time.Minute), nil),
		"wrong issuer":   k1.sign(t, "jw-x", hour, func(c jwt.MapClaims) { c["iss"] = "https://evil.test/" }),
		"wrong audience": k1.sign(t, "jw-x", hour, func(c jwt.MapClaims) { c["aud"] = "another-game" }),
		"unknown key":    stranger.sign(t, "jw-x", hour, nil),
		"alg none": jwtUnsigned(`{"alg":"none","typ":"JWT","kid":"k1-rsa"}`,
			map[string]any{"sub": "jw-x", "iss": testIssuer, "aud": testAudience, "exp": hour.Unix()}, ""),
		"HS256 with a published kid": func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "jw-x", "iss": testIssuer, "aud": testAudience, "exp": hour.Unix()})
			tok.Header["kid"] = "k1-rsa"
			s, _ := tok.SignedString([]byte("k1-rsa"))
			return s
		}(),
	} {
		handshakeRefused(t, n, name, "", bearer(tok))
	}

	// Rotation: the provider publishes k3 beside k1 and signs with k3 from
	// now on. Old tokens were issued before, one of them short-lived.
	k3 := newIDPKey(t, "k3-ed", "EdDSA")
	oldShortExp := time.Now().Add(12 * time.Second).Truncate(time.Second)
	oldShort := k1.sign(t, "jw-old-short", oldShortExp, nil)
	oldLong := k1.sign(t, "jw-old-long", hour, nil)
	rotatedAt := ks.fetches.Load()
	ks.publish(t, k1, k3)
	newTok := k3.sign(t, "jw-new", hour, nil)
	eventually(t, refresh+10*time.Second, "a token of the new key accepted within one refresh", func() error {
		c, err := dialToken(t, n, newTok)
		if err != nil {
			return err
		}
		defer c.Close()
		if got := c.Welcome.Str("player_id"); got != "jw-new" {
			return fmt.Errorf("welcome player_id %q", got)
		}
		return nil
	})
	if ks.fetches.Load() <= rotatedAt {
		t.Errorf("the new key was accepted without a fetch of the key set")
	}

	// Old tokens: valid until their own expiry while k1 is published.
	c, err := dialToken(t, n, oldShort)
	if time.Now().Before(oldShortExp) {
		if err != nil {
			t.Fatalf("old short-lived token before its expiry (%s left): %v", time.Until(oldShortExp), err)
		}
		c.Close()
	}
	var refusedAt time.Time
	eventually(t, time.Until(oldShortExp)+15*time.Second, "the old short-lived token refused after its expiry", func() error {
		c, err := dialToken(t, n, oldShort)
		if err == nil {
			c.Close()
			return fmt.Errorf("still accepted (expiry in %s)", time.Until(oldShortExp).Round(time.Millisecond))
		}
		refusedAt = time.Now()
		return nil
	})
	// exp has one-second resolution: a refusal within the last second of a
	// token's life is the token's expiry, not an early rejection.
	if refusedAt.Before(oldShortExp.Add(-time.Second)) {
		t.Errorf("the old token was refused at %s, before its expiry %s", refusedAt.Format(time.TimeOnly), oldShortExp.Format(time.TimeOnly))
	}
	handshakeRefused(t, n, "old short-lived token after its expiry", "", bearer(oldShort))
	c, err = dialToken(t, n, oldLong)
	if err != nil {
		t.Fatalf("old long-lived token while k1 is still published: %v", err)
	}
	c.Close()

	// The provider withdraws k1: within one scheduled refresh, even
	// unexpired k1 tokens are refused; k3 tokens still work.
	ks.publish(t, k3)
	eventually(t, refresh+10*time.Second, "the withdrawn key's token refused", func() error {
		c, err := dialToken(t, n, oldLong)
		if err == nil {
			c.Close()
			return fmt.Errorf("still accepted")
		}
		return nil
	})
	handshakeRefused(t, n, "token of the withdrawn key", "", bearer(oldLong))
	c, err = dialToken(t, n, k3.sign(t, "jw-new-2", hour, nil))
	if err != nil {
		t.Fatalf("new key after the old one was withdrawn: %v", err)
	}
	c.Close()
}

// TestJWKSKeySetUnreachable: a node whose key set cannot be fetched does
// not start, and says which key points at it.
func TestJWKSKeySetUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	out := refusedStart(t, fmt.Sprintf("admin: {addr: '127.0.0.1:0'}\nauth: {mode: jwks, jwks_url: '%s/jwks.json', jwks_timeout: 3s}\n", srv.URL))
	for _, w := range []string{"auth.jwks_url", "cannot be fetched"} {
		if !strings.Contains(out, w) {
			t.Errorf("the message does not say %q:\n%s", w, out)
		}
	}
}
