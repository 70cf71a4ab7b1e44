package redisx_test

// One suite, two backends: every test below runs each Lua script through its
// redisx wrapper against a real redis-server and against the embedded
// miniredis (whose Lua is gopher-lua), as the design asks (DESIGN.md, Tests).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/matchd/matchd/config"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// t0 is a fixed, realistic epoch (ms) for queue scores, large enough to show
// any loss of precision in a score's round trip through Lua.
const t0 = int64(1_700_000_000_123)

var discard = slog.New(slog.DiscardHandler)

type backend struct {
	name string
	cfg  func(t testing.TB) config.Redis
}

var backends = []backend{
	{"redis", func(t testing.TB) config.Redis { return redistest.Config(t) }},
	{"embedded", func(t testing.TB) config.Redis {
		return config.Redis{
			Mode:           "embedded",
			KeyPrefix:      redistest.Prefix(t),
			DialTimeout:    2 * time.Second,
			OpTimeout:      2 * time.Second,
			StartupTimeout: 5 * time.Second,
		}
	}},
}

// forEachBackend runs fn once on a real redis-server ("redis") and once on
// the embedded miniredis ("embedded"), each with a fresh key prefix and a
// client closed when the subtest ends.
func forEachBackend(t *testing.T, fn func(t *testing.T, c *redisx.Client)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t, b.cfg(t)))
		})
	}
}

func open(tb testing.TB, cfg config.Redis) *redisx.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redisx.Open(ctx, cfg, discard)
	if err != nil {
		tb.Fatalf("redisx.Open(%s): %v", cfg.Mode, err)
	}
	tb.Cleanup(c.Close)
	// Leave a shared server as it was found (runs before Close).
	tb.Cleanup(func() { _ = redistest.Flush(context.Background(), c.R, cfg.KeyPrefix+":") })
	return c
}

func token() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "tok-" + hex.EncodeToString(b[:])
}

// ---- raw reads, for asserting what the scripts wrote ----

func do(tb testing.TB, c *redisx.Client, cmd rueidis.Completed) rueidis.RedisResult {
	tb.Helper()
	return c.R.Do(context.Background(), cmd)
}

func hget(tb testing.TB, c *redisx.Client, key, field string) (string, bool) {
	tb.Helper()
	s, err := do(tb, c, c.R.B().Hget().Key(key).Field(field).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", false
	}
	if err != nil {
		tb.Fatalf("HGET %s %s: %v", key, field, err)
	}
	return s, true
}

func hgetall(tb testing.TB, c *redisx.Client, key string) map[string]string {
	tb.Helper()
	m, err := do(tb, c, c.R.B().Hgetall().Key(key).Build()).AsStrMap()
	if err != nil {
		tb.Fatalf("HGETALL %s: %v", key, err)
	}
	return m
}

func get(tb testing.TB, c *redisx.Client, key string) (string, bool) {
	tb.Helper()
	s, err := do(tb, c, c.R.B().Get().Key(key).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", false
	}
	if err != nil {
		tb.Fatalf("GET %s: %v", key, err)
	}
	return s, true
}

func zscore(tb testing.TB, c *redisx.Client, key, member string) (float64, bool) {
	tb.Helper()
	f, err := do(tb, c, c.R.B().Zscore().Key(key).Member(member).Build()).AsFloat64()
	if rueidis.IsRedisNil(err) {
		return 0, false
	}
	if err != nil {
		tb.Fatalf("ZSCORE %s %s: %v", key, member, err)
	}
	return f, true
}

func zcard(tb testing.TB, c *redisx.Client, key string) int64 {
	tb.Helper()
	n, err := do(tb, c, c.R.B().Zcard().Key(key).Build()).AsInt64()
	if err != nil {
		tb.Fatalf("ZCARD %s: %v", key, err)
	}
	return n
}

func pttl(tb testing.TB, c *redisx.Client, key string) int64 {
	tb.Helper()
	n, err := do(tb, c, c.R.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil {
		tb.Fatalf("PTTL %s: %v", key, err)
	}
	return n
}

func exists(tb testing.TB, c *redisx.Client, key string) bool {
	tb.Helper()
	n, err := do(tb, c, c.R.B().Exists().Key(key).Build()).AsInt64()
	if err != nil {
		tb.Fatalf("EXISTS %s: %v", key, err)
	}
	return n == 1
}

func lrange(tb testing.TB, c *redisx.Client, key string) []string {
	tb.Helper()
	l, err := do(tb, c, c.R.B().Lrange().Key(key).Start(0).Stop(-1).Build()).AsStrSlice()
	if err != nil {
		tb.Fatalf("LRANGE %s: %v", key, err)
	}
	return l
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// keysUnder lists every key of the client's prefix, sorted.
func keysUnder(tb testing.TB, c *redisx.Client) []string {
	tb.Helper()
	ks, err := do(tb, c, c.R.B().Keys().Pattern(globEscape(c.Keys.Prefix())+":*").Build()).AsStrSlice()
	if err != nil {
		tb.Fatalf("KEYS: %v", err)
	}
	slices.Sort(ks)
	return ks
}

// dump renders every key of a mode (those tagged {m:<mode>}) with its type,
// contents and whether it has a TTL (not the TTL itself, which moves with
// the clock), so a test can assert that a call changed nothing at all.
// Parallel subtests share a client and so a prefix, each with a mode.
func dump(tb testing.TB, c *redisx.Client, mode string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, k := range keysUnder(tb, c) {
		if !strings.Contains(k, "{m:"+mode+"}") {
			continue
		}
		typ, err := do(tb, c, c.R.B().Type().Key(k).Build()).ToString()
		if err != nil {
			tb.Fatalf("TYPE %s: %v", k, err)
		}
		var body string
		switch typ {
		case "string":
			body, _ = get(tb, c, k)
		case "hash":
			m := hgetall(tb, c, k)
			fs := make([]string, 0, len(m))
			for f, v := range m {
				fs = append(fs, f+"="+v)
			}
			slices.Sort(fs)
			body = strings.Join(fs, "\n")
		case "zset":
			zs, err := do(tb, c, c.R.B().Zrange().Key(k).Min("0").Max("-1").Withscores().Build()).AsZScores()
			if err != nil {
				tb.Fatalf("ZRANGE %s: %v", k, err)
			}
			for _, z := range zs {
				body += fmt.Sprintf("%s=%v\n", z.Member, z.Score)
			}
		case "list":
			body = strings.Join(lrange(tb, c, k), "\n")
		case "stream":
			es, err := do(tb, c, c.R.B().Xrange().Key(k).Start("-").End("+").Build()).AsXRange()
			if err != nil {
				tb.Fatalf("XRANGE %s: %v", k, err)
			}
			body = fmt.Sprint(es)
		default:
			body = "?"
		}
		ttl := "persist"
		if pttl(tb, c, k) > 0 {
			ttl = "ttl"
		}
		out[k] = typ + "|" + ttl + "|" + body
	}
	return out
}

// sameDump fails the test with the keys that differ between two dumps.
func sameDump(tb testing.TB, before, after map[string]string) {
	tb.Helper()
	for k, v := range before {
		if w, ok := after[k]; !ok {
			tb.Errorf("key %s: gone after the call, want unchanged", k)
		} else if w != v {
			tb.Errorf("key %s: got\n%s\nwant unchanged\n%s", k, w, v)
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			tb.Errorf("key %s: created by the call (%s), want nothing changed", k, v)
		}
	}
}

// waitGone polls until key no longer exists (a TTL ran out).
func waitGone(tb testing.TB, c *redisx.Client, key string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for exists(tb, c, key) {
		if time.Now().After(deadline) {
			tb.Fatalf("key %s still exists after 5s (PTTL %d)", key, pttl(tb, c, key))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---- fixtures ----

// ticket is player's ticket in mode; its id is derived from the player.
func ticket(mode, player string, queuedAt int64) redisx.Ticket {
	return redisx.Ticket{
		ID: "tk-" + player, Player: player, Mode: mode,
		Rating: 1500.5, Device: "dev-" + player, QueuedAtMs: queuedAt,
	}
}

func ticketJSON(tb testing.TB, tk redisx.Ticket) string {
	tb.Helper()
	b, err := json.Marshal(tk)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func enqueue(tb testing.TB, c *redisx.Client, tk redisx.Ticket) redisx.Ticket {
	tb.Helper()
	r, err := c.Enqueue(context.Background(), tk)
	if err != nil || r.Status != redisx.EnqueueCreated {
		tb.Fatalf("Enqueue(%s): got status %d, err %v; want created", tk.Player, r.Status, err)
	}
	return r.Ticket
}

// enqueueAll queues one ticket per player, 10ms apart from t0.
func enqueueAll(tb testing.TB, c *redisx.Client, mode string, players ...string) map[string]redisx.Ticket {
	tb.Helper()
	out := map[string]redisx.Ticket{}
	for i, p := range players {
		out[p] = enqueue(tb, c, ticket(mode, p, t0+int64(i)*10))
	}
	return out
}

// lease takes mode's lease for a fresh token.
func lease(tb testing.TB, c *redisx.Client, mode string, ttl time.Duration) redisx.Lease {
	tb.Helper()
	tok := token()
	f, err := c.AcquireLock(context.Background(), mode, tok, ttl)
	if err != nil || f <= 0 {
		tb.Fatalf("AcquireLock(%s): got fence %d, err %v; want > 0", mode, f, err)
	}
	return redisx.Lease{Token: tok, Fence: f}
}

const (
	// outcomeTTL is the lifetime of the outcome lists the writers keep.
	outcomeTTL = time.Minute
	owner      = "node-a"
	// loadingTimeout is long enough that no test's marks come late by
	// accident; a test that needs a deadline behind it moves it there
	// (expireDeadline) or forms its room with a short one.
	loadingTimeout = 30 * time.Second
	roomTTL        = time.Minute
)

var claimArgs = redisx.ClaimArgs{Owner: owner, LoadingTimeout: loadingTimeout, RoomTTL: roomTTL}

// cm is a match of tickets split into two teams (first half, second half).
func cm(id string, tks ...redisx.Ticket) redisx.ClaimMatch {
	teams := [][]string{{}, {}}
	for i, tk := range tks {
		teams[i*2/len(tks)] = append(teams[i*2/len(tks)], tk.Player)
	}
	return redisx.ClaimMatch{MatchID: id, Teams: teams, Tickets: tks}
}

// formRoom queues players in mode and forms them into one loading room.
func formRoom(tb testing.TB, c *redisx.Client, mode, match string, players ...string) map[string]redisx.Ticket {
	tb.Helper()
	tks, _ := formRoomWith(tb, c, mode, match, claimArgs, players...)
	return tks
}

// formRoomWith is formRoom with the given claim arguments; it returns the
// claim's result too (the room's deadline).
func formRoomWith(tb testing.TB, c *redisx.Client, mode, match string, a redisx.ClaimArgs, players ...string) (map[string]redisx.Ticket, redisx.ClaimResult) {
	tb.Helper()
	tks := enqueueAll(tb, c, mode, players...)
	l := lease(tb, c, mode, time.Minute)
	list := make([]redisx.Ticket, len(players))
	for i, p := range players {
		list[i] = tks[p]
	}
	cr, err := c.Claim(context.Background(), mode, l, a, []redisx.ClaimMatch{cm(match, list...)})
	if err != nil || len(cr.Formed) != 1 || !cr.Formed[0] {
		tb.Fatalf("Claim(%s): got %+v, %v; want [true]", match, cr, err)
	}
	if _, err := c.ReleaseLock(context.Background(), mode, l.Token); err != nil {
		tb.Fatal(err)
	}
	return tks, cr
}

func markReady(tb testing.TB, c *redisx.Client, mode, match string, players ...string) {
	tb.Helper()
	for _, p := range players {
		r, err := c.MarkReady(context.Background(), mode, match, p, 0)
		if err != nil || r.State != redisx.RoomLoading {
			tb.Fatalf("MarkReady(%s, %s): got %+v, %v; want state loading", match, p, r, err)
		}
	}
}

// ---- Redis's clock ----

// redisTime reads Redis's clock (TIME) in unix ms, as the scripts compute
// it: a script's reading lies between two of these taken around its call.
func redisTime(tb testing.TB, c *redisx.Client) int64 {
	tb.Helper()
	ts, err := do(tb, c, c.R.B().Time().Build()).AsStrSlice()
	if err != nil || len(ts) != 2 {
		tb.Fatalf("TIME: got %v, %v", ts, err)
	}
	sec, err1 := strconv.ParseInt(ts[0], 10, 64)
	usec, err2 := strconv.ParseInt(ts[1], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("TIME: unparsable %v", ts)
	}
	return sec*1000 + usec/1000
}

// inWindow reports whether a time a script stamped lies between the TIME
// readings taken before and after its call.
func inWindow(v, before, after int64) bool { return v >= before && v <= after }

// waitRedisPast polls Redis's clock until it is past ms.
func waitRedisPast(tb testing.TB, c *redisx.Client, ms int64) {
	tb.Helper()
	limit := time.Now().Add(10 * time.Second)
	for redisTime(tb, c) <= ms {
		if time.Now().After(limit) {
			tb.Fatalf("Redis's clock did not pass %d within 10s", ms)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// roomDeadline reads a room's loading deadline as stored.
func roomDeadline(tb testing.TB, c *redisx.Client, mode, match string) int64 {
	tb.Helper()
	s, ok := hget(tb, c, c.Keys.Room(mode, match), "deadline")
	v, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil {
		tb.Fatalf("room %s deadline: %q (present %v)", match, s, ok)
	}
	return v
}

// expireDeadline moves a loading room's deadline (its hash and the rooms
// index) to just behind Redis's clock, as if its loading timeout had run
// out, and returns it. The scripts judge deadlines by Redis TIME, which no
// test can move on a real server; waiting out a real timeout would make
// every test of a timed-out room slow, or flaky when marks made before it
// are slowed past it.
func expireDeadline(tb testing.TB, c *redisx.Client, mode, match string) int64 {
	tb.Helper()
	d := redisTime(tb, c) - 1
	for _, r := range c.R.DoMulti(context.Background(),
		c.R.B().Hset().Key(c.Keys.Room(mode, match)).FieldValue().FieldValue("deadline", itoa(d)).Build(),
		c.R.B().Zadd().Key(c.Keys.Rooms(mode)).Xx().ScoreMember().ScoreMember(float64(d), match).Build()) {
		if err := r.Error(); err != nil {
			tb.Fatalf("expire deadline of %s: %v", match, err)
		}
	}
	return d
}

func entry(kind redisx.EntryKind, ref string) redisx.Entry { return redisx.Entry{Kind: kind, Ref: ref} }

// roomMembers reads a room's members, as the node driving it knows them
// (nil when the room is gone).
func roomMembers(tb testing.TB, c *redisx.Client, mode, match string) []string {
	tb.Helper()
	r, _, err := c.Room(context.Background(), mode, match)
	if err != nil {
		tb.Fatalf("Room(%s): %v", match, err)
	}
	return r.Members
}

// ---- outcomes ----

// readOutcomes reads a player's outcome list in mode, parsed, oldest first.
func readOutcomes(tb testing.TB, c *redisx.Client, mode, player string) []redisx.Outcome {
	tb.Helper()
	var out []redisx.Outcome
	for _, s := range lrange(tb, c, c.Keys.Outcomes(mode, player)) {
		o, err := redisx.ParseOutcome(s)
		if err != nil {
			tb.Fatalf("outcome of %s in %s: %v", player, mode, err)
		}
		out = append(out, o)
	}
	return out
}

// outcomeIDs lists the ids of a player's outcomes, oldest first.
func outcomeIDs(tb testing.TB, c *redisx.Client, mode, player string) []string {
	tb.Helper()
	var ids []string
	for _, o := range readOutcomes(tb, c, mode, player) {
		ids = append(ids, o.ID())
	}
	return ids
}

// sameOutcome compares every field of an outcome but its time, which Redis
// stamps; that time must be now on the wall clock, in milliseconds (within
// a minute: Redis runs on this machine).
func sameOutcome(tb testing.TB, what string, got, want redisx.Outcome) {
	tb.Helper()
	if now := time.Now().UnixMilli(); got.AtMs < now-60_000 || got.AtMs > now+60_000 {
		tb.Errorf("%s: at %d ms, want about now (%d)", what, got.AtMs, now)
	}
	if got.Kind != want.Kind || got.Ref != want.Ref || got.Mode != want.Mode || got.Reason != want.Reason ||
		got.Requeued != want.Requeued || !slices.Equal(got.NoShows, want.NoShows) || got.Ticket != want.Ticket ||
		got.QueuedAtMs != want.QueuedAtMs || got.DeadlineMs != want.DeadlineMs ||
		fmt.Sprint(got.Teams) != fmt.Sprint(want.Teams) || string(got.Server) != string(want.Server) {
		tb.Errorf("%s: got\n%s\nwant\n%s", what, showOutcome(got), showOutcome(want))
	}
}

func showOutcome(o redisx.Outcome) string {
	return fmt.Sprintf("{%s mode=%s reason=%q requeued=%v no_shows=%q ticket=%q queued_at=%d deadline=%d teams=%v server=%s}",
		o.ID(), o.Mode, o.Reason, o.Requeued, o.NoShows, o.Ticket, o.QueuedAtMs, o.DeadlineMs, o.Teams, o.Server)
}

// assertOutcomeTTL checks that a player's outcome list lives at most
// outcomeTTL, and more than floor (a renewal).
func assertOutcomeTTL(tb testing.TB, c *redisx.Client, mode, player string, floor time.Duration) {
	tb.Helper()
	if ttl := pttl(tb, c, c.Keys.Outcomes(mode, player)); ttl <= floor.Milliseconds() || ttl > outcomeTTL.Milliseconds() {
		tb.Errorf("outcomes of %s PTTL: got %d, want in (%d, %d]", player, ttl, floor.Milliseconds(), outcomeTTL.Milliseconds())
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func atoi(tb testing.TB, s string) int64 {
	tb.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatalf("not an integer: %q", s)
	}
	return v
}
