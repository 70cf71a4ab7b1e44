package actors

import (
	"encoding/json"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
)

// PlayerInfo is who a connection authenticated as.
type PlayerInfo struct {
	ID     string
	Rating float64
	Device string
}

// Attach binds a new connection to the player's session actor (creating it
// when needed). The reply is *Attached once the welcome frame is queued.
type Attach struct {
	Player PlayerInfo
	Outbox Outbox
}

// Attached acknowledges Attach; requests sent after it are served in order.
type Attached struct {
	PID *actor.PID
	Err error
}

// ClientRequest is one client frame for the session actor: a decoded
// request, or the gateway's refusal of a frame, which the session answers
// in order with its other replies.
type ClientRequest struct {
	SessionID string
	Msg       protocol.ClientMessage
	Refused   *Refusal
	// ArrivedMs is when the frame was read, by the node's estimate of
	// Redis's clock (the start of a stall the node was waking from, for a
	// frame it read then): a loading_complete is judged against the
	// deadline by it, however long the session took to serve it.
	ArrivedMs int64
}

// Refusal is the gateway's answer to a frame it did not pass on (over the
// rate limit, or not decodable). Close asks the session to close the
// connection (1008, persistent abuse) after this reply.
type Refusal struct {
	Rid          string
	Code         protocol.Code
	Message      string
	RetryAfterMs int64
	Close        bool
	// Players names the party members a refusal is about
	// (PARTY_NOT_READY, a party's BANNED).
	Players []string
}

// ConnClosed tells the session actor that its connection ended; the player's
// ticket or seat is kept for session.reconnect_grace.
type ConnClosed struct {
	SessionID string
}

// Crash makes an actor panic, to exercise supervision (debug.fault_injection).
type Crash struct{}

// SnapshotRequest asks an actor for its debug view; the reply is *Snapshot.
type SnapshotRequest struct {
	// Kind filters the tree ("" for all).
	Kind string
}

// Snapshot is one node of the /debug/actors tree.
type Snapshot struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	State    string         `json:"state"`
	Restarts int            `json:"restarts"`
	Mailbox  int            `json:"mailbox"`
	Children []*Snapshot    `json:"children"`
	Details  map[string]any `json:"details"`
}

// Reassert tells a session that Redis lost its data: it re-registers the
// player and puts back the ticket it holds, with its original queue time.
type Reassert struct{}

// Drain tells the coordinator the node is shutting down.
type Drain struct{}

// Bus message kinds. Messages between actors that may sit on different nodes
// travel as JSON in a BusEnvelope.
const (
	kindMatchFound     = "match_found"
	kindLoadingStatus  = "loading_status"
	kindMatchReady     = "match_ready"
	kindMatchCancelled = "match_cancelled"
	kindDequeued       = "dequeued"
	kindReplaced       = "session_replaced"
	kindMemberReady    = "member_ready"
	kindRoomResolved   = "room_resolved"
)

// BusEnvelope is one cross-node message: to some players' sessions or to a
// room actor.
type BusEnvelope struct {
	Kind    string          `json:"k"`
	Players []string        `json:"p,omitempty"`
	Match   string          `json:"m,omitempty"`
	Body    json.RawMessage `json:"b"`
}

// MatchFoundMsg starts loading for each member.
type MatchFoundMsg struct {
	MatchID string `json:"match_id"`
	Mode    string `json:"mode"`
	// Region is where the match is played ("" without regions).
	Region     string     `json:"region,omitempty"`
	Teams      [][]string `json:"teams"`
	DeadlineMs int64      `json:"deadline_ms"`
	Owner      string     `json:"owner"`
	// Tickets names each member's ticket in the match, so a session can tell
	// a match of its current ticket from a late delivery of an earlier one
	// (a stalled node's news can arrive seconds late, after many matches).
	Tickets map[string]string `json:"tickets,omitempty"`
}

// LoadingStatusMsg reports the room's progress to a member.
type LoadingStatusMsg struct {
	MatchID string   `json:"match_id"`
	Ready   []string `json:"ready"`
	Waiting []string `json:"waiting"`
}

// MatchReadyMsg sends a member to play.
type MatchReadyMsg struct {
	MatchID string          `json:"match_id"`
	Server  json.RawMessage `json:"server"`
}

// MatchCancelledMsg tells a member the match did not start. Ticket is set
// for a requeued member: the ticket it holds again.
type MatchCancelledMsg struct {
	MatchID string         `json:"match_id"`
	Mode    string         `json:"mode"`
	Reason  string         `json:"reason"`
	NoShows []string       `json:"no_shows"`
	Ticket  *redisx.Ticket `json:"ticket,omitempty"`
}

// DequeuedMsg says a ticket left the queue without a match (timeout, ban).
type DequeuedMsg struct {
	Mode     string `json:"mode"`
	TicketID string `json:"ticket_id"`
	Reason   string `json:"reason"`
}

// SessionReplacedMsg tells a session that another connection took over.
type SessionReplacedMsg struct {
	SessionID string `json:"session_id"`
}

// MemberReadyMsg tells a room that a member loaded.
type MemberReadyMsg struct {
	Player  string   `json:"player"`
	Ready   []string `json:"ready"`
	Waiting []string `json:"waiting"`
	// Started is set when this report also started the match (no
	// allocator): the room announces it, after the loading_status.
	Started bool `json:"started,omitempty"`
}

// RoomResolvedMsg tells a room actor that someone else resolved its room.
type RoomResolvedMsg struct {
	MatchID string `json:"match_id"`
}
