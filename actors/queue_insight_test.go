package actors

import (
	"math"
	"slices"
	"testing"

	"github.com/matchd/matchd/redisx"
)

// compatibleMates counts the tickets that could share a match with one:
// each within the other's window, the narrower window deciding.
func TestCompatibleMates(t *testing.T) {
	mk := func(ratings, windows []float64) []judged {
		js := make([]judged, len(ratings))
		for i := range ratings {
			js[i] = judged{t: redisx.Ticket{Rating: ratings[i]}, win: windows[i]}
		}
		slices.SortFunc(js, func(a, b judged) int { return int(a.t.Rating - b.t.Rating) })
		return js
	}
	tests := []struct {
		name             string
		ratings, windows []float64
		i, need, want    int
	}{
		{"alone", []float64{1000}, []float64{100}, 0, 1, 0},
		{"mate within both windows", []float64{1000, 1050}, []float64{100, 100}, 0, 1, 1},
		{"mate beyond my window", []float64{1000, 1150}, []float64{100, 500}, 0, 1, 0},
		{"within mine, beyond the mate's", []float64{1000, 1080}, []float64{100, 50}, 0, 1, 0},
		{"counts on both sides up to need", []float64{900, 950, 1000, 1050, 1100}, []float64{200, 200, 200, 200, 200}, 2, 3, 3},
		{"a narrow neighbour does not hide a wide one beyond", []float64{1000, 1010, 1020}, []float64{100, 5, 100}, 0, 1, 1},
		{"non-finite rating never matches", []float64{math.NaN(), 1000}, []float64{100, 100}, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := mk(tt.ratings, tt.windows)
			i := slices.IndexFunc(js, func(j judged) bool {
				return j.t.Rating == tt.ratings[tt.i] || (math.IsNaN(tt.ratings[tt.i]) && math.IsNaN(j.t.Rating))
			})
			if got := compatibleMates(js, i, tt.need); got != tt.want {
				t.Errorf("got %d compatible mates, want %d", got, tt.want)
			}
		})
	}
}
