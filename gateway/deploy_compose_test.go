package gateway

// Checks of deploy/compose: no container runs here, so the test holds the
// compose file to what its parts need of each other: every mounted file
// exists, both matchd nodes load their config with the environment compose
// gives them, and Prometheus scrapes the port their metrics listener uses
// and loads the alert rules.

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/matchd/matchd/config"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
	} `yaml:"services"`
}

var composeVarRE = regexp.MustCompile(`\$\{([A-Z_]+):\?[^}]*\}`)

func TestComposeDeployment(t *testing.T) {
	dir := filepath.Join(deployDir, "compose")
	raw, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Required variables, as an operator following the comment sets them.
	vars := map[string]string{
		"MATCHD_ADMIN_TOKEN": "5d0c9e8f1a7b3c62e4f08d1a9b7c3e5f2a6d8b0c4e1f7a3d9b5c2e8f0a4d6b1c",
		"MATCHD_HMAC_SECRET": "c3e1a7f9b2d40865a1c9e7f3b5d2086e",
	}
	body := composeVarRE.ReplaceAllStringFunc(string(raw), func(m string) string {
		v, ok := vars[composeVarRE.FindStringSubmatch(m)[1]]
		if !ok {
			t.Errorf("compose.yaml requires %s, which the test does not know", m)
		}
		return v
	})
	var cf composeFile
	if err := yaml.Unmarshal([]byte(body), &cf); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"redis", "matchd-1", "matchd-2", "prometheus", "grafana"} {
		if _, ok := cf.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}

	// Every host path mounted exists.
	for name, s := range cf.Services {
		for _, v := range s.Volumes {
			host, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(host, ".") {
				if _, err := os.Stat(filepath.Join(dir, host)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, host, err)
				}
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %s beyond loopback", name, p)
			}
		}
	}

	// Each node's config loads with the environment compose gives it.
	var metricsPort string
	for _, name := range []string{"matchd-1", "matchd-2"} {
		s := cf.Services[name]
		i := slices.Index(s.Command, "--config")
		if i < 0 || i+1 >= len(s.Command) {
			t.Fatalf("%s: command %v has no --config", name, s.Command)
		}
		var hostCfg string
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == s.Command[i+1] {
				hostCfg = filepath.Join(dir, parts[0])
			}
		}
		if hostCfg == "" {
			t.Fatalf("%s: nothing mounted at %s", name, s.Command[i+1])
		}
		var env []string
		for k, v := range s.Environment {
			env = append(env, k+"="+v)
		}
		cfg, _, err := config.Load([]string{"--config", hostCfg}, env)
		if err != nil {
			t.Fatalf("%s: its config does not load: %v", name, err)
		}
		if cfg.NodeID != name || cfg.Redis.Mode != "standalone" || len(cfg.Redis.Addrs) != 1 ||
			!strings.HasPrefix(cfg.Redis.Addrs[0], "redis:") || cfg.Metrics.Addr == "" {
			t.Errorf("%s: node_id %q, redis %s %v, metrics.addr %q; want its own id, the redis service, a metrics listener",
				name, cfg.NodeID, cfg.Redis.Mode, cfg.Redis.Addrs, cfg.Metrics.Addr)
		}
		_, metricsPort, _ = net.SplitHostPort(cfg.Metrics.Addr)
	}

	// Prometheus scrapes both nodes' metrics listeners as job matchd and
	// loads the alert rules.
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	pb, err := os.ReadFile(filepath.Join(dir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(pb, &prom); err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName == "matchd" {
			for _, st := range sc.StaticConfigs {
				targets = append(targets, st.Targets...)
			}
		}
	}
	slices.Sort(targets)
	if want := []string{"matchd-1:" + metricsPort, "matchd-2:" + metricsPort}; !slices.Equal(targets, want) {
		t.Errorf("job matchd scrapes %v, want %v", targets, want)
	}
	if len(prom.RuleFiles) != 1 || filepath.Clean(filepath.Join(dir, prom.RuleFiles[0])) != filepath.Clean(filepath.Join(deployDir, "prometheus", "alerts.yml")) {
		t.Errorf("rule_files %v, want the repository's alert rules", prom.RuleFiles)
	}
}
