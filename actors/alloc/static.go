// Package alloc holds the game-server allocators of docs/protocol.md section 9.3.
package alloc

import (
	"context"
	"encoding/json"
	"errors"
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

// Allocate returns the next server as {"addr": "host:port"}.
func (s *Static) Allocate(context.Context, string, string, [][]string) (json.RawMessage, error) {
	i := s.next.Add(1) - 1
	return json.Marshal(map[string]string{"addr": s.servers[i%uint64(len(s.servers))]})
}
