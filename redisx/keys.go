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
