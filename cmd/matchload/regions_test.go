package main

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestParseRegions(t *testing.T) {
	got, err := ParseRegions("eu=20:80, us-east=60:140,asia=150:150")
	want := []RegionRange{{"eu", 20, 80}, {"us-east", 60, 140}, {"asia", 150, 150}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseRegions: got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "eu", "eu=20", "eu=80:20", "eu=-1:5", "eu=1:x", "=1:2", "eu=1:2,eu=3:4", "eu=1:+Inf"} {
		if _, err := ParseRegions(bad); err == nil {
			t.Errorf("ParseRegions(%q): no error", bad)
		}
	}
}

func TestParsePopulations(t *testing.T) {
	got, err := ParsePopulations("eu=20:60,asia=150:250;eu=150:250,asia=20:60")
	want := [][]RegionRange{{{"eu", 20, 60}, {"asia", 150, 250}}, {{"eu", 150, 250}, {"asia", 20, 60}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePopulations: %v, %v", got, err)
	}
	if _, err := ParsePopulations("eu=20:60;"); err == nil {
		t.Error("an empty population was accepted")
	}
}

func TestLatencyRule(t *testing.T) {
	l, err := ParseLatencyRule("60:2:150")
	if err != nil || l != (LatencyRule{60, 2, 150}) {
		t.Fatalf("ParseLatencyRule: %v, %v", l, err)
	}
	for _, tc := range []struct {
		waited time.Duration
		want   float64
	}{{0, 60}, {-time.Second, 60}, {10 * time.Second, 80}, {time.Hour, 150}} {
		if got := l.Limit(tc.waited); got != tc.want {
			t.Errorf("Limit(%s) = %v, want %v", tc.waited, got, tc.want)
		}
	}
	for _, bad := range []string{"60:2", "a:b:c", "60:-1:150"} {
		if _, err := ParseLatencyRule(bad); err == nil {
			t.Errorf("ParseLatencyRule(%q): no error", bad)
		}
	}
}

func TestDrawLatencies(t *testing.T) {
	regions := []RegionRange{{"eu", 20, 80}, {"asia", 150, 150}}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		lat := drawLatencies(rng, regions)
		if lat["eu"] < 20 || lat["eu"] > 80 || lat["asia"] != 150 || len(lat) != 2 {
			t.Fatalf("drawn %v outside the ranges", lat)
		}
	}
}

func TestCheckerMatchRegion(t *testing.T) {
	c := NewChecker()
	lat := map[string]float64{"eu": 40, "asia": 140}
	c.MatchRegion("p1", "m1", "eu", lat, 60)
	c.MatchRegion("p2", "m2", "asia", lat, 100)
	c.MatchRegion("p3", "m3", "us", lat, 150)
	c.MatchRegion("p4", "m4", "", lat, 150)
	var v *Verdict
	for _, x := range c.Verdicts() {
		if x.Name == "region-playable" {
			v = &x
		}
	}
	if v == nil {
		t.Fatal("no region-playable verdict")
	}
	if v.Pass || v.Checked != 4 || v.Failures != 3 {
		t.Errorf("verdict %+v, want 4 checked, 3 failures", v)
	}
	if NewChecker().Verdicts()[len(NewChecker().Verdicts())-1].Name == "region-playable" {
		t.Error("a run without regions has a region-playable verdict")
	}
}

func TestRegionNodes(t *testing.T) {
	regions := []RegionRange{{"eu", 20, 80}, {"asia", 20, 80}}
	got, err := ParseRegionNodes("eu=0, asia=1", [][]RegionRange{regions}, 2)
	if err != nil || !reflect.DeepEqual(got, map[string]int{"eu": 0, "asia": 1}) {
		t.Errorf("ParseRegionNodes: %v, %v", got, err)
	}
	for _, bad := range []string{"eu=0", "eu=0,asia=2", "eu=x,asia=1", "eu=-1,asia=0"} {
		if _, err := ParseRegionNodes(bad, [][]RegionRange{regions}, 2); err == nil {
			t.Errorf("ParseRegionNodes(%q): no error", bad)
		}
	}
	if f := fastest(regions, map[string]float64{"eu": 50, "asia": 30}); f != "asia" {
		t.Errorf("fastest = %s, want asia", f)
	}
	if f := fastest(regions, map[string]float64{"eu": 30, "asia": 30}); f != "eu" {
		t.Errorf("fastest on a tie = %s, want eu (the first)", f)
	}
}
