package client_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/matchd/matchd/gateway/client"
	"github.com/matchd/matchd/gateway/protocol"
)

// A player queues for a duel, loads the match it is found and goes to the
// game server. The frames channel carries every frame; requests return
// their own replies.
func Example() {
	ctx := context.Background()
	frames := make(chan client.Frame, 64)
	rating := 1500.0
	c, err := client.New(client.Options{
		URLs:     []string{"ws://127.0.0.1:8080/ws"},
		PlayerID: "alice", Rating: &rating, // auth.mode insecure; Token for hmac and jwks
		Frames: frames,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Enqueue(ctx, "duel"); err != nil {
		var e *client.Error
		if errors.As(err, &e) && e.Code == protocol.CodeBanned {
			log.Printf("banned for %s", e.RetryAfter)
		}
		return
	}
	for f := range frames {
		switch f.Type {
		case protocol.TypeMatchFound:
			// Load the level for f.Teams before f.LoadingDeadlineMs, then:
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := c.LoadingComplete(rctx, f.MatchID)
			cancel()
			if err != nil {
				log.Print(err)
			}
		case protocol.TypeMatchReady:
			log.Printf("play on %s", f.Server)
			return
		case protocol.TypeMatchCancelled:
			log.Printf("match %s cancelled (%s), requeued: %v", f.MatchID, f.Reason, f.Requeued)
		}
	}
}
