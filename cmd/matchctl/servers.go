package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// gameServer is one registration of GET /admin/servers.
type gameServer struct {
	ID        string    `json:"id"`
	Addr      string    `json:"addr"`
	Capacity  int       `json:"capacity"`
	Active    int       `json:"active"`
	Allocated int       `json:"allocated"`
	ExpiresAt time.Time `json:"expires_at"`
	Region    string    `json:"region"`
}

func cmdServers(ctx context.Context, c *cli, args []string) error {
	const form = "servers list | servers add ID ADDR --capacity N [--region R] | servers remove ID"
	if len(args) == 0 {
		return usagef("usage: matchctl %s", form)
	}
	switch verb := args[0]; verb {
	case "list", "ls":
		if len(args) != 1 {
			return usagef("usage: matchctl servers list [--json]")
		}
		body, err := c.call(ctx, http.MethodGet, "/admin/servers", nil)
		if err != nil {
			return err
		}
		if c.jsonOut {
			return printJSON(c.stdout, body)
		}
		var reply struct {
			Servers []gameServer `json:"servers"`
		}
		if err := decode(body, &reply); err != nil {
			return err
		}
		if len(reply.Servers) == 0 {
			fmt.Fprintln(c.stdout, "no game server registered")
			return nil
		}
		now := c.now()
		fmt.Fprintf(c.stdout, "%-20s %-24s %-8s %8s %8s %10s  %s\n", "ID", "ADDR", "REGION", "CAPACITY", "ACTIVE", "ALLOCATED", "EXPIRES")
		for _, g := range reply.Servers {
			region := g.Region
			if region == "" {
				region = "any"
			}
			fmt.Fprintf(c.stdout, "%-20s %-24s %-8s %8d %8d %10d  %s\n", g.ID, g.Addr, region, g.Capacity, g.Active, g.Allocated, relative(g.ExpiresAt, now))
		}
		return nil
	case "add", "register":
		if len(args) != 3 {
			return usagef("usage: matchctl servers add ID ADDR --capacity N [--region R]")
		}
		if c.capacity < 1 {
			return usagef("servers add needs --capacity N (N >= 1)")
		}
		reg := map[string]any{"id": args[1], "addr": args[2], "capacity": c.capacity}
		if c.region != "" {
			reg["region"] = c.region
		}
		body, err := c.call(ctx, http.MethodPost, "/admin/servers", reg)
		if err != nil {
			return err
		}
		var g gameServer
		if err := decode(body, &g); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "game server %s at %s registered (capacity %d); the registration lapses %s unless renewed\n",
			g.ID, g.Addr, g.Capacity, relative(g.ExpiresAt, c.now()))
		return nil
	case "remove", "rm", "delete":
		if len(args) != 2 {
			return usagef("usage: matchctl servers remove ID")
		}
		if _, err := c.call(ctx, http.MethodDelete, "/admin/servers/"+url.PathEscape(args[1]), nil); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "game server %s removed\n", args[1])
		return nil
	default:
		return usagef("servers takes list, add or remove, not %q; usage: matchctl %s", verb, form)
	}
}
