package main

import (
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParsePartyMix(t *testing.T) {
	m, err := ParsePartyMix(" 5=0.05, 1=0.6,2=0.25 ,3=0.1")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != "1=0.6,2=0.25,3=0.1,5=0.05" {
		t.Errorf("String() = %q", got)
	}
	if m.Solo() || !SoloMix.Solo() || !(PartyMix{{1, 0.5}, {2, 0}, {1, 0.5}}).Solo() {
		t.Error("Solo()")
	}
	for _, bad := range []string{"", "1", "0=1", "-2=1", "x=1", "1=0.5,2=0.4", "1=0.5,1=0.5", "2=1.5,1=-0.5", "2=NaN", "1.5=1"} {
		if _, err := ParsePartyMix(bad); err == nil {
			t.Errorf("ParsePartyMix(%q) accepted", bad)
		}
	}
	for _, args := range [][]string{{"--party-mix", "1=0.5"}, {"--party-mix", "2=1", "--party-open", "2"}} {
		if _, err := ParseOptions(args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("ParseOptions(%q) = %v, want a usage error", args, err)
		}
	}
	o, err := ParseOptions([]string{"--party-mix", "1=0.6,2=0.25,3=0.1,5=0.05"}, io.Discard)
	if err != nil || len(o.PartyMix) != 4 || o.PartyOpen != 0.5 {
		t.Errorf("options %+v, %v", o.PartyMix, err)
	}
	if o, _ := ParseOptions(nil, io.Discard); !o.PartyMix.Solo() {
		t.Errorf("default party mix %v, want every player alone", o.PartyMix)
	}
}

// Sizes deals exactly n players, the parties in the mix's proportions.
func TestPartySizes(t *testing.T) {
	m := PartyMix{{1, 0.6}, {2, 0.25}, {3, 0.1}, {5, 0.05}}
	sizes := m.Sizes(3000, rand.New(rand.NewPCG(1, 2)))
	count := map[int]int{}
	total := 0
	for _, s := range sizes {
		count[s]++
		total += s
	}
	if total != 3000 {
		t.Fatalf("sizes sum to %d, want 3000", total)
	}
	// 3000 / 1.65 = 1818 parties (+ the players left over, alone).
	want := map[int]int{1: 1091, 2: 455, 3: 182, 5: 91}
	for s, n := range want {
		if d := count[s] - n; d < -1 || d > 3 {
			t.Errorf("%d parties of %d, want about %d (all: %v)", count[s], s, n, count)
		}
	}
	if got := SoloMix.Sizes(3, nil); len(got) != 3 || got[0] != 1 {
		t.Errorf("solo sizes %v", got)
	}
	// Players that do not fill another party play alone.
	if got := (PartyMix{{5, 1}}).Sizes(7, rand.New(rand.NewPCG(1, 2))); len(got) != 3 || got[0] != 5 || got[1]+got[2] != 2 {
		t.Errorf("sizes of 7 players in fives: %v, want [5 1 1]", got)
	}
}

// A party's members are consecutive players, member i on node i mod N,
// sharing the creator's latencies.
func TestMakeParties(t *testing.T) {
	o, err := ParseOptions([]string{"--nodes", "ws://a:1/ws,ws://b:1/ws", "--players", "100", "--seed", "3",
		"--party-mix", "1=0.2,2=0.4,3=0.4", "--regions", "eu=10:20,us=30:40"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, g := range r.parties {
		for slot, p := range g.members {
			seen++
			if p.party != g || p.slot != slot || p.node != slot%2 {
				t.Fatalf("%s: party slot %d node %d, want slot %d node %d", p.id, p.slot, p.node, slot, slot%2)
			}
			if slot > 0 && (p.idx != g.members[slot-1].idx+1 || p.lat["eu"] != g.members[0].lat["eu"]) {
				t.Fatalf("%s does not follow %s, or has its own latencies", p.id, g.members[slot-1].id)
			}
		}
	}
	if seen+r.solos != 100 || r.solos == 0 || len(r.parties) == 0 {
		t.Fatalf("%d players in %d parties and %d alone", seen, len(r.parties), r.solos)
	}
	open := 0
	for _, g := range r.parties {
		if g.open {
			open++
		}
	}
	if open == 0 || open == len(r.parties) {
		t.Errorf("%d of %d parties open: want both kinds with --party-open 0.5", open, len(r.parties))
	}
	if !strings.HasPrefix(r.players[0].id, o.IDPrefix) {
		t.Error("ids")
	}
}
