package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/matchd/matchd/cmd/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout io.Writer, stderr *os.File) int {
	o, err := ParseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "matchload:", strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	if o.Version {
		fmt.Fprintln(stdout, "matchload", version.Get())
		return 0
	}
	limit, err := raiseNoFile()
	if err != nil {
		fmt.Fprintf(stderr, "matchload: warning: raising the open-file limit: %v\n", err)
	}
	if need := uint64(o.Players) + 64; limit > 0 && limit < need {
		fmt.Fprintf(stderr, "matchload: warning: the open-file limit is %d, below the %d that %d players need; dials past it will fail (raise the hard limit: ulimit -Hn, or LimitNOFILE)\n", limit, need, o.Players)
	}
	r, err := NewRunner(o)
	if err != nil {
		fmt.Fprintln(stderr, "matchload:", strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	for _, n := range r.notes {
		fmt.Fprintln(stderr, "matchload: note:", n)
	}

	ctx := context.Background()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	interrupt := make(chan struct{}, 2)
	go func() {
		for range sigs {
			interrupt <- struct{}{}
		}
	}()

	var server []ServerMetrics
	start := map[string]ServerMetrics{}
	for _, u := range o.Metrics {
		start[u] = scrape(u, "start")
	}
	r.onRampEnd = func() {
		if o.Idle {
			fmt.Fprintf(stderr, "\nmatchload: %d idle sessions connected (%d dials failed); holding them", r.live.dialOK.Load(), uint64(o.Players)-r.live.dialOK.Load())
			if o.Duration > 0 {
				fmt.Fprintf(stderr, " for %s\n", o.Duration)
			} else {
				fmt.Fprintln(stderr, " until Ctrl-C or --timeout")
			}
		}
	}
	r.onActiveEnd = func() {
		for _, u := range o.Metrics {
			server = append(server, scrape(u, "end of load (before drain)").withDelta(start[u]))
		}
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			fmt.Fprintln(stderr, "matchload:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "matchload:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	progress := NewProgress(stderr, o.Progress)
	if o.Progress == "off" {
		progress.mode = "off"
	}
	r.Run(ctx, interrupt, progress)
	for _, u := range o.Metrics {
		server = append(server, scrape(u, "after close").withDelta(start[u]))
	}

	rep := r.Report("matchload "+strings.Join(args, " "), server)
	if o.JSONPath != "-" {
		rep.WriteText(stdout)
	}
	if o.JSONPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			b = append(b, '\n')
			if o.JSONPath == "-" {
				_, err = stdout.Write(b)
			} else {
				err = os.WriteFile(o.JSONPath, b, 0o644)
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "matchload: writing the JSON report:", err)
		}
	}
	if !rep.Pass {
		return 1
	}
	return 0
}
