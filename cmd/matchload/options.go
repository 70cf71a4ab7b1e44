package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Behaviour is how one simulated client plays.
type Behaviour uint8

// The behaviours of --mix.
const (
	// Normal enqueues, loads at once on match_found and re-enqueues.
	Normal Behaviour = iota
	// Slow sends loading_complete --slow-delay after match_found.
	Slow
	// NoShow never sends loading_complete: a no-show at the deadline.
	NoShow
	// Dodge sends cancel after match_found.
	Dodge
	// Quit closes its socket while queued or while loading, and is gone.
	Quit
	// Malformed plays normally but also sends garbage frames, each of which
	// must get a typed reply without the connection being closed.
	Malformed
	numBehaviours
)

var behaviourNames = [numBehaviours]string{"normal", "slow", "noshow", "dodge", "quit", "malformed"}

// String names the behaviour as --mix spells it.
func (b Behaviour) String() string {
	if b < numBehaviours {
		return behaviourNames[b]
	}
	return "behaviour(" + strconv.Itoa(int(b)) + ")"
}

func parseBehaviour(s string) (Behaviour, bool) {
	for i, n := range behaviourNames {
		if n == s {
			return Behaviour(i), true
		}
	}
	return 0, false
}

// Mix is the share of each behaviour; the shares sum to 1.
type Mix [numBehaviours]float64

// DefaultMix is the mix of the issue: mostly well-behaved clients with a
// few of each kind of trouble.
const DefaultMix = "normal=0.9,slow=0.04,noshow=0.02,dodge=0.02,quit=0.01,malformed=0.01"

// ParseMix parses "normal=0.9,slow=0.1". Weights are non-negative numbers;
// they are normalised to sum to 1, so "normal=9,dodge=1" works too. A
// behaviour may appear once; behaviours not listed get 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	s = strings.TrimSpace(s)
	if s == "" {
		return m, errors.New("mix is empty")
	}
	var seen [numBehaviours]bool
	sum := 0.0
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return m, fmt.Errorf("mix entry %q: want name=weight", part)
		}
		b, ok := parseBehaviour(strings.TrimSpace(name))
		if !ok {
			return m, fmt.Errorf("mix entry %q: unknown behaviour %q (want one of %s)", part, name, strings.Join(behaviourNames[:], ", "))
		}
		if seen[b] {
			return m, fmt.Errorf("mix: %s given twice", b)
		}
		seen[b] = true
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return m, fmt.Errorf("mix entry %q: weight must be a number >= 0", part)
		}
		m[b] = w
		sum += w
	}
	if sum <= 0 {
		return m, errors.New("mix: the weights sum to 0")
	}
	for i := range m {
		m[i] /= sum
	}
	return m, nil
}

// String renders the mix as --mix takes it, for the report.
func (m Mix) String() string {
	var parts []string
	for i, w := range m {
		if w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%.4g", Behaviour(i), w))
		}
	}
	return strings.Join(parts, ",")
}

// Assign gives n players their behaviours: exact counts by largest
// remainder (so 1% of 200 players is 2 players, not "about 2"), in an order
// shuffled by rng.
func (m Mix) Assign(n int, rng *rand.Rand) []Behaviour {
	counts := m.Counts(n)
	out := make([]Behaviour, 0, n)
	for b, c := range counts {
		for range c {
			out = append(out, Behaviour(b))
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Counts splits n by the mix with the largest-remainder method: the counts
// sum to n exactly.
func (m Mix) Counts(n int) [numBehaviours]int {
	var counts [numBehaviours]int
	if n <= 0 {
		return counts
	}
	positive := false
	for _, w := range m {
		positive = positive || w > 0
	}
	if !positive {
		counts[Normal] = n
		return counts
	}
	type rem struct {
		b Behaviour
		r float64
	}
	rems := make([]rem, 0, numBehaviours)
	total := 0
	for i, w := range m {
		exact := w * float64(n)
		c := int(math.Floor(exact))
		counts[i] = c
		total += c
		rems = append(rems, rem{Behaviour(i), exact - float64(c)})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].r > rems[j].r })
	for i := 0; total < n; i++ {
		if m[rems[i%len(rems)].b] > 0 {
			counts[rems[i%len(rems)].b]++
			total++
		}
	}
	return counts
}

// Options are the command line.
type Options struct {
	Nodes    []string
	Players  int
	Rate     float64
	Duration time.Duration
	Mode     string
	// Regions, when set, give each player a round trip per region, sent
	// with every enqueue; Latency is the mode's rule the checker holds
	// each match's region to.
	// Populations are where players come from: each player belongs to one
	// (drawn evenly) and draws its round trip per region from its ranges.
	Populations [][]RegionRange
	Latency     LatencyRule
	// RegionNodes maps a region to the index in Nodes its players connect
	// to (a player's region being its fastest), as geo-routed DNS would;
	// nil: players are spread round-robin.
	RegionNodes  map[string]int
	RatingMean   float64
	RatingStddev float64
	Mix          Mix
	// PartyMix deals the players into parties (SoloMix: every player
	// alone); PartyOpen is the share of parties that are open (the others
	// are invite-only: their creator invites each member).
	PartyMix        PartyMix
	PartyOpen       float64
	SlowDelay       time.Duration
	Think           time.Duration
	Idle            bool
	TokenSecret     string
	JSONPath        string
	Seed            uint64
	Timeout         time.Duration
	MaxConnsPerSec  float64
	DialConcurrency int
	DialTimeout     time.Duration
	Grace           time.Duration
	Settle          time.Duration
	MaxMessageBytes int
	IDPrefix        string
	SourceIPs       []string // nil: automatic
	Metrics         []string
	DeviceIDs       bool
	Progress        string
	Trace           int
	CPUProfile      string
	// Silence, when set, fails the run for any player queued or loading
	// that hears nothing (a sync's answer included) for this long.
	Silence time.Duration
	// Version asks for the version line instead of a run.
	Version bool
}

// errUsage marks a command-line error (exit status 2).
var errUsage = errors.New("usage")

// ParseOptions parses the command line. Errors wrap errUsage.
func ParseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("matchload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.String("nodes", "ws://127.0.0.1:8080/ws", "comma-separated WebSocket URLs of the matchd nodes; players are spread round-robin")
	fs.IntVar(&o.Players, "players", 1000, "number of distinct players (connections)")
	fs.Float64Var(&o.Rate, "rate", 1000, "new players connecting per second during the ramp; 0 connects all at once")
	fs.DurationVar(&o.Duration, "duration", 0, "how long to keep cycling after the ramp (a player that finished a match re-enqueues until then); 0: each player plays one match. With --idle: how long to hold the sessions (0: until Ctrl-C or --timeout)")
	fs.StringVar(&o.Mode, "mode", "duel", "game mode to enqueue for")
	fs.Float64Var(&o.RatingMean, "rating-mean", 1500, "mean of the players' ratings (normal distribution)")
	fs.Float64Var(&o.RatingStddev, "rating-stddev", 300, "standard deviation of the players' ratings")
	regions := fs.String("regions", "", "a mode with regions: name=lo:hi,... (ms); each player draws its round trip to each region uniformly from the range and sends them with every enqueue, e.g. eu=20:80,us-east=60:140,asia=150:250. Several populations separated by ';' (players drawn evenly among them), e.g. 'eu=20:60,asia=150:250;eu=150:250,asia=20:60' for players of two continents")
	regionNodes := fs.String("region-nodes", "", "with --regions: region=node-index,... (indexes into --nodes): each player connects to the node of its fastest region, as geo-routed DNS would; default round-robin")
	latency := fs.String("latency", "60:2:150", "with --regions: the mode's latency rule max_ms:widen_per_second:max_ms_limit, which the checker holds every match's region to")
	mix := fs.String("mix", DefaultMix, "behaviour mix: normal, slow, noshow, dodge, quit, malformed with weights (normalised)")
	partyMix := fs.String("party-mix", "", "parties: size=fraction of the parties, e.g. 1=0.6,2=0.25,3=0.1,5=0.05 (fractions sum to 1; size 1 plays alone); a party's members dial the nodes in turn (member i: node i mod N), its creator invites them or opens the party, its leader queues it. Default: every player alone")
	fs.Float64Var(&o.PartyOpen, "party-open", 0.5, "with --party-mix: the share of parties created open (members join by id); the others are invite-only")
	fs.DurationVar(&o.SlowDelay, "slow-delay", 2*time.Second, "how long a slow loader takes to send loading_complete")
	fs.DurationVar(&o.Think, "think", 0, "mean pause (exponential) between a player's matches with --duration; 0: enqueue again at once. Many players with a think time arrive nearly independently, so latency is measured at a chosen arrival rate rather than at saturation")
	fs.BoolVar(&o.Idle, "idle", false, "connect and hold the sessions idle without enqueueing (sessions-per-node measurement)")
	fs.StringVar(&o.TokenSecret, "token-secret", "", "when set, authenticate with HS256 JWTs in the token query parameter (auth.mode: hmac)")
	fs.StringVar(&o.JSONPath, "json", "", "write the report as JSON to this file ('-' for stdout, replacing the table)")
	seed := fs.Uint64("seed", 0, "random seed for ratings and behaviours (0: time-based, reported)")
	fs.DurationVar(&o.Timeout, "timeout", 15*time.Minute, "bound on the whole run; when it fires the run stops at once and stragglers are reported (0: none)")
	fs.Float64Var(&o.MaxConnsPerSec, "max-conns-per-sec", 0, "cap on WebSocket dials per second (0: only --rate limits)")
	fs.IntVar(&o.DialConcurrency, "dial-concurrency", 256, "handshakes in flight at once")
	fs.DurationVar(&o.DialTimeout, "dial-timeout", 10*time.Second, "bound on one WebSocket handshake (including the welcome frame)")
	fs.DurationVar(&o.Grace, "grace", 35*time.Second, "at the end, how long to wait for in-flight matches to resolve before counting stragglers (should exceed the mode's loading_timeout)")
	fs.DurationVar(&o.Settle, "settle", 5*time.Second, "with --duration 0: end the run when only queued players remain and no match formed for this long")
	fs.IntVar(&o.MaxMessageBytes, "max-message-bytes", 4096, "the server's server.max_message_bytes, for malformed senders' big frames")
	fs.StringVar(&o.IDPrefix, "id-prefix", "", "player id prefix (default: lt<seed>-, unique per run so sanctions of earlier runs do not apply)")
	srcIPs := fs.String("source-ips", "auto", "comma-separated local addresses to dial from, to go past ~28k connections per destination; auto: 127.0.0.x as needed for loopback nodes")
	metrics := fs.String("metrics", "", "comma-separated matchd /metrics URLs to scrape at the end (sessions, RSS, matches)")
	fs.BoolVar(&o.DeviceIDs, "device-ids", true, "send a device_id per player")
	fs.IntVar(&o.Trace, "trace", 0, "keep the last N frames of every player (both directions) and print them for the players in failing invariants' examples")
	fs.DurationVar(&o.Silence, "silence", 0, "silence watchdog: a player queued or loading that hears nothing for this long (it is sent a sync at half of it) fails the run, with its name and state; 0: off")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write matchload's own CPU profile to this file (to check the generator is not the bottleneck)")
	fs.BoolVar(&o.Version, "version", false, "print matchload's version and exit")
	fs.StringVar(&o.Progress, "progress", "auto", "progress output on stderr: auto (a live line on a terminal, else a line every 5s), line, off")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: matchload [flags]\n\nmatchload drives matchd nodes with a swarm of WebSocket clients and reports\nthroughput, latencies, errors and invariant verdicts. Exit status: 0 all\ninvariants pass, 1 an invariant failed, 2 usage error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if o.Version {
		return o, nil
	}
	bad := func(format string, a ...any) (Options, error) {
		return o, fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
	}
	for _, n := range splitList(*nodes) {
		u, err := url.Parse(n)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return bad("--nodes: %q is not a ws:// or wss:// URL", n)
		}
		if u.RawQuery != "" {
			return bad("--nodes: %q must not carry a query", n)
		}
		o.Nodes = append(o.Nodes, n)
	}
	if len(o.Nodes) == 0 {
		return bad("--nodes: at least one node is required")
	}
	if o.Players < 1 {
		return bad("--players must be >= 1")
	}
	if o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
		return bad("--rate must be >= 0")
	}
	if o.Duration < 0 || o.SlowDelay < 0 || o.Think < 0 || o.Timeout < 0 || o.Grace < 0 || o.Settle <= 0 || o.DialTimeout <= 0 {
		return bad("durations must be >= 0 (--settle and --dial-timeout > 0)")
	}
	if o.Mode == "" {
		return bad("--mode must not be empty")
	}
	if o.RatingStddev < 0 || math.IsNaN(o.RatingStddev) || math.IsNaN(o.RatingMean) || math.IsInf(o.RatingMean, 0) {
		return bad("--rating-mean must be finite and --rating-stddev >= 0")
	}
	var err error
	if o.Mix, err = ParseMix(*mix); err != nil {
		return bad("--mix: %v", err)
	}
	o.PartyMix = SoloMix
	if strings.TrimSpace(*partyMix) != "" {
		if o.PartyMix, err = ParsePartyMix(*partyMix); err != nil {
			return bad("--party-mix: %v", err)
		}
	}
	if !(o.PartyOpen >= 0 && o.PartyOpen <= 1) {
		return bad("--party-open must be between 0 and 1")
	}
	if strings.TrimSpace(*regions) != "" {
		if o.Populations, err = ParsePopulations(*regions); err != nil {
			return bad("--regions: %v", err)
		}
		if o.Latency, err = ParseLatencyRule(*latency); err != nil {
			return bad("--latency: %v", err)
		}
		if strings.TrimSpace(*regionNodes) != "" {
			if o.RegionNodes, err = ParseRegionNodes(*regionNodes, o.Populations, len(o.Nodes)); err != nil {
				return bad("--region-nodes: %v", err)
			}
		}
	} else if strings.TrimSpace(*regionNodes) != "" {
		return bad("--region-nodes needs --regions")
	}
	if o.MaxConnsPerSec < 0 {
		return bad("--max-conns-per-sec must be >= 0")
	}
	if o.DialConcurrency < 1 {
		return bad("--dial-concurrency must be >= 1")
	}
	if o.Trace < 0 || o.Trace > 1000 {
		return bad("--trace must be 0..1000")
	}
	if o.MaxMessageBytes < 64 {
		return bad("--max-message-bytes must be >= 64")
	}
	switch o.Progress {
	case "auto", "line", "off":
	default:
		return bad("--progress must be auto, line or off")
	}
	o.Seed = *seed
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.IDPrefix == "" {
		o.IDPrefix = "lt" + strconv.FormatUint(o.Seed%(36*36*36*36*36*36), 36) + "-"
	}
	if len(o.IDPrefix) > 40 || !validID(o.IDPrefix+"0") {
		return bad("--id-prefix must be at most 40 characters of A-Z a-z 0-9 _ . : -")
	}
	if s := strings.TrimSpace(*srcIPs); s != "auto" {
		o.SourceIPs = splitList(s)
		if len(o.SourceIPs) == 0 {
			return bad("--source-ips: empty list (use auto)")
		}
	}
	o.Metrics = splitList(*metrics)
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validID reports whether s fits the id charset of docs/protocol.md section 2.2.
func validID(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
