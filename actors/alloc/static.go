// Package alloc holds the game-server allocators of docs/protocol.md section 9.3.
package alloc

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/matchd/matchd/config"
)

// Static hands out a fixed list of servers round-robin (allocator.mode
// static): enough for a studio with a known fleet. A match of a region is
// placed on a server of that region or on one with no region (which serves
// any); a match of a mode without regions on any server.
type Static struct {
	servers []config.GameServer
	mu      sync.Mutex
	byReg   map[string]*rotation
}

// rotation is the servers that may take one region's matches, and its
// round-robin position.
type rotation struct {
	addrs []string
	next  atomic.Uint64
}

// NewStatic returns a round-robin allocator over servers.
func NewStatic(servers []config.GameServer) (*Static, error) {
	if len(servers) == 0 {
		return nil, errors.New("alloc: static allocator needs allocator.servers")
	}
	return &Static{servers: slices.Clone(servers), byReg: map[string]*rotation{}}, nil
}

// rotationFor returns the servers that may take a match of region.
func (s *Static) rotationFor(region string) *rotation {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.byReg[region]; ok {
		return r
	}
	r := &rotation{}
	for _, g := range s.servers {
		if region == "" || g.Region == "" || g.Region == region {
			r.addrs = append(r.addrs, g.Addr)
		}
	}
	s.byReg[region] = r
	return r
}

// Allocate returns the next server of the match's region as {"addr":
// "host:port"}, or the one an earlier asker recorded for the match (a
// static pick asks nobody, but one match must still get one server,
// whichever node finishes it).
func (s *Static) Allocate(ctx context.Context, r Request) (json.RawMessage, error) {
	rot := s.rotationFor(r.Region)
	if len(rot.addrs) == 0 {
		return nil, ErrNoServer
	}
	addr := ""
	if r.Resume != nil && slices.Contains(rot.addrs, r.Resume.Server) {
		addr = r.Resume.Server
	} else {
		i := rot.next.Add(1) - 1
		addr = rot.addrs[i%uint64(len(rot.addrs))]
	}
	if err := r.record(ctx, addr, 1); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"addr": addr})
}
