// Package config holds matchd's configuration: the typed structure, its
// defaults, loading from file, environment and flags (koanf v2), validation
// and live reload. Every timeout, TTL and size used anywhere in matchd comes
// from here, so operators can tune a deployment without a rebuild.
package config

import "time"

// Config is the whole effective configuration of one node. The koanf tags are
// the YAML keys of docs/protocol.md section 10.3.
type Config struct {
	// NodeID names this node in logs, metrics and the player directory.
	// Default: hostname-pid.
	NodeID      string      `koanf:"node_id" json:"node_id"`
	Server      Server      `koanf:"server" json:"server"`
	Admin       Admin       `koanf:"admin" json:"admin"`
	Metrics     Metrics     `koanf:"metrics" json:"metrics"`
	Auth        Auth        `koanf:"auth" json:"auth"`
	Redis       Redis       `koanf:"redis" json:"redis"`
	Matchmaking Matchmaking `koanf:"matchmaking" json:"matchmaking"`
	Session     Session     `koanf:"session" json:"session"`
	Party       Party       `koanf:"party" json:"party"`
	Sanctions   Sanctions   `koanf:"sanctions" json:"sanctions"`
	StateEvents StateEvents `koanf:"state_events" json:"state_events"`
	Debug       Debug       `koanf:"debug" json:"debug"`
	Log         Log         `koanf:"log" json:"log"`
	Allocator   Allocator   `koanf:"allocator" json:"allocator"`
	Rooms       Rooms       `koanf:"rooms" json:"rooms"`
	Supervision Supervision `koanf:"supervision" json:"supervision"`
	Reload      Reload      `koanf:"reload" json:"reload"`
	Runtime     Runtime     `koanf:"runtime" json:"runtime"`
}

// Runtime configures the Go runtime under the node.
type Runtime struct {
	// AdaptiveGC sizes the garbage collector's headroom to the allocation
	// rate (about a collection every 20 s, between GOGC 25 and 100): an
	// idle node holding many sessions keeps ~1.3 times its live heap
	// instead of twice it, a busy one runs as with GOGC 100. Off when the
	// GOGC environment variable is set. Default true.
	AdaptiveGC bool `koanf:"adaptive_gc" json:"adaptive_gc"`
}

// Party configures parties (docs/protocol.md section 14).
type Party struct {
	// MaxSize is the most members a party may have. Default 5.
	MaxSize int `koanf:"max_size" json:"max_size"`
	// InviteTTL is how long an invitation lasts. Default 60s.
	InviteTTL time.Duration `koanf:"invite_ttl" json:"invite_ttl"`
	// TTL is how long a party's record outlives the last sign of a live
	// member: each member's session renews it, so only a party whose every
	// member vanished (their nodes died) expires by it. Default 10m.
	TTL time.Duration `koanf:"ttl" json:"ttl"`
}

// Supervision bounds how often an actor is restarted.
type Supervision struct {
	// MaxRestarts is the number of restarts of one actor allowed within
	// Window; past it the actor is stopped (and brought back by the sweeper
	// or the player's next connection). Default 10.
	MaxRestarts int `koanf:"max_restarts" json:"max_restarts"`
	// Window is the period MaxRestarts counts over. Default 1m.
	Window time.Duration `koanf:"window" json:"window"`
}

// Reload configures live reload of the config file.
type Reload struct {
	// Debounce waits this long after the last change to the file before
	// reading it, so a half-written file is not read. Default 250ms.
	Debounce time.Duration `koanf:"debounce" json:"debounce"`
}

// Server configures the client (WebSocket) listener.
type Server struct {
	// Addr is the client listener address. Default 127.0.0.1:8080.
	Addr string `koanf:"addr" json:"addr"`
	// MaxMessageBytes caps one client frame; larger frames close with 1009.
	// Default 4096.
	MaxMessageBytes int `koanf:"max_message_bytes" json:"max_message_bytes"`
	// PingInterval is how often the server pings; a client that has not
	// answered by the next ping is closed. Default 15s.
	PingInterval time.Duration `koanf:"ping_interval" json:"ping_interval"`
	// WriteTimeout bounds how long a session's outgoing queue may stay full
	// (and one write may take) before the client is dropped. Default 5s.
	WriteTimeout time.Duration `koanf:"write_timeout" json:"write_timeout"`
	// MaxSessions caps live sessions per node; 0 means unlimited. Default 0.
	MaxSessions int `koanf:"max_sessions" json:"max_sessions"`
	// DrainTimeout bounds a graceful shutdown. Default 20s.
	DrainTimeout time.Duration `koanf:"drain_timeout" json:"drain_timeout"`
	// HandshakeTimeout bounds reading an HTTP request's headers on both
	// listeners. Default 10s.
	HandshakeTimeout time.Duration `koanf:"handshake_timeout" json:"handshake_timeout"`
	// ReconnectAfter is the reconnect_after_ms that server_draining tells
	// clients. Default 1s.
	ReconnectAfter time.Duration `koanf:"reconnect_after" json:"reconnect_after"`
	// SendQueue is the number of outgoing frames buffered per session.
	// Default 64.
	SendQueue int `koanf:"send_queue" json:"send_queue"`
	// OriginPatterns lists the browser origins allowed to open /ws (host
	// patterns as in coder/websocket). Empty allows same-origin only; clients
	// that send no Origin header (native games) are always accepted.
	OriginPatterns []string `koanf:"origin_patterns" json:"origin_patterns"`
}

// Admin configures the admin listener (/metrics, /healthz, /debug, /admin).
type Admin struct {
	// Addr is the admin listener address. Default 127.0.0.1:9090. A
	// non-loopback address needs Token.
	Addr string `koanf:"addr" json:"addr"`
	// Token, when set, is required as a Bearer token on /debug/* and /admin/*.
	// On a non-loopback Addr it is mandatory: at least 32 bytes that do not
	// look guessable (see docs/security.md).
	Token string `koanf:"token" json:"token"`
}

// Metrics configures the optional metrics listener, which serves /metrics,
// /healthz and /readyz and nothing else, so Prometheus and load balancer
// health checks never need the admin listener.
type Metrics struct {
	// Addr is the metrics listener address; empty (the default) runs no
	// such listener.
	Addr string `koanf:"addr" json:"addr"`
}

// Auth configures how a WebSocket handshake proves the player's identity.
type Auth struct {
	// Mode is insecure (query parameters, development only), hmac (HS256
	// JWT signed with a shared secret) or jwks (RS256, ES256 or EdDSA JWT
	// from an identity provider). Default insecure.
	Mode string `koanf:"mode" json:"mode"`
	// HMACSecret signs player tokens in hmac mode.
	HMACSecret string `koanf:"hmac_secret" json:"hmac_secret"`
	// AllowInsecurePublic lets insecure mode listen on a non-loopback
	// address. Default false.
	AllowInsecurePublic bool `koanf:"allow_insecure_public" json:"allow_insecure_public"`
	// JWKSURL is where jwks mode fetches the identity provider's key set
	// (https; http only for a loopback host).
	JWKSURL string `koanf:"jwks_url" json:"jwks_url"`
	// Issuer, when set, must equal a jwks token's iss claim.
	Issuer string `koanf:"issuer" json:"issuer"`
	// Audience, when set, must be one of a jwks token's aud values.
	Audience string `koanf:"audience" json:"audience"`
	// PlayerClaim names the jwks token claim that holds the player id.
	// Default sub.
	PlayerClaim string `koanf:"player_claim" json:"player_claim"`
	// JWKSRefreshInterval is how often the key set is fetched again, so
	// keys the provider withdrew stop being accepted. Default 15m.
	JWKSRefreshInterval time.Duration `koanf:"jwks_refresh_interval" json:"jwks_refresh_interval"`
	// JWKSMinRefreshInterval is the least time between two fetches caused
	// by tokens naming a key (kid) the cached set lacks, so forged kids
	// cannot make matchd hammer the provider. Default 30s.
	JWKSMinRefreshInterval time.Duration `koanf:"jwks_min_refresh_interval" json:"jwks_min_refresh_interval"`
	// JWKSTimeout bounds one fetch of the key set. Default 10s.
	JWKSTimeout time.Duration `koanf:"jwks_timeout" json:"jwks_timeout"`
}

// Redis configures the shared store.
type Redis struct {
	// Mode is embedded, standalone, sentinel or cluster. Default embedded.
	Mode string `koanf:"mode" json:"mode"`
	// Addrs are host:port pairs: the server (standalone), seed nodes
	// (cluster) or the sentinels (sentinel).
	Addrs []string `koanf:"addrs" json:"addrs"`
	// MasterSet names the Sentinel master set (sentinel mode only).
	MasterSet string `koanf:"master_set" json:"master_set"`
	// Password authenticates to Redis.
	Password string `koanf:"password" json:"password"`
	// KeyPrefix starts every key matchd writes. Default matchd.
	KeyPrefix string `koanf:"key_prefix" json:"key_prefix"`
	// AllowEmbeddedPublic lets embedded mode serve clients on a
	// non-loopback server.addr. Default false: the embedded store lives in
	// this one process, so it is lost on restart and shared with no other
	// node.
	AllowEmbeddedPublic bool `koanf:"allow_embedded_public" json:"allow_embedded_public"`
	// DialTimeout bounds one connection attempt. Default 2s.
	DialTimeout time.Duration `koanf:"dial_timeout" json:"dial_timeout"`
	// OpTimeout bounds one Redis call made on behalf of a client request.
	// Default 2s.
	OpTimeout time.Duration `koanf:"op_timeout" json:"op_timeout"`
	// StartupTimeout is how long start-up keeps retrying an unreachable
	// Redis before giving up. Default 30s.
	StartupTimeout time.Duration `koanf:"startup_timeout" json:"startup_timeout"`
	// BreakerFailures is the number of consecutive failed Redis calls that
	// opens the circuit breaker. Default 5.
	BreakerFailures int `koanf:"breaker_failures" json:"breaker_failures"`
	// RetryInterval is the pause before retrying Redis at start-up, before
	// resubscribing the bus and before a room retries after a failed call.
	// Default 500ms.
	RetryInterval time.Duration `koanf:"retry_interval" json:"retry_interval"`
	// TopologyRefresh is how often the Sentinel and Cluster clients refresh
	// their view of the topology, in case a switch was missed. Default 2s.
	TopologyRefresh time.Duration `koanf:"topology_refresh" json:"topology_refresh"`
	// BreakerCooldown is how long the breaker stays open before one probe
	// call is let through; clients are told to retry after it. Default 1s.
	BreakerCooldown time.Duration `koanf:"breaker_cooldown" json:"breaker_cooldown"`
}

// Matchmaking configures queues and the matching loop.
type Matchmaking struct {
	// Tick is the matching period of a queue. Default 100ms.
	Tick time.Duration `koanf:"tick" json:"tick"`
	// LockTTL is the lease of a mode's matching lock; it is renewed every
	// LockTTL/3 by its holder. Default 2s.
	LockTTL time.Duration `koanf:"lock_ttl" json:"lock_ttl"`
	// Modes are the configured game modes; at least one is required.
	Modes []Mode `koanf:"modes" json:"modes"`
	// PoolResync is how often the matching leader re-reads its whole pool
	// from Redis; in between it applies only the queue's changes.
	// Default 60s.
	PoolResync time.Duration `koanf:"pool_resync" json:"pool_resync"`
	// HomeRegions are the regions this node leads in preference, of every
	// mode that has them (docs/protocol.md section 9.5): a node in a
	// region's data centre, where that region's players connect, then forms
	// their matches itself. A region is led by a live node whose home it is
	// whenever there is one. Default none.
	HomeRegions []string `koanf:"home_regions" json:"home_regions"`
	// LivenessBatch is how many queued players the leader checks per tick
	// for a live session (a dead node's players are dequeued after the
	// reconnect grace). Default 1000.
	LivenessBatch int `koanf:"liveness_batch" json:"liveness_batch"`
}

// Mode is one game mode: its shape, waits and rating windows.
type Mode struct {
	// Name identifies the mode in enqueue requests, keys and metrics.
	Name string `koanf:"name" json:"name"`
	// Teams is the number of teams in a match. Default 2.
	Teams int `koanf:"teams" json:"teams"`
	// TeamSize is the number of players per team. Default 1.
	TeamSize int `koanf:"team_size" json:"team_size"`
	// MaxWait dequeues a ticket (reason timeout) after this long. Default 120s.
	MaxWait time.Duration `koanf:"max_wait" json:"max_wait"`
	// LoadingTimeout is the loading room's deadline. Default 30s.
	LoadingTimeout time.Duration `koanf:"loading_timeout" json:"loading_timeout"`
	// Rating shapes the rating window (docs/protocol.md section 9.1).
	Rating RatingWindow `koanf:"rating" json:"rating"`
	// Regions are where the mode is played, in order of preference on a
	// tie (docs/protocol.md section 15); each has its own matching leader.
	// Empty (the default): the mode has no regions.
	Regions []string `koanf:"regions" json:"regions"`
	// Latency says in which regions a ticket may play; read only when
	// Regions is set.
	Latency LatencyRule `koanf:"latency" json:"latency"`
}

// LatencyRule is the round-trip limit a ticket accepts for a region,
// widening with its wait like the rating window (docs/protocol.md section 15).
type LatencyRule struct {
	// MaxMs is the limit at enqueue, in ms. Default 60.
	MaxMs float64 `koanf:"max_ms" json:"max_ms"`
	// WidenPerSecond raises the limit per second waited, in ms. Default 2.
	WidenPerSecond float64 `koanf:"widen_per_second" json:"widen_per_second"`
	// MaxMsLimit caps the limit, in ms. Default 150.
	MaxMsLimit float64 `koanf:"max_ms_limit" json:"max_ms_limit"`
}

// RatingWindow is the rating spread a ticket accepts, widening with its wait.
type RatingWindow struct {
	// InitialWindow is the spread accepted at enqueue. Default 100.
	InitialWindow float64 `koanf:"initial_window" json:"initial_window"`
	// WidenPerSecond widens the window per second waited. Default 20.
	WidenPerSecond float64 `koanf:"widen_per_second" json:"widen_per_second"`
	// MaxWindow caps the window. Default 1000.
	MaxWindow float64 `koanf:"max_window" json:"max_window"`
}

// Session configures player sessions.
type Session struct {
	// ReconnectGrace keeps a dropped player's ticket or seat this long.
	// Default 15s.
	ReconnectGrace time.Duration `koanf:"reconnect_grace" json:"reconnect_grace"`
	// RateLimit bounds client requests per session.
	RateLimit RateLimit `koanf:"rate_limit" json:"rate_limit"`
	// DirectoryTTL is the lifetime of a player's directory entry; the owning
	// node renews it at half of this. Default 30s.
	DirectoryTTL time.Duration `koanf:"directory_ttl" json:"directory_ttl"`
	// ReconcileInterval is how often a session re-reads its truth from Redis
	// in case a cross-node message was lost (an idle session, whose truth
	// only its own requests change, every fourth interval). Default 2s.
	ReconcileInterval time.Duration `koanf:"reconcile_interval" json:"reconcile_interval"`
	// OutcomeTTL is how long Redis keeps what happened to a player's ticket
	// or seat (dequeued and why, match started or cancelled) until the
	// player's session has told it: a player who comes back within it hears
	// what it missed. At least reconnect_grace. Default 10m.
	OutcomeTTL time.Duration `koanf:"outcome_ttl" json:"outcome_ttl"`
}

// RateLimit is a token bucket.
type RateLimit struct {
	// PerSecond is the sustained request rate. Default 20.
	PerSecond float64 `koanf:"per_second" json:"per_second"`
	// Burst is the bucket size. Default 40.
	Burst int `koanf:"burst" json:"burst"`
}

// Sanctions configures the violation ladder.
type Sanctions struct {
	// Ladder is the ban length by number of live violations: entry i applies
	// at i+1 violations, the last entry beyond. Default [0s 1m 5m 30m 2h].
	Ladder []time.Duration `koanf:"ladder" json:"ladder"`
	// Decay is how long one violation stays live. Default 24h.
	Decay time.Duration `koanf:"decay" json:"decay"`
}

// StateEvents configures the matchd:events stream.
type StateEvents struct {
	// Enabled publishes state events. Default false.
	Enabled bool `koanf:"enabled" json:"enabled"`
	// MaxLen caps the stream approximately. Default 100000.
	MaxLen int64 `koanf:"max_len" json:"max_len"`
}

// Debug configures developer aids.
type Debug struct {
	// FaultInjection enables POST /debug/crash and the other switches of
	// this block, which exist to test failure handling. Default false.
	FaultInjection bool `koanf:"fault_injection" json:"fault_injection"`
	// DropBus lists cross-node message kinds this node drops instead of
	// publishing (e.g. dequeued), to test that players still learn what
	// happened from Redis. Refused unless fault_injection. Default none.
	DropBus []string `koanf:"drop_bus" json:"drop_bus"`
	// ClockOffset shifts this node's own clock (may be negative), so tests
	// can run nodes whose clocks disagree: decisions that must agree across
	// nodes are made by Redis's clock, so it changes none of them. Refused
	// unless fault_injection. Default 0s.
	ClockOffset time.Duration `koanf:"clock_offset" json:"clock_offset"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `koanf:"level" json:"level"`
	// Format is json or text. Default json.
	Format string `koanf:"format" json:"format"`
}

// Allocator configures game-server allocation (docs/protocol.md section 9.3).
type Allocator struct {
	// Mode is none, static or http. Default none.
	Mode string `koanf:"mode" json:"mode"`
	// Servers are the static allocator's game servers: "host:port", or
	// {addr, region} for a server of one region (docs/protocol.md section 15).
	Servers []GameServer `koanf:"servers" json:"servers"`
	// RequestTimeout bounds one allocation call. Default 3s.
	RequestTimeout time.Duration `koanf:"request_timeout" json:"request_timeout"`
	// MaxAttempts is the number of servers tried. Default 3.
	MaxAttempts int `koanf:"max_attempts" json:"max_attempts"`
	// Heartbeat is the game-server registration renewal period; a
	// registration expires after three missed heartbeats. Default 5s.
	Heartbeat time.Duration `koanf:"heartbeat" json:"heartbeat"`
}

// GameServer is one game server of the static allocator. A plain
// "host:port" in the file or the environment is a server with no region.
type GameServer struct {
	// Addr is host:port.
	Addr string `koanf:"addr" json:"addr"`
	// Region is the region the server runs in; empty serves any region.
	Region string `koanf:"region" json:"region,omitempty"`
}

// Rooms configures loading-room bookkeeping.
type Rooms struct {
	// FinishedTTL keeps a resolved room's record this long so late or
	// duplicate messages find an answer. Default 60s.
	FinishedTTL time.Duration `koanf:"finished_ttl" json:"finished_ttl"`
	// AdoptAfter is how long past its deadline a room may stay unresolved
	// before another node's sweeper adopts it. Default 5s.
	AdoptAfter time.Duration `koanf:"adopt_after" json:"adopt_after"`
	// SweepInterval is how often each node looks for orphaned rooms.
	// Default 1s.
	SweepInterval time.Duration `koanf:"sweep_interval" json:"sweep_interval"`
	// NodeTTL is the lifetime of a node's liveness key, renewed at a third
	// of it; a room whose owner's key is gone is adopted at once. Default 6s.
	NodeTTL time.Duration `koanf:"node_ttl" json:"node_ttl"`
}

// Default returns the built-in defaults of docs/protocol.md section 10.3.
func Default() Config {
	return Config{
		Server: Server{
			Addr:             "127.0.0.1:8080",
			MaxMessageBytes:  4096,
			PingInterval:     15 * time.Second,
			WriteTimeout:     5 * time.Second,
			DrainTimeout:     20 * time.Second,
			HandshakeTimeout: 10 * time.Second,
			ReconnectAfter:   time.Second,
			SendQueue:        64,
		},
		Admin: Admin{Addr: "127.0.0.1:9090"},
		Auth: Auth{
			Mode:                   "insecure",
			PlayerClaim:            "sub",
			JWKSRefreshInterval:    15 * time.Minute,
			JWKSMinRefreshInterval: 30 * time.Second,
			JWKSTimeout:            10 * time.Second,
		},
		Redis: Redis{
			Mode:            "embedded",
			KeyPrefix:       "matchd",
			DialTimeout:     2 * time.Second,
			OpTimeout:       2 * time.Second,
			StartupTimeout:  30 * time.Second,
			BreakerFailures: 5,
			RetryInterval:   500 * time.Millisecond,
			TopologyRefresh: 2 * time.Second,
			BreakerCooldown: time.Second,
		},
		Matchmaking: Matchmaking{
			Tick:          100 * time.Millisecond,
			LockTTL:       2 * time.Second,
			PoolResync:    time.Minute,
			LivenessBatch: 1000,
			Modes: []Mode{{
				Name:           "duel",
				Teams:          2,
				TeamSize:       1,
				MaxWait:        120 * time.Second,
				LoadingTimeout: 30 * time.Second,
				Rating:         RatingWindow{InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000},
				Latency:        LatencyRule{MaxMs: 60, WidenPerSecond: 2, MaxMsLimit: 150},
			}},
		},
		Session: Session{
			ReconnectGrace:    15 * time.Second,
			RateLimit:         RateLimit{PerSecond: 20, Burst: 40},
			DirectoryTTL:      30 * time.Second,
			ReconcileInterval: 2 * time.Second,
			OutcomeTTL:        10 * time.Minute,
		},
		Party: Party{MaxSize: 5, InviteTTL: time.Minute, TTL: 10 * time.Minute},
		Sanctions: Sanctions{
			Ladder: []time.Duration{0, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour},
			Decay:  24 * time.Hour,
		},
		StateEvents: StateEvents{MaxLen: 100000},
		Log:         Log{Level: "info", Format: "json"},
		Allocator: Allocator{
			Mode:           "none",
			RequestTimeout: 3 * time.Second,
			MaxAttempts:    3,
			Heartbeat:      5 * time.Second,
		},
		Supervision: Supervision{MaxRestarts: 10, Window: time.Minute},
		Reload:      Reload{Debounce: 250 * time.Millisecond},
		Runtime:     Runtime{AdaptiveGC: true},
		Rooms: Rooms{
			FinishedTTL:   60 * time.Second,
			AdoptAfter:    5 * time.Second,
			SweepInterval: time.Second,
			NodeTTL:       6 * time.Second,
		},
	}
}

// ModeByName returns the named mode and whether it is configured.
func (c *Config) ModeByName(name string) (Mode, bool) {
	for _, m := range c.Matchmaking.Modes {
		if m.Name == name {
			return m, true
		}
	}
	return Mode{}, false
}
