package redisx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// SanctionPolicy is the ladder and decay in force (config sanctions.*).
type SanctionPolicy struct {
	// Ladder[i] is the ban length at i+1 live violations; the last entry
	// applies beyond.
	Ladder []time.Duration
	// Decay is how long one violation stays live.
	Decay time.Duration
}

// BanLength is the ban that n live violations earn.
func (p SanctionPolicy) BanLength(n int) time.Duration {
	if n <= 0 || len(p.Ladder) == 0 {
		return 0
	}
	return p.Ladder[min(n, len(p.Ladder))-1]
}

// Violation is one recorded violation.
type Violation struct {
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	Expiry time.Time `json:"expires_at"`
}

// SanctionStatus is a player's or device's record.
type SanctionStatus struct {
	Violations  []Violation `json:"violations"`
	BannedUntil *time.Time  `json:"banned_until,omitempty"`
	BannedForMs int64       `json:"banned_for_ms"`
}

// Sanctions records violations against players and devices (never IPs) and
// answers ban checks. Its clock and policy are functions so tests can move
// time and a config reload changes the ladder at once.
type Sanctions struct {
	c      *Client
	policy func() SanctionPolicy
	now    func() time.Time
}

// NewSanctions returns the sanctions store; now may be nil for the
// client's estimate of Redis's clock (c.Clock), by which every node judges
// bans alike.
func NewSanctions(c *Client, policy func() SanctionPolicy, now func() time.Time) *Sanctions {
	if now == nil {
		now = c.Clock.Now
	}
	return &Sanctions{c: c, policy: policy, now: now}
}

func (s *Sanctions) key(subject, id string) string {
	if subject == "device" {
		return s.c.Keys.DeviceViolations(id)
	}
	return s.c.Keys.PlayerViolations(id)
}

func banMember(subject, id string) string { return subject[:1] + ":" + id }

// Record stores one violation of kind against player and, when known,
// device. It returns the longest ban now in force for either.
func (s *Sanctions) Record(ctx context.Context, player, device, kind string) (time.Duration, error) {
	pol := s.policy()
	now := s.now()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	member := strconv.FormatInt(now.UnixMilli(), 10) + ":" + kind + ":" + hex.EncodeToString(rnd[:])
	var longest time.Duration
	subjects := [][2]string{{"player", player}}
	if device != "" {
		subjects = append(subjects, [2]string{"device", device})
	}
	for _, sub := range subjects {
		arr, err := s.c.scripts.sanctionRecord.Exec(ctx, s.c.R, []string{s.key(sub[0], sub[1])},
			[]string{strconv.FormatInt(now.UnixMilli(), 10), ms(pol.Decay), member}).ToArray()
		if err != nil {
			return 0, fmt.Errorf("redisx: record violation: %w", err)
		}
		if len(arr) != 3 {
			return 0, ErrBadReply
		}
		n, e1 := arr[0].AsInt64()
		newest, e2 := arr[1].AsInt64()
		redisNow, e3 := arr[2].AsInt64()
		if e1 != nil || e2 != nil || e3 != nil {
			return 0, fmt.Errorf("%w: record violation", ErrBadReply)
		}
		now = time.UnixMilli(redisNow)
		ban := pol.BanLength(int(n))
		if ban <= 0 {
			continue
		}
		until := time.UnixMilli(newest).Add(ban)
		// GT: two nodes recording at once keep the later end, whatever the
		// order their writes arrive in.
		if err := s.c.R.Do(ctx, s.c.R.B().Zadd().Key(s.c.Keys.Bans()).Gt().ScoreMember().
			ScoreMember(float64(until.UnixMilli()), banMember(sub[0], sub[1])).Build()).Error(); err != nil {
			return 0, fmt.Errorf("redisx: index ban: %w", err)
		}
		longest = max(longest, until.Sub(now))
	}
	return longest, nil
}

// status computes one subject's record from its live violations.
func (s *Sanctions) status(entries []rueidis.ZScore, pol SanctionPolicy, now time.Time) SanctionStatus {
	st := SanctionStatus{Violations: []Violation{}}
	var newest time.Time
	for _, z := range entries {
		at := time.UnixMilli(int64(z.Score))
		kind := z.Member
		if parts := strings.SplitN(z.Member, ":", 3); len(parts) == 3 {
			kind = parts[1]
		}
		st.Violations = append(st.Violations, Violation{Kind: kind, At: at, Expiry: at.Add(pol.Decay)})
		if at.After(newest) {
			newest = at
		}
	}
	if ban := pol.BanLength(len(entries)); ban > 0 {
		until := newest.Add(ban)
		if until.After(now) {
			st.BannedUntil = &until
			st.BannedForMs = until.Sub(now).Milliseconds()
		}
	}
	return st
}

func (s *Sanctions) live(subject, id string, now time.Time, pol SanctionPolicy) rueidis.Completed {
	return s.c.R.B().Zrangebyscore().Key(s.key(subject, id)).Min("(" + strconv.FormatInt(now.Add(-pol.Decay).UnixMilli(), 10)).
		Max("+inf").Withscores().Build()
}

// BannedFor returns how long player (or device, when set) stays banned:
// a ban on either applies.
func (s *Sanctions) BannedFor(ctx context.Context, player, device string) (time.Duration, error) {
	pol, now := s.policy(), s.now()
	cmds := rueidis.Commands{s.live("player", player, now, pol)}
	if device != "" {
		cmds = append(cmds, s.live("device", device, now, pol))
	}
	var longest time.Duration
	for _, res := range s.c.R.DoMulti(ctx, cmds...) {
		zs, err := res.AsZScores()
		if err != nil {
			return 0, fmt.Errorf("redisx: ban check: %w", err)
		}
		st := s.status(zs, pol, now)
		longest = max(longest, time.Duration(st.BannedForMs)*time.Millisecond)
	}
	return longest, nil
}

// Status returns the record of a "player" or "device".
func (s *Sanctions) Status(ctx context.Context, subject, id string) (SanctionStatus, error) {
	pol, now := s.policy(), s.now()
	zs, err := s.c.R.Do(ctx, s.live(subject, id, now, pol)).AsZScores()
	if err != nil {
		return SanctionStatus{}, fmt.Errorf("redisx: sanctions: %w", err)
	}
	return s.status(zs, pol, now), nil
}

// Lift removes every violation of a "player" or "device" and its ban.
func (s *Sanctions) Lift(ctx context.Context, subject, id string) error {
	for _, res := range s.c.R.DoMulti(ctx,
		s.c.R.B().Del().Key(s.key(subject, id)).Build(),
		s.c.R.B().Zrem().Key(s.c.Keys.Bans()).Member(banMember(subject, id)).Build()) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("redisx: lift sanctions: %w", err)
		}
	}
	return nil
}

// ActiveBans returns the players and devices banned now, as "p:<id>" and
// "d:<id>". The index holds each ban's end as recorded; since decay can ease
// a ban before then, every candidate is checked against its live violations
// (one round trip for all), and eased or expired entries leave the index.
func (s *Sanctions) ActiveBans(ctx context.Context) (map[string]bool, error) {
	var ids []string
	if err := s.c.DoTogether(ctx, s.BanIndexRead(&ids)); err != nil {
		return nil, err
	}
	return s.ActiveBansOf(ctx, ids)
}

// BanIndexRead is the first step of ActiveBans as a Read, to share a round
// trip: it drops expired entries from the ban index and lists the rest as
// candidates for ActiveBansOf.
func (s *Sanctions) BanIndexRead(out *[]string) *Read {
	nowS := strconv.FormatInt(s.now().UnixMilli(), 10)
	return &Read{
		cmds: rueidis.Commands{
			s.c.R.B().Zremrangebyscore().Key(s.c.Keys.Bans()).Min("-inf").Max(nowS).Build(),
			s.c.R.B().Zrangebyscore().Key(s.c.Keys.Bans()).Min("(" + nowS).Max("+inf").Build(),
		},
		parse: func(r []rueidis.RedisResult) error {
			ids, err := r[1].AsStrSlice()
			if err != nil {
				return fmt.Errorf("redisx: active bans: %w", err)
			}
			*out = ids
			return nil
		},
	}
}

// ActiveBansOf checks the ban index's candidates ids (BanIndexRead) against
// their live violations; no round trip when there are none.
func (s *Sanctions) ActiveBansOf(ctx context.Context, ids []string) (map[string]bool, error) {
	pol, now := s.policy(), s.now()
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cmds := make(rueidis.Commands, 0, len(ids))
	subjects := make([][2]string, 0, len(ids))
	for _, id := range ids {
		subject := "player"
		if strings.HasPrefix(id, "d:") {
			subject = "device"
		}
		subjects = append(subjects, [2]string{subject, id[2:]})
		cmds = append(cmds, s.live(subject, id[2:], now, pol))
	}
	var eased []string
	for i, r := range s.c.R.DoMulti(ctx, cmds...) {
		zs, err := r.AsZScores()
		if err != nil {
			return nil, fmt.Errorf("redisx: active bans: %w", err)
		}
		if s.status(zs, pol, now).BannedForMs > 0 {
			out[ids[i]] = true
		} else {
			eased = append(eased, banMember(subjects[i][0], subjects[i][1]))
		}
	}
	if len(eased) > 0 {
		if err := s.c.R.Do(ctx, s.c.R.B().Zrem().Key(s.c.Keys.Bans()).Member(eased...).Build()).Error(); err != nil {
			return nil, fmt.Errorf("redisx: active bans: %w", err)
		}
	}
	return out, nil
}
