package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// ErrBadReply reports a script reply of an unexpected shape: a bug or a
// foreign writer, never a normal outcome.
var ErrBadReply = errors.New("redisx: unexpected script reply")

// Ticket is one queued unit: a solo player, or a party (Members set).
type Ticket struct {
	ID string `json:"id"`
	// Player is the solo player, or the party's leader who queued it.
	Player string  `json:"player"`
	Mode   string  `json:"mode"`
	Rating float64 `json:"rating"`
	Device string  `json:"device,omitempty"`
	// QueuedAtMs is the original queue time; a requeued ticket keeps it and
	// with it its place in the queue.
	QueuedAtMs int64 `json:"queued_at_ms"`
	// Latencies is the round trip (ms) the player measured to each region,
	// for a mode with regions.
	Latencies map[string]float64 `json:"latencies,omitempty"`
	// Regions are the regions whose pools list the ticket, set by Enqueue
	// (ModeRegions.Listed).
	Regions []string `json:"regions,omitempty"`
	// Party is the id of the party the ticket queues ("" for a solo player).
	Party string `json:"party,omitempty"`
	// Members are a party ticket's players, in the party's join order, each
	// with its own rating (teams are balanced on them) and device (a ban on
	// any of them takes the ticket out). Nil for a solo player.
	Members []TicketMember `json:"members,omitempty"`
}

// TicketMember is one player of a party ticket.
type TicketMember struct {
	Player string  `json:"player"`
	Rating float64 `json:"rating"`
	Device string  `json:"device,omitempty"`
}

// Players lists the players the ticket seats: the party's members, or the
// solo player.
func (t *Ticket) Players() []string {
	if len(t.Members) == 0 {
		return []string{t.Player}
	}
	out := make([]string, len(t.Members))
	for i, m := range t.Members {
		out[i] = m.Player
	}
	return out
}

// others lists the ticket's players other than player.
func (t *Ticket) others(player string) []string {
	var out []string
	for _, m := range t.Members {
		if m.Player != player {
			out = append(out, m.Player)
		}
	}
	return out
}

// EntryKind says where a player stands in one mode.
type EntryKind byte

// Entry kinds, as the first byte of the players hash's values.
const (
	// EntryNone: the player holds nothing in the mode.
	EntryNone EntryKind = 0
	// EntryQueued: the player holds a ticket (Entry.Ref is its id).
	EntryQueued EntryKind = 'q'
	// EntryInRoom: the player sits in a loading room (Entry.Ref is the match).
	EntryInRoom EntryKind = 'm'
)

// Entry says where a player stands in one mode.
type Entry struct {
	Kind EntryKind
	Ref  string
}

func parseEntry(s string) Entry {
	if len(s) < 2 || s[1] != ':' {
		return Entry{}
	}
	switch k := EntryKind(s[0]); k {
	case EntryQueued, EntryInRoom:
		return Entry{Kind: k, Ref: s[2:]}
	}
	return Entry{}
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// EnqueueStatus is the outcome of Enqueue.
type EnqueueStatus int

// Enqueue outcomes.
const (
	// EnqueueCreated: a new ticket was queued.
	EnqueueCreated EnqueueStatus = 1
	// EnqueueExisting: the player was already queued; the ticket is theirs.
	EnqueueExisting EnqueueStatus = 0
	// EnqueueInRoom: the player sits in a loading room of the mode.
	EnqueueInRoom EnqueueStatus = -1
	// EnqueueMembersBusy: other members of a party ticket hold something in
	// the mode (EnqueueResult.Busy names them); nothing was written.
	EnqueueMembersBusy EnqueueStatus = -2
)

// EnqueueResult is what Enqueue found or did.
type EnqueueResult struct {
	Status EnqueueStatus
	// Ticket is the new ticket (created) or the one the player holds.
	Ticket Ticket
	// Match is the room the player sits in (EnqueueInRoom).
	Match string
	// Outcomes are the player's untold outcomes in the mode, handed over
	// (and removed from Redis) by a created ticket, oldest first.
	Outcomes []Outcome
	// Busy are the party members that hold a ticket or a seat in the mode
	// (EnqueueMembersBusy).
	Busy []string
}

// Enqueue queues t unless its player is already queued or loading in the
// mode, which makes a retried enqueue idempotent across nodes. A ticket
// with QueuedAtMs 0 is stamped with Redis's clock (the result carries the
// stamp); one put back after Redis lost it keeps its own.
//
// For a mode with regions the ticket is listed in the pools of the
// regions ModeRegions.Listed names for its latencies (recorded in
// t.Regions).
func (c *Client) Enqueue(ctx context.Context, t Ticket) (EnqueueResult, error) {
	t.Regions = c.regionsOf(t.Mode).Listed(t.Latencies)
	js, err := json.Marshal(t)
	if err != nil {
		return EnqueueResult{}, err
	}
	k := c.Keys
	keys := []string{k.Queue(t.Mode), k.Tickets(t.Mode), k.Players(t.Mode), k.Waits(t.Mode), k.Added(t.Mode), k.Outcomes(t.Mode, t.Player)}
	others := t.others(t.Player)
	args := []string{t.Player, t.ID, i64(t.QueuedAtMs), string(js), strconv.Itoa(len(others))}
	args = append(args, others...)
	lanes, _ := c.laneKeys(t.Mode, t.Regions, k.LaneAdded)
	arr, err := c.scripts.enqueue.Exec(ctx, c.R, append(keys, lanes...), args).ToArray()
	if err != nil {
		return EnqueueResult{}, fmt.Errorf("redisx: enqueue: %w", err)
	}
	if len(arr) < 4 {
		return EnqueueResult{}, ErrBadReply
	}
	st, err := arr[0].AsInt64()
	if err != nil {
		return EnqueueResult{}, fmt.Errorf("%w: enqueue status: %v", ErrBadReply, err)
	}
	ref, err := arr[1].ToString()
	if err != nil {
		return EnqueueResult{}, fmt.Errorf("%w: enqueue ref: %v", ErrBadReply, err)
	}
	switch EnqueueStatus(st) {
	case EnqueueInRoom:
		return EnqueueResult{Status: EnqueueInRoom, Match: ref}, nil
	case EnqueueMembersBusy:
		return EnqueueResult{Status: EnqueueMembersBusy, Busy: splitIDs(ref)}, nil
	case EnqueueCreated:
		// The script stored t as given but for the stamp: no need to parse
		// the JSON back.
		at, err := replyInt(arr[3])
		if err != nil {
			return EnqueueResult{}, fmt.Errorf("%w: enqueue time: %v", ErrBadReply, err)
		}
		t.QueuedAtMs = at
		out, err := parseOutcomes(arr[4:])
		if err != nil {
			return EnqueueResult{}, err
		}
		return EnqueueResult{Status: EnqueueCreated, Ticket: t, Outcomes: out}, nil
	case EnqueueExisting:
		body, err := arr[2].ToString()
		if err != nil {
			return EnqueueResult{}, fmt.Errorf("%w: enqueue body: %v", ErrBadReply, err)
		}
		var got Ticket
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			return EnqueueResult{}, fmt.Errorf("redisx: ticket %s: %w", ref, err)
		}
		return EnqueueResult{Status: EnqueueExisting, Ticket: got}, nil
	}
	return EnqueueResult{}, ErrBadReply
}

// replyInt reads an integer reply element, sent as an integer or as a
// string (a sorted-set score, which Redis may print in exponent form).
func replyInt(m rueidis.RedisMessage) (int64, error) {
	if n, err := m.AsInt64(); err == nil {
		return n, nil
	}
	s, err := m.ToString()
	if err != nil {
		return 0, err
	}
	return parseScore(s)
}

// RemoveResult is what RemoveTicket did.
type RemoveResult struct {
	// Removed is true when this call took the ticket out.
	Removed bool
	// Ticket is the removed ticket's id.
	Ticket string
	// Entry is where the player stands instead, when nothing was removed.
	Entry Entry
	// Outcomes are the player's untold outcomes in the mode after the
	// removal (this removal's own last, when a reason was recorded).
	Outcomes []Outcome
	// Others are the other members of a removed party ticket, whose entries
	// went with it and who must be told.
	Others []string
}

// RemoveTicket takes the player's ticket out of the mode's queue; ticketID ""
// means whatever ticket the player holds. A non-empty reason (a dequeued
// reason of docs/protocol.md) is recorded as the player's outcome in the same
// step, so whoever later finds the ticket gone also finds why. A party
// ticket leaves whole, whichever member player is: every member's outcome
// is recorded (RemoveResult.Others names the members besides player).
func (c *Client) RemoveTicket(ctx context.Context, mode, player, ticketID, reason string, outcomeTTL time.Duration) (RemoveResult, error) {
	res, body, err := c.removeTicket(ctx, mode, player, ticketID, reason, outcomeTTL, nil)
	if err != nil || body == "" {
		return res, err
	}
	// A party ticket: the script needs every member's outcome list named.
	var t Ticket
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return RemoveResult{}, fmt.Errorf("redisx: remove ticket: party ticket: %w", err)
	}
	res, body, err = c.removeTicket(ctx, mode, player, ticketID, reason, outcomeTTL, t.others(player))
	if err == nil && body != "" {
		// The party's ticket changed between the two calls: a bug or a
		// foreign writer, since a party's ticket never changes members.
		return RemoveResult{}, fmt.Errorf("%w: party ticket members changed", ErrBadReply)
	}
	return res, err
}

// removeTicket runs ticket_remove once; body is the ticket's JSON when it
// is a party's whose other members were not all named.
func (c *Client) removeTicket(ctx context.Context, mode, player, ticketID, reason string, outcomeTTL time.Duration, others []string) (RemoveResult, string, error) {
	k := c.Keys
	keys := []string{k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Removed(mode), k.Outcomes(mode, player)}
	args := []string{player, ticketID, reason, ms(outcomeTTL), mode, strconv.Itoa(len(others))}
	for _, p := range others {
		keys = append(keys, k.Outcomes(mode, p))
		args = append(args, p)
	}
	lanes, _ := c.laneKeys(mode, c.regionsOf(mode).Regions, k.LaneRemoved)
	arr, err := c.scripts.remove.Exec(ctx, c.R, append(keys, lanes...), args).ToArray()
	if err != nil {
		return RemoveResult{}, "", fmt.Errorf("redisx: remove ticket: %w", err)
	}
	if len(arr) < 2 {
		return RemoveResult{}, "", ErrBadReply
	}
	ok, err := arr[0].AsInt64()
	if err != nil {
		return RemoveResult{}, "", fmt.Errorf("%w: remove status: %v", ErrBadReply, err)
	}
	s, err := arr[1].ToString()
	if err != nil {
		return RemoveResult{}, "", fmt.Errorf("%w: remove ref: %v", ErrBadReply, err)
	}
	switch ok {
	case -1:
		return RemoveResult{}, s, nil
	case 1:
	default:
		return RemoveResult{Entry: parseEntry(s)}, "", nil
	}
	out, err := parseOutcomes(arr[2:])
	if err != nil {
		return RemoveResult{}, "", err
	}
	return RemoveResult{Removed: true, Ticket: s, Outcomes: out, Others: others}, "", nil
}

// PlayerEntry says where the player stands in the mode.
func (c *Client) PlayerEntry(ctx context.Context, mode, player string) (Entry, error) {
	s, err := c.R.Do(ctx, c.R.B().Hget().Key(c.Keys.Players(mode)).Field(player).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return Entry{}, nil
	}
	if err != nil {
		return Entry{}, fmt.Errorf("redisx: player entry: %w", err)
	}
	return parseEntry(s), nil
}

// Ticket reads one queued ticket; ok is false when it is not queued.
func (c *Client) Ticket(ctx context.Context, mode, id string) (Ticket, bool, error) {
	s, err := c.R.Do(ctx, c.R.B().Hget().Key(c.Keys.Tickets(mode)).Field(id).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return Ticket{}, false, nil
	}
	if err != nil {
		return Ticket{}, false, fmt.Errorf("redisx: ticket: %w", err)
	}
	var t Ticket
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return Ticket{}, false, fmt.Errorf("redisx: ticket %s: %w", id, err)
	}
	return t, true, nil
}

// Pool reads every queued ticket of a mode.
func (c *Client) Pool(ctx context.Context, mode string) ([]Ticket, error) {
	m, err := c.R.Do(ctx, c.R.B().Hgetall().Key(c.Keys.Tickets(mode)).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("redisx: pool: %w", err)
	}
	out := make([]Ticket, 0, len(m))
	for id, s := range m {
		var t Ticket
		if err := json.Unmarshal([]byte(s), &t); err != nil {
			return nil, fmt.Errorf("redisx: ticket %s: %w", id, err)
		}
		out = append(out, t)
	}
	return out, nil
}
