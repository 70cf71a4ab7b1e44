package alloc

import (
	"context"
	"errors"

	"github.com/matchd/matchd/redisx"
)

// Request is one match to place on a game server.
type Request struct {
	MatchID string
	Mode    string
	Teams   [][]string
	// Region is where the match is played (docs/protocol.md section 15);
	// "" for a mode without regions, which any server may take.
	Region string
	// Resume is an allocation a previous asker left in flight (its room
	// actor was restarted, or its node died mid-call): its server is asked
	// again first, with the same idempotency key (the match id), so a fleet
	// that honours the key answers with the session it already made.
	Resume *redisx.AllocMark
	// Record is called before each attempt with the server about to be
	// asked (its id, or address) and the attempt number, and records both
	// in the room in Redis; an error aborts the allocation (another asker
	// holds it, or the room no longer waits for a server), so nobody asks
	// twice.
	Record func(ctx context.Context, server string, attempt int) error
}

// ErrAborted reports an allocation stopped before asking anyone, because
// Record refused (the room is another asker's, or no longer waits).
var ErrAborted = errors.New("alloc: allocation aborted: the room is not this caller's to allocate")

// record calls r.Record when set.
func (r Request) record(ctx context.Context, server string, attempt int) error {
	if r.Record == nil {
		return nil
	}
	if err := r.Record(ctx, server, attempt); err != nil {
		return errors.Join(ErrAborted, err)
	}
	return nil
}
