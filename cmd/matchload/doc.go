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
// # Parties
//
// --party-mix 1=0.6,2=0.25,3=0.1,5=0.05 deals the players into parties:
// size = fraction of the parties (fractions sum to 1; size 1 plays alone;
// default: everyone alone). A party's players are consecutive, and member i
// dials node i mod len(--nodes), so a party spans the nodes. Its first
// member creates it, open or invite-only (--party-open, the share of open
// parties), and invites the others, who join on the invitation (or by id,
// when open). Whoever leads the party queues it once every member still in
// the run has joined; the members wait for the party's queued and play
// each match with their own behaviour (no-shows and dodgers are per
// player). After an idle result (match_ready, a cancelled match that did
// not requeue the party, a dequeue) the leader queues the party again; a
// requeued party waits in the queue as the server put it back. A member
// that left the run (quit, or closed) is kicked by the leader, queued or
// not, and the party plays on without it; a PARTY_NOT_READY (a mate still
// finishing its last match) is retried after 150 ms.
//
// With --duration D a player that finished (match_ready, or a cancelled
// match that did not requeue it, or a queue timeout) enqueues again until D
// has passed after the ramp (after a pause of mean --think, exponentially
// distributed, when set); with --duration 0 each player plays one match
// and the run ends when every player is done, or when only queued players
// remain and no match formed for --settle. A refused enqueue (BANNED,
// UNAVAILABLE, RATE_LIMITED) is retried after retry_after_ms while the run
// lasts; a refused loading_complete or cancel (UNAVAILABLE, RATE_LIMITED)
// is retried while the state still calls for it. BANNED is the sanction
// ladder at work (a no-show's or a dodger's next enqueues): it has a
// report line of its own and is not an unexpected error.
//
// At the end, cycling stops; players in a loading room finish it (load,
// and hear match_ready or match_cancelled), and queued players stay queued
// while matches still form. Once none can (fewer players queued than a
// match seats, or no match_found for --settle) and no room is loading, the
// players still queued cancel (in a party, its leader), so that no cancel
// crosses a match claim and counts as a dodge: a run of well-behaved
// players charges no violation. All this within --grace; then every
// connection is closed. Ctrl-C starts that drain early; a second Ctrl-C,
// or --timeout, aborts at once.
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
// With --party-mix, four more (a player's party is what its own party
// frames say; a party's ticket is everyone told queued with it):
//
//	party-one-team         a party's members in a match sit on one team
//	party-matched-together a match holds all of a party's members or none
//	party-requeued-whole   a cancelled match gives every member of a party
//	                       the same requeued
//	party-same-outcome     every member of a party is told the same ends
//	                       (match ready or cancelled, dequeued), with the
//	                       same match ids, in the same order
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
