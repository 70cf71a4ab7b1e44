package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/matchd/matchd/gateway/protocol"
)

// The operators' views at scale and across nodes: /debug/ui on a node
// holding 15,000 idle sessions, its ticket view and cluster view, and
// matchctl player explaining players in each state.

var (
	toolsMu  sync.Mutex
	toolBins = map[string]string{}
)

// toolBin builds ./cmd/<name> once per test binary and returns its path.
func toolBin(t *testing.T, name string) string {
	t.Helper()
	toolsMu.Lock()
	defer toolsMu.Unlock()
	if p, ok := toolBins[name]; ok {
		return p
	}
	p := filepath.Join(filepath.Dir(matchdBin), name)
	cmd := exec.Command("go", "build", "-o", p, "./cmd/"+name)
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	toolBins[name] = p
	return p
}

// raiseFileLimit lifts this process's open-file limit to its hard limit,
// which the nodes and load generators it starts inherit, and fails when
// even that cannot hold need descriptors.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatalf("setrlimit to the hard limit %d: %v", lim.Max, err)
		}
	}
	if lim.Cur < need {
		t.Fatalf("open-file limit %d, this test needs %d per process (raise the hard limit: ulimit -Hn)", lim.Cur, need)
	}
	t.Logf("open-file limit: %d", lim.Cur)
}

// uiPage opens url in a new headless Chromium and returns its tab.
func uiPage(t *testing.T, pageURL string) context.Context {
	t.Helper()
	bin := requireTool(t, "chromium", "chromium")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action runs on the tab's own context: a context derived
	// from it with a deadline would close the tab when it ends.
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("summary"))); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	return ctx
}

// domText is the text of the element matched by sel.
func domText(ctx context.Context, sel string) (string, error) {
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
}

func TestDebugUIAtScale(t *testing.T) {
	const idle = 15000
	raiseFileLimit(t, idle+1000)
	load := toolBin(t, "matchload")
	be := StandaloneBackend(t)
	// Windows that never reach from 1000 to 2500: the two waiting players
	// stay waiting for a compatible mate.
	duel := Mode{Name: "duel", Teams: 2, TeamSize: 1, MaxWait: 10 * time.Minute, InitialWindow: 50, WidenPerSecond: 0.5, MaxWindow: 200}
	squad := Squad()
	set := map[string]any{"log.level": "info"}
	n1 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel, squad}, Set: set}))
	n2 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel, squad}, Set: set}))

	// 15,000 idle sessions on n1, held by matchload (ids "z-idle-…", which
	// sort after the waiting players' ids).
	lctx, stopLoad := context.WithCancel(context.Background())
	cmd := exec.CommandContext(lctx, load, "--nodes", n1.WSURL(), "--players", strconv.Itoa(idle), "--rate", "3000",
		"--idle", "--duration", "10m", "--timeout", "10m", "--progress", "off", "--id-prefix", "z-idle-")
	logf, err := os.Create(filepath.Join(t.TempDir(), "matchload.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start matchload: %v", err)
	}
	t.Cleanup(func() {
		stopLoad()
		_ = cmd.Wait()
		logf.Close()
	})
	began := time.Now()
	eventually(t, 3*time.Minute, "15,000 idle sessions on n1", func() error {
		if got := n1.Metrics(t)["matchd_sessions"]; got < idle {
			return fmt.Errorf("%v sessions", got)
		}
		return nil
	})
	t.Logf("%d idle sessions on %s after %s", idle, n1.ID, time.Since(began).Round(time.Millisecond))

	// Two players wait in duel on n1, too far apart to be matched.
	waiter := Dial(t, n1, "ui-waiter", 1000, "dev-ui-waiter")
	far := Dial(t, n1, "ui-far", 2500, "dev-ui-far")
	for _, c := range []*Client{waiter, far} {
		rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
		c.ExpectRid(t, protocol.TypeQueued, rid)
	}

	// The JSON the page polls: the default limit lists 500 sessions and
	// counts the rest; the waiting tickets carry their window and verdict.
	var tree struct {
		Omitted int            `json:"omitted"`
		States  map[string]int `json:"sessions_by_state"`
	}
	var took time.Duration
	eventually(t, 20*time.Second, "the waiting tickets' verdict", func() error {
		start := time.Now()
		code, body := n1.Get(t, "/debug/actors")
		took = time.Since(start)
		if code != 200 {
			return fmt.Errorf("%d %s", code, trim(body))
		}
		if err := json.Unmarshal(body, &tree); err != nil {
			return err
		}
		v, err := ticketVerdict(body, "ui-far")
		if err != nil {
			return err
		}
		if v != "no_mate_in_window" {
			return fmt.Errorf("verdict %q", v)
		}
		return nil
	})
	total := 0
	for _, n := range tree.States {
		total += n
	}
	if total != idle+2 || tree.States["queued"] != 2 {
		t.Errorf("sessions_by_state %v, want %d sessions, 2 queued", tree.States, idle+2)
	}
	if want := total - 500; tree.Omitted != want {
		t.Errorf("omitted %d, want %d (%d sessions, default limit 500)", tree.Omitted, want, total)
	}
	t.Logf("GET /debug/actors with the default limit on a node with %d sessions: %s", total, took.Round(100*time.Microsecond))
	// The server's filters: a player prefix finds one session among 15k.
	code, body := n1.Get(t, "/debug/actors?kind=session&player=ui-wait")
	if code != 200 || !strings.Contains(string(body), `"ui-waiter"`) || strings.Contains(string(body), `"ui-far"`) {
		t.Errorf("player=ui-wait: %d %s", code, trim(body))
	}

	// The page: it polls with the default limit and says how long a poll
	// took; the ticket view shows each waiting ticket's window and verdict;
	// the cluster view both nodes and who leads each mode.
	ctx := uiPage(t, n1.AdminURL()+"/debug/ui")
	eventually(t, 30*time.Second, "the page shows the waiting tickets and both nodes", func() error {
		tickets, err := domText(ctx, "#tickets")
		if err != nil {
			return err
		}
		for _, s := range []string{"ui-waiter", "ui-far", "no_mate_in_window", "no compatible mate within the window", "±"} {
			if !strings.Contains(tickets, s) {
				return fmt.Errorf("ticket view lacks %q: %q", s, tickets)
			}
		}
		cluster, err := domText(ctx, "#cluster")
		if err != nil {
			return err
		}
		for _, s := range []string{n1.ID, n2.ID, "duel", "squad"} {
			if !strings.Contains(cluster, s) {
				return fmt.Errorf("cluster view lacks %q: %q", s, cluster)
			}
		}
		return nil
	})
	// Who leads each mode, as the queues themselves say, is what the
	// cluster view shows.
	leaders := map[string]string{}
	for _, n := range []*Node{n1, n2} {
		for _, q := range n.Actors(t, "queue") {
			if q["state"] == "leader" {
				d, _ := q["details"].(map[string]any)
				leaders[fmt.Sprint(d["mode"])] = n.ID
			}
		}
	}
	c2, cancel := context.WithTimeout(ctx, 10*time.Second)
	leaseRows, err := chromedp.Run(c2, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#cluster > div:nth-child(2) tbody tr")].map((r) => r.innerText)`))
	cancel()
	if err != nil {
		t.Fatalf("lease rows: %v", err)
	}
	for _, mode := range []string{"duel", "squad"} {
		holder := leaders[mode]
		if holder == "" {
			t.Errorf("no node leads %s: %v", mode, leaders)
			continue
		}
		found := false
		for _, r := range leaseRows {
			f := strings.Fields(r)
			if len(f) >= 2 && f[0] == mode && f[1] == holder {
				found = true
			}
		}
		if !found {
			t.Errorf("the cluster view does not show %s led by %s: %q", mode, holder, leaseRows)
		}
	}
	// The page's own measure of its polls (fetch and parse), five polls
	// in a row: logged, not asserted.
	var polls []string
	for deadline := time.Now().Add(30 * time.Second); len(polls) < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("the page reported %d polls in 30s: %v", len(polls), polls)
		}
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := chromedp.Run(c, chromedp.Evaluate[string](`document.body.dataset.pollMs || ""`))
		cancel()
		if err != nil {
			t.Fatalf("poll time: %v", err)
		}
		if v != "" && (len(polls) == 0 || v != polls[len(polls)-1]) {
			polls = append(polls, v)
		}
		time.Sleep(300 * time.Millisecond) // the page polls each second; this only paces the reads
	}
	t.Logf("/debug/ui polls with the default limit on a node with %d sessions, measured by the browser (ms): %v", total, polls)
	t.Logf("leaders: %v; cluster view lease rows: %q", leaders, leaseRows)

	c3, cancel3 := context.WithTimeout(ctx, 20*time.Second)
	png, err := chromedp.Run(c3, chromedp.CaptureScreenshot())
	cancel3()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := artifactDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "debug-ui-15k.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}

// ticketVerdict finds player's session in a /debug/actors reply and
// returns its ticket's verdict.
func ticketVerdict(body []byte, player string) (string, error) {
	var tree struct {
		Actors []json.RawMessage `json:"actors"`
	}
	if err := json.Unmarshal(body, &tree); err != nil {
		return "", err
	}
	type node struct {
		Kind     string          `json:"kind"`
		Children []node          `json:"children"`
		Details  json.RawMessage `json:"details"`
	}
	var find func(n node) (string, bool)
	find = func(n node) (string, bool) {
		if n.Kind == "session" {
			var d struct {
				Player string `json:"player_id"`
				Ticket *struct {
					Verdict string  `json:"verdict"`
					Window  float64 `json:"window"`
				} `json:"ticket"`
			}
			if json.Unmarshal(n.Details, &d) == nil && d.Player == player {
				if d.Ticket == nil {
					return "", true
				}
				return d.Ticket.Verdict, true
			}
		}
		for _, c := range n.Children {
			if v, ok := find(c); ok {
				return v, true
			}
		}
		return "", false
	}
	for _, raw := range tree.Actors {
		var n node
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		if v, ok := find(n); ok {
			if v == "" {
				return "", fmt.Errorf("%s has no ticket yet", player)
			}
			return v, nil
		}
	}
	return "", fmt.Errorf("%s not listed", player)
}

// matchctl player explains a queued, a loading and a banned player, each
// in one screen.
func TestMatchctlPlayer(t *testing.T) {
	t.Parallel()
	ctl := toolBin(t, "matchctl")
	be := StandaloneBackend(t)
	// duel: far-apart ratings never match, and loading lasts a minute;
	// quick: a no-show is found after a second, and bans at once.
	duel := Mode{Name: "duel", Teams: 2, TeamSize: 1, MaxWait: 5 * time.Minute, LoadingTimeout: time.Minute,
		InitialWindow: 50, WidenPerSecond: 0.5, MaxWindow: 200}
	quick := Mode{Name: "quick", Teams: 2, TeamSize: 1, LoadingTimeout: time.Second}
	n1 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel, quick}, Set: map[string]any{"sanctions.ladder": []string{"5m"}}}))
	n2 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel, quick}, Set: map[string]any{"sanctions.ladder": []string{"5m"}}}))
	player := func(id string) string {
		t.Helper()
		u, _ := url.Parse(n2.AdminURL()) // any node answers for every player
		out, err := exec.Command(ctl, "--addr", u.Host, "player", id).CombinedOutput()
		if err != nil {
			t.Fatalf("matchctl player %s: %v\n%s", id, err, out)
		}
		return string(out)
	}

	// Queued: alone in its rating band.
	carol := Dial(t, n1, "carol", 1500, "dev-carol")
	rid := carol.Req(t, protocol.TypeEnqueue, "mode", "duel")
	carol.ExpectRid(t, protocol.TypeQueued, rid)
	var out string
	eventually(t, 10*time.Second, "carol's verdict", func() error {
		out = player("carol")
		if !strings.Contains(out, "verdict   no_mate_in_window") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	for _, s := range []string{"player carol: queued in duel, on node " + n1.ID, "rating    1500, window ±", "of max_wait 5m0s", "sanctions none"} {
		if !strings.Contains(out, s) {
			t.Errorf("queued: lacks %q:\n%s", s, out)
		}
	}
	t.Logf("matchctl player carol:\n%s", out)

	// Loading: matched, loaded, waiting for its mate.
	alice := Dial(t, n1, "alice", 1200, "dev-alice")
	bob := Dial(t, n2, "bob", 1210, "dev-bob")
	match, _ := matchPair(t, alice, bob)
	rid = alice.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	alice.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	out = player("alice")
	for _, s := range []string{"player alice: loading match " + match + " in duel, on node " + n1.ID, "ready     alice", "waiting   bob", "deadline  in "} {
		if !strings.Contains(out, s) {
			t.Errorf("loading: lacks %q:\n%s", s, out)
		}
	}
	t.Logf("matchctl player alice:\n%s", out)

	// Banned: a no-show in quick, banned at once by the ladder.
	mallory := Dial(t, n2, "mallory", 1800, "dev-mallory")
	dave := Dial(t, n1, "dave", 1800, "dev-dave")
	for _, c := range []*Client{mallory, dave} {
		rid := c.Req(t, protocol.TypeEnqueue, "mode", "quick")
		c.ExpectRid(t, protocol.TypeQueued, rid)
	}
	m := dave.Expect(t, protocol.TypeMatchFound).Str("match_id")
	mallory.Expect(t, protocol.TypeMatchFound)
	rid = dave.Req(t, protocol.TypeLoadingComplete, "match_id", m)
	dave.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	mallory.Expect(t, protocol.TypeMatchCancelled)
	eventually(t, 10*time.Second, "mallory's ban", func() error {
		out = player("mallory")
		if !strings.Contains(out, "BANNED for") {
			return fmt.Errorf("%s", out)
		}
		return nil
	})
	for _, s := range []string{"player mallory: idle, on node " + n2.ID, "1 live violation(s)", "no_show"} {
		if !strings.Contains(out, s) {
			t.Errorf("banned: lacks %q:\n%s", s, out)
		}
	}
	t.Logf("matchctl player mallory:\n%s", out)
	rid = mallory.Req(t, protocol.TypeEnqueue, "mode", "quick")
	mallory.ExpectError(t, rid, protocol.CodeBanned)
}

// A drain started over the admin listener can be undone: the node is
// ready again, takes connections and leads its mode again.
func TestDrainUndo(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{Duel()}}))
	holder := func() (string, error) {
		code, body := n.Get(t, "/debug/cluster")
		if code != 200 {
			return "", fmt.Errorf("/debug/cluster: %d %s", code, trim(body))
		}
		var c struct {
			Leases []struct {
				Holder *string `json:"holder"`
			} `json:"leases"`
		}
		if err := json.Unmarshal(body, &c); err != nil || len(c.Leases) != 1 {
			return "", fmt.Errorf("%v %s", err, trim(body))
		}
		if c.Leases[0].Holder == nil {
			return "", nil
		}
		return *c.Leases[0].Holder, nil
	}
	if code, body := n.Post(t, "/admin/drain", nil); code != 202 {
		t.Fatalf("drain: %d %s", code, body)
	}
	eventually(t, 10*time.Second, "drained: not ready, nobody leads duel", func() error {
		if code, _ := n.Get(t, "/readyz"); code != 503 {
			return fmt.Errorf("readyz %d", code)
		}
		if h, err := holder(); err != nil || h != "" {
			return fmt.Errorf("holder %q %v", h, err)
		}
		return nil
	})
	if code, body := n.Delete(t, "/admin/drain"); code != 200 {
		t.Fatalf("undo the drain: %d %s", code, body)
	}
	eventually(t, 10*time.Second, "serving again: ready, leading duel", func() error {
		if code, _ := n.Get(t, "/readyz"); code != 200 {
			return fmt.Errorf("readyz %d", code)
		}
		if h, err := holder(); err != nil || h != n.ID {
			return fmt.Errorf("holder %q %v", h, err)
		}
		return nil
	})
	a := Dial(t, n, "undo-a", 1500, "dev-undo-a")
	b := Dial(t, n, "undo-b", 1500, "dev-undo-b")
	matchPair(t, a, b)
}
