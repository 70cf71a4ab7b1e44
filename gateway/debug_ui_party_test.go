package gateway

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// /debug/ui in headless Chromium shows each session's party, and its party
// filter keeps the sessions of one party's members.
func TestDebugUIShowsParties(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is required (make deps, or apt-get install chromium): %v", err)
	}
	n := startPartyNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice, carol := n.connect(t, "alice"), n.connect(t, "carol")
	n.connect(t, "dave")
	p, err := alice.PartyCreate(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carol.PartyJoin(ctx, p.PartyID); err != nil {
		t.Fatal(err)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer func() { cancelBrowser(); cancelAlloc() }()
	// Rendered rows of the sessions table: "player|party" per row.
	rows := func(url string) func() (string, error) {
		// On the tab's own context: one derived with a deadline would close
		// the tab when it ends.
		if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("summary"))); err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		return func() (string, error) {
			c, cancel := context.WithTimeout(bctx, 5*time.Second)
			defer cancel()
			return chromedp.Run(c, chromedp.Evaluate[string](`[...document.querySelectorAll("#sessions tbody tr")]
				.map((r) => r.cells[0].textContent + "|" + r.querySelector("td.party").textContent).sort().join(" ")`))
		}
	}
	short := p.PartyID[:8] + "…"
	wait := func(what string, read func() (string, error), want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got, err := read()
			if err == nil && got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: rows %q (%v), want %q", what, got, err, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	base := n.admin.URL + "/debug/ui?token=" + testAdminToken
	wait("every session", rows(base), fmt.Sprintf("alice|%s carol|%s dave|–", short, short))
	wait("the party's sessions", rows(base+"&party="+p.PartyID), fmt.Sprintf("alice|%s carol|%s", short, short))
}
