package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
	"github.com/matchd/matchd/redisx/redistest"
)

// SentinelSet is a Redis master, one replica and three Sentinels
// (redis-server --sentinel) monitoring them as master set MasterSet.
type SentinelSet struct {
	MasterSet string
	Master    *Redis
	Replica   *Redis
	Sentinels []*Sentinel
}

// Sentinel is one redis-server --sentinel process.
type Sentinel struct {
	port    int
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Addr is the sentinel's host:port.
func (s *Sentinel) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// Addrs are the sentinels' addresses (redis.addrs in sentinel mode).
func (ss *SentinelSet) Addrs() []string {
	out := make([]string, len(ss.Sentinels))
	for i, s := range ss.Sentinels {
		out[i] = s.Addr()
	}
	return out
}

// cliOut runs redis-cli against a loopback port.
func cliOut(port int, args ...string) (string, error) {
	out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// infoField reads one field of an INFO section printed by redis-cli.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// MasterAddr is what sentinel i says the master is
// (SENTINEL get-master-addr-by-name).
func (ss *SentinelSet) MasterAddr(i int) (string, error) {
	out, err := cliOut(ss.Sentinels[i].port, "SENTINEL", "get-master-addr-by-name", ss.MasterSet)
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return "", fmt.Errorf("get-master-addr-by-name: %q", out)
	}
	return f[0] + ":" + f[1], nil
}

// masterInfo is SENTINEL master <set> as a map.
func (ss *SentinelSet) masterInfo(i int) (map[string]string, error) {
	out, err := cliOut(ss.Sentinels[i].port, "SENTINEL", "master", ss.MasterSet)
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	lines := strings.Split(out, "\n")
	m := map[string]string{}
	for j := 0; j+1 < len(lines); j += 2 {
		m[strings.TrimSpace(lines[j])] = strings.TrimSpace(lines[j+1])
	}
	return m, nil
}

// StartSentinelSet starts a master, a replica of it and three Sentinels
// (quorum 2, down-after 1s, failover-timeout 5s) on free loopback ports,
// and waits until every Sentinel reports the master, knows the replica and
// the two other Sentinels. Everything is killed when the test ends.
func StartSentinelSet(t testing.TB) *SentinelSet {
	t.Helper()
	ss := &SentinelSet{MasterSet: "mset"}
	ss.Master = StartRedis(t, RedisOptions{Name: "sentinel-master"})
	ss.Replica = StartRedis(t, RedisOptions{Name: "sentinel-replica",
		Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(ss.Master.Port())}})
	eventually(t, 15*time.Second, "the replica in sync", func() error {
		out, err := cliOut(ss.Replica.Port(), "INFO", "replication")
		if err != nil {
			return err
		}
		if s := infoField(out, "master_link_status"); s != "up" {
			return fmt.Errorf("master_link_status %q", s)
		}
		return nil
	})
	for i := range 3 {
		ss.Sentinels = append(ss.Sentinels, startSentinel(t, i, ss.MasterSet, ss.Master.Port()))
	}
	want := ss.Master.Addr()
	eventually(t, 20*time.Second, "every sentinel sees the master, the replica and the other sentinels", func() error {
		for i := range ss.Sentinels {
			addr, err := ss.MasterAddr(i)
			if err != nil {
				return fmt.Errorf("sentinel %d: %v", i, err)
			}
			if addr != want {
				return fmt.Errorf("sentinel %d: master %s, want %s", i, addr, want)
			}
			m, err := ss.masterInfo(i)
			if err != nil {
				return fmt.Errorf("sentinel %d: %v", i, err)
			}
			if m["num-slaves"] != "1" || m["num-other-sentinels"] != "2" || m["flags"] != "master" {
				return fmt.Errorf("sentinel %d: flags %s, num-slaves %s, num-other-sentinels %s", i, m["flags"], m["num-slaves"], m["num-other-sentinels"])
			}
		}
		return nil
	})
	return ss
}

func startSentinel(t testing.TB, i int, set string, masterPort int) *Sentinel {
	t.Helper()
	dir := t.TempDir()
	s := &Sentinel{port: redistest.FreePort(t), logPath: filepath.Join(dir, fmt.Sprintf("sentinel-%d.log", i))}
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
sentinel resolve-hostnames no
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 5000
sentinel parallel-syncs %s 1
`, s.port, dir, set, masterPort, set, set, set)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command("redis-server", conf, "--sentinel")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start sentinel: %v", err)
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
		keepArtifact(t, s.logPath, fmt.Sprintf("sentinel-%d.log", i))
	})
	if err := redistest.WaitReady(s.Addr(), 10*time.Second); err != nil {
		t.Fatalf("sentinel %d on %s: %v", i, s.Addr(), err)
	}
	return s
}

// WaitReplicated waits until the replica has applied everything the master
// had written when it was called.
func (ss *SentinelSet) WaitReplicated(t testing.TB, d time.Duration) {
	t.Helper()
	out, err := cliOut(ss.Master.Port(), "INFO", "replication")
	if err != nil {
		t.Fatalf("master INFO: %v: %s", err, out)
	}
	target, err := strconv.ParseInt(infoField(out, "master_repl_offset"), 10, 64)
	if err != nil {
		t.Fatalf("master_repl_offset in %q: %v", out, err)
	}
	eventually(t, d, "the replica caught up with the master", func() error {
		out, err := cliOut(ss.Replica.Port(), "INFO", "replication")
		if err != nil {
			return err
		}
		off, _ := strconv.ParseInt(infoField(out, "slave_repl_offset"), 10, 64)
		if off < target {
			return fmt.Errorf("replica at offset %d, master was at %d", off, target)
		}
		return nil
	})
}

// TestSentinelFailover: two matchd nodes on a Sentinel-managed master and
// replica. Players play; then 20 players wait in a mode that needs 22; the
// master is killed (SIGKILL) and Sentinel promotes the replica. The nodes
// come back ready on the new master, and once two more players join, every
// waiting player reaches match_ready: no ticket was lost.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	ss := StartSentinelSet(t)
	big := Mode{Name: "big", Teams: 2, TeamSize: 11}
	opts := NodeOptions{RedisMode: "sentinel", RedisAddrs: ss.Addrs(), Modes: []Mode{Duel(), big},
		Set: map[string]any{"redis.master_set": ss.MasterSet}}
	nodes := []*Node{StartNode(t, opts), StartNode(t, opts)}

	// Phase 1: 40 players play duels across both nodes.
	start := time.Now()
	played := playScenario(t, nodes, 40, 0, 7, 30*time.Second)
	CheckInvariants(t, played, CheckOptions{EveryonePlays: true})
	t.Logf("phase 1: 40 players matched and started in %s", time.Since(start).Round(time.Millisecond))

	// Phase 2: 20 players wait in "big" (22 seats).
	var waiting []*Client
	tickets := map[string]string{}
	for i := range 20 {
		c := Dial(t, nodes[i%2], fmt.Sprintf("w%02d", i), 1000, fmt.Sprintf("dev-w%02d", i))
		rid := c.Req(t, protocol.TypeEnqueue, "mode", "big")
		tickets[c.Player] = c.ExpectRid(t, protocol.TypeQueued, rid).Str("ticket_id")
		waiting = append(waiting, c)
	}
	eventually(t, 10*time.Second, "20 tickets in big", func() error {
		for _, n := range nodes {
			m, err := n.metrics()
			if err != nil {
				return err
			}
			if v := m[`matchd_queue_tickets{mode="big"}`]; v != 20 {
				return fmt.Errorf("node %s: matchd_queue_tickets{big} = %v", n.ID, v)
			}
		}
		return nil
	})
	ss.WaitReplicated(t, 10*time.Second)

	// Kill the master; Sentinel promotes the replica.
	killed := time.Now()
	ss.Master.Kill()
	eventually(t, 30*time.Second, "sentinels report the replica as master", func() error {
		for i := range ss.Sentinels {
			addr, err := ss.MasterAddr(i)
			if err != nil {
				return fmt.Errorf("sentinel %d: %v", i, err)
			}
			if addr != ss.Replica.Addr() {
				return fmt.Errorf("sentinel %d: master %s, want %s", i, addr, ss.Replica.Addr())
			}
		}
		return nil
	})
	t.Logf("failover: the replica is master %s after the kill", time.Since(killed).Round(time.Millisecond))
	for _, n := range nodes {
		n.WaitReady(t, 30*time.Second)
	}
	t.Logf("failover: both nodes ready %s after the kill", time.Since(killed).Round(time.Millisecond))

	// The waiting players' sessions and tickets survived.
	for _, c := range waiting {
		select {
		case <-c.Closed():
			t.Fatalf("%s: disconnected during the failover: %v\n%s", c.Player, c.CloseErr(), c.Dump())
		default:
		}
		st := c.Sync(t)
		if StateName(st) != "queued" || StateField(st, "ticket_id") != tickets[c.Player] {
			t.Errorf("%s after the failover: %s, want queued with ticket %s", c.Player, st, tickets[c.Player])
		}
	}

	// Two more players fill the match: every waiting player plays.
	var all []*Client
	all = append(all, waiting...)
	for i := range 2 {
		c := Dial(t, nodes[i%2], fmt.Sprintf("late%d", i), 1000, "")
		rid := c.Req(t, protocol.TypeEnqueue, "mode", "big")
		c.ExpectRid(t, protocol.TypeQueued, rid)
		all = append(all, c)
	}
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(func() {
			f, err := c.ExpectErr(protocol.TypeMatchFound, 20*time.Second)
			if err != nil {
				t.Errorf("%v\n%s", err, c.Dump())
				return
			}
			if err := c.SendErr(map[string]any{"type": "loading_complete", "rid": c.NextRid(), "match_id": f.Str("match_id")}); err != nil {
				t.Errorf("%s: %v", c.Player, err)
				return
			}
			if _, err := c.ExpectErr(protocol.TypeMatchReady, 20*time.Second); err != nil {
				t.Errorf("%v\n%s", err, c.Dump())
			}
		})
	}
	wg.Wait()
	for _, c := range all {
		for _, f := range c.Frames() {
			switch f.Type() {
			case protocol.TypeDequeued, protocol.TypeMatchCancelled, protocol.TypeError:
				t.Errorf("%s: %s", c.Player, f)
			}
		}
	}
	s := CheckInvariants(t, all, CheckOptions{EveryonePlays: true})
	if len(s.Started) != 1 {
		t.Errorf("%d big matches started, want 1", len(s.Started))
	}
	for _, n := range nodes {
		select {
		case <-n.Exited():
			t.Errorf("node %s exited", n.ID)
		default:
		}
		if code, body := n.Get(t, "/readyz"); code != http.StatusOK {
			t.Errorf("node %s readyz: %d %s", n.ID, code, body)
		}
	}
	t.Logf("all 22 players in big started, %s after the kill", time.Since(killed).Round(time.Millisecond))
}
