package gateway

import (
	"testing"
	"time"
)

// Pings land on a shared grid, so connections ping together, and each
// still comes about one interval after the last: never later, and never
// more than a slot early.
func TestPingDelayIsAlignedAndOnPace(t *testing.T) {
	base := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, interval := range []time.Duration{15 * time.Second, time.Second, 150 * time.Millisecond, 50 * time.Millisecond} {
		for off := time.Duration(0); off < 2*pingSlot; off += 7 * time.Millisecond {
			now := base.Add(off)
			d := pingDelay(now, interval)
			at := now.Add(d)
			if interval < 2*pingSlot {
				if d != interval {
					t.Errorf("interval %s at +%s: delay %s, want the interval itself (too short to align)", interval, off, d)
				}
				continue
			}
			if at.Truncate(pingSlot) != at {
				t.Errorf("interval %s at +%s: next ping at %s, off the %s grid", interval, off, at.Format("15:04:05.000"), pingSlot)
			}
			if d > interval {
				t.Errorf("interval %s at +%s: delay %s, later than the interval", interval, off, d)
			}
			if d <= interval-pingSlot {
				t.Errorf("interval %s at +%s: delay %s, too early", interval, off, d)
			}
		}
	}
}
