// Package helmtest renders the matchd Helm chart (deploy/helm/matchd) with
// the Helm library, as `helm template` would, for each of its values files,
// and decodes every manifest strictly into the Kubernetes API types, so a
// template that renders an unknown field, a wrong type or a broken
// reference fails `make test`. The rendered matchd configuration is checked
// by matchd itself (--print-config validates it). It is a module of its own
// so that Helm's and Kubernetes' dependencies stay out of matchd's.
package helmtest

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "../helm/matchd"
	namespace = "games"
	// kubeVersion is the oldest Kubernetes the chart supports (Chart.yaml).
	kubeVersion = "v1.30.0"
)

// matchdBin is matchd built from this repository, for checking the
// rendered configuration.
var matchdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "helmtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	matchdBin = filepath.Join(dir, "matchd")
	build := exec.Command("go", "build", "-o", matchdBin, "./cmd/matchd")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "helmtest: building matchd:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// render runs a client-side install (what `helm template` does) of the
// chart with the values files given, in order, and sets; it returns the
// manifests keyed by "Kind/name".
func render(t *testing.T, valueFiles []string, set []string) (map[string]string, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	opts := values.Options{ValueFiles: valueFiles, Values: set}
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
	cfg.Releases = storage.Init(driver.NewMemory())
	cfg.KubeClient = &kubefake.PrintingKubeClient{Out: io.Discard}
	cfg.Capabilities = common.DefaultCapabilities
	inst := action.NewInstall(cfg)
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = "matchd"
	inst.Namespace = namespace
	inst.Replace = true
	if inst.KubeVersion, err = common.ParseKubeVersion(kubeVersion); err != nil {
		t.Fatal(err)
	}
	r, err := inst.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	rel, ok := r.(*release.Release)
	if !ok {
		t.Fatalf("release of type %T", r)
	}
	out := map[string]string{}
	for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			continue
		}
		out[head.Kind+"/"+head.Metadata.Name] = doc
	}
	return out, nil
}

// decodeStrict decodes a YAML manifest into v the way the API server's
// strict field validation does: field names match exactly, and unknown or
// duplicate fields are errors.
func decodeStrict(t *testing.T, doc string, v any) {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("YAML to JSON: %v\n%s", err, doc)
	}
	strict, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, doc)
	}
	for _, e := range strict {
		t.Errorf("decode %T: %v", v, e)
	}
}

// serviceMonitor is monitoring.coreos.com/v1 ServiceMonitor, as far as the
// chart uses it; strict decoding refuses anything else.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel          string               `json:"jobLabel"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendered is one release, decoded.
type rendered struct {
	cm     corev1.ConfigMap
	deploy appsv1.Deployment
	svc    corev1.Service
	pdb    *policyv1.PodDisruptionBudget
	sm     *serviceMonitor
}

func decodeAll(t *testing.T, docs map[string]string) rendered {
	t.Helper()
	var r rendered
	for key, doc := range docs {
		kind, _, _ := strings.Cut(key, "/")
		switch kind {
		case "ConfigMap":
			decodeStrict(t, doc, &r.cm)
		case "Deployment":
			decodeStrict(t, doc, &r.deploy)
		case "Service":
			decodeStrict(t, doc, &r.svc)
		case "PodDisruptionBudget":
			r.pdb = &policyv1.PodDisruptionBudget{}
			decodeStrict(t, doc, r.pdb)
		case "ServiceMonitor":
			r.sm = &serviceMonitor{}
			decodeStrict(t, doc, r.sm)
		default:
			t.Errorf("unexpected manifest %s", key)
		}
	}
	for _, want := range []string{"ConfigMap/matchd", "Deployment/matchd", "Service/matchd"} {
		if _, ok := docs[want]; !ok {
			t.Errorf("no %s among %v", want, keys(docs))
		}
	}
	return r
}

func keys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// TestChartRendersEachValuesFile renders the chart for the standalone,
// Sentinel and Cluster values files and checks that the manifests decode
// into the API types and fit together: probes on the metrics listener,
// a grace period longer than the drain, secrets from the named Secret,
// the Service and the PodDisruptionBudget selecting the pods, and a matchd
// configuration that matchd itself accepts.
func TestChartRendersEachValuesFile(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir, "values-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var modes []string
	for _, f := range files {
		mode := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "values-"), ".yaml")
		modes = append(modes, mode)
		t.Run(mode, func(t *testing.T) {
			docs, err := render(t, []string{filepath.Join(chartDir, "values.yaml"), f}, nil)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			r := decodeAll(t, docs)
			checkRelease(t, mode, r)
		})
	}
	slices.Sort(modes)
	if want := []string{"cluster", "sentinel", "standalone"}; !slices.Equal(modes, want) {
		t.Errorf("values files for %v, want %v", modes, want)
	}
}

// TestChartRefusesUnsafeValues: values that would give a broken or unsafe
// deployment fail to render with a message naming the value.
func TestChartRefusesUnsafeValues(t *testing.T) {
	base := []string{filepath.Join(chartDir, "values.yaml"), filepath.Join(chartDir, "values-standalone.yaml")}
	for name, tc := range map[string]struct {
		set  []string
		want string
	}{
		"no secret":                       {[]string{"secrets.existingSecret="}, "secrets.existingSecret"},
		"grace period shorter than drain": {[]string{"terminationGracePeriodSeconds=20"}, "terminationGracePeriodSeconds"},
		"embedded redis":                  {[]string{"redis.mode=embedded"}, "redis.mode"},
		"insecure auth":                   {[]string{"auth.mode=insecure"}, "auth.mode"},
		"jwks without url":                {[]string{"auth.mode=jwks"}, "auth.jwks.url"},
		"sentinel without master set":     {[]string{"redis.mode=sentinel"}, "redis.masterSet"},
		"no redis address":                {[]string{"redis.addrs=null"}, "redis.addrs"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := render(t, base, tc.set)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("render with %v: %v, want an error naming %s", tc.set, err, tc.want)
			}
		})
	}
}
