// Package lua holds matchd's Redis scripts, one per file, embedded into the
// binary. Each script documents its KEYS, ARGV and reply in its header; every
// key one script touches shares a hash tag so the scripts run unchanged on
// Redis Cluster. The typed Go wrappers live in package redisx.
package lua

import _ "embed"

// LockAcquire takes a mode's matching lease and bumps its fencing counter.
//
//go:embed lock_acquire.lua
var LockAcquire string

// LockExtend renews a lease for its owner only.
//
//go:embed lock_extend.lua
var LockExtend string

// LockRelease drops a lease for its owner only.
//
//go:embed lock_release.lua
var LockRelease string

// TicketEnqueue queues a player idempotently.
//
//go:embed ticket_enqueue.lua
var TicketEnqueue string

// TicketRemove takes a player's ticket out of the queue (cancel, timeout,
// ban, disconnect).
//
//go:embed ticket_remove.lua
var TicketRemove string

// MatchClaim forms matches atomically under a fenced lease.
//
//go:embed match_claim.lua
var MatchClaim string

// RoomReady marks a room member as loaded.
//
//go:embed room_ready.lua
var RoomReady string

// RoomResolve ends a room: started, or cancelled with requeues.
//
//go:embed room_resolve.lua
var RoomResolve string

// RoomAdopt moves an unresolved room to a new owner node.
//
//go:embed room_adopt.lua
var RoomAdopt string

// DirClaim makes a session the player's one live session.
//
//go:embed dir_claim.lua
var DirClaim string

// DirTouch renews a directory entry for its session only.
//
//go:embed dir_touch.lua
var DirTouch string

// DirRelease removes a directory entry for its session only.
//
//go:embed dir_release.lua
var DirRelease string

// SanctionRecord records a violation against a player or device.
//
//go:embed sanction_record.lua
var SanctionRecord string

// RoomForget frees the players of a room whose record expired unresolved.
//
//go:embed room_forget.lua
var RoomForget string

// OutcomeAck forgets the outcomes a session has told its client.
//
//go:embed outcome_ack.lua
var OutcomeAck string

// OutcomePush records outcomes for players named after the change.
//
//go:embed outcome_push.lua
var OutcomePush string

// QueueChanges hands the matching leader the queue's changes since it last
// looked.
//
//go:embed queue_changes.lua
var QueueChanges string

// NodeTouch renews a node's liveness key with Redis's clock as its value.
//
//go:embed node_touch.lua
var NodeTouch string

// RoomAlloc records an allocation in flight in its room before the
// allocator is asked, so that nobody asks twice.
//
//go:embed room_alloc.lua
var RoomAlloc string

// RoomsOverdue lists a mode's unresolved rooms past deadline + adopt_after
// by Redis's clock.
//
//go:embed rooms_overdue.lua
var RoomsOverdue string

// ServerRegister registers or renews a game server, expiring by Redis's
// clock.
//
//go:embed server_register.lua
var ServerRegister string

// ServerCount counts a match sent to a registered game server, never
// recreating a registration that lapsed.
//
//go:embed server_count.lua
var ServerCount string

// ServersLive lists the live registrations by Redis's clock.
//
//go:embed servers_live.lua
var ServersLive string

// ServerRemove deregisters a game server.
//
//go:embed server_remove.lua
var ServerRemove string
