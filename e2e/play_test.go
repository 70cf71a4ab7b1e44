package e2e

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The demo page (/debug/play, sdk/js/demo) played in headless Chromium
// (the driver is playpage_test.go): the JavaScript client against real
// nodes, through a real browser, as players would use it.

// playOrigins lets the pages, served by a node's admin listener, open
// WebSockets to the client listeners on other ports.
var playOrigins = []string{"127.0.0.1:*"}

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
