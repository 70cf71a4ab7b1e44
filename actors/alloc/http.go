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
	Servers(ctx context.Context, now time.Time) ([]redisx.GameServer, error)
	CountAllocation(ctx context.Context, id string) error
}

// HTTP allocates matches on registered game servers (allocator.mode http):
// it picks the least loaded server with free capacity, POSTs the match to
// http://<addr>/session/create, and on a failure or timeout tries the next
// one, up to MaxAttempts.
type HTTP struct {
	Registry    Registry
	Client      *http.Client
	Timeout     func() time.Duration
	MaxAttempts func() int
	Log         *slog.Logger
}

type createRequest struct {
	MatchID string     `json:"match_id"`
	Mode    string     `json:"mode"`
	Teams   [][]string `json:"teams"`
}

type createReply struct {
	ServerAddress string `json:"server_address"`
	SessionID     string `json:"session_id"`
}

// Allocate implements actors.Allocator.
func (h *HTTP) Allocate(ctx context.Context, matchID, mode string, teams [][]string) (json.RawMessage, error) {
	servers, err := h.Registry.Servers(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	servers = slices.DeleteFunc(servers, func(g redisx.GameServer) bool { return g.Free() <= 0 })
	slices.SortStableFunc(servers, func(a, b redisx.GameServer) int { return b.Free() - a.Free() })
	body, _ := json.Marshal(createRequest{MatchID: matchID, Mode: mode, Teams: teams})
	attempts := min(h.MaxAttempts(), len(servers))
	for i := 0; i < attempts; i++ {
		g := servers[i]
		reply, err := h.create(ctx, g.Addr, body)
		if err != nil {
			h.Log.Warn("game server refused a match", "server", g.ID, "addr", g.Addr, "match", matchID, "err", err)
			continue
		}
		if err := h.Registry.CountAllocation(ctx, g.ID); err != nil {
			h.Log.Warn("count allocation", "server", g.ID, "err", err)
		}
		return json.Marshal(map[string]string{"addr": reply.ServerAddress, "session_id": reply.SessionID})
	}
	return nil, fmt.Errorf("%w (%d servers tried)", ErrNoServer, attempts)
}

func (h *HTTP) create(ctx context.Context, addr string, body []byte) (createReply, error) {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/session/create", bytes.NewReader(body))
	if err != nil {
		return createReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
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
