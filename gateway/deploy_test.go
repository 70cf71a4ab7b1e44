package gateway

// Checks of the operator files in deploy/: the dashboard and the alerts may
// only name metrics that matchd exports, and the example configs must load.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/matchd/matchd/actors"
	"github.com/matchd/matchd/config"
)

const deployDir = "../deploy"

var metricNameRE = regexp.MustCompile(`matchd_[a-z_]+`)

// recordingRegisterer remembers what NewMetrics registers, so that vectors
// without children yet (a gather skips them) are known too.
type recordingRegisterer struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return r.Registerer.Register(c)
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	r.collectors = append(r.collectors, cs...)
	r.Registerer.MustRegister(cs...)
}

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// exportedNames is every series name matchd's metrics produce: each family
// name, and for histograms its _bucket, _sum and _count series.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	rec := &recordingRegisterer{Registerer: reg}
	m := actors.NewMetrics(rec)
	m.InitMode("duel")
	names := map[string]bool{}
	add := func(name string, histogram bool) {
		names[name] = true
		if histogram {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[name+s] = true
			}
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		add(mf.GetName(), mf.GetType() == dto.MetricType_HISTOGRAM)
	}
	for _, c := range rec.collectors {
		_, histogram := c.(*prometheus.HistogramVec)
		if _, ok := c.(prometheus.Histogram); ok {
			histogram = true
		}
		ch := make(chan *prometheus.Desc, 16)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			sub := fqNameRE.FindStringSubmatch(d.String())
			if sub == nil {
				t.Fatalf("cannot read the name of %s", d)
			}
			add(sub[1], histogram)
		}
	}
	if !names["matchd_sessions"] || !names["matchd_queue_wait_seconds_bucket"] {
		t.Fatalf("metric names not found: %v", sortedKeys(names))
	}
	return names
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkNames fails for every matchd_ name in text that matchd does not
// export.
func checkNames(t *testing.T, exported map[string]bool, where, text string) {
	t.Helper()
	for _, name := range metricNameRE.FindAllString(text, -1) {
		if !exported[name] {
			t.Errorf("%s: %q is not a metric matchd exports (actors/metrics.go)", where, name)
		}
	}
}

// grafanaPanel is what the test reads of a dashboard panel.
type grafanaPanel struct {
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  json.RawMessage `json:"datasource"`
	Targets     []struct {
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

func TestGrafanaDashboard(t *testing.T) {
	exported := exportedNames(t)
	b, err := os.ReadFile(filepath.Join(deployDir, "grafana", "matchd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		SchemaVersion int            `json:"schemaVersion"`
		Panels        []grafanaPanel `json:"panels"`
		Templating    struct {
			List []struct {
				Name       string          `json:"name"`
				Type       string          `json:"type"`
				Query      json.RawMessage `json:"query"`
				Definition string          `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
		Annotations struct {
			List []struct {
				Name string `json:"name"`
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("matchd.json: %v", err)
	}
	if dash.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want a current dashboard (>= 36)", dash.SchemaVersion)
	}

	vars := map[string]string{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = v.Type + " " + string(v.Query) + " " + v.Definition
		checkNames(t, exported, "variable "+v.Name, string(v.Query)+" "+v.Definition)
	}
	if v := vars["datasource"]; !strings.HasPrefix(v, `datasource "prometheus"`) {
		t.Errorf("variable datasource = %q, want a prometheus datasource variable", v)
	}
	if v := vars["node"]; !strings.HasPrefix(v, "query ") || !strings.Contains(v, `label_values(matchd_sessions{job=~"$job",env=~"$env"}, instance)`) {
		t.Errorf("variable node = %q, want the instances of the chosen job and environment", v)
	}
	// The dashboard serves any job name and environment: nothing is
	// hard-coded to job="matchd".
	if v := vars["job"]; !strings.HasPrefix(v, "query ") || !strings.Contains(v, "label_values(matchd_build_info, job)") {
		t.Errorf("variable job = %q, want label_values(matchd_build_info, job)", v)
	}
	if v := vars["env"]; !strings.HasPrefix(v, "query ") || !strings.Contains(v, "env)") {
		t.Errorf("variable env = %q, want the env label's values", v)
	}
	if strings.Contains(string(b), `job=\"matchd\"`) {
		t.Error(`the dashboard hard-codes job="matchd"; use the $job variable`)
	}
	for _, a := range dash.Annotations.List {
		checkNames(t, exported, "annotation "+a.Name, a.Expr)
	}

	var panels []grafanaPanel
	var flatten func([]grafanaPanel)
	flatten = func(list []grafanaPanel) {
		for _, p := range list {
			if p.Type == "row" {
				flatten(p.Panels) // collapsed rows hold their panels
				continue
			}
			panels = append(panels, p)
		}
	}
	flatten(dash.Panels)
	if len(panels) < 20 {
		t.Errorf("%d panels, want the full dashboard", len(panels))
	}
	for _, p := range panels {
		where := "panel " + p.Title
		if !strings.Contains(string(p.Datasource), "${datasource}") {
			t.Errorf("%s: datasource %s, want the ${datasource} variable", where, p.Datasource)
		}
		exprs := 0
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				continue
			}
			exprs++
			checkNames(t, exported, where, tg.Expr)
			if !strings.Contains(tg.Expr, `job=~"$job",env=~"$env"`) {
				t.Errorf("%s: %q is not narrowed to the chosen job and environment", where, tg.Expr)
			}
		}
		if exprs == 0 {
			t.Errorf("%s: no target with an expression", where)
		}
		checkNames(t, exported, where+" description", p.Description)
	}
}

func TestPrometheusAlerts(t *testing.T) {
	exported := exportedNames(t)
	b, err := os.ReadFile(filepath.Join(deployDir, "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	alerts := 0
	runbooks := runbookAnchors(t)
	sections := map[string]bool{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			where := g.Name + "/" + r.Alert + r.Record
			if strings.TrimSpace(r.Expr) == "" {
				t.Errorf("%s: empty expr", where)
			}
			checkNames(t, exported, where, r.Expr)
			if r.Alert == "" {
				continue
			}
			alerts++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", where, s)
			}
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[k]) == "" {
					t.Errorf("%s: no %s annotation", where, k)
				}
				checkNames(t, exported, where+" "+k, r.Annotations[k])
			}
			if _, ok := r.Annotations["runbook"]; ok {
				t.Errorf("%s: a runbook annotation; the convention is runbook_url", where)
			}
			// The runbook_url resolves to this alert's own section.
			u := r.Annotations["runbook_url"]
			page, anchor, ok := strings.Cut(u, "#")
			switch {
			case !ok || !strings.HasPrefix(u, "https://") || !strings.HasSuffix(page, "/docs/runbooks.md"):
				t.Errorf("%s: runbook_url %q, want https://.../docs/runbooks.md#<section>", where, u)
			case !runbooks[anchor]:
				t.Errorf("%s: runbook_url %q names section #%s, which docs/runbooks.md lacks", where, u, anchor)
			case anchor != githubAnchor(r.Alert):
				t.Errorf("%s: runbook_url %q points at #%s, want the alert's own section #%s", where, u, anchor, githubAnchor(r.Alert))
			}
			sections[anchor] = true
		}
	}
	if alerts < 15 {
		t.Errorf("%d alerts, want at least 15", alerts)
	}
	// One section per alert: none describes an alert that does not exist.
	for a := range runbooks {
		if strings.HasPrefix(a, "matchd") && !sections[a] {
			t.Errorf("docs/runbooks.md has a section #%s that no alert points at", a)
		}
	}
}

// runbookAnchors reads the anchors of docs/runbooks.md's sections, as
// GitHub renders them.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			out[githubAnchor(h)] = true
		}
	}
	return out
}

// githubAnchor is the anchor GitHub gives a heading: lower case, spaces to
// hyphens, punctuation other than hyphens and underscores dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestExampleConfigsLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(deployDir, "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// The examples leave the HMAC secret and the admin token to the
			// environment, on purpose: without them matchd must refuse to
			// start (the file's admin token is a placeholder).
			_, _, err := config.Load([]string{"--config", f}, nil)
			for _, key := range []string{"config: auth.hmac_secret: ", "config: admin.token: "} {
				if err == nil || !strings.Contains(err.Error(), key) {
					t.Errorf("without the secrets in the environment: err %v, want one naming %s", err, key)
				}
			}
			cfg, _, err := config.Load([]string{"--config", f}, []string{
				"MATCHD_AUTH__HMAC_SECRET=0123456789abcdef0123456789abcdef",
				"MATCHD_ADMIN__TOKEN=4b9d0f27c1e8a6538e2f71c4d09ab6e53f1c8d7a2b6e40951d3c7f8a2e6b0c41",
			})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Auth.Mode != "hmac" || cfg.Redis.Mode == "embedded" || cfg.Admin.Token == "" || len(cfg.Matchmaking.Modes) < 2 ||
				cfg.Metrics.Addr == "" {
				t.Errorf("got auth %q, redis %q, admin token set %v, %d modes, metrics.addr %q; want a production-like config",
					cfg.Auth.Mode, cfg.Redis.Mode, cfg.Admin.Token != "", len(cfg.Matchmaking.Modes), cfg.Metrics.Addr)
			}
		})
	}
}

// The dashboard's party row shows the parties in existence (one number
// for the cluster: every node reports it, so not a sum) and the party
// tickets enqueued by mode and size.
func TestGrafanaPartyRow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "grafana", "matchd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []grafanaPanel `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	row := false
	for _, p := range dash.Panels {
		row = row || p.Type == "row" && p.Title == "Parties"
		for _, tg := range p.Targets {
			exprs[p.Title] += tg.Expr
		}
	}
	if !row {
		t.Error("no Parties row")
	}
	if e := exprs["Parties in existence"]; !strings.HasPrefix(e, "max(matchd_parties{") {
		t.Errorf("Parties in existence: %q, want the max of matchd_parties over the nodes", e)
	}
	if e := exprs["Party tickets enqueued by mode and size"]; !strings.Contains(e, "sum by (mode, size) (rate(matchd_party_tickets_enqueued_total{") {
		t.Errorf("Party tickets enqueued by mode and size: %q, want the rate of matchd_party_tickets_enqueued_total by mode and size", e)
	}
}
