package redisx

import (
	"github.com/redis/rueidis"

	"github.com/matchd/matchd/lua"
)

// partyScripts are the scripts of parties: those on one party's slot
// (behind lua.PartyLib), those on a player's slot, and the index's.
type partyScripts struct {
	create, get, invite, join, leave   *rueidis.Lua
	kick, promote, mark, unmark, touch *rueidis.Lua
	ptrClaim, ptrRelease, ptrTouch     *rueidis.Lua
	invAdd, invList, index, count      *rueidis.Lua
	// ptrTouchSHA and indexSHA name those scripts in PartyTouch's
	// pipelined batch.
	ptrTouchSHA, indexSHA string
}

func newPartyScripts() partyScripts {
	on := func(src string) *rueidis.Lua { return rueidis.NewLuaScript(lua.PartyScript(src)) }
	return partyScripts{
		create:      on(lua.PartyCreate),
		get:         on(lua.PartyGet),
		invite:      on(lua.PartyInvite),
		join:        on(lua.PartyJoin),
		leave:       on(lua.PartyLeave),
		kick:        on(lua.PartyKick),
		promote:     on(lua.PartyPromote),
		mark:        on(lua.PartyMark),
		unmark:      on(lua.PartyUnmark),
		touch:       on(lua.PartyTouch),
		ptrClaim:    rueidis.NewLuaScript(lua.PartyPtrClaim),
		ptrRelease:  rueidis.NewLuaScript(lua.PartyPtrRelease),
		ptrTouch:    rueidis.NewLuaScript(lua.PartyPtrTouch),
		invAdd:      rueidis.NewLuaScript(lua.PartyInvAdd),
		invList:     rueidis.NewLuaScript(lua.PartyInvList),
		index:       rueidis.NewLuaScript(lua.PartyIndex),
		count:       rueidis.NewLuaScript(lua.PartyCount),
		ptrTouchSHA: shaOf(lua.PartyPtrTouch),
		indexSHA:    shaOf(lua.PartyIndex),
	}
}
