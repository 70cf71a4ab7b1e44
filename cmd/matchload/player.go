package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// dstate is what a simulated client is doing.
type dstate uint8

const (
	dsNone       dstate = iota // not connected
	dsIdle                     // connected, idle, about to act
	dsRetryWait                // idle, an enqueue retry is scheduled
	dsThinking                 // idle, pausing (--think) before its next enqueue
	dsEnqueuing                // enqueue sent
	dsQueued                   // queued
	dsRequeuing                // requeued after a cancelled match, queued frame expected
	dsCancelling               // cancel sent while queued
	dsLoading                  // match_found received
	dsDodging                  // cancel sent while loading
	dsDone                     // connected and finished: no more enqueues
	dsGone                     // connection ended
	dsForming                  // making its party: creating, inviting, joining
	dsPartyWait                // idle in a party: waiting for its leader to queue it
)

// gauge classes of a state, for the progress line and end detection.
func (s dstate) queuedish() bool {
	return s == dsEnqueuing || s == dsQueued || s == dsRequeuing || s == dsCancelling
}
func (s dstate) loadingish() bool { return s == dsLoading || s == dsDodging }

// forming counts toward the run's activity: a party on its way to its
// first queue.
func (s dstate) forming() bool   { return s == dsForming }
func (s dstate) connected() bool { return s != dsNone && s != dsGone }

// readBuf is a pooled frame buffer plus decode target, so an idle session
// holds neither.
type readBuf struct {
	b bytes.Buffer
	f client.Frame
}

var readPool = sync.Pool{New: func() any { return new(readBuf) }}

// Request ids are a kind letter and the player's request sequence number
// ("e17"): e enqueue, c cancel (leave the queue), d dodge, l
// loading_complete, and for parties p party_create, i party_invite, j
// party_join, k party_kick; garbage frames use g and no number.

// requestOf names the request kind of a rid, for error accounting.
func requestOf(rid string) string {
	if rid == "" {
		return "unknown"
	}
	switch rid[0] {
	case 'e':
		return "enqueue"
	case 'c':
		return "cancel"
	case 'd':
		return "dodge"
	case 'l':
		return "loading_complete"
	case 'g':
		return "garbage"
	case 'p':
		return "party_create"
	case 'i':
		return "party_invite"
	case 'j':
		return "party_join"
	case 'k':
		return "party_kick"
	}
	return "other"
}

// ridSeq is the sequence number of a rid, 0 when it has none.
func ridSeq(rid string) uint64 {
	if len(rid) < 2 {
		return 0
	}
	n, _ := strconv.ParseUint(rid[1:], 10, 32)
	return n
}

type player struct {
	r           *Runner
	id          string
	idx         int
	node        int
	rating      float64
	beh         Behaviour
	quitLoading bool               // a quitter quits while loading (else while queued)
	lat         map[string]float64 // round trip per region (--regions)

	mu          sync.Mutex
	conn        *client.Conn
	st          dstate
	match       string
	enqAt       time.Time // when the current wait's enqueue was sent
	waitAt      time.Time // when the current wait began (enqueue or requeue)
	fromRequeue bool      // the current wait began with a requeue
	foundAt     time.Time
	closing     bool // we close the connection: a read error is expected
	timer       *time.Timer
	garbageQ    bool // sent garbage while queued already
	garbageL    bool // sent garbage while loading already
	finalWhy    string
	cancels     int          // end-of-run cancels sent
	reqSeq      uint32       // sequence number of the last request sent
	trace       []traceEntry // ring of the last frames, with --trace
	traceN      int          // frames recorded
	// quitAfterUnlock asks the read loop to close after this frame.
	quitAfterUnlock bool
	// heard is when the player last received a frame (unix ns); probed says
	// the silence watchdog sent it a sync since; silent that it was
	// reported silent.
	heard          atomic.Int64
	probed, silent bool
	// watchFrom is when the player began its current wait (queued or
	// loading): silence is counted from then or from the last frame,
	// whichever is later.
	watchFrom time.Time
	// loadedMatch is the match whose loading_complete was sent at loadedAt,
	// more than loadMargin before its deadline (deadlineMs, from match_found).
	loadedMatch string
	loadedAt    time.Time
	deadlineMs  int64
	// enqueuer says the player sent the enqueue of its current wait (a
	// party member is queued by its leader); played that it was told how
	// at least one of its waits ended.
	enqueuer, played bool

	// party is the party the player was dealt into (nil: it plays alone),
	// slot its place in it; pv its party as the server tells it. out says
	// it no longer plays with its party (it left the run, or the party),
	// read by its mates' leader without the lock.
	party *party
	slot  int
	pv    partyView
	out   atomic.Bool
}

// traceEntry is one frame of a player's history.
type traceEntry struct {
	at   time.Duration // since the start of the run
	dir  byte          // '<' received, '>' sent
	data string
}

// record adds a frame to the trace ring. Call with p.mu held.
func (p *player) record(dir byte, b []byte) {
	n := p.r.opt.Trace
	if n == 0 {
		return
	}
	if p.trace == nil {
		p.trace = make([]traceEntry, n)
	}
	if len(b) > 240 {
		b = b[:240]
	}
	p.trace[p.traceN%n] = traceEntry{at: time.Since(p.r.start), dir: dir, data: string(b)}
	p.traceN++
}

// history renders the trace ring, oldest first.
func (p *player) history() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.historyLocked()
}

func (p *player) historyLocked() []string {
	n := len(p.trace)
	var out []string
	for i := max(0, p.traceN-n); i < p.traceN; i++ {
		e := p.trace[i%n]
		out = append(out, fmt.Sprintf("%9.3fs %c %s", e.at.Seconds(), e.dir, e.data))
	}
	return out
}

// setState moves the player and keeps the gauges right. Call with p.mu
// held.
func (p *player) setState(s dstate) {
	old := p.st
	if old == s {
		return
	}
	g := p.r.live
	if old.connected() != s.connected() {
		if s.connected() {
			n := g.connected.Add(1)
			for {
				peak := g.peakConnected.Load()
				if n <= peak || g.peakConnected.CompareAndSwap(peak, n) {
					break
				}
			}
		} else {
			g.connected.Add(-1)
		}
	}
	if old.queuedish() {
		g.queued.Add(-1)
	}
	if s.queuedish() {
		g.queued.Add(1)
	}
	if (s.queuedish() || s.loadingish()) && !(old.queuedish() || old.loadingish()) {
		p.watchFrom = time.Now()
	}
	if old.loadingish() {
		g.loading.Add(-1)
	}
	if s.loadingish() {
		g.loading.Add(1)
	}
	if old == dsRetryWait {
		g.retrying.Add(-1)
	}
	if s == dsRetryWait {
		g.retrying.Add(1)
	}
	if old.forming() {
		g.forming.Add(-1)
	}
	if s.forming() {
		g.forming.Add(1)
	}
	p.st = s
}

// send writes one frame inline; a failed write shows up as a read error.
func (p *player) send(typ websocket.MessageType, b []byte) {
	if p.conn == nil || p.closing {
		return
	}
	p.record('>', b)
	if err := p.conn.Write(context.Background(), typ, b); err == nil {
		p.r.live.framesOut.Add(1)
	}
}

// run is the player's one goroutine: dial, then read until the end.
func (p *player) run(sem chan struct{}) {
	r := p.r
	t0 := time.Now()
	conn, reason := r.dial(p)
	if conn == nil {
		<-sem
		r.live.dialDone.Add(1)
		r.live.dialFailed(reason)
		p.mu.Lock()
		p.finalWhy = "dial failed"
		r.chk.DialFailed(p.id, reason)
		p.left()
		p.mu.Unlock()
		return
	}
	// The welcome frame, within the dial timeout.
	wctx, cancel := context.WithTimeout(context.Background(), r.opt.DialTimeout-time.Since(t0))
	rb := readPool.Get().(*readBuf)
	_, err := conn.ReadMessage(wctx, &rb.b)
	cancel()
	if err == nil {
		err = client.DecodeFrame(rb.b.Bytes(), &rb.f)
		if err == nil && rb.f.Type != protocol.TypeWelcome {
			err = errors.New("first frame is " + rb.f.Type + ", not welcome")
		}
	}
	<-sem
	r.live.dialDone.Add(1)
	if err != nil {
		readPool.Put(rb)
		conn.CloseNow()
		reason := "no welcome: " + shortErr(err)
		if rb.f.Type == protocol.TypeError {
			reason = "refused at welcome: " + string(rb.f.Code)
		}
		r.live.dialFailed(reason)
		p.mu.Lock()
		r.chk.DialFailed(p.id, reason)
		p.left()
		p.mu.Unlock()
		return
	}
	welcomeState := ""
	if rb.f.State != nil {
		welcomeState = rb.f.State.Name
	}
	readPool.Put(rb)
	r.live.framesIn.Add(1)
	p.heard.Store(time.Now().UnixNano())
	r.live.dialOK.Add(1)
	r.hist.dial.Record(time.Since(t0))

	p.mu.Lock()
	p.conn = conn
	if r.stopping.Load() {
		p.left()
		p.mu.Unlock()
		conn.CloseNow()
		return
	}
	p.setState(dsIdle)
	r.chk.Connected(p.id, welcomeState)
	if p.beh == Malformed {
		p.sendGarbage(r.garbageConnect)
	}
	if !r.opt.Idle {
		p.next()
	}
	p.mu.Unlock()
	p.readLoop(conn)
}

func (p *player) readLoop(conn *client.Conn) {
	r := p.r
	for {
		rb := readPool.Get().(*readBuf)
		_, err := conn.ReadMessage(context.Background(), &rb.b)
		if err != nil {
			readPool.Put(rb)
			p.readEnded(err)
			return
		}
		r.live.framesIn.Add(1)
		p.heard.Store(time.Now().UnixNano())
		quit := p.handle(rb)
		readPool.Put(rb)
		if quit {
			_ = conn.Close(websocket.StatusNormalClosure, "quit")
			return
		}
	}
}

// readEnded records a connection that ended under the player.
func (p *player) readEnded(err error) {
	r := p.r
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
	}
	if p.closing {
		p.setState(dsGone)
		return
	}
	code := int(websocket.CloseStatus(err))
	r.live.closed(code, p.st.String())
	r.chk.Closed(p.id, code)
	r.live.beh[p.beh].lost.Add(1)
	p.finalWhy = "closed by server"
	p.setState(dsGone)
	p.left()
}

// handle serves one server frame; it reports whether the player quits now.
func (p *player) handle(rb *readBuf) (quit bool) {
	r := p.r
	data := rb.b.Bytes()
	if r.opt.Trace > 0 {
		p.mu.Lock()
		p.record('<', data)
		p.mu.Unlock()
	}
	switch t := client.PeekType(data); string(t) {
	case protocol.TypeLoadingStatus, protocol.TypeState, protocol.TypeWelcome:
		return false // nothing to learn (skipped without decoding)
	}
	f := &rb.f
	if err := client.DecodeFrame(data, f); err != nil {
		r.live.badFrames.Add(1)
		return false
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st == dsGone || p.closing {
		return false
	}
	switch f.Type {
	case protocol.TypeQueued:
		r.chk.Queued(p.id, f.TicketID, f.Requeued)
		switch {
		case f.Requeued:
			if p.st != dsRequeuing && p.st != dsCancelling {
				r.live.oddFrames.Add(1)
			}
			p.fromRequeue = true
			p.waitAt = now
			if p.st != dsCancelling {
				p.setState(dsQueued)
			}
		case p.st == dsEnqueuing:
			r.hist.enqQueued.Record(now.Sub(p.enqAt))
			p.setState(dsQueued)
		case p.party != nil && (p.st == dsPartyWait || p.st == dsIdle || p.st == dsForming || p.st == dsRetryWait || p.st == dsThinking || p.st == dsDone):
			// The party's leader queued it (a member that thought itself
			// the leader drops its own plans).
			if p.timer != nil {
				p.timer.Stop()
			}
			p.enqueuer, p.fromRequeue, p.waitAt = false, false, now
			p.setState(dsQueued)
		case p.st != dsQueued && p.st != dsCancelling:
			r.live.oddFrames.Add(1)
			p.setState(dsQueued)
		}
		if p.st != dsQueued {
			return false
		}
		if r.cancelling.Load() {
			p.drainCancel()
			return false
		}
		if p.beh == Quit && !p.quitLoading {
			return p.quit()
		}
		if p.beh == Malformed && !p.garbageQ {
			p.garbageQ = true
			p.sendGarbage(r.garbageQueued)
		}
	case protocol.TypeDequeued:
		r.chk.Dequeued(p.id, f.Reason)
		r.live.dequeued(f.Reason)
		p.setState(dsIdle)
		p.finalWhy = "dequeued: " + f.Reason
		p.played = true
		p.next()
	case protocol.TypeMatchFound:
		r.live.found.Add(1)
		r.live.lastFound.Store(now.UnixNano())
		r.chk.MatchFound(p.id, f.MatchID, f.Teams)
		r.noteSeats(f.Teams)
		if p.lat != nil && p.enqueuer {
			// The server's wait began no earlier than the enqueue was sent
			// (a requeue keeps the original queue time) and ended no later
			// than now, so its limit was at most this one.
			r.chk.MatchRegion(p.id, f.MatchID, f.Region, p.lat, r.opt.Latency.Limit(now.Sub(p.enqAt)))
		}
		if p.st == dsQueued || p.st == dsEnqueuing || p.st == dsRequeuing {
			if p.fromRequeue {
				r.hist.requeueFound.Record(now.Sub(p.waitAt))
			} else if p.enqueuer {
				r.hist.enqFound.Record(now.Sub(p.enqAt))
			}
		}
		p.match, p.foundAt, p.deadlineMs = f.MatchID, now, f.LoadingDeadlineMs
		if p.st == dsCancelling {
			// Our end-of-run cancel crossed the match: the server takes it
			// as a dodge, or refuses it (INVALID_STATE, state loading) and
			// onError resumes loading.
			p.setState(dsDodging)
			return false
		}
		p.setState(dsLoading)
		return p.onLoading(f.MatchID)
	case protocol.TypeMatchReady:
		r.chk.MatchReady(p.id, f.MatchID)
		if (p.st == dsLoading || p.st == dsDodging) && p.match == f.MatchID {
			r.hist.foundReady.Record(now.Sub(p.foundAt))
		}
		r.live.matched.Add(1)
		r.live.lastReady.Store(now.UnixNano())
		r.live.beh[p.beh].matched.Add(1)
		p.match = ""
		p.setState(dsIdle)
		p.finalWhy = "matched"
		p.played = true
		p.next()
	case protocol.TypeMatchCancelled:
		r.chk.MatchCancelled(p.id, f.MatchID, f.Reason, f.Requeued, f.Rid != "")
		if f.Reason == protocol.ReasonLoadingTimeout && p.loadedMatch == f.MatchID && slices.Contains(f.NoShows, p.id) {
			r.chk.ChargedThoughLoaded(p.id, f.MatchID, time.Duration(p.deadlineMs-p.loadedAt.UnixMilli())*time.Millisecond)
		}
		r.live.cancelled(f.Reason, f.Requeued)
		if p.match == f.MatchID {
			r.hist.foundCancelled.Record(now.Sub(p.foundAt))
		}
		p.match = ""
		if f.Requeued {
			p.setState(dsRequeuing)
			return false
		}
		r.live.beh[p.beh].cancelled.Add(1)
		p.setState(dsIdle)
		p.finalWhy = "match cancelled: " + f.Reason
		p.played = true
		p.next()
	case protocol.TypeError:
		p.onError(f, data)
		if p.quitAfterUnlock {
			p.quitAfterUnlock = false
			return true
		}
	case protocol.TypePong:
		if strings.HasPrefix(f.Rid, "g") {
			r.chk.GarbageAnswered(p.id)
		}
	case protocol.TypeServerDraining:
		r.live.serverDraining.Add(1)
	case protocol.TypeParty:
		p.onParty(f)
	case protocol.TypePartyInvited:
		p.onPartyInvite(f)
	case protocol.TypePartyLeft:
		p.onPartyLeft(f)
	default:
		r.live.oddFrames.Add(1)
	}
	return false
}

// onLoading acts on a match_found as the behaviour says; it reports
// whether the player quits now. Call with p.mu held.
func (p *player) onLoading(m string) (quit bool) {
	r := p.r
	switch p.beh {
	case Normal:
		p.loadingComplete()
	case Malformed:
		if !p.garbageL {
			p.garbageL = true
			p.sendGarbage(r.garbageLoading)
		}
		p.loadingComplete()
	case Slow:
		p.timer = time.AfterFunc(r.opt.SlowDelay, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.st == dsLoading && p.match == m {
				p.loadingComplete()
			}
		})
	case NoShow:
	case Dodge:
		r.chk.CancelSent(p.id)
		p.setState(dsDodging)
		p.request('d')
	case Quit:
		if p.quitLoading {
			return p.quit()
		}
		p.loadingComplete()
	}
	return false
}

// onError serves an error frame. Call with p.mu held.
func (p *player) onError(f *client.Frame, raw []byte) {
	r := p.r
	req := requestOf(f.Rid)
	serverState, serverMatch := "", ""
	if f.State != nil {
		serverState, serverMatch = f.State.Name, f.State.MatchID
	}
	// Only a refusal of the latest request says anything about the state
	// now: later requests may have changed it since.
	latest := f.Rid != "" && ridSeq(f.Rid) == uint64(p.reqSeq)
	if p.beh == Malformed && (req == "garbage" || (f.Rid == "" && (f.Code == (protocol.CodeBadRequest) || f.Code == (protocol.CodeRateLimited)))) {
		r.live.errorFrame(string(f.Code), "garbage", true, p.id, raw)
		r.chk.GarbageAnswered(p.id)
		return
	}
	// A kick refused INVALID_STATE crossed the party's match: it is sent
	// again once the match ends.
	expected := f.Code == (protocol.CodeInvalidState) && (req == "loading_complete" || req == "dodge" || req == "cancel" || req == "party_kick")
	if f.Code == (protocol.CodeRateLimited) && f.Rid == "" && p.st == dsEnqueuing {
		req, latest = "enqueue", true // the limiter answers before reading the rid
	}
	switch {
	case req == "enqueue" && f.Code == protocol.CodeBanned:
		// The sanction ladder at work: a no-show or a dodge earlier in
		// the run (this player's, or a party mate's) bans its next enqueue.
		expected = true
		r.live.banned.Add(1)
	case req == "enqueue" && f.Code == protocol.CodePartyNotReady:
		// A leader queued its party while a mate was still finishing its
		// last match (or had left the run): retried.
		expected = true
		r.live.partyNotReady.Add(1)
	}
	r.live.errorFrame(string(f.Code), req, expected, p.id, raw)
	if k := ridKind(f.Rid); isPartyKind(k) {
		p.onPartyRefused(k, f)
		return
	}
	if f.Code == (protocol.CodeSessionReplaced) {
		return // the close follows
	}
	// A transient refusal of a request the state still calls for is
	// retried after retry_after_ms, as a game client would.
	if f.Code == (protocol.CodeUnavailable) || f.Code == (protocol.CodeRateLimited) {
		wait := max(time.Duration(f.RetryAfterMs)*time.Millisecond, 50*time.Millisecond)
		switch {
		case req == "loading_complete" && p.st == dsLoading:
			p.retryLater(wait, dsLoading, p.match, 'l')
			return
		case req == "cancel" && p.st == dsCancelling:
			p.retryLater(wait, dsCancelling, p.match, 'c')
			return
		case req == "dodge" && p.st == dsDodging:
			p.retryLater(wait, dsDodging, p.match, 'd')
			return
		}
	}
	if !latest {
		return
	}
	r.chk.Refused(p.id, req, string(f.Code), serverState, serverMatch)
	switch req {
	case "enqueue":
		if p.st != dsEnqueuing {
			return
		}
		switch f.Code {
		case protocol.CodeInvalidState:
			switch serverState {
			case protocol.StateQueued:
				p.setState(dsQueued)
			case protocol.StateLoading:
				p.setState(dsLoading)
			default:
				// The server says idle yet refused: back off and retry.
				p.setState(dsIdle)
				if r.draining.Load() {
					p.setState(dsDone)
					return
				}
				p.enqueueAfter(dsRetryWait, 250*time.Millisecond)
			}
		case protocol.CodeBanned, protocol.CodeRateLimited, protocol.CodeUnavailable:
			p.setState(dsIdle)
			p.finalWhy = "enqueue refused: " + string(f.Code)
			if r.draining.Load() || r.opt.Duration == 0 && f.Code == (protocol.CodeBanned) {
				p.setState(dsDone)
				return
			}
			p.enqueueAfter(dsRetryWait, max(time.Duration(f.RetryAfterMs)*time.Millisecond, 100*time.Millisecond))
		case protocol.CodePartyNotReady:
			p.setState(dsIdle)
			if r.draining.Load() {
				p.setState(dsDone)
				return
			}
			p.enqueueAfter(dsRetryWait, partyRetry)
		case protocol.CodeForbidden:
			if p.party != nil {
				// The lead moved and the news is on its way: wait for the
				// party frame that names the new leader.
				p.pv.leader = ""
				p.setState(dsIdle)
				p.partyAct(false)
				return
			}
			p.finalWhy = "enqueue refused: " + string(f.Code)
			p.setState(dsDone)
		default:
			p.finalWhy = "enqueue refused: " + string(f.Code)
			p.setState(dsDone)
		}
	case "cancel":
		// The end-of-run cancel was refused: resynchronise.
		switch {
		case serverState == protocol.StateIdle && (p.st == dsCancelling || p.st == dsDodging):
			p.match = ""
			p.setState(dsIdle)
			p.next()
		case serverState == protocol.StateLoading && p.st == dsDodging && p.match == serverMatch:
			// It crossed the match claim and was not taken as a dodge:
			// play the match as usual.
			p.setState(dsLoading)
			if p.onLoading(serverMatch) {
				p.quitAfterUnlock = true
			}
		case serverState == protocol.StateLoading && p.st == dsCancelling:
			p.setState(dsQueued) // match_found is on its way
		case serverState == protocol.StateQueued && p.st == dsCancelling && p.cancels < 3:
			p.cancel()
		}
	}
}

// enqueueAfter enqueues again after wait, spent in state st (an enqueue
// retry, or a --think pause) unless something else happens to the player
// meanwhile. Call with p.mu held.
func (p *player) enqueueAfter(st dstate, wait time.Duration) {
	r := p.r
	p.setState(st)
	p.timer = time.AfterFunc(wait, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.st != st {
			return
		}
		if r.draining.Load() || r.stopping.Load() {
			p.setState(dsDone)
			return
		}
		if p.party != nil && st == dsRetryWait {
			// A party's retry looks at the party again first: a member may
			// have left, or the lead moved.
			p.setState(dsIdle)
			p.partyAct(false)
			return
		}
		p.enqueue()
	})
}

// retryLater resends a request of kind after wait if the player is still
// in state st for the same match. Call with p.mu held.
func (p *player) retryLater(wait time.Duration, st dstate, match string, kind byte) {
	p.r.live.retries.Add(1)
	p.timer = time.AfterFunc(wait, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.st == st && p.match == match && !p.closing {
			p.request(kind)
		}
	})
}

// next decides what an idle player does: enqueue again, or finish. Call
// with p.mu held.
func (p *player) next() {
	r := p.r
	if p.st != dsIdle {
		return
	}
	if r.draining.Load() || r.stopping.Load() {
		p.setState(dsDone)
		return
	}
	if p.party != nil {
		if !p.pv.started {
			p.partyStart()
		} else {
			p.partyAct(true)
		}
		return
	}
	if r.opt.Duration == 0 && !p.enqAt.IsZero() {
		p.setState(dsDone)
		return
	}
	if r.opt.Think > 0 && !p.enqAt.IsZero() {
		p.enqueueAfter(dsThinking, time.Duration(rand.ExpFloat64()*float64(r.opt.Think)))
		return
	}
	p.enqueue()
}

func (p *player) enqueue() {
	r := p.r
	p.enqAt = time.Now()
	p.waitAt = p.enqAt
	p.fromRequeue, p.enqueuer = false, true
	r.chk.EnqueueSent(p.id)
	p.setState(dsEnqueuing)
	p.request('e')
}

// cancel leaves the queue (end of the run). Call with p.mu held.
func (p *player) cancel() {
	p.cancels++
	p.r.chk.CancelSent(p.id)
	p.setState(dsCancelling)
	p.request('c')
}

// loadMargin is how long before its deadline a loading_complete must be
// sent to count as in time for sure (the clocks are this machine's, the
// wire in between is loopback).
const loadMargin = 250 * time.Millisecond

// loadingComplete reports that the player loaded. Call with p.mu held.
func (p *player) loadingComplete() {
	now := time.Now()
	if p.deadlineMs > 0 && now.Add(loadMargin).UnixMilli() < p.deadlineMs {
		p.loadedMatch, p.loadedAt = p.match, now
		p.r.chk.LoadedInTime()
	}
	p.request('l')
}

// request sends one client request with a fresh rid. Call with p.mu held.
func (p *player) request(kind byte) {
	var m protocol.ClientMessage
	switch kind {
	case 'e':
		m.Type, m.Mode, m.Latencies = protocol.TypeEnqueue, p.r.opt.Mode, p.lat
	case 'c', 'd':
		m.Type = protocol.TypeCancel
	case 'l':
		m.Type, m.MatchID = protocol.TypeLoadingComplete, p.match
	}
	p.requestMsg(kind, m)
}

// requestMsg sends m with a fresh rid of kind. Call with p.mu held.
func (p *player) requestMsg(kind byte, m protocol.ClientMessage) {
	p.reqSeq++
	var rid [12]byte
	m.Rid = string(strconv.AppendUint(append(rid[:0], kind), uint64(p.reqSeq), 10))
	p.send(websocket.MessageText, client.AppendRequest(make([]byte, 0, 96+len(p.match)+len(m.PlayerID)+len(m.PartyID)), m))
}

// quit closes the connection on purpose (the caller closes after unlocking).
func (p *player) quit() bool {
	p.r.chk.Quit(p.id)
	p.r.live.beh[p.beh].quit.Add(1)
	p.finalWhy = "quit"
	p.closing = true
	p.setState(dsGone)
	p.left()
	return true
}

// garbage is one malformed frame.
type garbage struct {
	typ  websocket.MessageType
	data []byte
}

func (p *player) sendGarbage(gs []garbage) {
	for _, g := range gs {
		p.r.chk.GarbageSent(p.id)
		p.r.live.garbageSent.Add(1)
		p.send(g.typ, g.data)
	}
}

// drain ends the player's cycling at the end of the run: a queued player
// cancels; a loading one finishes its match. Call without p.mu held.
func (p *player) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.st {
	case dsIdle, dsForming, dsPartyWait:
		p.setState(dsDone)
	case dsRetryWait, dsThinking:
		if p.timer != nil {
			p.timer.Stop()
		}
		p.setState(dsDone)
	}
	// A queued player stays in the queue: a match may still take it, and
	// a cancel that crossed that match would be a dodge. Run cancels the
	// queue's leftovers once no match can form (drainCancel).
}

// drainCancel takes a player still queued at the end out of the queue. In
// a party its leader cancels for all (any member's cancel takes the
// party's ticket out), or a member whose leader left the run. Call with
// p.mu held.
func (p *player) drainCancel() {
	if p.st != dsQueued || p.closing {
		return
	}
	if p.party != nil && !p.leads() && !p.leaderGone() {
		return
	}
	p.cancel()
}

// close ends the connection at the end of the run.
func (p *player) close(now bool) {
	p.mu.Lock()
	c := p.conn
	p.closing = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	if c == nil {
		return
	}
	if now {
		c.CloseNow()
	} else {
		_ = c.Close(websocket.StatusNormalClosure, "load test over")
	}
}

// garbage frame sets: each frame gets exactly one typed reply (an error, or
// a pong for the big valid ping).
func buildGarbage(maxBytes int) (connect, queued, loading []garbage) {
	text := func(s string) garbage { return garbage{websocket.MessageText, []byte(s)} }
	// A valid ping padded to exactly the limit: must be accepted.
	big := []byte(`{"type":"ping","rid":"g3","pad":"`)
	big = append(big, bytes.Repeat([]byte("x"), maxBytes-len(big)-2)...)
	big = append(big, `"}`...)
	// An unterminated JSON string just below the limit.
	bad := []byte(`{"type":"ping","rid":"g4","pad":"`)
	bad = append(bad, bytes.Repeat([]byte("y"), maxBytes-1-len(bad))...)
	connect = []garbage{
		text(`{"type":"enqueue","mode":`),
		text(`{"type":"teleport","rid":"g1"}`),
		text(`{"type":"loading_complete","rid":"g2"}`),
		{websocket.MessageText, big},
		{websocket.MessageText, bad},
		{websocket.MessageBinary, []byte{0, 1, 2, 3}},
		text(`[1,2,3]`),
		text(`{"type":42,"rid":"g5"}`),
	}
	queued = []garbage{text(`{"type":"dance","rid":"g6"}`)}
	loading = []garbage{text(`{"type":"enqueue","rid":"g7"}`)}
	return
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

var dstateNames = [...]string{
	dsNone: "none", dsIdle: "idle", dsRetryWait: "retry-wait", dsThinking: "thinking", dsEnqueuing: "enqueuing",
	dsQueued: "queued", dsRequeuing: "requeuing", dsCancelling: "cancelling", dsLoading: "loading", dsDodging: "dodging",
	dsDone: "done", dsGone: "gone", dsForming: "forming", dsPartyWait: "party-wait",
}

func (s dstate) String() string { return dstateNames[s] }
