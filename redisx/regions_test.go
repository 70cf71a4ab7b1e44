package redisx_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// world is the regions of the mode "world" in these tests; a ticket is
// listed in every region within 150 ms.
var world = redisx.ModeRegions{Regions: []string{"eu", "us", "asia"}, MaxMsLimit: 150}

func withRegions(c *redisx.Client) *redisx.Client {
	c.Regions = func(mode string) redisx.ModeRegions {
		if mode == "world" {
			return world
		}
		return redisx.ModeRegions{}
	}
	return c
}

func regionTicket(player string, queuedAt int64, lat map[string]float64) redisx.Ticket {
	tk := ticket("world", player, queuedAt)
	tk.Latencies = lat
	return tk
}

func regionLease(tb testing.TB, c *redisx.Client, region, node string) redisx.Lease {
	tb.Helper()
	tok := redisx.LeaseToken(node, token())
	f, err := c.AcquireLane(context.Background(), redisx.Lane{Mode: "world", Region: region}, node, tok, time.Minute)
	if err != nil || f <= 0 {
		tb.Fatalf("AcquireLane(%s) for %s: got fence %d, err %v; want > 0", region, node, f, err)
	}
	return redisx.Lease{Token: tok, Fence: f, Region: region}
}

func TestListed(t *testing.T) {
	for _, tc := range []struct {
		name string
		lat  map[string]float64
		want []string
	}{
		{"within the cap", map[string]float64{"eu": 20, "us": 150, "asia": 151}, []string{"eu", "us"}},
		{"unknown regions ignored", map[string]float64{"mars": 1, "asia": 90}, []string{"asia"}},
		{"none within: the fastest", map[string]float64{"eu": 400, "us": 300}, []string{"us"}},
		{"none measured: the first", nil, []string{"eu"}},
	} {
		if got := world.Listed(tc.lat); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Listed(%v) = %v, want %v", tc.name, tc.lat, got, tc.want)
		}
	}
	if got := (redisx.ModeRegions{}).Listed(map[string]float64{"eu": 1}); got != nil {
		t.Errorf("a mode without regions lists %v, want nil", got)
	}
}

// A ticket is listed in the pools of the regions it can reach; a claim by
// one region's leader takes it out of every pool (telling the other
// leaders), so another region's leader can no longer claim it; a requeue
// lists it where it was.
func TestRegionClaimOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		withRegions(c)
		ctx, k := t.Context(), c.Keys
		lane := func(r string) redisx.Lane { return redisx.Lane{Mode: "world", Region: r} }
		a := enqueue(t, c, regionTicket("a", t0, map[string]float64{"eu": 30, "us": 90}))
		b := enqueue(t, c, regionTicket("b", t0+1, map[string]float64{"eu": 40, "us": 80, "asia": 200}))
		if !slices.Equal(a.Regions, []string{"eu", "us"}) {
			t.Errorf("ticket a listed in %v, want [eu us]", a.Regions)
		}
		for _, r := range []string{"eu", "us"} {
			if got := zcard(t, c, k.LaneQueue(lane(r))); got != 2 {
				t.Errorf("pool %s: %d tickets, want 2", r, got)
			}
			if got := lrange(t, c, k.LaneAdded(lane(r))); !slices.Equal(got, []string{a.ID, b.ID}) {
				t.Errorf("added list of %s: %v, want both", r, got)
			}
		}
		if exists(t, c, k.LaneQueue(lane("asia"))) || exists(t, c, k.Added("world")) {
			t.Errorf("asia's pool or the mode's own added list was written")
		}

		eu, us := regionLease(t, c, "eu", "n1"), regionLease(t, c, "us", "n2")
		var ch redisx.QueueChanges
		if err := c.DoTogether(ctx, c.QueueChangesRead("world", us, time.Hour, &ch)); err != nil {
			t.Fatal(err)
		}
		if ch.Queued != 2 || ch.ModeQueued != 2 || len(ch.Added) != 2 {
			t.Errorf("us changes: %+v, want 2 queued, 2 added", ch)
		}
		cr, err := c.Claim(ctx, "world", eu, claimArgs, []redisx.ClaimMatch{cm("m1", a, b)})
		if err != nil || !slices.Equal(cr.Formed, []bool{true}) {
			t.Fatalf("eu claim: %+v, %v; want formed", cr, err)
		}
		h := hgetall(t, c, k.Room("world", "m1"))
		if h["region"] != "eu" || h["l:a"] != "eu,us" || h["l:b"] != "eu,us" {
			t.Errorf("room: region %q, l:a %q, l:b %q; want eu, eu,us, eu,us", h["region"], h["l:a"], h["l:b"])
		}
		if r, _, _ := c.Room(ctx, "world", "m1"); r.Region != "eu" {
			t.Errorf("Room.Region = %q, want eu", r.Region)
		}
		for _, r := range []string{"eu", "us"} {
			if zcard(t, c, k.LaneQueue(lane(r))) != 0 {
				t.Errorf("pool %s still lists claimed tickets", r)
			}
		}
		if got := lrange(t, c, k.LaneRemoved(lane("us"))); !slices.Equal(got, []string{a.ID, b.ID}) {
			t.Errorf("us removed list: %v, want both claimed tickets", got)
		}
		// The us leader picked the same pair from its (stale) pool: refused.
		cr, err = c.Claim(ctx, "world", us, claimArgs, []redisx.ClaimMatch{cm("m2", a, b)})
		if err != nil || !slices.Equal(cr.Formed, []bool{false}) {
			t.Errorf("us claim of claimed tickets: %+v, %v; want not formed", cr, err)
		}
		// Another region's lease does not pass for this one.
		if _, err := c.Claim(ctx, "world", redisx.Lease{Token: eu.Token, Fence: eu.Fence, Region: "us"}, claimArgs, nil); !errors.Is(err, redisx.ErrLeaseLost) {
			t.Errorf("claim with eu's token on us: %v, want ErrLeaseLost", err)
		}

		// Cancelled with both requeued: back in eu's and us's pools.
		res, err := c.Resolve(ctx, "world", "m1", []string{"a", "b"}, redisx.Resolution{Outcome: redisx.ResolveCancel,
			Reason: "allocation_failed", RequeueAll: true, FinishedTTL: time.Minute, OutcomeTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Requeued) != 2 {
			t.Fatalf("resolve: %+v, want both requeued", res)
		}
		for _, r := range []string{"eu", "us"} {
			if got := zcard(t, c, k.LaneQueue(lane(r))); got != 2 {
				t.Errorf("after the requeue pool %s has %d tickets, want 2", r, got)
			}
		}
		if exists(t, c, k.LaneQueue(lane("asia"))) {
			t.Errorf("the requeue listed a ticket in asia, which neither could reach")
		}

		// A cancel takes the ticket out of both pools and tells both leaders.
		if r, err := c.RemoveTicket(ctx, "world", "a", "", "cancelled", time.Minute); err != nil || !r.Removed {
			t.Fatalf("RemoveTicket: %+v, %v", r, err)
		}
		for _, r := range []string{"eu", "us"} {
			if _, ok := zscore(t, c, k.LaneQueue(lane(r)), a.ID); ok {
				t.Errorf("pool %s still lists the cancelled ticket", r)
			}
			if got := lrange(t, c, k.LaneRemoved(lane(r))); !slices.Contains(got, a.ID) {
				t.Errorf("%s removed list %v lacks the cancelled ticket", r, got)
			}
		}
	})
}

// The leases of a mode's regions spread over its live nodes: a node that
// leads some does not take another while a live node leads fewer, and a
// node two ahead of another hands its last lease back.
func TestRegionLeasesSpread(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		withRegions(c)
		ctx := t.Context()
		lane := func(r string) redisx.Lane { return redisx.Lane{Mode: "world", Region: r} }
		tok := map[string]string{"eu": redisx.LeaseToken("n1", token()), "us": redisx.LeaseToken("n1", token()), "asia": redisx.LeaseToken("n1", token())}
		// Alone, n1 takes all three.
		for _, r := range world.Regions {
			if f, err := c.AcquireLane(ctx, lane(r), "n1", tok[r], time.Minute); err != nil || f <= 0 {
				t.Fatalf("n1 alone, %s: fence %d, %v", r, f, err)
			}
		}
		// n2 appears (it asks, in vain: all are held).
		n2 := redisx.LeaseToken("n2", token())
		if f, _ := c.AcquireLane(ctx, lane("eu"), "n2", n2, time.Minute); f != 0 {
			t.Fatalf("n2 took a held lease: fence %d", f)
		}
		// n1's renewals: eu and us are kept, its last (asia) handed back.
		for _, tc := range []struct {
			r    string
			want redisx.Renewal
		}{{"eu", redisx.Renewed}, {"us", redisx.Renewed}, {"asia", redisx.RenewHandedBack}} {
			if got, err := c.ExtendLane(ctx, lane(tc.r), "n1", tok[tc.r], time.Minute); err != nil || got != tc.want {
				t.Errorf("n1 renews %s: %v, %v; want %v", tc.r, got, err, tc.want)
			}
		}
		// n1 (two leases) does not take asia back while n2 leads none.
		if f, _ := c.AcquireLane(ctx, lane("asia"), "n1", tok["asia"], time.Minute); f != 0 {
			t.Errorf("n1 retook asia while n2 leads none: fence %d", f)
		}
		if f, _ := c.AcquireLane(ctx, lane("asia"), "n2", n2, time.Minute); f <= 0 {
			t.Errorf("n2 could not take the handed-back asia")
		}
		// 2 against 1: stable.
		if got, _ := c.ExtendLane(ctx, lane("us"), "n1", tok["us"], time.Minute); got != redisx.Renewed {
			t.Errorf("n1 renews us at 2 against 1: %v, want renewed", got)
		}
		// n2 leaves (drain): n1 may take a free lease again at once.
		if ok, err := c.ReleaseLane(ctx, lane("asia"), "n2", n2); err != nil || !ok {
			t.Fatalf("ReleaseLane: %v, %v", ok, err)
		}
		if f, _ := c.AcquireLane(ctx, lane("asia"), "n1", tok["asia"], time.Minute); f <= 0 {
			t.Errorf("n1 could not take asia after n2 left")
		}
	})
}

// A region is led by a live node whose home it is: another node that
// leads it hands it back, and does not take it again while that node lives.
func TestRegionLeasesGoHome(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		// One client plays both nodes: home is the calling node's.
		var home []string
		c.Regions = func(string) redisx.ModeRegions {
			return redisx.ModeRegions{Regions: world.Regions, MaxMsLimit: world.MaxMsLimit, Home: home}
		}
		lane := func(r string) redisx.Lane { return redisx.Lane{Mode: "world", Region: r} }
		tok := map[string]string{}
		for _, r := range world.Regions {
			tok[r] = redisx.LeaseToken("n1", token())
			if f, err := c.AcquireLane(ctx, lane(r), "n1", tok[r], time.Minute); err != nil || f <= 0 {
				t.Fatalf("n1 alone, %s: fence %d, %v", r, f, err)
			}
		}
		// n2, whose home is asia, appears.
		home = []string{"asia"}
		n2 := redisx.LeaseToken("n2", token())
		if f, _ := c.AcquireLane(ctx, lane("asia"), "n2", n2, time.Minute); f != 0 {
			t.Fatalf("n2 took asia from its holder: fence %d", f)
		}
		home = nil
		if got, _ := c.ExtendLane(ctx, lane("eu"), "n1", tok["eu"], time.Minute); got != redisx.Renewed {
			t.Errorf("n1 renews eu: %v, want renewed", got)
		}
		if got, _ := c.ExtendLane(ctx, lane("asia"), "n1", tok["asia"], time.Minute); got != redisx.RenewHandedBack {
			t.Errorf("n1 renews asia, n2's home: %v, want handed back", got)
		}
		if f, _ := c.AcquireLane(ctx, lane("asia"), "n1", tok["asia"], time.Minute); f != 0 {
			t.Errorf("n1 retook asia while n2, whose home it is, lives: fence %d", f)
		}
		home = []string{"asia"}
		if f, _ := c.AcquireLane(ctx, lane("asia"), "n2", n2, time.Minute); f <= 0 {
			t.Errorf("n2 could not take its home region")
		}
		// n1 leads two, n2 one (its home): stable; n2 keeps its home.
		home = nil
		if got, _ := c.ExtendLane(ctx, lane("us"), "n1", tok["us"], time.Minute); got != redisx.Renewed {
			t.Errorf("n1 renews us: %v, want renewed", got)
		}
		home = []string{"asia"}
		if got, _ := c.ExtendLane(ctx, lane("asia"), "n2", n2, time.Minute); got != redisx.Renewed {
			t.Errorf("n2 renews its home: %v, want renewed", got)
		}
	})
}
