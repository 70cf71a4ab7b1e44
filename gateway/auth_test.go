package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
)

const testSecret = "test-secret-0123456789abcdef"

// wsRequest builds a handshake request to /ws with the given query.
func wsRequest(query url.Values) *http.Request {
	return httptest.NewRequest(http.MethodGet, "/ws?"+query.Encode(), nil)
}

func insecureConfig() *config.Config {
	return &config.Config{Auth: config.Auth{Mode: "insecure"}}
}

func hmacConfig() *config.Config {
	return &config.Config{Auth: config.Auth{Mode: "hmac", HMACSecret: testSecret}}
}

func TestAuthenticateInsecure(t *testing.T) {
	id64 := strings.Repeat("a", 64)
	tests := []struct {
		name  string
		query url.Values
		want  actors.PlayerInfo
	}{
		{"player only", url.Values{"player_id": {"alice"}}, actors.PlayerInfo{ID: "alice", Rating: 1000}},
		{"full charset", url.Values{"player_id": {"Az09_.:-"}}, actors.PlayerInfo{ID: "Az09_.:-", Rating: 1000}},
		{"one char", url.Values{"player_id": {"x"}}, actors.PlayerInfo{ID: "x", Rating: 1000}},
		{"64 chars", url.Values{"player_id": {id64}}, actors.PlayerInfo{ID: id64, Rating: 1000}},
		{"empty rating is default", url.Values{"player_id": {"a"}, "rating": {""}}, actors.PlayerInfo{ID: "a", Rating: 1000}},
		{"integer rating", url.Values{"player_id": {"a"}, "rating": {"1500"}}, actors.PlayerInfo{ID: "a", Rating: 1500}},
		{"fractional rating", url.Values{"player_id": {"a"}, "rating": {"1234.5"}}, actors.PlayerInfo{ID: "a", Rating: 1234.5}},
		{"negative rating", url.Values{"player_id": {"a"}, "rating": {"-20"}}, actors.PlayerInfo{ID: "a", Rating: -20}},
		{"zero rating", url.Values{"player_id": {"a"}, "rating": {"0"}}, actors.PlayerInfo{ID: "a", Rating: 0}},
		{"exponent rating", url.Values{"player_id": {"a"}, "rating": {"1.2e3"}}, actors.PlayerInfo{ID: "a", Rating: 1200}},
		{"rating at bound", url.Values{"player_id": {"a"}, "rating": {"1e7"}}, actors.PlayerInfo{ID: "a", Rating: 1e7}},
		{"device", url.Values{"player_id": {"a"}, "device_id": {"dev-1:x"}}, actors.PlayerInfo{ID: "a", Rating: 1000, Device: "dev-1:x"}},
		{"empty device is none", url.Values{"player_id": {"a"}, "device_id": {""}}, actors.PlayerInfo{ID: "a", Rating: 1000}},
		{"unknown params ignored", url.Values{"player_id": {"a"}, "token": {"zzz"}, "x": {"y"}}, actors.PlayerInfo{ID: "a", Rating: 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := authenticate(wsRequest(tt.query), insecureConfig())
			if err != nil {
				t.Fatalf("authenticate(%s) error = %v, want nil", tt.query.Encode(), err)
			}
			if got != tt.want {
				t.Errorf("authenticate(%s) = %+v, want %+v", tt.query.Encode(), got, tt.want)
			}
		})
	}
}

func TestAuthenticateInsecureRefused(t *testing.T) {
	tests := []struct {
		name  string
		query url.Values
	}{
		{"no player_id", url.Values{}},
		{"empty player_id", url.Values{"player_id": {""}}},
		{"65 chars", url.Values{"player_id": {strings.Repeat("a", 65)}}},
		{"space", url.Values{"player_id": {"al ice"}}},
		{"slash", url.Values{"player_id": {"al/ice"}}},
		{"trailing newline", url.Values{"player_id": {"alice\n"}}},
		{"leading newline", url.Values{"player_id": {"\nalice"}}},
		{"nul", url.Values{"player_id": {"al\x00ice"}}},
		{"unicode letter", url.Values{"player_id": {"alicé"}}},
		{"unicode digit", url.Values{"player_id": {"١٢٣"}}},
		{"emoji", url.Values{"player_id": {"🎮"}}},
		{"star", url.Values{"player_id": {"*"}}},
		{"plus", url.Values{"player_id": {"a+b"}}},
		{"device space", url.Values{"player_id": {"a"}, "device_id": {"dev 1"}}},
		{"device slash", url.Values{"player_id": {"a"}, "device_id": {"dev/1"}}},
		{"device unicode", url.Values{"player_id": {"a"}, "device_id": {"dév"}}},
		{"device 65 chars", url.Values{"player_id": {"a"}, "device_id": {strings.Repeat("d", 65)}}},
		{"rating NaN", url.Values{"player_id": {"a"}, "rating": {"NaN"}}},
		{"rating nan", url.Values{"player_id": {"a"}, "rating": {"nan"}}},
		{"rating Inf", url.Values{"player_id": {"a"}, "rating": {"Inf"}}},
		{"rating +Inf", url.Values{"player_id": {"a"}, "rating": {"+Inf"}}},
		{"rating -Inf", url.Values{"player_id": {"a"}, "rating": {"-Inf"}}},
		{"rating infinity", url.Values{"player_id": {"a"}, "rating": {"infinity"}}},
		{"rating abc", url.Values{"player_id": {"a"}, "rating": {"abc"}}},
		{"rating 1e300", url.Values{"player_id": {"a"}, "rating": {"1e300"}}},
		{"rating -1e300", url.Values{"player_id": {"a"}, "rating": {"-1e300"}}},
		{"rating overflow", url.Values{"player_id": {"a"}, "rating": {"1e400"}}},
		{"rating just over bound", url.Values{"player_id": {"a"}, "rating": {"10000001"}}},
		{"rating with space", url.Values{"player_id": {"a"}, "rating": {" 1000"}}},
		{"rating with unit", url.Values{"player_id": {"a"}, "rating": {"1000pts"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := authenticate(wsRequest(tt.query), insecureConfig())
			if err == nil {
				t.Fatalf("authenticate(%s) = %+v, nil; want an error", tt.query.Encode(), got)
			}
			if !errors.Is(err, errBadIdentity) {
				t.Errorf("authenticate(%s) error = %v, want one wrapping errBadIdentity", tt.query.Encode(), err)
			}
			if errors.Is(err, errUnauthorized) {
				t.Errorf("authenticate(%s) error = %v wraps errUnauthorized, want only errBadIdentity", tt.query.Encode(), err)
			}
			if err.Error() == "" {
				t.Errorf("authenticate(%s) error message is empty, want a sentence", tt.query.Encode())
			}
		})
	}
}

// mint signs claims with method and key.
func mint(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("SignedString(%s) error = %v", method.Alg(), err)
	}
	return s
}

// unsigned builds "header.payload." with alg none by hand.
func unsigned(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "."
}

func future() int64 { return time.Now().Add(time.Hour).Unix() }

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func queryToken(tok string) func(*http.Request) {
	return func(r *http.Request) { r.URL.RawQuery = url.Values{"token": {tok}}.Encode() }
}

func TestAuthenticateHMAC(t *testing.T) {
	key := []byte(testSecret)
	valid := mint(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "alice", "exp": future()})
	full := mint(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "bob", "exp": future(), "rating": 1732.5, "device_id": "dev-9"})
	tests := []struct {
		name  string
		setup func(*http.Request)
		want  actors.PlayerInfo
	}{
		{"bearer header", bearer(valid), actors.PlayerInfo{ID: "alice", Rating: 1000}},
		{"token query", queryToken(valid), actors.PlayerInfo{ID: "alice", Rating: 1000}},
		{"rating and device claims", bearer(full), actors.PlayerInfo{ID: "bob", Rating: 1732.5, Device: "dev-9"}},
		{"rating and device claims via query", queryToken(full), actors.PlayerInfo{ID: "bob", Rating: 1732.5, Device: "dev-9"}},
		{"header wins over query", func(r *http.Request) {
			queryToken("garbage")(r)
			bearer(full)(r)
		}, actors.PlayerInfo{ID: "bob", Rating: 1732.5, Device: "dev-9"}},
		{"non-bearer header falls back to query", func(r *http.Request) {
			queryToken(valid)(r)
			r.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
		}, actors.PlayerInfo{ID: "alice", Rating: 1000}},
		{"integer rating claim", bearer(mint(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "c", "exp": future(), "rating": 900})),
			actors.PlayerInfo{ID: "c", Rating: 900}},
		{"zero rating claim", bearer(mint(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "c", "exp": future(), "rating": 0})),
			actors.PlayerInfo{ID: "c", Rating: 0}},
		{"null rating claim is default", bearer(mint(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "c", "exp": future(), "rating": nil})),
			actors.PlayerInfo{ID: "c", Rating: 1000}},
		{"insecure query params ignored", func(r *http.Request) {
			r.URL.RawQuery = url.Values{"player_id": {"mallory"}, "rating": {"9999"}, "device_id": {"x"}}.Encode()
			bearer(valid)(r)
		}, actors.PlayerInfo{ID: "alice", Rating: 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/ws", nil)
			tt.setup(r)
			got, err := authenticate(r, hmacConfig())
			if err != nil {
				t.Fatalf("authenticate() error = %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("authenticate() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAuthenticateHMACRefused(t *testing.T) {
	key := []byte(testSecret)
	hs := func(c jwt.MapClaims) string { return mint(t, jwt.SigningMethodHS256, key, c) }
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	valid := hs(jwt.MapClaims{"sub": "alice", "exp": future()})
	parts := strings.Split(valid, ".")
	// A token whose payload was changed after signing.
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":`+
		jsonNumber(future())+`}`)) + "." + parts[2]
	tests := []struct {
		name  string
		setup func(*http.Request)
	}{
		{"no token", func(*http.Request) {}},
		{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }},
		{"empty query token", queryToken("")},
		{"garbage", bearer("not-a-jwt")},
		{"two segments", bearer(parts[0] + "." + parts[1])},
		{"four segments", bearer(valid + ".x")},
		{"wrong secret", bearer(mint(t, jwt.SigningMethodHS256, []byte("other-secret"), jwt.MapClaims{"sub": "alice", "exp": future()}))},
		{"wrong secret via query", queryToken(mint(t, jwt.SigningMethodHS256, []byte("other-secret"), jwt.MapClaims{"sub": "alice", "exp": future()}))},
		{"signature stripped", bearer(parts[0] + "." + parts[1] + ".")},
		{"payload forged", bearer(forged)},
		{"expired", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()}))},
		{"expired via query", queryToken(hs(jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()}))},
		{"missing exp", bearer(hs(jwt.MapClaims{"sub": "alice"}))},
		{"exp as string", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": "tomorrow"}))},
		{"not yet valid", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "nbf": future()}))},
		{"alg none", bearer(unsigned(t, map[string]any{"alg": "none", "typ": "JWT"}, map[string]any{"sub": "alice", "exp": future()}))},
		{"alg None", bearer(unsigned(t, map[string]any{"alg": "None", "typ": "JWT"}, map[string]any{"sub": "alice", "exp": future()}))},
		{"alg none via library", bearer(mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "alice", "exp": future()}))},
		{"alg HS256 header with empty signature", bearer(unsigned(t, map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{"sub": "alice", "exp": future()}))},
		{"HS384", bearer(mint(t, jwt.SigningMethodHS384, key, jwt.MapClaims{"sub": "alice", "exp": future()}))},
		{"HS512", bearer(mint(t, jwt.SigningMethodHS512, key, jwt.MapClaims{"sub": "alice", "exp": future()}))},
		{"RS256", bearer(mint(t, jwt.SigningMethodRS256, rsaKey, jwt.MapClaims{"sub": "alice", "exp": future()}))},
		{"missing sub", bearer(hs(jwt.MapClaims{"exp": future()}))},
		{"empty sub", bearer(hs(jwt.MapClaims{"sub": "", "exp": future()}))},
		{"sub with space", bearer(hs(jwt.MapClaims{"sub": "al ice", "exp": future()}))},
		{"sub with slash", bearer(hs(jwt.MapClaims{"sub": "al/ice", "exp": future()}))},
		{"sub unicode", bearer(hs(jwt.MapClaims{"sub": "alicé", "exp": future()}))},
		{"sub 65 chars", bearer(hs(jwt.MapClaims{"sub": strings.Repeat("a", 65), "exp": future()}))},
		{"sub number", bearer(hs(jwt.MapClaims{"sub": 42, "exp": future()}))},
		{"device with space", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "device_id": "dev 1"}))},
		{"device 65 chars", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "device_id": strings.Repeat("d", 65)}))},
		{"device number", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "device_id": 7}))},
		{"rating string", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "rating": "1200"}))},
		{"rating 1e300", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "rating": 1e300}))},
		{"rating -1e300", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "rating": -1e300}))},
		{"rating just over bound", bearer(hs(jwt.MapClaims{"sub": "alice", "exp": future(), "rating": 1e7 + 1}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/ws", nil)
			tt.setup(r)
			got, err := authenticate(r, hmacConfig())
			if err == nil {
				t.Fatalf("authenticate() = %+v, nil; want an error", got)
			}
			if !errors.Is(err, errUnauthorized) {
				t.Errorf("authenticate() error = %v, want one wrapping errUnauthorized", err)
			}
			if errors.Is(err, errBadIdentity) {
				t.Errorf("authenticate() error = %v wraps errBadIdentity, want only errUnauthorized", err)
			}
		})
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// hs256Token signs payload by hand, without the jwt library.
func hs256Token(t testing.TB, secret, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// fuzzSecret signs the committed FuzzAuthHMAC seeds; testdata holds tokens
// minted with it (exp 4102444800, 2100-01-01).
const fuzzSecret = "fuzz-secret-matchd"

// verifiesHS256 is an oracle independent of the jwt library: the header
// says HS256 and the signature is the HMAC-SHA256 of the first two segments
// under secret.
func verifiesHS256(tok, secret string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	return hmac.Equal(sig, mac.Sum(nil))
}

func FuzzAuthHMAC(f *testing.F) {
	// More seeds, including valid tokens, live in testdata/fuzz/FuzzAuthHMAC.
	f.Add(hs256Token(f, fuzzSecret, `{"sub":"alice","exp":4102444800}`), false)
	f.Add(hs256Token(f, fuzzSecret, `{"sub":"bob","exp":4102444800,"rating":1500,"device_id":"d1"}`), true)
	f.Add(hs256Token(f, "wrong", `{"sub":"alice","exp":4102444800}`), false)
	f.Add("", false)
	f.Add("a.b.c", true)
	f.Fuzz(func(t *testing.T, tok string, viaQuery bool) {
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		if viaQuery {
			r.URL.RawQuery = url.Values{"token": {tok}}.Encode()
		} else {
			r.Header["Authorization"] = []string{"Bearer " + tok}
		}
		p, err := authHMAC(r, fuzzSecret)
		if err != nil {
			if !errors.Is(err, errUnauthorized) {
				t.Fatalf("authHMAC(%q) error = %v, want one wrapping errUnauthorized", tok, err)
			}
			return
		}
		if !verifiesHS256(tok, fuzzSecret) {
			t.Fatalf("authHMAC(%q) = %+v, nil; want a refusal: the token does not verify with the secret", tok, p)
		}
		if !idPattern.MatchString(p.ID) {
			t.Fatalf("authHMAC(%q).ID = %q, want a valid player id", tok, p.ID)
		}
		if p.Device != "" && !idPattern.MatchString(p.Device) {
			t.Fatalf("authHMAC(%q).Device = %q, want a valid device id", tok, p.Device)
		}
		if p.Rating != p.Rating || p.Rating > maxAbsRating || p.Rating < -maxAbsRating {
			t.Fatalf("authHMAC(%q).Rating = %v, want a finite rating within bounds", tok, p.Rating)
		}
	})
}
