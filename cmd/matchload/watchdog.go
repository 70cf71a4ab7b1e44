package main

import (
	"time"

	"github.com/coder/websocket"
)

// watchSilence runs the silence watchdog (--silence) until stop closes: a
// player that is queued or loading and has heard nothing (since the later
// of its last frame and the start of its wait) for half of
// --silence is sent a sync; one that still hears nothing (not even the
// answer) by --silence is reported silent, once, with its name and state.
// A queued player may wait long for a match; a healthy server still answers
// its sync at once, so only a session that stopped serving its player
// fails the run.
func (r *Runner) watchSilence(stop <-chan struct{}) {
	d := r.opt.Silence
	t := time.NewTicker(max(d/8, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := time.Now()
		var watched uint64
		for _, p := range r.players {
			p.mu.Lock()
			if !(p.st.queuedish() || p.st.loadingish()) || p.closing {
				p.probed = false
				p.mu.Unlock()
				continue
			}
			watched++
			last := time.Unix(0, p.heard.Load())
			if p.watchFrom.After(last) {
				last = p.watchFrom
			}
			quiet := now.Sub(last)
			switch {
			case quiet < d/2:
				p.probed = false
			case !p.probed:
				p.probed = true
				p.send(websocket.MessageText, []byte(`{"type":"sync","rid":"watchdog"}`))
			case quiet >= d && !p.silent:
				p.silent = true
				r.chk.Silent(p.id, p.st.String(), quiet)
			}
			p.mu.Unlock()
		}
		r.chk.Watching(watched)
	}
}
