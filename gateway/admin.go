package gateway

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/redisx"
)

// Pinger reports whether Redis answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Admin serves the admin listener.
type Admin struct {
	Config   *config.Store
	Node     *actors.Node
	Events   *actors.Events
	Gatherer prometheus.Gatherer
	Redis    Pinger
	Server   *Server
	Log      *slog.Logger
	// Drain starts a graceful drain (the same as SIGTERM, without exiting).
	Drain func()
	// Sanctions serves /admin/sanctions.
	Sanctions SanctionAdmin
}

// SanctionAdmin is what the sanctions endpoints need.
type SanctionAdmin interface {
	Status(ctx context.Context, subject, id string) (redisx.SanctionStatus, error)
	Lift(ctx context.Context, subject, id string) error
}

// Handler returns the admin mux.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/actors", a.guard(a.actors))
	mux.HandleFunc("GET /debug/config", a.guard(a.config))
	mux.HandleFunc("POST /debug/crash", a.guard(a.crash))
	mux.HandleFunc("POST /admin/state-events", a.guard(a.stateEvents))
	mux.HandleFunc("POST /admin/drain", a.guard(a.drain))
	mux.HandleFunc("GET /admin/sanctions/device/{id}", a.guard(a.sanctions("device")))
	mux.HandleFunc("DELETE /admin/sanctions/device/{id}", a.guard(a.sanctions("device")))
	mux.HandleFunc("GET /admin/sanctions/{id}", a.guard(a.sanctions("player")))
	mux.HandleFunc("DELETE /admin/sanctions/{id}", a.guard(a.sanctions("player")))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// guard requires admin.token as a Bearer token when one is configured.
func (a *Admin) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := a.Config.Get().Admin.Token
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "UNAUTHORIZED", "message": "admin token required"})
				return
			}
		}
		h(w, r)
	}
}

func (a *Admin) readyz(w http.ResponseWriter, r *http.Request) {
	if a.Server.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := a.Redis.Ping(ctx); err != nil {
		a.Log.Warn("readyz: redis ping failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": "redis unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (a *Admin) actors(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	switch kind {
	case "", "coordinator", "queue", "room", "session":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST", "message": "kind must be coordinator, queue, room or session"})
		return
	}
	root := a.Node.Snapshot(kind)
	tree := []*actors.Snapshot{root}
	if kind != "" && kind != "coordinator" {
		tree = root.Children
	}
	if kind == "coordinator" {
		root.Children = []*actors.Snapshot{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"node_id": a.Config.Get().NodeID, "actors": tree})
}

func (a *Admin) config(w http.ResponseWriter, _ *http.Request) {
	b, err := a.Config.Get().JSON()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "INTERNAL", "message": "cannot render config"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (a *Admin) crash(w http.ResponseWriter, r *http.Request) {
	if !a.Config.Get().Debug.FaultInjection {
		http.NotFound(w, r)
		return
	}
	id := r.URL.Query().Get("actor")
	if err := a.Node.Crash(id); errors.Is(err, actors.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NOT_FOUND", "message": "no such actor on this node"})
		return
	}
	a.Log.Warn("crash injected", "actor", id)
	writeJSON(w, http.StatusAccepted, map[string]string{"crashed": id})
}

func (a *Admin) stateEvents(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil || body.Enabled == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST", "message": `body must be {"enabled": true|false}`})
		return
	}
	if a.Events.SetEnabled(*body.Enabled) {
		a.Log.Info("state events toggled", "enabled", *body.Enabled)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"enabled": a.Events.Enabled()})
}

// sanctions serves GET (the record) and DELETE (lift) for a player or device.
func (a *Admin) sanctions(subject string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !idPattern.MatchString(id) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST", "message": "invalid id"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.Config.Get().Redis.OpTimeout)
		defer cancel()
		if r.Method == http.MethodDelete {
			if err := a.Sanctions.Lift(ctx, subject, id); err != nil {
				a.Log.Error("lift sanctions", "subject", subject, "id", id, "err", err)
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "redis unavailable"})
				return
			}
			a.Log.Info("sanctions lifted", "subject", subject, "id", id)
		}
		st, err := a.Sanctions.Status(ctx, subject, id)
		if err != nil {
			a.Log.Error("sanctions status", "subject", subject, "id", id, "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "redis unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{subject + "_id": id, "violations": st.Violations,
			"banned_until": st.BannedUntil, "banned_for_ms": st.BannedForMs})
	}
}

func (a *Admin) drain(w http.ResponseWriter, _ *http.Request) {
	go a.Drain()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "draining"})
}
