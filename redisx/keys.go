package redisx

// Keys builds every Redis key matchd uses. All keys of one mode share the
// hash tag {m:<mode>} and all keys of one player {p:<player>}, so that each
// script touches a single Cluster slot.
type Keys struct {
	prefix string
}

// NewKeys returns the schema under prefix (config redis.key_prefix). Tests
// use a prefix each so that they can share one server.
func NewKeys(prefix string) Keys { return Keys{prefix: prefix} }

// Prefix is the key prefix in force.
func (k Keys) Prefix() string { return k.prefix }

func (k Keys) mode(mode, suffix string) string {
	return k.prefix + ":{m:" + mode + "}:" + suffix
}

// Queue is the ZSET of a mode's queued tickets by priority.
func (k Keys) Queue(mode string) string { return k.mode(mode, "q") }

// Tickets is the HASH of a mode's queued tickets' JSON.
func (k Keys) Tickets(mode string) string { return k.mode(mode, "t") }

// Players is the HASH of where each player stands in a mode: "q:<ticket>"
// while queued, "m:<match>" while in a loading room.
func (k Keys) Players(mode string) string { return k.mode(mode, "pl") }

// Waits is the ZSET of when each ticket's current wait began, for max_wait.
func (k Keys) Waits(mode string) string { return k.mode(mode, "w") }

// Added lists the tickets added to a mode's queue since the leader last
// looked; Removed the tickets removed.
func (k Keys) Added(mode string) string { return k.mode(mode, "add") }

// Removed lists the tickets removed from a mode's queue since the leader
// last looked.
func (k Keys) Removed(mode string) string { return k.mode(mode, "del") }

// Outcomes is the LIST of a player's outcomes in a mode (dequeued and why,
// match started or cancelled) not yet told to the player; it shares the
// mode's slot so every script that changes the player's place records the
// outcome in the same step.
func (k Keys) Outcomes(mode, player string) string { return k.mode(mode, "o:"+player) }

// LostMarker marks a match whose room was lost as reported, so its
// cancellation is counted once.
func (k Keys) LostMarker(mode, match string) string { return k.mode(mode, "lost:"+match) }

// Lock is a mode's matching lease.
func (k Keys) Lock(mode string) string { return k.mode(mode, "lock") }

// Fence is a mode's fencing counter.
func (k Keys) Fence(mode string) string { return k.mode(mode, "fence") }

// Insight is the HASH where a mode's lease holder publishes its last tick
// (node, fence, Redis time, duration, oldest wait) while tickets wait.
func (k Keys) Insight(mode string) string { return k.mode(mode, "info") }

// Verdicts is the HASH of the lease holder's last verdict on each waiting
// player's ticket ("<verdict>|<ticket>|<ms>"), published with Insight.
func (k Keys) Verdicts(mode string) string { return k.mode(mode, "why") }

// Rooms is the ZSET of a mode's unresolved rooms by loading deadline.
func (k Keys) Rooms(mode string) string { return k.mode(mode, "rooms") }

// Owners is the HASH of a mode's unresolved rooms and the node driving each,
// so a sweeper finds the rooms of a dead node at once.
func (k Keys) Owners(mode string) string { return k.mode(mode, "own") }

// Room is one loading room's HASH.
func (k Keys) Room(mode, matchID string) string { return k.mode(mode, "room:"+matchID) }

// Dir is a player's directory entry: the node and session that own it.
func (k Keys) Dir(player string) string { return k.prefix + ":{p:" + player + "}" }

// PlayerViolations is a player's violations ZSET.
func (k Keys) PlayerViolations(player string) string { return k.prefix + ":{s:" + player + "}" }

// DeviceViolations is a device's violations ZSET.
func (k Keys) DeviceViolations(device string) string { return k.prefix + ":{d:" + device + "}" }

// Bans is the ZSET of active bans ("p:<player>", "d:<device>") by end time,
// which the matching leader reads once a tick to dequeue sanctioned tickets.
func (k Keys) Bans() string { return k.prefix + ":bans" }

// Servers is the ZSET of registered game servers by registration expiry
// (Redis's clock). It shares a hash tag with the registrations, so one
// script registers a server in both.
func (k Keys) Servers() string { return k.prefix + ":{gs}:idx" }

// Server is one game server's registration HASH.
func (k Keys) Server(id string) string { return k.prefix + ":{gs}:s:" + id }

// Node is a node's liveness key.
func (k Keys) Node(node string) string { return k.prefix + ":node:" + node }

// NodeChannel is the Pub/Sub channel that reaches one node.
func (k Keys) NodeChannel(node string) string { return k.prefix + ":bus:" + node }

// Epoch identifies the current Redis data set; it changes when Redis loses
// its data.
func (k Keys) Epoch() string { return k.prefix + ":epoch" }

// Events is the state-event stream.
func (k Keys) Events() string { return k.prefix + ":events" }

// Lane is one matching queue of a mode: the mode itself (Region ""), or
// one region of a mode with regions (docs/protocol.md section 9.5). Each
// lane has its own pool, change lists and lease, so one mode's regions can
// be led by different nodes; every lane of a mode shares the mode's hash
// tag, so a claim can take a ticket out of all of them in one script.
type Lane struct {
	Mode, Region string
}

// String names the lane as its queue actor does: "duel" or "duel/eu".
func (l Lane) String() string {
	if l.Region == "" {
		return l.Mode
	}
	return l.Mode + "/" + l.Region
}

// lane returns suffix for a mode's own lane, suffix:<region> for a region's.
func (k Keys) lane(l Lane, suffix string) string {
	if l.Region == "" {
		return k.mode(l.Mode, suffix)
	}
	return k.mode(l.Mode, suffix+":"+l.Region)
}

// LaneQueue is the ZSET of the tickets a lane's pool lists, by priority: a
// region's holds the tickets that may ever play there; a mode without
// regions has one lane, whose queue is Queue.
func (k Keys) LaneQueue(l Lane) string {
	if l.Region == "" {
		return k.Queue(l.Mode)
	}
	return k.lane(l, "rq")
}

// LaneAdded lists the tickets added to a lane's pool since its leader last
// looked.
func (k Keys) LaneAdded(l Lane) string { return k.lane(l, "add") }

// LaneRemoved lists the tickets removed from a lane's pool since its
// leader last looked.
func (k Keys) LaneRemoved(l Lane) string { return k.lane(l, "del") }

// LaneLock is a lane's matching lease.
func (k Keys) LaneLock(l Lane) string { return k.lane(l, "lock") }

// LaneFence is a lane's fencing counter.
func (k Keys) LaneFence(l Lane) string { return k.lane(l, "fence") }

// Leaders is the ZSET of the nodes that run a mode with regions, by when
// each last asked for a lease of it (Redis's clock): the leases of the
// mode's regions are spread over the live ones.
func (k Keys) Leaders(mode string) string { return k.mode(mode, "nodes") }

// Homes is the HASH of the regions each of those nodes leads in
// preference (",eu,asia,"), expiring with Leaders.
func (k Keys) Homes(mode string) string { return k.mode(mode, "homes") }

// Party is a party's HASH: leader, open ("1"|"0"), max (size), created
// (ms), ver (bumped by every change, for compare-and-set) and queue (the
// "<mode>|<ticket>" the party was queued with, absent when none). Every key
// of one party shares the tag {party:<id>}, so each change is one script;
// the member list is the truth about who belongs.
func (k Keys) Party(id string) string { return k.prefix + ":{party:" + id + "}" }

// PartyMembers is the ZSET of a party's members by join order (Redis's
// clock in µs, strictly increasing).
func (k Keys) PartyMembers(id string) string { return k.Party(id) + ":m" }

// PartyInvited is the ZSET of a party's invited players by invitation
// expiry (ms, Redis's clock).
func (k Keys) PartyInvited(id string) string { return k.Party(id) + ":i" }

// PlayerParty is a player's pointer to its party (STRING party id), in the
// player's slot. It is a hint: it counts only while that party lists the
// player, so a crash between the party's and the player's step leaves a
// stale pointer that readers drop.
func (k Keys) PlayerParty(player string) string { return k.Dir(player) + ":party" }

// PlayerInvites is the HASH of a player's invitations: party id ->
// "<from>|<expires_ms>", in the player's slot so that a player who
// connects later finds them.
func (k Keys) PlayerInvites(player string) string { return k.Dir(player) + ":inv" }

// PartyIndex is the ZSET of parties by expiry (ms, Redis's clock), for the
// cluster-wide parties gauge; it is kept as a separate step after a
// party's own script.
func (k Keys) PartyIndex() string { return k.prefix + ":parties" }
