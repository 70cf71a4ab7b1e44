package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A driver for the demo page (/debug/play) in headless Chromium: one
// browser per test, one tab per player, the page read from its DOM.

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
