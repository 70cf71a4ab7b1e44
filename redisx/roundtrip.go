package redisx

import (
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/matchd/matchd/lua"
)

// RoundTripObserver is told the operation name and duration of every
// Redis call (a pipeline is one call).
type RoundTripObserver func(op string, d time.Duration)

// ObserveRoundTrips has every Redis call of this client timed and reported
// to fn (matchd_redis_round_trip_seconds).
func (c *Client) ObserveRoundTrips(fn RoundTripObserver) {
	if b, ok := c.R.(*breakerClient); ok {
		b.observe.Store(&fn)
	}
}

// scriptNames maps each script's SHA1 to its name (the file name without
// .lua, which each script's header opens with).
var scriptNames = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, src := range []string{lua.LockAcquire, lua.LockExtend, lua.LockRelease, lua.TicketEnqueue, lua.TicketRemove,
		lua.MatchClaim, lua.RoomReady, lua.RoomResolve, lua.RoomAdopt, lua.DirClaim, lua.DirTouch, lua.DirRelease,
		lua.SanctionRecord, lua.RoomForget, lua.OutcomeAck, lua.OutcomePush, lua.QueueChanges, lua.NodeTouch,
		lua.RoomAlloc, lua.RoomsOverdue, lua.ServerRegister, lua.ServerCount, lua.ServersLive, lua.ServerRemove} {
		name, _, ok := strings.Cut(strings.TrimPrefix(src, "-- "), ":")
		if !ok || strings.ContainsAny(name, " \n") {
			name = "script"
		}
		out[shaOf(src)] = name
	}
	return out
})

// opName names a command for the round-trip histogram: the script's name
// for EVALSHA, else the command in lower case.
func opName(cmd rueidis.Completed) string {
	parts := cmd.Commands()
	if len(parts) == 0 {
		return "unknown"
	}
	switch name := parts[0]; {
	case strings.EqualFold(name, "EVALSHA") && len(parts) > 1:
		if s, ok := scriptNames()[parts[1]]; ok {
			return s
		}
		return "evalsha"
	case strings.EqualFold(name, "EVAL") && len(parts) > 1:
		if s, ok := scriptNames()[shaOf(parts[1])]; ok {
			return s
		}
		return "eval"
	default:
		return strings.ToLower(name)
	}
}

// opOf names a call before it is made (rueidis may recycle a command
// once it has run); "" when nobody observes.
func (b *breakerClient) opOf(cmds ...rueidis.Completed) string {
	if b.observe.Load() == nil || len(cmds) == 0 {
		return ""
	}
	op := opName(cmds[0])
	if op == "multi" && len(cmds) > 1 {
		op = opName(cmds[1]) // a transaction is named after its first command
	}
	if len(cmds) > 1 {
		op = "batch:" + op
	}
	return op
}

// observed reports the call named op that began at start.
func (b *breakerClient) observed(op string, start time.Time) {
	if f := b.observe.Load(); f != nil && op != "" {
		(*f)(op, time.Since(start))
	}
}
