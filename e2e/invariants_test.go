package e2e

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/matchd/matchd/gateway/protocol"
)

// MatchSummary is what the invariant checker learnt from the clients'
// frames.
type MatchSummary struct {
	// Found maps match_id to the teams its members were sent.
	Found map[string][][]string
	// ModeOf maps match_id to its mode.
	ModeOf map[string]string
	// Started is the set of match_ids at least one member got match_ready
	// for.
	Started map[string]bool
	// PlayedIn maps each player to the started matches it is a member of.
	PlayedIn map[string][]string
}

// CheckOptions tunes CheckInvariants.
type CheckOptions struct {
	// EveryonePlays requires every player to end in exactly one started
	// match (runs where every client loads every match it is offered).
	EveryonePlays bool
}

func teamsKey(teams [][]string) string {
	parts := make([]string, len(teams))
	for i, tm := range teams {
		parts[i] = strings.Join(tm, ",")
	}
	return strings.Join(parts, "|")
}

// CheckInvariants checks, over every frame every client recorded (several
// clients may be one player, e.g. after a reconnect):
//   - every member of a match saw the same match_id, mode and teams in
//     match_found, and the teams name distinct players;
//   - each player got match_found at most once per match_id (per
//     connection) and match_ready at most once per match_id;
//   - a player who got match_found or match_ready for a match is one of its
//     members;
//   - no player is a member of two matches that both reached match_ready;
//   - with EveryonePlays, each player is in exactly one started match, and
//     every member of a started match got match_ready.
func CheckInvariants(t testing.TB, clients []*Client, o CheckOptions) MatchSummary {
	t.Helper()
	s := MatchSummary{Found: map[string][][]string{}, ModeOf: map[string]string{}, Started: map[string]bool{},
		PlayedIn: map[string][]string{}}
	players := map[string]bool{}
	readyBy := map[string]map[string]int{} // match -> player -> match_ready count
	var errs []string
	fail := func(format string, args ...any) {
		if len(errs) < 50 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	for _, c := range clients {
		players[c.Player] = true
		foundHere := map[string]int{}
		for _, f := range c.Frames() {
			switch f.Type() {
			case protocol.TypeMatchFound:
				id := f.Str("match_id")
				foundHere[id]++
				if foundHere[id] == 2 {
					fail("%s got match_found for %s twice on one connection", c.Player, id)
				}
				teams := f.Teams()
				if prev, ok := s.Found[id]; ok {
					if teamsKey(prev) != teamsKey(teams) {
						fail("match %s: %s saw teams %v, another member saw %v", id, c.Player, teams, prev)
					}
					if s.ModeOf[id] != f.Str("mode") {
						fail("match %s: %s saw mode %q, another member saw %q", id, c.Player, f.Str("mode"), s.ModeOf[id])
					}
				} else {
					s.Found[id] = teams
					s.ModeOf[id] = f.Str("mode")
					seen := map[string]bool{}
					for _, tm := range teams {
						for _, p := range tm {
							if seen[p] {
								fail("match %s: player %s twice in teams %v", id, p, teams)
							}
							seen[p] = true
						}
					}
				}
				if !slices.Contains(slices.Concat(teams...), c.Player) {
					fail("%s got match_found for %s whose teams %v do not include it", c.Player, id, teams)
				}
			case protocol.TypeMatchReady:
				id := f.Str("match_id")
				s.Started[id] = true
				if readyBy[id] == nil {
					readyBy[id] = map[string]int{}
				}
				readyBy[id][c.Player]++
				if readyBy[id][c.Player] == 2 {
					fail("%s got match_ready for %s twice", c.Player, id)
				}
				if !f.Has("server") {
					fail("%s: match_ready without a server field: %s", c.Player, f)
				}
			}
		}
	}
	for id := range s.Started {
		teams, ok := s.Found[id]
		if !ok {
			fail("match %s reached match_ready but no member got match_found", id)
			continue
		}
		members := slices.Concat(teams...)
		for p := range readyBy[id] {
			if !slices.Contains(members, p) {
				fail("%s got match_ready for %s but is not a member (%v)", p, id, teams)
			}
		}
		for _, p := range members {
			s.PlayedIn[p] = append(s.PlayedIn[p], id)
			if o.EveryonePlays && readyBy[id][p] == 0 && players[p] {
				fail("match %s started but member %s never got match_ready", id, p)
			}
		}
	}
	for p, ms := range s.PlayedIn {
		if len(ms) > 1 {
			fail("player %s is in %d started matches: %v", p, len(ms), ms)
		}
	}
	if o.EveryonePlays {
		var missing []string
		for p := range players {
			if len(s.PlayedIn[p]) == 0 {
				missing = append(missing, p)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			fail("%d players never reached match_ready: %v", len(missing), missing)
		}
	}
	if len(errs) > 0 {
		t.Errorf("invariants violated:\n  %s", strings.Join(errs, "\n  "))
	}
	return s
}
