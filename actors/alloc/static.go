// Package alloc holds the game-server allocators of docs/protocol.md section 9.3.
package alloc

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
)

// Static hands out a fixed list of servers round-robin (allocator.mode
// static): enough for a studio with a known fleet.
type Static struct {
	servers []string
	next    atomic.Uint64
}

// NewStatic returns a round-robin allocator over servers.
func NewStatic(servers []string) (*Static, error) {
	if len(servers) == 0 {
		return nil, errors.New("alloc: static allocator needs allocator.servers")
	}
	return &Static{servers: servers}, nil
}

// Allocate returns the next server as {"addr": "host:port"}, or the one an
// earlier asker recorded for the match (a static pick asks nobody, but one
// match must still get one server, whichever node finishes it).
func (s *Static) Allocate(ctx context.Context, r Request) (json.RawMessage, error) {
	addr := ""
	if r.Resume != nil && slices.Contains(s.servers, r.Resume.Server) {
		addr = r.Resume.Server
	} else {
		i := s.next.Add(1) - 1
		addr = s.servers[i%uint64(len(s.servers))]
	}
	if err := r.record(ctx, addr, 1); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"addr": addr})
}
