package redisx_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

func TestClaimForms(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "duel", c.Keys
		tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4")
		l := lease(t, c, mode, time.Minute)

		before := redisTime(t, c)
		cr, err := c.Claim(ctx, mode, l, claimArgs, []redisx.ClaimMatch{
			cm("m1", tks["p1"], tks["p2"]),
			cm("m2", tks["p3"], tks["p4"]),
		})
		after := redisTime(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true}; !slices.Equal(cr.Formed, want) {
			t.Fatalf("Claim: got %v, want %v", cr.Formed, want)
		}
		// The deadline is Redis's clock at the claim plus the loading
		// timeout; the rooms were created at that clock reading.
		deadline := cr.DeadlineMs
		created := deadline - loadingTimeout.Milliseconds()
		if !inWindow(created, before, after) {
			t.Errorf("Claim deadline %d: minus the loading timeout %d, want Redis's clock during the call, in [%d, %d]", deadline, created, before, after)
		}

		// The queue is empty, and its keys with it.
		for _, key := range []string{k.Queue(mode), k.Tickets(mode), k.Waits(mode)} {
			if exists(t, c, key) {
				t.Errorf("key %s exists after every ticket was claimed", key)
			}
		}
		for _, tc := range []struct {
			match   string
			players []string
		}{{"m1", []string{"p1", "p2"}}, {"m2", []string{"p3", "p4"}}} {
			room := k.Room(mode, tc.match)
			h := hgetall(t, c, room)
			want := map[string]string{
				"state":    "loading",
				"owner":    owner,
				"deadline": itoa(deadline),
				"mode":     mode,
				"match":    tc.match,
				"teams":    fmt.Sprintf(`[[%q],[%q]]`, tc.players[0], tc.players[1]),
				"members":  tc.players[0] + "," + tc.players[1],
				"created":  itoa(created),
			}
			for _, p := range tc.players {
				want["i:"+p] = tks[p].ID
				want["t:"+p] = ticketJSON(t, tks[p])
			}
			for f, v := range want {
				if h[f] != v {
					t.Errorf("room %s field %s: got %q, want %q", tc.match, f, h[f], v)
				}
			}
			for _, p := range tc.players {
				s, err := strconv.ParseFloat(h["s:"+p], 64)
				if err != nil || int64(s) != tks[p].QueuedAtMs {
					t.Errorf("room %s field s:%s: got %q, want %d", tc.match, p, h["s:"+p], tks[p].QueuedAtMs)
				}
				if e, _ := c.PlayerEntry(ctx, mode, p); e != entry(redisx.EntryInRoom, tc.match) {
					t.Errorf("PlayerEntry(%s): got %+v, want m:%s", p, e, tc.match)
				}
			}
			if len(h) != len(want)+len(tc.players) {
				t.Errorf("room %s: got %d fields, want %d: %v", tc.match, len(h), len(want)+len(tc.players), h)
			}
			if ttl := pttl(t, c, room); ttl <= 0 || ttl > roomTTL.Milliseconds() {
				t.Errorf("room %s PTTL: got %d, want in (0, %d]", tc.match, ttl, roomTTL.Milliseconds())
			}
			if s, ok := zscore(t, c, k.Rooms(mode), tc.match); !ok || int64(s) != deadline {
				t.Errorf("ZSCORE rooms %s: got %v (present %v), want %d", tc.match, int64(s), ok, deadline)
			}
			if o, _ := hget(t, c, k.Owners(mode), tc.match); o != owner {
				t.Errorf("HGET own %s: got %q, want %q", tc.match, o, owner)
			}

			// The typed reader sees the same room.
			r, ok, err := c.Room(ctx, mode, tc.match)
			if err != nil || !ok {
				t.Fatalf("Room(%s): got ok %v, err %v", tc.match, ok, err)
			}
			if r.MatchID != tc.match || r.Mode != mode || r.State != redisx.RoomLoading || r.Owner != owner ||
				r.DeadlineMs != deadline || r.CreatedMs != created ||
				!slices.Equal(r.Members, tc.players) || len(r.Ready) != 0 {
				t.Errorf("Room(%s): got %+v", tc.match, r)
			}
			if want := [][]string{{tc.players[0]}, {tc.players[1]}}; fmt.Sprint(r.Teams) != fmt.Sprint(want) {
				t.Errorf("Room(%s).Teams: got %v, want %v", tc.match, r.Teams, want)
			}
			for _, p := range tc.players {
				if !reflect.DeepEqual(r.Tickets[p], tks[p]) {
					t.Errorf("Room(%s).Tickets[%s]: got %+v, want %+v", tc.match, p, r.Tickets[p], tks[p])
				}
			}
		}
		if _, ok, err := c.Room(ctx, mode, "nope"); err != nil || ok {
			t.Errorf("Room(nope): got ok %v, err %v; want not found", ok, err)
		}
	})
}

// A claim under a lease that is no longer current forms nothing and changes
// nothing, whichever way the lease was lost.
func TestClaimLeaseLost(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		for _, tc := range []struct {
			name string
			// lose returns the stale lease to claim with.
			lose func(t *testing.T, mode string) redisx.Lease
		}{
			{"expired", func(t *testing.T, mode string) redisx.Lease {
				l := lease(t, c, mode, 150*time.Millisecond)
				waitGone(t, c, c.Keys.Lock(mode))
				return l
			}},
			{"stolen", func(t *testing.T, mode string) redisx.Lease {
				l := lease(t, c, mode, 150*time.Millisecond)
				waitGone(t, c, c.Keys.Lock(mode))
				if thief := lease(t, c, mode, time.Minute); thief.Fence <= l.Fence {
					t.Fatalf("thief's fence: got %d, want > %d", thief.Fence, l.Fence)
				}
				return l
			}},
			{"stolen_fence_reused", func(t *testing.T, mode string) redisx.Lease {
				// The thief's token with the old holder's fence.
				l := lease(t, c, mode, 150*time.Millisecond)
				waitGone(t, c, c.Keys.Lock(mode))
				thief := lease(t, c, mode, time.Minute)
				return redisx.Lease{Token: thief.Token, Fence: l.Fence}
			}},
			{"old_fence", func(t *testing.T, mode string) redisx.Lease {
				l := lease(t, c, mode, time.Minute)
				if ok, _ := c.ReleaseLock(t.Context(), mode, l.Token); !ok {
					t.Fatal("release failed")
				}
				f, _ := c.AcquireLock(t.Context(), mode, l.Token, time.Minute)
				if f != l.Fence+1 {
					t.Fatalf("re-acquired fence: got %d, want %d", f, l.Fence+1)
				}
				return l
			}},
			{"never_held", func(t *testing.T, mode string) redisx.Lease {
				return redisx.Lease{Token: token(), Fence: 1}
			}},
			{"released", func(t *testing.T, mode string) redisx.Lease {
				l := lease(t, c, mode, time.Minute)
				if ok, _ := c.ReleaseLock(t.Context(), mode, l.Token); !ok {
					t.Fatal("release failed")
				}
				return l
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				mode := tc.name
				tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4")
				stale := tc.lose(t, mode)
				before := dump(t, c, mode)
				cr, err := c.Claim(t.Context(), mode, stale, claimArgs, []redisx.ClaimMatch{
					cm("m1", tks["p1"], tks["p2"]),
					cm("m2", tks["p3"], tks["p4"]),
				})
				if !errors.Is(err, redisx.ErrLeaseLost) || cr.Formed != nil || cr.DeadlineMs != 0 {
					t.Fatalf("Claim with a stale lease: got (%+v, %v), want (nothing, ErrLeaseLost)", cr, err)
				}
				sameDump(t, before, dump(t, c, mode))
			})
		}

		// The current lease still works after the old fence was refused.
		t.Run("current_after_old", func(t *testing.T) {
			t.Parallel()
			mode := "current"
			tks := enqueueAll(t, c, mode, "p1", "p2")
			old := lease(t, c, mode, time.Minute)
			_, _ = c.ReleaseLock(t.Context(), mode, old.Token)
			cur := lease(t, c, mode, time.Minute)
			if _, err := c.Claim(t.Context(), mode, old, claimArgs, []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"])}); !errors.Is(err, redisx.ErrLeaseLost) {
				t.Fatalf("Claim with the old lease: got %v, want ErrLeaseLost", err)
			}
			cr, err := c.Claim(t.Context(), mode, cur, claimArgs, []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"])})
			if err != nil || !slices.Equal(cr.Formed, []bool{true}) {
				t.Fatalf("Claim with the current lease: got (%+v, %v), want [true]", cr, err)
			}
		})
	})
}

// A match with a ticket that left the queue is skipped alone: its other
// tickets stay queued, the rest of the batch forms.
func TestClaimSkips(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		for _, tc := range []struct {
			name string
			// prepare runs after all six players are queued and returns the
			// batch to claim.
			prepare func(t *testing.T, mode string, l redisx.Lease, tks map[string]redisx.Ticket) []redisx.ClaimMatch
			want    []bool
			// queued are the players that must still be queued afterwards.
			queued []string
		}{
			{"removed", func(t *testing.T, mode string, _ redisx.Lease, tks map[string]redisx.Ticket) []redisx.ClaimMatch {
				if r, err := c.RemoveTicket(t.Context(), mode, "p2", "", "cancelled", outcomeTTL); err != nil || !r.Removed {
					t.Fatal("remove p2 failed")
				}
				return []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"]), cm("m3", tks["p5"], tks["p6"])}
			}, []bool{false, true, true}, []string{"p1"}},

			{"claimed_before", func(t *testing.T, mode string, l redisx.Lease, tks map[string]redisx.Ticket) []redisx.ClaimMatch {
				cr, err := c.Claim(t.Context(), mode, l, claimArgs, []redisx.ClaimMatch{cm("m0", tks["p4"], tks["p5"])})
				if err != nil || !cr.Formed[0] {
					t.Fatalf("first claim: %+v %v", cr, err)
				}
				return []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"]), cm("m3", tks["p6"], tks["p3"])}
			}, []bool{true, false, true}, nil},

			{"twice_in_one_batch", func(t *testing.T, mode string, _ redisx.Lease, tks map[string]redisx.Ticket) []redisx.ClaimMatch {
				return []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p2"], tks["p3"]), cm("m3", tks["p5"], tks["p6"])}
			}, []bool{true, false, true}, []string{"p3", "p4"}},

			{"ticket_replaced", func(t *testing.T, mode string, _ redisx.Lease, tks map[string]redisx.Ticket) []redisx.ClaimMatch {
				// The matcher saw p1's old ticket; p1 cancelled and queued again since.
				if r, err := c.RemoveTicket(t.Context(), mode, "p1", "", "cancelled", outcomeTTL); err != nil || !r.Removed {
					t.Fatal("remove p1 failed")
				}
				fresh := ticket(mode, "p1", t0+1000)
				fresh.ID = "tk-p1-again"
				enqueue(t, c, fresh)
				return []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"]), cm("m3", tks["p5"], tks["p6"])}
			}, []bool{false, true, true}, []string{"p1", "p2"}},

			// A matcher bug that names one ticket twice in a match must not
			// get half-way: the script used to remove the ticket, seat the
			// player and write a room without state or TTL, then fail.
			{"same_ticket_twice_in_a_match", func(t *testing.T, mode string, _ redisx.Lease, tks map[string]redisx.Ticket) []redisx.ClaimMatch {
				return []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p1"]), cm("m2", tks["p3"], tks["p4"])}
			}, []bool{false, true}, []string{"p1", "p2", "p5", "p6"}},

			{"unknown_ticket", func(t *testing.T, mode string, _ redisx.Lease, tks map[string]redisx.Ticket) []redisx.ClaimMatch {
				ghost := ticket(mode, "ghost", t0)
				return []redisx.ClaimMatch{cm("m1", tks["p1"], tks["p2"], tks["p3"], ghost), cm("m2", tks["p4"], tks["p5"])}
			}, []bool{false, true}, []string{"p1", "p2", "p3", "p6"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx, mode, k := t.Context(), tc.name, c.Keys
				tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4", "p5", "p6")
				l := lease(t, c, mode, time.Minute)
				batch := tc.prepare(t, mode, l, tks)
				queuedBefore := map[string]redisx.Entry{}
				for _, p := range tc.queued {
					queuedBefore[p], _ = c.PlayerEntry(ctx, mode, p)
				}

				cr, err := c.Claim(ctx, mode, l, claimArgs, batch)
				if err != nil {
					t.Fatal(err)
				}
				formed := cr.Formed
				if !slices.Equal(formed, tc.want) {
					t.Fatalf("Claim: got %v, want %v", formed, tc.want)
				}
				for i, m := range batch {
					_, roomExists, _ := c.Room(ctx, mode, m.MatchID)
					_, inRooms := zscore(t, c, k.Rooms(mode), m.MatchID)
					_, inOwners := hget(t, c, k.Owners(mode), m.MatchID)
					if roomExists != formed[i] || inRooms != formed[i] || inOwners != formed[i] {
						t.Errorf("match %s: got room %v, in rooms %v, in owners %v; want all %v", m.MatchID, roomExists, inRooms, inOwners, formed[i])
					}
					if !formed[i] {
						continue
					}
					for _, tk := range m.Tickets {
						if e, _ := c.PlayerEntry(ctx, mode, tk.Player); e != entry(redisx.EntryInRoom, m.MatchID) {
							t.Errorf("PlayerEntry(%s): got %+v, want m:%s", tk.Player, e, m.MatchID)
						}
					}
				}
				for _, p := range tc.queued {
					e, _ := c.PlayerEntry(ctx, mode, p)
					if e != queuedBefore[p] || e.Kind != redisx.EntryQueued {
						t.Errorf("PlayerEntry(%s): got %+v, want still queued as %+v", p, e, queuedBefore[p])
						continue
					}
					if _, ok := zscore(t, c, k.Queue(mode), e.Ref); !ok {
						t.Errorf("ticket %s of %s: not in q, want still queued", e.Ref, p)
					}
					if _, ok := zscore(t, c, k.Waits(mode), e.Ref); !ok {
						t.Errorf("ticket %s of %s: not in w, want still queued", e.Ref, p)
					}
					if _, ok, _ := c.Ticket(ctx, mode, e.Ref); !ok {
						t.Errorf("ticket %s of %s: not in t, want still queued", e.Ref, p)
					}
				}
				if n, _ := c.QueueLen(ctx, mode); n != int64(len(tc.queued)) {
					t.Errorf("QueueLen: got %d, want %d", n, len(tc.queued))
				}
			})
		}
	})
}

// A batch forms all its matches in one call; 1,100 squads (4,400 tickets)
// cross the script's chunking of its batch-wide calls.
func TestClaimBatch(t *testing.T) {
	t.Parallel()
	for _, matches := range []int{25, 1100} {
		t.Run(fmt.Sprint(matches), func(t *testing.T) {
			t.Parallel()
			testClaimBatch(t, matches)
		})
	}
}

func testClaimBatch(t *testing.T, matches int) {
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode, k := t.Context(), "squad", c.Keys
		const size = 4
		var players []string
		for i := range matches * size {
			players = append(players, fmt.Sprintf("p%05d", i))
		}
		tks := enqueueAll(t, c, mode, players...)
		l := lease(t, c, mode, time.Minute)
		var batch []redisx.ClaimMatch
		for i := range matches {
			var list []redisx.Ticket
			for _, p := range players[i*size : (i+1)*size] {
				list = append(list, tks[p])
			}
			batch = append(batch, cm(fmt.Sprintf("m%04d", i), list...))
		}
		cr, err := c.Claim(ctx, mode, l, claimArgs, batch)
		if err != nil {
			t.Fatal(err)
		}
		formed := cr.Formed
		for i, ok := range formed {
			if !ok {
				t.Errorf("formed[%d]: got false, want true", i)
			}
		}
		if len(formed) != matches {
			t.Fatalf("formed: got %d results, want %d", len(formed), matches)
		}
		if n, _ := c.QueueLen(ctx, mode); n != 0 {
			t.Errorf("QueueLen: got %d, want 0", n)
		}
		if n := zcard(t, c, k.Rooms(mode)); n != int64(matches) {
			t.Errorf("ZCARD rooms: got %d, want %d", n, matches)
		}
		if owners, err := c.RoomOwners(ctx, mode); err != nil || len(owners) != matches || owners["m0007"] != owner {
			t.Errorf("RoomOwners: got %d entries (m0007 -> %q), %v; want %d, all %s", len(owners), owners["m0007"], err, matches, owner)
		}
		last := fmt.Sprintf("m%04d", matches-1)
		for _, id := range []string{"m0007", last} {
			i := 7
			if id == last {
				i = matches - 1
			}
			r, _, _ := c.Room(ctx, mode, id)
			if want := players[i*size : (i+1)*size]; !slices.Equal(r.Members, want) {
				t.Errorf("%s members: got %v, want %v", id, r.Members, want)
			}
			if want := fmt.Sprint([][]string{players[i*size : i*size+2], players[i*size+2 : (i+1)*size]}); fmt.Sprint(r.Teams) != want {
				t.Errorf("%s teams: got %v, want %v", id, r.Teams, want)
			}
			if got := entries(t, c, mode, players[i*size]); got[players[i*size]] != "m:"+id {
				t.Errorf("%s: player entry %q, want m:%s", id, got[players[i*size]], id)
			}
		}

		// An empty batch is a valid no-op under a current lease.
		cr, err = c.Claim(ctx, mode, l, claimArgs, nil)
		if err != nil || len(cr.Formed) != 0 {
			t.Errorf("empty Claim: got (%+v, %v), want ([], nil)", cr, err)
		}
	})
}
