package actors

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/matchd/matchd/redisx"
)

// sessionSlot is the node's record of one local session: what the batched
// work needs (the state the session last reported, its directory claim,
// its reconnect grace) without waking the actor. It belongs to the
// session's seed, so it survives the actor's restarts.
type sessionSlot struct {
	player string
	mu     sync.Mutex
	pid    *actor.PID
	// The session's state, as last reported: the batch compares it with
	// Redis and wakes the actor only when they differ.
	name       stateName
	mode, ref  string
	sid        string
	connected  bool
	graceDue   time.Time
	nextCheck  time.Time
	touchedAt  time.Time
	hintDue    time.Time
	registered bool
	// party is the session's party ("" when none), whose record the host
	// renews at partyTouched + party.ttl/4.
	party        string
	partyTouched time.Time
	// rating and device renew the member's profile with its party.
	rating float64
	device string
}

// sessionHost does, per node and per tick, what every session needs from
// Redis and from a clock: the periodic reconcile of every session (idle
// included) as two batched reads per mode instead of a read per session,
// directory renewals as one pipelined batch, acknowledgements of told
// outcomes in one script call per mode, and the reconnect graces, all on
// one shared timer. An idle node thereby costs a few commands a tick, not
// a timer and a round trip per session.
type sessionHost struct {
	env   *Env
	mu    sync.Mutex
	slots map[string]*sessionSlot
	// all asks the next tick to reconcile every session at once (the bus
	// resubscribed: messages may have been lost meanwhile).
	all atomic.Bool

	ackMu sync.Mutex
	acks  map[string]map[string]string // mode -> player -> last told outcome id

	stop chan struct{}
	done chan struct{}
	// scratch, owned by the loop
	buf []*sessionSlot
}

func newSessionHost(env *Env) *sessionHost {
	return &sessionHost{env: env, slots: map[string]*sessionSlot{}, acks: map[string]map[string]string{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// idleCheckFactor slows the periodic check of idle sessions.
const idleCheckFactor = 4

// hostTick is how often the host looks at its sessions: fine enough that a
// grace or a retry is not late by much, coarse enough to cost nothing.
func (h *sessionHost) hostTick() time.Duration {
	return min(h.env.Cfg().Session.ReconcileInterval/4, 250*time.Millisecond)
}

func (h *sessionHost) start() {
	go h.loop()
}

func (h *sessionHost) close() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
}

func (h *sessionHost) loop() {
	defer close(h.done)
	t := time.NewTimer(h.hostTick())
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			h.flushAcks()
			return
		case <-t.C:
		}
		h.tick(time.Now())
		t.Reset(h.hostTick())
	}
}

// register records the session of seed, now run by pid.
func (h *sessionHost) register(seed *sessionSeed, pid *actor.PID) {
	s := seed.slot
	if s == nil {
		s = &sessionSlot{player: seed.player.ID}
		seed.slot = s
	}
	interval := h.env.Cfg().Session.ReconcileInterval
	now := time.Now()
	s.mu.Lock()
	s.pid, s.registered = pid, true
	if s.nextCheck.IsZero() {
		// Spread the sessions' checks over the interval.
		s.nextCheck = now.Add(time.Duration(rand.Int64N(int64(interval) + 1)))
		s.touchedAt = now
	}
	s.mu.Unlock()
	h.mu.Lock()
	h.slots[s.player] = s
	h.mu.Unlock()
	h.update(seed)
}

// unregister forgets the session of seed (it stopped).
func (h *sessionHost) unregister(seed *sessionSeed) {
	s := seed.slot
	if s == nil {
		return
	}
	s.mu.Lock()
	s.registered = false
	s.mu.Unlock()
	h.mu.Lock()
	if h.slots[s.player] == s {
		delete(h.slots, s.player)
	}
	h.mu.Unlock()
}

// update records the session's state, as the batch compares it with Redis.
func (h *sessionHost) update(seed *sessionSeed) {
	s := seed.slot
	if s == nil {
		return
	}
	st := seed.st
	s.mu.Lock()
	s.name, s.mode = st.Name, st.Mode
	s.rating, s.device = seed.player.Rating, seed.player.Device
	if seed.party == nil {
		s.party = ""
	} else if s.party != seed.party.ID {
		// Just joined (or created): the join renewed the record.
		s.party, s.partyTouched = seed.party.ID, time.Now()
	}
	switch st.Name {
	case stQueued:
		s.ref = st.TicketID
	case stLoading:
		s.ref = st.MatchID
	default:
		s.ref = ""
	}
	s.mu.Unlock()
}

// connected records a new connection (its grace, if any, ends).
func (h *sessionHost) connected(seed *sessionSeed) {
	if s := seed.slot; s != nil {
		s.mu.Lock()
		s.sid, s.connected, s.graceDue = seed.lastSID, true, time.Time{}
		s.touchedAt = time.Now()
		s.mu.Unlock()
	}
}

// disconnected starts a reconnect grace that ends at due.
func (h *sessionHost) disconnected(seed *sessionSeed, due time.Time) {
	if s := seed.slot; s != nil {
		s.mu.Lock()
		s.connected, s.graceDue = false, due
		s.mu.Unlock()
	}
}

// poke has the session read Redis after d (a retry, or a doubt to settle),
// whatever the batch sees.
func (h *sessionHost) poke(seed *sessionSeed, d time.Duration) {
	if s := seed.slot; s != nil {
		due := time.Now().Add(d)
		s.mu.Lock()
		if s.hintDue.IsZero() || due.Before(s.hintDue) {
			s.hintDue = due
		}
		s.mu.Unlock()
	}
}

// ack queues the acknowledgement of a told outcome, for the next batch.
func (h *sessionHost) ack(mode, player, id string) {
	h.ackMu.Lock()
	m := h.acks[mode]
	if m == nil {
		m = map[string]string{}
		h.acks[mode] = m
	}
	// Ids are told in order: the newest acknowledges those before it.
	m[player] = id
	h.ackMu.Unlock()
}

// reconcileAll has every local session compared with Redis at the next tick.
func (h *sessionHost) reconcileAll() { h.all.Store(true) }

// count is the number of local sessions.
func (h *sessionHost) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.slots)
}

type slotCheck struct {
	s         *sessionSlot
	name      stateName
	mode, ref string
}

func (h *sessionHost) tick(now time.Time) {
	cfg := h.env.Cfg()
	h.mu.Lock()
	h.buf = h.buf[:0]
	for _, s := range h.slots {
		h.buf = append(h.buf, s)
	}
	h.mu.Unlock()
	all := h.all.Swap(false)
	var (
		hints, graces []*sessionSlot
		graceSIDs     []string
		checks        []slotCheck
		touches       []redisx.DirLease
		touched       []*sessionSlot
		parties       []*sessionSlot
	)
	// Half the TTL leaves a renewal a whole half to land in, and costs a
	// third less than renewing at a third (one script per session).
	renew := cfg.Session.DirectoryTTL / 2
	for _, s := range h.buf {
		s.mu.Lock()
		if !s.registered {
			s.mu.Unlock()
			continue
		}
		if !s.graceDue.IsZero() && !now.Before(s.graceDue) {
			graces, graceSIDs = append(graces, s), append(graceSIDs, s.sid)
			s.graceDue = time.Time{}
		}
		if !s.hintDue.IsZero() && !now.Before(s.hintDue) {
			hints = append(hints, s)
			s.hintDue = time.Time{}
		}
		if all || !now.Before(s.nextCheck) {
			checks = append(checks, slotCheck{s: s, name: s.name, mode: s.mode, ref: s.ref})
			every := cfg.Session.ReconcileInterval
			if s.name == stIdle {
				// Redis changes an idle player's standing only through
				// its own session's requests, which settle themselves
				// (a doubtful one asks for a read): idle sessions, most
				// of a node's, are checked at a quarter of the pace.
				every *= idleCheckFactor
			}
			s.nextCheck = now.Add(every)
		}
		if s.party != "" && now.Sub(s.partyTouched) >= cfg.Party.TTL/4 {
			parties = append(parties, s)
			s.partyTouched = now
		}
		if s.sid != "" && now.Sub(s.touchedAt) >= renew {
			touches = append(touches, redisx.DirLease{Player: s.player, Session: s.sid})
			touched = append(touched, s)
			s.touchedAt = now
		}
		s.mu.Unlock()
	}
	sys := h.env.system
	for i, s := range graces {
		sys.Root.Send(s.pid, &graceExpired{sid: graceSIDs[i]})
	}
	// Acknowledgements first, so the check does not take an outcome just
	// told for one still owed.
	h.flushAcks()
	hints = append(hints, h.check(checks)...)
	for _, s := range hints {
		sys.Root.Send(s.pid, &truthHint{})
	}
	h.renew(touches, touched)
	h.touchParties(parties)
}

// touchParties renews the records of the sessions' parties, so a party
// lives as long as any member's session does; a session its party no
// longer lists (its removal's news lost) is asked to read it again.
func (h *sessionHost) touchParties(slots []*sessionSlot) {
	if len(slots) == 0 || h.env.Parties == nil {
		return
	}
	ctx, cancel := h.env.opCtx()
	defer cancel()
	for _, s := range slots {
		s.mu.Lock()
		party, pid, rating, device := s.party, s.pid, s.rating, s.device
		s.mu.Unlock()
		ttl := h.env.Cfg().Party.TTL
		ok, err := h.env.Parties.PartyTouch(ctx, party, s.player, ttl)
		if err == nil && ok {
			// The profile the leader's enqueue reads lives as long.
			err = h.env.Parties.SetProfile(ctx, s.player, rating, device, ttl)
		}
		if err != nil {
			h.env.redisErr("party_touch", err)
			return
		}
		if !ok {
			h.env.system.Root.Send(pid, &partyCheck{})
		}
	}
}

// check compares the sessions' states with Redis, in two commands per mode
// however many sessions, and returns the sessions that disagree with it.
func (h *sessionHost) check(checks []slotCheck) []*sessionSlot {
	if len(checks) == 0 {
		return nil
	}
	players := make([]string, len(checks))
	for i, c := range checks {
		players[i] = c.s.player
	}
	wrong := make([]bool, len(checks))
	ctx, cancel := h.env.opCtx()
	defer cancel()
	for _, mode := range h.env.modeNames() {
		entries, pending, err := h.env.Store.ReadTruthBatch(ctx, mode, players)
		if err != nil {
			h.env.redisErr("read_truth_batch", err, "mode", mode)
			return nil
		}
		for i, c := range checks {
			want := redisx.Entry{}
			if c.mode == mode {
				switch c.name {
				case stQueued:
					want = redisx.Entry{Kind: redisx.EntryQueued, Ref: c.ref}
				case stLoading:
					want = redisx.Entry{Kind: redisx.EntryInRoom, Ref: c.ref}
				}
			}
			if pending[i] || entries[i] != want {
				wrong[i] = true
			}
		}
	}
	var out []*sessionSlot
	for i, c := range checks {
		if wrong[i] {
			out = append(out, c.s)
		}
	}
	return out
}

// renew renews the directory entries of the sessions due, in one pipelined
// batch; a session whose player another session took over (its notice
// lost) is told it was replaced.
func (h *sessionHost) renew(leases []redisx.DirLease, slots []*sessionSlot) {
	if len(leases) == 0 {
		return
	}
	ctx, cancel := h.env.opCtx()
	defer cancel()
	owned, err := h.env.Store.DirTouchBatch(ctx, h.env.Node, leases, h.env.Cfg().Session.DirectoryTTL)
	if err != nil {
		h.env.redisErr("dir_touch", err)
		for _, s := range slots {
			s.mu.Lock()
			s.touchedAt = time.Time{} // retry at the next tick
			s.mu.Unlock()
		}
		return
	}
	for i, ok := range owned {
		if !ok {
			h.env.system.Root.Send(slots[i].pid, &SessionReplacedMsg{SessionID: leases[i].Session})
		}
	}
}

// flushAcks forgets, in Redis, the outcomes sessions told since the last
// flush: one script call per mode.
func (h *sessionHost) flushAcks() {
	h.ackMu.Lock()
	acks := h.acks
	if len(acks) == 0 {
		h.ackMu.Unlock()
		return
	}
	h.acks = map[string]map[string]string{}
	h.ackMu.Unlock()
	ctx, cancel := h.env.opCtx()
	defer cancel()
	for mode, m := range acks {
		if err := h.env.Store.AckOutcomes(ctx, mode, m); err != nil {
			// Untold outcomes stay in Redis until their TTL: the worst case is
			// an outcome told again after a reconnect.
			h.env.redisErr("ack_outcomes", err, "mode", mode)
		}
	}
}
