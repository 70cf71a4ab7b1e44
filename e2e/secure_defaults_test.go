package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// strongAdminToken is what `openssl rand -hex 32` prints.
const strongAdminToken = "8c1f4e9a2b7d03c65e8f1a4b9c2d7e06f3a5b8c1d4e7f0a2b5c8d1e4f7a0b3c6"

// refusedStart runs matchd on the YAML config body and returns its output,
// failing the test unless matchd exits with a non-zero status within 10s.
func refusedStart(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(matchdBin, "--config", path)
	cmd.Env = childEnv()
	done := make(chan struct{})
	var out []byte
	go func() { out, _ = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("matchd started with a config it must refuse:\n%s\n%s", body, out)
	}
	if cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("exit status 0 with a config it must refuse:\n%s", out)
	}
	return string(out)
}

// TestSecureDefaultsRefuseStart: a public admin listener without a token or
// with the example's placeholder, and the embedded Redis behind a public
// client listener, each stop start-up with a message naming the key and
// saying why.
func TestSecureDefaultsRefuseStart(t *testing.T) {
	t.Parallel()
	const hmac = "auth: {mode: hmac, hmac_secret: 0123456789abcdef0123}\n"
	for name, tc := range map[string]struct {
		yaml string
		want []string // fragments the message must hold
	}{
		"public admin without a token": {
			"admin: {addr: '0.0.0.0:0'}\n",
			[]string{"admin.token", "non-loopback admin.addr", "/admin/*", "at least 32 bytes"},
		},
		"public admin with the placeholder": {
			"admin: {addr: '0.0.0.0:0', token: REPLACE-ME-with-openssl-rand-hex-32}\n",
			[]string{"admin.token", "the example configuration's placeholder"},
		},
		"public admin with a short token": {
			"admin: {addr: '0.0.0.0:0', token: s3cret-token}\n",
			[]string{"admin.token", "at least 32 bytes, got 12"},
		},
		"embedded redis on a public client address": {
			"server: {addr: '0.0.0.0:0'}\nadmin: {addr: '127.0.0.1:0'}\n" + hmac,
			[]string{"redis.mode", "embedded keeps every queue", "restart loses", "redis.allow_embedded_public"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := refusedStart(t, tc.yaml)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the message does not say %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "REPLACE-ME") || strings.Contains(out, "s3cret-token") {
				t.Errorf("the message quotes the token:\n%s", out)
			}
		})
	}
}

// TestSecureDefaultsAllowed: the same listeners start when they are
// protected: a public admin listener with a strong token (which it then
// demands), and the embedded Redis on a public address once the operator
// accepted the risk explicitly.
func TestSecureDefaultsAllowed(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"admin.addr": "0.0.0.0:0", "admin.token": strongAdminToken}})
	if code, _ := n.Get(t, "/debug/actors"); code != http.StatusUnauthorized {
		t.Errorf("public admin, no token: /debug/actors %d, want 401", code)
	}
	if code, b, err := authGet(n, "/debug/actors", strongAdminToken); err != nil || code != http.StatusOK {
		t.Errorf("public admin, with the token: /debug/actors %d %s %v, want 200", code, b, err)
	}

	e := StartNode(t, NodeOptions{Set: map[string]any{
		"server.addr": "0.0.0.0:0", "auth.mode": "hmac", "auth.hmac_secret": "0123456789abcdef0123",
		"redis.allow_embedded_public": true,
	}})
	e.WaitLog(t, 5*time.Second, "allow_embedded_public warning", func(l LogLine) bool {
		return l.Str("level") == "WARN" && strings.Contains(l.Msg(), "redis.allow_embedded_public")
	})
}

// TestMetricsListener: metrics.addr serves /metrics, /healthz and /readyz
// without a token, and nothing of /admin/*, /debug/* or /ws, while the admin
// listener keeps serving all of it.
func TestMetricsListener(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{Set: map[string]any{"metrics.addr": "127.0.0.1:0", "admin.token": strongAdminToken}})
	serving := n.FindLogs("matchd serving")
	if len(serving) != 1 || serving[0].Str("metrics_addr") == "" {
		t.Fatalf("serving log lines %v, want one with metrics_addr", serving)
	}
	base := "http://" + serving[0].Str("metrics_addr")
	get := func(method, path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get(http.MethodGet, "/metrics", "")
	if code != http.StatusOK || !strings.Contains(body, "matchd_sessions ") || !strings.Contains(body, "matchd_build_info{") {
		t.Errorf("GET /metrics on metrics.addr: %d, want 200 with matchd_sessions and matchd_build_info", code)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(http.MethodGet, p, ""); code != http.StatusOK {
			t.Errorf("GET %s on metrics.addr: %d %s, want 200", p, code, body)
		}
	}
	// Not served there, even with the admin token.
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/debug/actors"}, {http.MethodGet, "/debug/config"}, {http.MethodGet, "/debug/pprof/"},
		{http.MethodGet, "/debug/ui"}, {http.MethodPost, "/admin/drain"}, {http.MethodGet, "/admin/servers"},
		{http.MethodPost, "/admin/servers"}, {http.MethodGet, "/admin/sanctions/p1"}, {http.MethodDelete, "/admin/sanctions/p1"},
		{http.MethodPost, "/admin/state-events"}, {http.MethodGet, "/ws"},
	} {
		if code, body := get(r.method, r.path, strongAdminToken); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s on metrics.addr: %d %s, want 404", r.method, r.path, code, body)
		}
	}
	// The node did not drain: /admin/drain above was not served.
	if code, body := get(http.MethodGet, "/readyz", ""); code != http.StatusOK {
		t.Errorf("GET /readyz after the refused drain: %d %s, want 200", code, body)
	}
	// The admin listener still serves /metrics and, with the token, the rest.
	if code, _ := n.Get(t, "/metrics"); code != http.StatusOK {
		t.Errorf("GET /metrics on admin.addr: %d, want 200", code)
	}
	if code, _, err := authGet(n, "/debug/actors", strongAdminToken); err != nil || code != http.StatusOK {
		t.Errorf("GET /debug/actors on admin.addr: %d %v, want 200", code, err)
	}
}
