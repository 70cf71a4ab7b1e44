package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RoomState is a room's state as stored in Redis, or what a room call found
// instead of a room.
type RoomState string

// Room states.
const (
	// RoomLoading: members are loading; the deadline runs.
	RoomLoading RoomState = "loading"
	// RoomAllocating: every member loaded; a game server is being asked.
	RoomAllocating RoomState = "allocating"
	// RoomStarted: the match started (match_ready was due).
	RoomStarted RoomState = "started"
	// RoomCancelled: the match was cancelled (match_cancelled was due).
	RoomCancelled RoomState = "cancelled"
	// RoomGone: there is no such room (never formed, or its record expired).
	RoomGone RoomState = "gone"
	// RoomNotMember: the room exists but the caller is not one of its members.
	RoomNotMember RoomState = "not_member"
)

// Open reports whether the room is unresolved.
func (s RoomState) Open() bool { return s == RoomLoading || s == RoomAllocating }

// Room is a loading room as stored in Redis.
type Room struct {
	MatchID    string
	Mode       string
	State      RoomState
	Owner      string
	DeadlineMs int64
	CreatedMs  int64
	Members    []string
	Teams      [][]string
	Ready      map[string]bool
	Tickets    map[string]Ticket
	// Outcome fields, set once the room is resolved.
	Server   json.RawMessage
	Reason   string
	Leaver   string
	Requeued []string
	NoShows  []string
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Room reads a room; ok is false when it does not exist (never formed, or
// its record expired).
func (c *Client) Room(ctx context.Context, mode, matchID string) (Room, bool, error) {
	m, err := c.R.Do(ctx, c.R.B().Hgetall().Key(c.Keys.Room(mode, matchID)).Build()).AsStrMap()
	if err != nil {
		return Room{}, false, fmt.Errorf("redisx: room: %w", err)
	}
	if len(m) == 0 {
		return Room{}, false, nil
	}
	r := Room{
		MatchID: m["match"], Mode: m["mode"], State: RoomState(m["state"]), Owner: m["owner"],
		Members: splitIDs(m["members"]), Ready: map[string]bool{}, Tickets: map[string]Ticket{},
		Reason: m["reason"], Leaver: m["leaver"], Requeued: splitIDs(m["requeued"]), NoShows: splitIDs(m["no_shows"]),
	}
	if r.DeadlineMs, err = strconv.ParseInt(m["deadline"], 10, 64); err != nil {
		return Room{}, false, fmt.Errorf("redisx: room %s deadline: %w", matchID, err)
	}
	if r.CreatedMs, err = strconv.ParseInt(m["created"], 10, 64); err != nil {
		return Room{}, false, fmt.Errorf("redisx: room %s created: %w", matchID, err)
	}
	if s := m["server"]; s != "" {
		r.Server = json.RawMessage(s)
	}
	if err := json.Unmarshal([]byte(m["teams"]), &r.Teams); err != nil {
		return Room{}, false, fmt.Errorf("redisx: room %s teams: %w", matchID, err)
	}
	for _, p := range r.Members {
		if m["r:"+p] != "" {
			r.Ready[p] = true
		}
		var t Ticket
		if err := json.Unmarshal([]byte(m["t:"+p]), &t); err == nil {
			r.Tickets[p] = t
		}
	}
	return r, true, nil
}

// ErrOutcomeTTL reports a call that would record outcomes without a TTL
// (PEXPIRE 0 would delete them at once): a bug in the caller.
var ErrOutcomeTTL = errors.New("redisx: outcome TTL must be > 0")

// ReadyResult is the outcome of MarkReady.
type ReadyResult struct {
	// State is RoomLoading when the mark applied, else the room's state or
	// RoomGone / RoomNotMember; RoomStarted too when this call started the
	// match.
	State   RoomState
	New     bool
	Members []string
	Ready   []string
	// Owner is the node driving the room.
	Owner string
	// Started is true when this call started the match (MarkReadyStart):
	// the caller announces it, exactly once.
	Started bool
}

// MarkReady records that player finished loading the match.
func (c *Client) MarkReady(ctx context.Context, mode, matchID, player string) (ReadyResult, error) {
	return c.markReady(ctx, []string{c.Keys.Room(mode, matchID)}, []string{player})
}

// MarkReadyStart is MarkReady that also starts the match, in the same
// step, when this mark completes it: what Resolve "start" does, with no
// server (allocator none). It saves the room a round trip and its members
// a wait. members are the room's members, whose outcomes the start records.
func (c *Client) MarkReadyStart(ctx context.Context, mode, matchID, player string, members []string, nowMs int64, finishedTTL, outcomeTTL time.Duration) (ReadyResult, error) {
	if outcomeTTL <= 0 {
		return ReadyResult{}, ErrOutcomeTTL
	}
	k := c.Keys
	keys := append(make([]string, 0, 4+len(members)), k.Room(mode, matchID), k.Players(mode), k.Rooms(mode), k.Owners(mode))
	args := append(make([]string, 0, 5+len(members)), player, "start", ms(finishedTTL), i64(nowMs), ms(outcomeTTL))
	for _, p := range members {
		keys = append(keys, k.Outcomes(mode, p))
		args = append(args, p)
	}
	return c.markReady(ctx, keys, args)
}

func (c *Client) markReady(ctx context.Context, keys, args []string) (ReadyResult, error) {
	arr, err := c.scripts.roomReady.Exec(ctx, c.R, keys, args).ToArray()
	if err != nil {
		return ReadyResult{}, fmt.Errorf("redisx: mark ready: %w", err)
	}
	if len(arr) != 6 {
		return ReadyResult{}, ErrBadReply
	}
	st, e1 := arr[0].ToString()
	n, e2 := arr[1].AsInt64()
	mem, e3 := arr[2].ToString()
	rdy, e4 := arr[3].ToString()
	owner, e5 := arr[4].ToString()
	started, e6 := arr[5].AsInt64()
	for _, e := range []error{e1, e2, e3, e4, e5, e6} {
		if e != nil {
			return ReadyResult{}, fmt.Errorf("%w: mark ready: %v", ErrBadReply, e)
		}
	}
	return ReadyResult{State: RoomState(st), New: n == 1, Members: splitIDs(mem), Ready: splitIDs(rdy), Owner: owner, Started: started == 1}, nil
}

// ResolveOutcome is how a room is to end.
type ResolveOutcome string

// Resolve outcomes.
const (
	// ResolveStart starts the match (every member loaded).
	ResolveStart ResolveOutcome = "start"
	// ResolveAllocating marks a fully loaded room as asking for a server.
	ResolveAllocating ResolveOutcome = "allocating"
	// ResolveCancel cancels the match, requeueing per the policy.
	ResolveCancel ResolveOutcome = "cancel"
)

// Resolution is how a room ends.
type Resolution struct {
	Outcome ResolveOutcome
	// Reason is the cancel reason of docs/protocol.md (loading_timeout,
	// player_left, allocation_failed).
	Reason string
	// Leaver is the dodging player for player_left.
	Leaver string
	// RequeueAll requeues every member but the leaver, loaded or not.
	RequeueAll  bool
	Server      json.RawMessage
	FinishedTTL time.Duration
	OutcomeTTL  time.Duration
	NowMs       int64
}

// ResolveStatus says what a Resolve call did.
type ResolveStatus string

// Resolve statuses.
const (
	// ResolveOK: this call resolved the room; the caller notifies and counts.
	ResolveOK ResolveStatus = "ok"
	// ResolveAlready: the room was resolved before (State says how).
	ResolveAlready ResolveStatus = "already"
	// ResolveGone: there is no such room.
	ResolveGone ResolveStatus = "gone"
	// ResolveNotReady: a start was asked while a member has not loaded.
	ResolveNotReady ResolveStatus = "not_ready"
)

// ResolveResult is the outcome of Resolve.
type ResolveResult struct {
	Status   ResolveStatus
	State    RoomState
	Requeued []string
	NoShows  []string
}

// Resolve ends a room exactly once; only the caller that gets ResolveOK may
// notify the members and count the outcome. members are the room's members,
// whose outcomes the script records.
func (c *Client) Resolve(ctx context.Context, mode, matchID string, members []string, r Resolution) (ResolveResult, error) {
	if r.OutcomeTTL <= 0 && r.Outcome != ResolveAllocating {
		return ResolveResult{}, ErrOutcomeTTL
	}
	k := c.Keys
	server := "null"
	if len(r.Server) > 0 {
		server = string(r.Server)
	}
	policy := "ready"
	if r.RequeueAll {
		policy = "all"
	}
	keys := append(make([]string, 0, 8+len(members)),
		k.Room(mode, matchID), k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Rooms(mode), k.Owners(mode), k.Added(mode))
	args := append(make([]string, 0, 8+len(members)),
		string(r.Outcome), r.Reason, r.Leaver, ms(r.FinishedTTL), server, i64(r.NowMs), policy, ms(r.OutcomeTTL))
	for _, p := range members {
		keys = append(keys, k.Outcomes(mode, p))
		args = append(args, p)
	}
	arr, err := c.scripts.roomResolve.Exec(ctx, c.R, keys, args).ToArray()
	if err != nil {
		return ResolveResult{}, fmt.Errorf("redisx: resolve room: %w", err)
	}
	if len(arr) != 4 {
		return ResolveResult{}, ErrBadReply
	}
	st, e1 := arr[0].ToString()
	state, e2 := arr[1].ToString()
	rq, e3 := arr[2].ToString()
	ns, e4 := arr[3].ToString()
	for _, e := range []error{e1, e2, e3, e4} {
		if e != nil {
			return ResolveResult{}, fmt.Errorf("%w: resolve room: %v", ErrBadReply, e)
		}
	}
	return ResolveResult{Status: ResolveStatus(st), State: RoomState(state), Requeued: splitIDs(rq), NoShows: splitIDs(ns)}, nil
}

// AdoptRoom makes newOwner the room's owner if it is unresolved and still
// owned by oldOwner.
func (c *Client) AdoptRoom(ctx context.Context, mode, matchID, oldOwner, newOwner string) (bool, error) {
	n, err := c.scripts.roomAdopt.Exec(ctx, c.R, []string{c.Keys.Room(mode, matchID), c.Keys.Owners(mode)}, []string{oldOwner, newOwner}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: adopt room: %w", err)
	}
	return n == 1, nil
}

// RoomRef is an unresolved room and its loading deadline.
type RoomRef struct {
	MatchID    string
	DeadlineMs int64
}

// OpenRooms lists a mode's unresolved rooms with a deadline at or before
// beforeMs.
func (c *Client) OpenRooms(ctx context.Context, mode string, beforeMs int64) ([]RoomRef, error) {
	zs, err := c.R.Do(ctx, c.R.B().Zrangebyscore().Key(c.Keys.Rooms(mode)).Min("-inf").Max(i64(beforeMs)).Withscores().Build()).AsZScores()
	if err != nil {
		return nil, fmt.Errorf("redisx: open rooms: %w", err)
	}
	out := make([]RoomRef, len(zs))
	for i, z := range zs {
		out[i] = RoomRef{MatchID: z.Member, DeadlineMs: int64(z.Score)}
	}
	return out, nil
}

// ForgetStatus says what ForgetRoom did.
type ForgetStatus int

// Forget statuses.
const (
	// ForgetDone: the room was forgotten by this call; Freed holds its players.
	ForgetDone ForgetStatus = 1
	// ForgetNotIndexed: someone else forgot it already.
	ForgetNotIndexed ForgetStatus = 0
	// ForgetExists: the room record exists; it must be resolved instead.
	ForgetExists ForgetStatus = -1
)

// ForgetRoom forgets a room whose record is gone: it leaves the open set
// and the owners index, and its players are freed, so the sweeper does not
// revisit it and nobody stays "in a room" that no longer exists. The caller
// then records each freed player's outcome (PushOutcomes), a step of its own
// because the players are only known once this one ran; a crash in between
// leaves players free and untold, which their sessions repair: a session
// loading a room that no longer exists reports it lost.
func (c *Client) ForgetRoom(ctx context.Context, mode, matchID string) (ForgetStatus, []string, error) {
	k := c.Keys
	arr, err := c.scripts.roomForget.Exec(ctx, c.R, []string{k.Room(mode, matchID), k.Rooms(mode), k.Owners(mode), k.Players(mode)},
		[]string{matchID}).ToArray()
	if err != nil {
		return 0, nil, fmt.Errorf("redisx: forget room: %w", err)
	}
	if len(arr) == 0 {
		return 0, nil, ErrBadReply
	}
	st, err := arr[0].AsInt64()
	if err != nil {
		return 0, nil, fmt.Errorf("%w: forget status: %v", ErrBadReply, err)
	}
	if ForgetStatus(st) != ForgetDone {
		return ForgetStatus(st), nil, nil
	}
	freed := make([]string, 0, len(arr)-1)
	for _, m := range arr[1:] {
		p, err := m.ToString()
		if err != nil {
			return 0, nil, fmt.Errorf("%w: forgotten player: %v", ErrBadReply, err)
		}
		freed = append(freed, p)
	}
	return ForgetDone, freed, nil
}

// RoomOwners maps each unresolved room of a mode to the node driving it.
func (c *Client) RoomOwners(ctx context.Context, mode string) (map[string]string, error) {
	m, err := c.R.Do(ctx, c.R.B().Hgetall().Key(c.Keys.Owners(mode)).Build()).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("redisx: room owners: %w", err)
	}
	return m, nil
}
