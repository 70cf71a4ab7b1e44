package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

func fakeOptions(t *testing.T, url string, mix string, players int, duration time.Duration) Options {
	t.Helper()
	o, err := ParseOptions([]string{"--nodes", url, "--players", strconv.Itoa(players), "--rate", "0",
		"--duration", duration.String(), "--mix", mix, "--slow-delay", "30ms", "--grace", "3s", "--settle", "300ms",
		"--seed", "42", "--progress", "off", "--dial-concurrency", "16"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func runFake(t *testing.T, f *fake, mix string, players int, duration time.Duration, mods ...func(*Options)) *Report {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if f.tick > 0 {
		t.Cleanup(f.runTicks())
	}
	o := fakeOptions(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", mix, players, duration)
	for _, mod := range mods {
		mod(&o)
	}
	r, err := NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r.Run(ctx, nil, &Progress{mode: "off"})
	rep := r.Report("test", nil)
	var sb strings.Builder
	rep.WriteText(&sb)
	t.Log("\n" + sb.String())
	return rep
}

func TestFakeServerAllBehaviours(t *testing.T) {
	f := &fake{deadline: 300 * time.Millisecond}
	rep := runFake(t, f, "normal=0.5,slow=0.1,noshow=0.1,dodge=0.1,quit=0.1,malformed=0.1", 60, time.Second)
	if !rep.Pass {
		t.Fatal("invariants failed")
	}
	if rep.Conns.Connected != 60 || rep.Throughput.Matched == 0 || rep.Latency["enqueue_to_match_found"].Count == 0 ||
		rep.Latency["match_found_to_match_ready"].Count == 0 {
		t.Errorf("report %+v %+v", rep.Conns, rep.Throughput)
	}
	b := rep.Behaviours
	if b["quit"].Quit != 6 || b["malformed"].Lost != 0 || b["dodge"].Cancelled == 0 || b["noshow"].Matched != 0 || b["slow"].Matched == 0 {
		t.Errorf("behaviours %+v", b)
	}
	if rep.Errors.GarbageSent == 0 || rep.Errors.Unexpected != 0 {
		t.Errorf("errors %+v", rep.Errors)
	}
	if rep.Throughput.Matches.Cancelled[protocol.ReasonPlayerLeft] == 0 || rep.Throughput.Matches.Cancelled[protocol.ReasonLoadingTimeout] == 0 {
		t.Errorf("matches %+v", rep.Throughput.Matches)
	}
}

func TestFakeServerOneMatchEach(t *testing.T) {
	f := &fake{deadline: 300 * time.Millisecond}
	rep := runFake(t, f, "normal=1", 40, 0)
	if !rep.Pass || rep.Throughput.Matched != 40 || rep.EndReason != "every player played its match" {
		t.Fatalf("pass=%v matched=%d end=%q", rep.Pass, rep.Throughput.Matched, rep.EndReason)
	}
}

func TestFakeServerDoubleFoundFails(t *testing.T) {
	f := &fake{deadline: 300 * time.Millisecond, dupFound: true}
	rep := runFake(t, f, "normal=1", 10, 0)
	if rep.Pass {
		t.Fatal("duplicate match_found went unnoticed")
	}
	for _, v := range rep.Invariants {
		if v.Name == "no-double-match" && v.ByKind["duplicate match_found"] == 0 {
			t.Errorf("no-double-match: %+v", v)
		}
	}
}

func TestFakeServerIdle(t *testing.T) {
	f := &fake{deadline: time.Second}
	srv := httptest.NewServer(f)
	defer srv.Close()
	o := fakeOptions(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", "normal=1", 25, 200*time.Millisecond)
	o.Idle = true
	o.MaxConnsPerSec = 100 // burst 5: 25 dials take >= 0.2s
	r, err := NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	r.Run(context.Background(), nil, &Progress{mode: "off"})
	rep := r.Report("test", nil)
	if !rep.Pass || rep.Conns.PeakConnected != 25 || rep.Throughput.Matched != 0 || rep.Conns.FramesOut != 0 {
		t.Fatalf("pass=%v conns=%+v", rep.Pass, rep.Conns)
	}
	if rep.Phases.RampS < 0.18 {
		t.Errorf("ramp took %.3fs; --max-conns-per-sec 100 should stretch 25 dials past 0.2s", rep.Phases.RampS)
	}
}

func TestDialFailureReported(t *testing.T) {
	// Nothing listens on this port (the listener is closed at once).
	srv := httptest.NewServer(http.NotFoundHandler())
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	srv.Close()
	o := fakeOptions(t, url, "normal=1", 3, 0)
	r, err := NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	r.Run(context.Background(), nil, &Progress{mode: "off"})
	rep := r.Report("test", nil)
	if rep.Conns.Connected != 0 || rep.Conns.DialFailures["connection refused"] != 3 {
		t.Fatalf("conns %+v", rep.Conns)
	}
}

// TestFakeServerThink: with --think players pause between matches, so the
// same players over the same time play far fewer matches, and the players
// caught pausing when the run ends are accounted for.
func TestFakeServerThink(t *testing.T) {
	busy := runFake(t, &fake{deadline: 300 * time.Millisecond}, "normal=1", 20, time.Second)
	thinking := runFake(t, &fake{deadline: 300 * time.Millisecond}, "normal=1", 20, time.Second,
		func(o *Options) { o.Think = 400 * time.Millisecond })
	if !busy.Pass || !thinking.Pass {
		t.Fatal("invariants failed")
	}
	// Over one second a thinker fits a few matches (each pause averages
	// 400 ms); without pauses each player plays many.
	if thinking.Throughput.Matched == 0 || thinking.Throughput.Matched*3 > busy.Throughput.Matched {
		t.Errorf("matched %d players with --think 400ms, %d without: want a few, and far fewer",
			thinking.Throughput.Matched, busy.Throughput.Matched)
	}
	t.Logf("matched %d with --think, %d without", thinking.Throughput.Matched, busy.Throughput.Matched)
}

// The silence watchdog fails the run for a player whose session stops
// answering while it is queued, naming the player and its state; players
// that are answered (a sync's reply counts) never trip it.
func TestSilenceWatchdog(t *testing.T) {
	muted := func(id string) bool { return strings.HasSuffix(id, "-3") || id == "3" }
	f := &fake{deadline: 300 * time.Millisecond, mute: muted}
	rep := runFake(t, f, "normal=1", 6, 0, func(o *Options) {
		o.Silence = time.Second
		o.IDPrefix = "w-"
	})
	var v *Verdict
	for i := range rep.Invariants {
		if rep.Invariants[i].Name == "nobody-silent" {
			v = &rep.Invariants[i]
		}
	}
	if v == nil {
		t.Fatalf("no nobody-silent verdict with --silence: %+v", rep.Invariants)
	}
	// (The muted player may be caught queued, or cancelling at the end of
	// the run: silent either way.)
	if v.Pass || v.Failures != 1 || len(v.Subjects) != 1 || v.Subjects[0] != "w-3" || !strings.Contains(v.Examples[0], "heard nothing") {
		t.Fatalf("nobody-silent %+v, want exactly w-3 reported silent", v)
	}
	if rep.Pass {
		t.Fatal("the run passed with a silent player")
	}

	// The same run with every session answering passes the watchdog, though
	// players wait in the queue longer than --silence/2 (syncs answer).
	f = &fake{deadline: 300 * time.Millisecond}
	rep = runFake(t, f, "normal=0.5,slow=0.2,noshow=0.1,dodge=0.2", 20, 2*time.Second, func(o *Options) { o.Silence = 400 * time.Millisecond })
	for _, v := range rep.Invariants {
		if v.Name == "nobody-silent" && (!v.Pass || v.Checked == 0) {
			t.Fatalf("nobody-silent %+v on a server that answers everyone", v)
		}
	}
}

// Every client state has its own label: the progress line and the report
// name states by them.
func TestStateLabels(t *testing.T) {
	seen := map[string]dstate{}
	for s := dsNone; int(s) < len(dstateNames); s++ {
		name := s.String()
		if name == "" {
			t.Fatalf("state %d has no label", s)
		}
		if o, dup := seen[name]; dup {
			t.Fatalf("states %d and %d share the label %q", o, s, name)
		}
		seen[name] = s
	}
	if dsThinking.String() != "thinking" || dsLoading.String() != "loading" || dsGone.String() != "gone" {
		t.Fatalf("labels: thinking=%q loading=%q gone=%q", dsThinking, dsLoading, dsGone)
	}
}
