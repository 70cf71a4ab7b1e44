package actors

// stateName is a session state of PROTOCOL.md section 5.
type stateName string

const (
	stIdle    stateName = "idle"
	stQueued  stateName = "queued"
	stLoading stateName = "loading"
)

// sessionState is the session's view of the player, rebuilt from Redis on
// restart and on reconnect.
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
}

// input is one thing that can happen to a session: a client request,
// classified against the current state, or a system event.
type input string

const (
	inEnqueueSameMode   input = "enqueue(same mode)"
	inEnqueueOtherMode  input = "enqueue(other mode)"
	inCancel            input = "cancel"
	inLoadedThisMatch   input = "loading_complete(this match)"
	inLoadedOtherMatch  input = "loading_complete(other match)"
	inSync              input = "sync"
	inPing              input = "ping"
	evMatchFound        input = "match formed"
	evMatchFoundAgain   input = "match formed (same match again)"
	evLoadingStatus     input = "loading status"
	evAllReady          input = "all members ready"
	evRequeued          input = "match cancelled, requeued"
	evCancelledNotQueue input = "match cancelled, not requeued"
	evDequeued          input = "dequeued by the system (timeout, ban)"
)

// inputs lists every input, for the table test.
var inputs = []input{
	inEnqueueSameMode, inEnqueueOtherMode, inCancel, inLoadedThisMatch, inLoadedOtherMatch, inSync, inPing,
	evMatchFound, evMatchFoundAgain, evLoadingStatus, evAllReady, evRequeued, evCancelledNotQueue, evDequeued,
}

// states lists every state, for the table test.
var states = []stateName{stIdle, stQueued, stLoading}

// effect is what the session does for an input. Effects that talk to Redis
// may fail (UNAVAILABLE) and then leave the state unchanged.
type effect string

const (
	effCreateTicket effect = "create ticket, reply queued"
	effReplyQueued  effect = "reply queued with the same ticket"
	effInvalidState effect = "reply INVALID_STATE with the server's state"
	effRemoveTicket effect = "remove ticket, reply dequeued(cancelled)"
	effDodge        effect = "cancel the match (player_left), record a dodge"
	effMarkReady    effect = "mark ready, reply loading_status"
	effReplyState   effect = "reply state from Redis"
	effReplyPong    effect = "reply pong"
	effStartLoading effect = "send match_found once"
	effIgnore       effect = "nothing (duplicate or stale signal)"
	effForward      effect = "forward to the client"
	effMatchReady   effect = "send match_ready"
	effRequeue      effect = "send match_cancelled then queued (requeued)"
	effCancelled    effect = "send match_cancelled"
	effDequeued     effect = "send dequeued"
	effReconcile    effect = "signal does not fit: reconcile with Redis"
)

// transition is one row of the session table.
type transition struct {
	next   stateName // the state after the effect succeeds
	effect effect
}

// sessionTable defines every (state, input) pair of PROTOCOL.md section 5.
// The session actor looks every decision up here; nothing else decides.
var sessionTable = map[stateName]map[input]transition{
	stIdle: {
		inEnqueueSameMode:   {stQueued, effCreateTicket},
		inEnqueueOtherMode:  {stQueued, effCreateTicket},
		inCancel:            {stIdle, effInvalidState},
		inLoadedThisMatch:   {stIdle, effInvalidState},
		inLoadedOtherMatch:  {stIdle, effInvalidState},
		inSync:              {stIdle, effReplyState},
		inPing:              {stIdle, effReplyPong},
		evMatchFound:        {stIdle, effReconcile},
		evMatchFoundAgain:   {stIdle, effReconcile},
		evLoadingStatus:     {stIdle, effIgnore},
		evAllReady:          {stIdle, effIgnore},
		evRequeued:          {stIdle, effReconcile},
		evCancelledNotQueue: {stIdle, effIgnore},
		evDequeued:          {stIdle, effIgnore},
	},
	stQueued: {
		inEnqueueSameMode:   {stQueued, effReplyQueued},
		inEnqueueOtherMode:  {stQueued, effInvalidState},
		inCancel:            {stIdle, effRemoveTicket},
		inLoadedThisMatch:   {stQueued, effInvalidState},
		inLoadedOtherMatch:  {stQueued, effInvalidState},
		inSync:              {stQueued, effReplyState},
		inPing:              {stQueued, effReplyPong},
		evMatchFound:        {stLoading, effStartLoading},
		evMatchFoundAgain:   {stLoading, effStartLoading},
		evLoadingStatus:     {stQueued, effIgnore},
		evAllReady:          {stQueued, effIgnore},
		evRequeued:          {stQueued, effIgnore},
		evCancelledNotQueue: {stQueued, effIgnore},
		evDequeued:          {stIdle, effDequeued},
	},
	stLoading: {
		inEnqueueSameMode:   {stLoading, effInvalidState},
		inEnqueueOtherMode:  {stLoading, effInvalidState},
		inCancel:            {stIdle, effDodge},
		inLoadedThisMatch:   {stLoading, effMarkReady},
		inLoadedOtherMatch:  {stLoading, effInvalidState},
		inSync:              {stLoading, effReplyState},
		inPing:              {stLoading, effReplyPong},
		evMatchFound:        {stLoading, effReconcile},
		evMatchFoundAgain:   {stLoading, effIgnore},
		evLoadingStatus:     {stLoading, effForward},
		evAllReady:          {stIdle, effMatchReady},
		evRequeued:          {stQueued, effRequeue},
		evCancelledNotQueue: {stIdle, effCancelled},
		evDequeued:          {stLoading, effIgnore},
	},
}

// decide looks up the transition for (s, in).
func decide(s stateName, in input) transition {
	return sessionTable[s][in]
}
