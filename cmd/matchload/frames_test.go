package main

import (
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/matchd/matchd/gateway/protocol"
)

// Every garbage frame must be refused by the real decoder with the code the
// malformed sender expects (or, for the big ping, accepted), and sit at or
// below the frame limit.
func TestGarbageFramesAgainstDecoder(t *testing.T) {
	const limit = 4096
	connect, queued, loading := buildGarbage(limit)
	all := append(append(append([]garbage(nil), connect...), queued...), loading...)
	sawExact, sawBig := false, false
	for _, g := range all {
		if len(g.data) > limit {
			t.Errorf("garbage frame of %d bytes exceeds the limit", len(g.data))
		}
		sawExact = sawExact || len(g.data) == limit
		sawBig = sawBig || len(g.data) == limit-1
		if g.typ == websocket.MessageBinary {
			continue // the gateway refuses binary frames before decoding
		}
		m, err := protocol.Decode(g.data)
		if err == nil {
			if m.Type != protocol.TypePing || !strings.HasPrefix(m.Rid, "g") {
				t.Errorf("garbage %.60s decodes fine as %+v", g.data, m)
			}
			continue
		}
		de, ok := protocol.AsDecodeError(err)
		if !ok || (de.Code != protocol.CodeBadRequest && de.Code != protocol.CodeUnknownType) {
			t.Errorf("garbage %.60s: %v", g.data, err)
		}
		if de.Rid != "" && !strings.HasPrefix(de.Rid, "g") {
			t.Errorf("garbage %.60s carries rid %q", g.data, de.Rid)
		}
	}
	if !sawExact || !sawBig {
		t.Errorf("want a frame of exactly the limit (%v) and one just below (%v)", sawExact, sawBig)
	}
}

func TestRequestOf(t *testing.T) {
	for rid, want := range map[string]string{"e": "enqueue", "c": "cancel", "d": "dodge", "l": "loading_complete", "g3": "garbage", "": "unknown", "zz": "other"} {
		if got := requestOf(rid); got != want {
			t.Errorf("requestOf(%q) = %q, want %q", rid, got, want)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP matchd_sessions x
# TYPE matchd_sessions gauge
matchd_sessions 12
matchd_matches_cancelled_total{mode="duel",reason="player_left"} 3
matchd_matches_cancelled_total{mode="duel",reason="loading_timeout"} 4
process_resident_memory_bytes 1.5e+08
matchd_other_total 9
`
	got := map[string]float64{}
	parseMetrics(strings.NewReader(text), got)
	if got["matchd_sessions"] != 12 || got["matchd_matches_cancelled_total"] != 7 || got["process_resident_memory_bytes"] != 1.5e8 || len(got) != 3 {
		t.Errorf("parseMetrics = %v", got)
	}
}
