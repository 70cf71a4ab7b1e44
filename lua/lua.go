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

// PartyLib holds the helpers every script on a party's slot shares (its
// keys, reply shape and codes); it is not a script of its own.
//
//go:embed party_lib.lua
var PartyLib string

// PartyScript returns a script on a party's slot ready to load: PartyLib
// followed by src.
func PartyScript(src string) string { return PartyLib + src }

// PartyCreate creates a party led by its only member.
//
//go:embed party_create.lua
var PartyCreate string

// PartyGet reads a party, dropping its expired invitations.
//
//go:embed party_get.lua
var PartyGet string

// PartyInvite records the leader's invitation of a player in the party.
//
//go:embed party_invite.lua
var PartyInvite string

// PartyJoin adds a player to an open party or one that invited it.
//
//go:embed party_join.lua
var PartyJoin string

// PartyLeave removes a member, passing the lead on or ending the party.
//
//go:embed party_leave.lua
var PartyLeave string

// PartyKick removes a member at the leader's request.
//
//go:embed party_kick.lua
var PartyKick string

// PartyPromote hands the lead to another member.
//
//go:embed party_promote.lua
var PartyPromote string

// PartyMark records the ticket a party was queued with, compare-and-set on
// the party's version.
//
//go:embed party_mark.lua
var PartyMark string

// PartyUnmark clears a party's queue marker if it is still the caller's.
//
//go:embed party_unmark.lua
var PartyUnmark string

// PartyTouch renews a party's keys for one of its members.
//
//go:embed party_touch.lua
var PartyTouch string

// PartyPtrClaim points a player at a party unless it is in another one.
//
//go:embed party_ptr_claim.lua
var PartyPtrClaim string

// PartyPtrRelease deletes a player's party pointer if it names the party.
//
//go:embed party_ptr_release.lua
var PartyPtrRelease string

// PartyPtrTouch renews a player's party pointer if it names the party.
//
//go:embed party_ptr_touch.lua
var PartyPtrTouch string

// PartyInvAdd records an invitation in the invitee's own list.
//
//go:embed party_inv_add.lua
var PartyInvAdd string

// PartyInvList lists a player's unexpired invitations.
//
//go:embed party_inv_list.lua
var PartyInvList string

// PartyIndex lists a party in the cluster-wide index until its TTL passes.
//
//go:embed party_index.lua
var PartyIndex string

// PartyCount counts the parties the index lists as live.
//
//go:embed party_count.lua
var PartyCount string
