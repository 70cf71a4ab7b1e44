package redisx_test

// What a lease holder publishes for operators (its tick and its verdicts),
// and the cluster-wide reads of the debug views: published keys expire,
// verdicts are read back per ticket and per player, leases name their
// holder, and every live node is found.

import (
	"reflect"
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

func TestInsightPublishAndRead(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx, mode := t.Context(), "duel"
		tk := ticket(mode, "carol", t0+5)
		if _, err := c.Enqueue(ctx, tk); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		v := redisx.Verdict{Verdict: "no_mate_in_window", Ticket: tk.ID, AtMs: t0 + 1000}
		in := redisx.QueueInsight{Node: "n1", Fence: 7, TickMs: t0 + 1000, TookUs: 640, Oldest: 995, Tickets: 1}
		if err := c.PublishInsight(ctx, mode, in, map[string]string{"carol": redisx.EncodeVerdict(v), "gone": "banned|tk-gone|5"}, nil, 5*time.Second); err != nil {
			t.Fatalf("PublishInsight: %v", err)
		}
		views, err := c.TicketViews(ctx, mode, []string{tk.ID, "tk-nobody"}, []string{"carol", "nobody"})
		if err != nil {
			t.Fatalf("TicketViews: %v", err)
		}
		got, ok := views[tk.ID]
		if !ok || !reflect.DeepEqual(got.Ticket, tk) || got.Verdict == nil || *got.Verdict != v || got.WaitSinceMs == 0 {
			t.Errorf("TicketViews = %+v, want the ticket, its wait start and verdict %+v", views, v)
		}
		if _, ok := views["tk-nobody"]; ok || len(views) != 1 {
			t.Errorf("a ticket not queued is listed: %+v", views)
		}
		if pv, err := c.PlayerVerdict(ctx, mode, "gone"); err != nil || pv == nil || pv.Verdict != "banned" || pv.Ticket != "tk-gone" {
			t.Errorf("PlayerVerdict(gone) = %+v, %v; want banned on tk-gone", pv, err)
		}
		if pv, err := c.PlayerVerdict(ctx, mode, "nobody"); err != nil || pv != nil {
			t.Errorf("PlayerVerdict(nobody) = %+v, %v; want none", pv, err)
		}
		// A verdict removed is gone; both keys carry the TTL.
		if err := c.PublishInsight(ctx, mode, in, nil, []string{"gone"}, 5*time.Second); err != nil {
			t.Fatalf("PublishInsight: %v", err)
		}
		if pv, _ := c.PlayerVerdict(ctx, mode, "gone"); pv != nil {
			t.Errorf("a deleted verdict is still read: %+v", pv)
		}
		for _, k := range []string{c.Keys.Insight(mode), c.Keys.Verdicts(mode)} {
			ttl, err := c.R.Do(ctx, c.R.B().Pttl().Key(k).Build()).AsInt64()
			if err != nil || ttl <= 0 || ttl > 5000 {
				t.Errorf("PTTL %s = %d, %v; want (0, 5000]", k, ttl, err)
			}
		}

		// The lease names its holder; the insight rides along.
		if _, err := c.AcquireLock(ctx, mode, redisx.LeaseToken("n1", "r1"), 2*time.Second); err != nil {
			t.Fatalf("AcquireLock: %v", err)
		}
		leases, err := c.Leases(ctx, []string{mode, "squad"})
		if err != nil {
			t.Fatalf("Leases: %v", err)
		}
		if l := leases[0]; l.Holder != "n1" || l.Fence < 1 || l.TTLMs <= 0 || l.Queued != 1 || l.Insight == nil || *l.Insight != in {
			t.Errorf("duel lease = %+v (insight %+v), want held by n1 with 1 ticket and the insight", l, l.Insight)
		}
		if l := leases[1]; l.Holder != "" || l.Insight != nil || l.Queued != 0 {
			t.Errorf("squad lease = %+v, want nobody", l)
		}

		if err := c.ClearInsight(ctx, mode); err != nil {
			t.Fatalf("ClearInsight: %v", err)
		}
		if n, _ := c.R.Do(ctx, c.R.B().Exists().Key(c.Keys.Insight(mode), c.Keys.Verdicts(mode)).Build()).AsInt64(); n != 0 {
			t.Errorf("%d insight keys left after ClearInsight", n)
		}

		// Live nodes: those whose liveness key exists.
		for _, n := range []string{"n1", "n2"} {
			if err := c.TouchNode(ctx, n, 5*time.Second); err != nil {
				t.Fatalf("TouchNode: %v", err)
			}
		}
		if err := c.DropNode(ctx, "n2"); err != nil {
			t.Fatalf("DropNode: %v", err)
		}
		nodes, err := c.LiveNodes(ctx)
		if err != nil {
			t.Fatalf("LiveNodes: %v", err)
		}
		if len(nodes) != 1 || nodes[0].Node != "n1" || nodes[0].SeenMs == 0 {
			t.Errorf("LiveNodes = %+v, want n1 only", nodes)
		}
	})
}

func TestLeaseHolder(t *testing.T) {
	for _, tc := range []struct{ token, want string }{
		{redisx.LeaseToken("node-1", "abc"), "node-1"},
		{redisx.LeaseToken("host|7", "abc"), "host|7"},
		{"legacy-token", ""},
	} {
		if got := redisx.LeaseHolder(tc.token); got != tc.want {
			t.Errorf("LeaseHolder(%q) = %q, want %q", tc.token, got, tc.want)
		}
	}
}
