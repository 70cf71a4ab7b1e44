package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a YAML file into a fresh temp dir and returns its path.
func writeConfig(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "matchd.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultValidates(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
}

func TestLoadNoSourcesGivesDefaults(t *testing.T) {
	got, opts, err := Load(nil, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.NodeID = defaultNodeID()
	if d := diffKeys(got, want); len(d) > 0 {
		t.Errorf("Load(nil, nil) differs from Default() in %v", d)
	}
	if opts.ConfigFile != "" || opts.PrintConfig || len(opts.IgnoredEnv) > 0 {
		t.Errorf("got options %+v, want zero", opts)
	}
}

// TestModeDefaultsMatchProtocol pins the per-field defaults a mode from the
// file receives (they are derived from the default mode).
func TestModeDefaultsMatchProtocol(t *testing.T) {
	m := Default().Matchmaking.Modes[0]
	m.Name = ""
	want := Mode{Teams: 2, TeamSize: 1, MaxWait: 120 * time.Second, LoadingTimeout: 30 * time.Second,
		Rating:  RatingWindow{InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000},
		Latency: LatencyRule{MaxMs: 60, WidenPerSecond: 2, MaxMsLimit: 150}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got default mode %+v, want %+v", m, want)
	}
}

func TestLoadSources(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name  string
		file  string // YAML; "" for no --config
		env   []string
		args  []string
		check func(c Config) (got, want any)
	}{
		{
			name: "regions and regional servers",
			file: "matchmaking:\n  modes:\n    - name: duel\n      regions: [eu, us-east, asia]\n      latency: {max_ms: 50}\n" +
				"allocator:\n  mode: static\n  servers: [\"gs0:7000\", {addr: \"gs1:7000\", region: eu}]\n",
			check: func(c Config) (any, any) {
				m := c.Matchmaking.Modes[0]
				return []any{m.Regions, m.Latency, c.Allocator.Servers},
					[]any{[]string{"eu", "us-east", "asia"}, LatencyRule{MaxMs: 50, WidenPerSecond: 2, MaxMsLimit: 150},
						[]GameServer{{Addr: "gs0:7000"}, {Addr: "gs1:7000", Region: "eu"}}}
			},
		},
		{
			name:  "servers from the environment",
			env:   []string{"MATCHD_ALLOCATOR__MODE=static", "MATCHD_ALLOCATOR__SERVERS=a:1, b:2"},
			check: func(c Config) (any, any) { return c.Allocator.Servers, []GameServer{{Addr: "a:1"}, {Addr: "b:2"}} },
		},
		{
			name:  "file overrides default",
			file:  "server:\n  addr: 127.0.0.1:7000\n",
			check: func(c Config) (any, any) { return c.Server.Addr, "127.0.0.1:7000" },
		},
		{
			name:  "file keeps defaults of keys it omits",
			file:  "server:\n  addr: 127.0.0.1:7000\n",
			check: func(c Config) (any, any) { return c.Server.MaxMessageBytes, 4096 },
		},
		{
			name:  "null block in file keeps defaults",
			file:  "server:\n  # addr: 0.0.0.0:1\nlog:\n",
			check: func(c Config) (any, any) { return c.Server.Addr, "127.0.0.1:8080" },
		},
		{
			name:  "env overrides file",
			file:  "log:\n  level: debug\n",
			env:   []string{"MATCHD_LOG__LEVEL=warn"},
			check: func(c Config) (any, any) { return c.Log.Level, "warn" },
		},
		{
			name:  "flag overrides env",
			file:  "log:\n  level: debug\n",
			env:   []string{"MATCHD_LOG__LEVEL=warn"},
			args:  []string{"--log.level=error"},
			check: func(c Config) (any, any) { return c.Log.Level, "error" },
		},
		{
			name:  "unset flag does not override env",
			env:   []string{"MATCHD_LOG__LEVEL=warn"},
			args:  []string{"--server.addr", "127.0.0.1:1"},
			check: func(c Config) (any, any) { return c.Log.Level, "warn" },
		},
		{
			name:  "unset flag does not override file",
			file:  "admin: {addr: '127.0.0.1:9999'}\n",
			check: func(c Config) (any, any) { return c.Admin.Addr, "127.0.0.1:9999" },
		},
		{
			name: "env list is split on commas",
			env:  []string{"MATCHD_REDIS__MODE=cluster", "MATCHD_REDIS__ADDRS=a:6379,b:6379"},
			check: func(c Config) (any, any) {
				return c.Redis.Addrs, []string{"a:6379", "b:6379"}
			},
		},
		{
			name: "env list items are trimmed, empty ones dropped",
			env:  []string{"MATCHD_REDIS__MODE=cluster", "MATCHD_REDIS__ADDRS= a:6379 , b:6379,"},
			check: func(c Config) (any, any) {
				return c.Redis.Addrs, []string{"a:6379", "b:6379"}
			},
		},
		{
			name: "env list replaces file list",
			file: "redis: {mode: standalone, addrs: [x:1, y:2, z:3]}\n",
			env:  []string{"MATCHD_REDIS__ADDRS=a:6379"},
			check: func(c Config) (any, any) {
				return c.Redis.Addrs, []string{"a:6379"}
			},
		},
		{
			name: "flag list, repeated and comma-separated",
			args: []string{"--redis.mode", "cluster", "--redis.addrs", "a:1,b:2", "--redis.addrs", "c:3"},
			check: func(c Config) (any, any) {
				return c.Redis.Addrs, []string{"a:1", "b:2", "c:3"}
			},
		},
		{
			name:  "env nested key with underscores",
			env:   []string{"MATCHD_SERVER__MAX_MESSAGE_BYTES=8192"},
			check: func(c Config) (any, any) { return c.Server.MaxMessageBytes, 8192 },
		},
		{
			name:  "env top-level key",
			env:   []string{"MATCHD_NODE_ID=node-7"},
			check: func(c Config) (any, any) { return c.NodeID, "node-7" },
		},
		{
			name:  "flag node-id overrides env",
			env:   []string{"MATCHD_NODE_ID=node-7"},
			args:  []string{"--node-id", "node-8"},
			check: func(c Config) (any, any) { return c.NodeID, "node-8" },
		},
		{
			name:  "empty node_id becomes hostname-pid",
			file:  "node_id: ''\n",
			check: func(c Config) (any, any) { return c.NodeID, fmt.Sprintf("%s-%d", host, os.Getpid()) },
		},
		{
			name:  "integral float is an integer",
			file:  "server: {max_message_bytes: 8e3}\n",
			check: func(c Config) (any, any) { return c.Server.MaxMessageBytes, 8000 },
		},
		{
			name:  "env bool",
			env:   []string{"MATCHD_STATE_EVENTS__ENABLED=true"},
			check: func(c Config) (any, any) { return c.StateEvents.Enabled, true },
		},
		{
			name:  "env float",
			env:   []string{"MATCHD_SESSION__RATE_LIMIT__PER_SECOND=2.5"},
			check: func(c Config) (any, any) { return c.Session.RateLimit.PerSecond, 2.5 },
		},
		{
			name:  "env duration",
			env:   []string{"MATCHD_MATCHMAKING__TICK=50ms"},
			check: func(c Config) (any, any) { return c.Matchmaking.Tick, 50 * time.Millisecond },
		},
		{
			name:  "file duration",
			file:  "server: {ping_interval: 1m30s}\n",
			check: func(c Config) (any, any) { return c.Server.PingInterval, 90 * time.Second },
		},
		{
			name: "ladder from YAML list",
			file: "sanctions:\n  ladder: [0s, 30s, 10m]\n",
			check: func(c Config) (any, any) {
				return c.Sanctions.Ladder, []time.Duration{0, 30 * time.Second, 10 * time.Minute}
			},
		},
		{
			name: "ladder from YAML accepts a bare 0",
			file: "sanctions:\n  ladder: [0, 1m]\n",
			check: func(c Config) (any, any) {
				return c.Sanctions.Ladder, []time.Duration{0, time.Minute}
			},
		},
		{
			name: "ladder from env",
			env:  []string{"MATCHD_SANCTIONS__LADDER=0s,1m,1h"},
			check: func(c Config) (any, any) {
				return c.Sanctions.Ladder, []time.Duration{0, time.Minute, time.Hour}
			},
		},
		{
			name: "modes in file replace the default list",
			file: "matchmaking:\n  modes:\n    - name: squad\n      team_size: 4\n",
			check: func(c Config) (any, any) {
				names := []string{}
				for _, m := range c.Matchmaking.Modes {
					names = append(names, m.Name)
				}
				return names, []string{"squad"}
			},
		},
		{
			name: "mode from file gets per-field defaults",
			file: "matchmaking:\n  modes:\n    - name: squad\n      team_size: 4\n",
			check: func(c Config) (any, any) {
				return c.Matchmaking.Modes[0], Mode{Name: "squad", Teams: 2, TeamSize: 4,
					MaxWait: 120 * time.Second, LoadingTimeout: 30 * time.Second,
					Rating:  RatingWindow{InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000},
					Latency: LatencyRule{MaxMs: 60, WidenPerSecond: 2, MaxMsLimit: 150}}
			},
		},
		{
			name: "mode with partial rating keeps the other rating defaults",
			file: "matchmaking:\n  modes:\n    - {name: ffa, teams: 8, rating: {max_window: 500, widen_per_second: 0}}\n",
			check: func(c Config) (any, any) {
				return c.Matchmaking.Modes[0].Rating, RatingWindow{InitialWindow: 100, WidenPerSecond: 0, MaxWindow: 500}
			},
		},
		{
			name: "second mode gets its own defaults",
			file: "matchmaking:\n  modes:\n    - {name: a, max_wait: 10s}\n    - {name: b}\n",
			check: func(c Config) (any, any) {
				return []time.Duration{c.Matchmaking.Modes[0].MaxWait, c.Matchmaking.Modes[1].MaxWait},
					[]time.Duration{10 * time.Second, 120 * time.Second}
			},
		},
		{
			name:  "--config and --print-config are not config keys",
			args:  []string{"--print-config"},
			check: func(c Config) (any, any) { return c.Server.Addr, "127.0.0.1:8080" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := slices.Clone(tt.args)
			if tt.file != "" {
				args = append(args, "--config", writeConfig(t, tt.file))
			}
			c, _, err := Load(args, tt.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got, want := tt.check(c)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestLoadOptions(t *testing.T) {
	path := writeConfig(t, "")
	_, opts, err := Load([]string{"--config", path, "--print-config"}, []string{
		"MATCHD_PORT=tcp://10.0.0.1:8080", // Kubernetes service link
		"MATCHD_REDIS_ADDRS=a:1",          // single underscore: a typo
		"MATCHD_SERVER=x",                 // a section, not a key
		"PATH=/bin",
		"matchd_log__level=debug", // the prefix is case-sensitive
		"MATCHD_LOG__LEVEL=warn",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if opts.ConfigFile != path {
		t.Errorf("got ConfigFile %q, want %q", opts.ConfigFile, path)
	}
	if !opts.PrintConfig {
		t.Errorf("got PrintConfig false, want true")
	}
	want := []string{"MATCHD_PORT", "MATCHD_REDIS_ADDRS", "MATCHD_SERVER"}
	if !reflect.DeepEqual(opts.IgnoredEnv, want) {
		t.Errorf("got IgnoredEnv %v, want %v", opts.IgnoredEnv, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		args []string
		want []string // substrings of the error
	}{
		{
			name: "unknown key in file names the key and suggests",
			file: "server:\n  adr: 127.0.0.1:1\n",
			want: []string{"config: server.adr: unknown key", "did you mean server.addr?"},
		},
		{
			name: "unknown top-level key",
			file: "sever: {addr: x}\n",
			want: []string{"config: sever: unknown key", "did you mean server?"},
		},
		{
			name: "wrong case is unknown",
			file: "Server: {addr: 127.0.0.1:1}\n",
			want: []string{"config: Server: unknown key", "did you mean server?"},
		},
		{
			name: "unknown key inside a mode",
			file: "matchmaking:\n  modes:\n    - {name: duel, team_sise: 2}\n",
			want: []string{"config: matchmaking.modes[0].team_sise: unknown key", "did you mean matchmaking.modes[0].team_size?"},
		},
		{
			name: "bare number duration",
			file: "matchmaking: {tick: 100}\n",
			want: []string{"config: matchmaking.tick:", `add a unit such as "100s"`},
		},
		{
			name: "bad duration string",
			file: "session: {reconnect_grace: soon}\n",
			want: []string{"config: session.reconnect_grace:", `"soon" is not a duration`},
		},
		{
			name: "bad duration in ladder env",
			env:  []string{"MATCHD_SANCTIONS__LADDER=0s,later"},
			want: []string{"config: sanctions.ladder[1]:", `"later" is not a duration`},
		},
		{
			name: "bad int from env",
			env:  []string{"MATCHD_SERVER__MAX_SESSIONS=lots"},
			want: []string{`config: server.max_sessions: want an integer, got "lots"`},
		},
		{
			name: "mapping where an integer is wanted",
			file: "server: {send_queue: {a: 1}}\n",
			want: []string{"config: server.send_queue: want an integer, got a mapping"},
		},
		{
			name: "fractional integer",
			file: "server: {send_queue: 1.9}\n",
			want: []string{"config: server.send_queue: want an integer, got 1.9"},
		},
		{
			name: "modes cannot come from env",
			env:  []string{"MATCHD_MATCHMAKING__MODES=duel"},
			want: []string{"config: matchmaking.modes: can only be set in the config file"},
		},
		{
			name: "all problems reported at once",
			file: "server: {adr: x, max_sessions: lots}\n",
			env:  []string{"MATCHD_MATCHMAKING__TICK=soon"},
			want: []string{"server.adr", "server.max_sessions", "matchmaking.tick"},
		},
		{
			name: "invalid value is rejected by validation",
			env:  []string{"MATCHD_LOG__LEVEL=verbose"},
			want: []string{`config: log.level: must be one of debug, info, warn, error; got "verbose"`},
		},
		{
			name: "broken YAML",
			file: "server: [\n",
			want: []string{"config: ", "matchd.yaml"},
		},
		{
			name: "YAML list at top level",
			file: "- a\n- b\n",
			want: []string{"config: ", "matchd.yaml"},
		},
		{
			name: "missing file",
			args: []string{"--config", "/nonexistent/matchd.yaml"},
			want: []string{"config: ", "/nonexistent/matchd.yaml"},
		},
		{
			name: "unknown flag",
			args: []string{"--no-such-flag"},
			want: []string{"config: flags: unknown flag: --no-such-flag"},
		},
		{
			name: "positional argument",
			args: []string{"serve"},
			want: []string{`config: flags: unexpected argument "serve"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := slices.Clone(tt.args)
			if tt.file != "" {
				args = append(args, "--config", writeConfig(t, tt.file))
			}
			_, _, err := Load(args, tt.env)
			if err == nil {
				t.Fatalf("got nil error, want one containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			_, _, err := Load([]string{arg}, nil)
			if !errors.Is(err, ErrHelp) {
				t.Errorf("got %v, want ErrHelp", err)
			}
		})
	}
	u := Usage()
	for _, f := range []string{"--config", "--print-config", "--node-id", "--server.addr", "--admin.addr", "--redis.mode", "--redis.addrs", "--log.level", "MATCHD_"} {
		if !strings.Contains(u, f) {
			t.Errorf("Usage() lacks %q", f)
		}
	}
}

func TestLoadFieldErrorKeys(t *testing.T) {
	path := writeConfig(t, "matchmaking:\n  modes:\n    - {name: duel}\n    - {name: solo, team_size: 0}\n")
	_, _, err := Load([]string{"--config", path}, nil)
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *FieldError", err)
	}
	if got, want := fe.Key, "matchmaking.modes[1].team_size"; got != want {
		t.Errorf("got key %q, want %q", got, want)
	}
	if got, want := err.Error(), "config: matchmaking.modes[1].team_size: must be >= 1, got 0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// protocolExample is the YAML of docs/protocol.md section 10.3, verbatim.
const protocolExample = `node_id: ""                 # default: hostname-pid
server: {addr: "127.0.0.1:8080", max_message_bytes: 4096, ping_interval: 15s, write_timeout: 5s, max_sessions: 0, drain_timeout: 20s}
admin:  {addr: "127.0.0.1:9090", token: ""}   # a non-loopback admin.addr needs a token (>= 32 bytes)
metrics: {addr: ""}                            # optional: /metrics, /healthz, /readyz on a listener of their own
auth:   {mode: insecure, hmac_secret: "", allow_insecure_public: false,
         jwks_url: "", issuer: "", audience: "", player_claim: sub}
redis:
  mode: embedded            # embedded | standalone | sentinel | cluster
  addrs: []                 # standalone/cluster: host:port; sentinel: the sentinels
  master_set: ""            # sentinel only
  password: ""
  key_prefix: matchd
  allow_embedded_public: false   # embedded + a non-loopback server.addr stops start-up unless true
matchmaking:
  tick: 100ms
  lock_ttl: 2s
  modes:
    - name: duel
      teams: 2
      team_size: 1
      max_wait: 120s
      loading_timeout: 30s
      rating: {initial_window: 100, widen_per_second: 20, max_window: 1000}
session: {reconnect_grace: 15s, rate_limit: {per_second: 20, burst: 40}}
sanctions: {ladder: [0s, 1m, 5m, 30m, 2h], decay: 24h}
state_events: {enabled: false}
debug: {fault_injection: false}
log: {level: info, format: json}
allocator: {mode: none, servers: [], request_timeout: 3s, max_attempts: 3, heartbeat: 5s}
`

// TestProtocolExampleIsTheDefault checks that the documented file loads and
// says nothing the defaults do not.
func TestProtocolExampleIsTheDefault(t *testing.T) {
	got, _, err := Load([]string{"--config", writeConfig(t, protocolExample)}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.NodeID = got.NodeID
	if d := diffKeys(got, want); len(d) > 0 {
		t.Errorf("got differences from Default() in %v, want none", d)
	}
}

// TestLoadVersionFlag: --version is honoured whatever the configuration
// says, so a broken file cannot hide which build is installed.
func TestLoadVersionFlag(t *testing.T) {
	path := writeConfig(t, "matchmaking:\n  tick: -1s\n")
	_, opts, err := Load([]string{"--config", path, "--version"}, []string{"MATCHD_SERVER__ADDR=bogus"})
	if err != nil || !opts.Version {
		t.Errorf("Load(--version) = Version %v, %v; want true, nil", opts.Version, err)
	}
}
