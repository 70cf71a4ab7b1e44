package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The demo page (/debug/play, sdk/js/demo) driven in headless Chromium:
// the JavaScript client against real nodes, through a real browser, as a
// player would use it.

// playOrigins lets the pages, served by a node's admin listener, open
// WebSockets to the client listeners on other ports.
var playOrigins = []string{"127.0.0.1:*"}

// startPlayBrowser starts headless Chromium with a fresh profile and the
// flags that keep it from reaching out to the network; it stops when the
// test ends.
func startPlayBrowser(t *testing.T) context.Context {
	t.Helper()
	bin := requireTool(t, "chromium", "chromium")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Two pages play at once: neither may be throttled as a background tab.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browserCtx
}

// playPage is one browser tab showing the demo page.
type playPage struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu      sync.Mutex
	console []string
}

// openPlayPage opens pageURL in a new tab of the browser and waits for the
// page's form. The tab's console is kept and printed if the test fails,
// with a screenshot of the tab as it was.
func openPlayPage(t *testing.T, browser context.Context, name, pageURL string) *playPage {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	p := &playPage{t: t, name: name, ctx: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m.String())
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		p.mu.Lock()
		t.Logf("page %s console:\n%s", name, strings.Join(p.console, "\n"))
		p.mu.Unlock()
		v, err := p.viewErr()
		t.Logf("page %s view: %+v (%v)", name, v, err)
		p.screenshot(name + "-failed.png")
	})
	p.run(30*time.Second, "open "+pageURL, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("connect")))
	return p
}

// consoleErrors returns the errors and uncaught exceptions the page logged
// (a script that failed, a refused WebSocket, a Content-Security-Policy
// violation). Messages arrive on their own goroutine, in order: a marker
// logged now and seen back means every earlier message is in.
func (p *playPage) consoleErrors() []string {
	p.t.Helper()
	marker := "console-marker-" + randHex(4)
	p.run(5*time.Second, "log a marker", chromedp.Evaluate[chromedp.Void](`console.info(`+strconv.Quote(marker)+`)`))
	eventually(p.t, 10*time.Second, "page "+p.name+": the console marker arrives", func() error {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, m := range p.console {
			if strings.Contains(m, marker) {
				return nil
			}
		}
		return errors.New("not yet")
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.console {
		if strings.HasPrefix(m, string(chromedp.ConsoleError)+":") || strings.HasPrefix(m, string(chromedp.ConsoleException)+":") {
			out = append(out, m)
		}
	}
	return out
}

func (p *playPage) run(d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("page %s: %s: %v", p.name, what, err)
	}
}

// fill empties the input with this id and types value into it, as a
// player would.
func (p *playPage) fill(id, value string) {
	p.t.Helper()
	sel := chromedp.ID(id)
	clear := chromedp.Evaluate[chromedp.Void](`document.getElementById(` + strconv.Quote(id) + `).value = ""`)
	p.run(10*time.Second, "fill #"+id, chromedp.WaitEnabled(sel), clear, chromedp.SendKeys(sel, value))
}

// click clicks the button with this id once it is enabled.
func (p *playPage) click(id string) {
	p.t.Helper()
	sel := chromedp.ID(id)
	p.run(20*time.Second, "click #"+id, chromedp.WaitEnabled(sel), chromedp.Click(sel))
}

// playMember is one row of a team on the page.
type playMember struct {
	Player string `json:"player"`
	Status string `json:"status"`
}

// playView is what the page shows, read from its DOM.
type playView struct {
	Conn       string         `json:"conn"`
	Node       string         `json:"node"`
	Phase      string         `json:"phase"`
	Ticket     string         `json:"ticket"`
	QueueTime  string         `json:"queueTime"`
	MatchID    string         `json:"matchId"`
	Countdown  string         `json:"countdown"`
	Teams      [][]playMember `json:"teams"`
	Result     string         `json:"result"`
	ResultKind string         `json:"resultKind"`
	Resumed    string         `json:"resumed"`
	Error      string         `json:"error"`
	URLs       string         `json:"urls"`
	OriginHint string         `json:"originHint"`
}

const playViewJS = `(() => {
  const el = (id) => document.getElementById(id);
  const shown = (id) => el(id).hidden ? '' : el(id).textContent;
  return {
    conn: el('conn').textContent, node: el('node-id').textContent, phase: el('state-name').dataset.phase || '',
    ticket: el('ticket-id').textContent, queueTime: el('queue-time').textContent, matchId: el('match-id').textContent,
    countdown: el('countdown').textContent,
    teams: [...document.querySelectorAll('#teams .team')].map((ul) => [...ul.querySelectorAll('.member')].map(
      (li) => ({ player: li.dataset.player, status: li.querySelector('.status').textContent }))),
    result: el('result').textContent, resultKind: el('result').className,
    resumed: shown('resumed'), error: shown('error'), urls: el('urls').value, originHint: shown('origin-hint'),
  };
})()`

func (p *playPage) viewErr() (playView, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[playView](playViewJS))
}

func (p *playPage) view() playView {
	p.t.Helper()
	v, err := p.viewErr()
	if err != nil {
		p.t.Fatalf("page %s: read the page: %v", p.name, err)
	}
	return v
}

// waitFor polls the page until cond accepts what it shows.
func (p *playPage) waitFor(d time.Duration, what string, cond func(v playView) error) playView {
	p.t.Helper()
	var v playView
	eventually(p.t, d, "page "+p.name+": "+what, func() error {
		var err error
		if v, err = p.viewErr(); err != nil {
			return err
		}
		if err := cond(v); err != nil {
			return fmt.Errorf("%w; page shows %+v", err, v)
		}
		return nil
	})
	return v
}

// screenshot saves the tab's viewport as e2e/artifacts/<TestName>/<file>.
func (p *playPage) screenshot(file string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Errorf("page %s: screenshot: %v", p.name, err)
		return ""
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		p.t.Errorf("page %s: screenshot is not a PNG: %v", p.name, err)
	}
	dir := artifactDir(p.t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path, _ := filepath.Abs(filepath.Join(dir, file))
	if err := os.WriteFile(path, img, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s (%d bytes)", path, len(img))
	return path
}

var (
	queueTimeRe = regexp.MustCompile(`^in queue (\d+\.\d) s$`)
	countdownRe = regexp.MustCompile(`^(\d+\.\d) s left to load$`)
)

// connectAs fills the player form, connects and waits for the welcome.
func (p *playPage) connectAs(player string, rating int, node *Node) {
	p.t.Helper()
	p.fill("player-id", player)
	p.fill("rating", strconv.Itoa(rating))
	p.click("connect")
	p.waitFor(20*time.Second, "connected and idle on "+node.ID, func(v playView) error {
		if v.Phase != "idle" || v.Node != node.ID || !strings.HasPrefix(v.Conn, "connected to "+node.ID) {
			return fmt.Errorf("not connected yet")
		}
		return nil
	})
}

// queue clicks "Find a match" and waits until the page shows the ticket
// and a queue time that moves.
func (p *playPage) queue() playView {
	p.t.Helper()
	p.click("enqueue")
	first := p.waitFor(20*time.Second, "queued", func(v playView) error {
		if v.Phase != "queued" || v.Ticket == "–" || !queueTimeRe.MatchString(v.QueueTime) {
			return fmt.Errorf("not queued yet")
		}
		return nil
	})
	p.waitFor(20*time.Second, "the queue time ticks", func(v playView) error {
		if v.Phase == "queued" && (v.QueueTime == first.QueueTime || !queueTimeRe.MatchString(v.QueueTime)) {
			return fmt.Errorf("queue time still %q", first.QueueTime)
		}
		return nil
	})
	return first
}

// members returns the page's team rows as "player:status" per team, sorted
// by team so two pages compare.
func members(v playView) [][]string {
	out := make([][]string, 0, len(v.Teams))
	for _, team := range v.Teams {
		var row []string
		for _, m := range team {
			row = append(row, m.Player+":"+m.Status)
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(strings.Join(a, ","), strings.Join(b, ",")) })
	return out
}

// waitLoading waits until the page shows the match with every member's
// status as want says and a loading countdown.
func (p *playPage) waitLoading(what string, want [][]string) playView {
	p.t.Helper()
	return p.waitFor(30*time.Second, what, func(v playView) error {
		if v.Phase != "loading" || v.MatchID == "–" || !countdownRe.MatchString(v.Countdown) {
			return fmt.Errorf("not loading")
		}
		if got := members(v); !slices.EqualFunc(got, want, slices.Equal) {
			return fmt.Errorf("teams %v, want %v", got, want)
		}
		return nil
	})
}

// waitReady waits until the page says the match is ready, every member ready.
func (p *playPage) waitReady(matchID string, want [][]string) playView {
	p.t.Helper()
	return p.waitFor(30*time.Second, "match ready", func(v playView) error {
		if v.Phase != "ready" || v.ResultKind != "ready" || v.MatchID != matchID {
			return fmt.Errorf("not ready")
		}
		if v.Result != "Match ready: no game server allocated (allocator: none)." {
			return fmt.Errorf("result %q", v.Result)
		}
		if got := members(v); !slices.EqualFunc(got, want, slices.Equal) {
			return fmt.Errorf("teams %v, want %v", got, want)
		}
		if v.Error != "" {
			return fmt.Errorf("the page shows an error: %s", v.Error)
		}
		return nil
	})
}

// loadBoth plays the loading room of two pages matched together: each
// shows both members loading with a countdown that runs, a's "Loaded"
// shows a ready on both pages, then b's ends the match ready on both.
func loadBoth(t *testing.T, a, b *playPage, pa, pb string) string {
	t.Helper()
	loading := [][]string{{pa + ":loading"}, {pb + ":loading"}}
	va := a.waitLoading("match found", loading)
	vb := b.waitLoading("match found", loading)
	if va.MatchID != vb.MatchID {
		t.Fatalf("the pages show different matches: %s and %s", va.MatchID, vb.MatchID)
	}
	secs, _ := strconv.ParseFloat(countdownRe.FindStringSubmatch(va.Countdown)[1], 64)
	a.waitFor(20*time.Second, "the loading countdown runs", func(v playView) error {
		m := countdownRe.FindStringSubmatch(v.Countdown)
		if m == nil {
			return fmt.Errorf("no countdown")
		}
		if now, _ := strconv.ParseFloat(m[1], 64); now >= secs {
			return fmt.Errorf("countdown still at %s", m[1])
		}
		return nil
	})

	a.click("loaded")
	halfway := [][]string{{pa + ":ready"}, {pb + ":loading"}}
	a.waitLoading("its own ready status", halfway)
	b.waitLoading("the other member's ready status (loading_status)", halfway)
	a.screenshot(pa + "-loading.png")

	b.click("loaded")
	done := [][]string{{pa + ":ready"}, {pb + ":ready"}}
	a.waitReady(va.MatchID, done)
	b.waitReady(va.MatchID, done)
	return va.MatchID
}

// TestPlayPageMatch: two players in two Chromium pages of /debug/play
// (opened with the admin token) queue, are matched together, load, and
// both pages show the match ready; then a second match that one of them
// leaves while loading shows cancelled on both. Screenshots of both pages
// are kept in e2e/artifacts/TestPlayPageMatch/.
func TestPlayPageMatch(t *testing.T) {
	t.Parallel()
	requireTool(t, "chromium", "chromium")
	be := StandaloneBackend(t)
	const token = "play-t0ken/with+chars"
	duel := Duel()
	duel.LoadingTimeout = 90 * time.Second
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel},
		Set: map[string]any{"admin.token": token, "server.origin_patterns": playOrigins}}))

	browser := startPlayBrowser(t)
	pageURL := n.AdminURL() + "/debug/play?token=" + url.QueryEscape(token)
	a := openPlayPage(t, browser, "alice", pageURL)
	b := openPlayPage(t, browser, "bob", pageURL)
	for _, p := range []*playPage{a, b} {
		// The node told the page where its client listener is.
		if v := p.view(); v.URLs != n.WSURL() || v.OriginHint != "" {
			t.Fatalf("page %s: node URLs %q (want %q), origin hint %q", p.name, v.URLs, n.WSURL(), v.OriginHint)
		}
	}

	a.connectAs("play-alice", 1500, n)
	b.connectAs("play-bob", 1520, n)
	a.queue()
	b.click("enqueue") // matched at once: the page may never show it queued
	match := loadBoth(t, a, b, "play-alice", "play-bob")
	a.screenshot("play-alice.png")
	b.screenshot("play-bob.png")
	WaitMetric(t, []*Node{n}, `matchd_matches_started_total{mode="duel"}`, 1, 10*time.Second)

	// Again, and alice leaves while loading: both pages say why the match
	// was cancelled, and bob's that he is back in the queue.
	a.click("enqueue")
	b.click("enqueue")
	loading := [][]string{{"play-alice:loading"}, {"play-bob:loading"}}
	second := a.waitLoading("a second match", loading)
	if second.MatchID == match {
		t.Fatalf("the page still shows the first match %s", match)
	}
	b.waitLoading("the second match", loading)
	a.click("cancel")
	a.waitFor(20*time.Second, "the dodger's cancelled match", func(v playView) error {
		if v.Phase != "cancelled" || v.ResultKind != "cancelled" || v.Result != "Match cancelled: player left." {
			return fmt.Errorf("not cancelled")
		}
		return nil
	})
	b.waitFor(20*time.Second, "the other member's cancelled match, requeued", func(v playView) error {
		if v.Phase != "queued" || v.ResultKind != "cancelled" ||
			v.Result != "Match cancelled: player left; back in the queue with your place kept." {
			return fmt.Errorf("not cancelled and requeued")
		}
		return nil
	})
	a.screenshot("play-alice-left.png")
	b.screenshot("play-bob-requeued.png")
	for _, p := range []*playPage{a, b} {
		if errs := p.consoleErrors(); len(errs) > 0 {
			t.Errorf("page %s logged errors:\n%s", p.name, strings.Join(errs, "\n"))
		}
	}
}

// TestPlayPageResumesOnAnotherNode: a page given two nodes queues on the
// first; the first is killed; the page reconnects to the second by itself
// and shows the state of the new welcome: still queued, same ticket. The
// resumed session is live: a second page on the second node is matched
// with it and both reach match ready.
func TestPlayPageResumesOnAnotherNode(t *testing.T) {
	t.Parallel()
	requireTool(t, "chromium", "chromium")
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 90 * time.Second
	opts := be.Apply(NodeOptions{Modes: []Mode{duel}, Set: map[string]any{"server.origin_patterns": playOrigins}})
	n1 := StartNode(t, opts)
	n2 := StartNode(t, opts)

	browser := startPlayBrowser(t)
	urls := n1.WSURL() + "," + n2.WSURL()
	// Served by the node about to die: once loaded, the page needs only
	// the client listeners.
	a := openPlayPage(t, browser, "alice", n1.AdminURL()+"/debug/play?urls="+url.QueryEscape(urls))
	if v := a.view(); v.URLs != urls {
		t.Fatalf("node URLs %q, want %q from the query", v.URLs, urls)
	}
	a.connectAs("resume-alice", 1500, n1)
	queued := a.queue()
	if v := a.view(); v.Resumed != "" {
		t.Fatalf("the page says it resumed before any reconnect: %q", v.Resumed)
	}

	n1.Kill()
	want := fmt.Sprintf("Resumed on node %s as queued in duel, ticket %s.", n2.ID, queued.Ticket)
	a.waitFor(30*time.Second, "resumed on "+n2.ID, func(v playView) error {
		switch {
		case v.Resumed != want:
			return fmt.Errorf("resumed line %q, want %q", v.Resumed, want)
		case v.Node != n2.ID || !strings.HasPrefix(v.Conn, "connected to "+n2.ID):
			return fmt.Errorf("not on %s", n2.ID)
		case v.Phase != "queued" || v.Ticket != queued.Ticket || !queueTimeRe.MatchString(v.QueueTime):
			return fmt.Errorf("not queued with ticket %s", queued.Ticket)
		}
		return nil
	})
	a.screenshot("resume-alice-resumed.png")

	b := openPlayPage(t, browser, "bob", n2.AdminURL()+"/debug/play")
	b.connectAs("resume-bob", 1520, n2)
	b.click("enqueue")
	loadBoth(t, a, b, "resume-alice", "resume-bob")
	a.screenshot("resume-alice.png")
	b.screenshot("resume-bob.png")
	WaitMetric(t, []*Node{n2}, `matchd_matches_started_total{mode="duel"}`, 1, 10*time.Second)
}
