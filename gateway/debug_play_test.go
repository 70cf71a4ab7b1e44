package gateway

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/matchd/matchd/config"
	js "github.com/matchd/matchd/sdk/js"
)

// newPlayAdmin serves an Admin with an admin token, whose client listener
// is at clientAddr, with the given origin patterns.
func newPlayAdmin(t *testing.T, clientAddr string, patterns []string) *httptest.Server {
	t.Helper()
	cfg := config.Default()
	cfg.Admin.Token = testAdminToken
	cfg.Server.OriginPatterns = patterns
	a := &Admin{Config: config.NewStore(cfg), ClientAddr: clientAddr, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func playGet(t *testing.T, srv *httptest.Server, path, bearer string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestDebugPlayAuth(t *testing.T) {
	srv := newPlayAdmin(t, "127.0.0.1:8080", nil)
	q := "?token=" + url.QueryEscape(testAdminToken)
	tests := []struct {
		path, bearer string
		want         int
	}{
		{"/debug/play", "", http.StatusUnauthorized},
		{"/debug/play?token=nope", "", http.StatusUnauthorized},
		{"/debug/play" + q, "", http.StatusOK},
		{"/debug/play", testAdminToken, http.StatusOK},
		{"/debug/play/matchd.js", "", http.StatusUnauthorized},
		{"/debug/play/demo.js?token=nope", "", http.StatusUnauthorized},
		{"/debug/play/matchd.js" + q, "", http.StatusOK},
		{"/debug/play/demo.js" + q, "", http.StatusOK},
		{"/debug/play/demo.css", testAdminToken, http.StatusOK},
		{"/debug/play/index.d.ts" + q, "", http.StatusNotFound},
		{"/debug/play/embed.go" + q, "", http.StatusNotFound},
		{"/debug/play/" + q, "", http.StatusFound},
		{"/debug/play/", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.path+" bearer="+tt.bearer, func(t *testing.T) {
			resp, body := playGet(t, srv, tt.path, tt.bearer)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusUnauthorized && !strings.Contains(body, "?token=ADMIN_TOKEN") {
				t.Errorf("401 body %q does not say how to pass the token", body)
			}
		})
	}
	resp, _ := playGet(t, srv, "/debug/play/"+q, "")
	if loc := resp.Header.Get("Location"); loc != "/debug/play"+q {
		t.Errorf("/debug/play/ redirects to %q, want /debug/play%s", loc, q)
	}
}

func TestDebugPlayAssets(t *testing.T) {
	srv := newPlayAdmin(t, "127.0.0.1:8080", nil)
	for name, want := range map[string]struct{ file, ctype string }{
		"matchd.js": {"matchd.js", "text/javascript; charset=utf-8"},
		"demo.js":   {"demo/demo.js", "text/javascript; charset=utf-8"},
		"demo.css":  {"demo/demo.css", "text/css; charset=utf-8"},
	} {
		resp, body := playGet(t, srv, "/debug/play/"+name, testAdminToken)
		if got := resp.Header.Get("Content-Type"); got != want.ctype {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want.ctype)
		}
		src, err := fs.ReadFile(js.Files, want.file)
		if err != nil {
			t.Fatal(err)
		}
		if body != string(src) {
			t.Errorf("%s: body is not sdk/js/%s", name, want.file)
		}
	}
}

// TestDebugPlayPage: the served page points at the served assets (with the
// token it was opened with), its CSP admits exactly its import map, and it
// carries this node's defaults.
func TestDebugPlayPage(t *testing.T) {
	srv := newPlayAdmin(t, "127.0.0.1:18080", []string{"127.0.0.1:*"})
	tok := url.QueryEscape(testAdminToken)
	resp, page := playGet(t, srv, "/debug/play?token="+tok, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`href="play/demo.css?token=` + tok + `"`,
		`src="play/demo.js?token=` + tok + `"`,
		`<script type="importmap">{"imports":{"matchd":"./play/matchd.js?token=` + tok + `"}}</script>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	m := regexp.MustCompile(`<script type="importmap">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no import map")
	}
	sum := sha256.Sum256([]byte(m[1]))
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("CSP %q does not admit the import map by its hash", csp)
	}
	for _, want := range []string{"default-src 'none'", "connect-src ws: wss:", "script-src 'self' 'sha256-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	defaults := playConfigOf(t, page)
	if len(defaults.URLs) != 1 || defaults.URLs[0] != "ws://127.0.0.1:18080/ws" {
		t.Errorf("urls %v, want [ws://127.0.0.1:18080/ws]", defaults.URLs)
	}
	if len(defaults.Modes) == 0 || defaults.Modes[0] != config.Default().Matchmaking.Modes[0].Name {
		t.Errorf("modes %v, want the configured ones", defaults.Modes)
	}
	if defaults.OriginHint != "" {
		t.Errorf("origin hint %q although 127.0.0.1:* allows the page", defaults.OriginHint)
	}

	// Opened with the Bearer header, asset URLs stay bare.
	_, page = playGet(t, srv, "/debug/play", testAdminToken)
	if !strings.Contains(page, `src="play/demo.js"`) || strings.Contains(page, "token=") {
		t.Errorf("a page opened with the header puts a token in its URLs")
	}
}

func playConfigOf(t *testing.T, page string) playDefaults {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="matchd-config">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no config block")
	}
	var d playDefaults
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("config block %q: %v", m[1], err)
	}
	return d
}

func TestDebugPlayOriginHint(t *testing.T) {
	srv := newPlayAdmin(t, "127.0.0.1:18080", []string{"game.example.com"})
	_, page := playGet(t, srv, "/debug/play", testAdminToken)
	host := strings.TrimPrefix(srv.URL, "http://")
	hint := playConfigOf(t, page).OriginHint
	if !strings.Contains(hint, "server.origin_patterns") || !strings.Contains(hint, `"`+host+`"`) {
		t.Errorf("hint %q should name server.origin_patterns and %q", hint, host)
	}
}

func TestPlayWSURL(t *testing.T) {
	tests := []struct {
		clientAddr, serverAddr, host, want string
	}{
		{"127.0.0.1:18080", "127.0.0.1:0", "127.0.0.1:9090", "ws://127.0.0.1:18080/ws"},
		{"", "127.0.0.1:8080", "127.0.0.1:9090", "ws://127.0.0.1:8080/ws"},
		{"0.0.0.0:8080", "", "mm.example.com:9090", "ws://mm.example.com:8080/ws"},
		{"[::]:8080", "", "[::1]:9090", "ws://[::1]:8080/ws"},
		{":8080", "", "localhost", "ws://localhost:8080/ws"},
	}
	for _, tt := range tests {
		cfg := config.Default()
		cfg.Server.Addr = tt.serverAddr
		a := &Admin{Config: config.NewStore(cfg), ClientAddr: tt.clientAddr}
		r := httptest.NewRequest(http.MethodGet, "/debug/play", nil)
		r.Host = tt.host
		if got := a.playWSURL(r); got != tt.want {
			t.Errorf("client %q server %q host %q: got %s, want %s", tt.clientAddr, tt.serverAddr, tt.host, got, tt.want)
		}
	}
}

func TestPageOriginAllowed(t *testing.T) {
	tests := []struct {
		host, ws string
		patterns []string
		want     bool
	}{
		{"127.0.0.1:9090", "ws://127.0.0.1:8080/ws", nil, false},
		{"127.0.0.1:9090", "ws://127.0.0.1:9090/ws", nil, true},
		{"127.0.0.1:9090", "ws://127.0.0.1:8080/ws", []string{"127.0.0.1:*"}, true},
		{"127.0.0.1:9090", "ws://127.0.0.1:8080/ws", []string{"127.0.0.1:9090"}, true},
		{"127.0.0.1:9090", "ws://127.0.0.1:8080/ws", []string{"http://127.0.0.1:9090"}, true},
		{"127.0.0.1:9090", "ws://127.0.0.1:8080/ws", []string{"https://127.0.0.1:9090"}, false},
		{"127.0.0.1:9090", "ws://127.0.0.1:8080/ws", []string{"localhost:*"}, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/debug/play", nil)
		r.Host = tt.host
		if _, got := pageOriginAllowed(r, tt.ws, tt.patterns); got != tt.want {
			t.Errorf("page %s, ws %s, patterns %v: allowed %v, want %v", tt.host, tt.ws, tt.patterns, got, tt.want)
		}
	}
}
