package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// goodToken is what `openssl rand -hex 32` prints.
const goodToken = "3f9c1e7a5b2d8046c1e9f7a3b5d2068e4c1a9f7e3b5d20c8a6e4f1b9d7c3a5e2"

// public makes c a node whose client listener is public without tripping
// the auth and embedded-Redis rules, so a case tests one rule only.
func public(c *Config) {
	c.Server.Addr = "0.0.0.0:8080"
	c.Auth.Mode, c.Auth.HMACSecret = "hmac", "0123456789abcdef"
	c.Redis.Mode, c.Redis.Addrs = "standalone", []string{"redis:6379"}
}

func TestSecureDefaultsReject(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantKey string
		wantMsg string // a fragment the message must hold
	}{
		{"public admin without token", func(c *Config) { c.Admin.Addr = "0.0.0.0:9090" }, "admin.token", "at least 32 bytes"},
		{"public admin on empty host", func(c *Config) { c.Admin.Addr = ":9090" }, "admin.token", "non-loopback admin.addr"},
		{"public admin on a LAN address", func(c *Config) { c.Admin.Addr = "10.0.0.5:9090" }, "admin.token", "openssl rand -hex 32"},
		{"public admin on a host name", func(c *Config) { c.Admin.Addr = "matchd-0.internal:9090" }, "admin.token", "non-loopback"},
		{"public admin with a short token", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "0123456789abcdef0123456789abcde"
		}, "admin.token", "got 31"},
		{"example placeholder on public admin", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "REPLACE-ME-with-openssl-rand-hex-32"
		}, "admin.token", "the example configuration's placeholder"},
		{"example placeholder on loopback too", func(c *Config) {
			c.Admin.Token = "REPLACE-ME-with-openssl-rand-hex-32"
		}, "admin.token", "placeholder"},
		{"changeme", func(c *Config) { c.Admin.Token = "changeme" }, "admin.token", `obvious value "changeme"`},
		{"Change_Me", func(c *Config) { c.Admin.Token = "Change_Me" }, "admin.token", `obvious value "changeme"`},
		{"placeholder mark inside", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "please-replace-me-"+goodToken
		}, "admin.token", `contains "replaceme"`},
		{"one character repeated", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", strings.Repeat("a", 40)
		}, "admin.token", "pattern"},
		{"a word repeated", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", strings.Repeat("hunter2!", 5)
		}, "admin.token", "8-byte pattern"},
		{"the alphabet", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
		}, "admin.token", "consecutive"},
		{"typed repetition", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "passwordpasswordpassword12345678"
		}, "admin.token", "repeats itself"},
		{"three symbols", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "amzazmamzmazamzmzazmamzazmzamazmzamzma"
		}, "admin.token", "bits of entropy"},

		{"embedded on a public client address", func(c *Config) {
			public(c)
			c.Redis.Mode, c.Redis.Addrs = "embedded", nil
		}, "redis.mode", "redis.allow_embedded_public"},

		{"metrics.addr not host:port", func(c *Config) { c.Metrics.Addr = "9100" }, "metrics.addr", "host:port"},
		{"metrics.addr same as admin.addr", func(c *Config) { c.Metrics.Addr = c.Admin.Addr }, "metrics.addr", "admin.addr"},
		{"metrics.addr same port as a wildcard server.addr", func(c *Config) {
			public(c)
			c.Metrics.Addr = "127.0.0.1:8080"
		}, "metrics.addr", "server.addr"},

		{"jwks without url", func(c *Config) { c.Auth.Mode = "jwks" }, "auth.jwks_url", "is required"},
		{"jwks url relative", func(c *Config) { c.Auth.Mode, c.Auth.JWKSURL = "jwks", "/keys" }, "auth.jwks_url", "absolute"},
		{"jwks url ftp", func(c *Config) { c.Auth.Mode, c.Auth.JWKSURL = "jwks", "ftp://idp/keys" }, "auth.jwks_url", "absolute"},
		{"jwks url plain http to a remote host", func(c *Config) {
			c.Auth.Mode, c.Auth.JWKSURL = "jwks", "http://idp.example.com/.well-known/jwks.json"
		}, "auth.jwks_url", "must use https"},
		{"jwks empty player claim", func(c *Config) {
			c.Auth.Mode, c.Auth.JWKSURL, c.Auth.PlayerClaim = "jwks", "https://idp/keys", ""
		}, "auth.player_claim", "player id"},
		{"jwks refresh interval", func(c *Config) {
			c.Auth.Mode, c.Auth.JWKSURL, c.Auth.JWKSRefreshInterval = "jwks", "https://idp/keys", 0
		}, "auth.jwks_refresh_interval", "> 0"},
		{"jwks min refresh interval", func(c *Config) {
			c.Auth.Mode, c.Auth.JWKSURL, c.Auth.JWKSMinRefreshInterval = "jwks", "https://idp/keys", -time.Second
		}, "auth.jwks_min_refresh_interval", "> 0"},
		{"jwks timeout", func(c *Config) {
			c.Auth.Mode, c.Auth.JWKSURL, c.Auth.JWKSTimeout = "jwks", "https://idp/keys", 0
		}, "auth.jwks_timeout", "> 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("got nil error, want one naming %s", tt.wantKey)
			}
			if !strings.Contains(err.Error(), "config: "+tt.wantKey+": ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got error %q, want it to name %q and say %q", err, tt.wantKey, tt.wantMsg)
			}
			if c.Admin.Token != "" && len(c.Admin.Token) > 8 && strings.Contains(err.Error(), c.Admin.Token) {
				t.Errorf("the error quotes the token: %q", err)
			}
		})
	}
}

func TestSecureDefaultsAccept(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"loopback admin without token", func(c *Config) {}},
		{"loopback admin with a short token", func(c *Config) { c.Admin.Token = "s3cret-token" }},
		{"localhost admin without token", func(c *Config) { c.Admin.Addr = "localhost:9090" }},
		{"ipv6 loopback admin without token", func(c *Config) { c.Admin.Addr = "[::1]:9090" }},
		{"public admin with openssl rand -hex 32", func(c *Config) { c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", goodToken }},
		{"public admin with openssl rand -hex 16", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "9b1f4c7e2a8d05f3c6e1b9a47d2f08e5"
		}},
		{"public admin with a passphrase", func(c *Config) {
			c.Admin.Addr, c.Admin.Token = "0.0.0.0:9090", "correct horse battery staple now"
		}},
		{"public metrics without token", func(c *Config) { public(c); c.Metrics.Addr = "0.0.0.0:9100" }},
		{"metrics on its own port", func(c *Config) { c.Metrics.Addr = "127.0.0.1:9100" }},
		{"port 0 everywhere", func(c *Config) {
			c.Server.Addr, c.Admin.Addr, c.Metrics.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		}},
		{"embedded public when allowed", func(c *Config) {
			public(c)
			c.Redis.Mode, c.Redis.Addrs, c.Redis.AllowEmbeddedPublic = "embedded", nil, true
		}},
		{"embedded on loopback", func(c *Config) { c.Redis.Mode = "embedded" }},
		{"jwks https", func(c *Config) { c.Auth.Mode, c.Auth.JWKSURL = "jwks", "https://idp.example.com/.well-known/jwks.json" }},
		{"jwks http on loopback", func(c *Config) { c.Auth.Mode, c.Auth.JWKSURL = "jwks", "http://127.0.0.1:8000/jwks" }},
		{"jwks public client", func(c *Config) {
			public(c)
			c.Auth.Mode, c.Auth.JWKSURL, c.Auth.Issuer, c.Auth.Audience = "jwks", "https://idp/keys", "https://idp/", "matchd"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

// TestRandomTokensPass: tokens generated the documented ways are never
// refused as weak, however the dice fall.
func TestRandomTokensPass(t *testing.T) {
	gens := map[string]func() string{
		"hex 16 bytes": func() string { b := make([]byte, 16); _, _ = rand.Read(b); return hex.EncodeToString(b) },
		"hex 32 bytes": func() string { b := make([]byte, 32); _, _ = rand.Read(b); return hex.EncodeToString(b) },
		"base64 24 bytes": func() string {
			b := make([]byte, 24)
			_, _ = rand.Read(b)
			return base64.StdEncoding.EncodeToString(b)
		},
	}
	for name, gen := range gens {
		for range 20000 {
			tok := gen()
			if w := tokenWeakness(tok); w != "" {
				t.Fatalf("%s: %q refused: %s", name, tok, w)
			}
			if p := placeholderName(tok); p != "" {
				t.Fatalf("%s: %q refused: %s", name, tok, p)
			}
		}
	}
}

// TestLoadSecureKeys: the new keys load from the file and the environment
// under the names of docs/protocol.md section 10.3.
func TestLoadSecureKeys(t *testing.T) {
	path := writeConfig(t, `
server: {addr: "0.0.0.0:8080"}
admin: {addr: "0.0.0.0:9090"}
metrics: {addr: "0.0.0.0:9100"}
auth: {mode: jwks, jwks_url: "https://idp/keys", issuer: "https://idp/", audience: matchd, player_claim: uid,
       jwks_refresh_interval: 5m, jwks_min_refresh_interval: 10s, jwks_timeout: 3s}
redis: {mode: embedded, allow_embedded_public: true}
`)
	c, _, err := Load([]string{"--config", path}, []string{"MATCHD_ADMIN__TOKEN=" + goodToken})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	a := c.Auth
	if c.Metrics.Addr != "0.0.0.0:9100" || !c.Redis.AllowEmbeddedPublic || a.Mode != "jwks" || a.JWKSURL != "https://idp/keys" ||
		a.Issuer != "https://idp/" || a.Audience != "matchd" || a.PlayerClaim != "uid" ||
		a.JWKSRefreshInterval != 5*time.Minute || a.JWKSMinRefreshInterval != 10*time.Second || a.JWKSTimeout != 3*time.Second {
		t.Errorf("got metrics %+v, redis allow_embedded_public %v, auth %+v", c.Metrics, c.Redis.AllowEmbeddedPublic, a)
	}
	if _, _, err := Load([]string{"--config", path}, nil); err == nil || !strings.Contains(err.Error(), "config: admin.token: ") {
		t.Errorf("without the token: got %v, want an error naming admin.token", err)
	}
	d := Default()
	if d.Auth.PlayerClaim != "sub" || d.Metrics.Addr != "" || d.Redis.AllowEmbeddedPublic {
		t.Errorf("defaults: player_claim %q, metrics.addr %q, allow_embedded_public %v", d.Auth.PlayerClaim, d.Metrics.Addr, d.Redis.AllowEmbeddedPublic)
	}
}
