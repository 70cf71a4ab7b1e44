package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// DialWith is DialErr with control over the handshake: wo may set an HTTP
// client (a source address, a socket option) and headers (Authorization);
// the subprotocol is always matchd.v1. Like DialErr it reads the welcome
// frame and is safe to call from any goroutine. The connection is a
// gateway/client session with reconnecting off, so the test sees every
// frame and the close exactly as the server sent them.
func DialWith(t testing.TB, node *Node, player string, o DialOptions, wo websocket.DialOptions) (*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &Client{Player: player, Device: o.Device, Node: node, sig: make(chan struct{}), closed: make(chan struct{})}
	co := client.Options{
		URLs: []string{node.WSURL()}, PlayerID: player, DeviceID: o.Device, RawQuery: o.RawQuery,
		Header: wo.HTTPHeader, HTTPClient: wo.HTTPClient, ReadLimit: 1 << 20,
		DialTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second,
		Reconnect: client.Reconnect{Off: true}, OnFrame: c.record, OnEvent: c.event,
	}
	if o.HasRate {
		co.Rating = &o.Rating
	}
	cl, err := client.New(co)
	if err != nil {
		return nil, err
	}
	c.cl, c.conn = cl, rawConn{cl}
	if _, err := cl.Connect(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(c.CloseNow)
	w, err := c.NextErr(DefaultWait)
	if err != nil {
		return nil, fmt.Errorf("waiting for welcome: %w", err)
	}
	if w.Type() != protocol.TypeWelcome {
		return nil, fmt.Errorf("first frame is %s, want welcome", w)
	}
	c.Welcome = w
	return c, nil
}

// SourceDialer is an HTTP client for DialWith whose connections leave from
// a given loopback source address (127.0.0.2 is another "IP" on Linux
// loopback); it remembers the local address of every connection it made.
type SourceDialer struct {
	HTTP *http.Client

	mu     sync.Mutex
	locals []net.Addr
}

// NewSourceDialer returns a dialer whose connections leave from ip.
func NewSourceDialer(ip string) *SourceDialer {
	sd := &SourceDialer{}
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err == nil {
				sd.mu.Lock()
				sd.locals = append(sd.locals, c.LocalAddr())
				sd.mu.Unlock()
			}
			return c, err
		},
	}
	sd.HTTP = &http.Client{Transport: tr}
	return sd
}

// Locals are the local addresses of the connections made so far.
func (sd *SourceDialer) Locals() []net.Addr {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	return append([]net.Addr(nil), sd.locals...)
}
