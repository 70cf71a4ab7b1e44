package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// clusterReply is the reply of GET /debug/cluster.
type clusterReply struct {
	NodeID string `json:"node_id"`
	NowMs  int64  `json:"now_ms"`
	Nodes  []struct {
		NodeID    string   `json:"node_id"`
		SeenAgoMs int64    `json:"seen_ago_ms"`
		Leads     []string `json:"leads"`
	} `json:"nodes"`
	Leases []struct {
		Mode         string  `json:"mode"`
		Region       string  `json:"region"`
		Holder       *string `json:"holder"`
		Fence        int64   `json:"fence"`
		Tickets      int64   `json:"tickets"`
		LastTickMs   *int64  `json:"last_tick_ms"`
		OldestWaitMs *int64  `json:"oldest_wait_ms"`
	} `json:"leases"`
}

func cmdCluster(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 0, "cluster [--json]"); err != nil {
		return err
	}
	body, err := c.call(ctx, http.MethodGet, "/debug/cluster", nil)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return printJSON(c.stdout, body)
	}
	var r clusterReply
	if err := decode(body, &r); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%d live node(s), asked %s\n", len(r.Nodes), r.NodeID)
	for _, n := range r.Nodes {
		leads := "-"
		if len(n.Leads) > 0 {
			leads = strings.Join(n.Leads, " ")
		}
		fmt.Fprintf(c.stdout, "  %-24s heartbeat %s ago, leads %s\n", n.NodeID, ms(n.SeenAgoMs), leads)
	}
	fmt.Fprintln(c.stdout, "modes:")
	for _, l := range r.Leases {
		holder := "NOBODY"
		if l.Holder != nil {
			holder = *l.Holder
		}
		name := l.Mode
		if l.Region != "" {
			name += "/" + l.Region
		}
		extra := ""
		if l.LastTickMs != nil {
			extra = fmt.Sprintf(", last tick %s ago", ms(max(r.NowMs-*l.LastTickMs, 0)))
		}
		if l.OldestWaitMs != nil {
			extra += fmt.Sprintf(", oldest wait %s", ms(*l.OldestWaitMs))
		}
		fmt.Fprintf(c.stdout, "  %-16s led by %s (fence %d), %d ticket(s) waiting%s\n", name, holder, l.Fence, l.Tickets, extra)
	}
	return nil
}
