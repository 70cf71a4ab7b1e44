package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// versionPkg is where make build stamps the version and commit.
const versionPkg = "github.com/matchd/matchd/cmd/internal/version"

// TestVersionStamped builds matchd the way `make build` does, with a
// version and commit stamped at link time, and checks that --version prints
// them and that matchd_build_info carries them on /metrics.
func TestVersionStamped(t *testing.T) {
	t.Parallel()
	const stampV, stampC = "v9.8.7-3-gabc1234-dirty", "abc1234def5678abc1234def5678abc1234def56"
	bin := filepath.Join(t.TempDir(), "matchd")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X "+versionPkg+".version="+stampV+" -X "+versionPkg+".commit="+stampC, "./cmd/matchd")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	out, err := exec.Command(bin, "--version").CombinedOutput()
	want := fmt.Sprintf("matchd %s (commit %s, go", stampV, stampC)
	if err != nil || !strings.HasPrefix(string(out), want) {
		t.Errorf("matchd --version: %v %q, want a line starting %q", err, out, want)
	}

	// The same binary, serving: its build_info says the same.
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	body := fmt.Sprintf("node_id: v1\nserver: {addr: '127.0.0.1:0'}\nadmin: {addr: '127.0.0.1:0'}\nredis: {key_prefix: '%s'}\n", KeyPrefix(t))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Env = childEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan map[string]any, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				select {
				case lines <- l:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var admin string
	deadline := time.After(20 * time.Second)
	for admin == "" {
		select {
		case l := <-lines:
			if l["msg"] == "matchd serving" {
				admin, _ = l["admin_addr"].(string)
			}
		case <-exited:
			t.Fatal("the stamped matchd exited before serving")
		case <-deadline:
			t.Fatal("the stamped matchd logged no \"matchd serving\" line")
		}
	}
	series := fmt.Sprintf(`matchd_build_info{commit="%s",goversion="%s",version="%s"}`, stampC, runtime.Version(), stampV)
	eventually(t, 10*time.Second, "build_info on /metrics", func() error {
		resp, err := httpClient.Get("http://" + admin + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if got := parseMetrics(b)[series]; got != 1 {
			return fmt.Errorf("%s = %v, want 1", series, got)
		}
		return nil
	})
}

// TestBuildInfoUnstamped: a plain go build (the harness's binary) still
// exports matchd_build_info, with what the toolchain knows.
func TestBuildInfoUnstamped(t *testing.T) {
	t.Parallel()
	n := StartNode(t, NodeOptions{})
	var found []string
	for k, v := range n.Metrics(t) {
		if strings.HasPrefix(k, "matchd_build_info{") && v == 1 {
			found = append(found, k)
		}
	}
	if len(found) != 1 || !strings.Contains(found[0], `goversion="`+runtime.Version()+`"`) {
		t.Errorf("build_info series %v, want one with goversion %q and value 1", found, runtime.Version())
	}
}
