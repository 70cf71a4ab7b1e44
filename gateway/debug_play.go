package gateway

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	js "github.com/matchd/matchd/sdk/js"
)

// The demo page (sdk/js/demo/index.html) refers to its assets relative to
// its place in the source tree, so that it also works from a plain static
// server there. /debug/play serves it at another place, so these exact
// snippets are rewritten per request: asset URLs under /debug/play/ (with
// the admin token, which the browser's asset requests cannot carry
// otherwise), and the defaults this node knows (its client URL and modes).
const (
	playCSSRef    = `href="demo.css"`
	playScriptRef = `src="demo.js"`
	playImportMap = `<script type="importmap">{"imports":{"matchd":"../matchd.js"}}</script>`
	playConfig    = `<script type="application/json" id="matchd-config">{}</script>`
)

// playPage is the demo page as embedded; its snippets are checked at start.
var playPage = mustPlayPage()

func mustPlayPage() string {
	b, err := fs.ReadFile(js.Files, "demo/index.html")
	if err != nil {
		panic("gateway: the embedded demo page is missing: " + err.Error())
	}
	page := string(b)
	for _, s := range []string{playCSSRef, playScriptRef, playImportMap, playConfig} {
		if n := strings.Count(page, s); n != 1 {
			panic(fmt.Sprintf("gateway: demo/index.html must contain %q exactly once, found %d", s, n))
		}
	}
	return page
}

// playAssets are the files the page loads, by the name it asks for.
var playAssets = map[string]struct{ file, contentType string }{
	"matchd.js": {"matchd.js", "text/javascript; charset=utf-8"},
	"demo.js":   {"demo/demo.js", "text/javascript; charset=utf-8"},
	"demo.css":  {"demo/demo.css", "text/css; charset=utf-8"},
}

// playDefaults is the JSON the page reads its defaults from.
type playDefaults struct {
	URLs       []string `json:"urls"`
	Modes      []string `json:"modes"`
	OriginHint string   `json:"origin_hint,omitempty"`
}

// debugPlay serves GET /debug/play: the demo page, a player's view of
// matchmaking driven by the JavaScript client.
func (a *Admin) debugPlay(w http.ResponseWriter, r *http.Request) {
	cfg := a.Config.Get()
	// Asset URLs carry the token only when the page was opened with it;
	// a proxy that adds the Authorization header adds it to them too.
	suffix := ""
	if tok := r.URL.Query().Get("token"); tok != "" && cfg.Admin.Token != "" {
		suffix = "?token=" + url.QueryEscape(tok)
	}
	wsURL := a.playWSURL(r)
	defaults := playDefaults{URLs: []string{wsURL}, Modes: make([]string, 0, len(cfg.Matchmaking.Modes))}
	for _, m := range cfg.Matchmaking.Modes {
		defaults.Modes = append(defaults.Modes, m.Name)
	}
	if origin, ok := pageOriginAllowed(r, wsURL, cfg.Server.OriginPatterns); !ok {
		defaults.OriginHint = fmt.Sprintf("Nodes refuse a WebSocket from this page (origin %s) unless server.origin_patterns allows it: add %q there.", origin, r.Host)
	}
	// json.Marshal escapes <, > and &, so nothing here can close the script element.
	cfgJSON, err := json.Marshal(defaults)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "INTERNAL", "message": "cannot render the page"})
		return
	}
	importMap := `{"imports":{"matchd":"./play/matchd.js` + suffix + `"}}`
	page := strings.NewReplacer(
		playCSSRef, `href="play/demo.css`+suffix+`"`,
		playScriptRef, `src="play/demo.js`+suffix+`"`,
		playImportMap, `<script type="importmap">`+importMap+`</script>`,
		playConfig, `<script type="application/json" id="matchd-config">`+string(cfgJSON)+`</script>`,
	).Replace(playPage)
	sum := sha256.Sum256([]byte(importMap))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Scripts and styles from this listener only (plus the one import map,
	// by hash); WebSockets to any node, since the node list is the
	// player's to choose.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+
		"'; style-src 'self'; connect-src ws: wss:; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(page))
}

// debugPlayAsset serves the page's script, style and the client module.
func (a *Admin) debugPlayAsset(w http.ResponseWriter, r *http.Request) {
	asset, ok := playAssets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(js.Files, asset.file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", asset.contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// debugPlaySlash sends /debug/play/ to /debug/play, where the page's
// relative asset URLs resolve.
func (a *Admin) debugPlaySlash(w http.ResponseWriter, r *http.Request) {
	target := "../play"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// playWSURL is the client endpoint the page connects to by default: the
// client listener's address, with the host the browser used for this page
// when the listener binds every interface.
func (a *Admin) playWSURL(r *http.Request) string {
	addr := a.ClientAddr
	if addr == "" {
		addr = a.Config.Get().Server.Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "ws://" + addr + "/ws"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
	}
	return "ws://" + net.JoinHostPort(host, port) + "/ws"
}

// pageOriginAllowed tells whether the client listener would accept a
// WebSocket from this page, by the rule coder/websocket applies: the
// Origin's host equals the Host it connects to, or matches one of
// server.origin_patterns (with the scheme when the pattern has one).
func pageOriginAllowed(r *http.Request, wsURL string, patterns []string) (string, bool) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	origin := scheme + "://" + r.Host
	u, err := url.Parse(wsURL)
	if err == nil && strings.EqualFold(u.Host, r.Host) {
		return origin, true
	}
	for _, p := range patterns {
		target := r.Host
		if strings.Contains(p, "://") {
			target = origin
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return origin, true
		}
	}
	return origin, false
}
