package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRedacted(t *testing.T) {
	c := Default()
	c.Admin.Token = "admin-token-value"
	c.Auth.HMACSecret = "hmac-secret-value-0123456789"
	c.Redis.Password = "redis-password-value"
	c.Redis.Addrs = []string{"a:6379"}

	r := c.Redacted()
	for _, tt := range []struct {
		name      string
		got, want string
	}{
		{"admin.token", r.Admin.Token, "***"},
		{"auth.hmac_secret", r.Auth.HMACSecret, "***"},
		{"redis.password", r.Redis.Password, "***"},
		{"original admin.token untouched", c.Admin.Token, "admin-token-value"},
		{"non-secret kept", r.Redis.Addrs[0], "a:6379"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}

	r.Redis.Addrs[0] = "changed:1"
	if c.Redis.Addrs[0] != "a:6379" {
		t.Errorf("Redacted shares slices with the original: got %q, want %q", c.Redis.Addrs[0], "a:6379")
	}

	empty := Default().Redacted()
	if empty.Admin.Token != "" || empty.Auth.HMACSecret != "" || empty.Redis.Password != "" {
		t.Errorf("got unset secrets %q %q %q, want them left empty", empty.Admin.Token, empty.Auth.HMACSecret, empty.Redis.Password)
	}
}

// TestCloneCoversEverySlice fails when a slice field is added to Config
// without being added to clone.
func TestCloneCoversEverySlice(t *testing.T) {
	c := Default()
	fillSlices(reflect.ValueOf(&c).Elem())
	d := c.clone()
	compareSlices(t, "", reflect.ValueOf(c), reflect.ValueOf(d))
}

func fillSlices(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Slice && f.Len() == 0:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case isSection(f.Type()):
			fillSlices(f)
		}
	}
}

func compareSlices(t *testing.T, prefix string, a, b reflect.Value) {
	for i := range a.NumField() {
		name := prefix + a.Type().Field(i).Name
		fa, fb := a.Field(i), b.Field(i)
		switch {
		case fa.Kind() == reflect.Slice:
			if fa.Len() > 0 && fa.Pointer() == fb.Pointer() {
				t.Errorf("%s: got a shared slice after clone, want a copy", name)
			}
		case isSection(fa.Type()):
			compareSlices(t, name+".", fa, fb)
		}
	}
}

func TestJSON(t *testing.T) {
	c := Default()
	c.NodeID = "n1"
	c.Redis.Password = "redis-password-value"
	b, err := c.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if !json.Valid(b) {
		t.Fatalf("got invalid JSON:\n%s", b)
	}
	s := string(b)
	for _, want := range []string{
		`"tick": "100ms"`,
		`"lock_ttl": "2s"`,
		`"max_wait": "2m0s"`,
		`"decay": "24h0m0s"`,
		`"1m0s"`,
		`"password": "***"`,
		`"addrs": []`,
		`"max_message_bytes": 4096`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("got JSON without %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "redis-password-value") {
		t.Errorf("got JSON with the Redis password in it:\n%s", s)
	}
	if strings.Index(s, `"node_id"`) > strings.Index(s, `"server"`) {
		t.Errorf("got keys out of declaration order, want node_id before server:\n%s", s)
	}
}

// TestJSONRoundTrips checks that --print-config output can seed a file.
func TestJSONRoundTrips(t *testing.T) {
	c := Default()
	c.NodeID = "n1"
	c.Matchmaking.Tick = 50 * time.Millisecond
	c.Sanctions.Ladder = []time.Duration{0, 90 * time.Second}
	c.Matchmaking.Modes = append(c.Matchmaking.Modes, Mode{Name: "squad", Teams: 2, TeamSize: 4,
		MaxWait: time.Minute, LoadingTimeout: time.Second, Rating: RatingWindow{InitialWindow: 1.5, MaxWindow: 2},
		Regions: []string{"eu", "asia"}, Latency: LatencyRule{MaxMs: 40, WidenPerSecond: 1.5, MaxMsLimit: 90}})
	c.Allocator.Servers = []GameServer{{Addr: "gs0:7000"}, {Addr: "gs1:7000", Region: "asia"}}
	b, err := c.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	got, _, err := Load([]string{"--config", writeConfig(t, string(b))}, nil)
	if err != nil {
		t.Fatalf("Load of JSON output: %v", err)
	}
	if d := diffKeys(got, c); len(d) > 0 {
		t.Errorf("round trip changed %v", d)
	}
	if !reflect.DeepEqual(got.Matchmaking.Modes, c.Matchmaking.Modes) {
		t.Errorf("got modes %+v, want %+v", got.Matchmaking.Modes, c.Matchmaking.Modes)
	}
}
