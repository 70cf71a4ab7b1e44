// Command matchload is a load generator for matchd: a swarm of WebSocket
// clients with a mix of behaviours, spread round-robin over several nodes,
// with a ramp, a live progress line and a final report (human table on
// stdout, JSON with --json): players matched per second, latency
// percentiles, errors by code and request, and invariant verdicts.
//
// Usage:
//
//	matchload --nodes ws://127.0.0.1:8080/ws,ws://127.0.0.1:8081/ws \
//	    --players 2000 --rate 1000 --duration 60s --mix normal=1
//
// # Players
//
// Each of --players distinct players holds one connection (player_id
// <id-prefix><n>, a rating drawn from N(--rating-mean, --rating-stddev),
// device_id d-<player_id>; or an HS256 token in the token query parameter
// with --token-secret). Players connect at --rate per second (0: all at once)
// bounded by --max-conns-per-sec and --dial-concurrency. Once connected a
// player enqueues for --mode and plays as its behaviour says; behaviours
// are dealt in exact proportions of --mix (weights are normalised):
//
//	normal     loading_complete at once on match_found
//	slow       loading_complete --slow-delay after match_found
//	noshow     never loads (a no-show at the deadline, then sanctioned)
//	dodge      cancel after match_found
//	quit       closes its socket while queued or while loading (half each)
//	malformed  plays normally but also sends garbage frames (invalid JSON,
//	           unknown types, a missing field, a binary frame, frames of
//	           exactly and just under --max-message-bytes); each must get a
//	           typed reply (error, or pong) without a disconnect
//
// With --duration D a player that finished (match_ready, or a cancelled
// match that did not requeue it, or a queue timeout) enqueues again until D
// has passed after the ramp (after a pause of mean --think, exponentially
// distributed, when set); with --duration 0 each player plays one match
// and the run ends when every player is done, or when only queued players
// remain and no match formed for --settle. A refused enqueue (BANNED,
// UNAVAILABLE, RATE_LIMITED) is retried after retry_after_ms while the run
// lasts; a refused loading_complete or cancel (UNAVAILABLE, RATE_LIMITED)
// is retried while the state still calls for it.
//
// At the end, cycling stops and queued players cancel (a cancel that
// crosses a match claim is served by matchd as a dodge or refused with
// INVALID_STATE state loading: the player then loads as usual); loading
// rooms get --grace to resolve; then every connection is closed. Ctrl-C
// starts that drain early; a second Ctrl-C, or --timeout, aborts at once.
//
// --idle connects the players and holds the sessions without enqueueing,
// for the sessions-per-node measurement; --metrics scrapes the nodes'
// /metrics (sessions, RSS, goroutines, counters with their change during
// the run) so the report carries the server's footprint too.
//
// # Measurements
//
// Latencies go to lock-free log-linear histograms (0.4% resolution):
// dial -> welcome, enqueue sent -> queued, enqueue sent -> match_found,
// requeued -> match_found, match_found -> match_ready and match_found ->
// match_cancelled. Players matched per second counts match_ready frames
// received, over the whole active run and over the steady window (after
// the ramp until cycling stops; with --duration 0 until the last
// match_ready), with the slowest and fastest whole second of the window.
// Error frames are counted by code and by the request they answer (rids are
// <kind><n>: e enqueue, c cancel, d dodge, l loading_complete, g garbage);
// garbage replies and INVALID_STATE on loading_complete/cancel/dodge races
// are "expected", the rest "unexpected". Server closes are counted by code
// and the state the player was in; dial failures by reason.
//
// # Invariants
//
// An independent checker follows every player through the frames the
// server sent (docs/protocol.md section 5) and judges:
//
//	no-double-match        no match_found while another match of the
//	                       player is open (not ended by match_ready or
//	                       match_cancelled), nor twice for one match
//	same-teams             every member got match_found with the same
//	                       well-formed teams that include itself, every
//	                       connected member listed got it, no match is both
//	                       ready and cancelled
//	every-player-accounted at the end each player is idle after
//	                       match_ready, was dequeued or cancelled with an
//	                       explicit reason, was refused (BANNED), quit on
//	                       purpose, or failed to connect; anyone still
//	                       waiting, or closed by the server while waiting,
//	                       is a straggler
//	protocol-order         frames fit the state machine and the ordering of
//	                       section 13 (queued before match_found, a dodger's
//	                       reply not requeued, no match_ready/cancelled for
//	                       a match not open, ...)
//	malformed-handled      every garbage frame got a typed reply and no
//	                       malformed sender was disconnected
//
// Each verdict is PASS or FAIL with counts by kind and up to 10 examples.
// --trace N keeps each player's last N frames and prints them for the
// examples (captured at the moment of the violation, plus the other members
// of the matches involved), which is usually enough to tell a matchd bug
// from a race.
//
// The process raises its open-file limit to the hard maximum and warns when
// that is below --players. Past ~25,000 connections per node on loopback it
// dials from several 127.0.0.x source addresses (--source-ips) so ephemeral
// ports do not run out.
//
// Exit status: 0 every invariant holds, 1 an invariant failed, 2 usage
// error.
package main
