// Package protocol holds the wire types of docs/protocol.md (matchd.v1): the
// frames clients send, the frames the server sends and the error codes. The
// gateway, the e2e tests and cmd/matchload import it, so the contract is
// written once.
package protocol

import "encoding/json"

// Subprotocol is the WebSocket subprotocol the server offers.
const Subprotocol = "matchd.v1"

// Client message types.
const (
	TypeEnqueue         = "enqueue"
	TypeCancel          = "cancel"
	TypeLoadingComplete = "loading_complete"
	TypeSync            = "sync"
	TypePing            = "ping"

	// Party requests (docs/protocol.md section 9.6).
	TypePartyCreate  = "party_create"
	TypePartyInvite  = "party_invite"
	TypePartyJoin    = "party_join"
	TypePartyLeave   = "party_leave"
	TypePartyKick    = "party_kick"
	TypePartyPromote = "party_promote"
)

// Server message types.
const (
	TypeWelcome        = "welcome"
	TypeQueued         = "queued"
	TypeDequeued       = "dequeued"
	TypeMatchFound     = "match_found"
	TypeLoadingStatus  = "loading_status"
	TypeMatchReady     = "match_ready"
	TypeMatchCancelled = "match_cancelled"
	TypeState          = "state"
	TypePong           = "pong"
	TypeError          = "error"
	TypeServerDraining = "server_draining"

	// Party frames (docs/protocol.md section 9.6).
	TypeParty = "party"
	// TypePartyInvited tells a player it was invited. The contract gives
	// it the same string as the request that causes it, TypePartyInvite;
	// the direction tells them apart.
	TypePartyInvited = "party_invite"
	TypePartyLeft    = "party_left"
)

// Code is an error code of docs/protocol.md section 4.1; no other value is sent.
type Code string

// Error codes.
const (
	CodeBadRequest      Code = "BAD_REQUEST"
	CodeUnknownType     Code = "UNKNOWN_TYPE"
	CodeUnknownMode     Code = "UNKNOWN_MODE"
	CodeInvalidState    Code = "INVALID_STATE"
	CodeBanned          Code = "BANNED"
	CodeRateLimited     Code = "RATE_LIMITED"
	CodeUnavailable     Code = "UNAVAILABLE"
	CodeSessionReplaced Code = "SESSION_REPLACED"
	CodeInternal        Code = "INTERNAL"
	CodeUnauthorized    Code = "UNAUTHORIZED"

	// Party refusals (docs/protocol.md section 9.6).
	CodeNotFound      Code = "NOT_FOUND"
	CodeForbidden     Code = "FORBIDDEN"
	CodePartyFull     Code = "PARTY_FULL"
	CodePartyTooLarge Code = "PARTY_TOO_LARGE"
	CodePartyNotReady Code = "PARTY_NOT_READY"
)

// Dequeue reasons.
const (
	ReasonCancelled    = "cancelled"
	ReasonTimeout      = "timeout"
	ReasonBanned       = "banned"
	ReasonDraining     = "draining"
	ReasonDisconnected = "disconnected"
	// ReasonPartyChanged: the party's membership changed while it was
	// queued, which takes its ticket out for every member.
	ReasonPartyChanged = "party_changed"
)

// Reasons a player is told party_left.
const (
	PartyLeftLeft         = "left"
	PartyLeftKicked       = "kicked"
	PartyLeftDisconnected = "disconnected"
	PartyLeftDisbanded    = "disbanded"
)

// Match cancel reasons.
const (
	ReasonLoadingTimeout   = "loading_timeout"
	ReasonPlayerLeft       = "player_left"
	ReasonAllocationFailed = "allocation_failed"
	// ReasonRoomLost: the match's record was lost (Redis restarted empty,
	// or it expired unresolved); the members are requeued with their queue
	// time and no violation.
	ReasonRoomLost = "room_lost"
)

// Session state names.
const (
	StateIdle    = "idle"
	StateQueued  = "queued"
	StateLoading = "loading"
)

// WebSocket close codes of docs/protocol.md section 4.2.
const (
	CloseNormal          = 1000
	ClosePolicy          = 1008
	CloseTooBig          = 1009
	CloseInternal        = 1011
	CloseDraining        = 1012
	CloseSessionReplaced = 4001
)

// ClientMessage is any client frame; fields a type does not use stay empty.
type ClientMessage struct {
	Type    string `json:"type"`
	Rid     string `json:"rid,omitempty"`
	Mode    string `json:"mode,omitempty"`
	MatchID string `json:"match_id,omitempty"`
	// Latencies is an enqueue's measured round trip per region, in ms
	// (docs/protocol.md section 15); nil when the frame has none.
	Latencies map[string]float64 `json:"latencies,omitempty"`
	// PlayerID is the player a party_invite, party_kick or party_promote
	// is about.
	PlayerID string `json:"player_id,omitempty"`
	// PartyID is the party a party_join asks for.
	PartyID string `json:"party_id,omitempty"`
	// Open is a party_create's wish for a party anyone may join.
	Open bool `json:"open,omitempty"`
}

// State is the state object of docs/protocol.md section 3.4.
type State struct {
	Name     string `json:"name"`
	Mode     string `json:"mode,omitempty"`
	TicketID string `json:"ticket_id,omitempty"`
	MatchID  string `json:"match_id,omitempty"`
	// PartyID is set while the player is in a party, whatever Name says.
	PartyID string `json:"party_id,omitempty"`
	SinceMs int64  `json:"since_ms"`
}

// Welcome is the first frame of every connection.
type Welcome struct {
	Type         string `json:"type"`
	Protocol     string `json:"protocol"`
	SessionID    string `json:"session_id"`
	PlayerID     string `json:"player_id"`
	NodeID       string `json:"node_id"`
	ServerTimeMs int64  `json:"server_time_ms"`
	State        State  `json:"state"`
}

// Queued acknowledges an enqueue, or announces a requeue.
type Queued struct {
	Type       string `json:"type"`
	Rid        string `json:"rid,omitempty"`
	Mode       string `json:"mode"`
	TicketID   string `json:"ticket_id"`
	QueuedAtMs int64  `json:"queued_at_ms"`
	Requeued   bool   `json:"requeued"`
}

// Dequeued says a ticket left the queue without a match.
type Dequeued struct {
	Type     string `json:"type"`
	Rid      string `json:"rid,omitempty"`
	Mode     string `json:"mode"`
	TicketID string `json:"ticket_id"`
	Reason   string `json:"reason"`
}

// MatchFound starts loading.
type MatchFound struct {
	Type              string     `json:"type"`
	MatchID           string     `json:"match_id"`
	Mode              string     `json:"mode"`
	Teams             [][]string `json:"teams"`
	LoadingDeadlineMs int64      `json:"loading_deadline_ms"`
	// Region is where the match is played; nil (JSON null) for a mode
	// without regions.
	Region *string `json:"region"`
}

// LoadingStatus tells every member who has loaded.
type LoadingStatus struct {
	Type    string   `json:"type"`
	Rid     string   `json:"rid,omitempty"`
	MatchID string   `json:"match_id"`
	Ready   []string `json:"ready"`
	Waiting []string `json:"waiting"`
}

// MatchReady sends the members to play. Server is JSON null when no
// allocator is configured.
type MatchReady struct {
	Type    string          `json:"type"`
	MatchID string          `json:"match_id"`
	Server  json.RawMessage `json:"server"`
}

// MatchCancelled says a match did not start.
type MatchCancelled struct {
	Type string `json:"type"`
	// Rid is set on the dodger's copy: the reply to its cancel.
	Rid      string   `json:"rid,omitempty"`
	MatchID  string   `json:"match_id"`
	Reason   string   `json:"reason"`
	Requeued bool     `json:"requeued"`
	NoShows  []string `json:"no_shows"`
}

// StateReply answers sync.
type StateReply struct {
	Type  string `json:"type"`
	Rid   string `json:"rid,omitempty"`
	State State  `json:"state"`
}

// Pong answers ping.
type Pong struct {
	Type         string `json:"type"`
	Rid          string `json:"rid,omitempty"`
	ServerTimeMs int64  `json:"server_time_ms"`
}

// Error refuses a request.
type Error struct {
	Type         string `json:"type"`
	Rid          string `json:"rid,omitempty"`
	Code         Code   `json:"code"`
	Message      string `json:"message"`
	RetryAfterMs int64  `json:"retry_after_ms,omitempty"`
	State        *State `json:"state,omitempty"`
	IncidentID   string `json:"incident_id,omitempty"`
	// Players names the members a party's enqueue was refused for
	// (PARTY_NOT_READY, and BANNED of a party).
	Players []string `json:"players,omitempty"`
}

// ServerDraining asks the client to reconnect elsewhere.
type ServerDraining struct {
	Type             string `json:"type"`
	ReconnectAfterMs int64  `json:"reconnect_after_ms"`
}

// HTTPError is the JSON body of a refused handshake.
type HTTPError struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Envelope decodes any server frame loosely, for clients and tests that
// dispatch on Type before decoding the rest.
type Envelope struct {
	Type string `json:"type"`
	Rid  string `json:"rid,omitempty"`
}
