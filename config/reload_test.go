package config

import (
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestStore loads content from a file and returns a Store over it plus
// a function that rewrites the file and reloads.
func newTestStore(t *testing.T, content string) (*Store, func(string) ([]string, []string, error)) {
	t.Helper()
	path := writeConfig(t, content)
	args := []string{"--config", path}
	c, _, err := Load(args, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	s := NewStore(c)
	return s, func(next string) ([]string, []string, error) {
		if err := os.WriteFile(path, []byte(next), 0o600); err != nil {
			t.Fatal(err)
		}
		return s.Reload(args, nil)
	}
}

func TestReload(t *testing.T) {
	const base = "matchmaking:\n  tick: 100ms\n"
	tests := []struct {
		name        string
		next        string
		wantChanged []string
		wantRestart []string
		check       func(c *Config) (got, want any)
	}{
		{
			name:        "changed tick is applied",
			next:        "matchmaking:\n  tick: 50ms\n",
			wantChanged: []string{"matchmaking.tick"},
			check:       func(c *Config) (any, any) { return c.Matchmaking.Tick, 50 * time.Millisecond },
		},
		{
			name:        "changed server.addr needs a restart and is not applied",
			next:        base + "server:\n  addr: 127.0.0.1:8181\n",
			wantRestart: []string{"server.addr"},
			check:       func(c *Config) (any, any) { return c.Server.Addr, "127.0.0.1:8080" },
		},
		{
			name:        "live and restart keys together: live one applied",
			next:        "matchmaking:\n  tick: 50ms\nredis:\n  key_prefix: other\n",
			wantChanged: []string{"matchmaking.tick"},
			wantRestart: []string{"redis.key_prefix"},
			check: func(c *Config) (any, any) {
				return []any{c.Matchmaking.Tick, c.Redis.KeyPrefix}, []any{50 * time.Millisecond, "matchd"}
			},
		},
		{
			name:        "mode max_wait is live",
			next:        "matchmaking:\n  modes: [{name: duel, max_wait: 60s}]\n",
			wantChanged: []string{"matchmaking.modes[duel].max_wait"},
			check:       func(c *Config) (any, any) { return c.Matchmaking.Modes[0].MaxWait, time.Minute },
		},
		{
			name:        "mode team_size needs a restart",
			next:        "matchmaking:\n  modes: [{name: duel, team_size: 2}]\n",
			wantRestart: []string{"matchmaking.modes[duel].team_size"},
			check:       func(c *Config) (any, any) { return c.Matchmaking.Modes[0].TeamSize, 1 },
		},
		{
			name:        "added mode needs a restart",
			next:        "matchmaking:\n  modes: [{name: duel}, {name: squad, team_size: 4}]\n",
			wantRestart: []string{"matchmaking.modes[squad]"},
			check:       func(c *Config) (any, any) { return len(c.Matchmaking.Modes), 1 },
		},
		{
			name:        "removed mode needs a restart",
			next:        "matchmaking:\n  modes: [{name: squad, team_size: 4}]\n",
			wantRestart: []string{"matchmaking.modes[duel]", "matchmaking.modes[squad]"},
			check:       func(c *Config) (any, any) { return c.Matchmaking.Modes[0].Name, "duel" },
		},
		{
			name:        "lock_ttl needs a restart",
			next:        "matchmaking:\n  lock_ttl: 3s\n",
			wantRestart: []string{"matchmaking.lock_ttl"},
			check:       func(c *Config) (any, any) { return c.Matchmaking.LockTTL, 2 * time.Second },
		},
		{
			name:  "no change",
			next:  base,
			check: func(c *Config) (any, any) { return c.Matchmaking.Tick, 100 * time.Millisecond },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reload := newTestStore(t, base)
			changed, restart, err := reload(tt.next)
			if err != nil {
				t.Fatalf("Reload: %v", err)
			}
			if !equalKeys(changed, tt.wantChanged) {
				t.Errorf("got changed %v, want %v", changed, tt.wantChanged)
			}
			if !equalKeys(restart, tt.wantRestart) {
				t.Errorf("got restartNeeded %v, want %v", restart, tt.wantRestart)
			}
			got, want := tt.check(s.Get())
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func equalKeys(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// TestReloadLiveKeys pins the set of live keys: every one of them changes
// without a restart.
func TestReloadLiveKeys(t *testing.T) {
	s, reload := newTestStore(t, "")
	changed, restart, err := reload(`
matchmaking:
  tick: 200ms
  modes:
    - name: duel
      max_wait: 1m
      loading_timeout: 10s
      rating: {initial_window: 1, widen_per_second: 2, max_window: 3}
session:
  reconnect_grace: 5s
  rate_limit: {per_second: 5, burst: 6}
sanctions: {ladder: [1s], decay: 1h}
log: {level: debug}
state_events: {enabled: true}
allocator: {request_timeout: 1s, max_attempts: 7}
rooms: {finished_ttl: 1s, adopt_after: 2s, sweep_interval: 3s, node_ttl: 4s}
`)
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	want := []string{
		"allocator.max_attempts", "allocator.request_timeout", "log.level",
		"matchmaking.modes[duel].loading_timeout", "matchmaking.modes[duel].max_wait",
		"matchmaking.modes[duel].rating.initial_window", "matchmaking.modes[duel].rating.max_window",
		"matchmaking.modes[duel].rating.widen_per_second", "matchmaking.tick",
		"rooms.adopt_after", "rooms.finished_ttl", "rooms.node_ttl", "rooms.sweep_interval",
		"sanctions.decay", "sanctions.ladder", "session.rate_limit.burst",
		"session.rate_limit.per_second", "session.reconnect_grace", "state_events.enabled",
	}
	if !reflect.DeepEqual(changed, want) {
		t.Errorf("got changed %v, want %v", changed, want)
	}
	if len(restart) != 0 {
		t.Errorf("got restartNeeded %v, want none", restart)
	}
	if got := s.Get().Sanctions.Ladder; !reflect.DeepEqual(got, []time.Duration{time.Second}) {
		t.Errorf("got ladder %v, want [1s]", got)
	}
}

// TestReloadRestartKeys samples keys that must wait for a restart.
func TestReloadRestartKeys(t *testing.T) {
	s, reload := newTestStore(t, "")
	before := *s.Get()
	changed, restart, err := reload(`
node_id: other
server: {addr: "127.0.0.1:1", max_message_bytes: 8192, send_queue: 1}
admin: {addr: "127.0.0.1:2", token: t}
auth: {mode: hmac, hmac_secret: 0123456789abcdef}
redis: {mode: standalone, addrs: ["r:6379"], password: p}
session: {directory_ttl: 1m, reconcile_interval: 1s}
state_events: {max_len: 5}
debug: {fault_injection: true}
log: {format: text}
allocator: {mode: http, heartbeat: 1s}
`)
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if len(changed) != 0 {
		t.Errorf("got changed %v, want none", changed)
	}
	want := []string{
		"admin.addr", "admin.token", "allocator.heartbeat", "allocator.mode", "auth.hmac_secret", "auth.mode",
		"debug.fault_injection", "log.format", "node_id", "redis.addrs", "redis.mode", "redis.password",
		"server.addr", "server.max_message_bytes", "server.send_queue",
		"session.directory_ttl", "session.reconcile_interval", "state_events.max_len",
	}
	if !reflect.DeepEqual(restart, want) {
		t.Errorf("got restartNeeded %v, want %v", restart, want)
	}
	if d := diffKeys(*s.Get(), before); len(d) > 0 {
		t.Errorf("got config changed in %v, want unchanged", d)
	}
}

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	tests := []struct {
		name    string
		next    string
		wantErr string
	}{
		{"broken YAML", "matchmaking: [tick: \n", "config: "},
		{"unknown key", "matchmaking:\n  tik: 50ms\n", "matchmaking.tik"},
		{"invalid value", "matchmaking:\n  tick: 0s\n", "matchmaking.tick"},
		// The tick is live but the lock_ttl it needs is not: applying the
		// tick alone would break lock_ttl >= 3*tick.
		{"live value inconsistent with restart value", "matchmaking:\n  tick: 1s\n  lock_ttl: 3s\n", "matchmaking.lock_ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reload := newTestStore(t, "")
			before := s.Get()
			ch, cancel := s.Subscribe()
			defer cancel()
			_, _, err := reload(tt.next)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if s.Get() != before {
				t.Errorf("got a new config after a failed reload, want the old one kept")
			}
			select {
			case <-ch:
				t.Errorf("got a notification after a failed reload, want none")
			default:
			}
		})
	}
}

func TestReloadDeletedKeyReturnsToDefault(t *testing.T) {
	s, reload := newTestStore(t, "sanctions: {decay: 1h}\n")
	if got := s.Get().Sanctions.Decay; got != time.Hour {
		t.Fatalf("got decay %v, want 1h", got)
	}
	if _, _, err := reload(""); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got := s.Get().Sanctions.Decay; got != 24*time.Hour {
		t.Errorf("got decay %v, want the default 24h", got)
	}
}

func TestSubscribe(t *testing.T) {
	s, reload := newTestStore(t, "")
	ch, cancel := s.Subscribe()
	other, cancelOther := s.Subscribe()
	cancelOther()
	cancelOther() // idempotent

	if _, _, err := reload("server: {addr: '127.0.0.1:1'}\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Errorf("got a notification for a restart-only change, want none")
	default:
	}

	for i := range 3 { // several reloads coalesce into one pending value
		tick := time.Duration(50+i) * time.Millisecond
		if _, _, err := reload("matchmaking: {tick: " + tick.String() + "}\n"); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ch:
	default:
		t.Errorf("got no notification after a live change, want one")
	}
	select {
	case <-ch:
		t.Errorf("got a second pending notification, want reloads coalesced into one")
	default:
	}
	select {
	case <-other:
		t.Errorf("got a notification on a cancelled subscription, want none")
	default:
	}
	cancel()
}

// TestStoreConcurrent runs readers against reloads for the race detector.
func TestStoreConcurrent(t *testing.T) {
	s, reload := newTestStore(t, "")
	ch, cancel := s.Subscribe()
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-ch:
				default:
				}
				c := s.Get()
				if c.Matchmaking.Tick <= 0 || len(c.Matchmaking.Modes) == 0 {
					t.Errorf("got an inconsistent config: tick %v, %d modes", c.Matchmaking.Tick, len(c.Matchmaking.Modes))
					return
				}
			}
		}()
	}
	for i := range 20 {
		tick := time.Duration(10+i) * time.Millisecond
		if _, _, err := reload("matchmaking: {tick: " + tick.String() + "}\n"); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
