package actors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// The session table is the code: this test drives a real session actor, on
// a real Redis, through every (state, input) row. For each row it builds
// the state from real flows (enqueue, a claimed match), arranges Redis so
// that the input is what a classified signal or read would feed, hands the
// input to the actor's apply, and checks the state the actor ends in and
// the frames its client got.
func TestSessionTableEveryRow(t *testing.T) {
	t.Parallel()
	rcfg := redistest.Config(t)
	tb := newTableBench(t, rcfg)
	rows := 0
	for _, s := range states {
		for _, in := range inputs {
			row := decide(s, in)
			if row.effect == "" {
				t.Errorf("(%s, %s): no row", s, in)
				continue
			}
			rows++
			t.Run(fmt.Sprintf("%s/%s", s, in), func(t *testing.T) {
				tb.drive(t, s, in, row)
			})
		}
	}
	if want := len(states) * len(inputs); rows != want {
		t.Fatalf("drove %d rows, want %d", rows, want)
	}
}

// Every move the table allows is one docs/protocol.md section 5 allows, or one
// Redis forces (a read showed the player elsewhere): the table never moves
// a player in a way neither the client nor the truth asked for.
func TestSessionTableMovesAreJustified(t *testing.T) {
	truth := func(in input) bool { return in[:2] == "tr" || in[:6] == "attach" }
	for _, s := range states {
		for _, in := range inputs {
			row := decide(s, in)
			if row.next == s || truth(in) {
				continue
			}
			ok := false
			switch {
			case s == stIdle && row.next == stQueued:
				// A party's ticket is the party's enqueue (section 14).
				ok = row.effect == effCreateTicket || row.effect == effCreatePartyTicket
			case s == stQueued && row.next == stIdle:
				ok = row.effect == effRemoveTicket || row.effect == effDequeued
			case s == stQueued && row.next == stLoading:
				ok = row.effect == effStartLoading
			case s == stLoading && row.next == stIdle:
				ok = slices.Contains([]effect{effDodge, effMatchReady, effCancelled}, row.effect)
			case s == stLoading && row.next == stQueued:
				ok = row.effect == effRequeue || row.effect == effRoomLost
			}
			if !ok {
				t.Errorf("(%s, %s) moves to %s by %q: not a move of docs/protocol.md section 5", s, in, row.next, row.effect)
			}
		}
	}
}

// tableBench is one node whose matching the test holds off (it holds the
// lease), so every match is one the test formed.
type tableBench struct {
	n     *testNode
	lease redisx.Lease
	seq   int
}

func newTableBench(t *testing.T, rcfg config.Redis) *tableBench {
	ctx := context.Background()
	rc, err := redisx.Open(ctx, rcfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	lease := redisx.Lease{Token: "table-test-holds-the-lease"}
	if lease.Fence, err = rc.AcquireLock(ctx, "duel", lease.Token, time.Hour); err != nil || lease.Fence == 0 {
		t.Fatalf("hold the duel lease: %d, %v", lease.Fence, err)
	}
	n := startTestNode(t, rcfg, func(c *config.Config) {
		second := c.Matchmaking.Modes[0]
		second.Name = "duel2"
		c.Matchmaking.Modes = append(c.Matchmaking.Modes, second)
		// No batched reconcile during a row: the row's input is the only
		// thing that happens to the session.
		c.Session.ReconcileInterval = time.Hour
		c.Rooms.SweepInterval = time.Hour
	})
	return &tableBench{n: n, lease: lease}
}

// subject is the player a row drives, and the partner of its matches.
type subject struct {
	p, partner *player
	ticket     string
	queuedAt   int64
	match      string
	teams      [][]string
}

func (tb *tableBench) id(what string) string {
	tb.seq++
	return fmt.Sprintf("%s-%03d", what, tb.seq)
}

// setup builds a player in state s from real flows.
func (tb *tableBench) setup(t *testing.T, s stateName) *subject {
	t.Helper()
	sub := &subject{p: tb.n.connect(tb.id("p"), 1500)}
	if s == stIdle {
		return sub
	}
	q := sub.p.enqueue("duel")
	sub.ticket, sub.queuedAt = q["ticket_id"].(string), int64(q["queued_at_ms"].(float64))
	if s == stQueued {
		return sub
	}
	sub.partner = tb.n.connect(tb.id("q"), 1500)
	sub.partner.enqueue("duel")
	sub.match = tb.claim(t, sub, sub.ticket)
	tb.signal(sub.p, &MatchFoundMsg{MatchID: sub.match, Mode: "duel", Teams: sub.teams,
		DeadlineMs: time.Now().Add(time.Hour).UnixMilli(), Owner: tb.n.env.Node})
	sub.p.expect(protocol.TypeMatchFound)
	if got := tb.state(sub.p); got.State != string(stLoading) {
		t.Fatalf("setup: %s is %s, want loading", sub.p.id, got.State)
	}
	return sub
}

// claim forms a match of the subject (holding ticket) and its partner (a
// fresh one when it has none queued) in Redis, as the leader would.
func (tb *tableBench) claim(t *testing.T, sub *subject, ticket string) string {
	t.Helper()
	ctx := context.Background()
	if sub.partner == nil {
		sub.partner = tb.n.connect(tb.id("q"), 1500)
	}
	pt, err := tb.n.rc.PlayerEntry(ctx, "duel", sub.partner.id)
	if err != nil {
		t.Fatal(err)
	}
	if pt.Kind != redisx.EntryQueued {
		pt.Ref = sub.partner.enqueue("duel")["ticket_id"].(string)
	}
	match := tb.id("m")
	sub.teams = [][]string{{sub.p.id}, {sub.partner.id}}
	claimed, err := tb.n.rc.Claim(ctx, "duel", tb.lease, redisx.ClaimArgs{Owner: tb.n.env.Node, LoadingTimeout: time.Hour,
		RoomTTL: time.Hour}, []redisx.ClaimMatch{{MatchID: match, Teams: sub.teams,
		Tickets: []redisx.Ticket{{ID: ticket, Player: sub.p.id}, {ID: pt.Ref, Player: sub.partner.id}}}})
	if err != nil || !claimed.Formed[0] {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	return match
}

func (tb *tableBench) signal(p *player, msg any) { tb.n.node.system.Root.Send(p.pid, msg) }

func (tb *tableBench) state(p *player) *Snapshot {
	res, err := tb.n.node.system.Root.RequestFuture(p.pid, &SnapshotRequest{}, 5*time.Second).Result()
	if err != nil {
		p.t.Fatalf("snapshot of %s: %v", p.id, err)
	}
	return res.(*Snapshot)
}

// frames are the frames the player got so far (the actor answered a
// snapshot request after them, so none is still on its way).
func (tb *tableBench) frames(p *player) []map[string]any {
	tb.state(p)
	var out []map[string]any
	for {
		select {
		case f := <-p.out.frames:
			out = append(out, f)
		default:
			return out
		}
	}
}

func types(fs []map[string]any) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f["type"].(string))
	}
	return out
}

// expectation is what a row must do: the state it ends in and the frames,
// by type, in order.
type expectation struct {
	state  stateName
	frames []string
	// check looks at the frames and Redis further, when set.
	check func(t *testing.T, sub *subject, fs []map[string]any)
}

// effectFrames are the frames each effect sends when it succeeds.
var effectFrames = map[effect][]string{
	effCreateTicket: {protocol.TypeQueued},
	effReplyQueued:  {protocol.TypeQueued},
	effInvalidState: {protocol.TypeError},
	effRemoveTicket: {protocol.TypeDequeued},
	effDodge:        {protocol.TypeMatchCancelled},
	effMarkReady:    {protocol.TypeLoadingStatus},
	effReplyState:   {protocol.TypeState},
	effReplyPong:    {protocol.TypePong},
	effRefuse:       {protocol.TypeError},
	effStartLoading: {protocol.TypeMatchFound},
	effIgnore:       {},
	effForward:      {protocol.TypeLoadingStatus},
	effMatchReady:   {protocol.TypeMatchReady},
	effRequeue:      {protocol.TypeMatchCancelled, protocol.TypeQueued},
	effCancelled:    {protocol.TypeMatchCancelled},
	effDequeued:     {protocol.TypeDequeued},
	effRoomLost:     {protocol.TypeMatchCancelled, protocol.TypeQueued},
	effReconcile:    {},
	effMissedMatch:  {protocol.TypeMatchFound, protocol.TypeMatchCancelled},
	effSkip:         {},
	effAdoptTicket:  {protocol.TypeQueued},
	effLoadTruth:    {protocol.TypeMatchFound},
	effReassert:     {},
	effWelcome:      {protocol.TypeWelcome},
	effReplay:       {protocol.TypeDequeued},
	// Parties.
	effCreatePartyTicket: {protocol.TypeQueued},
	effForbidden:         {protocol.TypeError},
	effParty:             {protocol.TypeParty},
	effPartyMembership:   {protocol.TypePartyLeft},
	effPartyNews:         {protocol.TypeParty},
	effPartyTicketGone:   {protocol.TypeQueued, protocol.TypeDequeued},
}

// drive runs one row.
func (tb *tableBench) drive(t *testing.T, s stateName, in input, row transition) {
	sub := tb.setup(t, s)
	tb.frames(sub.p) // drop the setup's frames
	ev, exp := tb.stage(t, sub, s, in, row)
	tb.signal(sub.p, &tableInput{in: in, ev: ev})
	fs := tb.frames(sub.p)
	if got := types(fs); !slices.Equal(got, exp.frames) {
		t.Fatalf("(%s, %s) effect %q: frames %v (%v), want %v", s, in, row.effect, got, fs, exp.frames)
	}
	if got := tb.state(sub.p).State; got != string(exp.state) {
		t.Fatalf("(%s, %s) effect %q: state %s, want %s", s, in, row.effect, got, exp.state)
	}
	if exp.check != nil {
		exp.check(t, sub, fs)
	}
}

// stage arranges Redis so that in is what a real signal or read would
// feed in state s, and returns the input's payload and what the row must
// do. By default: the row's next state and its effect's frames.
func (tb *tableBench) stage(t *testing.T, sub *subject, s stateName, in input, row transition) (any, expectation) {
	ctx := context.Background()
	rc := tb.n.rc
	exp := expectation{state: row.next, frames: effectFrames[row.effect]}
	msg := func(typ string) protocol.ClientMessage {
		return protocol.ClientMessage{Type: typ, Rid: "r-" + string(in)}
	}
	noSuch := func() *matchEnd {
		return &matchEnd{Match: tb.id("gone"), Mode: "duel", Reason: protocol.ReasonPlayerLeft, NoShows: []string{}, Teams: [][]string{{sub.p.id}, {"x"}}}
	}
	// resolve ends the subject's match in Redis and returns its end as the
	// outcome records it: started, or cancelled with the subject requeued
	// (its partner left) or not (the subject left). The deadline is an
	// hour away, so no timeout is due.
	resolve := func(outcome redisx.ResolveOutcome, requeued bool) *matchEnd {
		leaver := sub.p.id
		if requeued {
			leaver = sub.partner.id
		}
		if outcome == redisx.ResolveStart {
			leaver = ""
			for _, p := range []string{sub.p.id, sub.partner.id} {
				if _, err := rc.MarkReady(ctx, "duel", sub.match, p, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		res, err := rc.Resolve(ctx, "duel", sub.match, []string{sub.p.id, sub.partner.id}, redisx.Resolution{Outcome: outcome,
			Reason: protocol.ReasonPlayerLeft, Leaver: leaver, FinishedTTL: time.Hour, OutcomeTTL: time.Hour})
		if err != nil || res.Status != redisx.ResolveOK {
			t.Fatalf("resolve: %+v, %v", res, err)
		}
		tr, err := rc.ReadTruth(ctx, sub.p.id, []string{"duel"})
		if err != nil || len(tr.Outcomes) == 0 {
			t.Fatalf("read outcomes: %+v, %v", tr, err)
		}
		return endOfOutcome(&tr.Outcomes[len(tr.Outcomes)-1], sub.p.id)
	}
	// silentlyRemove drops the subject's ticket the way lost data would:
	// no outcome says why.
	silentlyRemove := func() {
		if _, err := rc.RemoveTicket(ctx, "duel", sub.p.id, "", "", 0); err != nil {
			t.Fatal(err)
		}
	}
	ticketIn := func(want string) func(t *testing.T, sub *subject, fs []map[string]any) {
		return func(t *testing.T, sub *subject, fs []map[string]any) {
			e, err := rc.PlayerEntry(ctx, "duel", sub.p.id)
			if err != nil || e.Kind != redisx.EntryQueued || (want != "" && e.Ref != want) {
				t.Fatalf("redis holds %+v (%v) for %s, want queued %s", e, err, sub.p.id, want)
			}
		}
	}

	// party makes the subject a member of a new party led by leader (the
	// subject itself, or another player).
	party := func(leader string) string {
		id := tb.id("party")
		if _, err := rc.PartyCreate(ctx, id, leader, true, 5, time.Hour); err != nil {
			t.Fatal(err)
		}
		if leader != sub.p.id {
			if _, err := rc.PartyJoin(ctx, id, sub.p.id, "", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	switch in {
	case inEnqueueSameMode:
		m := msg(protocol.TypeEnqueue)
		m.Mode = "duel"
		return m, exp
	case inEnqueueParty:
		m := msg(protocol.TypeEnqueue)
		m.Mode = "duel"
		if s == stIdle {
			id := party(sub.p.id)
			exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
				e, err := rc.PlayerEntry(ctx, "duel", sub.p.id)
				if err != nil || e.Kind != redisx.EntryQueued {
					t.Fatalf("no party ticket after the leader's enqueue: %+v %v", e, err)
				}
				tk, ok, err := rc.Ticket(ctx, "duel", e.Ref)
				if err != nil || !ok || tk.Party != id {
					t.Fatalf("ticket %+v (%v %v), want the party %s's", tk, ok, err, id)
				}
			}
		}
		return m, exp
	case inEnqueueMember:
		m := msg(protocol.TypeEnqueue)
		m.Mode = "duel"
		party(tb.id("leader"))
		if s != stLoading {
			exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
				if fs[0]["code"] != string(protocol.CodeForbidden) {
					t.Fatalf("member's enqueue got %v, want FORBIDDEN", fs[0])
				}
			}
		}
		return m, exp
	case inPartyRequest:
		m := msg(protocol.TypePartyCreate)
		exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
			if p, ok, err := rc.PartyOf(ctx, sub.p.id); err != nil || !ok || p.Leader != sub.p.id || fs[0]["party_id"] != p.ID {
				t.Fatalf("after party_create: redis %+v %v %v, frame %v", p, ok, err, fs[0])
			}
		}
		return m, exp
	case inPartyMembership:
		id := party(sub.p.id)
		if s != stLoading {
			exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
				if _, ok, err := rc.PartyGet(ctx, id); err != nil || ok {
					t.Fatalf("the last member left, yet the party is there (%v, %v)", ok, err)
				}
			}
		}
		return msg(protocol.TypePartyLeave), exp
	case evPartyNews:
		// Another member's news of a party Redis lists the subject in (news
		// of a party it is not in, such as one it left since, is dropped).
		p, ok, err := rc.PartyGet(ctx, party(tb.id("leader")))
		if err != nil || !ok {
			t.Fatalf("party get: %+v %v %v", p, ok, err)
		}
		return &PartyMsg{Party: p}, exp
	case inEnqueueOtherMode:
		m := msg(protocol.TypeEnqueue)
		m.Mode = "duel2"
		if s == stIdle {
			exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
				if e, _ := rc.PlayerEntry(ctx, "duel2", sub.p.id); e.Kind != redisx.EntryQueued {
					t.Fatalf("no duel2 ticket in redis after the enqueue: %+v", e)
				}
			}
		}
		return m, exp
	case inCancel:
		if s == stLoading {
			exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
				if fs[0]["reason"] != protocol.ReasonPlayerLeft || fs[0]["rid"] != "r-"+string(in) {
					t.Fatalf("dodge reply %v, want match_cancelled player_left with the cancel's rid", fs[0])
				}
			}
		}
		return msg(protocol.TypeCancel), exp
	case inLoadedThisMatch:
		m := msg(protocol.TypeLoadingComplete)
		m.MatchID = sub.match
		return m, exp
	case inLoadedOtherMatch:
		m := msg(protocol.TypeLoadingComplete)
		m.MatchID = "no-such-match"
		return m, exp
	case inSync:
		return msg(protocol.TypeSync), exp
	case inPing:
		return msg(protocol.TypePing), exp
	case inRefused:
		exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
			if fs[0]["code"] != string(protocol.CodeRateLimited) || fs[0]["rid"] != "rr" {
				t.Fatalf("refusal %v, want RATE_LIMITED rid rr", fs[0])
			}
		}
		return &Refusal{Rid: "rr", Code: protocol.CodeRateLimited, Message: "Too many requests, slow down.", RetryAfterMs: 50}, exp
	case evMatchFound, evMatchFoundAgain:
		if s != stQueued {
			// A match_found that does not fit: Redis says nothing changed.
			return &MatchFoundMsg{MatchID: tb.id("ghost"), Mode: "duel", Teams: [][]string{{sub.p.id}, {"x"}}}, exp
		}
		match := tb.claim(t, sub, sub.ticket)
		return &MatchFoundMsg{MatchID: match, Mode: "duel", Teams: sub.teams, DeadlineMs: time.Now().Add(time.Hour).UnixMilli(), Owner: tb.n.env.Node}, exp
	case evLoadingStatus:
		return &LoadingStatusMsg{MatchID: sub.match, Ready: []string{}, Waiting: []string{sub.p.id}}, exp
	case evAllReady, tRoomStarted:
		if s != stLoading {
			return &matchEnd{Match: "x", Started: true, Mode: "duel"}, exp
		}
		return resolve(redisx.ResolveStart, true), exp
	case evRequeued, tRoomRequeued:
		if s != stLoading {
			return noSuch(), exp
		}
		end := resolve(redisx.ResolveCancel, true)
		exp.check = ticketIn(sub.ticket)
		return end, exp
	case evCancelledOut, tRoomCancelled:
		if s != stLoading {
			return noSuch(), exp
		}
		return resolve(redisx.ResolveCancel, false), exp
	case evRoomLost, tRoomGone:
		if s != stLoading {
			return noSuch(), exp
		}
		// The room is lost with its record: the players are free in Redis.
		if err := rc.R.Do(ctx, rc.R.B().Del().Key(rc.Keys.Room("duel", sub.match)).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := rc.ForgetRoom(ctx, "duel", sub.match); err != nil {
			t.Fatal(err)
		}
		exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
			if fs[0]["reason"] != protocol.ReasonRoomLost || fs[0]["requeued"] != true || fs[1]["queued_at_ms"].(float64) != float64(sub.queuedAt) {
				t.Fatalf("room lost: %v, want match_cancelled room_lost requeued, then queued at the original time %d", fs, sub.queuedAt)
			}
			ticketIn(sub.ticket)(t, sub, fs)
		}
		return &matchEnd{Match: sub.match, Mode: "duel", Reason: protocol.ReasonRoomLost, NoShows: []string{}}, exp
	case evDequeued:
		o := &redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: sub.ticket, Mode: "duel", Reason: protocol.ReasonTimeout, Ticket: sub.ticket}
		if s == stQueued {
			if _, err := rc.RemoveTicket(ctx, "duel", sub.p.id, sub.ticket, protocol.ReasonTimeout, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		return o, exp
	case evStale, evUnknown, evHint:
		return nil, exp
	case evRedisLost:
		switch s {
		case stQueued:
			silentlyRemove()
			exp.check = ticketIn(sub.ticket)
		case stLoading:
			// Redis lost the room and the player's seat with it.
			if err := rc.R.Do(ctx, rc.R.B().Del().Key(rc.Keys.Room("duel", sub.match)).Build()).Error(); err != nil {
				t.Fatal(err)
			}
			if err := rc.R.Do(ctx, rc.R.B().Hdel().Key(rc.Keys.Players("duel")).Field(sub.p.id).Build()).Error(); err != nil {
				t.Fatal(err)
			}
			exp.state, exp.frames = stQueued, []string{protocol.TypeMatchCancelled, protocol.TypeQueued}
			exp.check = ticketIn(sub.ticket)
		}
		return nil, exp
	case tMissedMatchRequeued:
		end := noSuch()
		end.Requeued, end.Ticket = true, redisx.Ticket{ID: sub.ticket, QueuedAtMs: sub.queuedAt}
		if s == stIdle {
			res, err := rc.Enqueue(ctx, redisx.Ticket{ID: tb.id("t"), Player: sub.p.id, Mode: "duel", Rating: 1500, QueuedAtMs: 1})
			if err != nil {
				t.Fatal(err)
			}
			end.Ticket = res.Ticket
		}
		if row.effect == effMissedMatch {
			exp.frames = append(slices.Clone(exp.frames), protocol.TypeQueued)
		}
		return end, exp
	case tMissedMatchOut:
		if s == stQueued {
			silentlyRemove()
		}
		return noSuch(), exp
	case tMissedPartyDequeue:
		id := tb.id("party-ticket")
		if row.effect == effPartyTicketGone {
			exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
				if fs[0]["ticket_id"] != id || fs[1]["ticket_id"] != id || fs[1]["reason"] != protocol.ReasonBanned {
					t.Fatalf("party ticket gone: %v, want queued then dequeued(banned) of %s", fs, id)
				}
			}
		}
		return &redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: id, Mode: "duel", Reason: protocol.ReasonBanned, Ticket: id, QueuedAtMs: 5}, exp
	case tMissedDequeue:
		return &redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: "another-ticket", Mode: "duel", Reason: protocol.ReasonTimeout}, exp
	case tNone:
		if s == stQueued {
			silentlyRemove()
			exp.check = ticketIn(sub.ticket)
		}
		return &position{}, exp
	case tQueuedSame, tQueuedOther:
		switch s {
		case stIdle:
			res, err := rc.Enqueue(ctx, redisx.Ticket{ID: tb.id("t"), Player: sub.p.id, Mode: "duel", Rating: 1500, QueuedAtMs: 7})
			if err != nil {
				t.Fatal(err)
			}
			return &position{Mode: "duel", Entry: redisx.Entry{Kind: redisx.EntryQueued, Ref: res.Ticket.ID}}, exp
		case stQueued:
			if in == tQueuedSame {
				return &position{Mode: "duel", Entry: redisx.Entry{Kind: redisx.EntryQueued, Ref: sub.ticket}}, exp
			}
			silentlyRemove()
			res, err := rc.Enqueue(ctx, redisx.Ticket{ID: tb.id("t"), Player: sub.p.id, Mode: "duel", Rating: 1500, QueuedAtMs: 7})
			if err != nil {
				t.Fatal(err)
			}
			return &position{Mode: "duel", Entry: redisx.Entry{Kind: redisx.EntryQueued, Ref: res.Ticket.ID}}, exp
		default:
			if in == tQueuedSame {
				return &position{Mode: "duel", Entry: redisx.Entry{Kind: redisx.EntryQueued, Ref: sub.ticket}}, exp
			}
			// The match ended and the player is queued again.
			resolve(redisx.ResolveCancel, true)
			return &position{Mode: "duel", Entry: redisx.Entry{Kind: redisx.EntryQueued, Ref: sub.ticket}}, exp
		}
	case tLoadingSame, tLoadingOther:
		switch s {
		case stLoading:
			if in == tLoadingSame {
				return &position{Mode: "duel", Entry: redisx.Entry{Kind: redisx.EntryInRoom, Ref: sub.match}}, exp
			}
			resolve(redisx.ResolveCancel, true)
			sub.partner = nil
		case stIdle:
			res, err := rc.Enqueue(ctx, redisx.Ticket{ID: tb.id("t"), Player: sub.p.id, Mode: "duel", Rating: 1500, QueuedAtMs: 7})
			if err != nil {
				t.Fatal(err)
			}
			sub.ticket = res.Ticket.ID
		}
		match := tb.claim(t, sub, sub.ticket)
		return &position{Mode: "duel", Entry: redisx.Entry{Kind: redisx.EntryInRoom, Ref: match}}, exp
	case inAttachIdle, inAttachQueued, inAttachLoading:
		at := &attachTruth{state: sessionState{Name: row.next, Mode: "duel", TicketID: "t-attach", MatchID: "m-attach",
			Teams: [][]string{{sub.p.id}, {"x"}}, DeadlineMs: time.Now().Add(time.Minute).UnixMilli()}}
		if row.next == stIdle {
			at.state = sessionState{Name: stIdle}
		}
		if row.next == stLoading {
			exp.frames = []string{protocol.TypeWelcome, protocol.TypeMatchFound}
		}
		exp.check = func(t *testing.T, sub *subject, fs []map[string]any) {
			if st := fs[0]["state"].(map[string]any); st["name"] != string(row.next) {
				t.Fatalf("welcome state %v, want %s", st, row.next)
			}
		}
		return at, exp
	case evReplay:
		return &redisx.Outcome{Kind: redisx.OutcomeDequeued, Ref: "old-ticket", Mode: "duel", Reason: protocol.ReasonTimeout}, exp
	}
	t.Fatalf("no stage for input %q", in)
	return nil, exp
}

// A stale signal changes nothing in any state: a match never reopens, a
// ticket never comes back by itself.
func TestStaleSignalsChangeNothing(t *testing.T) {
	for _, s := range states {
		if row := decide(s, evStale); row.next != s || row.effect != effIgnore {
			t.Errorf("(%s, %s) = %+v, want stay and ignore", s, evStale, row)
		}
	}
}
