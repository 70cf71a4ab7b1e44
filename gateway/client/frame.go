package client

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// Frame is one server frame. Every frame type's fields share this one flat
// struct (docs/protocol.md section 3.2 says which type carries which), so
// a frame is decoded once, into one value, whatever its type; fields a
// type does not carry stay zero. The json tags are the wire names.
type Frame struct {
	Type string `json:"type"`
	// Rid is the request id of the request this frame answers, if any.
	Rid string `json:"rid"`

	// welcome
	Protocol  string `json:"protocol"`
	SessionID string `json:"session_id"`
	PlayerID  string `json:"player_id"`
	NodeID    string `json:"node_id"`
	// ServerTimeMs is the server's clock (unix ms): welcome, pong.
	ServerTimeMs int64 `json:"server_time_ms"`
	// State is the server's view of the session: welcome, state, and an
	// error that refuses a request for the state it found.
	State *protocol.State `json:"state"`

	// queued, dequeued, match_found
	Mode       string `json:"mode"`
	TicketID   string `json:"ticket_id"`
	QueuedAtMs int64  `json:"queued_at_ms"`
	// Requeued: queued after a cancelled match, or (match_cancelled) put
	// back into the queue.
	Requeued bool `json:"requeued"`
	// Reason: dequeued, match_cancelled and party_left.
	Reason string `json:"reason"`

	// match_found, loading_status, match_ready, match_cancelled
	MatchID           string     `json:"match_id"`
	Teams             [][]string `json:"teams"`
	LoadingDeadlineMs int64      `json:"loading_deadline_ms"`
	// Region is where a match_found's match is played ("" when null: a
	// mode without regions).
	Region  string   `json:"region"`
	Ready   []string `json:"ready"`
	Waiting []string `json:"waiting"`
	// Server is match_ready's game server as the allocator gave it
	// (null without an allocator).
	Server  json.RawMessage `json:"server"`
	NoShows []string        `json:"no_shows"`

	// error
	Code         protocol.Code `json:"code"`
	Message      string        `json:"message"`
	RetryAfterMs int64         `json:"retry_after_ms"`
	IncidentID   string        `json:"incident_id"`
	// Players names the party members a party's enqueue was refused for
	// (PARTY_NOT_READY, BANNED).
	Players []string `json:"players"`

	// party, party_invite, party_left (docs/protocol.md section 9.6)
	PartyID string   `json:"party_id"`
	Leader  string   `json:"leader"`
	Members []string `json:"members"`
	Invited []string `json:"invited"`
	Open    bool     `json:"open"`
	MaxSize int      `json:"max_size"`
	// From is the leader who sent a party_invite, which lasts until
	// ExpiresMs.
	From      string `json:"from"`
	ExpiresMs int64  `json:"expires_ms"`

	// server_draining
	ReconnectAfterMs int64 `json:"reconnect_after_ms"`

	// Raw is the frame as received, set by Client (DecodeFrame leaves it
	// alone). A frame that is not a JSON object arrives with an empty Type
	// and only Raw.
	Raw []byte `json:"-"`
}

// DecodeFrame fills f from one server frame, replacing what f held. The
// server's frames are flat objects of plain values, which a small scanner
// reads without encoding/json's reflection (a load generator spent about a
// tenth of its CPU there); anything the scanner would have to guess at
// (escapes, keys in other cases, unexpected types, malformed input) goes
// through encoding/json, so the result is always what json.Unmarshal gives.
func DecodeFrame(data []byte, f *Frame) error {
	*f = Frame{}
	s := scanner{b: data}
	if s.frame(f) {
		return nil
	}
	*f = Frame{}
	return json.Unmarshal(data, f)
}

// PeekType returns the type of a frame as the server encodes it (type
// first) without decoding it, or nil when the frame does not start that
// way. A client that ignores some frame types skips them with it for the
// price of a prefix compare.
func PeekType(b []byte) []byte {
	const pfx = `{"type":"`
	if !bytes.HasPrefix(b, []byte(pfx)) {
		return nil
	}
	rest := b[len(pfx):]
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return nil
	}
	return rest[:i]
}

// Err is the request refusal an error frame carries, nil for any other
// frame.
func (f *Frame) Err() *Error {
	if f.Type != protocol.TypeError {
		return nil
	}
	return &Error{Code: f.Code, Message: f.Message, RetryAfter: time.Duration(f.RetryAfterMs) * time.Millisecond,
		State: f.State, IncidentID: f.IncidentID, Rid: f.Rid, Players: f.Players}
}

// Party is the party a party frame describes, nil for any other frame.
// Members and Invited are never nil.
func (f *Frame) Party() *protocol.Party {
	if f.Type != protocol.TypeParty {
		return nil
	}
	p := &protocol.Party{Type: f.Type, Rid: f.Rid, PartyID: f.PartyID, Leader: f.Leader,
		Members: f.Members, Invited: f.Invited, Open: f.Open, MaxSize: f.MaxSize}
	if p.Members == nil {
		p.Members = []string{}
	}
	if p.Invited == nil {
		p.Invited = []string{}
	}
	return p
}

// PartyInvite is the invitation a party_invite frame brings, nil for any
// other frame.
func (f *Frame) PartyInvite() *protocol.PartyInvite {
	if f.Type != protocol.TypePartyInvited {
		return nil
	}
	return &protocol.PartyInvite{Type: f.Type, PartyID: f.PartyID, From: f.From, ExpiresMs: f.ExpiresMs}
}

// PartyLeft is a party_left frame's news, nil for any other frame.
func (f *Frame) PartyLeft() *protocol.PartyLeft {
	if f.Type != protocol.TypePartyLeft {
		return nil
	}
	return &protocol.PartyLeft{Type: f.Type, Rid: f.Rid, PartyID: f.PartyID, Reason: f.Reason}
}
