// Command matchctl is a small command-line client of a matchd node's admin
// listener, for on-call people: the actor tree, the live state events,
// one player's whole story, a party, the cluster's nodes and leases, sanctions, the
// game-server registry, drain (and its undo), the effective config and the
// state-events switch. `matchctl COMMAND -h` explains one command.
//
//	matchctl [--addr HOST:PORT] [--token TOKEN] COMMAND [ARGS]
//
// --addr and --token default to MATCHD_ADMIN__ADDR (else 127.0.0.1:9090) and
// MATCHD_ADMIN__TOKEN, the variables matchd itself reads. Exit status: 0 ok,
// 1 error, 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/matchd/matchd/cmd/internal/version"
)

const usage = `matchctl talks to a matchd node's admin listener.

Usage:
  matchctl [--addr HOST:PORT] [--token TOKEN] COMMAND [ARGS]

Commands (matchctl COMMAND -h explains one):
  actors [--kind K] [--state S] [--mode M] [--player P] [--party ID] [--limit N] [--json]
                                        the node's actor tree, filtered by the node
  player ID [--json]                    everything Redis knows about one player:
                                        where it stands, why it is not matched
  party ID|PLAYER [--json]              a party (by its id, or a member's): its
                                        members and who is connected, its
                                        invitations, whether it is queued
  cluster [--json]                      every live node and who leads each mode
  events [--json]                       follow the node's state events, one line
                                        each (they flow only while state events
                                        are on)
  sanctions get ID [--device] [--json]  a player's (or device's) violations and ban
  sanctions lift ID [--device]          lift them
  servers list [--json]                 the game-server registry (allocator http)
  servers add ID ADDR --capacity N [--region R]
                                        register (or renew) a game server
  servers remove ID                     deregister one
  drain [--undo]                        start a graceful drain of the node, or
                                        undo one started here
  config                                the node's effective configuration
                                        (secrets redacted)
  state-events on|off                   turn state events on or off

  --version                             print matchctl's version and exit

Flags, anywhere on the line:
  --addr ADDR        the admin listener, host:port or URL
                     (default $MATCHD_ADMIN__ADDR, else 127.0.0.1:9090)
  --token TOKEN      the admin token (default $MATCHD_ADMIN__TOKEN)
  --timeout DURATION bound on one request, not on events (default 10s)

Exit status: 0 ok, 1 error, 2 usage.
`

// defaultAddr is matchd's default admin.addr.
const defaultAddr = "127.0.0.1:9090"

// nowFunc is the clock; tests stop it.
var nowFunc = time.Now

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// usageError is a command line matchctl cannot make sense of: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// cli is one invocation: where to go, how, and where to print.
type cli struct {
	addr    string
	token   string
	timeout time.Duration
	// Subcommand flags.
	kind     string
	device   bool
	jsonOut  bool
	state    string
	mode     string
	player   string
	party    string
	limit    int
	undo     bool
	capacity int
	region   string
	base     *url.URL
	stdout   io.Writer
	stderr   io.Writer
	now      func() time.Time
}

// command runs one subcommand with its positional arguments.
type command struct {
	flags func(fs *flag.FlagSet)
	run   func(ctx context.Context, c *cli, args []string) error
	// help is what `matchctl NAME -h` prints: the synopsis first.
	help string
}

// commandHelp asks for one command's help: exit 0, the help on stdout.
type commandHelp struct{ text string }

func (commandHelp) Error() string { return "help requested" }

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := &cli{addr: getenv("MATCHD_ADMIN__ADDR"), token: getenv("MATCHD_ADMIN__TOKEN"), timeout: 10 * time.Second,
		stdout: stdout, stderr: stderr, now: nowFunc}
	if c.addr == "" {
		c.addr = defaultAddr
	}
	err := c.dispatch(ctx, args)
	var ue usageError
	var ch commandHelp
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ch):
		fmt.Fprint(stdout, ch.text)
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "matchctl: %v\nRun 'matchctl -h' for usage.\n", err)
		return 2
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return 0 // interrupted (Ctrl-C while following events)
	default:
		fmt.Fprintf(stderr, "matchctl: %v\n", err)
		return 1
	}
}

func (c *cli) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", c.addr, "admin listener address")
	fs.StringVar(&c.token, "token", c.token, "admin token")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "request timeout")
}

func (c *cli) commands() map[string]command {
	return map[string]command{
		"actors": {run: cmdActors, help: helpActors, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&c.kind, "kind", "", "only actors of this kind")
			fs.StringVar(&c.state, "state", "", "only sessions in this state")
			fs.StringVar(&c.mode, "mode", "", "only this mode's queue, rooms and sessions")
			fs.StringVar(&c.player, "player", "", "only sessions whose player id starts with this")
			fs.StringVar(&c.party, "party", "", "only the sessions of this party's members")
			fs.IntVar(&c.limit, "limit", 0, "at most this many sessions and rooms")
			fs.BoolVar(&c.jsonOut, "json", false, "print the JSON reply")
		}},
		"player": {run: cmdPlayer, help: helpPlayer, flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&c.jsonOut, "json", false, "print the JSON reply")
		}},
		"party": {run: cmdParty, help: helpParty, flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&c.jsonOut, "json", false, "print the JSON reply")
		}},
		"cluster": {run: cmdCluster, help: helpCluster, flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&c.jsonOut, "json", false, "print the JSON reply")
		}},
		"events": {run: cmdEvents, help: helpEvents, flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&c.jsonOut, "json", false, "print each event's JSON")
		}},
		"sanctions": {run: cmdSanctions, help: helpSanctions, flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&c.device, "device", false, "ID is a device id")
			fs.BoolVar(&c.jsonOut, "json", false, "print the JSON reply")
		}},
		"servers": {run: cmdServers, help: helpServers, flags: func(fs *flag.FlagSet) {
			fs.IntVar(&c.capacity, "capacity", 0, "matches the server can host at once")
			fs.StringVar(&c.region, "region", "", "the server's region (empty: any)")
			fs.BoolVar(&c.jsonOut, "json", false, "print the JSON reply")
		}},
		"drain": {run: cmdDrain, help: helpDrain, flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&c.undo, "undo", false, "undo a drain started with matchctl drain")
		}},
		"config":       {run: cmdConfig, help: helpConfig},
		"state-events": {run: cmdStateEvents, help: helpStateEvents},
	}
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	global := flag.NewFlagSet("matchctl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	c.commonFlags(global)
	showVersion := global.Bool("version", false, "print the version and exit")
	if err := global.Parse(args); err != nil {
		return flagError(err)
	}
	if *showVersion {
		fmt.Fprintln(c.stdout, "matchctl", version.Get())
		return nil
	}
	args = global.Args()
	if len(args) == 0 {
		return usagef("no command given")
	}
	name := args[0]
	if name == "help" {
		if len(args) > 1 {
			if cmd, ok := c.commands()[args[1]]; ok {
				return commandHelp{cmd.help + commonHelp}
			}
		}
		return flag.ErrHelp
	}
	cmd, ok := c.commands()[name]
	if !ok {
		return usagef("unknown command %q", name)
	}
	fs := flag.NewFlagSet("matchctl "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.commonFlags(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return commandHelp{cmd.help + commonHelp}
	}
	if err != nil {
		return flagError(err)
	}
	if err := c.resolveAddr(); err != nil {
		return err
	}
	return cmd.run(ctx, c, pos)
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err.Error()}
}

// parseInterspersed parses fs's flags wherever they sit among the positional
// arguments (flag stops at the first positional one), so both
// "sanctions get --device d1" and "sanctions get d1 --device" work.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// A "--" ends the flags: everything after it is positional.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// resolveAddr turns --addr into the base URL. It takes host:port or a URL;
// a listen address such as ":9090" or "0.0.0.0:9090" (what admin.addr may
// hold) means this machine.
func (c *cli) resolveAddr() error {
	raw := strings.TrimSpace(c.addr)
	if raw == "" {
		return usagef("--addr is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--addr %q is not host:port or an http(s) URL", c.addr)
	}
	if host, port, err := net.SplitHostPort(u.Host); err == nil {
		switch host {
		case "", "0.0.0.0":
			u.Host = net.JoinHostPort("127.0.0.1", port)
		case "::":
			u.Host = net.JoinHostPort("::1", port)
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	c.base = u
	return nil
}

func positional(args []string, want int, form string) error {
	if len(args) != want {
		return usagef("usage: matchctl %s", form)
	}
	return nil
}

func cmdDrain(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 0, "drain [--undo]"); err != nil {
		return err
	}
	if c.undo {
		if _, err := c.call(ctx, http.MethodDelete, "/admin/drain", nil); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "node at %s serves again: it takes connections and matching leases\n", c.base.Host)
		return nil
	}
	if _, err := c.call(ctx, http.MethodPost, "/admin/drain", nil); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "node at %s is draining: its players are told to reconnect to another node\n", c.base.Host)
	return nil
}

func cmdConfig(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 0, "config"); err != nil {
		return err
	}
	body, err := c.call(ctx, http.MethodGet, "/debug/config", nil)
	if err != nil {
		return err
	}
	return printJSON(c.stdout, body)
}

func cmdStateEvents(ctx context.Context, c *cli, args []string) error {
	if err := positional(args, 1, "state-events on|off"); err != nil {
		return err
	}
	var on bool
	switch strings.ToLower(args[0]) {
	case "on", "true", "enable":
		on = true
	case "off", "false", "disable":
	default:
		return usagef("state-events takes on or off, not %q", args[0])
	}
	body, err := c.call(ctx, http.MethodPost, "/admin/state-events", map[string]bool{"enabled": on})
	if err != nil {
		return err
	}
	var reply struct {
		Enabled bool `json:"enabled"`
	}
	if err := decode(body, &reply); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "state events: %s\n", onOff(reply.Enabled))
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
