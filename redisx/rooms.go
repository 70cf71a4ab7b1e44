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
	// RoomLate: a mark that came after the loading deadline (Redis's clock),
	// refused: the room ends as a timeout.
	RoomLate RoomState = "late"
)

// Open reports whether the room is unresolved.
func (s RoomState) Open() bool { return s == RoomLoading || s == RoomAllocating }

// Room is a loading room as stored in Redis.
type Room struct {
	MatchID string
	Mode    string
	// Region is where the match is played ("" for a mode without regions).
	Region     string
	State      RoomState
	Owner      string
	DeadlineMs int64
	CreatedMs  int64
	Members    []string
	Teams      [][]string
	Ready      map[string]bool
	Tickets    map[string]Ticket
	// Alloc is the game-server allocation in flight, when one was recorded
	// (allocating rooms).
	Alloc *AllocMark
	// Outcome fields, set once the room is resolved.
	Server   json.RawMessage
	Reason   string
	Leaver   string
	Requeued []string
	NoShows  []string
}

// TicketIDs maps each member to the id of its ticket in the room (nil when
// the room's tickets are not loaded).
func (r *Room) TicketIDs() map[string]string {
	if len(r.Tickets) == 0 {
		return nil
	}
	ids := make(map[string]string, len(r.Tickets))
	for p, t := range r.Tickets {
		ids[p] = t.ID
	}
	return ids
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
		MatchID: m["match"], Mode: m["mode"], Region: m["region"], State: RoomState(m["state"]), Owner: m["owner"],
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
	if by := m["alloc_by"]; by != "" {
		a := &AllocMark{By: by, Server: m["alloc_server"]}
		a.Attempt, _ = strconv.Atoi(m["alloc_attempt"])
		a.AtMs, _ = strconv.ParseInt(m["alloc_at"], 10, 64)
		r.Alloc = a
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

// MarkReady records that player finished loading the match, if it did so
// before the loading deadline by Redis's clock. arrivedMs, when not 0, is
// the Redis time by which the mark had reached the node at the latest (a
// node that was stalled reads late what came in time); 0 judges by now.
func (c *Client) MarkReady(ctx context.Context, mode, matchID, player string, arrivedMs int64) (ReadyResult, error) {
	return c.markReady(ctx, []string{c.Keys.Room(mode, matchID)}, []string{player, "", "0", i64(arrivedMs)})
}

// MarkReadyStart is MarkReady that also starts the match, in the same
// step, when this mark completes it: what Resolve "start" does, with no
// server (allocator none). It saves the room a round trip and its members
// a wait. members are the room's members, whose outcomes the start records.
func (c *Client) MarkReadyStart(ctx context.Context, mode, matchID, player string, members []string, arrivedMs int64, finishedTTL, outcomeTTL time.Duration) (ReadyResult, error) {
	if outcomeTTL <= 0 {
		return ReadyResult{}, ErrOutcomeTTL
	}
	k := c.Keys
	keys := append(make([]string, 0, 4+len(members)), k.Room(mode, matchID), k.Players(mode), k.Rooms(mode), k.Owners(mode))
	args := append(make([]string, 0, 5+len(members)), player, "start", ms(finishedTTL), i64(arrivedMs), ms(outcomeTTL))
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
	// ResolveNotDue: a timeout was asked before the deadline by Redis's
	// clock (a node whose clock runs ahead asked early); nothing changed.
	ResolveNotDue ResolveStatus = "not_due"
)

// ResolveResult is the outcome of Resolve.
type ResolveResult struct {
	Status   ResolveStatus
	State    RoomState
	Requeued []string
	NoShows  []string
	// Left is the time to the deadline, for ResolveNotDue.
	Left time.Duration
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
	regions := c.regionsOf(mode).Regions
	args := append(make([]string, 0, 8+len(members)),
		string(r.Outcome), r.Reason, r.Leaver, ms(r.FinishedTTL), server, strconv.Itoa(len(regions)), policy, ms(r.OutcomeTTL))
	for _, p := range members {
		keys = append(keys, k.Outcomes(mode, p))
		args = append(args, p)
	}
	lanes, names := c.laneKeys(mode, regions, k.LaneAdded)
	keys = append(keys, lanes...)
	args = append(args, names...)
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
	out := ResolveResult{Status: ResolveStatus(st), State: RoomState(state)}
	if out.Status == ResolveNotDue {
		left, err := strconv.ParseInt(rq, 10, 64)
		if err != nil {
			return ResolveResult{}, fmt.Errorf("%w: resolve time left: %v", ErrBadReply, err)
		}
		out.Left = time.Duration(left) * time.Millisecond
		return out, nil
	}
	out.Requeued, out.NoShows = splitIDs(rq), splitIDs(ns)
	return out, nil
}

// AdoptWhy says on what grounds a room changes owner.
type AdoptWhy string

// Adoption grounds.
const (
	// AdoptDead: the owner's liveness key is gone.
	AdoptDead AdoptWhy = "dead"
	// AdoptOverdue: the owner lives, but the deadline is adopt_after behind
	// Redis's clock (the script checks).
	AdoptOverdue AdoptWhy = "overdue"
	// AdoptHandover: the owner gives the room up (it drains); newOwner "".
	AdoptHandover AdoptWhy = "handover"
)

// AdoptRoom makes newOwner the room's owner if it is unresolved, still
// owned by oldOwner, and why holds by Redis's clock. A room waiting on a
// game server is not taken from a living owner within allocBudget.
func (c *Client) AdoptRoom(ctx context.Context, mode, matchID, oldOwner, newOwner string, why AdoptWhy, adoptAfter, allocBudget time.Duration) (bool, error) {
	n, err := c.scripts.roomAdopt.Exec(ctx, c.R, []string{c.Keys.Room(mode, matchID), c.Keys.Owners(mode)},
		[]string{oldOwner, newOwner, string(why), ms(adoptAfter), ms(allocBudget)}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisx: adopt room: %w", err)
	}
	return n == 1, nil
}

// AllocMark is a game-server allocation recorded in its room before the
// allocator was asked.
type AllocMark struct {
	// By is who asks: a node id and its process incarnation.
	By string
	// Server is the server chosen; Attempt the attempt number.
	Server  string
	Attempt int
	// AtMs is when it was recorded, by Redis's clock.
	AtMs int64
}

// AllocStatus says what RecordAlloc did.
type AllocStatus string

// Allocation record outcomes.
const (
	// AllocRecorded: the caller may ask the server it recorded.
	AllocRecorded AllocStatus = "ok"
	// AllocHeld: another asker's allocation is in flight within its budget.
	AllocHeld AllocStatus = "held"
	// AllocNotAllocating: the room is not waiting for a server.
	AllocNotAllocating AllocStatus = "not_allocating"
)

// RecordAlloc records in the room that m.By is about to ask m.Server
// (attempt m.Attempt), unless another asker's allocation is in flight
// within budget, which it returns instead.
func (c *Client) RecordAlloc(ctx context.Context, mode, matchID string, m AllocMark, budget time.Duration) (AllocStatus, *AllocMark, error) {
	arr, err := c.scripts.roomAlloc.Exec(ctx, c.R, []string{c.Keys.Room(mode, matchID)},
		[]string{m.By, m.Server, strconv.Itoa(m.Attempt), ms(budget)}).ToArray()
	if err != nil {
		return "", nil, fmt.Errorf("redisx: record allocation: %w", err)
	}
	if len(arr) == 0 {
		return "", nil, ErrBadReply
	}
	st, err := arr[0].ToString()
	if err != nil {
		return "", nil, fmt.Errorf("%w: allocation status: %v", ErrBadReply, err)
	}
	if AllocStatus(st) != AllocHeld {
		return AllocStatus(st), nil, nil
	}
	if len(arr) != 4 {
		return "", nil, ErrBadReply
	}
	held := &AllocMark{}
	held.By, _ = arr[1].ToString()
	held.Server, _ = arr[2].ToString()
	n, _ := arr[3].ToString()
	held.Attempt, _ = strconv.Atoi(n)
	return AllocHeld, held, nil
}

// RoomRef is an unresolved room and its loading deadline.
type RoomRef struct {
	MatchID    string
	DeadlineMs int64
}

// OverdueRooms lists a mode's unresolved rooms whose deadline is at least
// adoptAfter behind Redis's clock.
func (c *Client) OverdueRooms(ctx context.Context, mode string, adoptAfter time.Duration) ([]RoomRef, error) {
	arr, err := c.scripts.roomsOverdue.Exec(ctx, c.R, []string{c.Keys.Rooms(mode)}, []string{ms(adoptAfter)}).ToArray()
	if err != nil {
		return nil, fmt.Errorf("redisx: overdue rooms: %w", err)
	}
	if len(arr)%2 != 0 {
		return nil, ErrBadReply
	}
	out := make([]RoomRef, 0, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		id, err := arr[i].ToString()
		if err != nil {
			return nil, fmt.Errorf("%w: overdue room: %v", ErrBadReply, err)
		}
		d, err := replyInt(arr[i+1])
		if err != nil {
			return nil, fmt.Errorf("%w: overdue room deadline: %v", ErrBadReply, err)
		}
		out = append(out, RoomRef{MatchID: id, DeadlineMs: d})
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
