#!/usr/bin/env bash
# The load half of `make bench`: each scenario BENCH_RUNS times (default 3)
# back to back, each run on a fresh matchd node (bin/matchd) on the real
# redis-server at MATCHD_TEST_REDIS_ADDR (see with-redis.sh), driven by
# bin/matchload. Writes OUTDIR/<scenario>-<n>.json (matchload's report),
# OUTDIR/<scenario>.cmd (the command, for the summary) and, for the idle
# scenario, <report>.rss0 (the node's RSS before the run). matchload's own
# output goes to stderr. .ci/bench.sh summarises.
#
#   BENCH_SCENARIOS  which to run (default: normal mix latency idle)
#   BENCH_DURATION   how long each run cycles (default 30s)
#   BENCH_IDLE_PLAYERS  idle sessions to hold (default 5000)
set -euo pipefail
: "${MATCHD_TEST_REDIS_ADDR:?run through .ci/with-redis.sh}"
out=${1:?usage: bench-load.sh OUTDIR}
RUNS="${BENCH_RUNS:-3}"
DURATION="${BENCH_DURATION:-30s}"
IDLE="${BENCH_IDLE_PLAYERS:-5000}"
SCENARIOS="${BENCH_SCENARIOS:-normal mix latency idle}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

declare -A args=(
  [normal]="--players 1500 --rate 1000 --duration $DURATION --mix normal=1"
  [mix]="--players 2000 --rate 1000 --duration $DURATION --mix normal=0.9,slow=0.04,noshow=0.02,dodge=0.02,quit=0.01,malformed=0.01 --grace 10s"
  [latency]="--players 2600 --rate 1000 --duration $DURATION --think 400ms --rating-stddev 0"
  [idle]="--idle --players $IDLE --rate 2000 --duration 10s"
)

dir=$(mktemp -d)
pid=""
stop_node() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap 'stop_node; rm -rf "$dir"' EXIT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports below the ephemeral range, which outgoing connections (matchload's
# thousands of them) draw from and could take between the pick and the bind.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick() { for _ in $(seq 1 50); do p=$(( 10000 + RANDOM % (low - 10000) )); port_free "$p" && { echo "$p"; return; }; done; return 1; }

# start_node writes a config and starts bin/matchd on fresh ports and a
# fresh key prefix; sets ws, adm and pid.
start_node() {
  ws=$(pick); adm=$(pick)
  cat > "$dir/matchd.yaml" <<YAML
node_id: bench
server: {addr: "127.0.0.1:$ws"}
admin: {addr: "127.0.0.1:$adm"}
redis: {mode: standalone, addrs: ["$MATCHD_TEST_REDIS_ADDR"], key_prefix: "bench$RANDOM$RANDOM"}
log: {level: warn}
session: {rate_limit: {per_second: 1000, burst: 2000}}
matchmaking:
  modes:
    - {name: duel, teams: 2, team_size: 1, loading_timeout: 5s}
YAML
  bin/matchd --config "$dir/matchd.yaml" 2>> "$dir/matchd.log" &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$adm/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "bench-load: matchd did not become ready" >&2; tail -n 20 "$dir/matchd.log" >&2; return 1
}

for sc in $SCENARIOS; do
  a=${args[$sc]:?unknown scenario $sc}
  echo "bin/matchload --nodes ws://127.0.0.1:<port>/ws $a" > "$out/$sc.cmd"
  for n in $(seq 1 "$RUNS"); do
    start_node
    rep="$out/$sc-$n.json"
    if [ "$sc" = idle ]; then
      curl -sf "http://127.0.0.1:$adm/metrics" | awk '/^process_resident_memory_bytes /{print $2}' > "$rep.rss0"
    fi
    echo "bench-load: $sc run $n/$RUNS: bin/matchload $a" >&2
    # shellcheck disable=SC2086 # $a is a list of flags
    bin/matchload --nodes "ws://127.0.0.1:$ws/ws" $a --progress off \
      --metrics "http://127.0.0.1:$adm/metrics" --json "$rep" >&2 || echo "bench-load: $sc run $n: matchload exited $?" >&2
    stop_node
  done
done
