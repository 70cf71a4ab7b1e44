package gateway

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"
)

// recordConn is a net.Conn that records each Write call.
type recordConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recordConn) SetWriteDeadline(time.Time) error { return nil }

// TestCorkConnOneWritePerBatch: what is written while corked leaves in one
// write, in order, when uncorked; writes while uncorked pass straight
// through, and an empty batch writes nothing.
func TestCorkConnOneWritePerBatch(t *testing.T) {
	rec := &recordConn{}
	c := &corkConn{Conn: rec}
	c.cork()
	for _, s := range []string{"one", "two", "three"} {
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("corked write: %d, %v", n, err)
		}
	}
	if len(rec.writes) != 0 {
		t.Fatalf("corked writes reached the connection: %q", rec.writes)
	}
	if err := c.uncork(time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	c.cork()
	if err := c.uncork(time.Second); err != nil {
		t.Fatal(err)
	}
	want := []string{"onetwothree", "ping"}
	if len(rec.writes) != len(want) {
		t.Fatalf("writes %q, want %q", rec.writes, want)
	}
	for i := range want {
		if string(rec.writes[i]) != want[i] {
			t.Fatalf("write %d is %q, want %q", i, rec.writes[i], want[i])
		}
	}
}
