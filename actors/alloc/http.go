package alloc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/matchd/matchd/redisx"
)

// ErrNoServer reports that no registered game server could take the match.
var ErrNoServer = errors.New("alloc: no game server accepted the match")

// Registry is the game-server registry the HTTP allocator reads.
type Registry interface {
	Servers(ctx context.Context) ([]redisx.GameServer, error)
	CountAllocation(ctx context.Context, id string) (bool, error)
}

// HTTP allocates matches on registered game servers (allocator.mode http):
// it picks the least loaded server with free capacity, POSTs the match to
// http://<addr>/session/create, and on a failure or timeout tries the next
// one, up to MaxAttempts. Every request carries the match id as its
// idempotency key (the Idempotency-Key header and the body's
// idempotency_key), so a fleet can answer a repeat with the session it
// already made; and each attempt is recorded in the room before it is
// made, so matchd itself never asks twice.
type HTTP struct {
	Registry    Registry
	Client      *http.Client
	Timeout     func() time.Duration
	MaxAttempts func() int
	Log         *slog.Logger
}

type createRequest struct {
	MatchID        string     `json:"match_id"`
	Mode           string     `json:"mode"`
	Teams          [][]string `json:"teams"`
	Region         string     `json:"region,omitempty"`
	IdempotencyKey string     `json:"idempotency_key"`
}

type createReply struct {
	ServerAddress string `json:"server_address"`
	SessionID     string `json:"session_id"`
}

// Allocate places the match on a registered server.
func (h *HTTP) Allocate(ctx context.Context, r Request) (json.RawMessage, error) {
	servers, err := h.Registry.Servers(ctx)
	if err != nil {
		return nil, err
	}
	var resumed *redisx.GameServer
	if r.Resume != nil {
		if i := slices.IndexFunc(servers, func(g redisx.GameServer) bool { return g.ID == r.Resume.Server }); i >= 0 {
			g := servers[i]
			resumed = &g
		}
	}
	servers = slices.DeleteFunc(servers, func(g redisx.GameServer) bool {
		return g.Free() <= 0 || (resumed != nil && g.ID == resumed.ID) ||
			(r.Region != "" && g.Region != "" && g.Region != r.Region)
	})
	// The region's own servers first, then those that serve any region;
	// each by free capacity.
	slices.SortStableFunc(servers, func(a, b redisx.GameServer) int {
		if oa, ob := a.Region != "", b.Region != ""; oa != ob && r.Region != "" {
			if oa {
				return -1
			}
			return 1
		}
		return b.Free() - a.Free()
	})
	if resumed != nil {
		// The server already asked for this match comes first, whatever its
		// load: it may hold the match's session already.
		servers = append([]redisx.GameServer{*resumed}, servers...)
	}
	body, err := json.Marshal(createRequest{MatchID: r.MatchID, Mode: r.Mode, Teams: r.Teams, Region: r.Region, IdempotencyKey: r.MatchID})
	if err != nil {
		return nil, err
	}
	first := 1
	if r.Resume != nil {
		first = r.Resume.Attempt
	}
	attempts := min(h.MaxAttempts(), len(servers))
	for i := 0; i < attempts; i++ {
		g := servers[i]
		if err := r.record(ctx, g.ID, first+i); err != nil {
			return nil, err
		}
		reply, err := h.create(ctx, g.Addr, r.MatchID, body)
		if err != nil {
			h.Log.Warn("game server refused a match", "server", g.ID, "addr", g.Addr, "match", r.MatchID, "err", err)
			continue
		}
		if counted, err := h.Registry.CountAllocation(ctx, g.ID); err != nil {
			h.Log.Warn("count allocation", "server", g.ID, "err", err)
		} else if !counted {
			h.Log.Info("game server's registration lapsed after it took a match", "server", g.ID, "match", r.MatchID)
		}
		return json.Marshal(map[string]string{"addr": reply.ServerAddress, "session_id": reply.SessionID})
	}
	return nil, fmt.Errorf("%w (%d servers tried)", ErrNoServer, attempts)
}

func (h *HTTP) create(ctx context.Context, addr, key string, body []byte) (createReply, error) {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/session/create", bytes.NewReader(body))
	if err != nil {
		return createReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := h.Client.Do(req)
	if err != nil {
		return createReply{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return createReply{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	var r createReply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&r); err != nil {
		return createReply{}, fmt.Errorf("bad reply: %w", err)
	}
	if r.ServerAddress == "" {
		return createReply{}, errors.New("reply has no server_address")
	}
	return r, nil
}
