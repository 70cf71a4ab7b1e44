package gateway

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Buffer sizes of a hijacked client connection. net/http keeps a 4 KiB
// reader and a 4 KiB writer for every hijacked connection for as long as it
// lives; most of an idle session's memory would be those two buffers. Client
// frames are small (an enqueue is about 100 bytes) and server frames are
// written through a cork, so small buffers cost no extra system calls on
// the hot path.
const (
	connReadBuffer  = 512
	connWriteBuffer = 256
)

// corkBuffers recycles the buffers a corked batch collects its frames in, so
// an idle connection holds none.
var corkBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// corkConn is the client's net.Conn as coder/websocket sees it. While the
// session's writer holds it corked, the frames it writes collect in memory
// and leave in one write system call when it is uncorked: coder/websocket
// flushes every message, and a write per frame was a quarter of the node's
// CPU under load. Writes while uncorked (pings, close frames the library
// writes itself) go straight through.
type corkConn struct {
	net.Conn
	mu      sync.Mutex
	corked  bool
	pending *[]byte
}

// Write implements io.Writer.
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		*c.pending = append(*c.pending, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// cork starts collecting writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	if c.pending == nil {
		c.pending = corkBuffers.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// uncork writes what was collected in one system call, giving the client
// timeout to take it, and returns the buffer to the pool.
func (c *corkConn) uncork(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if c.pending == nil {
		return nil
	}
	var err error
	if b := *c.pending; len(b) > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(timeout))
		_, err = c.Conn.Write(b)
		_ = c.Conn.SetWriteDeadline(time.Time{})
	}
	if cap(*c.pending) <= 64<<10 {
		*c.pending = (*c.pending)[:0]
		corkBuffers.Put(c.pending)
	}
	c.pending = nil
	return err
}

// slimHijacker hands coder/websocket the client connection wrapped in a
// corkConn, with small buffers in place of net/http's (see connReadBuffer).
type slimHijacker struct {
	http.ResponseWriter
	conn *corkConn
}

// Hijack implements http.Hijacker.
func (h *slimHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The 101 response is flushed before the connection is handed over; a
	// client may already have sent its first frame behind the handshake.
	if err := brw.Writer.Flush(); err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	// coder/websocket keeps only what the reader has buffered, so those
	// early bytes are moved into the new reader's buffer.
	br := bufio.NewReaderSize(nc, connReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc), max(connReadBuffer, n))
		if _, err := br.Peek(n); err != nil {
			_ = nc.Close()
			return nil, nil, err
		}
	}
	h.conn = &corkConn{Conn: nc}
	return h.conn, bufio.NewReadWriter(br, bufio.NewWriterSize(h.conn, connWriteBuffer)), nil
}
