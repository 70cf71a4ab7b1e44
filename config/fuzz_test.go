package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadYAML feeds arbitrary file contents through Load and Validate. Load
// also runs on every reload of a file an operator may be half-way through
// writing, so no input may panic; and whatever Load accepts must validate
// and print.
func FuzzLoadYAML(f *testing.F) {
	f.Add([]byte("matchmaking:\n  tick: 50ms\n  modes:\n    - name: duel\n    - {name: squad, team_size: 4}\n"))
	f.Add([]byte("sanctions: {ladder: [0, 1m, 5m]}\nredis: {mode: cluster, addrs: [a:1, b:2]}\n"))
	f.Add([]byte("server:\n  addr: [\n"))
	f.Add([]byte("matchmaking: {modes: [~, 3, {name: x, rating: 7}]}\n"))

	path := filepath.Join(f.TempDir(), "matchd.yaml")
	printed := filepath.Join(f.TempDir(), "printed.yaml")
	args := []string{"--config", path}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, _, err := Load(args, nil)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("got an error with an empty message")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Load accepted a config that Validate rejects: %v", err)
		}
		j, err := c.JSON()
		if err != nil {
			t.Fatalf("JSON of a loaded config: %v", err)
		}
		// --print-config output must load back to the same configuration
		// (secrets aside: they print as "***", too short for hmac mode).
		if c.Auth.Mode == "hmac" {
			return
		}
		if err := os.WriteFile(printed, j, 0o600); err != nil {
			t.Fatal(err)
		}
		back, _, err := Load([]string{"--config", printed}, nil)
		if err != nil {
			t.Fatalf("Load of JSON output: %v\n%s", err, j)
		}
		if d := diffKeys(back.Redacted(), c.Redacted()); len(d) > 0 {
			t.Errorf("JSON round trip changed %v", d)
		}
	})
}
