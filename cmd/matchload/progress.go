package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Progress prints the live line on stderr: rewritten in place every second
// on a terminal, else one line every 5s. It also records the timeline.
type Progress struct {
	w    io.Writer
	mode string // tty, line, off
}

// NewProgress picks the output style for --progress.
func NewProgress(w *os.File, flag string) *Progress {
	mode := flag
	if flag == "auto" {
		mode = "line"
		if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			mode = "tty"
		}
	}
	return &Progress{w: w, mode: mode}
}

// Start samples the run every second until the returned stop is called.
func (pr *Progress) Start(r *Runner) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastMatched, lastFound, lastErr uint64
		for i := 1; ; i++ {
			select {
			case <-done:
				if pr.mode == "tty" {
					fmt.Fprintln(pr.w)
				}
				return
			case <-t.C:
			}
			l := r.live
			m, f, e := l.matched.Load(), l.found.Load(), l.errorsUnexpected.Load()
			s := Second{
				T: i, Phase: r.phase(), Connected: l.connected.Load(), Queued: l.queued.Load(), Loading: l.loading.Load(),
				Matched: m - lastMatched, Found: f - lastFound, Errors: e - lastErr,
				P99FoundM: ms(r.hist.enqFound.Quantile(0.99)),
			}
			lastMatched, lastFound, lastErr = m, f, e
			r.timeline = append(r.timeline, s)
			line := fmt.Sprintf("%-7s %4ds  conn %d  queued %d  loading %d  matched/s %d  p99 enq->found %s  errors %d  (matched %d, dial fail %d)",
				s.Phase, s.T, s.Connected, s.Queued, s.Loading, s.Matched, fmtMs(s.P99FoundM), e, m,
				l.dialDone.Load()-l.dialOK.Load())
			if n := l.forming.Load(); n > 0 {
				line += fmt.Sprintf("  forming parties %d", n)
			}
			switch {
			case pr.mode == "tty":
				fmt.Fprintf(pr.w, "\r\x1b[K%s", line)
			case pr.mode == "line" && i%5 == 0:
				fmt.Fprintln(pr.w, line)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func fmtMs(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1fs", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}
