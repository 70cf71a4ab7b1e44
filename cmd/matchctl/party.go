package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// partyView is a party as GET /debug/parties/{id} shows it, and as the
// party field of GET /debug/players/{id}.
type partyView struct {
	PartyID string `json:"party_id"`
	Leader  string `json:"leader"`
	Open    bool   `json:"open"`
	MaxSize int    `json:"max_size"`
	Version int64  `json:"version"`
	NowMs   int64  `json:"now_ms"`
	Members []struct {
		PlayerID  string `json:"player_id"`
		Leader    bool   `json:"leader"`
		Connected bool   `json:"connected"`
		Busy      bool   `json:"busy"`
	} `json:"members"`
	Invited []struct {
		PlayerID  string `json:"player_id"`
		ExpiresMs *int64 `json:"expires_ms"`
	} `json:"invited"`
	Queue *struct {
		Mode     string `json:"mode"`
		TicketID string `json:"ticket_id"`
	} `json:"queue"`
}

// cmdParty shows a party, named by its id or by one of its members.
func cmdParty(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 1, "party ID|PLAYER [--json]"); err != nil {
		return err
	}
	id := args[0]
	body, err := c.call(ctx, http.MethodGet, "/debug/parties/"+url.PathEscape(id), nil)
	var re *replyError
	member := ""
	switch {
	case errors.As(err, &re) && (re.status == http.StatusNotFound || re.status == http.StatusBadRequest):
		// Not a party's id: a player's?
		pbody, perr := c.call(ctx, http.MethodGet, "/debug/players/"+url.PathEscape(id), nil)
		if errors.As(perr, &re) && re.status == http.StatusNotFound {
			return fmt.Errorf("no party %s, and no player %s in a party", id, id)
		}
		if perr != nil {
			return perr
		}
		var p struct {
			NowMs int64           `json:"now_ms"`
			Party json.RawMessage `json:"party"`
		}
		if err := decode(pbody, &p); err != nil {
			return err
		}
		if len(p.Party) == 0 || string(p.Party) == "null" {
			return fmt.Errorf("no party %s, and player %s is in no party", id, id)
		}
		body, member = p.Party, id
		if !c.jsonOut {
			var v partyView
			if err := decode(body, &v); err != nil {
				return err
			}
			v.NowMs = p.NowMs
			printParty(c, &v, member)
			return nil
		}
	case err != nil:
		return err
	}
	if c.jsonOut {
		return printJSON(c.stdout, body)
	}
	var v partyView
	if err := decode(body, &v); err != nil {
		return err
	}
	printParty(c, &v, member)
	return nil
}

func printParty(c *cli, v *partyView, member string) {
	w := c.stdout
	now := c.now()
	if v.NowMs > 0 {
		now = time.UnixMilli(v.NowMs)
	}
	if member != "" {
		fmt.Fprintf(w, "player %s is in party %s\n", member, v.PartyID)
	}
	kind := "invite-only"
	if v.Open {
		kind = "open"
	}
	queue := "not queued"
	if q := v.Queue; q != nil {
		queue = fmt.Sprintf("queued in %s (ticket %s)", q.Mode, q.TicketID)
	}
	fmt.Fprintf(w, "party %s: %s, %d of %d members, led by %s, %s\n", v.PartyID, kind, len(v.Members), v.MaxSize, v.Leader, queue)
	fmt.Fprintln(w, "  members, in join order:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var notReady []string
	for _, m := range v.Members {
		lead, conn, busy := "", "connected", "idle"
		if m.Leader {
			lead = "leader"
		}
		if !m.Connected {
			conn = "NOT CONNECTED"
			notReady = append(notReady, m.PlayerID+" (not connected)")
		}
		if m.Busy {
			busy = "in a queue or a match"
			if v.Queue == nil {
				notReady = append(notReady, m.PlayerID+" (in a queue or a match of its own)")
			}
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", m.PlayerID, lead, conn, busy)
	}
	_ = tw.Flush()
	if len(v.Invited) == 0 {
		fmt.Fprintln(w, "  invited:  (none)")
	} else {
		fmt.Fprintln(w, "  invited:")
		for _, in := range v.Invited {
			exp := "expired"
			if in.ExpiresMs != nil {
				exp = "expires " + relative(time.UnixMilli(*in.ExpiresMs), now)
			}
			fmt.Fprintf(w, "    %s, %s\n", in.PlayerID, exp)
		}
	}
	if len(notReady) > 0 && v.Queue == nil {
		fmt.Fprintf(w, "  the leader's enqueue would be refused PARTY_NOT_READY for %s\n", strings.Join(notReady, ", "))
	}
}
