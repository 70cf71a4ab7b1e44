package match

import (
	"fmt"
	"testing"
)

func TestFormParties(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		pool   []Ticket
		want   [][][]string
	}{
		{
			name:   "5v5: a trio and a duo face a quartet and a solo player",
			params: five,
			pool: []Ticket{
				party("trio", 9, 1000, 1010, 1020), party("duo", 8, 1000, 1020),
				party("quartet", 7, 1005, 1010, 1010, 1015), tk("solo", 1010, 6),
			},
			// Snake over units by strength: quartet (4040) to team 0, trio
			// (3030) to team 1, duo (2020) to team 1, solo to team 0:
			// 5050 against 5050.
			want: [][][]string{{{"quartet", "solo"}, {"trio", "duo"}}},
		},
		{
			name:   "5v5: a trio and a duo face five solo players",
			params: five,
			// 3300 + 2000 = 5 x 1060. The snake deals trio + 2 solo players
			// against duo + 3 (5420 against 5180); exchanging the duo for
			// two solo players evens it.
			pool: []Ticket{
				party("trio", 9, 1100, 1100, 1100), party("duo", 8, 1000, 1000),
				tk("a", 1060, 7), tk("b", 1060, 6), tk("c", 1060, 5), tk("d", 1060, 4), tk("e", 1060, 3),
			},
			want: [][][]string{{{"trio", "duo"}, {"a", "b", "c", "d", "e"}}},
		},
		{
			name:   "a party larger than a team never matches",
			params: twos,
			pool:   []Ticket{party("trio", 9, 1000, 1000, 1000), tk("a", 1000, 1)},
			want:   nil,
		},
		{
			name:   "3v3: the anchor trio takes the closest units that fill the seats",
			params: Params{Teams: 2, TeamSize: 3, InitialWindow: 100, WidenPerSecond: 20, MaxWindow: 1000},
			// Both 3 | 2+1 and 3 | 3 fill 3v3; the other trio is closest.
			pool: []Ticket{party("t1", 9, 1000, 1000, 1000), party("duo", 8, 1003, 1003), tk("s", 1004, 7), party("t2", 6, 1001, 1001, 1001)},
			want: [][][]string{{{"t2"}, {"t1"}}},
		},
		{
			name:   "a duo with a single seat left is passed over for a solo player",
			params: twos,
			// 2v2: the anchor duo takes the duo (4 seats) only if nothing
			// closer fits; here solo players are closer, but a solo + duo
			// leaves one seat, so the next solo completes it.
			pool: []Ticket{party("anchor", 9, 1000, 1000), tk("s1", 1001, 8), party("duo", 7, 1002, 1002), tk("s2", 1003, 6)},
			want: [][][]string{{{"anchor"}, {"s2", "s1"}}},
		},
		{
			name:   "a party is placed at its mean",
			params: twos,
			// 600 and 1800 average 1200: within 100 of 1150 and 1250, though
			// neither member is.
			pool: []Ticket{party("duo", 9, 600, 1800), tk("a", 1150, 8), tk("b", 1250, 7)},
			want: [][][]string{{{"duo"}, {"b", "a"}}},
		},
		{
			name:   "a whole party fills a one-team mode",
			params: Params{Teams: 1, TeamSize: 4, InitialWindow: 0, MaxWindow: 0},
			pool:   []Ticket{party("squad", 1, 900, 1000, 1100, 1200)},
			want:   [][][]string{{{"squad"}}},
		},
		{
			name:   "an exchange repairs what the snake deals badly",
			params: Params{Teams: 2, TeamSize: 4, InitialWindow: 5000, MaxWindow: 5000},
			// Snake: d1 (3329) and d2 (2504) to team 0, the four solo
			// players to team 1 (5833 against 8989). Exchanges end at the
			// best seating, 7391 against 7431: 2 + 1 + 1 on each side.
			pool: []Ticket{
				party("d1", 9, 1664, 1665), party("d2", 8, 1252, 1252),
				tk("s1", 2744, 7), tk("s2", 2543, 6), tk("s3", 2143, 5), tk("s4", 1559, 4),
			},
			want: [][][]string{{{"s1", "d2", "s3"}, {"d1", "s2", "s4"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Form(tt.pool, tt.params, now)
			if fmt.Sprint(ids(tt.pool, got)) != fmt.Sprint(tt.want) {
				t.Errorf("got groups %v, want %v", ids(tt.pool, got), tt.want)
			}
		})
	}
}
