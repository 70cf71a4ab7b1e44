package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// matchPair enqueues a and b in duel and returns the match_id both got.
func matchPair(t *testing.T, a, b *Client) (string, Frame) {
	t.Helper()
	rid := a.Req(t, protocol.TypeEnqueue, "mode", "duel")
	qa := a.ExpectRid(t, protocol.TypeQueued, rid)
	rid = b.Req(t, protocol.TypeEnqueue, "mode", "duel")
	b.ExpectRid(t, protocol.TypeQueued, rid)
	fa := a.Expect(t, protocol.TypeMatchFound)
	fb := b.Expect(t, protocol.TypeMatchFound)
	if fa.Str("match_id") != fb.Str("match_id") {
		t.Fatalf("different matches: %s / %s", fa, fb)
	}
	return fa.Str("match_id"), qa
}

func TestLoadingTimeoutRequeue(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	duel := Duel()
	duel.LoadingTimeout = 1500 * time.Millisecond
	n1 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel}}))
	n2 := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{duel}}))
	nodes := []*Node{n1, n2}

	ready := Dial(t, n1, "ready", 1200, "dev-ready")
	noShow := Dial(t, n2, "noshow", 1200, "dev-noshow")
	match, q := matchPair(t, ready, noShow)

	rid := ready.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	ready.ExpectRid(t, protocol.TypeLoadingStatus, rid)
	noShow.Expect(t, protocol.TypeLoadingStatus)

	// The deadline passes: the ready player is requeued with its place.
	mc := ready.NextIs(t, protocol.TypeMatchCancelled)
	if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonLoadingTimeout || !mc.Bool("requeued") ||
		!slices.Equal(mc.Strings("no_shows"), []string{"noshow"}) {
		t.Errorf("ready player's match_cancelled: %s, want loading_timeout, requeued, no_shows [noshow]", mc)
	}
	rq := ready.NextIs(t, protocol.TypeQueued)
	if !rq.Bool("requeued") || rq.Int("queued_at_ms") != q.Int("queued_at_ms") || rq.Str("mode") != "duel" {
		t.Errorf("requeue: %s, want requeued with queued_at_ms %d", rq, q.Int("queued_at_ms"))
	}
	if rq.Str("ticket_id") == "" {
		t.Errorf("requeue without ticket_id: %s", rq)
	}
	if st := ready.Sync(t); StateName(st) != "queued" || StateField(st, "ticket_id") != rq.Str("ticket_id") {
		t.Errorf("ready player's state after requeue: %s", st)
	}

	mc2 := noShow.NextIs(t, protocol.TypeMatchCancelled)
	if mc2.Str("match_id") != match || mc2.Str("reason") != protocol.ReasonLoadingTimeout || mc2.Bool("requeued") ||
		!slices.Equal(mc2.Strings("no_shows"), []string{"noshow"}) {
		t.Errorf("no-show's match_cancelled: %s", mc2)
	}
	if st := noShow.Sync(t); StateName(st) != "idle" {
		t.Errorf("no-show's state: %s, want idle", st)
	}

	WaitMetric(t, nodes, `matchd_players_requeued_total{mode="duel"}`, 1, 5*time.Second)
	WaitMetric(t, nodes, `matchd_violations_total{kind="no_show"}`, 1, 5*time.Second)
	WaitMetric(t, nodes, `matchd_matches_cancelled_total{mode="duel",reason="loading_timeout"}`, 1, 5*time.Second)
	if v := SumMetric(t, nodes, `matchd_matches_started_total{mode="duel"}`); v != 0 {
		t.Errorf("matches started: %v", v)
	}

	// The requeued player keeps its priority: a newcomer matches with it.
	late := Dial(t, n2, "late", 1200, "")
	m2, _ := matchPair(t, late, ready)
	if m2 == match {
		t.Errorf("the new match reuses the old id %s", m2)
	}
	CheckInvariants(t, []*Client{ready, noShow, late}, CheckOptions{})
}

func TestDodge(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n1 := StartNode(t, be.Apply(NodeOptions{}))
	n2 := StartNode(t, be.Apply(NodeOptions{}))
	nodes := []*Node{n1, n2}

	dodger := Dial(t, n1, "dodger", 1000, "dev-dodger")
	other := Dial(t, n2, "other", 1000, "dev-other")
	match, _ := matchPair(t, dodger, other)
	rid := other.Req(t, protocol.TypeEnqueue, "mode", "duel")
	other.ExpectError(t, rid, protocol.CodeInvalidState)
	// The other player reads its enqueue time from the first queued frame.
	var otherQueuedAt int64
	for _, f := range other.Frames() {
		if f.Type() == protocol.TypeQueued {
			otherQueuedAt = f.Int("queued_at_ms")
			break
		}
	}

	rid = dodger.Req(t, protocol.TypeCancel)
	mc := dodger.Expect(t, protocol.TypeMatchCancelled)
	if mc.Str("match_id") != match || mc.Str("reason") != protocol.ReasonPlayerLeft || mc.Bool("requeued") {
		t.Errorf("dodger's match_cancelled: %s, want player_left, requeued false", mc)
	}
	if mc.Str("rid") != rid {
		t.Logf("note: the dodger's match_cancelled does not carry the cancel's rid %q: %s", rid, mc)
	}
	if st := dodger.Sync(t); StateName(st) != "idle" {
		t.Errorf("dodger's state: %s", st)
	}

	mc2 := other.NextIs(t, protocol.TypeMatchCancelled)
	if mc2.Str("match_id") != match || mc2.Str("reason") != protocol.ReasonPlayerLeft || !mc2.Bool("requeued") {
		t.Errorf("other's match_cancelled: %s, want player_left, requeued true", mc2)
	}
	if ns := mc2.Strings("no_shows"); len(ns) != 0 {
		t.Logf("note: no_shows after a dodge: %v", ns)
	}
	q := other.NextIs(t, protocol.TypeQueued)
	if !q.Bool("requeued") || q.Int("queued_at_ms") != otherQueuedAt {
		t.Errorf("other's requeue: %s, want requeued with queued_at_ms %d", q, otherQueuedAt)
	}
	if st := other.Sync(t); StateName(st) != "queued" {
		t.Errorf("other's state: %s", st)
	}

	WaitMetric(t, nodes, `matchd_violations_total{kind="dodge"}`, 1, 5*time.Second)
	WaitMetric(t, nodes, `matchd_matches_cancelled_total{mode="duel",reason="player_left"}`, 1, 5*time.Second)
	WaitMetric(t, nodes, `matchd_players_requeued_total{mode="duel"}`, 1, 5*time.Second)
	if v := SumMetric(t, nodes, `matchd_violations_total{kind="no_show"}`); v != 0 {
		t.Errorf("no_show violations: %v", v)
	}

	// A late loading_complete for the dodged match is refused.
	rid = dodger.Req(t, protocol.TypeLoadingComplete, "match_id", match)
	dodger.ExpectError(t, rid, protocol.CodeInvalidState)
	CheckInvariants(t, []*Client{dodger, other}, CheckOptions{})
}
