package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// playerReply is the reply of GET /debug/players/{id}.
type playerReply struct {
	PlayerID  string  `json:"player_id"`
	NodeID    *string `json:"node_id"`
	SessionID *string `json:"session_id"`
	NowMs     int64   `json:"now_ms"`
	State     struct {
		Name     string `json:"name"`
		Mode     string `json:"mode"`
		TicketID string `json:"ticket_id"`
		MatchID  string `json:"match_id"`
		SinceMs  *int64 `json:"since_ms"`
	} `json:"state"`
	Ticket *struct {
		TicketID    string  `json:"ticket_id"`
		Rating      float64 `json:"rating"`
		Window      float64 `json:"window"`
		QueuedAtMs  int64   `json:"queued_at_ms"`
		WaitSinceMs int64   `json:"wait_since_ms"`
		WaitedMs    int64   `json:"waited_ms"`
		MaxWaitMs   int64   `json:"max_wait_ms"`
		Verdict     string  `json:"verdict"`
		VerdictAtMs *int64  `json:"verdict_at_ms"`
	} `json:"ticket"`
	Match *struct {
		MatchID      string     `json:"match_id"`
		State        string     `json:"state"`
		Owner        string     `json:"owner"`
		Teams        [][]string `json:"teams"`
		Ready        []string   `json:"ready"`
		Waiting      []string   `json:"waiting"`
		DeadlineMs   int64      `json:"deadline_ms"`
		DeadlineInMs int64      `json:"deadline_in_ms"`
	} `json:"match"`
	Sanctions struct {
		Player   sanctionRecord  `json:"player"`
		DeviceID string          `json:"device_id"`
		Device   *sanctionRecord `json:"device"`
	} `json:"sanctions"`
	LastVerdict *string `json:"last_verdict"`
	Outcomes    []struct {
		Kind     string `json:"kind"`
		Mode     string `json:"mode"`
		Ref      string `json:"ref"`
		Reason   string `json:"reason"`
		AtMs     int64  `json:"at_ms"`
		Requeued *bool  `json:"requeued"`
	} `json:"outcomes"`
}

// verdictText says in words what the matcher last decided about a ticket.
var verdictText = map[string]string{
	"no_mate_in_window":  "no compatible mate within its rating window; the window widens as it waits",
	"mates_in_window":    "compatible mates are in its window; older tickets were served first",
	"awaiting_reconnect": "held out of matching: the player's node is gone, waiting for a reconnect",
	"banned":             "blocked by a ban: the ticket was dequeued",
	"timed_out":          "dequeued: it waited past max_wait",
	"disconnected":       "dequeued: its node died and the player did not come back",
	"matched":            "matched",
	"not_leader_here":    "no verdict yet: the mode's leader has not judged this ticket (new, or no node leads the mode)",
}

func cmdPlayer(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 1, "player ID [--json]"); err != nil {
		return err
	}
	body, err := c.call(ctx, http.MethodGet, "/debug/players/"+url.PathEscape(args[0]), nil)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return printJSON(c.stdout, body)
	}
	var p playerReply
	if err := decode(body, &p); err != nil {
		return err
	}
	printPlayer(c, &p)
	return nil
}

func ms(v int64) string { return round(time.Duration(v) * time.Millisecond).String() }

func printPlayer(c *cli, p *playerReply) {
	w := c.stdout
	where := "not connected"
	if p.NodeID != nil {
		where = "on node " + *p.NodeID
	}
	switch p.State.Name {
	case "queued":
		fmt.Fprintf(w, "player %s: queued in %s, %s\n", p.PlayerID, p.State.Mode, where)
	case "loading":
		fmt.Fprintf(w, "player %s: loading match %s in %s, %s\n", p.PlayerID, p.State.MatchID, p.State.Mode, where)
	default:
		fmt.Fprintf(w, "player %s: %s, %s\n", p.PlayerID, p.State.Name, where)
	}
	if t := p.Ticket; t != nil {
		fmt.Fprintf(w, "  ticket    %s\n", t.TicketID)
		fmt.Fprintf(w, "  rating    %g, window ±%.1f (accepts %.0f to %.0f)\n", t.Rating, t.Window, t.Rating-t.Window, t.Rating+t.Window)
		left := t.MaxWaitMs - t.WaitedMs
		fmt.Fprintf(w, "  waited    %s of max_wait %s (timeout in %s)\n", ms(t.WaitedMs), ms(t.MaxWaitMs), ms(max(left, 0)))
		since := ""
		if t.VerdictAtMs != nil && p.NowMs > 0 {
			since = fmt.Sprintf(" (for %s)", ms(max(p.NowMs-*t.VerdictAtMs, 0)))
		}
		fmt.Fprintf(w, "  verdict   %s%s: %s\n", t.Verdict, since, verdictText[t.Verdict])
	}
	if m := p.Match; m != nil {
		teams := make([]string, len(m.Teams))
		for i, t := range m.Teams {
			teams[i] = "[" + strings.Join(t, " ") + "]"
		}
		fmt.Fprintf(w, "  match     %s, %s, driven by node %s\n", strings.Join(teams, " vs "), m.State, m.Owner)
		fmt.Fprintf(w, "  ready     %s\n", orNone(m.Ready))
		fmt.Fprintf(w, "  waiting   %s\n", orNone(m.Waiting))
		if m.DeadlineInMs >= 0 {
			fmt.Fprintf(w, "  deadline  in %s (who has not loaded by then is a no-show)\n", ms(m.DeadlineInMs))
		} else {
			fmt.Fprintf(w, "  deadline  passed %s ago\n", ms(-m.DeadlineInMs))
		}
	}
	if p.Ticket == nil && p.Match == nil && p.LastVerdict != nil {
		fmt.Fprintf(w, "  verdict   %s: %s\n", *p.LastVerdict, verdictText[*p.LastVerdict])
	}
	now := c.now()
	if p.NowMs > 0 {
		now = time.UnixMilli(p.NowMs)
	}
	printBan(c, "sanctions", p.Sanctions.Player, now)
	if d := p.Sanctions.Device; d != nil && (len(d.Violations) > 0 || d.BannedForMs > 0) {
		printBan(c, "device "+p.Sanctions.DeviceID, *d, now)
	}
	if len(p.Outcomes) > 0 {
		fmt.Fprintln(w, "  not yet told:")
		for _, o := range p.Outcomes {
			extra := ""
			if o.Reason != "" {
				extra = " (" + o.Reason + ")"
			}
			if o.Requeued != nil && *o.Requeued {
				extra += ", requeued"
			}
			fmt.Fprintf(w, "    %s%s in %s, %s\n", o.Kind, extra, o.Mode, since(time.UnixMilli(o.AtMs), now))
		}
	}
}

// printBan prints one sanctions line and its live violations.
func printBan(c *cli, label string, rec sanctionRecord, now time.Time) {
	w := c.stdout
	if len(rec.Violations) == 0 && (rec.BannedUntil == nil || !rec.BannedUntil.After(now)) {
		fmt.Fprintf(w, "  %-9s none\n", label)
		return
	}
	ban := "not banned"
	if rec.BannedUntil != nil && rec.BannedUntil.After(now) {
		ban = fmt.Sprintf("BANNED for %s more (until %s)", round(rec.BannedUntil.Sub(now)), rec.BannedUntil.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "  %-9s %s, %d live violation(s)\n", label, ban, len(rec.Violations))
	for _, v := range rec.Violations {
		fmt.Fprintf(w, "    %-8s %s, expires %s\n", v.Kind, since(v.At, now), relative(v.ExpiresAt, now))
	}
}

// since says how long ago t was; "just now" within a second (the
// server's clock and the event's may differ by a few milliseconds).
func since(t, now time.Time) string {
	if d := now.Sub(t); d < time.Second && d > -time.Second {
		return "just now"
	}
	return relative(t, now)
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	return strings.Join(list, " ")
}
