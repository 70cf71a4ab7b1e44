package actors

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// lossyStore runs writes for real but, while lose is set, loses their
// replies: the caller sees a timeout although Redis did the write.
type lossyStore struct {
	*redisx.Client
	lose *atomic.Int32 // number of replies still to lose
}

func (s lossyStore) lost() bool { return s.lose.Add(-1) >= 0 }

func (s lossyStore) Enqueue(ctx context.Context, t redisx.Ticket) (redisx.EnqueueResult, error) {
	res, err := s.Client.Enqueue(ctx, t)
	if err == nil && s.lost() {
		return redisx.EnqueueResult{}, context.DeadlineExceeded
	}
	return res, err
}

func (s lossyStore) RemoveTicket(ctx context.Context, mode, player, ticketID, reason string, ttl time.Duration) (redisx.RemoveResult, error) {
	res, err := s.Client.RemoveTicket(ctx, mode, player, ticketID, reason, ttl)
	if err == nil && s.lost() {
		return redisx.RemoveResult{}, context.DeadlineExceeded
	}
	return res, err
}

func lossyNode(t *testing.T) (*testNode, *atomic.Int32) {
	var lose atomic.Int32
	n := startTestNodeWith(t, redistest.Config(t), func(c *config.Config) {
		c.Redis.RetryInterval = 50 * time.Millisecond
	}, func(c *redisx.Client) Store { return lossyStore{c, &lose} })
	return n, &lose
}

// An enqueue whose reply was lost (the ticket exists) is settled by
// reading Redis: the client gets queued with that ticket, never
// UNAVAILABLE, and requests sent meanwhile are answered after it, in order.
func TestDoubtfulEnqueueIsSettledByRedis(t *testing.T) {
	t.Parallel()
	n, lose := lossyNode(t)
	p := n.connect("doubt", 1500)
	lose.Store(1)
	p.send(protocol.ClientMessage{Type: protocol.TypeEnqueue, Mode: "duel", Rid: "e1"})
	p.send(protocol.ClientMessage{Type: protocol.TypePing, Rid: "p1"})
	q := p.expect(protocol.TypeQueued)
	if q["rid"] != "e1" || q["ticket_id"] == "" {
		t.Fatalf("got %v, want queued answering e1", q)
	}
	if pong := p.expect(protocol.TypePong); pong["rid"] != "p1" {
		t.Fatalf("got %v, want the ping's pong after the enqueue's reply", pong)
	}
	e, err := n.rc.PlayerEntry(context.Background(), "duel", "doubt")
	if err != nil || e.Kind != redisx.EntryQueued || e.Ref != q["ticket_id"] {
		t.Fatalf("redis holds %+v (%v), want the ticket the client was told, %v", e, err, q["ticket_id"])
	}
	if got := counter(n.metrics.TicketsEnqueued.WithLabelValues("duel")); got != 1 {
		t.Fatalf("tickets enqueued %v, want 1 (one ticket, however many attempts)", got)
	}
}

// An enqueue whose reply was lost and whose ticket was matched before the
// session settled it: the client gets queued, then match_found, in that
// order, and can play the match.
func TestDoubtfulEnqueueMatchedMeanwhile(t *testing.T) {
	t.Parallel()
	n, lose := lossyNode(t)
	b := n.connect("mate", 1500)
	b.enqueue("duel")
	a := n.connect("doubt", 1500)
	lose.Store(1)
	a.send(protocol.ClientMessage{Type: protocol.TypeEnqueue, Mode: "duel", Rid: "e1"})
	if q := a.expect(protocol.TypeQueued); q["rid"] != "e1" {
		t.Fatalf("got %v, want queued answering e1 first", q)
	}
	found := a.expect(protocol.TypeMatchFound)
	b.expect(protocol.TypeMatchFound)
	for _, p := range []*player{a, b} {
		p.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: found["match_id"].(string), Rid: "l"})
	}
	a.expect(protocol.TypeMatchReady, protocol.TypeLoadingStatus)
	b.expect(protocol.TypeMatchReady, protocol.TypeLoadingStatus)
}

// A cancel whose reply was lost (the ticket is gone) is answered dequeued
// (cancelled) from the outcome Redis recorded with the removal.
func TestDoubtfulCancelIsSettledByRedis(t *testing.T) {
	t.Parallel()
	n, lose := lossyNode(t)
	p := n.connect("doubt", 1500)
	q := p.enqueue("duel")
	lose.Store(1)
	p.send(protocol.ClientMessage{Type: protocol.TypeCancel, Rid: "c1"})
	d := p.expect(protocol.TypeDequeued)
	if d["rid"] != "c1" || d["reason"] != protocol.ReasonCancelled || d["ticket_id"] != q["ticket_id"] {
		t.Fatalf("got %v, want dequeued cancelled answering c1", d)
	}
	if st := p.sync(); st["name"] != "idle" {
		t.Fatalf("state %v after the cancel, want idle", st)
	}
}

// lossyMarkStore loses the reply of one loading_complete mark.
type lossyMarkStore struct {
	*redisx.Client
	lose *atomic.Int32
}

func (s lossyMarkStore) MarkReadyStart(ctx context.Context, mode, matchID, player string, members []string, nowMs int64, finishedTTL, outcomeTTL time.Duration) (redisx.ReadyResult, error) {
	res, err := s.Client.MarkReadyStart(ctx, mode, matchID, player, members, nowMs, finishedTTL, outcomeTTL)
	if err == nil && s.lose.Add(-1) >= 0 {
		return redisx.ReadyResult{}, context.DeadlineExceeded
	}
	return res, err
}

// A loading_complete whose reply was lost, while the match started from it:
// the re-run finds the match over and is answered (INVALID_STATE, once),
// after match_ready; the enqueue the client sent next is served, not left
// behind the settled request.
func TestDoubtfulMarkThenMatchReady(t *testing.T) {
	t.Parallel()
	var lose atomic.Int32
	n := startTestNodeWith(t, redistest.Config(t), func(c *config.Config) {
		c.Redis.RetryInterval = 50 * time.Millisecond
	}, func(c *redisx.Client) Store { return lossyMarkStore{c, &lose} })
	a, b, found := n.duel("ma", "mb")
	match := found["match_id"].(string)
	b.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "lb"})
	b.expect(protocol.TypeLoadingStatus)
	lose.Store(1)
	a.send(protocol.ClientMessage{Type: protocol.TypeLoadingComplete, MatchID: match, Rid: "la"})
	a.send(protocol.ClientMessage{Type: protocol.TypeEnqueue, Mode: "duel", Rid: "e2"})
	if mr := a.expect(protocol.TypeMatchReady, protocol.TypeLoadingStatus); mr["match_id"] != match {
		t.Fatalf("got %v, want match_ready of %s", mr, match)
	}
	if q := a.expect(protocol.TypeQueued, protocol.TypeLoadingStatus, protocol.TypeError); q["rid"] != "e2" {
		t.Fatalf("got %v, want the enqueue e2 answered", q)
	}
}
