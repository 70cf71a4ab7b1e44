package redisx

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// OutcomeKind is what happened to a player's ticket or seat.
type OutcomeKind byte

// Outcome kinds, as the first byte of an outcome's id.
const (
	// OutcomeDequeued: a ticket left the queue without a match (Ref is the
	// ticket id; Reason the dequeued reason).
	OutcomeDequeued OutcomeKind = 'd'
	// OutcomeStarted: a match started (Ref is the match id).
	OutcomeStarted OutcomeKind = 's'
	// OutcomeCancelled: a match was cancelled (Ref is the match id; Reason
	// the cancel reason; Requeued whether this player went back into the
	// queue, with Ticket and QueuedAtMs).
	OutcomeCancelled OutcomeKind = 'c'
)

// Outcome is one change to a player's place that the player must be told
// of: written by the same script as the change, kept in the mode's slot
// (list {m:<mode>}:o:<player>) until the player's session acknowledges it,
// so a lost cross-node message, a crash or a reconnect never loses it.
type Outcome struct {
	Kind OutcomeKind
	// Ref is the ticket id (dequeued) or match id (started, cancelled).
	Ref  string
	AtMs int64
	Mode string
	// Reason is docs/protocol.md's dequeued or match_cancelled reason.
	Reason   string
	Requeued bool
	NoShows  []string
	// Ticket and QueuedAtMs describe the ticket involved: the one dequeued,
	// or the one a cancelled match's member was requeued with.
	Ticket     string
	QueuedAtMs int64
	// DeadlineMs and Teams describe the match, so a session that never
	// told its client of it can send its match_found first.
	DeadlineMs int64
	Teams      [][]string
	// Server is the allocator's answer of a started match ("null": none).
	Server json.RawMessage
}

// ID names the outcome: one per ticket removal or match end.
func (o Outcome) ID() string { return string(o.Kind) + ":" + o.Ref }

// outcomeFields is the number of '|'-separated fields of a record:
// id|at|mode|reason|requeued|no_shows|ticket|queued_at|deadline|teams|server
// (server last: it is opaque JSON and may hold '|').
const outcomeFields = 11

// record encodes o for outcome_push.lua, which fills in the time ('@').
func (o Outcome) record() string {
	teams, err := json.Marshal(o.Teams)
	if err != nil || o.Teams == nil {
		teams = []byte("[]")
	}
	server := string(o.Server)
	if server == "" {
		server = "null"
	}
	rq := "0"
	if o.Requeued {
		rq = "1"
	}
	return strings.Join([]string{o.ID(), "@", o.Mode, o.Reason, rq, strings.Join(o.NoShows, ","), o.Ticket,
		i64(o.QueuedAtMs), i64(o.DeadlineMs), string(teams), server}, "|")
}

// ParseOutcome decodes one outcome record.
func ParseOutcome(s string) (Outcome, error) {
	f := strings.SplitN(s, "|", outcomeFields)
	if len(f) != outcomeFields || len(f[0]) < 3 || f[0][1] != ':' {
		return Outcome{}, fmt.Errorf("%w: outcome %q", ErrBadReply, s)
	}
	o := Outcome{Kind: OutcomeKind(f[0][0]), Ref: f[0][2:], Mode: f[2], Reason: f[3], Requeued: f[4] == "1",
		NoShows: splitIDs(f[5]), Ticket: f[6], Server: json.RawMessage(f[10])}
	switch o.Kind {
	case OutcomeDequeued, OutcomeStarted, OutcomeCancelled:
	default:
		return Outcome{}, fmt.Errorf("%w: outcome kind %q", ErrBadReply, f[0])
	}
	var err error
	if o.AtMs, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return Outcome{}, fmt.Errorf("%w: outcome time %q", ErrBadReply, f[1])
	}
	if o.QueuedAtMs, err = parseScore(f[7]); err != nil {
		return Outcome{}, fmt.Errorf("%w: outcome queued_at %q", ErrBadReply, f[7])
	}
	if o.DeadlineMs, err = strconv.ParseInt(f[8], 10, 64); err != nil {
		return Outcome{}, fmt.Errorf("%w: outcome deadline %q", ErrBadReply, f[8])
	}
	if err := json.Unmarshal([]byte(f[9]), &o.Teams); err != nil {
		return Outcome{}, fmt.Errorf("%w: outcome teams: %v", ErrBadReply, err)
	}
	return o, nil
}

// parseScore reads a sorted-set score as Redis prints it (it may print an
// integer score in exponent form, "1.7e+12").
func parseScore(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	return int64(f), err
}

func parseOutcomes(arr []rueidis.RedisMessage) ([]Outcome, error) {
	if len(arr) == 0 {
		return nil, nil
	}
	out := make([]Outcome, 0, len(arr))
	for _, m := range arr {
		s, err := m.ToString()
		if err != nil {
			return nil, fmt.Errorf("%w: outcome: %v", ErrBadReply, err)
		}
		o, err := ParseOutcome(s)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// PushOutcomes records outcomes (player -> outcome) of one mode, for a change
// whose own script could not name the players' lists.
func (c *Client) PushOutcomes(ctx context.Context, mode string, recs map[string]Outcome, ttl time.Duration) error {
	if len(recs) == 0 {
		return nil
	}
	keys := make([]string, 0, len(recs))
	args := make([]string, 0, len(recs)+1)
	args = append(args, ms(ttl))
	for p, o := range recs {
		keys = append(keys, c.Keys.Outcomes(mode, p))
		args = append(args, o.record())
	}
	if err := c.scripts.outcomePush.Exec(ctx, c.R, keys, args).Error(); err != nil {
		return fmt.Errorf("redisx: push outcomes: %w", err)
	}
	return nil
}

// AckOutcomes forgets, for each player (player -> outcome id), the told
// outcome and those before it, in one call per mode.
func (c *Client) AckOutcomes(ctx context.Context, mode string, acks map[string]string) error {
	if len(acks) == 0 {
		return nil
	}
	keys := make([]string, 0, len(acks))
	args := make([]string, 0, len(acks))
	for p, id := range acks {
		keys = append(keys, c.Keys.Outcomes(mode, p))
		args = append(args, id)
	}
	if err := c.scripts.outcomeAck.Exec(ctx, c.R, keys, args).Error(); err != nil {
		return fmt.Errorf("redisx: ack outcomes: %w", err)
	}
	return nil
}

// Truth is everything Redis says about where one player stands: the one
// read a session makes on start, on every attach, on sync, on any signal
// that does not fit its state and periodically.
type Truth struct {
	// Node and Session own the player's directory entry ("" when none).
	Node, Session string
	// Entries maps each mode in which the player holds a ticket or a seat
	// to that entry.
	Entries map[string]Entry
	// Outcomes are the player's untold outcomes over all modes, oldest first.
	Outcomes []Outcome
	// Epoch names the Redis data set the read saw.
	Epoch string
	// PartyPointer is the party the player's pointer names ("" when none;
	// a pointer counts only once the party confirms it: PartyOf), and
	// Invited whether invitations to it may wait: a welcome reads parties
	// only for the players these say have any.
	PartyPointer string
	Invited      bool
}

// ReadTruth reads where player stands in every mode given, with its untold
// outcomes and directory entry, in one round trip.
func (c *Client) ReadTruth(ctx context.Context, player string, modes []string) (Truth, error) {
	cmds := make(rueidis.Commands, 0, 4+2*len(modes))
	cmds = append(cmds,
		c.R.B().Hmget().Key(c.Keys.Dir(player)).Field("node", "session").Build(),
		c.R.B().Get().Key(c.Keys.Epoch()).Build())
	for _, m := range modes {
		cmds = append(cmds,
			c.R.B().Hget().Key(c.Keys.Players(m)).Field(player).Build(),
			c.R.B().Lrange().Key(c.Keys.Outcomes(m, player)).Start(0).Stop(-1).Build())
	}
	cmds = append(cmds,
		c.R.B().Get().Key(c.Keys.PlayerParty(player)).Build(),
		c.R.B().Exists().Key(c.Keys.PlayerInvites(player)).Build())
	res := c.R.DoMulti(ctx, cmds...)
	last := len(res) - 2
	var t Truth
	dir, err := res[0].ToArray()
	if err != nil {
		return Truth{}, fmt.Errorf("redisx: read truth: %w", err)
	}
	if len(dir) == 2 {
		t.Node, _ = dir[0].ToString() // nil when there is no entry
		t.Session, _ = dir[1].ToString()
	}
	if t.Epoch, err = res[1].ToString(); err != nil && !rueidis.IsRedisNil(err) {
		return Truth{}, fmt.Errorf("redisx: read truth: %w", err)
	}
	for i, m := range modes {
		s, err := res[2+2*i].ToString()
		switch {
		case rueidis.IsRedisNil(err):
		case err != nil:
			return Truth{}, fmt.Errorf("redisx: read truth: %w", err)
		default:
			if e := parseEntry(s); e.Kind != EntryNone {
				if t.Entries == nil {
					t.Entries = map[string]Entry{}
				}
				t.Entries[m] = e
			}
		}
		arr, err := res[3+2*i].ToArray()
		if err != nil {
			return Truth{}, fmt.Errorf("redisx: read truth: %w", err)
		}
		out, err := parseOutcomes(arr)
		if err != nil {
			return Truth{}, err
		}
		t.Outcomes = append(t.Outcomes, out...)
	}
	if t.PartyPointer, err = res[last].ToString(); err != nil && !rueidis.IsRedisNil(err) {
		return Truth{}, fmt.Errorf("redisx: read truth: %w", err)
	}
	n, err := res[last+1].AsInt64()
	if err != nil {
		return Truth{}, fmt.Errorf("redisx: read truth: %w", err)
	}
	t.Invited = n > 0
	// Each list is in order already; across modes, by time.
	slices.SortStableFunc(t.Outcomes, func(a, b Outcome) int { return int(a.AtMs - b.AtMs) })
	return t, nil
}

// truthChunk bounds the players of one batch command.
const truthChunk = 1000

// ReadTruthBatch reads, for many players of one mode, where each stands and
// whether it has untold outcomes there: two commands per mode and chunk
// however many players, so a node reconciles all its idle sessions for
// about the price of one.
func (c *Client) ReadTruthBatch(ctx context.Context, mode string, players []string) ([]Entry, []bool, error) {
	entries := make([]Entry, len(players))
	pending := make([]bool, len(players))
	for lo := 0; lo < len(players); lo += truthChunk {
		part := players[lo:min(lo+truthChunk, len(players))]
		okeys := make([]string, len(part))
		for i, p := range part {
			okeys[i] = c.Keys.Outcomes(mode, p)
		}
		res := c.R.DoMulti(ctx,
			unpooled(c.R.B().Hmget().Key(c.Keys.Players(mode)).Field(part...).Build()),
			unpooled(c.R.B().Exists().Key(okeys...).Build()))
		arr, err := res[0].ToArray()
		if err != nil {
			return nil, nil, fmt.Errorf("redisx: read truth batch: %w", err)
		}
		if len(arr) != len(part) {
			return nil, nil, ErrBadReply
		}
		for i, m := range arr {
			if s, err := m.ToString(); err == nil {
				entries[lo+i] = parseEntry(s)
			}
		}
		n, err := res[1].AsInt64()
		if err != nil {
			return nil, nil, fmt.Errorf("redisx: read truth batch: %w", err)
		}
		if n == 0 {
			continue
		}
		// Some players have outcomes (rare at rest): find which.
		cmds := make(rueidis.Commands, len(okeys))
		for i, k := range okeys {
			cmds[i] = c.R.B().Exists().Key(k).Build()
		}
		for i, r := range c.R.DoMulti(ctx, cmds...) {
			v, err := r.AsInt64()
			if err != nil {
				return nil, nil, fmt.Errorf("redisx: read truth batch: %w", err)
			}
			pending[lo+i] = v == 1
		}
	}
	return entries, pending, nil
}

// FirstToReportLost reports whether the caller is the first to report the
// loss of match (a room whose record vanished with Redis's data), so the
// cancellation is counted once however many of its members notice.
func (c *Client) FirstToReportLost(ctx context.Context, mode, match string, ttl time.Duration) (bool, error) {
	err := c.R.Do(ctx, c.R.B().Set().Key(c.Keys.LostMarker(mode, match)).Value("1").Nx().Px(ttl).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redisx: report lost room: %w", err)
	}
	return true, nil
}
