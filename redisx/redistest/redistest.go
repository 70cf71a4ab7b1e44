// Package redistest gives tests a real Redis: the server that `make test`
// started (MATCHD_TEST_REDIS_ADDR), or else one redis-server started for the
// test binary on a free loopback port. A test that needs Redis and finds none
// fails; it never skips.
package redistest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/rueidis"

	"github.com/matchd/matchd/config"
)

// EnvAddr names the variable holding the address of a shared test server.
const EnvAddr = "MATCHD_TEST_REDIS_ADDR"

var (
	once     sync.Once
	addr     string
	setupErr error
)

// Addr returns the address of a real redis-server for tests.
func Addr(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if a := os.Getenv(EnvAddr); a != "" {
			addr = a
			return
		}
		addr, setupErr = startShared()
	})
	if setupErr != nil {
		t.Fatalf("redistest: no redis-server for this test (set %s or install redis-server): %v", EnvAddr, setupErr)
	}
	return addr
}

// FreePort returns a free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startShared() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		return "", err
	}
	// The server must not outlive the test binary, which has no exit hook
	// here (an orphaned redis-server is not reaped: it runs on). A shell
	// holds it and kills it when its stdin reaches EOF; stdin is a pipe
	// whose write end only this process holds, which the kernel closes
	// however the test binary ends (return, panic, kill on timeout).
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("/bin/sh", "-c", `"$0" "$@" </dev/null & pid=$!; read -r _ || true; kill "$pid" 2>/dev/null; wait "$pid"`,
		bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Stdin = pr
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return "", err
	}
	pr.Close()
	a := fmt.Sprintf("127.0.0.1:%d", port)
	if err := WaitReady(a, 10*time.Second); err != nil {
		pw.Close()
		_ = cmd.Wait()
		return "", err
	}
	lifeline = pw
	return a, nil
}

// lifeline is the write end of the shared server's stdin pipe. It is kept
// referenced so that no finalizer closes it: it must stay open for exactly
// as long as this process runs.
var lifeline *os.File //lint:ignore U1000 held, never read, on purpose

// WaitReady waits until a Redis at addr answers PING.
func WaitReady(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis at %s not ready after %s", addr, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Prefix returns a key prefix unique to this test, so tests can share one
// server and run in parallel.
func Prefix(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "_", " ", "_", "{", "", "}", "").Replace(t.Name())
	return "t:" + name + ":" + hex.EncodeToString(b[:])
}

// Config returns a standalone redis config for the shared test server with a
// fresh key prefix.
func Config(t testing.TB) config.Redis {
	c := config.Default().Redis
	c.Mode = "standalone"
	c.Addrs = []string{Addr(t)}
	c.KeyPrefix = Prefix(t)
	c.StartupTimeout = 5 * time.Second
	return c
}

// Client returns a raw rueidis client to the shared test server, closed when
// the test ends.
func Client(t testing.TB) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{Addr(t)}, DisableCache: true, ForceSingleClient: true})
	if err != nil {
		t.Fatalf("redis client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Mini starts a miniredis the way the embedded mode does (wall-clock TTLs)
// and returns it with a rueidis client to it, both closed with the test.
func Mini(t testing.TB) (*miniredis.Miniredis, rueidis.Client) {
	t.Helper()
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		t.Fatalf("miniredis: %v", err)
	}
	m.ClockTTL(true)
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{m.Addr()}, DisableCache: true, ForceSingleClient: true})
	if err != nil {
		t.Fatalf("miniredis client: %v", err)
	}
	t.Cleanup(func() { c.Close(); m.Close() })
	return m, c
}

// Flush deletes every key under prefix (for tests that count keys).
func Flush(ctx context.Context, c rueidis.Client, prefix string) error {
	keys, err := c.Do(ctx, c.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
	if err != nil || len(keys) == 0 {
		return err
	}
	return c.Do(ctx, c.B().Del().Key(keys...).Build()).Error()
}

// DataDir returns a temporary directory for server files under the test's
// temp dir.
func DataDir(t testing.TB, name string) string {
	d := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}
