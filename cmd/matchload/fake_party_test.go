package main

import (
	"testing"
	"time"
)

func partyVerdicts(rep *Report) map[string]Verdict {
	out := map[string]Verdict{}
	for _, v := range rep.Invariants {
		out[v.Name] = v
	}
	return out
}

// Parties against the fake: formed (open and invite-only), queued by their
// leader, played with every behaviour per member; quitters are kicked by
// their leader, no-shows' bans come back as BANNED (the sanction ladder,
// not an unexpected error), and every invariant, the party ones included,
// holds.
func TestFakeServerParties(t *testing.T) {
	f := &fake{deadline: 300 * time.Millisecond, teamSize: 3, tick: 20 * time.Millisecond, banFor: 150 * time.Millisecond}
	rep := runFake(t, f, "normal=0.6,slow=0.1,noshow=0.1,dodge=0.1,quit=0.1", 60, 2*time.Second, func(o *Options) {
		o.PartyMix = PartyMix{{1, 0.4}, {2, 0.3}, {3, 0.3}}
	})
	if !rep.Pass {
		t.Fatal("invariants failed")
	}
	ps := rep.Parties
	if ps == nil || ps.BySize["2"] == 0 || ps.BySize["3"] == 0 || ps.Solos == 0 {
		t.Fatalf("parties %+v", ps)
	}
	if ps.Kicks == 0 {
		t.Errorf("no quitter was kicked by its leader: %+v", ps)
	}
	v := partyVerdicts(rep)
	for _, name := range []string{"party-one-team", "party-matched-together", "party-requeued-whole", "party-same-outcome"} {
		if v[name].Checked == 0 {
			t.Errorf("%s checked nothing: %+v", name, v[name])
		}
	}
	if rep.Errors.Banned == 0 || rep.Errors.Unexpected != 0 {
		t.Errorf("errors %+v: want BANNED replies, all expected", rep.Errors)
	}
	if rep.Throughput.Matched == 0 {
		t.Error("nobody was matched")
	}
}

// A server that deals a party's members to both teams fails the run.
func TestFakeServerSplitPartyFails(t *testing.T) {
	f := &fake{deadline: 300 * time.Millisecond, teamSize: 2, splitParties: true}
	rep := runFake(t, f, "normal=1", 16, 0, func(o *Options) { o.PartyMix = PartyMix{{2, 1}} })
	if rep.Pass {
		t.Fatal("a split party went unnoticed")
	}
	if v := partyVerdicts(rep)["party-one-team"]; v.Pass || v.ByKind["party split across teams"] == 0 {
		t.Fatalf("party-one-team %+v", v)
	}
}

// At the end of a run queued players wait for the matches still forming
// and cancel only once none can: no cancel crosses a match, so a run of
// well-behaved players charges no dodge.
func TestFakeServerCleanEnd(t *testing.T) {
	f := &fake{deadline: 300 * time.Millisecond, tick: 20 * time.Millisecond}
	rep := runFake(t, f, "normal=1", 41, time.Second)
	if !rep.Pass {
		t.Fatal("invariants failed")
	}
	f.mu.Lock()
	dodges := f.dodges
	f.mu.Unlock()
	if dodges != 0 || len(rep.Throughput.Matches.Cancelled) != 0 || rep.Errors.Total != 0 {
		t.Fatalf("%d dodges, cancelled %v, errors %+v: want a clean end", dodges, rep.Throughput.Matches.Cancelled, rep.Errors)
	}
	// 41 players, duels: at most one is left over (none when the run
	// ends with everyone in a room), and cancels.
	if rep.Errors.Dequeued["cancelled"] > 1 {
		t.Errorf("dequeued %v, want at most the one player left over cancelled", rep.Errors.Dequeued)
	}
}
