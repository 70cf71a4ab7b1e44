package main

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	if err != nil {
		t.Fatal(err)
	}
	want := Mix{Normal: 0.9, Slow: 0.04, NoShow: 0.02, Dodge: 0.02, Quit: 0.01, Malformed: 0.01}
	for b := range numBehaviours {
		if math.Abs(m[b]-want[b]) > 1e-12 {
			t.Errorf("%s = %v, want %v", b, m[b], want[b])
		}
	}
	// Weights are relative.
	m, err = ParseMix(" normal = 3 , dodge=1")
	if err != nil {
		t.Fatal(err)
	}
	if m[Normal] != 0.75 || m[Dodge] != 0.25 || m[Slow] != 0 {
		t.Errorf("normalised mix = %v", m)
	}
	if s := m.String(); s != "normal=0.75,dodge=0.25" {
		t.Errorf("String() = %q", s)
	}
	for _, bad := range []string{"", "normal", "normal=x", "normal=-1", "normal=NaN", "normal=Inf",
		"bogus=1", "normal=1,normal=2", "normal=0,slow=0", "normal=1,,"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) succeeded", bad)
		}
	}
}

func TestMixCountsExact(t *testing.T) {
	m, _ := ParseMix(DefaultMix)
	for _, n := range []int{0, 1, 7, 99, 100, 101, 2000, 12345} {
		c := m.Counts(n)
		sum := 0
		for _, x := range c {
			sum += x
		}
		if sum != n {
			t.Errorf("Counts(%d) sums to %d: %v", n, sum, c)
		}
	}
	c := m.Counts(200)
	if c != [numBehaviours]int{180, 8, 4, 4, 2, 2} {
		t.Errorf("Counts(200) = %v", c)
	}
	// A zero-weight behaviour never gets a player, even by remainder.
	only, _ := ParseMix("normal=1,quit=0")
	if c := only.Counts(3); c[Quit] != 0 || c[Normal] != 3 {
		t.Errorf("Counts with zero weight = %v", c)
	}
	var zero Mix
	if c := zero.Counts(5); c[Normal] != 5 {
		t.Errorf("zero mix Counts = %v", c)
	}
}

func TestMixAssign(t *testing.T) {
	m, _ := ParseMix("normal=0.5,slow=0.25,malformed=0.25")
	a := m.Assign(100, rand.New(rand.NewPCG(1, 2)))
	b := m.Assign(100, rand.New(rand.NewPCG(1, 2)))
	var got [numBehaviours]int
	for i, x := range a {
		got[x]++
		if b[i] != x {
			t.Fatal("Assign is not deterministic for a seed")
		}
	}
	if got[Normal] != 50 || got[Slow] != 25 || got[Malformed] != 25 {
		t.Errorf("Assign counts = %v", got)
	}
	// Shuffled: not all normals first.
	allFirst := true
	for _, x := range a[:50] {
		allFirst = allFirst && x == Normal
	}
	if allFirst {
		t.Error("Assign did not shuffle")
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions([]string{"--nodes", "ws://127.0.0.1:1/ws, ws://127.0.0.1:2/ws", "--players", "10",
		"--rate", "0", "--duration", "3s", "--seed", "5", "--token-secret", "s", "--source-ips", "127.0.0.2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Nodes) != 2 || o.Players != 10 || o.Rate != 0 || o.Duration.Seconds() != 3 || o.Seed != 5 ||
		o.TokenSecret != "s" || len(o.SourceIPs) != 1 || !strings.HasPrefix(o.IDPrefix, "lt") {
		t.Errorf("options = %+v", o)
	}
	if o.Mix[Normal] != 0.9 {
		t.Errorf("default mix = %v", o.Mix)
	}
	for _, args := range [][]string{
		{"--nodes", "http://x/ws"},
		{"--nodes", "ws://127.0.0.1:1/ws?player_id=x"},
		{"--nodes", ""},
		{"--players", "0"},
		{"--rate", "-1"},
		{"--duration", "-1s"},
		{"--mix", "normal=1,teleport=1"},
		{"--id-prefix", "bad prefix"},
		{"--progress", "loud"},
		{"--dial-concurrency", "0"},
		{"--no-such-flag"},
		{"extra"},
	} {
		if _, err := ParseOptions(args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("ParseOptions(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestChooseSourceIPs(t *testing.T) {
	for _, tc := range []struct {
		nodes   string
		players int
		want    int
		note    bool
	}{
		{"ws://127.0.0.1:1/ws", 20000, 0, false},
		{"ws://127.0.0.1:1/ws", 60000, 3, false},
		{"ws://localhost:1/ws,ws://127.0.0.1:2/ws", 60000, 2, false},
		{"ws://10.0.0.1:1/ws", 60000, 0, true},
	} {
		o, err := ParseOptions([]string{"--nodes", tc.nodes, "--players", strconv.Itoa(tc.players)}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		r := &Runner{opt: o}
		ips, err := r.chooseSourceIPs()
		if err != nil || len(ips) != tc.want || (len(r.notes) > 0) != tc.note {
			t.Errorf("%s x %d: ips %v, notes %v, err %v", tc.nodes, tc.players, ips, r.notes, err)
		}
		if tc.want > 0 && ips[tc.want-1] != "127.0.0."+strconv.Itoa(tc.want) {
			t.Errorf("ips %v", ips)
		}
	}
	o, _ := ParseOptions([]string{"--source-ips", "127.0.0.2,nope"}, io.Discard)
	if _, err := (&Runner{opt: o}).chooseSourceIPs(); !errors.Is(err, errUsage) {
		t.Errorf("bad --source-ips: %v", err)
	}
}
