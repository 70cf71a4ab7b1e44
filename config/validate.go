package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FieldError is one problem with one key. It exists so that callers and
// tests can tell which key was at fault (errors.As) without parsing text;
// its message always starts with "config: KEY:" so an operator sees the key
// to fix.
type FieldError struct {
	// Key is the dotted key, with list positions: matchmaking.modes[1].teams.
	Key string
	// Msg says what is wrong and, where it helps, what was found.
	Msg string
}

// Error formats the problem as "config: KEY: MSG", the form operators see at
// start-up and on a failed reload.
func (e *FieldError) Error() string { return "config: " + e.Key + ": " + e.Msg }

// Limits enforced by Validate.
const (
	minMessageBytes = 256
	maxMessageBytes = 1 << 20
	maxMatchPlayers = 100
	minHMACSecret   = 16
)

var (
	modeNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	// Region names appear in Redis keys and actor ids, like mode names.
	regionNameRE = modeNameRE
)

// Validate checks every rule of the configuration at once and reports each
// violation by key (errors.Join of *FieldError), so an operator fixes a file
// in one pass instead of one restart per mistake. An empty node_id is
// accepted because Load replaces it with hostname-pid.
func (c *Config) Validate() error {
	var v validator

	// Listeners and auth.
	serverHost, serverOK := v.validateListeners(c)
	if c.Server.MaxMessageBytes < minMessageBytes || c.Server.MaxMessageBytes > maxMessageBytes {
		v.add("server.max_message_bytes", "must be in [%d, %d], got %d", minMessageBytes, maxMessageBytes, c.Server.MaxMessageBytes)
	}
	v.positive("server.ping_interval", c.Server.PingInterval)
	v.positive("server.write_timeout", c.Server.WriteTimeout)
	v.positive("server.drain_timeout", c.Server.DrainTimeout)
	if c.Server.MaxSessions < 0 {
		v.add("server.max_sessions", "must be >= 0 (0 means unlimited), got %d", c.Server.MaxSessions)
	}
	if c.Server.SendQueue < 1 {
		v.add("server.send_queue", "must be >= 1, got %d", c.Server.SendQueue)
	}

	if v.oneOf("auth.mode", c.Auth.Mode, "insecure", "hmac", "jwks") {
		switch c.Auth.Mode {
		case "jwks":
			v.validateJWKS(c.Auth)
		case "hmac":
			if len(c.Auth.HMACSecret) < minHMACSecret {
				v.add("auth.hmac_secret", "must be at least %d bytes in hmac mode, got %d", minHMACSecret, len(c.Auth.HMACSecret))
			}
		case "insecure":
			if serverOK && !c.Auth.AllowInsecurePublic && !isLoopback(serverHost) {
				v.add("server.addr", "auth.mode insecure trusts any client's claimed identity, so it only listens on loopback; got %q (use auth.mode hmac or jwks, a loopback address, or set auth.allow_insecure_public)", c.Server.Addr)
			}
		}
	}

	// Redis.
	if v.oneOf("redis.mode", c.Redis.Mode, "embedded", "standalone", "sentinel", "cluster") && c.Redis.Mode != "embedded" {
		if len(c.Redis.Addrs) == 0 {
			v.add("redis.addrs", "at least one host:port is required in %s mode", c.Redis.Mode)
		}
		for i, a := range c.Redis.Addrs {
			v.hostPort(fmt.Sprintf("redis.addrs[%d]", i), a)
		}
		if c.Redis.Mode == "sentinel" && c.Redis.MasterSet == "" {
			v.add("redis.master_set", "is required in sentinel mode")
		}
	}
	switch {
	case c.Redis.KeyPrefix == "":
		v.add("redis.key_prefix", "must not be empty")
	case strings.ContainsAny(c.Redis.KeyPrefix, "{}"):
		v.add("redis.key_prefix", "must not contain { or } (matchd adds its own hash tags), got %q", c.Redis.KeyPrefix)
	}
	v.positive("redis.dial_timeout", c.Redis.DialTimeout)
	v.positive("redis.op_timeout", c.Redis.OpTimeout)
	v.positive("redis.startup_timeout", c.Redis.StartupTimeout)
	v.positive("redis.breaker_cooldown", c.Redis.BreakerCooldown)
	v.positive("redis.retry_interval", c.Redis.RetryInterval)
	v.positive("redis.topology_refresh", c.Redis.TopologyRefresh)
	v.positive("server.handshake_timeout", c.Server.HandshakeTimeout)
	v.positive("server.reconnect_after", c.Server.ReconnectAfter)
	v.positive("supervision.window", c.Supervision.Window)
	if c.Supervision.MaxRestarts < 1 {
		v.add("supervision.max_restarts", "must be >= 1, got %d", c.Supervision.MaxRestarts)
	}
	v.positive("reload.debounce", c.Reload.Debounce)
	if c.Redis.BreakerFailures < 1 {
		v.add("redis.breaker_failures", "must be >= 1, got %d", c.Redis.BreakerFailures)
	}

	// Matchmaking.
	mm := c.Matchmaking
	if v.positive("matchmaking.tick", mm.Tick) && v.positive("matchmaking.lock_ttl", mm.LockTTL) &&
		mm.LockTTL/3 < mm.Tick {
		v.add("matchmaking.lock_ttl", "must be >= 3 * matchmaking.tick (3 * %s), got %s", mm.Tick, mm.LockTTL)
	}
	v.positive("matchmaking.pool_resync", mm.PoolResync)
	for i, r := range mm.HomeRegions {
		if !regionNameRE.MatchString(r) {
			v.add(fmt.Sprintf("matchmaking.home_regions[%d]", i), "must match %s, got %q", regionNameRE, r)
		}
	}
	if mm.LivenessBatch < 1 {
		v.add("matchmaking.liveness_batch", "must be >= 1, got %d", mm.LivenessBatch)
	}
	if len(mm.Modes) == 0 {
		v.add("matchmaking.modes", "at least one mode is required")
	}
	seen := map[string]int{}
	for i, m := range mm.Modes {
		p := fmt.Sprintf("matchmaking.modes[%d].", i)
		if !modeNameRE.MatchString(m.Name) {
			v.add(p+"name", "must match %s, got %q", modeNameRE, m.Name)
		} else if j, dup := seen[m.Name]; dup {
			v.add(p+"name", "duplicates matchmaking.modes[%d].name %q", j, m.Name)
		} else {
			seen[m.Name] = i
		}
		teamsOK, sizeOK := m.Teams >= 2, m.TeamSize >= 1
		if !teamsOK {
			v.add(p+"teams", "must be >= 2, got %d", m.Teams)
		}
		if !sizeOK {
			v.add(p+"team_size", "must be >= 1, got %d", m.TeamSize)
		}
		// Compare by division: the product of two huge values overflows.
		if teamsOK && sizeOK && m.Teams > maxMatchPlayers/m.TeamSize {
			v.add(p+"team_size", "teams * team_size must be <= %d, got %d * %d", maxMatchPlayers, m.Teams, m.TeamSize)
		}
		v.positive(p+"max_wait", m.MaxWait)
		v.positive(p+"loading_timeout", m.LoadingTimeout)
		r := m.Rating
		okI := v.nonNegative(p+"rating.initial_window", r.InitialWindow)
		v.nonNegative(p+"rating.widen_per_second", r.WidenPerSecond)
		okM := v.nonNegative(p+"rating.max_window", r.MaxWindow)
		if okI && okM && r.InitialWindow > r.MaxWindow {
			v.add(p+"rating.initial_window", "must be <= rating.max_window (%v), got %v", r.MaxWindow, r.InitialWindow)
		}
		v.validateRegions(p, m)
	}

	if len(c.Debug.DropBus) > 0 && !c.Debug.FaultInjection {
		v.add("debug.drop_bus", "is a fault-injection switch: set debug.fault_injection too")
	}
	if c.Debug.ClockOffset != 0 && !c.Debug.FaultInjection {
		v.add("debug.clock_offset", "is a testing switch: set debug.fault_injection too")
	}

	// Sessions.
	v.positive("session.reconnect_grace", c.Session.ReconnectGrace)
	if c.Party.MaxSize < 1 {
		v.add("party.max_size", "must be at least 1, got %d", c.Party.MaxSize)
	}
	v.positive("party.invite_ttl", c.Party.InviteTTL)
	if v.positive("party.ttl", c.Party.TTL) && c.Party.TTL < 2*c.Session.DirectoryTTL {
		v.add("party.ttl", "must be >= twice session.directory_ttl (%v), got %v", c.Session.DirectoryTTL, c.Party.TTL)
	}
	v.positive("session.directory_ttl", c.Session.DirectoryTTL)
	v.positive("session.reconcile_interval", c.Session.ReconcileInterval)
	if v.positive("session.outcome_ttl", c.Session.OutcomeTTL) && c.Session.OutcomeTTL < c.Session.ReconnectGrace {
		v.add("session.outcome_ttl", "must be >= session.reconnect_grace (%v), got %v", c.Session.ReconnectGrace, c.Session.OutcomeTTL)
	}
	if ps := c.Session.RateLimit.PerSecond; !(ps > 0) || math.IsInf(ps, 0) {
		v.add("session.rate_limit.per_second", "must be a finite number > 0, got %v", ps)
	}
	if c.Session.RateLimit.Burst < 1 {
		v.add("session.rate_limit.burst", "must be >= 1, got %d", c.Session.RateLimit.Burst)
	}

	// Sanctions.
	if len(c.Sanctions.Ladder) == 0 {
		v.add("sanctions.ladder", "at least one entry is required")
	}
	for i, d := range c.Sanctions.Ladder {
		if d < 0 {
			v.add(fmt.Sprintf("sanctions.ladder[%d]", i), "must be >= 0, got %s", d)
		}
	}
	v.positive("sanctions.decay", c.Sanctions.Decay)

	if c.StateEvents.MaxLen <= 0 {
		v.add("state_events.max_len", "must be > 0, got %d", c.StateEvents.MaxLen)
	}

	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text")

	// Allocator.
	if v.oneOf("allocator.mode", c.Allocator.Mode, "none", "static", "http") && c.Allocator.Mode == "static" &&
		len(c.Allocator.Servers) == 0 {
		v.add("allocator.servers", "at least one host:port is required in static mode")
	}
	for i, s := range c.Allocator.Servers {
		v.hostPort(fmt.Sprintf("allocator.servers[%d].addr", i), s.Addr)
		if s.Region != "" && !regionNameRE.MatchString(s.Region) {
			v.add(fmt.Sprintf("allocator.servers[%d].region", i), "must match %s, got %q", regionNameRE, s.Region)
		}
	}
	if c.Allocator.Mode == "static" && len(c.Allocator.Servers) > 0 {
		// Every region a match may be played in has a server that takes it.
		anyRegion := slices.ContainsFunc(c.Allocator.Servers, func(g GameServer) bool { return g.Region == "" })
		for i, m := range mm.Modes {
			for j, r := range m.Regions {
				if !anyRegion && !slices.ContainsFunc(c.Allocator.Servers, func(g GameServer) bool { return g.Region == r }) {
					v.add(fmt.Sprintf("matchmaking.modes[%d].regions[%d]", i, j), "region %q has no server in allocator.servers (give one that region, or one with no region)", r)
				}
			}
		}
	}
	v.positive("allocator.request_timeout", c.Allocator.RequestTimeout)
	if c.Allocator.MaxAttempts < 1 {
		v.add("allocator.max_attempts", "must be >= 1, got %d", c.Allocator.MaxAttempts)
	}
	v.positive("allocator.heartbeat", c.Allocator.Heartbeat)

	// Rooms.
	v.positive("rooms.finished_ttl", c.Rooms.FinishedTTL)
	v.positive("rooms.adopt_after", c.Rooms.AdoptAfter)
	v.positive("rooms.sweep_interval", c.Rooms.SweepInterval)
	v.positive("rooms.node_ttl", c.Rooms.NodeTTL)

	return errors.Join(v.errs...)
}

// validator accumulates FieldErrors; each check reports whether it passed so
// that dependent checks can be skipped instead of piling on.
type validator struct{ errs []error }

// validateRegions checks a mode's regions (names usable in keys and actor
// ids, none twice) and its latency rule.
func (v *validator) validateRegions(p string, m Mode) {
	for i, r := range m.Regions {
		if !regionNameRE.MatchString(r) {
			v.add(fmt.Sprintf("%sregions[%d]", p, i), "must match %s, got %q", regionNameRE, r)
		}
		for j, q := range m.Regions[:i] {
			if q == r {
				v.add(fmt.Sprintf("%sregions[%d]", p, i), "duplicates regions[%d] %q", j, r)
			}
		}
	}
	l := m.Latency
	okM := v.nonNegative(p+"latency.max_ms", l.MaxMs)
	v.nonNegative(p+"latency.widen_per_second", l.WidenPerSecond)
	okL := v.nonNegative(p+"latency.max_ms_limit", l.MaxMsLimit)
	if okM && okL && l.MaxMs > l.MaxMsLimit {
		v.add(p+"latency.max_ms", "must be <= latency.max_ms_limit (%v), got %v", l.MaxMsLimit, l.MaxMs)
	}
}

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) positive(key string, d time.Duration) bool {
	if d <= 0 {
		v.add(key, "must be > 0, got %s", d)
		return false
	}
	return true
}

func (v *validator) nonNegative(key string, f float64) bool {
	if !(f >= 0) || math.IsInf(f, 0) {
		v.add(key, "must be a finite number >= 0, got %v", f)
		return false
	}
	return true
}

func (v *validator) oneOf(key, got string, allowed ...string) bool {
	for _, a := range allowed {
		if got == a {
			return true
		}
	}
	v.add(key, "must be one of %s; got %q", strings.Join(allowed, ", "), got)
	return false
}

// hostPort checks that addr is host:port with a numeric port and returns the
// host.
func (v *validator) hostPort(key, addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(key, "must be host:port, got %q", addr)
		return "", false
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (port != "0" && n == 0) {
		v.add(key, "must be host:port with a port in 0-65535, got %q", addr)
		return "", false
	}
	return host, true
}

// isLoopback reports whether a listener on host is reachable only from this
// machine. Names other than localhost may resolve anywhere, so they count as
// public.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isWildcard reports whether host listens on every address.
func isWildcard(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}
