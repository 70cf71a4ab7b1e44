package gateway

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestDebugUIAuth(t *testing.T) {
	srv := newEventsAdmin(t, nil)
	tests := []struct {
		name   string
		path   string
		header string
		want   int
	}{
		{"no token", "/debug/ui", "", http.StatusUnauthorized},
		{"wrong query token", "/debug/ui?token=nope", "", http.StatusUnauthorized},
		{"wrong header token", "/debug/ui", "Bearer nope", http.StatusUnauthorized},
		{"query token", "/debug/ui?token=" + testAdminToken, "", http.StatusOK},
		{"header token", "/debug/ui", "Bearer " + testAdminToken, http.StatusOK},
		{"query token does not open other routes", "/debug/actors?token=" + testAdminToken, "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want != http.StatusOK {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q, want text/html", got)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q, want default-src 'none'", csp)
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), "/debug/actors") {
				t.Error("page does not mention /debug/actors")
			}
		})
	}
}

// TestDebugUISelfContained: the page must work on a machine without
// internet, so it may load nothing from elsewhere.
func TestDebugUISelfContained(t *testing.T) {
	page := string(debugUIPage)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//|<link[^>]+stylesheet`)
	if m := external.FindString(page); m != "" {
		t.Errorf("page loads an external asset: %q", m)
	}
	for _, want := range []string{"Authorization", `get("token")`, "deadline_ms", "ready", "waiting", "restarts", "filter"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
