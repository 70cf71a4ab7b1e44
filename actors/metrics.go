package actors

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/matchd/matchd/gateway/protocol"
)

// Metrics are the Prometheus series of docs/protocol.md section 10.2, defined once.
// Each counter is incremented in the one place where its event happens.
type Metrics struct {
	Sessions         prometheus.Gauge
	QueueTickets     *prometheus.GaugeVec
	TicketsEnqueued  *prometheus.CounterVec
	MatchesFormed    *prometheus.CounterVec
	MatchesStarted   *prometheus.CounterVec
	MatchesCancelled *prometheus.CounterVec
	PlayersRequeued  *prometheus.CounterVec
	QueueWait        *prometheus.HistogramVec
	MatchSpread      *prometheus.HistogramVec
	// MatchesFormedByRegion and MatchLatency are a mode with regions'
	// matches formed by this node, and the worst member's latency of each,
	// by region (docs/protocol.md section 9.5).
	MatchesFormedByRegion *prometheus.CounterVec
	MatchLatency          *prometheus.HistogramVec
	Violations            *prometheus.CounterVec
	LockAcquisitions      *prometheus.CounterVec
	ActorRestarts         *prometheus.CounterVec
	RedisErrors           *prometheus.CounterVec
	RedisCircuitOpen      prometheus.Gauge
	StateEventsOn         prometheus.Gauge
	ClaimsRejected        *prometheus.CounterVec
	RoomsAdopted          *prometheus.CounterVec
	MatchingTick          *prometheus.HistogramVec
	BusMessages           *prometheus.CounterVec
	ClientErrors          *prometheus.CounterVec
	ConfigReloads         *prometheus.CounterVec
	BansActive            prometheus.Gauge
	// TicketsDequeued counts tickets that left a queue without a match, by
	// the dequeued frame's reason.
	TicketsDequeued *prometheus.CounterVec
	// QueueOldestWait is the age of the mode's oldest waiting ticket, set
	// by the mode's lease holder (0 on every other node and when empty).
	QueueOldestWait *prometheus.GaugeVec
	// LeaseChanges counts this node's matching leases gained and lost.
	LeaseChanges *prometheus.CounterVec
	// TickInterval is matchmaking.tick, so alerts compare tick durations
	// with the tick they must fit in.
	TickInterval prometheus.Gauge
	// RedisRoundTrip times every Redis call (a pipeline is one call).
	RedisRoundTrip *prometheus.HistogramVec
	// BuildInfo is 1 for the running build's version, commit and Go
	// version; the command sets it, since only it knows its stamp.
	BuildInfo *prometheus.GaugeVec
	// Parties is the number of parties in existence, all nodes (read from
	// Redis by the coordinator).
	Parties prometheus.Gauge
	// PartyTicketsEnqueued counts party tickets created, by mode and party
	// size.
	PartyTicketsEnqueued *prometheus.CounterVec
}

// NewMetrics creates the series and registers them on reg; tests pass a
// fresh registry each.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sessions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "matchd", Name: "sessions",
			Help: "Live WebSocket sessions on this node."}),
		QueueTickets: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "matchd", Name: "queue_tickets",
			Help: "Tickets waiting in the mode's queue (all nodes)."}, []string{"mode"}),
		TicketsEnqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "tickets_enqueued_total",
			Help: "Accepted enqueue requests that created a ticket (idempotent repeats not counted)."}, []string{"mode"}),
		MatchesFormed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "matches_formed_total",
			Help: "Matches formed by this node."}, []string{"mode"}),
		MatchesStarted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "matches_started_total",
			Help: "Matches that reached match_ready."}, []string{"mode"}),
		MatchesCancelled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "matches_cancelled_total",
			Help: "Matches cancelled, by reason."}, []string{"mode", "reason"}),
		PlayersRequeued: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "players_requeued_total",
			Help: "Players actually put back into a queue after a cancelled match."}, []string{"mode"}),
		QueueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "matchd", Name: "queue_wait_seconds",
			Help:    "Time from enqueue to match_found.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300}}, []string{"mode"}),
		MatchesFormedByRegion: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "matches_formed_by_region_total",
			Help: "Matches formed by this node, by region (modes with regions)."}, []string{"mode", "region"}),
		MatchLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "matchd", Name: "match_latency_ms",
			Help:    "The worst member's latency (ms) to the region of each match formed.",
			Buckets: []float64{10, 20, 40, 60, 80, 100, 125, 150, 200, 250, 300}}, []string{"mode", "region"}),
		MatchSpread: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "matchd", Name: "match_rating_spread",
			Help:    "Rating spread (max - min) of every match formed.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 200, 400, 700, 1000}}, []string{"mode"}),
		Violations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "violations_total",
			Help: "Violations recorded, by kind (no_show, dodge)."}, []string{"kind"}),
		LockAcquisitions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "lock_acquisitions_total",
			Help: "Matching lease acquisition attempts, by result (acquired, busy, error)."}, []string{"result"}),
		ActorRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "actor_restarts_total",
			Help: "Supervisor restarts, by actor kind."}, []string{"kind"}),
		RedisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "redis_errors_total",
			Help: "Failed Redis calls, by operation."}, []string{"op"}),
		RedisCircuitOpen: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "matchd", Name: "redis_circuit_open",
			Help: "1 while the Redis circuit breaker is open."}),
		StateEventsOn: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "matchd", Name: "state_events_enabled",
			Help: "1 while state events are published."}),
		ClaimsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "claims_rejected_total",
			Help: "Match claims refused by Redis, by reason (lease_lost, ticket_gone)."}, []string{"mode", "reason"}),
		RoomsAdopted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "rooms_adopted_total",
			Help: "Loading rooms this node adopted from another owner."}, []string{"mode"}),
		MatchingTick: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "matchd", Name: "matching_tick_seconds",
			Help:    "Duration of one matching tick of a leased queue.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"mode"}),
		BusMessages: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "bus_messages_total",
			Help: "Cross-node bus messages, by direction (sent, received, dropped)."}, []string{"direction"}),
		ClientErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "client_errors_total",
			Help: "Error frames sent to clients, by code."}, []string{"code"}),
		BansActive: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "matchd", Name: "bans_active",
			Help: "Players and devices banned now (all nodes)."}),
		ConfigReloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "config_reloads_total",
			Help: "Configuration reloads, by result (ok, error)."}, []string{"result"}),
		TicketsDequeued: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "tickets_dequeued_total",
			Help: "Tickets that left a queue without a match, by dequeued reason."}, []string{"mode", "reason"}),
		QueueOldestWait: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "matchd", Name: "queue_oldest_wait_seconds",
			Help: "Age of the mode's oldest waiting ticket, exported by the mode's lease holder (0 elsewhere and when empty)."}, []string{"mode"}),
		LeaseChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "lease_changes_total",
			Help: "Matching leases this node gained or gave up, by mode and change (acquired, lost, released)."}, []string{"mode", "change"}),
		TickInterval: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "matchd", Name: "matching_tick_interval_seconds",
			Help: "The configured matching tick (matchmaking.tick)."}),
		RedisRoundTrip: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "matchd", Name: "redis_round_trip_seconds",
			Help:    "Duration of Redis calls (a pipeline counts once), by operation: the script or command, batch: for a pipeline.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12)}, []string{"op"}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "matchd", Name: "build_info",
			Help: "1, labelled with the running build's version, commit and Go version."}, []string{"version", "commit", "goversion"}),
		Parties: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "matchd", Name: "parties",
			Help: "Parties in existence (all nodes)."}),
		PartyTicketsEnqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "matchd", Name: "party_tickets_enqueued_total",
			Help: "Party tickets created, by mode and party size."}, []string{"mode", "size"}),
	}
	reg.MustRegister(m.Sessions, m.QueueTickets, m.TicketsEnqueued, m.MatchesFormed, m.MatchesStarted,
		m.MatchesCancelled, m.PlayersRequeued, m.QueueWait, m.MatchSpread, m.MatchesFormedByRegion, m.MatchLatency, m.Violations, m.LockAcquisitions,
		m.ActorRestarts, m.RedisErrors, m.RedisCircuitOpen, m.StateEventsOn, m.ClaimsRejected, m.RoomsAdopted,
		m.MatchingTick, m.BusMessages, m.ClientErrors, m.ConfigReloads, m.BansActive, m.BuildInfo,
		m.TicketsDequeued, m.QueueOldestWait, m.LeaseChanges, m.TickInterval, m.RedisRoundTrip, m.Parties, m.PartyTicketsEnqueued)
	for _, r := range []string{"acquired", "busy", "error"} {
		m.LockAcquisitions.WithLabelValues(r)
	}
	for _, k := range []string{"no_show", "dodge"} {
		m.Violations.WithLabelValues(k)
	}
	for _, k := range []string{"coordinator", "queue", "room", "session"} {
		m.ActorRestarts.WithLabelValues(k)
	}
	// Series that otherwise appear only at their first event: pre-created so
	// that dashboards show zeros, and so that increase()/rate() see the
	// first event (a counter born at 1 looks like no increase at all).
	for _, d := range []string{"sent", "received", "dropped"} {
		m.BusMessages.WithLabelValues(d)
	}
	for _, r := range []string{"ok", "error"} {
		m.ConfigReloads.WithLabelValues(r)
	}
	for _, op := range redisOps {
		m.RedisErrors.WithLabelValues(op)
	}
	for _, c := range []protocol.Code{protocol.CodeBadRequest, protocol.CodeUnknownType, protocol.CodeUnknownMode,
		protocol.CodeInvalidState, protocol.CodeBanned, protocol.CodeRateLimited, protocol.CodeUnavailable,
		protocol.CodeInternal} {
		m.ClientErrors.WithLabelValues(string(c))
	}
	return m
}

// redisOps are the op labels of matchd_redis_errors_total (the first
// argument of Env.redisErr and the like), pre-created at zero. An op missing
// here still counts; its series just appears at its first failure.
var redisOps = []string{
	"active_bans", "append_event", "ban_check", "claim", "dir_claim", "dir_nodes", "dir_release", "dir_touch",
	"drop_node", "drop_room_ref", "enqueue", "liveness", "lock_acquire", "lock_extend", "lock_release",
	"mark_ready", "open_rooms", "player_entry", "pool", "publish", "queue_len", "record_violation",
	"remove_ticket", "resolve_room", "room", "room_load", "room_owners", "ticket", "touch_node", "waits",
}

// InitMode pre-creates a mode's series so dashboards show zeros, not gaps.
func (m *Metrics) InitMode(mode string) {
	m.QueueTickets.WithLabelValues(mode)
	m.TicketsEnqueued.WithLabelValues(mode)
	m.MatchesFormed.WithLabelValues(mode)
	m.MatchesStarted.WithLabelValues(mode)
	m.PlayersRequeued.WithLabelValues(mode)
	for _, r := range []string{"loading_timeout", "player_left", "allocation_failed"} {
		m.MatchesCancelled.WithLabelValues(mode, r)
	}
	for _, r := range []string{"lease_lost", "ticket_gone"} {
		m.ClaimsRejected.WithLabelValues(mode, r)
	}
	m.RoomsAdopted.WithLabelValues(mode)
	for _, r := range DequeueReasons {
		m.TicketsDequeued.WithLabelValues(mode, r)
	}
	m.QueueOldestWait.WithLabelValues(mode)
	for _, c := range []string{leaseAcquired, leaseLost, leaseReleased} {
		m.LeaseChanges.WithLabelValues(mode, c)
	}
}

// DequeueReasons are the reasons a ticket leaves a queue without a match
// on a node today, pre-created per mode (draining never dequeues: a
// drained node's players keep their tickets and resume elsewhere; parties
// do not exist yet).
var DequeueReasons = []string{protocol.ReasonCancelled, protocol.ReasonTimeout, protocol.ReasonBanned, protocol.ReasonDisconnected}

// InitRegion pre-creates a region's series of a mode with regions.
func (m *Metrics) InitRegion(mode, region string) {
	m.MatchesFormedByRegion.WithLabelValues(mode, region)
}
