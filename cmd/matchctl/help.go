package main

// Each command's help, printed by `matchctl COMMAND -h` and
// `matchctl help COMMAND`: its synopsis, what it shows, its flags.

// commonHelp follows every command's help.
const commonHelp = `
Flags every command takes:
  --addr ADDR        the admin listener, host:port or URL
                     (default $MATCHD_ADMIN__ADDR, else 127.0.0.1:9090)
  --token TOKEN      the admin token (default $MATCHD_ADMIN__TOKEN)
  --timeout DURATION bound on one request (default 10s)
`

const helpActors = `Usage: matchctl actors [--kind K] [--state S] [--mode M] [--player P] [--party ID] [--limit N] [--json]

The node's live actor tree (GET /debug/actors): its coordinator, one queue
per mode (leader or standby, with its fence), the loading rooms it drives and
its sessions. The node filters and limits, so this is cheap on a busy node.

  --kind K      coordinator, queue, room or session
  --state S     sessions in state idle, queued or loading
  --mode M      the queue, rooms and sessions of mode M
  --player P    sessions whose player id starts with P (and rooms with such a member)
  --party ID    the sessions of party ID's members held by this node
  --limit N     at most N sessions and N rooms (default 500); the rest is counted
  --json        print the reply as JSON
`

const helpPlayer = `Usage: matchctl player ID [--json]

Everything Redis knows about one player, from any node (GET
/debug/players/ID): its connection (node, session), its state, its ticket as
the matcher sees it (rating, current rating window, wait against max_wait,
and the matcher's last verdict: why it is not matched yet), the loading room
it sits in (who is ready, the deadline), its sanctions and the outcomes it
has not been told yet. Exit status 1 when Redis knows nothing of the player.

  --json        print the reply as JSON
`

const helpParty = `Usage: matchctl party ID|PLAYER [--json]

A party as Redis holds it, from any node (GET /debug/parties/ID; when ID is
no party's, the party of player ID, from GET /debug/players/ID): open or
invite-only, its leader, its members in join order (the earliest besides
the leader leads next) with whether each is connected (a live session, or one
within its reconnect grace) and holds a ticket or a seat, the invitations
that still last with their expiry, and the ticket it is queued with. When
it is not queued, it names the members that would make the leader's
enqueue fail with PARTY_NOT_READY. Exit status 1 when there is no such
party, or the player is in none.

  --json        print the reply as JSON (the party)
`

const helpCluster = `Usage: matchctl cluster [--json]

Every live node (by its liveness key in Redis) and, for each mode, which node
holds its matching lease, the fence, the tickets waiting and the lease
holder's last tick (GET /debug/cluster). Any node answers for all.

  --json        print the reply as JSON
`

const helpEvents = `Usage: matchctl events [--json]

Follow the node's state events (GET /debug/events), one line each, until
interrupted. Events flow only while state events are on (matchctl
state-events on).

  --json        print each event's JSON
`

const helpSanctions = `Usage: matchctl sanctions get|lift ID [--device] [--json]

A player's (or with --device a device's) live violations and ban
(GET /admin/sanctions/ID); lift removes them all (DELETE).

  --device      ID is a device id
  --json        print the reply as JSON
`

const helpServers = `Usage: matchctl servers list [--json]
       matchctl servers add ID ADDR --capacity N [--region R]
       matchctl servers remove ID

The game-server registry the http allocator picks from (GET, POST and DELETE
/admin/servers). A registration lapses unless renewed within three
allocator.heartbeat periods: game servers renew their own; add is for a test
or a manual override, and is renewed by running it again.

  --capacity N  matches the server can host at once (add; required)
  --region R    the server's region (add; empty serves any region)
  --json        print the reply as JSON (list)
`

const helpDrain = `Usage: matchctl drain [--undo]

Drain the node without stopping it (POST /admin/drain): /readyz turns 503, its
clients are told to reconnect elsewhere, its matching leases and loading
rooms go to other nodes. --undo (DELETE /admin/drain) makes it serve again:
it takes connections and leases anew (the rooms it handed over stay where
they went). A drain begun by SIGTERM cannot be undone.

  --undo        undo a drain
`

const helpConfig = `Usage: matchctl config

The node's effective configuration as JSON (GET /debug/config), secrets
replaced by "***".
`

const helpStateEvents = `Usage: matchctl state-events on|off

Turn the state events on or off for every node sharing the Redis (POST
/admin/state-events); prints the value now in force.
`
