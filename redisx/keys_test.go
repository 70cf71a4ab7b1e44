package redisx_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/lua"
	"github.com/matchd/matchd/redisx"
	"github.com/matchd/matchd/redisx/redistest"
)

// slot is the Redis Cluster hash slot of key: CRC16 of its hash tag (the
// text between the first '{' and the next '}', when not empty), else of the
// whole key.
func slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return crc16(key) % 16384
}

// crc16 is CRC16/XMODEM, as Redis Cluster uses it.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestSlot(t *testing.T) {
	// Values and rules from the Redis Cluster specification.
	crc := func(s string) uint16 { return crc16(s) % 16384 }
	for _, tc := range []struct {
		key  string
		want uint16
	}{
		{"123456789", 0x31C3 % 16384}, // CRC16("123456789") = 0x31C3
		{"foo", 12182},
		{"{user1000}.following", crc("user1000")},
		{"foo{}{bar}", crc("foo{}{bar}")}, // an empty tag is no tag
		{"foo{{bar}}zap", crc("{bar")},
		{"foo{bar}{zap}", crc("bar")},
	} {
		if got := slot(tc.key); got != tc.want {
			t.Errorf("slot(%q): got %d, want %d", tc.key, got, tc.want)
		}
	}
}

var scriptSources = map[string]string{
	"lock_acquire": lua.LockAcquire, "lock_extend": lua.LockExtend, "lock_release": lua.LockRelease,
	"ticket_enqueue": lua.TicketEnqueue, "ticket_remove": lua.TicketRemove, "match_claim": lua.MatchClaim,
	"room_ready": lua.RoomReady, "room_resolve": lua.RoomResolve, "room_adopt": lua.RoomAdopt,
	"dir_claim": lua.DirClaim, "dir_touch": lua.DirTouch, "dir_release": lua.DirRelease,
	"sanction_record": lua.SanctionRecord, "room_forget": lua.RoomForget, "queue_changes": lua.QueueChanges,
	"outcome_ack": lua.OutcomeAck, "outcome_push": lua.OutcomePush,
	"node_touch": lua.NodeTouch, "room_alloc": lua.RoomAlloc, "rooms_overdue": lua.RoomsOverdue,
	"server_register": lua.ServerRegister, "server_count": lua.ServerCount, "servers_live": lua.ServersLive,
	"server_remove": lua.ServerRemove,
}

// Every key a script touches must be one it was given in KEYS (else Cluster
// cannot route it and the hash-tag check below proves nothing): KEYS[...]
// itself, or a variable bound only to KEYS entries (local room = KEYS[1];
// okey[pid] = KEYS[i]; for _, key in ipairs(KEYS)).
func TestScriptsTouchOnlyDeclaredKeys(t *testing.T) {
	call := regexp.MustCompile(`redis\.call\(\s*'([A-Za-z]+)'\s*,\s*([^,)]+)`)
	declared := regexp.MustCompile(`^KEYS\[[^\]]+\]$`)
	variable := regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]+\])?$`)
	for name, src := range scriptSources {
		calls := call.FindAllStringSubmatch(src, -1)
		if len(calls) == 0 {
			t.Errorf("%s: no redis.call found", name)
		}
		for _, m := range calls {
			key := strings.TrimSpace(m[2])
			if declared.MatchString(key) {
				continue
			}
			if v := variable.FindStringSubmatch(key); v != nil && boundToKeys(src, v[1]) {
				continue
			}
			t.Errorf("%s: %s on %q, want a key from KEYS", name, m[1], key)
		}
		if !strings.HasPrefix(src, "-- "+name+":") {
			t.Errorf("%s: header does not open with %q", name, "-- "+name+":")
		}
	}
}

// boundToKeys reports whether every assignment to the Lua variable v in src
// takes a KEYS entry, and there is at least one.
func boundToKeys(src, v string) bool {
	q := regexp.QuoteMeta(v)
	assign := regexp.MustCompile(`(?m)^\s*(?:local\s+)?` + q + `(\[.+?\])?\s*=\s*([^=\n].*)$`)
	loop := regexp.MustCompile(`for\s+[A-Za-z_]+\s*,\s*` + q + `\s+in\s+ipairs\(KEYS\)`)
	bound := loop.MatchString(src)
	for _, m := range assign.FindAllStringSubmatch(src, -1) {
		rhs := strings.TrimSpace(m[2])
		switch {
		case m[1] == "" && rhs == "{}":
			// A table declared empty, filled below.
		case strings.HasPrefix(rhs, "KEYS["):
			bound = true
		default:
			return false
		}
	}
	return bound
}

// All keys of a mode share the {m:<mode>} tag and so one slot; all keys of
// a player share {p:<player>}.
func TestKeySchema(t *testing.T) {
	t.Parallel()
	k := redisx.NewKeys("matchd")
	for _, mode := range []string{"duel", "squad:eu", "x"} {
		want := slot("{m:" + mode + "}")
		for _, key := range []string{k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Added(mode), k.Removed(mode),
			k.Lock(mode), k.Fence(mode), k.Rooms(mode), k.Owners(mode), k.Room(mode, "m1"), k.Room(mode, "01J{x}"),
			k.Outcomes(mode, "p1"), k.Outcomes(mode, "{p:x}"), k.LostMarker(mode, "m1")} {
			if !strings.Contains(key, "{m:"+mode+"}") || slot(key) != want {
				t.Errorf("key %s: slot %d, want the {m:%s} slot %d", key, slot(key), mode, want)
			}
		}
	}
	for key, tag := range map[string]string{k.Dir("p1"): "{p:p1}", k.PlayerViolations("p1"): "{s:p1}", k.DeviceViolations("d1"): "{d:d1}",
		k.Servers(): "{gs}", k.Server("gs-1"): "{gs}", k.Server("10.0.0.1:7777"): "{gs}"} {
		if slot(key) != slot(tag) {
			t.Errorf("key %s: slot %d, want the %s slot %d", key, slot(key), tag, slot(tag))
		}
	}

	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		mode, k := "duel", c.Keys
		tks := enqueueAll(t, c, mode, "p1", "p2", "p3", "p4", "p5")
		l := lease(t, c, mode, time.Minute)
		if _, err := c.Claim(t.Context(), mode, l, claimArgs, []redisx.ClaimMatch{
			cm("m1", tks["p1"], tks["p2"]), cm("m2", tks["p3"], tks["p4"]),
		}); err != nil {
			t.Fatal(err)
		}
		// Every kind of mode key exists now: q/t/pl/w hold p5, and the
		// change list holds the five additions no leader has taken yet.
		want := []string{k.Queue(mode), k.Tickets(mode), k.Players(mode), k.Waits(mode), k.Added(mode),
			k.Lock(mode), k.Fence(mode), k.Rooms(mode), k.Owners(mode), k.Room(mode, "m1"), k.Room(mode, "m2")}
		slices.Sort(want)
		got := keysUnder(t, c)
		if !slices.Equal(got, want) {
			t.Errorf("keys: got %v, want %v", got, want)
		}
		for _, key := range got {
			if !strings.Contains(key, "{m:duel}") || slot(key) != slot("{m:duel}") {
				t.Errorf("key %s: not in the {m:duel} slot", key)
			}
		}
	})
}

// TestScriptKeysShareASlot watches a real redis-server with MONITOR while a
// full lifecycle runs, and checks that every script call, of every script,
// passed KEYS of one slot. (miniredis has no MONITOR; the static and at-rest
// checks above cover the embedded mode.)
func TestScriptKeysShareASlot(t *testing.T) {
	t.Parallel()
	c := open(t, redistest.Config(t))
	mon := startMonitor(t, redistest.Addr(t))
	lifecycle(t, c, "duel")
	// The directory and adoption scripts, which the lifecycle does not use.
	ctx := t.Context()
	// (The lifecycle also runs outcome_ack and room_ready's start.)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := c.DirClaim(ctx, "p1", "node-a", "s1", time.Minute)
	must("DirClaim", err)
	_, err = c.DirTouch(ctx, "p1", "node-a", "s1", time.Minute)
	must("DirTouch", err)
	_, err = c.DirTouchBatch(ctx, "node-a", []redisx.DirLease{{Player: "p1", Session: "s1"}, {Player: "p2", Session: "s2"}}, time.Minute)
	must("DirTouchBatch", err)
	must("DirRelease", c.DirRelease(ctx, "p1", "s1"))
	_, err = c.AdoptRoom(ctx, "duel", "m1", owner, "node-b", redisx.AdoptDead, time.Minute, time.Minute)
	must("AdoptRoom", err)
	_, _, err = c.RecordAlloc(ctx, "duel", "m1", redisx.AllocMark{By: "node-a/1", Server: "gs-1", Attempt: 1}, time.Minute)
	must("RecordAlloc", err)
	_, err = c.OverdueRooms(ctx, "duel", time.Minute)
	must("OverdueRooms", err)
	must("TouchNode", c.TouchNode(ctx, "node-a", time.Minute))
	must("RegisterServer", c.RegisterServer(ctx, redisx.GameServer{ID: "gs-1", Addr: "10.0.0.1:7777", Capacity: 4}, time.Minute))
	_, err = c.CountAllocation(ctx, "gs-1")
	must("CountAllocation", err)
	_, err = c.Servers(ctx)
	must("Servers", err)
	must("RemoveServer", c.RemoveServer(ctx, "gs-1"))
	_, _, err = c.ForgetRoom(ctx, "duel", "never-formed")
	must("ForgetRoom", err)
	must("PushOutcomes", c.PushOutcomes(ctx, "duel", map[string]redisx.Outcome{
		"p1": {Kind: redisx.OutcomeCancelled, Ref: "lost", Mode: "duel", Reason: "room_lost"},
		"p2": {Kind: redisx.OutcomeCancelled, Ref: "lost", Mode: "duel", Reason: "room_lost"},
	}, time.Minute))
	// The lifecycle released its lease; the reader of the changes holds one.
	_, err = c.TakeQueueChanges(ctx, "duel", lease(t, c, "duel", time.Minute), time.Minute)
	must("TakeQueueChanges", err)
	sanctions := redisx.NewSanctions(c, func() redisx.SanctionPolicy {
		return redisx.SanctionPolicy{Ladder: []time.Duration{time.Minute}, Decay: time.Hour}
	}, nil)
	if _, err := sanctions.Record(ctx, "p1", "d1", "dodge"); err != nil {
		t.Fatal(err)
	}
	lines := mon.stop(t, c)

	checkCallSlots(t, c, lines, scriptSources)
}

type monitor struct {
	conn  net.Conn
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func startMonitor(t *testing.T, addr string) *monitor {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("MONITOR: got %q, %v", line, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	m := &monitor{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			m.mu.Lock()
			m.lines = append(m.lines, strings.TrimRight(line, "\r\n"))
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close(); <-m.done })
	return m
}

// stop sends a marker through c and returns every line up to it.
func (m *monitor) stop(t *testing.T, c *redisx.Client) []string {
	t.Helper()
	marker := "monitor-end-" + token()
	if err := c.R.Do(t.Context(), c.R.B().Echo().Message(marker).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		for i, l := range m.lines {
			if strings.Contains(l, marker) {
				out := slices.Clone(m.lines[:i])
				m.mu.Unlock()
				return out
			}
		}
		m.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("MONITOR: marker not seen within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parseMonitorLine splits `+<time> [<db> <client>] "arg" "arg" ...` into its
// arguments, undoing Redis's quoting; script-internal commands ([0 lua])
// report false.
func parseMonitorLine(line string) ([]string, bool) {
	open, closeAt := strings.IndexByte(line, '['), strings.IndexByte(line, ']')
	if open < 0 || closeAt < open || strings.HasSuffix(line[open:closeAt], " lua") {
		return nil, false
	}
	var args []string
	s := line[closeAt+1:]
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return args, true
		}
		s = s[i+1:]
		var b strings.Builder
		for {
			if s == "" {
				return nil, false
			}
			ch := s[0]
			if ch == '"' {
				s = s[1:]
				break
			}
			if ch != '\\' || len(s) < 2 {
				b.WriteByte(ch)
				s = s[1:]
				continue
			}
			switch s[1] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'x':
				if len(s) < 4 {
					return nil, false
				}
				v, err := strconv.ParseUint(s[2:4], 16, 8)
				if err != nil {
					return nil, false
				}
				b.WriteByte(byte(v))
				s = s[2:]
			default:
				b.WriteByte(s[1])
			}
			s = s[2:]
		}
		args = append(args, b.String())
	}
}

func TestParseMonitorLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
		ok   bool
	}{
		{`+1.2 [0 127.0.0.1:1] "EVALSHA" "ab" "1" "k{m:x}:q" "{\"a\":1}\n\xff"`, []string{"EVALSHA", "ab", "1", "k{m:x}:q", "{\"a\":1}\n\xff"}, true},
		{`+1.2 [0 lua] "GET" "k"`, nil, false},
		{`+1.2 [0 unix:/tmp/s] "PING"`, []string{"PING"}, true},
	} {
		got, ok := parseMonitorLine(tc.line)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("parseMonitorLine(%s): got %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

// checkCallSlots checks, from MONITOR lines, that every call of one of the
// given scripts (by name and source) on this test's keys names keys of one
// slot, and that each script was called at least once.
func checkCallSlots(t *testing.T, c *redisx.Client, lines []string, sources map[string]string) {
	t.Helper()
	names := map[string]string{}
	for name, src := range sources {
		sum := sha1.Sum([]byte(src))
		names[hex.EncodeToString(sum[:])] = name
	}
	seen := map[string]int{}
	for _, line := range lines {
		args, ok := parseMonitorLine(line)
		if !ok || len(args) < 3 {
			continue
		}
		cmd := strings.ToUpper(args[0])
		if cmd != "EVALSHA" && cmd != "EVAL" {
			continue
		}
		sha := strings.ToLower(args[1])
		if cmd == "EVAL" {
			sum := sha1.Sum([]byte(args[1]))
			sha = hex.EncodeToString(sum[:])
		}
		n, err := strconv.Atoi(args[2])
		if err != nil || len(args) < 3+n {
			t.Errorf("unparsable script call: %s", line)
			continue
		}
		keys := args[3 : 3+n]
		if n == 0 || !strings.HasPrefix(keys[0], c.Keys.Prefix()+":") {
			continue // another test's call
		}
		name, known := names[sha]
		if !known {
			t.Errorf("call of an unknown script %s: %s", sha, line)
			continue
		}
		seen[name]++
		for _, k := range keys[1:] {
			if slot(k) != slot(keys[0]) {
				t.Errorf("%s: key %s (slot %d) and %s (slot %d) in one call", name, keys[0], slot(keys[0]), k, slot(k))
			}
		}
	}
	t.Logf("script calls checked: %v", seen)
	for name := range sources {
		if seen[name] == 0 {
			t.Errorf("script %s: not seen in MONITOR, want every script checked", name)
		}
	}
}
