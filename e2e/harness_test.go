// Package e2e holds matchd's black-box end-to-end tests: they build the
// matchd binary once, start real redis-server processes (standalone or a
// 3-master Cluster) and matchd nodes with a generated configuration, and
// talk to the nodes as game clients over the public protocol (docs/protocol.md)
// and as operators over the admin listener. Nothing here imports matchd's
// internals except the wire types of gateway/protocol and the redistest
// port helpers.
//
// Logs of every process a failed test started are copied into
// e2e/artifacts/<TestName>/ (every test's with E2E_KEEP_LOGS=1). Set E2E_RACE=1 to build matchd with -race (a
// data race then fails the test that saw it).
package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/matchd/matchd/redisx/redistest"
)

// matchdBin is the binary TestMain built.
var matchdBin string

// moduleRoot is the directory holding matchd's go.mod.
var moduleRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := findModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	moduleRoot = root
	dir, err := os.MkdirTemp("", "matchd-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	matchdBin = filepath.Join(dir, "matchd")
	args := []string{"build", "-o", matchdBin}
	if os.Getenv("E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/matchd")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building matchd:", err)
		return 2
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", matchdBin, time.Since(start).Round(time.Millisecond))
	for _, tool := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			// Never skip: a missing Redis is a broken test environment.
			fmt.Fprintf(os.Stderr, "e2e: %s is required (apt-get install redis-server redis-tools): %v\n", tool, err)
			return 2
		}
	}
	return m.Run()
}

func findModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		if p := strings.TrimSpace(string(out)); p != "" && p != os.DevNull {
			return filepath.Dir(p), nil
		}
	}
	abs, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
		return "", fmt.Errorf("cannot find the module root: %w", err)
	}
	return abs, nil
}

// ---------------------------------------------------------------------------
// Small helpers.

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// safeName turns a test name into a file and key friendly string.
func safeName(s string) string { return strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_") }

// eventually polls cond every 20ms until it returns nil or d passes, then
// fails the test with the last error.
func eventually(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePortWithBus returns a free loopback port whose port+10000 (the
// Cluster bus port) is free too.
func freePortWithBus(t testing.TB) int {
	t.Helper()
	for range 50 {
		p := redistest.FreePort(t)
		if p+10000 > 65535 {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// artifactDir is where a failed test's logs are copied.
func artifactDir(t testing.TB) string {
	return filepath.Join("artifacts", safeName(t.Name()))
}

// keepArtifact copies the file at path into the test's artifact directory
// when the test failed, and says where.
func keepArtifact(t testing.TB, path, name string) {
	if !t.Failed() && os.Getenv("E2E_KEEP_LOGS") != "1" {
		return
	}
	dir := artifactDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("artifacts: %v (log stays at %s)", err, path)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("artifacts: %v", err)
		return
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Logf("artifacts: %v (log stays at %s)", err, path)
		return
	}
	abs, _ := filepath.Abs(dst)
	t.Logf("artifacts: %s", abs)
}

// ---------------------------------------------------------------------------
// redis-server.

// RedisOptions tunes StartRedis.
type RedisOptions struct {
	// Args are extra redis-server arguments ("--cluster-enabled", "yes", ...).
	Args []string
	// Port, when set, is used instead of a free one.
	Port int
	// Name names the log file ("redis" by default).
	Name string
}

// Redis is one redis-server process started by a test.
type Redis struct {
	t       testing.TB
	opts    RedisOptions
	port    int
	dir     string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartRedis starts a redis-server on a free loopback port with no
// persistence, waits until it answers PING and stops it when the test ends.
func StartRedis(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "redis"
	}
	r := &Redis{t: t, opts: opts, port: opts.Port}
	if r.port == 0 {
		r.port = redistest.FreePort(t)
	}
	r.logPath = filepath.Join(t.TempDir(), opts.Name+".log")
	r.start()
	t.Cleanup(func() {
		r.Kill()
		keepArtifact(t, r.logPath, opts.Name+".log")
	})
	return r
}

func (r *Redis) start() {
	r.t.Helper()
	r.dir = r.t.TempDir()
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir}
	args = append(args, r.opts.Args...)
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		r.t.Fatalf("redis log: %v", err)
	}
	cmd := exec.Command("redis-server", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		r.t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	if err := redistest.WaitReady(r.Addr(), 10*time.Second); err != nil {
		r.t.Fatalf("redis-server on %s: %v (log %s)", r.Addr(), err, r.logPath)
	}
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// Port is the server's port.
func (r *Redis) Port() int { return r.port }

// Kill stops the server with SIGKILL and waits for it to exit.
func (r *Redis) Kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Restart kills the server and starts an empty one on the same port.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Kill()
	r.start()
}

// CLI runs redis-cli against this server and returns its output.
func (r *Redis) CLI(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(r.port)}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Cluster is a 3-master Redis Cluster.
type Cluster struct {
	Nodes []*Redis
}

// Addrs are the masters' addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// StartCluster starts three cluster-enabled redis-servers, joins them with
// redis-cli --cluster create and waits until every node says
// cluster_state:ok.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{}
	for i := range 3 {
		dir := t.TempDir()
		c.Nodes = append(c.Nodes, StartRedis(t, RedisOptions{
			Port: freePortWithBus(t),
			Name: fmt.Sprintf("redis-cluster-%d", i),
			Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				"--cluster-node-timeout", "2000"},
		}))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	eventually(t, 20*time.Second, "cluster_state:ok on every node", func() error {
		for _, n := range c.Nodes {
			out, err := exec.Command("redis-cli", "-p", strconv.Itoa(n.Port()), "cluster", "info").Output()
			if err != nil {
				return err
			}
			if !strings.Contains(string(out), "cluster_state:ok") {
				return fmt.Errorf("%s: %s", n.Addr(), firstLine(string(out)))
			}
		}
		return nil
	})
	return c
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// ---------------------------------------------------------------------------
// matchd nodes.

// Mode is one matchmaking.modes entry of a generated config.
type Mode struct {
	Name           string
	Teams          int
	TeamSize       int
	MaxWait        time.Duration
	LoadingTimeout time.Duration
	// Rating window; zero values take 100 / 50 / 1000.
	InitialWindow, WidenPerSecond, MaxWindow float64
	// Regions, when set, with the latency rule {max_ms, widen_per_second,
	// max_ms_limit} (docs/protocol.md section 9.5).
	Regions []string
	Latency [3]float64
}

// Duel is the 2x1 mode most tests use.
func Duel() Mode { return Mode{Name: "duel", Teams: 2, TeamSize: 1} }

func (m Mode) yaml() map[string]any {
	if m.Teams == 0 {
		m.Teams = 2
	}
	if m.TeamSize == 0 {
		m.TeamSize = 1
	}
	if m.MaxWait == 0 {
		m.MaxWait = 120 * time.Second
	}
	if m.LoadingTimeout == 0 {
		m.LoadingTimeout = 10 * time.Second
	}
	if m.InitialWindow == 0 {
		m.InitialWindow = 100
	}
	if m.WidenPerSecond == 0 {
		m.WidenPerSecond = 50
	}
	if m.MaxWindow == 0 {
		m.MaxWindow = 1000
	}
	out := map[string]any{
		"name": m.Name, "teams": m.Teams, "team_size": m.TeamSize,
		"max_wait": m.MaxWait.String(), "loading_timeout": m.LoadingTimeout.String(),
		"rating": map[string]any{"initial_window": m.InitialWindow, "widen_per_second": m.WidenPerSecond,
			"max_window": m.MaxWindow},
	}
	if len(m.Regions) > 0 {
		out["regions"] = m.Regions
		out["latency"] = map[string]any{"max_ms": m.Latency[0], "widen_per_second": m.Latency[1], "max_ms_limit": m.Latency[2]}
	}
	return out
}

// NodeOptions describes one matchd node.
type NodeOptions struct {
	// ID is the node_id; default "n1", "n2", ... in start order per test.
	ID string
	// RedisMode is embedded (default when RedisAddrs is empty), standalone
	// (default when RedisAddrs is set) or cluster.
	RedisMode  string
	RedisAddrs []string
	// KeyPrefix defaults to one prefix per test, shared by its nodes.
	KeyPrefix string
	// Modes default to [Duel()].
	Modes []Mode
	// Set overrides keys by dotted path: {"session.reconnect_grace": "1s"}.
	Set map[string]any
	// YAML is a snippet deep-merged over the generated config (after Set).
	YAML string
	// NoWaitReady skips waiting for /readyz.
	NoWaitReady bool
}

// Node is one running matchd process.
type Node struct {
	t       testing.TB
	ID      string
	cfgPath string
	logPath string
	cfg     map[string]any

	clientAddr, adminAddr string
	drainTimeout          time.Duration

	cmd    *exec.Cmd
	exited chan struct{}
	state  *os.ProcessState

	mu      sync.Mutex
	lines   []string
	logSig  chan struct{}
	stopped bool // Kill or Term called; cleanup does not check the status
	paused  bool
}

var (
	testStateMu sync.Mutex
	testPrefix  = map[testing.TB]string{}
	testNodeSeq = map[testing.TB]int{}
)

// KeyPrefix is the Redis key prefix the test's nodes share by default.
func KeyPrefix(t testing.TB) string {
	testStateMu.Lock()
	defer testStateMu.Unlock()
	p, ok := testPrefix[t]
	if !ok {
		name := safeName(t.Name())
		if len(name) > 40 {
			name = name[len(name)-40:]
		}
		p = "e2e:" + name + ":" + randHex(4)
		testPrefix[t] = p
		t.Cleanup(func() {
			testStateMu.Lock()
			delete(testPrefix, t)
			delete(testNodeSeq, t)
			testStateMu.Unlock()
		})
	}
	return p
}

func nextNodeID(t testing.TB) string {
	_ = KeyPrefix(t) // registers the cleanup of the per-test state
	testStateMu.Lock()
	defer testStateMu.Unlock()
	testNodeSeq[t]++
	return fmt.Sprintf("n%d", testNodeSeq[t])
}

// setPath sets a dotted key in a nested map, creating levels.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	if d, ok := v.(time.Duration); ok {
		v = d.String()
	}
	m[parts[len(parts)-1]] = v
}

// merge deep-merges src into dst (maps merge, everything else replaces).
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// StartNode writes a config file for opts, starts matchd on it and waits
// until /readyz answers 200. The node is stopped with SIGTERM when the test
// ends, and must then exit with status 0.
func StartNode(t testing.TB, opts NodeOptions) *Node {
	t.Helper()
	if opts.ID == "" {
		opts.ID = nextNodeID(t)
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = KeyPrefix(t)
	}
	if opts.RedisMode == "" {
		opts.RedisMode = "embedded"
		if len(opts.RedisAddrs) > 0 {
			opts.RedisMode = "standalone"
		}
	}
	if len(opts.Modes) == 0 {
		opts.Modes = []Mode{Duel()}
	}
	modes := make([]any, len(opts.Modes))
	for i, m := range opts.Modes {
		modes[i] = m.yaml()
	}
	redisCfg := map[string]any{"mode": opts.RedisMode, "key_prefix": opts.KeyPrefix, "startup_timeout": "10s"}
	if len(opts.RedisAddrs) > 0 {
		redisCfg["addrs"] = opts.RedisAddrs
	}
	cfg := map[string]any{
		"node_id": opts.ID,
		"server":  map[string]any{"addr": "127.0.0.1:0", "drain_timeout": "10s"},
		"admin":   map[string]any{"addr": "127.0.0.1:0"},
		"redis":   redisCfg,
		"matchmaking": map[string]any{
			"tick": "20ms", "lock_ttl": "600ms", "modes": modes,
		},
		"session": map[string]any{"reconnect_grace": "15s"},
		"debug":   map[string]any{"fault_injection": true},
		"log":     map[string]any{"level": "debug", "format": "json"},
	}
	keys := make([]string, 0, len(opts.Set))
	for k := range opts.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		setPath(cfg, k, opts.Set[k])
	}
	if opts.YAML != "" {
		var extra map[string]any
		if err := yaml.Unmarshal([]byte(opts.YAML), &extra); err != nil {
			t.Fatalf("NodeOptions.YAML: %v", err)
		}
		merge(cfg, extra)
	}
	body, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	dir := t.TempDir()
	n := &Node{t: t, ID: opts.ID, cfg: cfg, cfgPath: filepath.Join(dir, opts.ID+".yaml"),
		logPath: filepath.Join(dir, opts.ID+".log"), logSig: make(chan struct{})}
	if err := os.WriteFile(n.cfgPath, body, 0o644); err != nil {
		t.Fatalf("config: %v", err)
	}
	n.drainTimeout = 10 * time.Second
	if s, ok := cfg["server"].(map[string]any); ok {
		if v, ok := s["drain_timeout"].(string); ok {
			if d, err := time.ParseDuration(v); err == nil {
				n.drainTimeout = d
			}
		}
	}
	n.start()
	t.Cleanup(n.cleanup)
	if err := n.waitServing(20 * time.Second); err != nil {
		t.Fatalf("node %s: %v\n%s", n.ID, err, n.tail(30))
	}
	if !opts.NoWaitReady {
		n.WaitReady(t, 20*time.Second)
	}
	return n
}

// childEnv is the environment of matchd: ours without MATCHD_* variables,
// so that nothing but the generated file configures the node.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MATCHD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (n *Node) start() {
	t := n.t
	logf, err := os.Create(n.logPath)
	if err != nil {
		t.Fatalf("node log: %v", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("pipe: %v", err)
	}
	cmd := exec.Command(matchdBin, "--config", n.cfgPath)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start matchd: %v", err)
	}
	pw.Close()
	n.cmd = cmd
	n.exited = make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer logf.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = logf.WriteString(line + "\n")
			n.mu.Lock()
			n.lines = append(n.lines, line)
			close(n.logSig)
			n.logSig = make(chan struct{})
			n.mu.Unlock()
		}
		pr.Close()
	}()
	go func() {
		_ = cmd.Wait()
		<-readerDone
		n.mu.Lock()
		n.state = cmd.ProcessState
		n.mu.Unlock()
		close(n.exited)
	}()
}

// LogLine is one decoded JSON log line.
type LogLine map[string]any

// Msg is the line's msg field.
func (l LogLine) Msg() string { s, _ := l["msg"].(string); return s }

// Str is a string field of the line.
func (l LogLine) Str(k string) string { s, _ := l[k].(string); return s }

// Logs returns the node's log lines so far, decoded (non-JSON lines, such as
// a panic trace, come back as {"msg": <raw line>, "raw": true}).
func (n *Node) Logs() []LogLine {
	n.mu.Lock()
	lines := append([]string(nil), n.lines...)
	n.mu.Unlock()
	out := make([]LogLine, 0, len(lines))
	for _, s := range lines {
		var l LogLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			l = LogLine{"msg": s, "raw": true}
		}
		out = append(out, l)
	}
	return out
}

// FindLogs returns the log lines whose msg is msg.
func (n *Node) FindLogs(msg string) []LogLine {
	var out []LogLine
	for _, l := range n.Logs() {
		if l.Msg() == msg {
			out = append(out, l)
		}
	}
	return out
}

// WaitLog waits until a log line satisfies pred.
func (n *Node) WaitLog(t testing.TB, d time.Duration, what string, pred func(LogLine) bool) LogLine {
	t.Helper()
	l, err := n.awaitLog(d, pred)
	if errors.Is(err, errExited) {
		t.Fatalf("node %s exited while waiting for log %q\n%s", n.ID, what, n.tail(30))
	}
	if err != nil {
		t.Fatalf("node %s: no log line %q within %s", n.ID, what, d)
	}
	return l
}

var (
	errExited     = errors.New("node exited")
	errLogTimeout = errors.New("no such log line in time")
)

// awaitLog scans the node's log, as it grows, for a line satisfying pred.
func (n *Node) awaitLog(d time.Duration, pred func(LogLine) bool) (LogLine, error) {
	deadline := time.After(d)
	seen := 0
	for {
		n.mu.Lock()
		lines := n.lines[seen:]
		sig := n.logSig
		n.mu.Unlock()
		for _, s := range lines {
			seen++
			var l LogLine
			if json.Unmarshal([]byte(s), &l) == nil && pred(l) {
				return l, nil
			}
		}
		select {
		case <-sig:
		case <-n.exited:
			return nil, errExited
		case <-deadline:
			return nil, errLogTimeout
		}
	}
}

func (n *Node) tail(k int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	from := max(0, len(n.lines)-k)
	return strings.Join(n.lines[from:], "\n")
}

func (n *Node) waitServing(d time.Duration) error {
	l, err := n.awaitLog(d, func(l LogLine) bool { return l.Msg() == "matchd serving" })
	switch {
	case errors.Is(err, errExited):
		return fmt.Errorf("exited before serving (%s)", n.state)
	case err != nil:
		return errors.New("no \"matchd serving\" log line")
	}
	n.clientAddr, n.adminAddr = l.Str("client_addr"), l.Str("admin_addr")
	if n.clientAddr == "" || n.adminAddr == "" {
		return fmt.Errorf("serving line without addresses: %v", l)
	}
	return nil
}

// WaitReady waits until GET /readyz answers 200.
func (n *Node) WaitReady(t testing.TB, d time.Duration) {
	t.Helper()
	eventually(t, d, "node "+n.ID+" /readyz 200", func() error {
		select {
		case <-n.exited:
			t.Fatalf("node %s exited: %s\n%s", n.ID, n.state, n.tail(30))
		default:
		}
		code, body, err := n.get("/readyz")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("status %d: %s", code, body)
		}
		return nil
	})
}

// AdminURL is the admin listener's base URL.
func (n *Node) AdminURL() string { return "http://" + n.adminAddr }

// WSURL is the client endpoint's URL.
func (n *Node) WSURL() string { return "ws://" + n.clientAddr + "/ws" }

// LogPath is the node's log file.
func (n *Node) LogPath() string { return n.logPath }

// Exited is closed when the process has exited.
func (n *Node) Exited() <-chan struct{} { return n.exited }

// ExitCode is the process's exit status (-1 while running or when killed by
// a signal).
func (n *Node) ExitCode() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state == nil {
		return -1
	}
	return n.state.ExitCode()
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func (n *Node) get(path string) (int, []byte, error) {
	resp, err := httpClient.Get(n.AdminURL() + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Get fetches an admin path and returns status and body.
func (n *Node) Get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	code, b, err := n.get(path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", n.AdminURL(), path, err)
	}
	return code, b
}

// Post sends an admin POST with a JSON body.
func (n *Node) Post(t testing.TB, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	resp, err := httpClient.Post(n.AdminURL()+path, "application/json", rd)
	if err != nil {
		t.Fatalf("POST %s%s: %v", n.AdminURL(), path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Delete sends an admin DELETE.
func (n *Node) Delete(t testing.TB, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, n.AdminURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("DELETE %s%s: %v", n.AdminURL(), path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Metrics scrapes /metrics into series ("name{labels}" exactly as exposed)
// and values.
func (n *Node) Metrics(t testing.TB) map[string]float64 {
	t.Helper()
	m, err := n.metrics()
	if err != nil {
		t.Fatalf("node %s metrics: %v", n.ID, err)
	}
	return m
}

func (n *Node) metrics() (map[string]float64, error) {
	code, b, err := n.get("/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("/metrics: status %d", code)
	}
	return parseMetrics(b), nil
}

func parseMetrics(b []byte) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[strings.TrimSpace(line[:i])] = v
	}
	return out
}

// SumMetric adds one series over nodes (a missing series counts 0).
func SumMetric(t testing.TB, nodes []*Node, series string) float64 {
	t.Helper()
	var sum float64
	for _, n := range nodes {
		sum += n.Metrics(t)[series]
	}
	return sum
}

// SumMetricPrefix adds every series whose name{labels} starts with prefix.
func SumMetricPrefix(t testing.TB, nodes []*Node, prefix string) float64 {
	t.Helper()
	var sum float64
	for _, n := range nodes {
		for k, v := range n.Metrics(t) {
			if strings.HasPrefix(k, prefix) {
				sum += v
			}
		}
	}
	return sum
}

// WaitMetric waits until the series summed over nodes equals want.
func WaitMetric(t testing.TB, nodes []*Node, series string, want float64, d time.Duration) {
	t.Helper()
	eventually(t, d, series, func() error {
		var sum float64
		for _, n := range nodes {
			m, err := n.metrics()
			if err != nil {
				return err
			}
			sum += m[series]
		}
		if sum != want {
			return fmt.Errorf("%s = %v, want %v", series, sum, want)
		}
		return nil
	})
}

// Actors returns GET /debug/actors?kind=kind decoded.
func (n *Node) Actors(t testing.TB, kind string) []map[string]any {
	t.Helper()
	path := "/debug/actors"
	if kind != "" {
		path += "?kind=" + kind
	}
	code, b := n.Get(t, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	var body struct {
		NodeID string           `json:"node_id"`
		Actors []map[string]any `json:"actors"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
	return body.Actors
}

// HasSession reports whether a session actor for player lives on the node.
func (n *Node) HasSession(t testing.TB, player string) bool {
	t.Helper()
	for _, a := range n.Actors(t, "session") {
		if d, ok := a["details"].(map[string]any); ok && d["player_id"] == player {
			return true
		}
	}
	return false
}

func (n *Node) signal(sig os.Signal) {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(sig)
	}
}

// Pause freezes the process (SIGSTOP), as a long GC pause or a stalled VM
// would.
func (n *Node) Pause() {
	n.mu.Lock()
	n.paused = true
	n.mu.Unlock()
	n.signal(syscall.SIGSTOP)
}

// Resume continues a paused process (SIGCONT).
func (n *Node) Resume() {
	n.signal(syscall.SIGCONT)
	n.mu.Lock()
	n.paused = false
	n.mu.Unlock()
}

// Kill stops the node with SIGKILL and waits for it to exit.
func (n *Node) Kill() {
	n.mu.Lock()
	n.stopped = true
	n.mu.Unlock()
	n.signal(syscall.SIGKILL)
	<-n.exited
}

// Term sends SIGTERM and waits (up to drain_timeout + 5s) for the exit; it
// returns the exit code and how long the exit took (code -1 on a timeout,
// after which the node is killed).
func (n *Node) Term() (int, time.Duration) {
	n.mu.Lock()
	n.stopped = true
	n.mu.Unlock()
	start := time.Now()
	n.signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		return n.ExitCode(), time.Since(start)
	case <-time.After(n.drainTimeout + 5*time.Second):
		n.signal(syscall.SIGKILL)
		<-n.exited
		return -1, time.Since(start)
	}
}

func (n *Node) cleanup() {
	t := n.t
	n.mu.Lock()
	stopped, paused := n.stopped, n.paused
	n.mu.Unlock()
	if paused {
		n.Resume()
	}
	select {
	case <-n.exited:
		if !stopped {
			t.Errorf("node %s exited on its own during the test: %s", n.ID, n.state)
		}
	default:
		code, took := n.Term()
		if code != 0 && !stopped {
			t.Errorf("node %s: exit status %d after SIGTERM (took %s), want 0", n.ID, code, took.Round(time.Millisecond))
		}
	}
	for _, l := range n.Logs() {
		if strings.Contains(l.Msg(), "WARNING: DATA RACE") {
			t.Errorf("node %s: data race, see its log", n.ID)
			break
		}
		if raw, _ := l["raw"].(bool); raw && strings.HasPrefix(l.Msg(), "panic:") {
			t.Errorf("node %s: panic: %s", n.ID, l.Msg())
			break
		}
	}
	if t.Failed() {
		t.Logf("node %s log: %s", n.ID, n.logPath)
	}
	keepArtifact(t, n.logPath, n.ID+".log")
	keepArtifact(t, n.cfgPath, n.ID+".yaml")
}

// Config returns a deep copy of the generated config map.
// RewriteConfig replaces the node's config file with its config as mut
// changes it, atomically (write, then rename), as an operator's tooling
// would; the node's watch picks it up.
func (n *Node) RewriteConfig(t testing.TB, mut func(map[string]any)) {
	t.Helper()
	cfg := n.Config()
	mut(cfg)
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tmp := n.cfgPath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, n.cfgPath); err != nil {
		t.Fatal(err)
	}
}

func (n *Node) Config() map[string]any {
	b, err := json.Marshal(n.cfg)
	if err != nil {
		n.t.Fatalf("config: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		n.t.Fatalf("config: %v", err)
	}
	return out
}

// ---------------------------------------------------------------------------
// Topologies used by several tests.

// Backend says where a test's nodes keep their state.
type Backend struct {
	Mode  string // embedded, standalone or cluster
	Addrs []string
	redis *Redis
}

// StandaloneBackend starts a redis-server for the test.
func StandaloneBackend(t testing.TB) Backend {
	t.Helper()
	r := StartRedis(t, RedisOptions{})
	return Backend{Mode: "standalone", Addrs: []string{r.Addr()}, redis: r}
}

// Redis is the standalone server (nil for other backends).
func (b Backend) Redis() *Redis { return b.redis }

// Apply fills the Redis fields of opts.
func (b Backend) Apply(opts NodeOptions) NodeOptions {
	opts.RedisMode, opts.RedisAddrs = b.Mode, b.Addrs
	return opts
}
