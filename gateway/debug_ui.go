package gateway

import (
	"crypto/subtle"
	_ "embed"
	"net/http"
	"strings"
)

// debugUIPage is the /debug/ui page: one self-contained HTML file (inline CSS
// and vanilla JS, no external assets) that polls /debug/actors every second.
//
//go:embed debug_ui.html
var debugUIPage []byte

// debugUI serves GET /debug/ui.
func (a *Admin) debugUI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Nothing but this page's own inline code and same-origin fetches: the
	// page must work on a machine without internet, and must not leak the
	// token in the URL to anyone through a Referer.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(debugUIPage)
}

// guardUI is guard for the pages a browser opens by URL and so cannot
// send an Authorization header (/debug/ui, /debug/play and its assets):
// besides the Bearer header it accepts the admin token as the token query
// parameter (/debug/ui?token=...). /debug/ui then sends the token as a
// Bearer header to /debug/actors; /debug/play puts it on its asset URLs.
func (a *Admin) guardUI(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := a.Config.Get().Admin.Token
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				got = r.URL.Query().Get("token")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "UNAUTHORIZED",
					"message": "admin token required: open " + r.URL.Path + "?token=ADMIN_TOKEN"})
				return
			}
		}
		h(w, r)
	}
}
