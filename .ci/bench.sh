#!/usr/bin/env bash
# `make bench`: every headline figure measured BENCH_RUNS times (default 3)
# back to back (the Go benchmarks with -count, the load scenarios run after
# run), then, on stdout, each figure's median and range (lowest to highest)
# as Markdown ready to paste into the README, under the date, the commit,
# the machine and its load average before and after. Everything measured
# also streams to stderr as it runs. BENCH_ONLY=go or BENCH_ONLY=load runs
# one half; see bench-load.sh for the load half's knobs.
set -euo pipefail
RUNS="${BENCH_RUNS:-3}"
export BENCH_RUNS="$RUNS"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/benchsum" ./.ci/benchsum
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
before=$(loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
gocmd="go test -run '^\$' -bench . -benchmem -count $RUNS ./actors/... ./redisx/ ./gateway/protocol/ ./gateway/client/"

if [ "${BENCH_ONLY:-}" != load ]; then
  echo "bench: $gocmd" >&2
  # shellcheck disable=SC2086
  .ci/with-redis.sh go test -run '^$' -bench . -benchmem -count "$RUNS" ./actors/... ./redisx/ ./gateway/protocol/ ./gateway/client/ \
    | tee "$out/go.txt" >&2
fi
if [ "${BENCH_ONLY:-}" != go ]; then
  mkdir -p "$out/load"
  .ci/with-redis.sh .ci/bench-load.sh "$out/load"
fi

model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || true)
echo
echo "## make bench: $started, commit $(git describe --always --dirty 2>/dev/null || echo unknown)"
echo
echo "Machine: $(nproc) cores${model:+ ($model)}, ${mem:-? RAM}, $(go version | cut -d' ' -f3), $(redis-server --version | grep -o 'v=[^ ]*' | sed 's/v=/Redis /'); matchd, Redis and the load generator share it."
echo "Load average (1, 5, 15 min) before: $before; after: $(loadavg)."
echo "Each figure: median of $RUNS runs back to back (lowest–highest)."
if [ -s "$out/go.txt" ]; then
  echo
  echo "### Go benchmarks"
  echo
  echo "\`$gocmd\` (Redis benchmarks on a throwaway redis-server: .ci/with-redis.sh)"
  echo
  "$out/benchsum" go < "$out/go.txt"
fi
if [ -d "$out/load" ]; then
  declare -A names=(
    [normal]="Whole flow, normal players"
    [mix]="Whole flow, full behaviour mix"
    [latency]="Latency at a chosen arrival rate (--think 400ms)"
    [idle]="Idle sessions"
  )
  for sc in ${BENCH_SCENARIOS:-normal mix latency idle}; do
    cmdf="$out/load/$sc.cmd"
    [ -e "$cmdf" ] || continue
    echo
    echo "### ${names[$sc]:-$sc}"
    echo
    "$out/benchsum" load -name "${names[$sc]:-$sc}" -cmd "$(cat "$cmdf")" "$out"/load/"$sc"-*.json
  done
fi
