package helmtest

// The checks of one rendered release: that its manifests fit together and
// with the matchd configuration they carry.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// matchdConfig is the part of the rendered matchd.yaml the test compares
// with the manifests.
type matchdConfig struct {
	Server struct {
		Addr         string `json:"addr"`
		DrainTimeout string `json:"drain_timeout"`
	} `json:"server"`
	Admin   struct{ Addr string } `json:"admin"`
	Metrics struct{ Addr string } `json:"metrics"`
	Redis   struct {
		Mode string `json:"mode"`
	} `json:"redis"`
	Auth struct {
		Mode string `json:"mode"`
	} `json:"auth"`
}

func checkRelease(t *testing.T, mode string, r rendered) {
	t.Helper()
	var cfg matchdConfig
	body := r.cm.Data["matchd.yaml"]
	if err := yaml.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatalf("matchd.yaml: %v\n%s", err, body)
	}
	if cfg.Redis.Mode != mode {
		t.Errorf("redis.mode %q, want %q", cfg.Redis.Mode, mode)
	}
	drain, err := time.ParseDuration(cfg.Server.DrainTimeout)
	if err != nil {
		t.Fatalf("server.drain_timeout %q: %v", cfg.Server.DrainTimeout, err)
	}

	pod := r.deploy.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if want := "0.0.0.0:" + fmt.Sprint(ports["metrics"]); cfg.Metrics.Addr != want || ports["metrics"] == 0 {
		t.Errorf("metrics.addr %q, container port metrics %d; want them to agree", cfg.Metrics.Addr, ports["metrics"])
	}
	if want := "0.0.0.0:" + fmt.Sprint(ports["ws"]); cfg.Server.Addr != want || ports["ws"] == 0 {
		t.Errorf("server.addr %q, container port ws %d; want them to agree", cfg.Server.Addr, ports["ws"])
	}

	// Probes: readiness on /readyz, liveness on /healthz, both on the
	// metrics listener (no token, never the admin one).
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe %+v, want an HTTP GET", name, p)
			continue
		}
		wantPath := map[string]string{"readiness": "/readyz", "liveness": "/healthz", "startup": "/healthz"}[name]
		if p.HTTPGet.Path != wantPath || p.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s probe GET %s on port %s, want %s on metrics", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), wantPath)
		}
	}

	// Shutdown: preStop pause, then SIGTERM's drain, all inside the grace
	// period.
	var preStop time.Duration
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Errorf("no preStop sleep: %+v", c.Lifecycle)
	} else {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	grace := pod.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second <= preStop+drain {
		t.Errorf("terminationGracePeriodSeconds %v, want more than preStop %s + drain_timeout %s", grace, preStop, drain)
	}

	// Hardening.
	psc, csc := pod.Spec.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || csc == nil || csc.ReadOnlyRootFilesystem == nil ||
		!*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("security contexts pod %+v container %+v, want non-root, read-only root, no privilege escalation", psc, csc)
	}

	// Secrets come from the named Secret; the admin token exactly when the
	// admin listener is exposed.
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name != "matchd-secrets" {
			t.Errorf("%s from Secret %q, want matchd-secrets", e.Name, e.ValueFrom.SecretKeyRef.Name)
		}
	}
	_, hasToken := env["MATCHD_ADMIN__TOKEN"]
	adminPublic := strings.HasPrefix(cfg.Admin.Addr, "0.0.0.0:")
	if hasToken != adminPublic {
		t.Errorf("admin.addr %q with MATCHD_ADMIN__TOKEN set %v: a public admin listener needs the token, a loopback one not", cfg.Admin.Addr, hasToken)
	}
	if _, ok := env["MATCHD_AUTH__HMAC_SECRET"]; ok != (cfg.Auth.Mode == "hmac") {
		t.Errorf("auth.mode %q with MATCHD_AUTH__HMAC_SECRET set %v", cfg.Auth.Mode, ok)
	}
	if e := env["MATCHD_NODE_ID"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("MATCHD_NODE_ID %+v, want the pod name", e)
	}

	// The config volume is this ConfigMap, mounted where --config points.
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].ConfigMap == nil || pod.Spec.Volumes[0].ConfigMap.Name != r.cm.Name ||
		!slices.Contains(c.Args, "/etc/matchd/matchd.yaml") || len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/etc/matchd" {
		t.Errorf("volumes %+v, mounts %+v, args %v: want the ConfigMap at /etc/matchd/matchd.yaml", pod.Spec.Volumes, c.VolumeMounts, c.Args)
	}

	// Selectors pick the pods.
	podLabels := pod.Labels
	matches := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !matches(r.deploy.Spec.Selector.MatchLabels) || !matches(r.svc.Spec.Selector) {
		t.Errorf("deployment selector %v, service selector %v, pod labels %v", r.deploy.Spec.Selector.MatchLabels, r.svc.Spec.Selector, podLabels)
	}
	for _, sp := range r.svc.Spec.Ports {
		if _, ok := ports[sp.TargetPort.String()]; !ok {
			t.Errorf("service port %s targets %s, which the container does not name", sp.Name, sp.TargetPort.String())
		}
		if sp.TargetPort.String() == "admin" {
			t.Errorf("the Service exposes the admin listener")
		}
	}
	if r.pdb == nil || !matches(r.pdb.Spec.Selector.MatchLabels) {
		t.Errorf("PodDisruptionBudget %+v, want one selecting the pods", r.pdb)
	}
	if r.sm != nil && (len(r.sm.Spec.Endpoints) != 1 || r.sm.Spec.Endpoints[0].Port != "metrics" || !matches(r.sm.Spec.Selector.MatchLabels)) {
		t.Errorf("ServiceMonitor %+v, want it to scrape the metrics port of this Service", r.sm.Spec)
	}

	// matchd accepts the configuration, given the secrets the pod gets.
	path := filepath.Join(t.TempDir(), "matchd.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(matchdBin, "--config", path, "--print-config")
	cmd.Env = []string{"MATCHD_NODE_ID=matchd-0",
		"MATCHD_ADMIN__TOKEN=5d0c9e8f1a7b3c62e4f08d1a9b7c3e5f2a6d8b0c4e1f7a3d9b5c2e8f0a4d6b1c",
		"MATCHD_AUTH__HMAC_SECRET=c3e1a7f9b2d40865a1c9e7f3b5d2086e", "MATCHD_REDIS__PASSWORD=redis-pass"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("matchd refuses the rendered config: %v\n%s\n%s", err, stderr.String(), body)
	}
}
