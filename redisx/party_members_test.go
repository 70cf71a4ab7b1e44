package redisx_test

import (
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

// TestReadMembersConnected: a member is connected while its directory
// entry names a live node; an entry left behind by a node that died (its
// liveness key gone, the entry not yet expired) is not a connection, and
// neither is no entry at all.
func TestReadMembersConnected(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		ctx := t.Context()
		if err := c.TouchNode(ctx, "up", time.Minute); err != nil {
			t.Fatal(err)
		}
		for player, node := range map[string]string{"alice": "up", "bob": "dead"} {
			if _, err := c.DirClaim(ctx, player, node, "s-"+player, time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := c.SetProfile(ctx, player, 1200, "dev-"+player, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		got, err := c.ReadMembers(ctx, []string{"alice", "bob", "carol"}, []string{"duel"})
		if err != nil {
			t.Fatal(err)
		}
		want := []redisx.MemberInfo{
			{Player: "alice", Connected: true, Profiled: true, Rating: 1200, Device: "dev-alice"},
			{Player: "bob", Connected: false, Profiled: true, Rating: 1200, Device: "dev-bob"},
			{Player: "carol"},
		}
		if len(got) != len(want) {
			t.Fatalf("ReadMembers: got %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("ReadMembers[%d]: got %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
