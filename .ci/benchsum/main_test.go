package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSummarise(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want string
	}{
		{[]float64{3, 1, 2}, "2 (1–3)"},
		{[]float64{3.5, 1.25, 2.5}, "2.50 (1.25–3.50)"},
		{[]float64{7626, 6100, 7001}, "7,001 (6,100–7,626)"},
		{[]float64{10, 21}, "15.5 (10–21)"},
		{[]float64{0.76, 0.76, 0.76}, "0.760"},
		{nil, "-"},
		{[]float64{-1500, -2}, "-751 (-1,500–-2)"},
	} {
		if got := summarise(tc.in).String(); got != tc.want {
			t.Errorf("summarise(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const goOut = `goos: linux
goarch: amd64
pkg: github.com/matchd/matchd/actors/match
BenchmarkForm/1v1-2         	      60	  18000000 ns/op	  1200 B/op	       3 allocs/op
BenchmarkForm/1v1-2         	      60	  21000000 ns/op	  1200 B/op	       3 allocs/op
BenchmarkForm/1v1-2         	      60	  16000000 ns/op	  1200 B/op	       3 allocs/op
BenchmarkSpread1v1Uniform-2 	       1	 900000000 ns/op	         0.7600 spread
BenchmarkSpread1v1Uniform-2 	       1	 800000000 ns/op	         0.7700 spread
PASS
ok  	github.com/matchd/matchd/actors/match	12.3s
`

func TestGoTable(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"go"}, strings.NewReader(goOut), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Form/1v1 | 3 | 18,000,000 (16,000,000–21,000,000) | 1,200 | 3 |  |",
		"| Spread1v1Uniform | 2 | 850,000,000 (800,000,000–900,000,000) | - | - | 0.765 (0.760–0.770) spread |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing row %q in\n%s", want, out.String())
		}
	}
	if err := run([]string{"go"}, strings.NewReader("PASS\n"), &out); err == nil {
		t.Error("no benchmark lines: no error")
	}
}

func report(steady, p99, cpu, matched, rss, connected float64, pass bool) string {
	p := "false"
	if pass {
		p = "true"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return `{"pass":` + p + `,"throughput":{"players_matched":` + num(matched) + `,"players_matched_in_drain":0,` +
		`"players_matched_per_sec_steady":` + num(steady) + `,"steady_min_1s":` + num(steady-100) + `,"steady_seconds":10},` +
		`"latency":{"enqueue_to_match_found":{"count":5,"p99_ms":` + num(p99) + `}},` +
		`"connections":{"connected":` + num(connected) + `},"load_generator":{"cpu_percent_of_one_core":40},` +
		`"server_metrics":[{"when":"end of load (before drain)","values":{"process_resident_memory_bytes":` + num(rss) + `},` +
		`"delta_since_start":{"process_cpu_seconds_total":` + num(cpu) + `}}]}`
}

func TestLoadRows(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, r := range []string{
		report(7000, 120, 15, 100000, 0, 1500, true),
		report(6000, 140, 18, 100000, 0, 1500, true),
		report(6500, 130, 16, 100000, 0, 1500, false),
	} {
		p := filepath.Join(dir, "r"+strconv.Itoa(i)+".json")
		if err := os.WriteFile(p, []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var out strings.Builder
	if err := run(append([]string{"load", "-name", "normal", "-cmd", "matchload --players 1500"}, paths...), nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"normal: 3 runs, invariants PASS in 2",
		"`matchload --players 1500`",
		"| players matched/s (steady) | 6,500 (6,000–7,000) | 3 |",
		"| p99 enqueue → match_found, ms | 130 (120–140) | 3 |",
		"| matchd CPU per matched player, µs | 160 (150–180) | 3 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "idle") {
		t.Errorf("idle figures without an RSS baseline:\n%s", out.String())
	}
}

func TestLoadIdleRSS(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "idle.json")
	if err := os.WriteFile(p, []byte(report(0, 0, 0, 0, 100<<20+5000*20*1024, 5000, true)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".rss0", []byte("104857600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run([]string{"load", "-name", "idle", p}, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| node RSS per idle session, KiB | 20 | 1 |") {
		t.Errorf("no RSS per session in\n%s", out.String())
	}
	if strings.Contains(out.String(), "players matched") {
		t.Errorf("throughput figures for an idle run:\n%s", out.String())
	}
}
