package main

import (
	"strings"
	"testing"
)

func verdictsByName(c *Checker) map[string]Verdict {
	out := map[string]Verdict{}
	for _, v := range c.Verdicts() {
		out[v.Name] = v
	}
	return out
}

// expect checks that exactly the named verdicts fail, each with the given
// failure kind.
func expect(t *testing.T, c *Checker, fails map[string]string) {
	t.Helper()
	for name, v := range verdictsByName(c) {
		kind, wantFail := fails[name]
		if v.Pass == wantFail {
			t.Errorf("%s: pass=%v, want pass=%v (failures %v, examples %q)", name, v.Pass, !wantFail, v.ByKind, v.Examples)
			continue
		}
		if wantFail && v.ByKind[kind] == 0 {
			t.Errorf("%s: failures %v, want kind %q", name, v.ByKind, kind)
		}
		if wantFail && len(v.Examples) == 0 {
			t.Errorf("%s: no examples", name)
		}
	}
}

var duel = [][]string{{"a"}, {"b"}}

// connectQueue brings players to queued.
func connectQueue(c *Checker, ps ...string) {
	for _, p := range ps {
		c.Connected(p, "idle")
		c.EnqueueSent(p)
		c.Queued(p, "t-"+p, false)
	}
}

func TestCheckerCleanMatch(t *testing.T) {
	c := NewChecker()
	connectQueue(c, "a", "b")
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", duel)
	c.MatchReady("a", "m1")
	c.MatchReady("b", "m1")
	// A second round for both.
	connectQueueAgain(c, "a", "b")
	c.MatchFound("b", "m2", [][]string{{"b"}, {"a"}})
	c.MatchFound("a", "m2", [][]string{{"b"}, {"a"}})
	c.MatchReady("a", "m2")
	c.MatchReady("b", "m2")
	expect(t, c, nil)
	v := verdictsByName(c)
	if v["no-double-match"].Checked != 4 || v["same-teams"].Checked != 2 || v["every-player-accounted"].Breakdown["matched"] != 2 {
		t.Errorf("verdicts %+v", v)
	}
	if m := c.Matches(); m.Formed != 2 || m.Started != 2 || m.Open != 0 {
		t.Errorf("matches %+v", m)
	}
}

func connectQueueAgain(c *Checker, ps ...string) {
	for _, p := range ps {
		c.EnqueueSent(p)
		c.Queued(p, "t-"+p, false)
	}
}

func TestCheckerBehavioursPass(t *testing.T) {
	c := NewChecker()
	// No-show: b never loads; a is requeued, then matched with d; b idle.
	connectQueue(c, "a", "b", "d")
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", duel)
	c.MatchCancelled("a", "m1", "loading_timeout", true, false)
	c.Queued("a", "t-a", true)
	c.MatchCancelled("b", "m1", "loading_timeout", false, false)
	c.MatchFound("a", "m2", [][]string{{"a"}, {"d"}})
	c.MatchFound("d", "m2", [][]string{{"a"}, {"d"}})
	c.MatchReady("a", "m2")
	c.MatchReady("d", "m2")
	// Dodge: e cancels while loading, f requeued then cancelled at the end.
	connectQueue(c, "e", "f")
	ef := [][]string{{"e"}, {"f"}}
	c.MatchFound("e", "m3", ef)
	c.MatchFound("f", "m3", ef)
	c.CancelSent("e")
	c.MatchCancelled("e", "m3", "player_left", false, true)
	c.MatchCancelled("f", "m3", "player_left", true, false)
	c.Queued("f", "t-f", true)
	c.CancelSent("f")
	c.Dequeued("f", "cancelled")
	// An end-of-run cancel crossing a claim, refused with state loading
	// before match_found arrives; then the match plays out.
	connectQueue(c, "g", "h")
	c.CancelSent("g")
	c.Refused("g", "cancel", "INVALID_STATE", "loading", "m4")
	gh := [][]string{{"g"}, {"h"}}
	c.MatchFound("g", "m4", gh)
	c.MatchFound("h", "m4", gh)
	c.MatchReady("g", "m4")
	c.MatchReady("h", "m4")
	// The same, refused after match_found (the client thought it dodged).
	connectQueue(c, "i", "j")
	c.CancelSent("i")
	ij := [][]string{{"i"}, {"j"}}
	c.MatchFound("i", "m5", ij)
	c.MatchFound("j", "m5", ij)
	c.Refused("i", "cancel", "INVALID_STATE", "loading", "m5")
	c.MatchCancelled("i", "m5", "loading_timeout", true, false) // requeued: fine, it was not a dodge
	c.Queued("i", "t-i", true)
	c.MatchCancelled("j", "m5", "loading_timeout", false, false)
	c.CancelSent("i")
	c.Dequeued("i", "cancelled")
	// Quit while queued (matched while gone: k never sees m6), and a
	// quitter while loading.
	connectQueue(c, "k", "l", "n")
	c.Quit("k")
	c.MatchFound("l", "m6", [][]string{{"k"}, {"l"}})
	c.MatchCancelled("l", "m6", "loading_timeout", true, false)
	c.Queued("l", "t-l", true)
	c.CancelSent("l")
	c.Dequeued("l", "cancelled")
	// Banned, dial failure, idle session, draining close while queued.
	c.Connected("o", "idle")
	c.EnqueueSent("o")
	c.Refused("o", "enqueue", "BANNED", "", "")
	c.DialFailed("p", "connection refused")
	c.Connected("q", "idle")
	connectQueue(c, "r")
	c.Closed("r", 1012)
	// n: queue timeout.
	c.Dequeued("n", "timeout")
	// Both members dodge at once: u's cancel lands first, so v is requeued
	// (the ordinary copy, no rid) and v's own cancel then leaves the queue.
	connectQueue(c, "u", "v")
	uv := [][]string{{"u"}, {"v"}}
	c.MatchFound("u", "m7", uv)
	c.MatchFound("v", "m7", uv)
	c.CancelSent("u")
	c.CancelSent("v")
	c.MatchCancelled("u", "m7", "player_left", false, true)
	c.MatchCancelled("v", "m7", "player_left", true, false)
	c.Queued("v", "t-v", true)
	c.Dequeued("v", "cancelled")
	// Malformed sender: every garbage frame answered.
	c.Connected("s", "idle")
	c.GarbageSent("s")
	c.GarbageSent("s")
	c.GarbageAnswered("s")
	c.GarbageAnswered("s")
	expect(t, c, nil)
	b := verdictsByName(c)["every-player-accounted"].Breakdown
	for k, n := range map[string]uint64{"matched": 4, "match cancelled: loading_timeout": 2, "match cancelled: player_left": 2,
		"dequeued: cancelled": 4, "dequeued: timeout": 1, "quit": 1, "enqueue refused: BANNED": 1,
		"dial failed: connection refused": 1, "idle session": 2, "closed by server (code 1012)": 1} {
		if b[k] != n {
			t.Errorf("breakdown[%q] = %d, want %d (all: %v)", k, b[k], n, b)
		}
	}
}

func TestCheckerDoubleMatch(t *testing.T) {
	c := NewChecker()
	connectQueue(c, "a", "b", "x")
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", duel)
	c.MatchFound("a", "m2", [][]string{{"a"}, {"x"}}) // a is still in m1
	c.MatchFound("x", "m2", [][]string{{"a"}, {"x"}})
	expect(t, c, map[string]string{"no-double-match": "match_found while in another match",
		// a and b never finish: they are left loading.
		"every-player-accounted": "left waiting (loading)"})

	c = NewChecker()
	connectQueue(c, "a", "b")
	c.MatchFound("a", "m1", duel)
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", duel)
	c.MatchReady("a", "m1")
	c.MatchReady("b", "m1")
	expect(t, c, map[string]string{"no-double-match": "duplicate match_found"})

	// match_found again for a match that already ended.
	c = NewChecker()
	connectQueue(c, "a", "b")
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", duel)
	c.MatchReady("a", "m1")
	c.MatchReady("b", "m1")
	c.MatchFound("a", "m1", duel)
	expect(t, c, map[string]string{"no-double-match": "duplicate match_found"})
}

func TestCheckerTeams(t *testing.T) {
	c := NewChecker()
	connectQueue(c, "a", "b")
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", [][]string{{"a", "b"}})
	c.MatchReady("a", "m1")
	c.MatchReady("b", "m1")
	expect(t, c, map[string]string{"same-teams": "members saw different teams"})

	c = NewChecker()
	connectQueue(c, "a", "b", "z")
	c.MatchFound("z", "m1", duel) // z is not in the teams it got
	c.MatchCancelled("z", "m1", "player_left", false, false)
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", duel)
	c.MatchCancelled("a", "m1", "player_left", false, false)
	c.MatchCancelled("b", "m1", "player_left", false, false)
	expect(t, c, map[string]string{"same-teams": "receiver not in the teams"})

	// b is connected and queued but never got m1, in which a saw it.
	c = NewChecker()
	connectQueue(c, "a", "b")
	c.MatchFound("a", "m1", duel)
	c.MatchCancelled("a", "m1", "loading_timeout", false, false)
	c.CancelSent("b")
	c.Dequeued("b", "cancelled")
	expect(t, c, map[string]string{"same-teams": "member never got match_found"})

	for name, teams := range map[string][][]string{
		"duplicate": {{"a"}, {"a"}},
		"sizes":     {{"a", "c"}, {"b"}},
		"one team":  {{"a", "b"}},
		"empty":     {{"a"}, {}},
	} {
		c = NewChecker()
		connectQueue(c, "a")
		c.MatchFound("a", "m1", teams)
		c.MatchReady("a", "m1")
		v := verdictsByName(c)["same-teams"]
		if v.Pass || v.ByKind["malformed teams"] == 0 {
			t.Errorf("%s teams %v: %+v", name, teams, v)
		}
	}

	c = NewChecker()
	connectQueue(c, "a", "b")
	c.MatchFound("a", "m1", duel)
	c.MatchFound("b", "m1", duel)
	c.MatchReady("a", "m1")
	c.MatchCancelled("b", "m1", "loading_timeout", false, false)
	expect(t, c, map[string]string{"same-teams": "match both ready and cancelled"})
}

func TestCheckerAccounting(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  func(c *Checker)
		kind string
	}{
		{"left queued", func(c *Checker) { connectQueue(c, "a") }, "left waiting (queued)"},
		{"enqueue unanswered", func(c *Checker) { c.Connected("a", "idle"); c.EnqueueSent("a") }, "left waiting (enqueuing)"},
		{"cancel unanswered", func(c *Checker) { connectQueue(c, "a"); c.CancelSent("a") }, "left waiting (cancelling)"},
		{"requeue never came", func(c *Checker) {
			connectQueue(c, "a")
			c.MatchFound("a", "m1", [][]string{{"a"}, {"x"}})
			c.MatchCancelled("a", "m1", "player_left", true, false)
		}, "left waiting (requeuing)"},
		{"closed while loading", func(c *Checker) {
			connectQueue(c, "a")
			c.MatchFound("a", "m1", [][]string{{"a"}, {"x"}})
			c.Closed("a", 1008)
		}, "disconnected by the server while waiting"},
		{"no close frame while queued", func(c *Checker) { connectQueue(c, "a"); c.Closed("a", -1) }, "disconnected by the server while waiting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChecker()
			tc.seq(c)
			expect(t, c, map[string]string{"every-player-accounted": tc.kind})
		})
	}
	// Closed while idle is explained (reported as an error elsewhere).
	c := NewChecker()
	c.Connected("a", "idle")
	c.Closed("a", 1011)
	expect(t, c, nil)
}

func TestCheckerProtocolOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  func(c *Checker)
		kind string
	}{
		{"match_found before queued", func(c *Checker) {
			c.Connected("a", "idle")
			c.EnqueueSent("a")
			c.MatchFound("a", "m1", [][]string{{"a"}, {"x"}})
			c.MatchReady("a", "m1")
		}, "match_found before the reply to enqueue"},
		{"match_found before requeued queued", func(c *Checker) {
			connectQueue(c, "a")
			c.MatchFound("a", "m1", [][]string{{"a"}, {"x"}})
			c.MatchCancelled("a", "m1", "loading_timeout", true, false)
			c.MatchFound("a", "m2", [][]string{{"a"}, {"y"}})
			c.MatchReady("a", "m2")
		}, "match_found before queued(requeued)"},
		{"match_found after dequeued", func(c *Checker) {
			connectQueue(c, "a")
			c.CancelSent("a")
			c.Dequeued("a", "cancelled")
			c.MatchFound("a", "m1", [][]string{{"a"}, {"x"}})
			c.MatchReady("a", "m1")
		}, "match_found while idle"},
		{"match_ready unknown", func(c *Checker) { c.Connected("a", "idle"); c.MatchReady("a", "m9") }, "match_ready for a match not open"},
		{"match_ready twice", func(c *Checker) {
			connectQueue(c, "a")
			c.MatchFound("a", "m1", [][]string{{"a"}, {"x"}})
			c.MatchReady("a", "m1")
			c.MatchReady("a", "m1")
		}, "match_ready after the match ended"},
		{"cancelled unknown", func(c *Checker) {
			connectQueue(c, "a")
			c.MatchCancelled("a", "m9", "player_left", true, false)
			c.CancelSent("a")
			c.Dequeued("a", "cancelled")
		}, "match_cancelled for a match not open"},
		{"dodger requeued", func(c *Checker) {
			connectQueue(c, "a")
			c.MatchFound("a", "m1", [][]string{{"a"}, {"x"}})
			c.CancelSent("a")
			c.MatchCancelled("a", "m1", "player_left", true, true)
			c.Queued("a", "t-a", true)
			c.CancelSent("a")
			c.Dequeued("a", "cancelled")
		}, "dodger requeued"},
		{"unsolicited queued", func(c *Checker) {
			c.Connected("a", "idle")
			c.Queued("a", "t-a", false)
			c.CancelSent("a")
			c.Dequeued("a", "cancelled")
		}, "queued without an enqueue"},
		{"requeued out of the blue", func(c *Checker) {
			c.Connected("a", "idle")
			c.Queued("a", "t-a", true)
			c.CancelSent("a")
			c.Dequeued("a", "cancelled")
		}, "queued(requeued) without match_cancelled(requeued) before it"},
		{"dequeued while idle", func(c *Checker) { c.Connected("a", "idle"); c.Dequeued("a", "timeout") }, "dequeued while not queued"},
		{"welcome not idle", func(c *Checker) { c.Connected("a", "queued"); c.CancelSent("a"); c.Dequeued("a", "cancelled") }, "welcome of a fresh player is not idle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChecker()
			tc.seq(c)
			expect(t, c, map[string]string{"protocol-order": tc.kind})
		})
	}
}

func TestCheckerGarbage(t *testing.T) {
	c := NewChecker()
	c.Connected("a", "idle")
	c.GarbageSent("a")
	c.GarbageSent("a")
	c.GarbageAnswered("a")
	expect(t, c, map[string]string{"malformed-handled": "garbage frame without a typed reply"})

	c = NewChecker()
	c.Connected("a", "idle")
	c.GarbageSent("a")
	c.GarbageAnswered("a")
	c.Closed("a", 1008)
	expect(t, c, map[string]string{"malformed-handled": "malformed sender disconnected"})
}

func TestVerdictsRepeatable(t *testing.T) {
	c := NewChecker()
	connectQueue(c, "a")
	first := verdictsByName(c)["every-player-accounted"]
	second := verdictsByName(c)["every-player-accounted"]
	if first.Failures != 1 || second.Failures != 1 {
		t.Errorf("failures %d then %d, want 1 both times", first.Failures, second.Failures)
	}
	if !strings.Contains(first.Examples[0], "a last: connected") {
		t.Errorf("example %q", first.Examples[0])
	}
}
