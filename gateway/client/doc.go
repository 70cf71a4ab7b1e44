// Package client is a Go client for matchd's WebSocket protocol
// (matchd.v1, docs/protocol.md), for game servers, bots and tools.
//
// Client is a player's session: it connects to one of a list of nodes,
// matches requests to their replies by rid, hands every server frame to a
// channel and/or a callback, and reconnects with backoff and jitter when
// the connection drops, never sooner than the server asked
// (server_draining.reconnect_after_ms, the retry_after_ms of an
// UNAVAILABLE), moving on to the next node each time. The welcome of the
// new connection says where the session stands; Client.State follows it.
//
//	c, err := client.New(client.Options{
//		URLs:  []string{"wss://mm1.example.com/ws", "wss://mm2.example.com/ws"},
//		Token: fetchToken, // func(ctx) (string, error): a fresh JWT per connection
//		Frames: frames,    // chan client.Frame: match_found, match_ready, ...
//	})
//	if _, err := c.Connect(ctx); err != nil { ... }
//	if _, err := c.Enqueue(ctx, "duel"); err != nil {
//		var e *client.Error // the server's refusal: Code, Message, RetryAfter, State, IncidentID, Players
//		...
//	}
//
// Parties (docs/protocol.md section 9.6) have typed requests too:
// PartyCreate, PartyInvite, PartyJoin, PartyKick and PartyPromote return
// the *protocol.Party of the reply, PartyLeave its *protocol.PartyLeft.
// The party frames pushed to a player (another member's change, an
// invitation, a kick, its party after each welcome) arrive with the
// others; Frame.Party, Frame.PartyInvite and Frame.PartyLeft read them.
//
// Conn is the layer under it: one connection, whole messages in and out,
// nothing else. A load generator that runs thousands of players, each with
// a goroutine and a state machine of its own, uses Conn, DecodeFrame (a
// scanner that reads the server's frames without reflection and agrees
// with encoding/json on every input) and AppendRequest directly. Both
// layers send raw frames too, text or binary, for tests of hostile input.
package client
