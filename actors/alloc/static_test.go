package alloc

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/matchd/matchd/config"
)

// A match of a region goes to that region's servers and to those with no
// region, round-robin; a match of a mode without regions to any server.
func TestStaticByRegion(t *testing.T) {
	s, err := NewStatic([]config.GameServer{{Addr: "eu:1", Region: "eu"}, {Addr: "any:1"}, {Addr: "asia:1", Region: "asia"}})
	if err != nil {
		t.Fatal(err)
	}
	pick := func(region string, n int) []string {
		var out []string
		for range n {
			b, err := s.Allocate(t.Context(), Request{MatchID: "m", Region: region})
			if err != nil {
				t.Fatalf("Allocate(%q): %v", region, err)
			}
			var v struct{ Addr string }
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v.Addr)
		}
		return out
	}
	for _, tc := range []struct {
		region string
		want   []string
	}{
		{"eu", []string{"eu:1", "any:1", "eu:1", "any:1"}},
		{"asia", []string{"any:1", "asia:1", "any:1"}}, // config order
		{"us", []string{"any:1", "any:1"}},
		{"", []string{"eu:1", "any:1", "asia:1", "eu:1"}},
	} {
		if got := pick(tc.region, len(tc.want)); !slices.Equal(got, tc.want) {
			t.Errorf("region %q: got %v, want %v", tc.region, got, tc.want)
		}
	}
	only, _ := NewStatic([]config.GameServer{{Addr: "eu:1", Region: "eu"}})
	if _, err := only.Allocate(t.Context(), Request{MatchID: "m", Region: "asia"}); err == nil {
		t.Error("a region without a server got one")
	}
}
