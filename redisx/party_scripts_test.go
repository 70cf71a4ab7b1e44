package redisx_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/matchd/matchd/lua"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// partySlotScripts run behind lua.PartyLib on one party's slot; the others
// on a player's slot or the index.
var (
	partySlotScripts = map[string]string{
		"party_create": lua.PartyCreate, "party_get": lua.PartyGet, "party_invite": lua.PartyInvite,
		"party_join": lua.PartyJoin, "party_leave": lua.PartyLeave, "party_kick": lua.PartyKick,
		"party_promote": lua.PartyPromote, "party_mark": lua.PartyMark, "party_unmark": lua.PartyUnmark,
		"party_touch": lua.PartyTouch,
	}
	partyOtherScripts = map[string]string{
		"party_ptr_claim": lua.PartyPtrClaim, "party_ptr_release": lua.PartyPtrRelease, "party_ptr_touch": lua.PartyPtrTouch,
		"party_inv_add": lua.PartyInvAdd, "party_inv_list": lua.PartyInvList,
		"party_index": lua.PartyIndex, "party_count": lua.PartyCount,
	}
)

// partyLoaded maps each party script's name to the source Redis runs.
func partyLoaded() map[string]string {
	out := map[string]string{}
	for name, src := range partySlotScripts {
		out[name] = lua.PartyScript(src)
	}
	for name, src := range partyOtherScripts {
		out[name] = src
	}
	return out
}

// The party scripts keep the rules TestScriptsTouchOnlyDeclaredKeys checks
// for the others: every key from KEYS, a header naming the script.
func TestPartyScriptsTouchOnlyDeclaredKeys(t *testing.T) {
	call := regexp.MustCompile(`redis\.call\(\s*'([A-Za-z]+)'\s*,\s*([^,)]+)`)
	declared := regexp.MustCompile(`^KEYS\[[^\]]+\]$`)
	own := map[string]string{"party_lib": lua.PartyLib}
	for name, src := range partySlotScripts {
		own[name] = src
	}
	for name, src := range partyOtherScripts {
		own[name] = src
	}
	loaded := partyLoaded()
	for name, src := range own {
		if !strings.HasPrefix(src, "-- "+name+":") {
			t.Errorf("%s: header does not open with %q", name, "-- "+name+":")
		}
		if full, ok := loaded[name]; ok && len(call.FindAllString(full, -1)) == 0 {
			t.Errorf("%s: no redis.call found", name)
		}
		for _, m := range call.FindAllStringSubmatch(src, -1) {
			if key := strings.TrimSpace(m[2]); !declared.MatchString(key) {
				t.Errorf("%s: %s on %q, want a key from KEYS", name, m[1], key)
			}
		}
	}
}

// All keys of one party share {party:<id>}; a player's pointer and
// invitations share the player's directory slot.
func TestPartyKeySchema(t *testing.T) {
	t.Parallel()
	k := redisx.NewKeys("matchd")
	for _, id := range []string{"P1", "01J9ZQ", "a:b"} {
		for _, key := range []string{k.Party(id), k.PartyMembers(id), k.PartyInvited(id)} {
			if !strings.Contains(key, "{party:"+id+"}") || slot(key) != slot("{party:"+id+"}") {
				t.Errorf("key %s: slot %d, want the {party:%s} slot", key, slot(key), id)
			}
		}
	}
	for _, p := range []string{"alice", "p:1"} {
		for _, key := range []string{k.PlayerParty(p), k.PlayerInvites(p)} {
			if slot(key) != slot(k.Dir(p)) {
				t.Errorf("key %s: slot %d, want the directory slot %d of %s", key, slot(key), slot(k.Dir(p)), p)
			}
		}
	}
}

// TestPartyScriptKeysShareASlot watches a real redis-server while every
// party call runs and checks that each script call passed keys of one slot
// (as TestScriptKeysShareASlot does for the other scripts).
func TestPartyScriptKeysShareASlot(t *testing.T) {
	t.Parallel()
	c := open(t, redistest.Config(t))
	mon := startMonitor(t, redistest.Addr(t))
	partyRound(t, c)
	lines := mon.stop(t, c)

	checkCallSlots(t, c, lines, partyLoaded())
}

// partyRound makes every party call once or more: two parties created,
// invitations, joins, a kick, a promotion, queue markers, touches, leaves
// down to the end of one party.
func partyRound(t *testing.T, c *redisx.Client) {
	t.Helper()
	ctx := t.Context()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := c.PartyCreate(ctx, "P1", "alice", false, 4, partyTTL)
	must("PartyCreate(P1)", err)
	_, err = c.PartyCreate(ctx, "P2", "erin", true, 4, partyTTL)
	must("PartyCreate(P2)", err)
	for _, p := range []string{"bob", "carol", "dave"} {
		_, _, err = c.PartyInvite(ctx, "P1", "alice", p, inviteTTL, partyTTL)
		must("PartyInvite("+p+")", err)
	}
	_, err = c.Invitations(ctx, "bob")
	must("Invitations", err)
	for _, p := range []string{"bob", "carol"} {
		_, err = c.PartyJoin(ctx, "P1", p, "", partyTTL)
		must("PartyJoin("+p+")", err)
	}
	p, err := c.PartyPromote(ctx, "P1", "alice", "bob", partyTTL)
	must("PartyPromote", err)
	_, err = c.PartyMarkQueued(ctx, "P1", "bob", "duel|t1", p.Ver, partyTTL)
	must("PartyMarkQueued", err)
	_, err = c.PartyClearQueued(ctx, "P1", "duel|t1")
	must("PartyClearQueued", err)
	_, err = c.PartyKick(ctx, "P1", "bob", "carol", "", partyTTL)
	must("PartyKick", err)
	_, err = c.PartyTouch(ctx, "P1", "alice", partyTTL)
	must("PartyTouch", err)
	_, _, err = c.PartyOf(ctx, "alice")
	must("PartyOf", err)
	_, err = c.PartiesCount(ctx)
	must("PartiesCount", err)
	_, err = c.PartyJoin(ctx, "P2", "dave", "", partyTTL)
	must("PartyJoin(P2, dave)", err)
	for _, p := range []string{"alice", "bob"} {
		_, _, err = c.PartyLeave(ctx, "P1", p, "", partyTTL)
		must("PartyLeave("+p+")", err)
	}
	_, ok, err := c.PartyGet(ctx, "P1")
	if err != nil || ok {
		t.Fatalf("PartyGet(P1) after its last leave: got %v, %v; want false", ok, err)
	}
}
