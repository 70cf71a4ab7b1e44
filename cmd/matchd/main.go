// Command matchd is the matchmaking server: a WebSocket listener for game
// clients and an admin listener for operators, over a shared Redis.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/actors/alloc"
	"github.com/matchd/matchd/cmd/internal/gctune"
	"github.com/matchd/matchd/cmd/internal/version"
	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway"
	"github.com/matchd/matchd/redisx"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

func newLogger(cfg config.Log, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(strings.ToUpper(s)))
	return l
}

// lookupEnv finds name in environ (KEY=value entries).
func lookupEnv(environ []string, name string) (string, bool) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func run(args, environ []string) int {
	cfg, opts, err := config.Load(args, environ)
	if errors.Is(err, config.ErrHelp) {
		fmt.Println(config.Usage())
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if opts.Version {
		fmt.Println("matchd", version.Get())
		return 0
	}
	if opts.PrintConfig {
		b, err := cfg.JSON()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(string(b))
		return 0
	}
	level := new(slog.LevelVar)
	level.Set(parseLevel(cfg.Log.Level))
	log := newLogger(cfg.Log, level).With("node", cfg.NodeID)
	build := version.Get()
	log.Info("matchd starting", "version", build.Version, "commit", build.Commit, "go", build.GoVersion)
	if cfg.Auth.Mode == "insecure" {
		log.Warn("auth.mode is insecure: players are trusted on their word; use hmac or jwks in production")
	}
	if cfg.Redis.Mode == "embedded" && cfg.Redis.AllowEmbeddedPublic {
		log.Warn("redis.allow_embedded_public: this node keeps all state in its own memory; a restart loses every queue, room and sanction")
	}
	if len(opts.IgnoredEnv) > 0 {
		log.Warn("ignoring unknown MATCHD_ environment variables", "vars", opts.IgnoredEnv)
	}
	store := config.NewStore(cfg)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if cfg.Runtime.AdaptiveGC {
		if gogc, set := lookupEnv(environ, "GOGC"); set {
			log.Info("runtime.adaptive_gc is off: GOGC is set", "gogc", gogc)
		} else {
			go gctune.New(log).Run(ctx)
		}
	}
	var keys *gateway.KeySet
	if cfg.Auth.Mode == "jwks" {
		// Fetched first: a node that cannot verify any token must not start.
		if keys, err = gateway.NewKeySet(ctx, cfg.Auth, log); err != nil {
			log.Error("cannot start without the identity provider's keys", "err", err)
			return 1
		}
		defer keys.Close()
		log.Info("jwks key set fetched", "url", cfg.Auth.JWKSURL, "keys", keys.Keys(ctx))
		if cfg.Auth.Audience == "" {
			log.Warn("auth.audience is empty: tokens the provider issued for any application are accepted")
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := actors.NewMetrics(reg)
	metrics.BuildInfo.WithLabelValues(build.Version, build.Commit, build.GoVersion).Set(1)
	rc, err := redisx.OpenWithBreaker(ctx, cfg.Redis, log, func(open bool) {
		if open {
			metrics.RedisCircuitOpen.Set(1)
		} else {
			metrics.RedisCircuitOpen.Set(0)
		}
	})
	if err != nil {
		log.Error("cannot reach redis", "err", err)
		return 1
	}
	defer rc.Close()
	if off := cfg.Debug.ClockOffset; off != 0 {
		// Testing only (validated): this node's own clock is off by off;
		// every decision nodes must agree on is Redis's clock's.
		log.Warn("debug.clock_offset: this node's clock is shifted", "offset", off.String())
		rc.Clock = redisx.NewClock(func() time.Time { return time.Now().Add(off) })
	}

	for _, m := range cfg.Matchmaking.Modes {
		metrics.InitMode(m.Name)
		for _, r := range m.Regions {
			metrics.InitRegion(m.Name, r)
		}
	}
	hub := gateway.NewEventHub(gateway.DefaultEventBuffer)
	events := actors.NewEvents(rc, cfg.NodeID, func() int64 { return store.Get().StateEvents.MaxLen },
		func() time.Duration { return store.Get().Redis.OpTimeout }, metrics, hub.Publish)
	events.SetEnabled(cfg.StateEvents.Enabled)

	var allocator actors.Allocator
	switch cfg.Allocator.Mode {
	case "static":
		allocator, err = alloc.NewStatic(cfg.Allocator.Servers)
		if err != nil {
			log.Error("allocator", "err", err)
			return 2
		}
	case "http":
		allocator = &alloc.HTTP{
			Registry:    rc,
			Client:      &http.Client{},
			Timeout:     func() time.Duration { return store.Get().Allocator.RequestTimeout },
			MaxAttempts: func() int { return store.Get().Allocator.MaxAttempts },
			Log:         log,
		}
	}
	sanctions := redisx.NewSanctions(rc, func() redisx.SanctionPolicy {
		s := store.Get().Sanctions
		return redisx.SanctionPolicy{Ladder: s.Ladder, Decay: s.Decay}
	}, nil)
	rc.ObserveRoundTrips(func(op string, d time.Duration) {
		metrics.RedisRoundTrip.WithLabelValues(op).Observe(d.Seconds())
	})
	env := &actors.Env{Node: cfg.NodeID, Config: store, Store: rc, Parties: rc, Metrics: metrics, Log: log,
		Clock: rc.Clock, Allocator: allocator, Events: events, Sanctions: sanctions}
	node, err := actors.Start(env, rc)
	if err != nil {
		log.Error("start actors", "err", err)
		return 1
	}
	srv := gateway.NewServer(store, node, metrics, log)
	if keys != nil {
		srv.UseKeySet(keys)
	}

	// A drain started over the admin listener can be undone (DELETE
	// /admin/drain); the shutdown's own drain cannot.
	var (
		drainMu      sync.Mutex
		drainedNow   bool
		shuttingDown bool
	)
	drain := func() {
		drainMu.Lock()
		defer drainMu.Unlock()
		if drainedNow {
			return
		}
		drainedNow = true
		log.Info("draining")
		srv.Drain(store.Get().Server.ReconnectAfter)
		node.Drain(ctx)
	}
	undrain := func() bool {
		drainMu.Lock()
		defer drainMu.Unlock()
		if shuttingDown {
			return false
		}
		if drainedNow {
			drainedNow = false
			srv.Undrain()
			node.Undrain()
		}
		return true
	}
	admin := &gateway.Admin{Config: store, Node: node, Events: events, Gatherer: reg, Redis: rc, Server: srv, Log: log,
		Drain: drain, Undrain: undrain, Sanctions: sanctions, Servers: rc, Hub: hub, Cluster: rc}

	clientLn, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		log.Error("listen", "addr", cfg.Server.Addr, "err", err)
		return 1
	}
	adminLn, err := net.Listen("tcp", cfg.Admin.Addr)
	if err != nil {
		log.Error("listen", "addr", cfg.Admin.Addr, "err", err)
		return 1
	}
	admin.ClientAddr = clientLn.Addr().String() // the real port when server.addr asks for :0
	var metricsLn net.Listener
	metricsAddr := ""
	if cfg.Metrics.Addr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.Metrics.Addr); err != nil {
			log.Error("listen", "addr", cfg.Metrics.Addr, "err", err)
			return 1
		}
		metricsAddr = metricsLn.Addr().String()
	}
	clientHTTP := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: cfg.Server.HandshakeTimeout}
	adminHTTP := &http.Server{Handler: admin.Handler(), ReadHeaderTimeout: cfg.Server.HandshakeTimeout}
	metricsHTTP := &http.Server{Handler: admin.MetricsHandler(), ReadHeaderTimeout: cfg.Server.HandshakeTimeout}
	adminHTTP.RegisterOnShutdown(hub.Close) // ends /debug/events streams, which Shutdown would wait for
	// The watch is in place before the node says it serves, so an edit
	// made right after start is not missed.
	fileChanged := make(chan struct{}, 1)
	if opts.ConfigFile != "" {
		if w, err := watchFile(opts.ConfigFile); err != nil {
			log.Warn("config file watch unavailable; SIGHUP still reloads", "err", err)
		} else {
			go w.run(ctx, log, store.Get().Reload.Debounce, fileChanged)
		}
	}
	// Signals are caught before anything serves: a SIGTERM that follows the
	// first ready answer at once must drain, not kill.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go serve(log, clientHTTP, clientLn)
	go serve(log, adminHTTP, adminLn)
	if metricsLn != nil {
		go serve(log, metricsHTTP, metricsLn)
	}
	log.Info("matchd serving", "client_addr", clientLn.Addr().String(), "admin_addr", adminLn.Addr().String(),
		"metrics_addr", metricsAddr,
		"redis_mode", cfg.Redis.Mode, "embedded_redis", rc.EmbeddedAddr(), "modes", len(cfg.Matchmaking.Modes))

	for running := true; running; {
		select {
		case <-fileChanged:
			log.Info("config file changed, reloading", "file", opts.ConfigFile)
			reload(log, store, level, events, metrics, args, environ)
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(log, store, level, events, metrics, args, environ)
				continue
			}
			log.Info("signal received, shutting down", "signal", sig.String())
			running = false
		}
	}
	budget := store.Get().Server.DrainTimeout
	sctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	drainMu.Lock()
	shuttingDown = true
	drainMu.Unlock()
	drain()
	srv.Wait(sctx)
	_ = clientHTTP.Shutdown(sctx)
	node.Stop()
	_ = adminHTTP.Shutdown(sctx)
	if metricsLn != nil {
		_ = metricsHTTP.Shutdown(sctx)
	}
	log.Info("stopped")
	return 0
}

// fileWatch signals when the config file is written or replaced. It
// watches the directory, since editors and config maps replace the file
// rather than write it in place, and debounces bursts of events so a
// half-written file is not read.
type fileWatch struct {
	w    *fsnotify.Watcher
	path string
}

func watchFile(path string) (*fileWatch, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return nil, err
	}
	return &fileWatch{w: w, path: abs}, nil
}

func (f *fileWatch) run(ctx context.Context, log *slog.Logger, debounceFor time.Duration, changed chan<- struct{}) {
	defer f.w.Close()
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-f.w.Events:
			if !ok {
				return
			}
			if filepath.Clean(ev.Name) == f.path && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
				debounce = time.After(debounceFor)
			}
		case err, ok := <-f.w.Errors:
			if !ok {
				return
			}
			log.Warn("config file watch error", "err", err)
		case <-debounce:
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}
}

func serve(log *slog.Logger, s *http.Server, ln net.Listener) {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("listener failed", "addr", ln.Addr().String(), "err", err)
	}
}

// reload applies the keys that are safe to change live; a bad file keeps the
// config in force.
func reload(log *slog.Logger, store *config.Store, level *slog.LevelVar, events *actors.Events, m *actors.Metrics, args, environ []string) {
	changed, restart, err := store.Reload(args, environ)
	if err != nil {
		m.ConfigReloads.WithLabelValues("error").Inc()
		log.Error("config reload rejected; keeping the config in force", "err", err)
		return
	}
	m.ConfigReloads.WithLabelValues("ok").Inc()
	cfg := store.Get()
	level.Set(parseLevel(cfg.Log.Level))
	if events.SetEnabled(cfg.StateEvents.Enabled) {
		log.Info("state events toggled", "enabled", cfg.StateEvents.Enabled)
	}
	log.Info("config reloaded", "changed", changed, "need_restart", restart)
}
