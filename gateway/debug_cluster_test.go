package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Bad filters of /debug/actors and a bad player id get a typed 400 before
// anything is read.
func TestDebugFiltersRefused(t *testing.T) {
	srv := newEventsAdmin(t, nil)
	for _, path := range []string{
		"/debug/actors?kind=planet",
		"/debug/actors?state=sleeping",
		"/debug/actors?mode=no-such-mode",
		"/debug/actors?player=bad%20id",
		"/debug/actors?limit=0",
		"/debug/actors?limit=20001",
		"/debug/actors?limit=ten",
		"/debug/players/bad%20id",
		"/debug/parties/bad%20id",
		"/debug/actors?party=bad%20id",
		"/debug/actors?party=p1&kind=queue",
		"/debug/actors?party=p1&player=carol",
	} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+testAdminToken)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e struct{ Code, Message string }
			if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || e.Code != "BAD_REQUEST" || e.Message == "" {
				t.Errorf("%d %s, want 400 BAD_REQUEST with a message", resp.StatusCode, b)
			}
		})
	}
}

// Undoing a drain is refused while the node shuts down, and every new
// route needs the admin token.
func TestUndrainAndTokens(t *testing.T) {
	srv := newEventsAdmin(t, nil)
	do := func(method, path string, token bool) int {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if token {
			req.Header.Set("Authorization", "Bearer "+testAdminToken)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := do(http.MethodDelete, "/admin/drain", true); got != http.StatusConflict {
		t.Errorf("DELETE /admin/drain with no drain to undo: %d, want 409", got)
	}
	for _, r := range [][2]string{{"DELETE", "/admin/drain"}, {"GET", "/debug/cluster"}, {"GET", "/debug/players/carol"}, {"GET", "/debug/parties/p1"}} {
		if got := do(r[0], r[1], false); got != http.StatusUnauthorized {
			t.Errorf("%s %s without the token: %d, want 401", r[0], r[1], got)
		}
	}
}
