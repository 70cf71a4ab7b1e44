package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// sanctionRecord is the reply of /admin/sanctions/{id} and
// /admin/sanctions/device/{id}.
type sanctionRecord struct {
	PlayerID    string      `json:"player_id"`
	DeviceID    string      `json:"device_id"`
	Violations  []violation `json:"violations"`
	BannedUntil *time.Time  `json:"banned_until"`
	BannedForMs int64       `json:"banned_for_ms"`
}

type violation struct {
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func cmdSanctions(ctx context.Context, c *cli, args []string) error {
	const form = "sanctions get|lift ID [--device]"
	if len(args) != 2 {
		return usagef("usage: matchctl %s", form)
	}
	verb, id := args[0], args[1]
	method := http.MethodGet
	switch verb {
	case "get", "show":
	case "lift", "delete", "clear":
		method = http.MethodDelete
	default:
		return usagef("sanctions takes get or lift, not %q; usage: matchctl %s", verb, form)
	}
	if id == "" {
		return usagef("usage: matchctl %s", form)
	}
	subject, path := "player", "/admin/sanctions/"+url.PathEscape(id)
	if c.device {
		subject, path = "device", "/admin/sanctions/device/"+url.PathEscape(id)
	}
	body, err := c.call(ctx, method, path, nil)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return printJSON(c.stdout, body)
	}
	var rec sanctionRecord
	if err := decode(body, &rec); err != nil {
		return err
	}
	if method == http.MethodDelete {
		fmt.Fprintf(c.stdout, "%s %s: sanctions lifted\n", subject, id)
	}
	now := c.now()
	ban := "not banned"
	if rec.BannedUntil != nil && rec.BannedUntil.After(now) {
		ban = fmt.Sprintf("banned for %s more (until %s)", round(rec.BannedUntil.Sub(now)), rec.BannedUntil.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(c.stdout, "%s %s: %s, %d live violation(s)\n", subject, id, ban, len(rec.Violations))
	for _, v := range rec.Violations {
		fmt.Fprintf(c.stdout, "  %-8s  at %s  expires %s\n", v.Kind, v.At.UTC().Format(time.RFC3339), relative(v.ExpiresAt, now))
	}
	return nil
}
