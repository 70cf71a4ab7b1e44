package redisx

import (
	"github.com/redis/rueidis"

	"github.com/matchd/matchd/lua"
)

// scripts holds each Lua script once; Exec runs EVALSHA and falls back to
// EVAL on NOSCRIPT, so a restarted Redis needs no reload step.
type scripts struct {
	lockAcquire, lockExtend, lockRelease *rueidis.Lua
	enqueue, remove, claim               *rueidis.Lua
	roomReady, roomResolve, roomAdopt    *rueidis.Lua
	dirClaim, dirTouch, dirRelease       *rueidis.Lua
	sanctionRecord, roomForget           *rueidis.Lua
	queueChanges                         *rueidis.Lua
	outcomeAck, outcomePush              *rueidis.Lua
	nodeTouch, roomAlloc, roomsOverdue   *rueidis.Lua
	serverRegister, serverCount          *rueidis.Lua
	serversLive, serverRemove            *rueidis.Lua
	party                                partyScripts
	// queueChangesSHA names queueChanges in a shared round trip (Read);
	// dirTouchSHA names dirTouch in a pipelined batch.
	queueChangesSHA, dirTouchSHA string
}

func newScripts() scripts {
	return scripts{
		lockAcquire:     rueidis.NewLuaScript(lua.LockAcquire),
		lockExtend:      rueidis.NewLuaScript(lua.LockExtend),
		lockRelease:     rueidis.NewLuaScript(lua.LockRelease),
		enqueue:         rueidis.NewLuaScript(lua.TicketEnqueue),
		remove:          rueidis.NewLuaScript(lua.TicketRemove),
		claim:           rueidis.NewLuaScript(lua.MatchClaim),
		roomReady:       rueidis.NewLuaScript(lua.RoomReady),
		roomResolve:     rueidis.NewLuaScript(lua.RoomResolve),
		roomAdopt:       rueidis.NewLuaScript(lua.RoomAdopt),
		dirClaim:        rueidis.NewLuaScript(lua.DirClaim),
		dirTouch:        rueidis.NewLuaScript(lua.DirTouch),
		dirRelease:      rueidis.NewLuaScript(lua.DirRelease),
		sanctionRecord:  rueidis.NewLuaScript(lua.SanctionRecord),
		roomForget:      rueidis.NewLuaScript(lua.RoomForget),
		queueChanges:    rueidis.NewLuaScript(lua.QueueChanges),
		outcomeAck:      rueidis.NewLuaScript(lua.OutcomeAck),
		outcomePush:     rueidis.NewLuaScript(lua.OutcomePush),
		nodeTouch:       rueidis.NewLuaScript(lua.NodeTouch),
		roomAlloc:       rueidis.NewLuaScript(lua.RoomAlloc),
		roomsOverdue:    rueidis.NewLuaScript(lua.RoomsOverdue),
		serverRegister:  rueidis.NewLuaScript(lua.ServerRegister),
		serverCount:     rueidis.NewLuaScript(lua.ServerCount),
		serversLive:     rueidis.NewLuaScript(lua.ServersLive),
		serverRemove:    rueidis.NewLuaScript(lua.ServerRemove),
		party:           newPartyScripts(),
		queueChangesSHA: shaOf(lua.QueueChanges),
		dirTouchSHA:     shaOf(lua.DirTouch),
	}
}
