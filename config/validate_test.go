package config

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantKey string // the key the error must name
	}{
		// Enums.
		{"auth.mode", func(c *Config) { c.Auth.Mode = "jwt" }, "auth.mode"},
		{"redis.mode", func(c *Config) { c.Redis.Mode = "memory" }, "redis.mode"},
		{"allocator.mode", func(c *Config) { c.Allocator.Mode = "agones" }, "allocator.mode"},
		{"log.level", func(c *Config) { c.Log.Level = "trace" }, "log.level"},
		{"log.format", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"log.level is case-sensitive", func(c *Config) { c.Log.Level = "INFO" }, "log.level"},

		// Positive durations.
		{"tick zero", func(c *Config) { c.Matchmaking.Tick = 0 }, "matchmaking.tick"},
		{"lock_ttl zero", func(c *Config) { c.Matchmaking.LockTTL = 0 }, "matchmaking.lock_ttl"},
		{"ping_interval", func(c *Config) { c.Server.PingInterval = 0 }, "server.ping_interval"},
		{"write_timeout", func(c *Config) { c.Server.WriteTimeout = -time.Second }, "server.write_timeout"},
		{"drain_timeout", func(c *Config) { c.Server.DrainTimeout = 0 }, "server.drain_timeout"},
		{"reconnect_grace", func(c *Config) { c.Session.ReconnectGrace = 0 }, "session.reconnect_grace"},
		{"directory_ttl", func(c *Config) { c.Session.DirectoryTTL = 0 }, "session.directory_ttl"},
		{"reconcile_interval", func(c *Config) { c.Session.ReconcileInterval = 0 }, "session.reconcile_interval"},
		{"loading_timeout", func(c *Config) { c.Matchmaking.Modes[0].LoadingTimeout = 0 }, "matchmaking.modes[0].loading_timeout"},
		{"max_wait", func(c *Config) { c.Matchmaking.Modes[0].MaxWait = 0 }, "matchmaking.modes[0].max_wait"},
		{"decay", func(c *Config) { c.Sanctions.Decay = 0 }, "sanctions.decay"},
		{"request_timeout", func(c *Config) { c.Allocator.RequestTimeout = 0 }, "allocator.request_timeout"},
		{"heartbeat", func(c *Config) { c.Allocator.Heartbeat = 0 }, "allocator.heartbeat"},
		{"rooms.finished_ttl", func(c *Config) { c.Rooms.FinishedTTL = 0 }, "rooms.finished_ttl"},
		{"rooms.adopt_after", func(c *Config) { c.Rooms.AdoptAfter = 0 }, "rooms.adopt_after"},
		{"rooms.sweep_interval", func(c *Config) { c.Rooms.SweepInterval = 0 }, "rooms.sweep_interval"},
		{"rooms.node_ttl", func(c *Config) { c.Rooms.NodeTTL = 0 }, "rooms.node_ttl"},
		{"redis.dial_timeout", func(c *Config) { c.Redis.DialTimeout = 0 }, "redis.dial_timeout"},
		{"redis.op_timeout", func(c *Config) { c.Redis.OpTimeout = 0 }, "redis.op_timeout"},
		{"redis.startup_timeout", func(c *Config) { c.Redis.StartupTimeout = 0 }, "redis.startup_timeout"},

		// Relations and ranges.
		{"lock_ttl < 3*tick", func(c *Config) { c.Matchmaking.LockTTL = 3*c.Matchmaking.Tick - 1 }, "matchmaking.lock_ttl"},
		{"ladder empty", func(c *Config) { c.Sanctions.Ladder = nil }, "sanctions.ladder"},
		{"ladder negative", func(c *Config) { c.Sanctions.Ladder = []time.Duration{0, -time.Second} }, "sanctions.ladder[1]"},
		{"max_message_bytes low", func(c *Config) { c.Server.MaxMessageBytes = 255 }, "server.max_message_bytes"},
		{"max_message_bytes high", func(c *Config) { c.Server.MaxMessageBytes = 1<<20 + 1 }, "server.max_message_bytes"},
		{"send_queue", func(c *Config) { c.Server.SendQueue = 0 }, "server.send_queue"},
		{"max_sessions", func(c *Config) { c.Server.MaxSessions = -1 }, "server.max_sessions"},
		{"rate per_second zero", func(c *Config) { c.Session.RateLimit.PerSecond = 0 }, "session.rate_limit.per_second"},
		{"rate per_second NaN", func(c *Config) { c.Session.RateLimit.PerSecond = math.NaN() }, "session.rate_limit.per_second"},
		{"rate per_second Inf", func(c *Config) { c.Session.RateLimit.PerSecond = math.Inf(1) }, "session.rate_limit.per_second"},
		{"burst", func(c *Config) { c.Session.RateLimit.Burst = 0 }, "session.rate_limit.burst"},
		{"state_events.max_len", func(c *Config) { c.StateEvents.MaxLen = 0 }, "state_events.max_len"},
		{"max_attempts", func(c *Config) { c.Allocator.MaxAttempts = 0 }, "allocator.max_attempts"},

		// Modes.
		{"no modes", func(c *Config) { c.Matchmaking.Modes = nil }, "matchmaking.modes"},
		{"mode name empty", func(c *Config) { c.Matchmaking.Modes[0].Name = "" }, "matchmaking.modes[0].name"},
		{"mode name upper case", func(c *Config) { c.Matchmaking.Modes[0].Name = "Duel" }, "matchmaking.modes[0].name"},
		{"mode name too long", func(c *Config) { c.Matchmaking.Modes[0].Name = strings.Repeat("a", 33) }, "matchmaking.modes[0].name"},
		{"mode name with colon", func(c *Config) { c.Matchmaking.Modes[0].Name = "a:b" }, "matchmaking.modes[0].name"},
		{"mode name duplicate", func(c *Config) { c.Matchmaking.Modes = append(c.Matchmaking.Modes, c.Matchmaking.Modes[0]) }, "matchmaking.modes[1].name"},
		{"teams < 2", func(c *Config) { c.Matchmaking.Modes[0].Teams = 1 }, "matchmaking.modes[0].teams"},
		{"team_size < 1", func(c *Config) { addMode(c).TeamSize = 0 }, "matchmaking.modes[1].team_size"},
		{"teams*team_size > 100", func(c *Config) { m := addMode(c); m.Teams, m.TeamSize = 11, 10 }, "matchmaking.modes[1].team_size"},
		{"teams*team_size overflows", func(c *Config) { m := addMode(c); m.Teams, m.TeamSize = math.MaxInt, math.MaxInt }, "matchmaking.modes[1].team_size"},
		{"initial_window negative", func(c *Config) { c.Matchmaking.Modes[0].Rating.InitialWindow = -1 }, "matchmaking.modes[0].rating.initial_window"},
		{"widen_per_second negative", func(c *Config) { c.Matchmaking.Modes[0].Rating.WidenPerSecond = -1 }, "matchmaking.modes[0].rating.widen_per_second"},
		{"max_window NaN", func(c *Config) { c.Matchmaking.Modes[0].Rating.MaxWindow = math.NaN() }, "matchmaking.modes[0].rating.max_window"},
		{"initial_window > max_window", func(c *Config) { c.Matchmaking.Modes[0].Rating.InitialWindow = 1001 }, "matchmaking.modes[0].rating.initial_window"},

		// Redis.
		{"standalone without addrs", func(c *Config) { c.Redis.Mode = "standalone" }, "redis.addrs"},
		{"cluster without addrs", func(c *Config) { c.Redis.Mode = "cluster" }, "redis.addrs"},
		{"sentinel without addrs", func(c *Config) { c.Redis.Mode, c.Redis.MasterSet = "sentinel", "m" }, "redis.addrs"},
		{"sentinel without master_set", func(c *Config) { c.Redis.Mode, c.Redis.Addrs = "sentinel", []string{"s:26379"} }, "redis.master_set"},
		{"redis addr not host:port", func(c *Config) { c.Redis.Mode, c.Redis.Addrs = "standalone", []string{"redis"} }, "redis.addrs[0]"},
		{"key_prefix empty", func(c *Config) { c.Redis.KeyPrefix = "" }, "redis.key_prefix"},
		{"key_prefix with brace", func(c *Config) { c.Redis.KeyPrefix = "m{x}" }, "redis.key_prefix"},

		// Auth.
		{"hmac without secret", func(c *Config) { c.Auth.Mode = "hmac" }, "auth.hmac_secret"},
		{"hmac short secret", func(c *Config) { c.Auth.Mode, c.Auth.HMACSecret = "hmac", "0123456789abcde" }, "auth.hmac_secret"},
		{"insecure on all interfaces v4", func(c *Config) { c.Server.Addr = "0.0.0.0:8080" }, "server.addr"},
		{"insecure on all interfaces v6", func(c *Config) { c.Server.Addr = "[::]:8080" }, "server.addr"},
		{"insecure on empty host", func(c *Config) { c.Server.Addr = ":8080" }, "server.addr"},
		{"insecure on a LAN address", func(c *Config) { c.Server.Addr = "10.1.2.3:8080" }, "server.addr"},
		{"insecure on a host name", func(c *Config) { c.Server.Addr = "matchd.example:8080" }, "server.addr"},

		// Listeners.
		{"server.addr without port", func(c *Config) { c.Server.Addr = "127.0.0.1" }, "server.addr"},
		{"server.addr bad port", func(c *Config) { c.Server.Addr = "127.0.0.1:http" }, "server.addr"},
		{"server.addr port too big", func(c *Config) { c.Server.Addr = "127.0.0.1:65536" }, "server.addr"},
		{"admin.addr not host:port", func(c *Config) { c.Admin.Addr = "localhost" }, "admin.addr"},
		{"admin.addr same as server.addr", func(c *Config) { c.Admin.Addr = c.Server.Addr }, "admin.addr"},

		// Allocator.
		{"static without servers", func(c *Config) { c.Allocator.Mode = "static" }, "allocator.servers"},
		{"static server not host:port", func(c *Config) { c.Allocator.Mode, c.Allocator.Servers = "static", []GameServer{{Addr: "gs1"}} }, "allocator.servers[0].addr"},
		{"static server region bad", func(c *Config) {
			c.Allocator.Mode, c.Allocator.Servers = "static", []GameServer{{Addr: "gs1:7777", Region: "EU West"}}
		}, "allocator.servers[0].region"},
		{"static region without a server", func(c *Config) {
			c.Matchmaking.Modes[0].Regions = []string{"eu", "asia"}
			c.Allocator.Mode, c.Allocator.Servers = "static", []GameServer{{Addr: "gs1:7777", Region: "eu"}}
		}, "matchmaking.modes[0].regions[1]"},
		{"region name bad", func(c *Config) { c.Matchmaking.Modes[0].Regions = []string{"eu", "us:east"} }, "matchmaking.modes[0].regions[1]"},
		{"region twice", func(c *Config) { c.Matchmaking.Modes[0].Regions = []string{"eu", "asia", "eu"} }, "matchmaking.modes[0].regions[2]"},
		{"latency negative", func(c *Config) { c.Matchmaking.Modes[0].Latency.WidenPerSecond = -1 }, "matchmaking.modes[0].latency.widen_per_second"},
		{"latency start above cap", func(c *Config) { c.Matchmaking.Modes[0].Latency.MaxMs = 200 }, "matchmaking.modes[0].latency.max_ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("got nil error, want one naming %s", tt.wantKey)
			}
			if !strings.Contains(err.Error(), "config: "+tt.wantKey+": ") {
				t.Errorf("got error %q, want it to name %q", err, tt.wantKey)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("got %T, want a *FieldError inside", err)
			}
		})
	}
}

// addMode appends a valid second mode and returns it for mutation.
func addMode(c *Config) *Mode {
	m := c.Matchmaking.Modes[0]
	m.Name = "second"
	c.Matchmaking.Modes = append(c.Matchmaking.Modes, m)
	return &c.Matchmaking.Modes[len(c.Matchmaking.Modes)-1]
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"localhost", func(c *Config) { c.Server.Addr = "localhost:8080" }},
		{"ipv6 loopback", func(c *Config) { c.Server.Addr = "[::1]:8080" }},
		{"127/8", func(c *Config) { c.Server.Addr = "127.0.0.2:8080" }},
		{"public with allow_insecure_public", func(c *Config) {
			c.Server.Addr, c.Auth.AllowInsecurePublic = "0.0.0.0:8080", true
			c.Redis.Mode, c.Redis.Addrs = "standalone", []string{"redis:6379"}
		}},
		{"public with hmac", func(c *Config) {
			c.Server.Addr, c.Auth.Mode, c.Auth.HMACSecret = ":8080", "hmac", "0123456789abcdef"
			c.Redis.Mode, c.Redis.Addrs = "standalone", []string{"redis:6379"}
		}},
		{"port 0 on both listeners", func(c *Config) { c.Server.Addr, c.Admin.Addr = "127.0.0.1:0", "127.0.0.1:0" }},
		{"same port on different loopback hosts", func(c *Config) { c.Server.Addr, c.Admin.Addr = "127.0.0.1:8080", "127.0.0.2:8080" }},
		{"lock_ttl exactly 3*tick", func(c *Config) { c.Matchmaking.Tick, c.Matchmaking.LockTTL = time.Second, 3*time.Second }},
		{"ladder of one zero", func(c *Config) { c.Sanctions.Ladder = []time.Duration{0} }},
		{"max_message_bytes bounds", func(c *Config) { c.Server.MaxMessageBytes = 256 }},
		{"max_message_bytes upper bound", func(c *Config) { c.Server.MaxMessageBytes = 1 << 20 }},
		{"100 players", func(c *Config) { c.Matchmaking.Modes[0].Teams, c.Matchmaking.Modes[0].TeamSize = 2, 50 }},
		{"zero rating windows", func(c *Config) { c.Matchmaking.Modes[0].Rating = RatingWindow{} }},
		{"sentinel", func(c *Config) {
			c.Redis.Mode, c.Redis.Addrs, c.Redis.MasterSet = "sentinel", []string{"s1:26379", "s2:26379"}, "mymaster"
		}},
		{"cluster", func(c *Config) { c.Redis.Mode, c.Redis.Addrs = "cluster", []string{"r1:6379"} }},
		{"static allocator", func(c *Config) { c.Allocator.Mode, c.Allocator.Servers = "static", []GameServer{{Addr: "gs1:7777"}} }},
		{"regions", func(c *Config) {
			c.Matchmaking.Modes[0].Regions = []string{"eu", "us-east", "asia"}
			c.Allocator.Mode, c.Allocator.Servers = "static", []GameServer{{Addr: "gs1:7777", Region: "eu"}, {Addr: "gs2:7777"}}
		}},
		{"http allocator", func(c *Config) { c.Allocator.Mode = "http" }},
		{"max_sessions 0 is unlimited", func(c *Config) { c.Server.MaxSessions = 0 }},
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

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Log.Level = "loud"
	c.Server.SendQueue = 0
	c.Matchmaking.Modes[0].Teams = 0
	err := c.Validate()
	for _, k := range []string{"log.level", "server.send_queue", "matchmaking.modes[0].teams"} {
		if err == nil || !strings.Contains(err.Error(), "config: "+k+": ") {
			t.Errorf("got %v, want it to name %s", err, k)
		}
	}
}

func TestValidateDoesNotPrintSecrets(t *testing.T) {
	c := Default()
	c.Auth.Mode, c.Auth.HMACSecret = "hmac", "short-secret"
	err := c.Validate()
	if err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Errorf("got %v, want an error that does not contain the secret", err)
	}
}
