package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/matchd/matchd/gateway/client"
)

// behStats counts outcomes per behaviour.
type behStats struct {
	players   atomic.Int64
	matched   atomic.Uint64
	cancelled atomic.Uint64
	quit      atomic.Uint64
	lost      atomic.Uint64
}

// liveStats are the counters the progress line and the report read.
type liveStats struct {
	connected, queued, loading, retrying atomic.Int64 // gauges
	forming                              atomic.Int64 // gauge: parties being made
	peakConnected                        atomic.Int64
	dialOK, dialDone                     atomic.Uint64
	matched, found                       atomic.Uint64
	errorsUnexpected, errorsAll          atomic.Uint64
	framesIn, framesOut                  atomic.Uint64
	badFrames, oddFrames                 atomic.Uint64
	garbageSent, serverDraining          atomic.Uint64
	retries                              atomic.Uint64 // requests resent after UNAVAILABLE/RATE_LIMITED
	banned                               atomic.Uint64 // enqueues refused BANNED: the sanction ladder at work
	partyNotReady                        atomic.Uint64 // party enqueues refused PARTY_NOT_READY (retried)
	partyKicks                           atomic.Uint64 // members that left the run, kicked by their leader
	partyAlone                           atomic.Uint64 // party members that ended up playing alone
	partyInvitesIgnored                  atomic.Uint64 // party_invite frames no member was waiting for
	lastFound                            atomic.Int64  // unix ns
	lastReady                            atomic.Int64  // unix ns
	beh                                  [numBehaviours]behStats

	mu         sync.Mutex
	dialErrors map[string]uint64
	errByCode  map[string]uint64
	errByReq   map[string]uint64
	closeCodes map[string]uint64
	cancels    map[string]uint64
	dequeues   map[string]uint64
	errSamples map[string][]string // a few raw error frames per code and request
}

func newLiveStats() *liveStats {
	return &liveStats{
		dialErrors: map[string]uint64{}, errByCode: map[string]uint64{}, errByReq: map[string]uint64{},
		closeCodes: map[string]uint64{}, cancels: map[string]uint64{}, dequeues: map[string]uint64{},
		errSamples: map[string][]string{},
	}
}

func (s *liveStats) inc(m map[string]uint64, k string) {
	s.mu.Lock()
	m[k]++
	s.mu.Unlock()
}

func (s *liveStats) dialFailed(reason string) { s.inc(s.dialErrors, reason) }
func (s *liveStats) dequeued(reason string)   { s.inc(s.dequeues, reason) }
func (s *liveStats) cancelled(reason string, requeued bool) {
	s.inc(s.cancels, reason+" requeued="+strconv.FormatBool(requeued))
}

func (s *liveStats) closed(code int, state string) {
	c := "abnormal (no close frame)"
	if code >= 0 {
		c = strconv.Itoa(code)
	}
	s.inc(s.closeCodes, c+" while "+state)
}

func (s *liveStats) errorFrame(code, req string, expected bool, player string, raw []byte) {
	s.errorsAll.Add(1)
	if !expected {
		s.errorsUnexpected.Add(1)
	}
	key := code + " on " + req
	s.mu.Lock()
	s.errByCode[code]++
	s.errByReq[key]++
	if len(s.errSamples[key]) < 3 {
		if len(raw) > 300 {
			raw = raw[:300]
		}
		s.errSamples[key] = append(s.errSamples[key], player+" <- "+string(raw))
	}
	s.mu.Unlock()
}

func (s *liveStats) snapshot(m map[string]uint64) map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// hists are the latency histograms.
type hists struct {
	dial, enqQueued, enqFound, requeueFound, foundReady, foundCancelled Histogram
}

// Runner drives one load run.
type Runner struct {
	opt     Options
	chk     *Checker
	players []*player
	clients []*http.Client
	live    *liveStats
	hist    hists

	garbageConnect, garbageQueued, garbageLoading []garbage

	draining   atomic.Bool // no more enqueues; queued players wait for a match
	cancelling atomic.Bool // no match can form any more: queued players cancel
	stopping   atomic.Bool // connections are being closed

	// parties are the run's parties (--party-mix); solos and partySizes
	// count how the players were dealt.
	parties    []*party
	solos      int
	partySizes map[int]int
	// seats is the largest number of players a match_found listed: fewer
	// queued players than that cannot form a match.
	seats atomic.Int64

	start, rampEnd, activeEnd, drainEnd  time.Time
	rateEnd                              time.Time // end of the throughput window
	matchedAtRampEnd, matchedAtActiveEnd uint64
	timeline                             []Second
	endReason                            string
	notes                                []string
	sourceIPs                            []string
	onRampEnd, onActiveEnd               func()

	traceMu sync.Mutex
	traces  map[string][]string // player histories captured at violations
}

const maxTraces = 60

// playerByID finds one of our players by id.
func (r *Runner) playerByID(id string) *player {
	rest, ok := strings.CutPrefix(id, r.opt.IDPrefix)
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= len(r.players) || r.players[i].id != id {
		return nil
	}
	return r.players[i]
}

func (r *Runner) addTrace(key string, h []string) {
	r.traceMu.Lock()
	defer r.traceMu.Unlock()
	if _, ok := r.traces[key]; !ok && len(r.traces) < maxTraces {
		r.traces[key] = h
	}
}

// onViolation captures the history of the player concerned at once (its
// lock is held by the caller) and, a moment later, of the other members of
// the matches involved.
func (r *Runner) onViolation(subject string, related []string) {
	if p := r.playerByID(subject); p != nil {
		r.addTrace(subject+" (at the violation)", p.historyLocked())
	}
	if len(related) == 0 {
		return
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		for _, m := range related {
			for _, mem := range r.chk.Members(m) {
				if q := r.playerByID(mem); q != nil && mem != subject {
					r.addTrace(mem+" (member of "+m+")", q.history())
				}
			}
		}
	}()
}

// NewRunner prepares players and dialers.
func NewRunner(o Options) (*Runner, error) {
	r := &Runner{opt: o, chk: NewChecker(), live: newLiveStats(), traces: map[string][]string{}, partySizes: map[int]int{}}
	if o.Trace > 0 {
		r.chk.OnViolation(r.onViolation)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6d617463686c6f61))
	behs := o.Mix.Assign(o.Players, rng)
	if o.Idle {
		for i := range behs {
			behs[i] = Normal
		}
	}
	r.players = make([]*player, o.Players)
	// Latencies from a stream of their own, so a seed gives the same
	// ratings and behaviours with or without --regions.
	latRng := rand.New(rand.NewPCG(o.Seed, 0x726567696f6e73))
	for i := range r.players {
		rating := math.Round(o.RatingMean + rng.NormFloat64()*o.RatingStddev)
		rating = max(rating, 0)
		p := &player{r: r, id: o.IDPrefix + strconv.Itoa(i), idx: i, node: i % len(o.Nodes),
			rating: rating, beh: behs[i]}
		if p.beh == Quit {
			p.quitLoading = rng.IntN(2) == 1
		}
		if len(o.Populations) > 0 {
			pop := o.Populations[latRng.IntN(len(o.Populations))]
			p.lat = drawLatencies(latRng, pop)
			if o.RegionNodes != nil {
				p.node = o.RegionNodes[fastest(pop, p.lat)]
			}
		}
		r.live.beh[p.beh].players.Add(1)
		r.players[i] = p
	}
	// Parties from a stream of their own too: the same seed deals the same
	// ratings and behaviours with or without --party-mix.
	if !o.Idle {
		r.makeParties(rand.New(rand.NewPCG(o.Seed, 0x7061727479)))
	}
	r.garbageConnect, r.garbageQueued, r.garbageLoading = buildGarbage(o.MaxMessageBytes)

	ips, err := r.chooseSourceIPs()
	if err != nil {
		return nil, err
	}
	r.sourceIPs = ips
	if len(ips) == 0 {
		ips = []string{""}
	}
	for _, ip := range ips {
		d := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: -1}
		if ip != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
			d.Control = bindNoPort
		}
		tr := &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: -1,
			TLSHandshakeTimeout: o.DialTimeout,
		}
		r.clients = append(r.clients, &http.Client{Transport: tr})
	}
	return r, nil
}

// drainCancelWait bounds the wait for the answers to the cancels sent when
// --grace ran out.
const drainCancelWait = 5 * time.Second

// portsPerIP is a conservative count of ephemeral ports per destination.
const portsPerIP = 25000

// chooseSourceIPs applies --source-ips: explicit, or (auto) enough
// 127.0.0.x addresses for loopback nodes past one address's ports.
func (r *Runner) chooseSourceIPs() ([]string, error) {
	o := r.opt
	if o.SourceIPs != nil {
		for _, ip := range o.SourceIPs {
			if net.ParseIP(ip) == nil {
				return nil, fmt.Errorf("%w: --source-ips: %q is not an IP address", errUsage, ip)
			}
		}
		return o.SourceIPs, nil
	}
	perNode := (o.Players + len(o.Nodes) - 1) / len(o.Nodes)
	if perNode <= portsPerIP {
		return nil, nil
	}
	for _, n := range o.Nodes {
		u, _ := url.Parse(n)
		h := u.Hostname()
		ip := net.ParseIP(h)
		if !(h == "localhost" || ip != nil && ip.IsLoopback() && ip.To4() != nil) {
			r.notes = append(r.notes, fmt.Sprintf("%d players per node exceed one source address's ~%d ports and the nodes are not all IPv4 loopback: pass --source-ips", perNode, portsPerIP))
			return nil, nil
		}
	}
	k := (perNode + portsPerIP - 1) / portsPerIP
	ips := make([]string, k)
	for i := range ips {
		ips[i] = "127.0.0." + strconv.Itoa(i+1)
	}
	return ips, nil
}

// dial opens the player's WebSocket; on failure it returns nil and a
// low-cardinality reason.
func (r *Runner) dial(p *player) (*client.Conn, string) {
	o := r.opt
	do := client.DialOptions{HTTPClient: r.clients[p.idx%len(r.clients)]}
	if o.TokenSecret != "" {
		claims := jwt.MapClaims{"sub": p.id, "exp": time.Now().Add(o.Timeout + 24*time.Hour).Unix(), "rating": p.rating}
		if o.DeviceIDs {
			claims["device_id"] = "d-" + p.id
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(o.TokenSecret))
		if err != nil {
			return nil, "token: " + err.Error()
		}
		do.Token = tok
	} else {
		do.PlayerID, do.Rating = p.id, &p.rating
		if o.DeviceIDs {
			do.DeviceID = "d-" + p.id
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.DialTimeout)
	defer cancel()
	conn, err := client.Dial(ctx, o.Nodes[p.node], do)
	if err != nil {
		return nil, dialReason(err)
	}
	return conn, ""
}

func dialReason(err error) string {
	var he *client.HandshakeError
	if errors.As(err, &he) {
		return strings.TrimSpace(fmt.Sprintf("HTTP %d %s", he.StatusCode, he.Code))
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port (EADDRNOTAVAIL)"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "timeout"):
		return "timeout"
	}
	return shortErr(err)
}

// Second is one point of the timeline.
type Second struct {
	T         int     `json:"t"`
	Phase     string  `json:"phase"`
	Connected int64   `json:"connected"`
	Queued    int64   `json:"queued"`
	Loading   int64   `json:"loading"`
	Matched   uint64  `json:"matched"`
	Found     uint64  `json:"match_found"`
	Errors    uint64  `json:"errors"`
	P99FoundM float64 `json:"p99_enqueue_to_match_found_ms"`
}

// phase names for the timeline.
func (r *Runner) phase() string {
	switch {
	case r.stopping.Load():
		return "closing"
	case r.draining.Load():
		return "drain"
	case r.live.dialDone.Load() < uint64(len(r.players)):
		return "ramp"
	}
	return "steady"
}

// active is the number of players the run still waits for.
func (r *Runner) active() int64 {
	return r.live.queued.Load() + r.live.loading.Load() + r.live.retrying.Load() + r.live.forming.Load()
}

// noteSeats learns the size of a match from a match_found's teams.
func (r *Runner) noteSeats(teams [][]string) {
	n := int64(0)
	for _, t := range teams {
		n += int64(len(t))
	}
	for {
		cur := r.seats.Load()
		if n <= cur || r.seats.CompareAndSwap(cur, n) {
			return
		}
	}
}

// cancelQueued has every player still queued leave the queue.
func (r *Runner) cancelQueued() {
	r.cancelling.Store(true)
	for _, p := range r.players {
		p.mu.Lock()
		p.drainCancel()
		p.mu.Unlock()
	}
}

// Run drives the whole run. interrupt delivers Ctrl-C: the first drains,
// the second aborts. ctx bounds everything (--timeout).
func (r *Runner) Run(ctx context.Context, interrupt <-chan struct{}, progress *Progress) {
	o := r.opt
	r.start = time.Now()
	r.live.lastFound.Store(r.start.UnixNano())
	stopProgress := progress.Start(r)
	defer stopProgress()
	if o.Silence > 0 {
		stopWatch := make(chan struct{})
		defer close(stopWatch)
		go r.watchSilence(stopWatch)
	}

	interrupted := make(chan struct{})
	aborted := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-interrupt:
				n++
				if n == 1 {
					close(interrupted)
				} else {
					close(aborted)
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	abort := func() bool {
		select {
		case <-ctx.Done():
			r.endReason = "timeout (--timeout)"
			return true
		case <-aborted:
			r.endReason = "aborted (second interrupt)"
			return true
		default:
			return false
		}
	}

	// Ramp: spawn every player at --rate, bounded by --max-conns-per-sec and
	// --dial-concurrency.
	sem := make(chan struct{}, o.DialConcurrency)
	var lim *rate.Limiter
	if o.MaxConnsPerSec > 0 {
		lim = rate.NewLimiter(rate.Limit(o.MaxConnsPerSec), max(1, int(o.MaxConnsPerSec/20)))
	}
	spawned := 0
spawn:
	for spawned < len(r.players) {
		due := len(r.players)
		if o.Rate > 0 {
			due = min(len(r.players), int(time.Since(r.start).Seconds()*o.Rate)+1)
		}
		for ; spawned < due; spawned++ {
			if lim != nil {
				if err := lim.Wait(ctx); err != nil {
					break spawn
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				break spawn
			case <-interrupted:
				break spawn
			}
			go r.players[spawned].run(sem)
		}
		if spawned < len(r.players) {
			next := r.start.Add(time.Duration(float64(spawned) / o.Rate * float64(time.Second)))
			select {
			case <-time.After(max(time.Until(next), 200*time.Microsecond)):
			case <-ctx.Done():
				break spawn
			case <-interrupted:
				break spawn
			}
		}
	}
	for i := spawned; i < len(r.players); i++ {
		r.live.dialDone.Add(1) // never started
	}
	// Wait for the handshakes in flight.
	for r.live.dialDone.Load() < uint64(len(r.players)) && !abort() {
		time.Sleep(5 * time.Millisecond)
	}
	r.rampEnd = time.Now()
	r.matchedAtRampEnd = r.live.matched.Load()
	if spawned < len(r.players) {
		r.notes = append(r.notes, fmt.Sprintf("only %d of %d players were started", spawned, len(r.players)))
	}
	if r.onRampEnd != nil {
		r.onRampEnd()
	}

	// Active phase.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var until <-chan time.Time
	if o.Duration > 0 {
		until = time.After(o.Duration)
	}
active:
	for !abort() {
		select {
		case <-interrupted:
			r.endReason = "interrupted"
			break active
		case <-until:
			r.endReason = "duration elapsed"
			break active
		case <-ctx.Done():
		case <-aborted:
		case <-tick.C:
			if o.Duration > 0 || o.Idle {
				continue
			}
			if r.active() == 0 {
				r.endReason = "every player played its match"
				break active
			}
			stalled := time.Since(time.Unix(0, r.live.lastFound.Load())) >= o.Settle
			if stalled && r.live.loading.Load() == 0 && r.live.retrying.Load() == 0 && r.live.forming.Load() == 0 {
				r.endReason = fmt.Sprintf("no match formed for %s with only queued players left", o.Settle)
				break active
			}
		}
	}
	r.activeEnd = time.Now()
	r.matchedAtActiveEnd = r.live.matched.Load()
	r.rateEnd = r.activeEnd
	if o.Duration == 0 {
		// One match each: the window ends with the last match_ready, not
		// with the --settle wait.
		if lr := time.Unix(0, r.live.lastReady.Load()); r.live.lastReady.Load() != 0 && lr.Before(r.rateEnd) {
			r.rateEnd = lr
		}
	}
	if r.onActiveEnd != nil {
		r.onActiveEnd()
	}

	// Drain: stop cycling and let every match resolve, including those
	// that still form from the queue; once none can (fewer players queued
	// than a match seats, or none formed for --settle) and no room is
	// loading, cancel what is left. A cancel sent while matches still form
	// could cross one and count as a dodge: a violation charged to a
	// player that did nothing wrong.
	if !abort() {
		r.draining.Store(true)
		for _, p := range r.players {
			p.drain()
		}
		graceEnd := time.After(o.Grace)
		var cancelEnd <-chan time.Time
	drain:
		for !abort() && r.active() > 0 {
			select {
			case <-graceEnd:
				if r.cancelling.Load() {
					break drain
				}
				// Out of grace: cancel what is left, and give the
				// cancels a moment to be answered.
				r.notes = append(r.notes, fmt.Sprintf("--grace %s ran out before matching settled: the players still queued were cancelled", o.Grace))
				r.cancelQueued()
				cancelEnd = time.After(drainCancelWait)
				graceEnd = nil
			case <-cancelEnd:
				break drain
			case <-aborted:
			case <-ctx.Done():
			case <-tick.C:
				if r.cancelling.Load() || r.live.loading.Load() > 0 || r.live.forming.Load() > 0 {
					continue
				}
				few := r.seats.Load() > 0 && r.live.queued.Load() < r.seats.Load()
				stalled := time.Since(time.Unix(0, r.live.lastFound.Load())) >= o.Settle
				if few || stalled {
					r.cancelQueued()
				}
			}
		}
	}
	r.drainEnd = time.Now()
	if r.endReason == "" {
		r.endReason = "aborted"
	}
	if abort() {
		r.notes = append(r.notes, "the run was cut short ("+r.endReason+") without a drain: players still waiting count as stragglers")
	}
	// Close every connection.
	r.stopping.Store(true)
	closeNow := abort()
	var wg sync.WaitGroup
	work := make(chan *player)
	for range min(256, len(r.players)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				p.close(closeNow)
			}
		}()
	}
	for _, p := range r.players {
		work <- p
	}
	close(work)
	wg.Wait()
}
