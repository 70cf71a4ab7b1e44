package actors

import (
	"fmt"
	"slices"
	"testing"
)

// clientInputs are the inputs that come from a client request; the rest are
// system events. A client input always gets a reply (or a refusal); a
// system event never does.
var clientInputs = []input{inEnqueueSameMode, inEnqueueOtherMode, inCancel, inLoadedThisMatch, inLoadedOtherMatch, inSync, inPing}

var systemInputs = []input{evMatchFound, evMatchFoundAgain, evLoadingStatus, evAllReady, evRequeued, evCancelledNotQueue, evDequeued}

// allEffects is every effect the session actor knows how to carry out.
var allEffects = []effect{
	effCreateTicket, effReplyQueued, effInvalidState, effRemoveTicket, effDodge, effMarkReady, effReplyState,
	effReplyPong, effStartLoading, effIgnore, effForward, effMatchReady, effRequeue, effCancelled, effDequeued,
	effReconcile,
}

// clientEffects answer a request; systemEffects react to an event.
var clientEffects = []effect{
	effCreateTicket, effReplyQueued, effInvalidState, effRemoveTicket, effDodge, effMarkReady, effReplyState, effReplyPong,
}

var systemEffects = []effect{
	effStartLoading, effIgnore, effForward, effMatchReady, effRequeue, effCancelled, effDequeued, effReconcile,
}

// stateEdges are the state changes PROTOCOL.md section 5 allows. A state may
// always stay where it is. Nothing goes from idle straight to loading: a
// player is matched only out of a queue.
var stateEdges = map[stateName][]stateName{
	stIdle:    {stIdle, stQueued},
	stQueued:  {stQueued, stIdle, stLoading},
	stLoading: {stLoading, stIdle, stQueued},
}

// stayingEffects never change the state: replies, refusals, forwards and
// signals that are ignored or merely reconciled.
var stayingEffects = []effect{
	effReplyQueued, effInvalidState, effMarkReady, effReplyState, effReplyPong, effIgnore, effForward, effReconcile,
}

// effectTarget is the only state an effect that moves the session may lead to.
var effectTarget = map[effect]stateName{
	effCreateTicket: stQueued,
	effRemoveTicket: stIdle,
	effDodge:        stIdle,
	effStartLoading: stLoading,
	effMatchReady:   stIdle,
	effRequeue:      stQueued,
	effCancelled:    stIdle,
	effDequeued:     stIdle,
}

func TestSessionTableListsAreComplete(t *testing.T) {
	if got, want := len(states), 3; got != want {
		t.Errorf("len(states) = %d, want %d", got, want)
	}
	for _, s := range []stateName{stIdle, stQueued, stLoading} {
		if !slices.Contains(states, s) {
			t.Errorf("states lacks %q", s)
		}
	}
	seen := map[input]bool{}
	for _, in := range inputs {
		if seen[in] {
			t.Errorf("inputs lists %q twice", in)
		}
		seen[in] = true
	}
	both := append(slices.Clone(clientInputs), systemInputs...)
	if got, want := len(inputs), len(both); got != want {
		t.Errorf("len(inputs) = %d, want %d (client + system inputs)", got, want)
	}
	for _, in := range both {
		if !seen[in] {
			t.Errorf("inputs lacks %q", in)
		}
	}
	// The table holds nothing beyond the listed states and inputs.
	for s, row := range sessionTable {
		if !slices.Contains(states, s) {
			t.Errorf("sessionTable has a row for unknown state %q", s)
		}
		for in := range row {
			if !seen[in] {
				t.Errorf("sessionTable[%q] has unknown input %q", s, in)
			}
		}
	}
}

// TestSessionTableIsTotal walks every (state, input) pair: each is defined,
// with a known effect and a next state in states.
func TestSessionTableIsTotal(t *testing.T) {
	for _, s := range states {
		for _, in := range inputs {
			t.Run(fmt.Sprintf("%s/%s", s, in), func(t *testing.T) {
				if _, ok := sessionTable[s][in]; !ok {
					t.Fatalf("sessionTable[%q][%q] is not defined", s, in)
				}
				got := decide(s, in)
				if got.effect == "" {
					t.Errorf("decide(%q, %q).effect is empty, want an effect", s, in)
				}
				if !slices.Contains(allEffects, got.effect) {
					t.Errorf("decide(%q, %q).effect = %q, want a known effect", s, in, got.effect)
				}
				if !slices.Contains(states, got.next) {
					t.Errorf("decide(%q, %q).next = %q, want one of %v", s, in, got.next, states)
				}
			})
		}
	}
}

// TestSessionTableTransitions spells out PROTOCOL.md section 5 row by row.
func TestSessionTableTransitions(t *testing.T) {
	tests := []struct {
		state stateName
		in    input
		want  transition
	}{
		// idle: only enqueue moves; cancel and loading_complete do not fit.
		// In idle there is no current mode, so any enqueue creates a ticket.
		{stIdle, inEnqueueSameMode, transition{stQueued, effCreateTicket}},
		{stIdle, inEnqueueOtherMode, transition{stQueued, effCreateTicket}},
		{stIdle, inCancel, transition{stIdle, effInvalidState}},
		{stIdle, inLoadedThisMatch, transition{stIdle, effInvalidState}},
		{stIdle, inLoadedOtherMatch, transition{stIdle, effInvalidState}},
		{stIdle, inSync, transition{stIdle, effReplyState}},
		{stIdle, inPing, transition{stIdle, effReplyPong}},
		// idle, system: a match or requeue for an idle session does not fit
		// (reconcile with Redis); stale ends and dequeues are ignored.
		{stIdle, evMatchFound, transition{stIdle, effReconcile}},
		{stIdle, evMatchFoundAgain, transition{stIdle, effReconcile}},
		{stIdle, evLoadingStatus, transition{stIdle, effIgnore}},
		{stIdle, evAllReady, transition{stIdle, effIgnore}},
		{stIdle, evRequeued, transition{stIdle, effReconcile}},
		{stIdle, evCancelledNotQueue, transition{stIdle, effIgnore}},
		{stIdle, evDequeued, transition{stIdle, effIgnore}},

		// queued in M.
		{stQueued, inEnqueueSameMode, transition{stQueued, effReplyQueued}},
		{stQueued, inEnqueueOtherMode, transition{stQueued, effInvalidState}},
		{stQueued, inCancel, transition{stIdle, effRemoveTicket}},
		{stQueued, inLoadedThisMatch, transition{stQueued, effInvalidState}},
		{stQueued, inLoadedOtherMatch, transition{stQueued, effInvalidState}},
		{stQueued, inSync, transition{stQueued, effReplyState}},
		{stQueued, inPing, transition{stQueued, effReplyPong}},
		// queued, system: match formed -> loading, match_found once. A queued
		// session has no current match, so "again" cannot really be told
		// apart from a first signal: it starts loading too.
		{stQueued, evMatchFound, transition{stLoading, effStartLoading}},
		{stQueued, evMatchFoundAgain, transition{stLoading, effStartLoading}},
		{stQueued, evLoadingStatus, transition{stQueued, effIgnore}},
		{stQueued, evAllReady, transition{stQueued, effIgnore}},
		{stQueued, evRequeued, transition{stQueued, effIgnore}},
		{stQueued, evCancelledNotQueue, transition{stQueued, effIgnore}},
		{stQueued, evDequeued, transition{stIdle, effDequeued}},

		// loading match X.
		{stLoading, inEnqueueSameMode, transition{stLoading, effInvalidState}},
		{stLoading, inEnqueueOtherMode, transition{stLoading, effInvalidState}},
		{stLoading, inCancel, transition{stIdle, effDodge}},
		{stLoading, inLoadedThisMatch, transition{stLoading, effMarkReady}},
		{stLoading, inLoadedOtherMatch, transition{stLoading, effInvalidState}},
		{stLoading, inSync, transition{stLoading, effReplyState}},
		{stLoading, inPing, transition{stLoading, effReplyPong}},
		// loading, system.
		{stLoading, evMatchFound, transition{stLoading, effReconcile}},
		{stLoading, evMatchFoundAgain, transition{stLoading, effIgnore}},
		{stLoading, evLoadingStatus, transition{stLoading, effForward}},
		{stLoading, evAllReady, transition{stIdle, effMatchReady}},
		{stLoading, evRequeued, transition{stQueued, effRequeue}},
		{stLoading, evCancelledNotQueue, transition{stIdle, effCancelled}},
		{stLoading, evDequeued, transition{stLoading, effIgnore}},
	}
	if got, want := len(tests), len(states)*len(inputs); got != want {
		t.Errorf("expected table has %d rows, want %d (every state x input)", got, want)
	}
	covered := map[stateName]map[input]bool{}
	for _, tt := range tests {
		if covered[tt.state] == nil {
			covered[tt.state] = map[input]bool{}
		}
		if covered[tt.state][tt.in] {
			t.Errorf("expected table lists (%q, %q) twice", tt.state, tt.in)
		}
		covered[tt.state][tt.in] = true
		t.Run(fmt.Sprintf("%s/%s", tt.state, tt.in), func(t *testing.T) {
			got := decide(tt.state, tt.in)
			if got != tt.want {
				t.Errorf("decide(%q, %q) = {%q, %q}, want {%q, %q}",
					tt.state, tt.in, got.next, got.effect, tt.want.next, tt.want.effect)
			}
		})
	}
	for _, s := range states {
		for _, in := range inputs {
			if !covered[s][in] {
				t.Errorf("expected table lacks (%q, %q)", s, in)
			}
		}
	}
}

// TestSessionTableSyncAndPingAlwaysReply checks that sync and ping are
// answered in every state and never move the session.
func TestSessionTableSyncAndPingAlwaysReply(t *testing.T) {
	for _, s := range states {
		t.Run(string(s), func(t *testing.T) {
			if got, want := decide(s, inSync), (transition{s, effReplyState}); got != want {
				t.Errorf("decide(%q, sync) = %+v, want %+v", s, got, want)
			}
			if got, want := decide(s, inPing), (transition{s, effReplyPong}); got != want {
				t.Errorf("decide(%q, ping) = %+v, want %+v", s, got, want)
			}
		})
	}
}

// TestSessionTableOnlyAllowedEdges checks that no entry moves the session
// along an edge the protocol does not have (idle never goes straight to
// loading), and that each effect agrees with the state it leads to.
func TestSessionTableOnlyAllowedEdges(t *testing.T) {
	for _, s := range states {
		for _, in := range inputs {
			t.Run(fmt.Sprintf("%s/%s", s, in), func(t *testing.T) {
				got := decide(s, in)
				if !slices.Contains(stateEdges[s], got.next) {
					t.Errorf("decide(%q, %q).next = %q, want one of %v", s, in, got.next, stateEdges[s])
				}
				if slices.Contains(stayingEffects, got.effect) && got.next != s {
					t.Errorf("decide(%q, %q) = {%q, %q}: effect %q must not change the state, want next %q",
						s, in, got.next, got.effect, got.effect, s)
				}
				if target, ok := effectTarget[got.effect]; ok && got.next != target {
					t.Errorf("decide(%q, %q) = {%q, %q}: got next %q, want %q for this effect",
						s, in, got.next, got.effect, got.next, target)
				}
			})
		}
	}
	if got := decide(stIdle, evMatchFound).next; got == stLoading {
		t.Errorf("decide(idle, match formed).next = %q, want anything but loading", got)
	}
}

// TestSessionTableEffectKinds checks that client requests get request
// effects (a reply or a refusal) and system events get event effects: a
// system event never sends INVALID_STATE to a client that asked nothing.
func TestSessionTableEffectKinds(t *testing.T) {
	for _, s := range states {
		for _, in := range clientInputs {
			if got := decide(s, in).effect; !slices.Contains(clientEffects, got) {
				t.Errorf("decide(%q, %q).effect = %q, want a request effect %v", s, in, got, clientEffects)
			}
		}
		for _, in := range systemInputs {
			if got := decide(s, in).effect; !slices.Contains(systemEffects, got) {
				t.Errorf("decide(%q, %q).effect = %q, want an event effect %v", s, in, got, systemEffects)
			}
		}
	}
}

// TestSessionTableEveryEffectUsed guards against dead effects: each effect
// the actor implements is reachable from some (state, input).
func TestSessionTableEveryEffectUsed(t *testing.T) {
	used := map[effect]bool{}
	for _, s := range states {
		for _, in := range inputs {
			used[decide(s, in).effect] = true
		}
	}
	for _, e := range allEffects {
		if !used[e] {
			t.Errorf("effect %q is not used by any (state, input)", e)
		}
	}
}

// TestSessionTableReachability walks the table from idle: every state is
// reachable, and the edges the table can take are exactly the protocol's.
func TestSessionTableReachability(t *testing.T) {
	type edge struct{ from, to stateName }
	reached := map[stateName]bool{stIdle: true}
	edges := map[edge]bool{}
	queue := []stateName{stIdle}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, in := range inputs {
			next := decide(s, in).next
			edges[edge{s, next}] = true
			if !reached[next] {
				reached[next] = true
				queue = append(queue, next)
			}
		}
	}
	for _, s := range states {
		if !reached[s] {
			t.Errorf("state %q is not reachable from idle", s)
		}
	}
	for from, tos := range stateEdges {
		for _, to := range tos {
			if !edges[edge{from, to}] {
				t.Errorf("no input takes %q to %q, want the protocol's edge to exist", from, to)
			}
		}
	}
	for e := range edges {
		if !slices.Contains(stateEdges[e.from], e.to) {
			t.Errorf("table takes %q to %q, want no such edge", e.from, e.to)
		}
	}
}

// TestDecideUnknown checks that an undefined pair yields the zero
// transition, so the actor's switch falls through and does nothing.
func TestDecideUnknown(t *testing.T) {
	tests := []struct {
		s  stateName
		in input
	}{
		{"bogus", inPing},
		{stIdle, "bogus"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.s, tt.in), func(t *testing.T) {
			if got := decide(tt.s, tt.in); got != (transition{}) {
				t.Errorf("decide(%q, %q) = %+v, want the zero transition", tt.s, tt.in, got)
			}
		})
	}
}
