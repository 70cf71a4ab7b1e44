package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// sanctionRecord is GET /admin/sanctions/{id} and /device/{id}.
type sanctionRecord struct {
	Violations []struct {
		Kind      string    `json:"kind"`
		At        time.Time `json:"at"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"violations"`
	BannedUntil *time.Time `json:"banned_until"`
	BannedForMs int64      `json:"banned_for_ms"`
}

func (r sanctionRecord) kinds() []string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, v.Kind)
	}
	return out
}

// getSanctions fetches the record at path ("/admin/sanctions/P" or
// "/admin/sanctions/device/D").
func getSanctions(t *testing.T, n *Node, path string) (sanctionRecord, []byte) {
	t.Helper()
	code, body := n.Get(t, path)
	var rec sanctionRecord
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	return rec, body
}

// expectBanned sends enqueue and expects BANNED with retry_after_ms in
// (lo, hi].
func expectBanned(t *testing.T, c *Client, lo, hi int64) Frame {
	t.Helper()
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	e := c.ExpectError(t, rid, protocol.CodeBanned)
	if ms := e.Int("retry_after_ms"); ms <= lo || ms > hi {
		t.Errorf("%s: BANNED retry_after_ms %d, want in (%d, %d]: %s", c.Player, ms, lo, hi, e)
	}
	return e
}

// expectEnqueueOK enqueues in duel, expects queued and cancels again.
func expectEnqueueOK(t *testing.T, c *Client) {
	t.Helper()
	rid := c.Req(t, protocol.TypeEnqueue, "mode", "duel")
	f := c.ExpectFuncErrT(t, "queued or error rid="+rid, func(f Frame) bool { return f.Str("rid") == rid })
	if f.Type() != protocol.TypeQueued {
		t.Fatalf("%s: enqueue: %s, want queued", c.Player, f)
	}
	rid = c.Req(t, protocol.TypeCancel)
	c.ExpectRid(t, protocol.TypeDequeued, rid)
}

// ExpectFuncErrT is ExpectFuncErr failing the test (DefaultWait).
func (c *Client) ExpectFuncErrT(t testing.TB, what string, pred func(Frame) bool) Frame {
	t.Helper()
	f, err := c.ExpectFuncErr(DefaultWait, what, pred)
	if err != nil {
		t.Fatalf("%v\nall frames:\n%s", err, c.Dump())
	}
	return f
}

// noShowOnce matches p with a fresh opponent who loads; p does not, and is
// a no-show at the loading deadline. The opponent is requeued and leaves.
func noShowOnce(t *testing.T, n *Node, p *Client, opponent string) {
	t.Helper()
	o := Dial(t, n, opponent, 1000, "dev-"+opponent)
	match, _ := matchPair(t, p, o)
	rid := o.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	o.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	mc := p.Expect(t, protocol.TypeMatchCancelled)
	if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonLoadingTimeout || mc.Bool("requeued") ||
		!slices.Equal(mc.Strings("no_shows"), []string{p.Player}) {
		t.Errorf("%s: no-show's match_cancelled: %s", p.Player, mc)
	}
	if rq := o.Expect(t, protocol.TypeQueued); !rq.Bool("requeued") {
		t.Errorf("%s: the loaded opponent's requeue: %s", opponent, rq)
	}
	rid = o.Req(t, protocol.TypeCancel)
	o.ExpectRid(t, protocol.TypeDequeued, rid)
	o.Close()
}

// TestSanctionsCannotBeDodged: a player who no-shows twice is banned (the
// ladder's 1m) on its id and its device. Neither another source address,
// nor a new account on the device, gets round it; another account on
// another device from the same address is not touched (nothing is held
// against an IP). GET shows the record, DELETE lifts it.
func TestSanctionsCannotBeDodged(t *testing.T) {
	t.Parallel()
	duel := Duel()
	duel.LoadingTimeout = time.Second
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel},
		Set: map[string]any{"sanctions.ladder": []string{"0s", "1m", "5m"}, "sanctions.decay": "1h"}}))

	p := Dial(t, n, "ns-p", 1000, "dev-D")
	noShowOnce(t, n, p, "ns-o1")
	expectEnqueueOK(t, p) // the first no-show is a warning
	noShowOnce(t, n, p, "ns-o2")
	WaitMetric(t, []*Node{n}, `matchd_violations_total{kind="no_show"}`, 2, 5*time.Second)
	expectBanned(t, p, 50_000, 60_000)

	// Another source address: the same player is still banned. The
	// takeover replaces the old session.
	other := NewSourceDialer("127.0.0.2")
	p2, err := DialWith(t, n, "ns-p", DialOptions{Rating: 1000, HasRate: true, Device: "dev-D"}, websocket.DialOptions{HTTPClient: other.HTTP})
	if err != nil {
		t.Fatalf("dial from 127.0.0.2: %v", err)
	}
	locals := other.Locals()
	if len(locals) == 0 || !locals[0].(*net.TCPAddr).IP.Equal(net.ParseIP("127.0.0.2")) {
		t.Fatalf("the connection did not leave from 127.0.0.2: %v", locals)
	}
	p.ExpectClose(t, 4001)
	expectBanned(t, p2, 50_000, 60_000)
	// Without the device id, from the new address: the player ban applies.
	p3, err := DialWith(t, n, "ns-p", DialOptions{Rating: 1000, HasRate: true}, websocket.DialOptions{HTTPClient: other.HTTP})
	if err != nil {
		t.Fatalf("dial from 127.0.0.2 without a device: %v", err)
	}
	p2.ExpectClose(t, 4001)
	expectBanned(t, p3, 50_000, 60_000)

	// A new account on the same device, from the new address: banned.
	alt, err := DialWith(t, n, "ns-alt", DialOptions{Rating: 1000, HasRate: true, Device: "dev-D"}, websocket.DialOptions{HTTPClient: other.HTTP})
	if err != nil {
		t.Fatalf("dial the alt account: %v", err)
	}
	expectBanned(t, alt, 50_000, 60_000)
	// Another account on another device from the address the banned
	// player used: not banned (no IP bans).
	expectEnqueueOK(t, Dial(t, n, "ns-neighbour", 1000, "dev-E"))
	// A refused enqueue leaves nothing queued: the ticket the enqueue made
	// beside its ban check was taken back.
	queue, players := KeyPrefix(t)+":{m:duel}:q", KeyPrefix(t)+":{m:duel}:pl"
	for _, who := range []string{"ns-p", "ns-alt"} {
		if got := be.Redis().CLI(t, "HGET", players, who); got != "" {
			t.Errorf("%s is banned but Redis holds %q for it", who, got)
		}
	}
	if got := be.Redis().CLI(t, "ZCARD", queue); got != "0" {
		t.Errorf("queue holds %s tickets after banned enqueues, want 0", got)
	}

	for _, path := range []string{"/admin/sanctions/ns-p", "/admin/sanctions/device/dev-D"} {
		rec, body := getSanctions(t, n, path)
		t.Logf("GET %s: %s", path, body)
		if !slices.Equal(rec.kinds(), []string{"no_show", "no_show"}) {
			t.Errorf("GET %s: violations %v, want two no_show", path, rec.kinds())
		}
		if rec.BannedUntil == nil || time.Until(*rec.BannedUntil) <= 50*time.Second || time.Until(*rec.BannedUntil) > 61*time.Second {
			t.Errorf("GET %s: banned_until %v, want about a minute from now", path, rec.BannedUntil)
		}
		if rec.BannedForMs <= 50_000 || rec.BannedForMs > 60_000 {
			t.Errorf("GET %s: banned_for_ms %d, want about 60000", path, rec.BannedForMs)
		}
		for _, v := range rec.Violations {
			if d := v.ExpiresAt.Sub(v.At); d != time.Hour {
				t.Errorf("GET %s: violation lives %s, want sanctions.decay 1h", path, d)
			}
		}
	}
	if rec, _ := getSanctions(t, n, "/admin/sanctions/ns-alt"); len(rec.Violations) != 0 {
		t.Errorf("the alt account has violations of its own: %+v", rec)
	}

	// Lifting the player alone leaves the device ban in force: the player
	// without its device is free, every account on the device is not.
	if code, body := n.Delete(t, "/admin/sanctions/ns-p"); code != http.StatusOK {
		t.Fatalf("DELETE /admin/sanctions/ns-p: %d %s", code, body)
	}
	expectEnqueueOK(t, p3)
	expectBanned(t, alt, 50_000, 60_000)
	if code, body := n.Delete(t, "/admin/sanctions/device/dev-D"); code != http.StatusOK {
		t.Fatalf("DELETE /admin/sanctions/device/dev-D: %d %s", code, body)
	}
	expectEnqueueOK(t, alt)
	back := Dial(t, n, "ns-p", 1000, "dev-D")
	p3.ExpectClose(t, 4001)
	expectEnqueueOK(t, back)
	for _, path := range []string{"/admin/sanctions/ns-p", "/admin/sanctions/device/dev-D"} {
		if rec, body := getSanctions(t, n, path); len(rec.Violations) != 0 || rec.BannedUntil != nil || rec.BannedForMs != 0 {
			t.Errorf("GET %s after DELETE: %s, want a clean record", path, body)
		}
	}
}

// TestSanctionsDecayOneStep: with sanctions.decay 4s and the ladder
// [0s, 1m, 5m], three violations on one device (the first at t0, two more
// about 2s later, by three accounts) ban it 5m; when the first decays the
// ban eases to the 1m step (counted from the newest violation), not to
// nothing; when the rest decay the device's record is clean.
func TestSanctionsDecayOneStep(t *testing.T) {
	t.Parallel()
	const decay = 4 * time.Second
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{
		Set: map[string]any{"sanctions.ladder": []string{"0s", "1m", "5m"}, "sanctions.decay": decay.String()}}))
	const dev = "dev-K"
	const path = "/admin/sanctions/device/" + dev

	a1 := Dial(t, n, "dk-a1", 1000, dev)
	dodgeOnce(t, n, a1, "dk-x1")
	rec, body := getSanctions(t, n, path)
	if len(rec.Violations) != 1 || rec.BannedUntil != nil {
		t.Fatalf("after one dodge: %s, want one violation and no ban", body)
	}
	v1 := rec.Violations[0]

	// Two more accounts on the device get into two matches (far apart in
	// rating) and both dodge about 2s after the first violation: the
	// second violation bans the device, so both must be loading first.
	a2 := Dial(t, n, "dk-a2", 1000, dev)
	x2 := Dial(t, n, "dk-x2", 1000, "dev-dk-x2")
	a3 := Dial(t, n, "dk-a3", 3000, dev)
	x3 := Dial(t, n, "dk-x3", 3000, "dev-dk-x3")
	matchPair(t, a2, x2)
	matchPair(t, a3, x3)
	time.Sleep(time.Until(v1.At.Add(decay / 2)))
	for _, c := range []*Client{a2, a3} {
		rid := c.Req(t, protocol.TypeCancel)
		if mc := c.ExpectRid(t, protocol.TypeMatchCancelled, rid); mc.Str("reason") != protocol.ReasonPlayerLeft {
			t.Errorf("%s: dodge: %s", c.Player, mc)
		}
	}
	for _, x := range []*Client{x2, x3} {
		x.Expect(t, protocol.TypeQueued)
		rid := x.Req(t, protocol.TypeCancel)
		x.ExpectRid(t, protocol.TypeDequeued, rid)
	}
	rec, body = getSanctions(t, n, path)
	t.Logf("three violations: %s", body)
	if len(rec.Violations) != 3 || rec.BannedForMs <= 290_000 || rec.BannedForMs > 300_000 {
		t.Fatalf("after three violations: %s, want 3 violations and a 5m ban", body)
	}
	newest := rec.Violations[2]
	if gap := newest.At.Sub(v1.At); gap < decay/4 || gap >= decay-time.Second {
		t.Fatalf("violations at %v and %v: the test needs the first to decay well before the others", v1.At, newest.At)
	}
	a4 := Dial(t, n, "dk-a4", 1000, dev) // a new account on the device
	expectBanned(t, a4, 290_000, 300_000)

	// The first violation decays: one step down, to 1m from the newest.
	time.Sleep(time.Until(v1.ExpiresAt.Add(100 * time.Millisecond)))
	rec, body = getSanctions(t, n, path)
	t.Logf("after the first decayed: %s", body)
	if time.Now().After(rec.Violations[0].ExpiresAt) {
		t.Fatalf("too slow: the second violation decayed too before the check (%s)", body)
	}
	if len(rec.Violations) != 2 || rec.Violations[0].At.Equal(v1.At) {
		t.Errorf("after the first violation decayed: %s, want the two newer ones", body)
	}
	wantUntil := newest.At.Add(time.Minute)
	if rec.BannedUntil == nil || !rec.BannedUntil.Equal(wantUntil) || rec.BannedForMs <= 50_000 || rec.BannedForMs > 60_000 {
		t.Errorf("after the first violation decayed: %s, want banned until %v (1m step), for about 60000ms", body, wantUntil)
	}
	expectBanned(t, a4, 50_000, 60_000)
	if rec, body := getSanctions(t, n, "/admin/sanctions/dk-a1"); len(rec.Violations) != 0 || rec.BannedUntil != nil {
		t.Errorf("dk-a1's own (decayed) violation still counts: %s", body)
	}
	if rec, body := getSanctions(t, n, "/admin/sanctions/dk-a2"); len(rec.Violations) != 1 || rec.BannedUntil != nil {
		t.Errorf("dk-a2 on its own: %s, want one violation (a warning)", body)
	}

	// Every violation decays: the device's record is clean.
	time.Sleep(time.Until(newest.ExpiresAt.Add(100 * time.Millisecond)))
	if rec, body := getSanctions(t, n, path); len(rec.Violations) != 0 || rec.BannedUntil != nil || rec.BannedForMs != 0 {
		t.Errorf("after every violation decayed: %s, want a clean record", body)
	}
}

// TestSanctionsDecayedBanDoesNotDequeue: once a player's violations have
// all decayed its ban is gone: enqueue is accepted, and the ticket then
// stays queued; it must not be dequeued with reason banned by a ban that
// no longer exists (docs/protocol.md section 5: only a player sanctioned while
// queued is dequeued).
func TestSanctionsDecayedBanDoesNotDequeue(t *testing.T) {
	t.Parallel()
	const decay = 2 * time.Second
	n := StartNode(t, StandaloneBackend(t).Apply(NodeOptions{Set: map[string]any{"sanctions.ladder": []string{"0s", "5m"}, "sanctions.decay": decay.String()}}))
	p := Dial(t, n, "dd-p", 1000, "dev-dd")
	dodgeOnce(t, n, p, "dd-o1")
	dodgeOnce(t, n, p, "dd-o2")
	expectBanned(t, p, 290_000, 300_000)
	rec, _ := getSanctions(t, n, "/admin/sanctions/dd-p")
	if len(rec.Violations) != 2 {
		t.Fatalf("violations: %+v", rec)
	}
	time.Sleep(time.Until(rec.Violations[1].ExpiresAt.Add(100 * time.Millisecond)))
	for _, path := range []string{"/admin/sanctions/dd-p", "/admin/sanctions/device/dev-dd"} {
		if rec, body := getSanctions(t, n, path); len(rec.Violations) != 0 || rec.BannedUntil != nil {
			t.Fatalf("GET %s after decay: %s, want a clean record", path, body)
		}
	}
	rid := p.Req(t, protocol.TypeEnqueue, "mode", "duel")
	q := p.ExpectFuncErrT(t, "reply to enqueue", func(f Frame) bool { return f.Str("rid") == rid })
	if q.Type() != protocol.TypeQueued {
		t.Fatalf("enqueue after every violation decayed: %s, want queued", q)
	}
	if f, err := p.ExpectErr(protocol.TypeDequeued, 2*time.Second); err == nil {
		t.Errorf("every violation decayed and enqueue was accepted (GET shows a clean record), but the queue then "+
			"dropped the ticket: %s; the bans index (redisx ActiveBans) still holds the 5m ban, see "+
			"redisx TestSanctionsActiveBansFollowDecay", f)
	}
	if st := p.Sync(t); StateName(st) != "queued" {
		t.Errorf("after enqueue: state %s, want queued", st)
	}
}
