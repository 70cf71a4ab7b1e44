package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strings"
)

// This file holds the secure-default rules of Validate: what a listener on a
// public address needs, and how a jwks key-set URL must look. Each rule says
// in its message why it exists, since an operator meets it as a refusal to
// start.

// MinAdminToken is the least length of admin.token on a non-loopback
// admin.addr, in bytes: `openssl rand -hex 16` is the shortest acceptable
// token, `openssl rand -hex 32` the recommended one.
const MinAdminToken = 32

// minTokenBits is the least entropy, in bits, that a token's own character
// statistics must show (length x Shannon entropy per character). Random
// 32-character hex tokens show 90-130 bits (115 on average), 32-character
// base64 ones about 145; a run of few distinct characters shows far less.
const minTokenBits = 80

// knownPlaceholders are token values, compared after lower-casing and
// dropping everything but letters and digits, that are documentation rather
// than secrets: the example configuration's placeholder first.
var knownPlaceholders = []string{
	"replacemewithopensslrandhex32", // deploy/examples/*.yaml
	"replaceme", "changeme", "changethis", "placeholder", "yourtoken", "yourtokenhere", "yoursecret",
	"yoursecrethere", "admintoken", "secret", "password", "token", "example", "test", "default",
}

// placeholderMarks are fragments that mark a value as a placeholder wherever
// they appear in it.
var placeholderMarks = []string{"replaceme", "changeme", "placeholder", "yourtoken", "yoursecret"}

// validateListeners checks that the client, admin and metrics listeners are
// host:port addresses on distinct listeners, and that a public one exposes
// nothing without protection. It returns the client listener's host and
// whether server.addr parsed.
func (v *validator) validateListeners(c *Config) (string, bool) {
	type listener struct{ key, addr, host string }
	var ls []listener
	serverHost, serverOK := v.hostPort("server.addr", c.Server.Addr)
	if serverOK {
		ls = append(ls, listener{"server.addr", c.Server.Addr, serverHost})
	}
	adminHost, adminOK := v.hostPort("admin.addr", c.Admin.Addr)
	if adminOK {
		ls = append(ls, listener{"admin.addr", c.Admin.Addr, adminHost})
	}
	if c.Metrics.Addr != "" {
		if h, ok := v.hostPort("metrics.addr", c.Metrics.Addr); ok {
			ls = append(ls, listener{"metrics.addr", c.Metrics.Addr, h})
		}
	}
	for i, a := range ls {
		for _, b := range ls[:i] {
			_, ap, _ := net.SplitHostPort(a.addr)
			_, bp, _ := net.SplitHostPort(b.addr)
			if ap == bp && ap != "0" && (a.host == b.host || isWildcard(a.host) || isWildcard(b.host)) {
				v.add(a.key, "must not be the same listener as %s (%s)", b.key, b.addr)
			}
		}
	}

	tok := c.Admin.Token
	if name := placeholderName(tok); name != "" {
		v.add("admin.token", "is %s, not a secret; generate one with: openssl rand -hex 32", name)
	} else if adminOK && !isLoopback(adminHost) {
		const why = "a non-loopback admin.addr (%q) serves /admin/* and /debug/* (the game-server registry, sanctions, drain, profiles) to whoever reaches it"
		switch {
		case tok == "":
			v.add("admin.token", why+", so it needs a token of at least %d bytes; generate one with: openssl rand -hex 32 (or bind admin.addr to loopback and use metrics.addr for Prometheus)", c.Admin.Addr, MinAdminToken)
		case len(tok) < MinAdminToken:
			v.add("admin.token", why+", so it needs a token of at least %d bytes, got %d; generate one with: openssl rand -hex 32", c.Admin.Addr, MinAdminToken, len(tok))
		default:
			if weak := tokenWeakness(tok); weak != "" {
				v.add("admin.token", why+", and this token %s; generate one with: openssl rand -hex 32", c.Admin.Addr, weak)
			}
		}
	}

	if c.Redis.Mode == "embedded" && serverOK && !isLoopback(serverHost) && !c.Redis.AllowEmbeddedPublic {
		v.add("redis.mode", "embedded keeps every queue, room and sanction in this one process's memory: a restart loses them all and no other node can share them, so it serves only a loopback server.addr, got %q (use redis.mode standalone, sentinel or cluster, or set redis.allow_embedded_public: true for a single node that may lose its state)", c.Server.Addr)
	}
	return serverHost, serverOK
}

// validateJWKS checks the keys of auth.mode jwks.
func (v *validator) validateJWKS(a Auth) {
	switch u, err := url.Parse(a.JWKSURL); {
	case a.JWKSURL == "":
		v.add("auth.jwks_url", "is required in jwks mode: the URL of the identity provider's key set (JWKS)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		v.add("auth.jwks_url", "must be an absolute https URL, got %q", a.JWKSURL)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		v.add("auth.jwks_url", "must use https: over plain http anyone on the path could substitute their own keys and sign any player's token (http is accepted for a loopback host only), got %q", a.JWKSURL)
	}
	if a.PlayerClaim == "" {
		v.add("auth.player_claim", "must name the claim that holds the player id (default sub)")
	}
	v.positive("auth.jwks_refresh_interval", a.JWKSRefreshInterval)
	v.positive("auth.jwks_min_refresh_interval", a.JWKSMinRefreshInterval)
	v.positive("auth.jwks_timeout", a.JWKSTimeout)
}

// placeholderName returns a description of tok when it is a documentation
// placeholder or an obvious stand-in ("the example configuration's
// placeholder"), else "".
func placeholderName(tok string) string {
	if tok == "" {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToLower(tok) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	norm := b.String()
	if norm == knownPlaceholders[0] {
		return "the example configuration's placeholder"
	}
	for _, p := range knownPlaceholders[1:] {
		if norm == p {
			return fmt.Sprintf("the obvious value %q", p)
		}
	}
	for _, m := range placeholderMarks {
		if strings.Contains(norm, m) {
			return fmt.Sprintf("a placeholder (it contains %q)", m)
		}
	}
	return ""
}

// tokenWeakness says how tok fails to look random ("repeats a 4-byte
// pattern"), or "" when it passes. It cannot prove a token random; it
// catches what people type instead of generating.
func tokenWeakness(tok string) string {
	n := len(tok)
	for p := 1; p <= n/2; p++ {
		if tok[p:] == tok[:n-p] {
			return fmt.Sprintf("repeats a %d-byte pattern", p)
		}
	}
	steps := 0
	for i := 1; i < n; i++ {
		if d := int(tok[i]) - int(tok[i-1]); d == 1 || d == -1 || d == 0 {
			steps++
		}
	}
	if steps*4 >= (n-1)*3 {
		return "is mostly runs of repeated or consecutive characters"
	}
	var counts [256]int
	for i := 0; i < n; i++ {
		counts[tok[i]]++
	}
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	if bits := h * float64(n); bits < minTokenBits {
		return fmt.Sprintf("shows about %.0f bits of entropy, want at least %d", bits, minTokenBits)
	}
	// Random text almost never repeats a 3-byte sequence; typed text
	// ("passwordpassword1234...") does all the time.
	seen := map[string]bool{}
	for i := 0; i+3 <= n; i++ {
		seen[tok[i:i+3]] = true
	}
	if total := n - 2; len(seen)*4 < total*3 {
		return fmt.Sprintf("repeats itself (%d of its %d 3-byte sequences are repeats)", total-len(seen), total)
	}
	return ""
}
