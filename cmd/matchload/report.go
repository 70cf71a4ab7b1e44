package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run; --json writes it as is.
type Report struct {
	Command    string                    `json:"command"`
	Config     ReportConfig              `json:"config"`
	StartedAt  time.Time                 `json:"started_at"`
	EndReason  string                    `json:"end_reason"`
	Phases     Phases                    `json:"phases"`
	Conns      Conns                     `json:"connections"`
	Throughput Throughput                `json:"throughput"`
	Latency    map[string]Stats          `json:"latency"`
	Errors     Errors                    `json:"errors"`
	Behaviours map[string]BehaviourStats `json:"behaviours"`
	Parties    *PartyStats               `json:"parties,omitempty"`
	Invariants []Verdict                 `json:"invariants"`
	Pass       bool                      `json:"pass"`
	Generator  Generator                 `json:"load_generator"`
	Server     []ServerMetrics           `json:"server_metrics,omitempty"`
	Notes      []string                  `json:"notes,omitempty"`
	Traces     map[string][]string       `json:"traces,omitempty"`
	Timeline   []Second                  `json:"timeline"`
}

// ReportConfig echoes the options that shape the numbers.
type ReportConfig struct {
	Nodes        []string `json:"nodes"`
	Players      int      `json:"players"`
	Rate         float64  `json:"rate"`
	Duration     string   `json:"duration"`
	Mode         string   `json:"mode"`
	RatingMean   float64  `json:"rating_mean"`
	RatingStddev float64  `json:"rating_stddev"`
	Mix          string   `json:"mix"`
	PartyMix     string   `json:"party_mix"`
	SlowDelay    string   `json:"slow_delay"`
	Idle         bool     `json:"idle"`
	HMAC         bool     `json:"hmac_tokens"`
	Seed         uint64   `json:"seed"`
	IDPrefix     string   `json:"id_prefix"`
	SourceIPs    []string `json:"source_ips,omitempty"`
}

// Phases are the run's wall-clock phases in seconds.
type Phases struct {
	RampS   float64 `json:"ramp_s"`
	ActiveS float64 `json:"active_s"`
	SteadyS float64 `json:"steady_s"`
	DrainS  float64 `json:"drain_s"`
	TotalS  float64 `json:"total_s"`
}

// Conns summarises connections.
type Conns struct {
	Attempted     int               `json:"attempted"`
	Connected     uint64            `json:"connected"`
	PeakConnected int64             `json:"peak_connected"`
	DialFailures  map[string]uint64 `json:"dial_failures"`
	ServerCloses  map[string]uint64 `json:"server_closes"`
	FramesIn      uint64            `json:"frames_in"`
	FramesOut     uint64            `json:"frames_out"`
	BadFrames     uint64            `json:"undecodable_frames"`
	OddFrames     uint64            `json:"unexpected_frames"`
	Draining      uint64            `json:"server_draining_frames"`
}

// Throughput is players matched (match_ready received) per second.
type Throughput struct {
	Matched        uint64      `json:"players_matched"`
	MatchFound     uint64      `json:"match_found_received"`
	OverallPerSec  float64     `json:"players_matched_per_sec_overall"`
	SteadyPerSec   float64     `json:"players_matched_per_sec_steady"`
	SteadyMinSec   uint64      `json:"steady_min_1s"`
	SteadyMaxSec   uint64      `json:"steady_max_1s"`
	SteadySeconds  float64     `json:"steady_seconds"`
	MatchedInDrain uint64      `json:"players_matched_in_drain"`
	Matches        MatchCounts `json:"matches"`
}

// Errors are error frames and other refusals.
type Errors struct {
	Total       uint64              `json:"total"`
	Unexpected  uint64              `json:"unexpected"`
	ByCode      map[string]uint64   `json:"by_code"`
	ByRequest   map[string]uint64   `json:"by_code_and_request"`
	Samples     map[string][]string `json:"samples"`
	Dequeued    map[string]uint64   `json:"dequeued_by_reason"`
	Cancelled   map[string]uint64   `json:"match_cancelled_by_reason"`
	GarbageSent uint64              `json:"garbage_frames_sent"`
	Retries     uint64              `json:"requests_retried"`
	// Banned counts enqueues refused BANNED: the sanction ladder at work
	// (expected when the mix has no-shows or dodgers), not an error of
	// the server's.
	Banned uint64 `json:"banned_enqueues"`
}

// PartyStats are how the players were dealt into parties and what the
// parties did.
type PartyStats struct {
	Mix string `json:"mix"`
	// BySize counts the parties of each size; Solos the players alone.
	BySize map[string]int `json:"parties_by_size"`
	Solos  int            `json:"solo_players"`
	// NotReady counts party enqueues refused PARTY_NOT_READY (a mate still
	// finishing its last match, or gone), each retried.
	NotReady uint64 `json:"party_not_ready"`
	// Kicks are members that left the run, kicked by their leader; Alone
	// members that ended up playing alone (their party was never made, or
	// they were put out of it).
	Kicks          uint64 `json:"kicks"`
	Alone          uint64 `json:"played_alone"`
	InvitesIgnored uint64 `json:"invites_ignored"`
}

// BehaviourStats are the outcomes of one behaviour.
type BehaviourStats struct {
	Players   int64  `json:"players"`
	Matched   uint64 `json:"matched"`
	Cancelled uint64 `json:"cancelled_not_requeued"`
	Quit      uint64 `json:"quit"`
	Lost      uint64 `json:"disconnected_by_server"`
}

// Generator is matchload's own footprint (it shares the machine).
type Generator struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent_of_one_core"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	NoFile     uint64  `json:"nofile_limit"`
	GoMaxProcs int     `json:"gomaxprocs"`
}

// ServerMetrics are values scraped from a node's /metrics, summed over
// label sets.
type ServerMetrics struct {
	URL    string             `json:"url"`
	When   string             `json:"when"`
	Error  string             `json:"error,omitempty"`
	Values map[string]float64 `json:"values,omitempty"`
	// Delta is the change of each counter (and histogram sum and count)
	// since the run started (they are cumulative over the node's life).
	Delta map[string]float64 `json:"delta_since_start,omitempty"`
}

// withDelta fills Delta from a scrape taken at the start.
func (m ServerMetrics) withDelta(start ServerMetrics) ServerMetrics {
	if m.Error != "" || start.Error != "" {
		return m
	}
	m.Delta = map[string]float64{}
	for k, v := range m.Values {
		if strings.HasSuffix(k, "_total") || strings.HasSuffix(k, "_sum") || strings.HasSuffix(k, "_count") {
			m.Delta[k] = v - start.Values[k]
		}
	}
	return m
}

var scrapedMetrics = []string{
	"matchd_sessions", "matchd_queue_tickets", "matchd_tickets_enqueued_total", "matchd_matches_formed_total",
	"matchd_matches_started_total", "matchd_matches_cancelled_total", "matchd_players_requeued_total",
	"matchd_violations_total", "matchd_client_errors_total", "matchd_redis_errors_total",
	"matchd_actor_restarts_total", "matchd_claims_rejected_total", "matchd_rooms_adopted_total",
	"matchd_matching_tick_seconds_sum", "matchd_matching_tick_seconds_count", "matchd_parties",
	"matchd_party_tickets_enqueued_total",
	"process_resident_memory_bytes", "process_cpu_seconds_total", "go_goroutines",
}

// scrape reads the interesting series of one /metrics endpoint.
func scrape(u, when string) ServerMetrics {
	out := ServerMetrics{URL: u, When: when, Values: map[string]float64{}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		out.Error = shortErr(err)
		return out
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out.Error = resp.Status
		return out
	}
	parseMetrics(resp.Body, out.Values)
	return out
}

// parseMetrics sums the Prometheus text series named in scrapedMetrics.
func parseMetrics(r io.Reader, into map[string]float64) {
	want := map[string]bool{}
	for _, n := range scrapedMetrics {
		want[n] = true
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if !want[name] {
			continue
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			into[name] += v
		}
	}
}

func (s *liveStats) samples() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.errSamples))
	for k, v := range s.errSamples {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func rate2(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10
}

// Report assembles the outcome of a finished run.
func (r *Runner) Report(command string, server []ServerMetrics) *Report {
	o := r.opt
	l := r.live
	rep := &Report{
		Command: command,
		Config: ReportConfig{
			Nodes: o.Nodes, Players: o.Players, Rate: o.Rate, Duration: o.Duration.String(), Mode: o.Mode,
			RatingMean: o.RatingMean, RatingStddev: o.RatingStddev, Mix: o.Mix.String(), PartyMix: o.PartyMix.String(), SlowDelay: o.SlowDelay.String(),
			Idle: o.Idle, HMAC: o.TokenSecret != "", Seed: o.Seed, IDPrefix: o.IDPrefix, SourceIPs: r.sourceIPs,
		},
		StartedAt: r.start,
		EndReason: r.endReason,
		Phases: Phases{
			RampS: seconds(r.rampEnd.Sub(r.start)), ActiveS: seconds(r.activeEnd.Sub(r.start)),
			SteadyS: seconds(r.activeEnd.Sub(r.rampEnd)), DrainS: seconds(r.drainEnd.Sub(r.activeEnd)),
			TotalS: seconds(time.Since(r.start)),
		},
		Conns: Conns{
			Attempted: o.Players, Connected: l.dialOK.Load(), PeakConnected: l.peakConnected.Load(),
			DialFailures: l.snapshot(l.dialErrors), ServerCloses: l.snapshot(l.closeCodes),
			FramesIn: l.framesIn.Load(), FramesOut: l.framesOut.Load(), BadFrames: l.badFrames.Load(),
			OddFrames: l.oddFrames.Load(), Draining: l.serverDraining.Load(),
		},
		Latency: map[string]Stats{
			"dial_to_welcome":                r.hist.dial.Stats(),
			"enqueue_to_queued":              r.hist.enqQueued.Stats(),
			"enqueue_to_match_found":         r.hist.enqFound.Stats(),
			"requeue_to_match_found":         r.hist.requeueFound.Stats(),
			"match_found_to_match_ready":     r.hist.foundReady.Stats(),
			"match_found_to_match_cancelled": r.hist.foundCancelled.Stats(),
		},
		Errors: Errors{
			Total: l.errorsAll.Load(), Unexpected: l.errorsUnexpected.Load(),
			ByCode: l.snapshot(l.errByCode), ByRequest: l.snapshot(l.errByReq), Samples: l.samples(),
			Dequeued: l.snapshot(l.dequeues), Cancelled: l.snapshot(l.cancels), GarbageSent: l.garbageSent.Load(),
			Retries: l.retries.Load(), Banned: l.banned.Load(),
		},
		Behaviours: map[string]BehaviourStats{},
		Server:     server,
		Notes:      r.notes,
		Timeline:   r.timeline,
	}
	matched := l.matched.Load()
	rep.Throughput = Throughput{
		Matched: matched, MatchFound: l.found.Load(),
		OverallPerSec:  rate2(r.matchedAtActiveEnd, r.rateEnd.Sub(r.start)),
		SteadyPerSec:   rate2(r.matchedAtActiveEnd-r.matchedAtRampEnd, r.rateEnd.Sub(r.rampEnd)),
		SteadySeconds:  seconds(max(0, r.rateEnd.Sub(r.rampEnd))),
		MatchedInDrain: matched - r.matchedAtActiveEnd,
		Matches:        r.chk.Matches(),
	}
	// Whole seconds inside the steady window.
	first := true
	for _, s := range r.timeline {
		t := r.start.Add(time.Duration(s.T) * time.Second)
		if t.Add(-time.Second).Before(r.rampEnd) || t.After(r.rateEnd) {
			continue
		}
		if first || s.Matched < rep.Throughput.SteadyMinSec {
			rep.Throughput.SteadyMinSec = s.Matched
		}
		rep.Throughput.SteadyMaxSec = max(rep.Throughput.SteadyMaxSec, s.Matched)
		first = false
	}
	for b := range numBehaviours {
		s := &l.beh[b]
		if s.players.Load() == 0 {
			continue
		}
		rep.Behaviours[b.String()] = BehaviourStats{Players: s.players.Load(), Matched: s.matched.Load(),
			Cancelled: s.cancelled.Load(), Quit: s.quit.Load(), Lost: s.lost.Load()}
	}
	if !o.PartyMix.Solo() && !o.Idle {
		ps := &PartyStats{Mix: o.PartyMix.String(), BySize: map[string]int{}, Solos: r.solos,
			NotReady: l.partyNotReady.Load(), Kicks: l.partyKicks.Load(), Alone: l.partyAlone.Load(),
			InvitesIgnored: l.partyInvitesIgnored.Load()}
		for size, n := range r.partySizes {
			ps.BySize[strconv.Itoa(size)] = n
		}
		rep.Parties = ps
	}
	rep.Invariants = r.chk.Verdicts()
	rep.Pass = true
	for _, v := range rep.Invariants {
		rep.Pass = rep.Pass && v.Pass
		for _, id := range v.Subjects {
			if p := r.playerByID(id); p != nil && o.Trace > 0 {
				r.addTrace(id+" (at the end)", p.history())
			}
		}
	}
	r.traceMu.Lock()
	if len(r.traces) > 0 {
		rep.Traces = r.traces
	}
	r.traceMu.Unlock()
	cpu := cpuSeconds()
	rep.Generator = Generator{CPUSeconds: math.Round(cpu*100) / 100, PeakRSSMB: peakRSSMB(), NoFile: nofile(), GoMaxProcs: runtime.GOMAXPROCS(0)}
	if tot := time.Since(r.start).Seconds(); tot > 0 {
		rep.Generator.CPUPercent = math.Round(cpu/tot*1000) / 10
	}
	return rep
}

// WriteText prints the human-readable report.
func (rep *Report) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format+"\n", a...) }
	c := rep.Config
	p("matchload report")
	p("  nodes\t%s", strings.Join(c.Nodes, ", "))
	if c.Idle {
		p("  players\t%d idle sessions (no enqueues)", c.Players)
	} else {
		p("  players\t%d (mix %s)", c.Players, c.Mix)
	}
	p("  rate / duration\t%g/s ramp, %s cycling, mode %s, rating %g±%g, seed %d", c.Rate, c.Duration, c.Mode, c.RatingMean, c.RatingStddev, c.Seed)
	p("  end\t%s", rep.EndReason)
	ph := rep.Phases
	p("  phases\tramp %.1fs, steady %.1fs, drain %.1fs, total %.1fs", ph.RampS, ph.SteadyS, ph.DrainS, ph.TotalS)
	p("")
	p("connections")
	cn := rep.Conns
	p("  connected\t%d of %d (peak %d concurrent)", cn.Connected, cn.Attempted, cn.PeakConnected)
	writeMap(tw, "  dial failures", cn.DialFailures)
	writeMap(tw, "  closed by server", cn.ServerCloses)
	p("  frames\t%d in, %d out, %d undecodable, %d unexpected", cn.FramesIn, cn.FramesOut, cn.BadFrames, cn.OddFrames)
	if !c.Idle {
		p("")
		p("throughput (players receiving match_ready)")
		t := rep.Throughput
		p("  players matched\t%d (%d match_found received; %d in the drain)", t.Matched, t.MatchFound, t.MatchedInDrain)
		p("  overall\t%.1f/s", t.OverallPerSec)
		p("  steady window\t%.1f/s over %.1fs (1s min %d, max %d)", t.SteadyPerSec, t.SteadySeconds, t.SteadyMinSec, t.SteadyMaxSec)
		p("  matches\t%d formed, %d started, %d unresolved", t.Matches.Formed, t.Matches.Started, t.Matches.Open)
		writeMap(tw, "  matches cancelled", t.Matches.Cancelled)
		p("")
		p("latency\tcount\tp50\tp90\tp99\tp99.9\tmax\tmean")
		for _, k := range []string{"dial_to_welcome", "enqueue_to_queued", "enqueue_to_match_found", "requeue_to_match_found", "match_found_to_match_ready", "match_found_to_match_cancelled"} {
			s := rep.Latency[k]
			p("  %s\t%d\t%s\t%s\t%s\t%s\t%s\t%s", strings.ReplaceAll(k, "_to_", " -> "), s.Count, fmtMs(s.P50Ms), fmtMs(s.P90Ms), fmtMs(s.P99Ms), fmtMs(s.P999Ms), fmtMs(s.MaxMs), fmtMs(s.MeanMs))
		}
	}
	p("")
	e := rep.Errors
	p("errors\t%d error frames, %d unexpected (garbage replies, loading/cancel races, BANNED and a party's PARTY_NOT_READY are expected); %d requests retried", e.Total, e.Unexpected, e.Retries)
	p("  sanction ladder\t%d enqueues refused BANNED (bans earned by no-shows and dodges, retried after retry_after_ms)", e.Banned)
	writeMap(tw, "  by code", e.ByCode)
	writeMap(tw, "  by code and request", e.ByRequest)
	for _, k := range sortedKeys(e.Samples) {
		for _, smp := range e.Samples[k] {
			p("  \te.g. %s", smp)
		}
	}
	writeMap(tw, "  dequeued", e.Dequeued)
	writeMap(tw, "  match_cancelled", e.Cancelled)
	if !c.Idle {
		p("")
		p("behaviour\tplayers\tmatched\tcancelled\tquit\tdisconnected")
		for _, b := range behaviourNames {
			if s, ok := rep.Behaviours[b]; ok {
				p("  %s\t%d\t%d\t%d\t%d\t%d", b, s.Players, s.Matched, s.Cancelled, s.Quit, s.Lost)
			}
		}
	}
	if ps := rep.Parties; ps != nil {
		p("")
		p("parties\t%s (mix %s), %d players alone", fmtSizes(ps.BySize), ps.Mix, ps.Solos)
		p("  party enqueues not ready\t%d (retried)", ps.NotReady)
		p("  members kicked / alone\t%d kicked by their leader after leaving the run, %d played alone", ps.Kicks, ps.Alone)
	}
	p("")
	p("invariants")
	for _, v := range rep.Invariants {
		verdict := "PASS"
		if !v.Pass {
			verdict = "FAIL"
		}
		p("  %s\t%s\tchecked %d, failures %d", verdict, v.Name, v.Checked, v.Failures)
		for _, k := range sortedKeys(v.ByKind) {
			p("  \t  %s\t%d", k, v.ByKind[k])
		}
		for _, ex := range v.Examples {
			p("  \t  e.g. %s", ex)
		}
		if v.Name == "every-player-accounted" {
			for _, k := range sortedKeys(v.Breakdown) {
				p("  \t  %s\t%d", k, v.Breakdown[k])
			}
		}
	}
	for _, id := range sortedKeys(rep.Traces) {
		p("")
		p("trace of %s (last %d frames; < received, > sent)", id, len(rep.Traces[id]))
		for _, line := range rep.Traces[id] {
			fmt.Fprintln(tw, "  "+line)
		}
	}
	p("")
	g := rep.Generator
	p("load generator\t%.1f CPU-s (%.0f%% of one core), peak RSS %.0f MB, nofile %d, GOMAXPROCS %d", g.CPUSeconds, g.CPUPercent, g.PeakRSSMB, g.NoFile, g.GoMaxProcs)
	for _, s := range rep.Server {
		if s.Error != "" {
			p("server %s (%s)\terror: %s", s.URL, s.When, s.Error)
			continue
		}
		p("server %s (%s)", s.URL, s.When)
		if n := s.Delta["matchd_matching_tick_seconds_count"]; n > 0 {
			p("  matching tick (mean)\t%.2f ms over %g ticks during the run", s.Delta["matchd_matching_tick_seconds_sum"]/n*1000, n)
		}
		for _, k := range sortedKeys(s.Values) {
			v := s.Values[k]
			switch d, ok := s.Delta[k]; {
			case k == "process_resident_memory_bytes":
				p("  %s\t%.0f (%.1f MB)", k, v, v/1e6)
			case ok:
				p("  %s\t%g (+%g during the run)", k, v, d)
			default:
				p("  %s\t%g", k, v)
			}
		}
	}
	for _, n := range rep.Notes {
		p("note\t%s", n)
	}
	verdict := "PASS: every invariant holds"
	if !rep.Pass {
		verdict = "FAIL: an invariant does not hold"
	}
	p("")
	p("%s", verdict)
	_ = tw.Flush()
}

// fmtSizes renders parties by size: "1200 of 2, 300 of 3".
func fmtSizes(m map[string]int) string {
	keys := sortedKeys(m)
	sort.Slice(keys, func(i, j int) bool { a, _ := strconv.Atoi(keys[i]); b, _ := strconv.Atoi(keys[j]); return a < b })
	var parts []string
	total := 0
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d of %s", m[k], k))
		total += m[k]
	}
	return fmt.Sprintf("%d parties: %s", total, strings.Join(parts, ", "))
}

func writeMap(w io.Writer, title string, m map[string]uint64) {
	if len(m) == 0 {
		fmt.Fprintf(w, "%s\tnone\n", title)
		return
	}
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	for i, k := range keys {
		t := ""
		if i == 0 {
			t = title
		}
		fmt.Fprintf(w, "%s\t%s: %d\n", t, k, m[k])
	}
}
