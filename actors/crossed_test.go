package actors

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// TestCancelCrossingADodgedMatchReportsIt: a ticket is matched, another
// member dodges that match and the ticket is requeued, all before the
// player's session hears of the match; the player's cancel then removes the
// requeued ticket. The player must still be told of the match it was in
// (match_found, match_cancelled with requeued, the requeue) before its
// dequeued, as every member of a formed match is.
//
// The test holds the duel lease itself, so the node never matches; it forms
// and cancels the match in Redis directly, which notifies nobody: exactly
// the moment when the session's notifications are still in flight.
func TestCancelCrossingADodgedMatchReportsIt(t *testing.T) {
	t.Parallel()
	rcfg := redistest.Config(t)
	ctx := context.Background()
	rc, err := redisx.Open(ctx, rcfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	lease := redisx.Lease{Token: "test-holds-the-lease"}
	if lease.Fence, err = rc.AcquireLock(ctx, "duel", lease.Token, time.Minute); err != nil || lease.Fence == 0 {
		t.Fatalf("acquire the duel lease: %d, %v", lease.Fence, err)
	}
	n := startTestNode(t, rcfg, nil)
	alice, bob := n.connect("alice", 1500), n.connect("bob", 1500)
	ta, tb := alice.enqueue("duel")["ticket_id"].(string), bob.enqueue("duel")["ticket_id"].(string)

	const match = "crossed-match"
	claimed, err := rc.Claim(ctx, "duel", lease, redisx.ClaimArgs{Owner: "elsewhere", LoadingTimeout: 10 * time.Second, RoomTTL: time.Minute},
		[]redisx.ClaimMatch{{MatchID: match, Teams: [][]string{{"alice"}, {"bob"}},
			Tickets: []redisx.Ticket{{ID: ta, Player: "alice"}, {ID: tb, Player: "bob"}}}})
	if err != nil || len(claimed.Formed) != 1 || !claimed.Formed[0] {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	res, err := rc.Resolve(ctx, "duel", match, []string{"alice", "bob"}, redisx.Resolution{Outcome: redisx.ResolveCancel, Reason: protocol.ReasonPlayerLeft,
		Leaver: "bob", RequeueAll: true, FinishedTTL: time.Minute, OutcomeTTL: time.Minute})
	if err != nil || res.Status != redisx.ResolveOK || len(res.Requeued) != 1 || res.Requeued[0] != "alice" {
		t.Fatalf("bob dodges: %+v, %v", res, err)
	}

	alice.send(protocol.ClientMessage{Type: protocol.TypeCancel, Rid: "c"})
	mf := alice.expect(protocol.TypeMatchFound)
	if mf["match_id"] != match {
		t.Fatalf("match_found %v, want %s", mf, match)
	}
	mc := alice.expect(protocol.TypeMatchCancelled)
	if mc["match_id"] != match || mc["reason"] != protocol.ReasonPlayerLeft || mc["requeued"] != true {
		t.Fatalf("match_cancelled %v", mc)
	}
	if q := alice.expect(protocol.TypeQueued); q["ticket_id"] != ta || q["requeued"] != true {
		t.Fatalf("requeue %v, want ticket %s requeued", q, ta)
	}
	if d := alice.expect(protocol.TypeDequeued); d["rid"] != "c" || d["reason"] != protocol.ReasonCancelled {
		t.Fatalf("dequeued %v", d)
	}
	if st := alice.sync(); st["name"] != "idle" {
		t.Fatalf("alice is %v after her cancel, want idle", st)
	}
}
