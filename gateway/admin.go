package gateway

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
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
	// Undrain undoes a drain started by Drain; false when the node is
	// shutting down (a SIGTERM's drain cannot be undone).
	Undrain func() bool
	// Cluster serves the cluster-wide debug views (/debug/cluster,
	// /debug/players, /debug/parties) and the tickets of /debug/actors.
	Cluster ClusterReader
	// Sanctions serves /admin/sanctions.
	Sanctions SanctionAdmin
	// Servers serves /admin/servers, the game-server registry.
	Servers ServerRegistry
	// Hub feeds /debug/events; nil answers 503.
	Hub *EventHub
	// ClientAddr is the client listener's bound address (host:port), the
	// default WebSocket URL of /debug/play; empty means server.addr.
	ClientAddr string
}

// ServerRegistry is the game-server registry of allocator.mode http.
type ServerRegistry interface {
	RegisterServer(ctx context.Context, g redisx.GameServer, ttl time.Duration) error
	RemoveServer(ctx context.Context, id string) error
	Servers(ctx context.Context) ([]redisx.GameServer, error)
}

// SanctionAdmin is what the sanctions endpoints need.
type SanctionAdmin interface {
	Status(ctx context.Context, subject, id string) (redisx.SanctionStatus, error)
	Lift(ctx context.Context, subject, id string) error
}

// Handler returns the admin mux.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	a.handleOpen(mux)
	mux.HandleFunc("GET /debug/actors", a.guard(a.actors))
	mux.HandleFunc("GET /debug/config", a.guard(a.config))
	mux.HandleFunc("GET /debug/events", a.guard(a.debugEvents))
	mux.HandleFunc("GET /debug/ui", a.guardUI(a.debugUI))
	mux.HandleFunc("GET /debug/play", a.guardUI(a.debugPlay))
	mux.HandleFunc("GET /debug/play/{$}", a.guardUI(a.debugPlaySlash))
	mux.HandleFunc("GET /debug/play/{file}", a.guardUI(a.debugPlayAsset))
	mux.HandleFunc("POST /debug/crash", a.guard(a.crash))
	// Profiles for performance work, behind the admin token like all /debug.
	mux.HandleFunc("GET /debug/pprof/", a.guard(pprof.Index))
	mux.HandleFunc("GET /debug/pprof/profile", a.guard(pprof.Profile))
	mux.HandleFunc("GET /debug/pprof/trace", a.guard(pprof.Trace))
	mux.HandleFunc("POST /admin/state-events", a.guard(a.stateEvents))
	mux.HandleFunc("POST /admin/drain", a.guard(a.drain))
	mux.HandleFunc("DELETE /admin/drain", a.guard(a.undrain))
	mux.HandleFunc("GET /debug/cluster", a.guard(a.cluster))
	mux.HandleFunc("GET /debug/players/{id}", a.guard(a.player))
	mux.HandleFunc("GET /debug/parties/{id}", a.guard(a.party))
	mux.HandleFunc("GET /admin/servers", a.guard(a.listServers))
	mux.HandleFunc("POST /admin/servers", a.guard(a.registerServer))
	mux.HandleFunc("DELETE /admin/servers/{id}", a.guard(a.removeServer))
	mux.HandleFunc("GET /admin/sanctions/device/{id}", a.guard(a.sanctions("device")))
	mux.HandleFunc("DELETE /admin/sanctions/device/{id}", a.guard(a.sanctions("device")))
	mux.HandleFunc("GET /admin/sanctions/{id}", a.guard(a.sanctions("player")))
	mux.HandleFunc("DELETE /admin/sanctions/{id}", a.guard(a.sanctions("player")))
	return mux
}

// MetricsHandler serves /metrics, /healthz and /readyz and nothing else:
// the metrics listener (metrics.addr), which may face Prometheus and load
// balancers on a public address because none of it needs the admin token.
func (a *Admin) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	a.handleOpen(mux)
	return mux
}

// handleOpen registers the routes that never need the admin token, on
// both listeners that serve them.
func (a *Admin) handleOpen(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Gatherer, promhttp.HandlerOpts{}))
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
	ctx, cancel := context.WithTimeout(r.Context(), a.Config.Get().Redis.OpTimeout)
	defer cancel()
	if err := a.Redis.Ping(ctx); err != nil {
		a.Log.Warn("readyz: redis ping failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": "redis unreachable"})
		return
	}
	// A node whose actors do not answer serves nobody, whatever Redis says.
	if err := a.Node.Ready(time.Second); err != nil {
		a.Log.Warn("readyz: actors do not answer", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": "actors not answering"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
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

// undrain serves DELETE /admin/drain: the node serves and leads again.
func (a *Admin) undrain(w http.ResponseWriter, _ *http.Request) {
	if a.Undrain == nil || !a.Undrain() {
		writeJSON(w, http.StatusConflict, map[string]string{"code": "CONFLICT", "message": "the node is shutting down; its drain cannot be undone"})
		return
	}
	a.Log.Info("drain undone")
	writeJSON(w, http.StatusOK, map[string]string{"status": "serving"})
}

func (a *Admin) listServers(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.Config.Get().Redis.OpTimeout)
	defer cancel()
	list, err := a.Servers.Servers(ctx)
	if err != nil {
		a.Log.Error("list game servers", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "redis unavailable"})
		return
	}
	if list == nil {
		list = []redisx.GameServer{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"servers": list})
}

// registerServer registers or renews (heartbeats) a game server; the
// registration lapses after three missed heartbeats.
func (a *Admin) registerServer(w http.ResponseWriter, r *http.Request) {
	var g redisx.GameServer
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&g); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST", "message": "body must be {\"id\", \"addr\", \"capacity\"}"})
		return
	}
	if !idPattern.MatchString(g.ID) || g.Addr == "" || len(g.Addr) > 255 || g.Capacity < 1 || g.Active < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "BAD_REQUEST", "message": "id, addr and capacity >= 1 are required"})
		return
	}
	g.Allocated = 0
	cfg := a.Config.Get()
	ctx, cancel := context.WithTimeout(r.Context(), cfg.Redis.OpTimeout)
	defer cancel()
	ttl := 3 * cfg.Allocator.Heartbeat
	// The registration expires by Redis's clock; the reply's expiry is this
	// node's view of it.
	now := time.Now()
	if err := a.Servers.RegisterServer(ctx, g, ttl); err != nil {
		a.Log.Error("register game server", "id", g.ID, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "redis unavailable"})
		return
	}
	g.ExpiresAt = now.Add(ttl)
	writeJSON(w, http.StatusOK, g)
}

func (a *Admin) removeServer(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.Config.Get().Redis.OpTimeout)
	defer cancel()
	if err := a.Servers.RemoveServer(ctx, r.PathValue("id")); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"code": "UNAVAILABLE", "message": "redis unavailable"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
