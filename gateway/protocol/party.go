package protocol

import "encoding/json"

// Party describes a party to its members: the reply to every party
// request, and what every member is sent after each change.
type Party struct {
	Type    string `json:"type"`
	Rid     string `json:"rid,omitempty"`
	PartyID string `json:"party_id"`
	Leader  string `json:"leader"`
	// Members are in join order, which decides who leads next when the
	// leader leaves.
	Members []string `json:"members"`
	// Invited are the players whose invitation still lasts.
	Invited []string `json:"invited"`
	Open    bool     `json:"open"`
	MaxSize int      `json:"max_size"`
}

// MarshalJSON writes nil Members and Invited as [], as AppendJSON does:
// the contract says both are lists, and a client should not have to
// tell null from an empty one.
func (m Party) MarshalJSON() ([]byte, error) {
	type plain Party // without the method, so Marshal does not recurse
	if m.Members == nil {
		m.Members = []string{}
	}
	if m.Invited == nil {
		m.Invited = []string{}
	}
	return json.Marshal(plain(m))
}

// PartyInvite tells a player it was invited to a party. It is never a
// reply, so it has no rid.
type PartyInvite struct {
	Type    string `json:"type"`
	PartyID string `json:"party_id"`
	// From is the leader who invited.
	From string `json:"from"`
	// ExpiresMs is when the invitation lapses (unix ms).
	ExpiresMs int64 `json:"expires_ms"`
}

// PartyLeft tells a player it is no longer in a party; Reason is one of
// the PartyLeft constants.
type PartyLeft struct {
	Type string `json:"type"`
	// Rid is set on the leaver's copy: the reply to its party_leave.
	Rid     string `json:"rid,omitempty"`
	PartyID string `json:"party_id"`
	Reason  string `json:"reason"`
}

// AppendJSON implements Appender, since every member is sent one after
// every change of its party.
func (m *Party) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendStringField(b, `,"party_id":`, m.PartyID)
	b = appendStringField(b, `,"leader":`, m.Leader)
	b = appendStrings(append(b, `,"members":`...), nonNil(m.Members))
	b = appendStrings(append(b, `,"invited":`...), nonNil(m.Invited))
	b = appendBoolField(b, `,"open":`, m.Open)
	b = appendIntField(b, `,"max_size":`, int64(m.MaxSize))
	return append(b, '}')
}

// AppendJSON implements Appender, so every server frame takes one path.
func (m *PartyInvite) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendStringField(b, `,"party_id":`, m.PartyID)
	b = appendStringField(b, `,"from":`, m.From)
	b = appendIntField(b, `,"expires_ms":`, m.ExpiresMs)
	return append(b, '}')
}

// AppendJSON implements Appender, so every server frame takes one path.
func (m *PartyLeft) AppendJSON(b []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = appendStringField(b, `{"type":`, m.Type)
	b = appendOmitString(b, `,"rid":`, m.Rid)
	b = appendStringField(b, `,"party_id":`, m.PartyID)
	b = appendStringField(b, `,"reason":`, m.Reason)
	return append(b, '}')
}

// nonNil gives an empty list for nil, for fields the contract never
// leaves null.
func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

var (
	_ Appender = (*Party)(nil)
	_ Appender = (*PartyInvite)(nil)
	_ Appender = (*PartyLeft)(nil)
)
