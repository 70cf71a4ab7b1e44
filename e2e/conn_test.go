package e2e

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/gateway/protocol"
)

// maskedFrame is a client text frame: clients must mask what they send.
func maskedFrame(payload []byte) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// readServerFrame reads one unmasked server frame and returns its opcode
// and payload.
func readServerFrame(r *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return h[0] & 0x0f, p, err
}

// rawUpgrade opens a WebSocket to n by hand for player: the upgrade
// request and frames after it in one write, then the 101 read. The
// connection closes with the test and gives up after wait.
func rawUpgrade(t *testing.T, n *Node, player string, frames []byte, wait time.Duration) *bufio.Reader {
	t.Helper()
	conn, err := net.Dial("tcp", n.clientAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(wait))
	req := "GET /ws?player_id=" + player + " HTTP/1.1\r\nHost: " + n.clientAddr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13" +
		"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: " + protocol.Subprotocol + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), frames...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	return br
}

// TestFramesBehindHandshake sends the upgrade request and the first client
// frames in one write, as a client that does not wait for the 101 may do.
// The server hands the connection over with small buffers of its own; the
// frames already read behind the request must not be lost, including when
// they are more than those buffers hold.
func TestFramesBehindHandshake(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{Duel()}}))

	for _, count := range []int{1, 12} {
		t.Run(fmt.Sprintf("%d frames", count), func(t *testing.T) {
			var frames []byte
			var rids []string
			for i := range count {
				// Long rids make twelve pings about 1 KiB.
				rid := fmt.Sprintf("%02d-%s", i, strings.Repeat("r", 60))
				rids = append(rids, rid)
				f, _ := json.Marshal(map[string]string{"type": protocol.TypePing, "rid": rid})
				frames = append(frames, maskedFrame(f)...)
			}
			br := rawUpgrade(t, n, fmt.Sprintf("early%d", count), frames, 20*time.Second)
			var got []string
			for len(got) < count {
				op, p, err := readServerFrame(br)
				if err != nil {
					t.Fatalf("after %d pongs: %v", len(got), err)
				}
				if op != 1 {
					t.Fatalf("opcode %d, want a text frame", op)
				}
				var f struct{ Type, Rid string }
				if err := json.Unmarshal(p, &f); err != nil {
					t.Fatalf("frame %q: %v", p, err)
				}
				switch f.Type {
				case protocol.TypeWelcome:
				case protocol.TypePong:
					got = append(got, f.Rid)
				default:
					t.Fatalf("unexpected frame %s", p)
				}
			}
			for i := range rids {
				if got[i] != rids[i] {
					t.Fatalf("pong %d answers %q, want %q", i, got[i], rids[i])
				}
			}
		})
	}
}

// TestIdleConnectionsCostOneGoroutine: an idle client holds one goroutine
// on the node (its reader); the writer exists only while frames are queued
// and net/http's handler goroutine is gone after the upgrade. This is what
// keeps an idle session near 18 KiB (see the README's performance table).
func TestIdleConnectionsCostOneGoroutine(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{Duel()}}))
	base := n.Metrics(t)["go_goroutines"]
	const clients = 150
	cs := make([]*Client, 0, clients)
	for i := range clients {
		cs = append(cs, Dial(t, n, fmt.Sprintf("idle%d", i), 1000, ""))
	}
	WaitMetric(t, []*Node{n}, "matchd_sessions", clients, 10*time.Second)
	// A client's writer ends once its welcome is written; wait for that
	// rather than assume it.
	var last float64
	eventually(t, 10*time.Second, "goroutines settle at one per idle client", func() error {
		last = n.Metrics(t)["go_goroutines"]
		if extra := last - base; extra > clients+clients/10 {
			return fmt.Errorf("%v goroutines for %d idle clients (baseline %v)", extra, clients, base)
		}
		return nil
	})
	t.Logf("baseline %v goroutines, %v with %d idle clients", base, last, clients)
	// They are still served: a sync gets its answer.
	rid := cs[0].Req(t, protocol.TypeSync)
	cs[0].ExpectRid(t, protocol.TypeState, rid)
}

// TestFirstPingAtOnce: the node pings a new connection right away, not a
// ping interval later (docs/protocol.md section 2.4): a client that never
// answers is found within one interval, and the ping's bookkeeping is made
// while the session is set up. With an interval of an hour, the ping that
// arrives must be the first one.
func TestFirstPingAtOnce(t *testing.T) {
	t.Parallel()
	be := StandaloneBackend(t)
	n := StartNode(t, be.Apply(NodeOptions{Modes: []Mode{Duel()}, Set: map[string]any{"server.ping_interval": "1h"}}))
	br := rawUpgrade(t, n, "pinged", nil, DefaultWait)
	for {
		op, p, err := readServerFrame(br)
		if err != nil {
			t.Fatalf("no ping within %s of connecting (ping_interval 1h): %v", DefaultWait, err)
		}
		if op == 9 {
			return
		}
		if op != 1 {
			t.Fatalf("opcode %d (%q), want the welcome then a ping", op, p)
		}
	}
}
