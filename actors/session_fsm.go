package actors

import "github.com/matchd/matchd/gateway/protocol"

// stateName is a session state of docs/protocol.md section 5.
type stateName string

const (
	stIdle    stateName = "idle"
	stQueued  stateName = "queued"
	stLoading stateName = "loading"
)

// states lists every state, for the table and its test.
var states = []stateName{stIdle, stQueued, stLoading}

// sessionState is the session's view of the player: what its client was
// last told. It survives actor restarts (it lives in the seed), so a
// restarted session compares what it told with what Redis holds instead of
// starting blank.
type sessionState struct {
	Name       stateName
	Mode       string
	TicketID   string
	MatchID    string
	SinceMs    int64
	QueuedAtMs int64
	// Loading details, so a reconnecting client can be told the match again.
	Owner      string
	DeadlineMs int64
	Teams      [][]string
	// Region is where the loading match is played ("" without regions).
	Region string
}

func (s sessionState) view() protocol.State {
	return protocol.State{Name: string(s.Name), Mode: s.Mode, TicketID: s.TicketID, MatchID: s.MatchID, SinceMs: s.SinceMs}
}

// input is one thing that can happen to a session, classified against its
// current state: a client request, a signal from another actor (which may
// arrive late, twice or never), or what a read of Redis found (the truth,
// which settles every doubt).
type input string

// Client requests.
const (
	inEnqueueSameMode  input = "enqueue(same mode)"
	inEnqueueOtherMode input = "enqueue(other mode)"
	inCancel           input = "cancel"
	inLoadedThisMatch  input = "loading_complete(this match)"
	inLoadedOtherMatch input = "loading_complete(other match)"
	inSync             input = "sync"
	inPing             input = "ping"
	// inRefused is a frame the gateway refused (over the rate limit, not
	// decodable): it is answered in order with the other replies.
	inRefused input = "refused frame"
	// Parties (docs/protocol.md section 14). A party's leader queues it; a
	// member's own enqueue is refused.
	inEnqueueParty    input = "enqueue(party leader)"
	inEnqueueMember   input = "enqueue(party member)"
	inPartyRequest    input = "party_create/invite/join/promote"
	inPartyMembership input = "party_leave/kick"
	// evPartyNews is another member's change of the party, an invitation,
	// or the player's removal.
	evPartyNews input = "party news"
)

// Signals from other actors (the bus), classified by the match or ticket
// they name.
const (
	evMatchFound      input = "match formed"
	evMatchFoundAgain input = "match formed (this match again)"
	evLoadingStatus   input = "loading status (this match)"
	evAllReady        input = "match started (this match)"
	evRequeued        input = "match cancelled, requeued (this match)"
	evCancelledOut    input = "match cancelled, not requeued (this match)"
	evRoomLost        input = "match cancelled, room lost (this match)"
	evDequeued        input = "dequeued (this ticket)"
	// evStale is a signal about a match or ticket whose end the client was
	// already told (a late or repeated delivery): a match never reopens.
	evStale input = "signal about a match or ticket that ended"
	// evUnknown is a signal about a match or ticket the session does not
	// hold and has not seen end: it does not fit, so Redis is read.
	evUnknown input = "signal about another match or ticket"
	// evRedisLost: Redis lost its data (its epoch changed).
	evRedisLost input = "redis lost its data"
	// evHint: the node's batched reconcile saw Redis disagree with this
	// session (or a doubtful request waits to be settled).
	evHint input = "reconcile hint"
)

// What a read of Redis found: first each untold outcome, oldest first,
// then where the player stands now.
const (
	// An untold outcome of a match or ticket the session does not hold (the
	// client never heard of that match, or heard of it on a connection
	// whose news was lost). A ticket the session does not hold is one its
	// client never held (a take-back, a doubtful enqueue settled otherwise):
	// its dequeue means nothing to the client.
	tMissedMatchRequeued input = "truth: missed match ended, requeued"
	tMissedMatchOut      input = "truth: missed match ended, not requeued"
	tMissedDequeue       input = "truth: another ticket dequeued"
	// The party's ticket left the queue before this member's session took
	// it (a ban or cancel right after the leader queued it): the member is
	// told it was queued, then why it left.
	tMissedPartyDequeue input = "truth: the party's ticket dequeued, untold"
	// Where the player stands now.
	tNone         input = "truth: nothing held"
	tQueuedSame   input = "truth: queued (this ticket)"
	tQueuedOther  input = "truth: queued (another ticket)"
	tLoadingSame  input = "truth: loading (this match)"
	tLoadingOther input = "truth: loading (another match)"
	// Nothing held while loading: the room's own record says how it ended,
	// or that it is gone (lost with Redis's data, or expired).
	tRoomStarted   input = "truth: room started, outcome untold"
	tRoomCancelled input = "truth: room cancelled, not requeued, outcome untold"
	tRoomRequeued  input = "truth: room cancelled, requeued, outcome untold"
	tRoomGone      input = "truth: room lost"
)

// A new connection: the welcome carries where the player stands now.
const (
	inAttachIdle    input = "attach: idle in redis"
	inAttachQueued  input = "attach: queued in redis"
	inAttachLoading input = "attach: loading in redis"
	// evReplay is an untold outcome replayed after the welcome: history,
	// which the welcome's state already includes.
	evReplay input = "replay an untold outcome after welcome"
)

// inputs lists every input, for the table and its test.
var inputs = []input{
	inEnqueueSameMode, inEnqueueOtherMode, inCancel, inLoadedThisMatch, inLoadedOtherMatch, inSync, inPing, inRefused,
	inEnqueueParty, inEnqueueMember, inPartyRequest, inPartyMembership, evPartyNews,
	evMatchFound, evMatchFoundAgain, evLoadingStatus, evAllReady, evRequeued, evCancelledOut, evRoomLost, evDequeued,
	evStale, evUnknown, evRedisLost, evHint,
	tMissedMatchRequeued, tMissedMatchOut, tMissedDequeue, tMissedPartyDequeue,
	tNone, tQueuedSame, tQueuedOther, tLoadingSame, tLoadingOther, tRoomStarted, tRoomCancelled, tRoomRequeued, tRoomGone,
	inAttachIdle, inAttachQueued, inAttachLoading, evReplay,
}

// effect is what the session does for an input. An effect that talks to
// Redis may fail (or be refused); the state then stays as it was.
type effect string

const (
	effCreateTicket effect = "create ticket, reply queued"
	effReplyQueued  effect = "reply queued with the same ticket"
	effInvalidState effect = "reply INVALID_STATE with the server's state"
	effRemoveTicket effect = "remove ticket, reply dequeued(cancelled)"
	effDodge        effect = "cancel the match (player_left), record a dodge"
	effMarkReady    effect = "mark ready, reply loading_status"
	effReplyState   effect = "read redis, reply state"
	effReplyPong    effect = "reply pong"
	effRefuse       effect = "reply the gateway's refusal"
	effStartLoading effect = "send match_found once"
	effIgnore       effect = "nothing (duplicate or stale signal)"
	effForward      effect = "forward loading_status"
	effMatchReady   effect = "send match_ready"
	effRequeue      effect = "send match_cancelled then queued (requeued)"
	effCancelled    effect = "send match_cancelled"
	effDequeued     effect = "send dequeued"
	effRoomLost     effect = "requeue with the original ticket, send match_cancelled(room_lost) then queued"
	effReconcile    effect = "read redis and move to what it says"
	effMissedMatch  effect = "send the missed match: match_found, its end (and queued when requeued)"
	effSkip         effect = "acknowledge an outcome silently (superseded, or of a ticket the client never held)"
	effAdoptTicket  effect = "hold the ticket redis holds, send queued"
	effLoadTruth    effect = "read the room, send match_found"
	effReassert     effect = "put back the ticket redis lost (same id and queue time)"
	effWelcome      effect = "send welcome with redis's state (and match_found when loading)"
	effReplay       effect = "send the outcome as history"
	// Parties.
	effCreatePartyTicket effect = "queue the party as one ticket, reply queued, members adopt it"
	effForbidden         effect = "reply FORBIDDEN (a member's enqueue), unless redis says otherwise"
	effParty             effect = "serve the party request, reply party"
	effPartyMembership   effect = "take the party's ticket out if queued, change membership, reply"
	effPartyNews         effect = "send the party frame"
	effPartyTicketGone   effect = "send queued then dequeued of the party's ticket (history)"
)

// transition is one row of the session table.
type transition struct {
	next   stateName // the state after the effect succeeds
	effect effect
}

// row builds one state's transitions: every input maps to {stay, ignore}
// unless listed, so that each state's list below reads as its differences.
func row(s stateName, moves map[input]transition) map[input]transition {
	out := make(map[input]transition, len(inputs))
	for _, in := range inputs {
		out[in] = transition{s, effIgnore}
	}
	for in, t := range moves {
		out[in] = t
	}
	return out
}

// common are the rows every state shares.
func common(s stateName) map[input]transition {
	return map[input]transition{
		inSync:         {s, effReplyState},
		inPing:         {s, effReplyPong},
		inRefused:      {s, effRefuse},
		evUnknown:      {s, effReconcile},
		evRedisLost:    {s, effReconcile},
		evHint:         {s, effReconcile},
		tMissedDequeue: {s, effSkip},
		// History in any state but loading (whose match superseded it).
		tMissedPartyDequeue: {s, effPartyTicketGone},
		tQueuedOther:        {stQueued, effAdoptTicket},
		tLoadingOther:       {stLoading, effLoadTruth},
		inAttachIdle:        {stIdle, effWelcome},
		inAttachQueued:      {stQueued, effWelcome},
		inAttachLoading:     {stLoading, effWelcome},
		evReplay:            {s, effReplay},
		inPartyRequest:      {s, effParty},
		evPartyNews:         {s, effPartyNews},
	}
}

func with(base map[input]transition, moves map[input]transition) map[input]transition {
	for in, t := range moves {
		base[in] = t
	}
	return base
}

// sessionTable defines every (state, input) pair of docs/protocol.md section 5,
// plus the moves a read of Redis forces. The session actor looks every move
// up here (apply); nothing else sets the state.
var sessionTable = map[stateName]map[input]transition{
	stIdle: row(stIdle, with(common(stIdle), map[input]transition{
		inEnqueueSameMode:    {stQueued, effCreateTicket},
		inEnqueueOtherMode:   {stQueued, effCreateTicket},
		inEnqueueParty:       {stQueued, effCreatePartyTicket},
		inEnqueueMember:      {stIdle, effForbidden},
		inPartyMembership:    {stIdle, effPartyMembership},
		inCancel:             {stIdle, effInvalidState},
		inLoadedThisMatch:    {stIdle, effInvalidState},
		inLoadedOtherMatch:   {stIdle, effInvalidState},
		evMatchFound:         {stIdle, effReconcile},
		evMatchFoundAgain:    {stIdle, effReconcile},
		tMissedMatchRequeued: {stQueued, effMissedMatch},
		tMissedMatchOut:      {stIdle, effMissedMatch},
		tQueuedSame:          {stQueued, effAdoptTicket},
		tLoadingSame:         {stLoading, effLoadTruth},
	})),
	stQueued: row(stQueued, with(common(stQueued), map[input]transition{
		inEnqueueSameMode:  {stQueued, effReplyQueued},
		inEnqueueOtherMode: {stQueued, effInvalidState},
		// The leader's enqueue while queued is classified by mode above.
		inEnqueueParty:       {stQueued, effInvalidState},
		inEnqueueMember:      {stQueued, effForbidden},
		inPartyMembership:    {stQueued, effPartyMembership},
		inCancel:             {stIdle, effRemoveTicket},
		inLoadedThisMatch:    {stQueued, effInvalidState},
		inLoadedOtherMatch:   {stQueued, effInvalidState},
		evMatchFound:         {stLoading, effStartLoading},
		evMatchFoundAgain:    {stLoading, effStartLoading},
		evDequeued:           {stIdle, effDequeued},
		tMissedMatchRequeued: {stQueued, effMissedMatch},
		tMissedMatchOut:      {stIdle, effMissedMatch},
		tNone:                {stQueued, effReassert},
		tLoadingSame:         {stLoading, effLoadTruth},
	})),
	stLoading: row(stLoading, with(common(stLoading), map[input]transition{
		inEnqueueSameMode:  {stLoading, effInvalidState},
		inEnqueueOtherMode: {stLoading, effInvalidState},
		inEnqueueParty:     {stLoading, effInvalidState},
		inEnqueueMember:    {stLoading, effInvalidState},
		// A party loading a match keeps its members.
		inPartyMembership:  {stLoading, effInvalidState},
		inCancel:           {stIdle, effDodge},
		inLoadedThisMatch:  {stLoading, effMarkReady},
		inLoadedOtherMatch: {stLoading, effInvalidState},
		evMatchFound:       {stLoading, effReconcile},
		evLoadingStatus:    {stLoading, effForward},
		evAllReady:         {stIdle, effMatchReady},
		evRequeued:         {stQueued, effRequeue},
		evCancelledOut:     {stIdle, effCancelled},
		evRoomLost:         {stQueued, effRoomLost},
		// History from before the match the client is loading: that match
		// superseded it, and telling it now would confuse the client.
		tMissedMatchRequeued: {stLoading, effSkip},
		tMissedMatchOut:      {stLoading, effSkip},
		tMissedPartyDequeue:  {stLoading, effSkip},
		tRoomStarted:         {stIdle, effMatchReady},
		tRoomCancelled:       {stIdle, effCancelled},
		tRoomRequeued:        {stQueued, effRequeue},
		tRoomGone:            {stQueued, effRoomLost},
	})),
}

// tableInput hands the table one input already classified, as the
// classifiers do from a signal or a read; the table test drives every row
// of the real actor through it.
type tableInput struct {
	in input
	ev any
}

// decide looks up the transition for (s, in).
func decide(s stateName, in input) transition {
	return sessionTable[s][in]
}
