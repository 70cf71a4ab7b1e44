package actors

import (
	"context"
	"slices"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// What the matching leader leaves out of a tick's pool, and why: tickets
// past max_wait, of banned players or devices, or whose player's node is
// gone; and the seat counts that tell whether a pool can form a match at all.

// seats counts the players the pool's tickets seat (a party's ticket seats
// every member), up to need: a pool of need tickets seats at least that
// many, so a large pool costs nothing to count.
func seats(pool map[string]redisx.Ticket, need int) int {
	if len(pool) >= need {
		return len(pool)
	}
	n := 0
	for _, t := range pool {
		n += max(1, len(t.Members))
	}
	return n
}

func seatsOf(pool []redisx.Ticket) int {
	n := 0
	for i := range pool {
		n += max(1, len(pool[i].Members))
	}
	return n
}

// dropBanned dequeues the tickets of banned players and devices (reason
// banned) and returns the rest.
func (a *queueActor) dropBanned(ctx context.Context, pool []redisx.Ticket, bans map[string]bool) []redisx.Ticket {
	if len(bans) == 0 {
		return pool
	}
	return slices.DeleteFunc(pool, func(t redisx.Ticket) bool {
		banned := bans["p:"+t.Player] || (t.Device != "" && bans["d:"+t.Device])
		// A ban on any member (or its device) takes the party's ticket out.
		for _, m := range t.Members {
			banned = banned || bans["p:"+m.Player] || (m.Device != "" && bans["d:"+m.Device])
		}
		if banned {
			a.dequeue(ctx, t, protocol.ReasonBanned)
		}
		return banned
	})
}

// liveness reports, for each player, whether a live node holds its session.
// A player with a session actor on this node is live without asking Redis
// (this node is up, and a takeover moves the session to another live node);
// only the others cost a directory read, so a single node asks for nothing.
func (a *queueActor) liveness(ctx context.Context, players []string) (map[string]bool, error) {
	out := make(map[string]bool, len(players))
	var ask []string
	for _, p := range players {
		if a.env.registry.session(p) != nil {
			out[p] = true
		} else {
			ask = append(ask, p)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	nodes, err := a.env.Store.DirNodes(ctx, ask)
	if err != nil {
		return nil, err
	}
	up := map[string]bool{a.env.Node: true}
	for _, p := range ask {
		n, ok := nodes[p]
		if !ok {
			continue
		}
		alive, seen := up[n]
		if !seen {
			if alive, err = a.env.Store.NodeAlive(ctx, n); err != nil {
				return nil, err
			}
			up[n] = alive
		}
		out[p] = alive
	}
	return out, nil
}

// dropOrphans keeps the orphan set current (the known orphans, and on a scan
// a sample of matchmaking.liveness_batch tickets), dequeues orphans past the reconnect grace (reason
// disconnected: their node died and they did not come back) and returns the
// tickets that may be matched.
func (a *queueActor) dropOrphans(ctx context.Context, pool []redisx.Ticket, scan bool) []redisx.Ticket {
	var check []string
	for _, o := range a.orphans {
		check = append(check, o.player)
	}
	if scan {
		// The pool comes from a map, in random order: its first entries are
		// a fresh sample each time, so every ticket is checked in turn.
		a.scannedAt = time.Now()
		for _, t := range pool[:min(len(pool), a.env.Cfg().Matchmaking.LivenessBatch)] {
			check = append(check, t.Players()...)
		}
	}
	if len(check) > 0 {
		live, err := a.liveness(ctx, check)
		if err != nil {
			a.env.redisErr("liveness", err, "mode", a.seed.mode)
			return pool
		}
		byPlayer := make(map[string]redisx.Ticket, len(pool))
		for _, t := range pool {
			for _, p := range t.Players() {
				byPlayer[p] = t
			}
		}
		for _, p := range check {
			t, queued := byPlayer[p]
			switch {
			case !queued:
			case live[p]:
				// A party's ticket is an orphan while any member is: only
				// the member marked clears the mark.
				if o, ok := a.orphans[t.ID]; ok && o.player == p {
					delete(a.orphans, t.ID)
				}
			default:
				if _, known := a.orphans[t.ID]; !known {
					if a.orphans == nil {
						a.orphans = map[string]orphan{}
					}
					a.orphans[t.ID] = orphan{player: p, since: time.Now()}
				}
			}
		}
	}
	if len(a.orphans) == 0 {
		// Nothing to leave out: no pass over the pool (a map insert per
		// ticket per tick was a tenth of a 100,000-ticket tick).
		return pool
	}
	grace := a.env.Cfg().Session.ReconnectGrace
	inPool := make(map[string]bool, len(pool))
	out := slices.DeleteFunc(pool, func(t redisx.Ticket) bool {
		inPool[t.ID] = true
		o, ok := a.orphans[t.ID]
		if ok && time.Since(o.since) >= grace {
			a.dequeue(ctx, t, protocol.ReasonDisconnected)
			delete(a.orphans, t.ID)
		}
		return ok
	})
	for id := range a.orphans {
		if !inPool[id] {
			delete(a.orphans, id)
		}
	}
	return out
}

// expire dequeues the tickets whose current wait passed max_wait (ids, read
// at the start of the tick).
func (a *queueActor) expire(ctx context.Context, ids []string) {
	for _, id := range ids {
		t, ok, err := a.env.Store.Ticket(ctx, a.seed.mode, id)
		if err != nil || !ok {
			continue
		}
		a.dequeue(ctx, t, protocol.ReasonTimeout)
	}
}

// dequeue takes a ticket out of the queue for the system (timeout, ban) and
// tells its player.
func (a *queueActor) dequeue(ctx context.Context, t redisx.Ticket, reason string) {
	res, err := a.env.Store.RemoveTicket(ctx, t.Mode, t.Player, t.ID, reason, a.env.Cfg().Session.OutcomeTTL)
	if err != nil {
		a.env.redisErr("remove_ticket", err, "mode", t.Mode)
		return
	}
	delete(a.pool, t.ID)
	if res.Removed {
		a.insight.dequeued(a, t, reason)
		a.env.Log.Debug("ticket dequeued", "player", t.Player, "mode", t.Mode, "reason", reason)
		a.env.Events.Emit("dequeued", map[string]any{"player_id": t.Player, "mode": t.Mode, "ticket_id": t.ID, "reason": reason})
		// Every member of a party's ticket is told: it left whole.
		a.env.bus.ToPlayers(kindDequeued, t.Players(), &DequeuedMsg{Mode: t.Mode, TicketID: t.ID, Reason: reason}, nil)
	}
}
