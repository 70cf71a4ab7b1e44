package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx/redistest"
)

// requireTool fails (never skips) when a tool the CI installs is missing.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required (make deps, or apt-get install %s): %v", name, pkg, err)
	}
	return p
}

// ---------------------------------------------------------------------------
// Prometheus.

// Prometheus is a prometheus server started by a test.
type Prometheus struct {
	URL     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// StartPrometheus runs prometheus with the given config body on a free
// loopback port, with its TSDB in a temporary directory, waits until it is
// ready and kills it when the test ends.
func StartPrometheus(t *testing.T, config string) *Prometheus {
	t.Helper()
	bin := requireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	p := &Prometheus{URL: "http://" + addr, logPath: filepath.Join(dir, "prometheus.log"), exited: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=info")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start prometheus: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		keepArtifact(t, p.logPath, "prometheus.log")
		keepArtifact(t, cfgPath, "prometheus.yml")
	})
	eventually(t, 30*time.Second, "prometheus /-/ready", func() error {
		select {
		case <-p.exited:
			b, _ := os.ReadFile(p.logPath)
			t.Fatalf("prometheus exited: %s\n%s", p.cmd.ProcessState, b)
		default:
		}
		resp, err := httpClient.Get(p.URL + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return p
}

// promSample is one element of an instant query's vector result.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) value() string { v, _ := s.Value[1].(string); return v }

// promResult is an instant query's answer.
type promResult struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Data      json.RawMessage `json:"data"`
	// Filled from Data.
	ResultType string
	Vector     []promSample
	Scalar     []any
}

// Query runs an instant query now.
func (p *Prometheus) Query(expr string) (promResult, error) {
	var r promResult
	resp, err := httpClient.PostForm(p.URL+"/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("HTTP %d: %v: %s", resp.StatusCode, err, b)
	}
	if r.Status != "success" {
		return r, nil
	}
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return r, fmt.Errorf("data: %v: %s", err, r.Data)
	}
	r.ResultType = d.ResultType
	switch d.ResultType {
	case "vector":
		err = json.Unmarshal(d.Result, &r.Vector)
	case "scalar", "string":
		err = json.Unmarshal(d.Result, &r.Scalar)
	default:
		err = fmt.Errorf("unexpected result type %q", d.ResultType)
	}
	return r, err
}

// Len is the number of series (1 for a scalar).
func (r promResult) Len() int {
	if r.ResultType == "scalar" || r.ResultType == "string" {
		return 1
	}
	return len(r.Vector)
}

// Summary renders up to three series with their values.
func (r promResult) Summary() string {
	if r.ResultType != "vector" {
		return fmt.Sprint(r.Scalar)
	}
	var parts []string
	for i, s := range r.Vector {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("... %d more", len(r.Vector)-3))
			break
		}
		keys := make([]string, 0, len(s.Metric))
		for k := range s.Metric {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var ls []string
		for _, k := range keys {
			ls = append(ls, k+"="+strconv.Quote(s.Metric[k]))
		}
		parts = append(parts, "{"+strings.Join(ls, ",")+"} "+s.value())
	}
	return strings.Join(parts, "; ")
}

// byInstance maps instance to value.
func (r promResult) byInstance() map[string]float64 {
	out := map[string]float64{}
	for _, s := range r.Vector {
		v, _ := strconv.ParseFloat(s.value(), 64)
		out[s.Metric["instance"]] = v
	}
	return out
}

// mustQuery runs expr and fails the test unless Prometheus accepts it.
func (p *Prometheus) mustQuery(t *testing.T, expr string) promResult {
	t.Helper()
	r, err := p.Query(expr)
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s: %s", expr, r.ErrorType, r.Error)
	}
	return r
}

// dashboardTarget is one query of a Grafana panel.
type dashboardTarget struct {
	Panel, RefID, Expr string
}

// dashboardTargets walks every panel, rows' nested panels included.
func dashboardTargets(panels []any, out *[]dashboardTarget) {
	for _, p := range panels {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		title, _ := pm["title"].(string)
		if ts, ok := pm["targets"].([]any); ok {
			for _, tg := range ts {
				tm, _ := tg.(map[string]any)
				expr, _ := tm["expr"].(string)
				ref, _ := tm["refId"].(string)
				*out = append(*out, dashboardTarget{Panel: title, RefID: ref, Expr: expr})
			}
		}
		if sub, ok := pm["panels"].([]any); ok {
			dashboardTargets(sub, out)
		}
	}
}

// grafanaVarRE matches $var, ${var} and ${var:format}.
var grafanaVarRE = regexp.MustCompile(`\$(?:\{(\w+)(?::\w+)?\}|(\w+))`)

// TestPrometheusEvaluatesDashboardAndAlerts runs a real Prometheus that
// scrapes two nodes and loads deploy/prometheus/alerts.yml, drives a short
// load with cancellations, violations, requeues and client errors, and then
// has Prometheus evaluate every expression of deploy/grafana/matchd.json
// (each must parse and return data: an operator sees no empty panel) and of
// the alert rules (each must parse; every rule group must evaluate healthy).
func TestPrometheusEvaluatesDashboardAndAlerts(t *testing.T) {
	t.Parallel()
	requireTool(t, "prometheus", "prometheus")
	promtool := requireTool(t, "promtool", "prometheus")
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = time.Second
	n1 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel}}))
	n2 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel}}))
	nodes := []*Node{n1, n2}
	var targets []string
	for _, n := range nodes {
		u, err := url.Parse(n.AdminURL())
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, u.Host)
	}

	alertsPath := filepath.Join(moduleRoot, "deploy", "prometheus", "alerts.yml")
	cfg, err := yaml.Marshal(map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"rule_files": []string{alertsPath},
		"scrape_configs": []any{map[string]any{
			"job_name": "matchd", "metrics_path": "/metrics", "scheme": "http",
			// The environment label the dashboard's $env variable lists.
			"static_configs": []any{map[string]any{"targets": targets, "labels": map[string]string{"env": "e2e"}}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// promtool checks the generated configuration and the rule file it
	// loads before Prometheus runs it.
	cfgCheck := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(cfgCheck, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", cfgCheck).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	prom := StartPrometheus(t, string(cfg))
	eventually(t, 20*time.Second, "both targets up", func() error {
		r, err := prom.Query(`up{job="matchd"}`)
		if err != nil || r.Status != "success" {
			return fmt.Errorf("%v %s", err, r.Error)
		}
		up := r.byInstance()
		for _, tg := range targets {
			if up[tg] != 1 {
				return fmt.Errorf("up = %v", up)
			}
		}
		return nil
	})

	// The load: 40 players play to match_ready, then two no-shows, a
	// dodge (their partners are requeued and leave the queue) and an
	// enqueue for a mode that does not exist.
	clients := playScenario(t, nodes, 40, 0, 42, 30*time.Second)
	noShow := func(readyID, absentID string, rn, an *Node) {
		ready := Dial(t, rn, readyID, 1500, "dev-"+readyID)
		absent := Dial(t, an, absentID, 1500, "dev-"+absentID)
		clients = append(clients, ready, absent)
		match, _ := matchPair(t, ready, absent)
		rid := ready.Req(t, protocol.TypeLoadingComplete, "match_id", match)
		ready.ExpectRid(t, protocol.TypeLoadingStatus, rid)
		if mc := ready.Expect(t, protocol.TypeMatchCancelled); !mc.Bool("requeued") || mc.Str("reason") != protocol.ReasonLoadingTimeout {
			t.Errorf("%s: %s, want loading_timeout, requeued", readyID, mc)
		}
		ready.Expect(t, protocol.TypeQueued)
		rid = ready.Req(t, protocol.TypeCancel)
		ready.ExpectRid(t, protocol.TypeDequeued, rid)
		absent.Expect(t, protocol.TypeMatchCancelled)
	}
	noShow("obs-ready1", "obs-absent1", n1, n2)
	noShow("obs-ready2", "obs-absent2", n2, n2)
	dodger := Dial(t, n1, "obs-dodger", 1700, "dev-obs-dodger")
	other := Dial(t, n2, "obs-other", 1700, "dev-obs-other")
	clients = append(clients, dodger, other)
	matchPair(t, dodger, other)
	rid := dodger.Req(t, protocol.TypeCancel)
	if mc := dodger.ExpectRid(t, protocol.TypeMatchCancelled, rid); mc.Str("reason") != protocol.ReasonPlayerLeft {
		t.Errorf("dodger: %s, want player_left", mc)
	}
	other.Expect(t, protocol.TypeQueued)
	rid = other.Req(t, protocol.TypeCancel)
	other.ExpectRid(t, protocol.TypeDequeued, rid)
	rid = other.Req(t, protocol.TypeEnqueue, "mode", "no-such-mode")
	other.ExpectError(t, rid, protocol.CodeUnknownMode)
	// A lone player rated far from everyone waits until the mode's leader
	// exports its wait (matchd_queue_oldest_wait_seconds) and Prometheus
	// has scraped it, then gives up (a cancelled dequeue).
	lone := Dial(t, n1, "obs-lone", 9000, "dev-obs-lone")
	clients = append(clients, lone)
	rid = lone.Req(t, protocol.TypeEnqueue, "mode", "duel")
	lone.ExpectRid(t, protocol.TypeQueued, rid)
	eventually(t, 20*time.Second, "Prometheus has the lone ticket's wait", func() error {
		r, err := prom.Query(`max(matchd_queue_oldest_wait_seconds{mode="duel"})`)
		if err != nil || r.Len() != 1 {
			return fmt.Errorf("%v %s", err, r.Summary())
		}
		if v, _ := strconv.ParseFloat(r.Vector[0].value(), 64); v < 1 {
			return fmt.Errorf("oldest wait %v, want >= 1s", v)
		}
		return nil
	})
	rid = lone.Req(t, protocol.TypeCancel)
	lone.ExpectRid(t, protocol.TypeDequeued, rid)
	CheckInvariants(t, clients, CheckOptions{})

	// Prometheus has scraped the load once its sums match the nodes', and a
	// few scrapes more give every rate() window points on both sides.
	want := map[string]float64{}
	for _, s := range []string{"matchd_matches_started_total", "matchd_matches_cancelled_total", "matchd_players_requeued_total",
		"matchd_violations_total", "matchd_client_errors_total", "matchd_tickets_dequeued_total"} {
		want[s] = SumMetricPrefix(t, nodes, s+"{")
	}
	t.Logf("load done: %v", want)
	var scrapedAt float64
	eventually(t, 20*time.Second, "Prometheus has scraped the load", func() error {
		for s, v := range want {
			r, err := prom.Query("sum(" + s + ")")
			if err != nil || r.Status != "success" || r.Len() != 1 {
				return fmt.Errorf("sum(%s): %v %s %v", s, err, r.Error, r.Vector)
			}
			if got, _ := strconv.ParseFloat(r.Vector[0].value(), 64); got != v {
				return fmt.Errorf("sum(%s) = %v, want %v", s, got, v)
			}
		}
		r, err := prom.Query(`min(timestamp(up{job="matchd"}))`)
		if err != nil || r.Len() != 1 {
			return fmt.Errorf("timestamp(up): %v", err)
		}
		scrapedAt, _ = strconv.ParseFloat(r.Vector[0].value(), 64)
		return nil
	})
	eventually(t, 20*time.Second, "three more scrapes of both nodes", func() error {
		r, err := prom.Query(`count_over_time(matchd_sessions[1m])`)
		if err != nil || r.Status != "success" {
			return fmt.Errorf("%v %s", err, r.Error)
		}
		for inst, n := range r.byInstance() {
			if n < 4 {
				return fmt.Errorf("%s: %v samples", inst, n)
			}
		}
		r, err = prom.Query(`min(timestamp(up{job="matchd"}))`)
		if err != nil || r.Len() != 1 {
			return fmt.Errorf("timestamp(up): %v", err)
		}
		if ts, _ := strconv.ParseFloat(r.Vector[0].value(), 64); ts < scrapedAt+3 {
			return fmt.Errorf("last scrape at %.1f, want >= %.1f", ts, scrapedAt+3)
		}
		return nil
	})

	// Every metric the operators' issue added has data after the run.
	for _, q := range []struct{ expr, why string }{
		{`sum(matchd_tickets_dequeued_total{reason="cancelled"}) >= 3`, "the three cancels counted by reason"},
		{`max(max_over_time(matchd_queue_oldest_wait_seconds{mode="duel"}[5m])) >= 1`, "the lone ticket's wait, from the leader"},
		{`count(max by (instance) (max_over_time(matchd_queue_oldest_wait_seconds{mode="duel"}[5m]))) == 2`, "the gauge on both nodes (0 on the standby)"},
		{`count(count by (op) (matchd_redis_round_trip_seconds_count)) >= 5`, "Redis round trips by operation"},
		{`sum(matchd_redis_round_trip_seconds_count{op="match_claim"}) > 0`, "the claim script timed under its name"},
		{`sum(matchd_lease_changes_total{mode="duel", change="acquired"}) >= 1`, "the duel lease taken"},
		{`max(matchd_matching_tick_interval_seconds) > 0`, "the configured tick"},
	} {
		r := prom.mustQuery(t, q.expr)
		if r.Len() == 0 {
			t.Errorf("%s: %s has no data", q.why, q.expr)
		} else {
			t.Logf("new metric: %s: %s", q.why, r.Summary())
		}
	}

	// The dashboard: every target, with its template variables substituted,
	// must parse and return data.
	raw, err := os.ReadFile(filepath.Join(moduleRoot, "deploy", "grafana", "matchd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels     []any `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("matchd.json: %v", err)
	}
	// Values for the variables: "All" for the dashboard's own, and what
	// Grafana would pick at a 1s scrape interval for its built-ins.
	vars := map[string]string{"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
	labelValuesRE := regexp.MustCompile(`^label_values\((\w+(?:\{[^}]*\})?),\s*(\w+)\)$`)
	for _, v := range dash.Templating.List {
		switch v.Type {
		case "datasource":
			// Not used inside expressions.
		case "query":
			vars[v.Name] = ".*"
			// The variable's own query must find values too, or its
			// drop-down is empty.
			m := labelValuesRE.FindStringSubmatch(v.Definition)
			if m == nil {
				t.Errorf("variable %s: unsupported definition %q", v.Name, v.Definition)
				continue
			}
			// Variables chain ($env's query names $job): those listed
			// before it are substituted, as Grafana does.
			sel := grafanaVarRE.ReplaceAllStringFunc(m[1], func(s string) string {
				sub := grafanaVarRE.FindStringSubmatch(s)
				if v, ok := vars[sub[1]+sub[2]]; ok {
					return v
				}
				return s
			})
			r := prom.mustQuery(t, sel)
			vals := map[string]bool{}
			for _, s := range r.Vector {
				if s.Metric[m[2]] != "" {
					vals[s.Metric[m[2]]] = true
				}
			}
			if len(vals) == 0 {
				t.Errorf("variable %s (%s): no values", v.Name, v.Definition)
			}
			t.Logf("variable $%s: %s -> %d values", v.Name, v.Definition, len(vals))
		default:
			t.Errorf("variable %s: type %q not handled by this test", v.Name, v.Type)
		}
	}
	var dts []dashboardTarget
	dashboardTargets(dash.Panels, &dts)
	if len(dts) < 20 {
		t.Fatalf("only %d dashboard targets found", len(dts))
	}
	// Panels that show events the load produced: at least one of their
	// series must be above zero (a counter whose series is born at its first
	// event has rate() 0 there: the first event is invisible).
	wantNonZero := map[string]bool{
		"Sessions": true, "Sessions per node": true, "Tickets enqueued per mode": true, "Queue wait p95": true,
		"Matches started /min": true, "Cancel ratio": true, "Matches formed / started per mode": true,
		"Matches cancelled by mode and reason": true, "Cancel ratio per mode": true, "Players requeued per mode": true,
		"Violations by kind": true, "Client errors by code": true, "Client errors per node": true,
		"Bus messages by direction": true, "Matches formed per node": true, "Matches started per node": true,
		"Tickets dequeued by reason": true, "Queue wait heatmap": true, "Redis round trip p99 by operation": true,
	}
	seenNonZero := map[string]bool{}
	used := map[string]int{}
	var empty []string
	for _, d := range dts {
		if strings.TrimSpace(d.Expr) == "" {
			t.Errorf("panel %q target %s: no expr", d.Panel, d.RefID)
			continue
		}
		expr := grafanaVarRE.ReplaceAllStringFunc(d.Expr, func(m string) string {
			sub := grafanaVarRE.FindStringSubmatch(m)
			name := sub[1] + sub[2]
			used[name]++
			v, ok := vars[name]
			if !ok {
				t.Errorf("panel %q: unknown template variable $%s in %s", d.Panel, name, d.Expr)
				return m
			}
			return v
		})
		r, err := prom.Query(expr)
		switch {
		case err != nil:
			t.Errorf("panel %q %s: %s: %v", d.Panel, d.RefID, expr, err)
		case r.Status != "success":
			t.Errorf("panel %q %s: %s does not parse: %s: %s", d.Panel, d.RefID, expr, r.ErrorType, r.Error)
		case r.Len() == 0:
			empty = append(empty, fmt.Sprintf("panel %q %s: %s", d.Panel, d.RefID, expr))
		default:
			t.Logf("dashboard %-40q %d series: %s", d.Panel, r.Len(), r.Summary())
			for _, smp := range r.Vector {
				if v, err := strconv.ParseFloat(smp.value(), 64); err == nil && v > 0 {
					seenNonZero[d.Panel] = true
				}
			}
		}
	}
	for panel := range wantNonZero {
		if !slices.ContainsFunc(dts, func(d dashboardTarget) bool { return d.Panel == panel }) {
			t.Errorf("panel %q is not on the dashboard any more; update this test", panel)
		} else if !seenNonZero[panel] {
			t.Errorf("panel %q shows only zeros although the load produced its events", panel)
		}
	}
	if len(empty) > 0 {
		t.Errorf("%d dashboard queries return no data after the load (an operator would see an empty panel):\n  %s",
			len(empty), strings.Join(empty, "\n  "))
	}
	t.Logf("dashboard: %d targets; template variables used: %v", len(dts), used)

	// The alert rules: every expression must parse (results may be empty),
	// and every group must evaluate healthy.
	rawAlerts, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rawAlerts, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	nRules := 0
	for _, g := range rules.Groups {
		for _, rule := range g.Rules {
			nRules++
			name := rule.Alert + rule.Record
			r, err := prom.Query(rule.Expr)
			switch {
			case err != nil:
				t.Errorf("rule %s: %v", name, err)
			case r.Status != "success":
				t.Errorf("rule %s: expr does not parse: %s: %s\n%s", name, r.ErrorType, r.Error, rule.Expr)
			default:
				t.Logf("alert %-28s %d series (firing now if > 0)", name, r.Len())
			}
		}
	}
	if nRules == 0 {
		t.Fatal("alerts.yml has no rules")
	}
	eventually(t, 20*time.Second, "every rule group loaded and evaluated healthy", func() error {
		resp, err := httpClient.Get(prom.URL + "/api/v1/rules")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			Status string `json:"status"`
			Data   struct {
				Groups []struct {
					Name           string    `json:"name"`
					File           string    `json:"file"`
					LastEvaluation time.Time `json:"lastEvaluation"`
					Rules          []struct {
						Name           string    `json:"name"`
						Health         string    `json:"health"`
						LastError      string    `json:"lastError"`
						LastEvaluation time.Time `json:"lastEvaluation"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		if body.Status != "success" {
			return fmt.Errorf("status %s", body.Status)
		}
		if len(body.Data.Groups) != len(rules.Groups) {
			return fmt.Errorf("%d groups loaded, alerts.yml has %d", len(body.Data.Groups), len(rules.Groups))
		}
		loaded := 0
		for _, g := range body.Data.Groups {
			if g.File != alertsPath {
				return fmt.Errorf("group %s from %s", g.Name, g.File)
			}
			for _, r := range g.Rules {
				loaded++
				if r.LastError != "" {
					t.Fatalf("rule %s/%s: lastError %q", g.Name, r.Name, r.LastError)
				}
				if r.Health != "ok" || r.LastEvaluation.IsZero() || r.LastEvaluation.Year() < 2000 {
					return fmt.Errorf("rule %s/%s: health %q, last evaluation %s", g.Name, r.Name, r.Health, r.LastEvaluation)
				}
			}
		}
		if loaded != nRules {
			return fmt.Errorf("%d rules loaded, alerts.yml has %d", loaded, nRules)
		}
		return nil
	})
	t.Logf("alerts: %d groups, %d rules, all evaluated with health ok", len(rules.Groups), nRules)
}

// ---------------------------------------------------------------------------
// /debug/ui in a real browser.

// authGet is an admin GET with the admin token.
func authGet(n *Node, path, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, n.AdminURL()+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// runChromium runs headless Chromium with args in a process group of its
// own (killed as a whole on timeout) and a fresh profile, and returns its
// standard output.
func runChromium(t *testing.T, d time.Duration, args ...string) ([]byte, error) {
	t.Helper()
	bin := requireTool(t, "chromium", "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 3 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		// Whatever the browser left behind in its group goes too.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("chromium %v: %w\n%s", args, err, lastLines(stderr.String(), 10))
	}
	return stdout.Bytes(), nil
}

func lastLines(s string, k int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-k):], "\n")
}

// TestDebugUIScreenshot opens /debug/ui (with the admin token in the URL)
// in headless Chromium while one player is queued and a room is loading,
// waits until the page rendered both from /debug/actors, and keeps a
// screenshot as e2e/artifacts/TestDebugUIScreenshot/debug-ui.png.
func TestDebugUIScreenshot(t *testing.T) {
	t.Parallel()
	requireTool(t, "chromium", "chromium")
	be := StandaloneBackend(t)
	const token = "ui-t0ken/with+chars"
	duel := Duel()
	duel.LoadingTimeout = 60 * time.Second
	squad := Squad()
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel, squad}, Set: map[string]any{"admin.token": token}}))

	// One player alone in a 4-seat queue, and a duel room with one of its
	// two players loaded.
	queued := Dial(t, n, "ui-queued-player", 1000, "")
	rid := queued.Req(t, protocol.TypeEnqueue, "mode", "squad")
	queued.ExpectRid(t, protocol.TypeQueued, rid)
	a := Dial(t, n, "ui-loaded", 1200, "")
	b := Dial(t, n, "ui-loading", 1200, "")
	match, _ := matchPair(t, a, b)
	rid = a.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	a.ExpectRid(t, protocol.TypeLoadingStatus, rid)

	// The token path: the page itself needs the token, and so does the
	// data it renders from.
	uiURL := n.AdminURL() + "/debug/ui?token=" + url.QueryEscape(token)
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/debug/ui", "", http.StatusUnauthorized},
		{"/debug/ui?token=wrong", "", http.StatusUnauthorized},
		{"/debug/actors", "", http.StatusUnauthorized},
		{"/debug/ui?token=" + url.QueryEscape(token), "", http.StatusOK},
		{"/debug/actors", token, http.StatusOK},
	} {
		code, body, err := authGet(n, tc.path, tc.token)
		if err != nil || code != tc.want {
			t.Errorf("GET %s (bearer %v): %d %v, want %d: %s", tc.path, tc.token != "", code, err, tc.want, trim(body))
		}
	}
	eventually(t, 5*time.Second, "/debug/actors shows the queued player and the loading room", func() error {
		_, body, err := authGet(n, "/debug/actors", token)
		if err != nil {
			return err
		}
		if !bytes.Contains(body, []byte(`"ui-queued-player"`)) || !bytes.Contains(body, []byte(match)) {
			return fmt.Errorf("not yet: %s", trim(body))
		}
		return nil
	})

	// The page polls /debug/actors every second and renders in the
	// browser: dump its DOM until both show up.
	var dom string
	tries := 0
	eventually(t, 40*time.Second, "the rendered /debug/ui shows the queued player and the loading room", func() error {
		tries++
		out, err := runChromium(t, 20*time.Second, "--virtual-time-budget=4000", "--dump-dom", uiURL)
		if err != nil {
			return err
		}
		dom = string(out)
		// The room's row names the loaded member in a "ready" chip and the
		// other in a "waiting" one.
		for _, s := range []string{"ui-queued-player", match, `<span class="chip ready">ui-loaded</span>`,
			`<span class="chip waiting">ui-loading</span>`} {
			if !strings.Contains(dom, s) {
				return fmt.Errorf("DOM (%d bytes) lacks %q: %s", len(dom), s, lastLines(dom, 5))
			}
		}
		return nil
	})
	// The page's error banner is empty and its status dot says the last
	// poll worked (the token reached /debug/actors as a Bearer header).
	if m := regexp.MustCompile(`<div id="error"[^>]*>([^<]*)</div>`).FindStringSubmatch(dom); m == nil || m[1] != "" {
		t.Errorf("the page shows an error: %q", m)
	}
	if !strings.Contains(dom, `<div id="status" class="ok">`) {
		t.Errorf("the page's status is not ok: %s", regexp.MustCompile(`<div id="status"[^>]*>.*?</div>`).FindString(dom))
	}
	t.Logf("DOM rendered after %d chromium run(s), %d bytes", tries, len(dom))

	dir := artifactDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, err := filepath.Abs(filepath.Join(dir, "debug-ui.png"))
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(shot)
	if _, err := runChromium(t, 30*time.Second, "--virtual-time-budget=4000", "--window-size=1280,900",
		"--hide-scrollbars", "--screenshot="+shot, uiURL); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	fi, err := os.Stat(shot)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if fi.Size() <= 10<<10 {
		t.Errorf("screenshot %s is %d bytes, want > 10 KB", shot, fi.Size())
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", shot, err)
	}
	if bnd := img.Bounds(); bnd.Dx() != 1280 || bnd.Dy() != 900 {
		t.Errorf("screenshot is %dx%d, want 1280x900", bnd.Dx(), bnd.Dy())
	}
	t.Logf("screenshot: %s (%d bytes)", shot, fi.Size())
}
