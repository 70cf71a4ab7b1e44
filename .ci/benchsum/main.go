// Command benchsum summarises repeated benchmark runs for `make bench`:
// the median of each figure and its range (lowest to highest), as Markdown
// rows ready to paste into the README.
//
//	go test -bench . -count 3 ... | benchsum go
//	benchsum load -name "players matched/s, normal mix" -cmd "matchload ..." run1.json run2.json run3.json
//
// "go" reads `go test -bench` output on stdin and prints one row per
// benchmark, a column per unit. "load" reads matchload JSON reports (one
// per run) and prints the headline figures of those runs; a run whose
// report has a sidecar file <report>.rss0 holding the node's RSS in bytes
// before the run also gets the RSS per connected session (for --idle).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchsum:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: benchsum go < bench.txt, or benchsum load -name NAME -cmd CMD report.json [report.json]")
	}
	switch args[0] {
	case "go":
		rows, err := parseGoBench(stdin)
		if err != nil {
			return err
		}
		writeGoTable(stdout, rows)
		return nil
	case "load":
		fs := flag.NewFlagSet("load", flag.ContinueOnError)
		name := fs.String("name", "matchload", "what the runs measured")
		cmd := fs.String("cmd", "", "the command that was run")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return errors.New("load: no reports")
		}
		var runs []loadRun
		for _, p := range fs.Args() {
			r, err := readLoadRun(p)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		writeLoadRows(stdout, *name, *cmd, runs)
		return nil
	}
	return fmt.Errorf("unknown mode %q (go or load)", args[0])
}

// summary is the median and range of one figure over runs.
type summary struct {
	median, min, max float64
	n                int
}

func summarise(vs []float64) summary {
	if len(vs) == 0 {
		return summary{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{median: m, min: s[0], max: s[len(s)-1], n: len(s)}
}

// String renders "median (min–max)", or the value alone when every run
// gave the same.
func (s summary) String() string {
	if s.n == 0 {
		return "-"
	}
	if s.min == s.max {
		return num(s.median)
	}
	return num(s.median) + " (" + num(s.min) + "–" + num(s.max) + ")"
}

// num prints v with the precision its size calls for and thousands
// separators: 7,626 / 46.3 / 0.760 / 3.
func num(v float64) string {
	prec := 0
	switch a := math.Abs(v); {
	case a == 0 || a >= 100 || a == math.Trunc(a):
	case a >= 10:
		prec = 1
	case a >= 1:
		prec = 2
	default:
		prec = 3
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// goRow is one benchmark's values per unit, over its runs.
type goRow struct {
	name   string
	units  []string // in first-seen order
	values map[string][]float64
}

// parseGoBench reads `go test -bench` output: lines
// "BenchmarkName-N  iterations  value unit  value unit ...".
func parseGoBench(r io.Reader) ([]*goRow, error) {
	byName := map[string]*goRow{}
	var rows []*goRow
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		row := byName[name]
		if row == nil {
			row = &goRow{name: name, values: map[string][]float64{}}
			byName[name] = row
			rows = append(rows, row)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			unit := f[i+1]
			if _, ok := row.values[unit]; !ok {
				row.units = append(row.units, unit)
			}
			row.values[unit] = append(row.values[unit], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("go: no benchmark results on stdin")
	}
	return rows, nil
}

// standardUnits get a column each; any other unit a benchmark reports goes
// to the last column.
var standardUnits = []string{"ns/op", "B/op", "allocs/op"}

func writeGoTable(w io.Writer, rows []*goRow) {
	fmt.Fprintln(w, "| benchmark | runs | ns/op | B/op | allocs/op | other |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		cells := []string{r.name, strconv.Itoa(len(r.values[r.units[0]]))}
		for _, u := range standardUnits {
			cells = append(cells, summarise(r.values[u]).String())
		}
		var other []string
		for _, u := range r.units {
			if !slices.Contains(standardUnits, u) {
				other = append(other, summarise(r.values[u]).String()+" "+u)
			}
		}
		cells = append(cells, strings.Join(other, "; "))
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
}

// loadRun is what benchsum reads of one matchload JSON report.
type loadRun struct {
	Pass       bool `json:"pass"`
	Throughput struct {
		Matched       float64 `json:"players_matched"`
		InDrain       float64 `json:"players_matched_in_drain"`
		SteadyPerSec  float64 `json:"players_matched_per_sec_steady"`
		SteadyMinSec  float64 `json:"steady_min_1s"`
		SteadySeconds float64 `json:"steady_seconds"`
	} `json:"throughput"`
	Latency map[string]struct {
		Count float64 `json:"count"`
		P99   float64 `json:"p99_ms"`
	} `json:"latency"`
	Conns struct {
		Connected float64 `json:"connected"`
	} `json:"connections"`
	Generator struct {
		CPUPercent float64 `json:"cpu_percent_of_one_core"`
	} `json:"load_generator"`
	Server []struct {
		When   string             `json:"when"`
		Values map[string]float64 `json:"values"`
		Delta  map[string]float64 `json:"delta_since_start"`
	} `json:"server_metrics"`
	rss0 float64 // the node's RSS before the run, 0 when unknown
}

func readLoadRun(path string) (loadRun, error) {
	var r loadRun
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if b, err := os.ReadFile(path + ".rss0"); err == nil {
		r.rss0, _ = strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	}
	return r, nil
}

// figure is one headline number of a load run; ok false leaves the run
// out of it.
type figure struct {
	label string
	of    func(loadRun) (float64, bool)
}

var loadFigures = []figure{
	{"players matched/s (steady)", func(r loadRun) (float64, bool) {
		return r.Throughput.SteadyPerSec, r.Throughput.SteadyPerSec > 0
	}},
	{"worst second, players matched", func(r loadRun) (float64, bool) {
		return r.Throughput.SteadyMinSec, r.Throughput.SteadyPerSec > 0
	}},
	{"p99 enqueue → match_found, ms", latency("enqueue_to_match_found")},
	{"p99 enqueue → queued, ms", latency("enqueue_to_queued")},
	{"matchd CPU per matched player, µs", func(r loadRun) (float64, bool) {
		matched := r.Throughput.Matched - r.Throughput.InDrain
		if len(r.Server) == 0 || matched <= 0 {
			return 0, false
		}
		cpu, ok := r.Server[0].Delta["process_cpu_seconds_total"]
		return cpu / matched * 1e6, ok && cpu > 0
	}},
	{"load generator CPU, % of one core", func(r loadRun) (float64, bool) {
		return r.Generator.CPUPercent, r.Generator.CPUPercent > 0
	}},
	{"idle sessions connected", func(r loadRun) (float64, bool) {
		return r.Conns.Connected, r.rss0 > 0
	}},
	{"node RSS per idle session, KiB", func(r loadRun) (float64, bool) {
		if r.rss0 <= 0 || len(r.Server) == 0 || r.Conns.Connected <= 0 {
			return 0, false
		}
		rss, ok := r.Server[0].Values["process_resident_memory_bytes"]
		return (rss - r.rss0) / r.Conns.Connected / 1024, ok
	}},
}

func latency(key string) func(loadRun) (float64, bool) {
	return func(r loadRun) (float64, bool) {
		l, ok := r.Latency[key]
		return l.P99, ok && l.Count > 0
	}
}

func writeLoadRows(w io.Writer, name, cmd string, runs []loadRun) {
	pass := 0
	for _, r := range runs {
		if r.Pass {
			pass++
		}
	}
	fmt.Fprintf(w, "%s: %d runs, invariants PASS in %d\n", name, len(runs), pass)
	if cmd != "" {
		fmt.Fprintf(w, "`%s`\n", cmd)
	}
	fmt.Fprintln(w, "| figure | median (range) | runs |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, f := range loadFigures {
		var vs []float64
		for _, r := range runs {
			if v, ok := f.of(r); ok {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %d |\n", f.label, summarise(vs), len(vs))
	}
}
