#!/usr/bin/env bash
# Regions figures: one mode with no regions, one region or three regions,
# on one node or two nodes sharing one redis-server; matchload drives it
# and this prints one Markdown table row per run: players matched per
# second, p99 enqueue -> match_found, CPU per matched player of matchd and
# Redis (utime + stime from /proc/<pid>/stat around matchload's run) and
# the matches each node formed (matchd_matches_formed_total).
#
#   deploy/bench/regions.sh 3 2      # three regions, two nodes
#   deploy/bench/regions.sh 3h 2     # the same, each node at home in its
#                                    # regions (n1 eu, n2 us-east and asia:
#                                    # matchmaking.home_regions) and each
#                                    # player connected to the node of its
#                                    # fastest region (matchload --region-nodes)
#   RUNS=3 deploy/bench/regions.sh all   # every scenario, RUNS times each, interleaved
#
# The regions are eu, us-east, asia, and the players come from three
# continents in equal parts (POPULATIONS, matchload --regions): 20-60 ms
# to their own region, 80-250 ms to the others. The latency rule is the
# protocol's default (60 ms, +2 ms/s, at most 150), so a match is played in
# its members' own region unless they waited long. One region: every
# player is at 20-60 ms from eu.
# Environment: PLAYERS (2000), DURATION (30s), THINK (400ms), BIN (bin/,
# from make build), RUNS (1), MATCHLOAD_FLAGS (more flags), KEEP (a directory
# to keep logs, configs, reports and metrics in). Needs redis-server, redis-cli, curl, python3.
set -euo pipefail
PLAYERS="${PLAYERS:-2000}"
DURATION="${DURATION:-30s}"
THINK="${THINK:-400ms}"
BIN="${BIN:-bin}"
RUNS="${RUNS:-1}"
POPULATIONS="${POPULATIONS:-eu=20:60,us-east=80:130,asia=150:250;eu=80:130,us-east=20:60,asia=140:200;eu=150:250,us-east=140:200,asia=20:60}"
hz=$(getconf CLK_TCK)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick() { for _ in $(seq 1 50); do p=$(( 10000 + RANDOM % (low - 10000) )); port_free "$p" && { echo "$p"; return; }; done; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
formed() { curl -sf "http://127.0.0.1:$1/metrics" | awk '/^matchd_matches_formed_total\{/ {s += $2} END {print s + 0}'; }

# The processes of the run in progress, stopped by PID when it ends or the
# script exits (a failed step included).
pids=()
dir=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  pids=()
  if [ -n "$dir" ]; then
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP/$run_name" && cp -r "$dir"/. "$KEEP/$run_name/"; fi
    rm -rf "$dir"; dir=""
  fi
}
trap cleanup EXIT

run() { # run REGIONS NODES
  local regions=$1 nodes=$2 rport ws=() adm=() node_pid=() mode lat=""
  run_name="r$regions-n$nodes"
  dir=$(mktemp -d)
  rport=$(pick)
  redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
  local redis_pid=$!; pids+=("$redis_pid")
  for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
  case "$regions" in
    0) mode="{name: duel, teams: 2, team_size: 1, loading_timeout: 5s}" ;;
    1) mode="{name: duel, teams: 2, team_size: 1, loading_timeout: 5s, regions: [eu], latency: {max_ms: 60, widen_per_second: 2, max_ms_limit: 150}}"
       lat="--regions eu=20:60 --latency 60:2:150" ;;
    3|3h) mode="{name: duel, teams: 2, team_size: 1, loading_timeout: 5s, regions: [eu, us-east, asia], latency: {max_ms: 60, widen_per_second: 2, max_ms_limit: 150}}"
       lat="--regions $POPULATIONS --latency 60:2:150" ;;
  esac
  local homes=("[]" "[]")
  if [ "$regions" = 3h ]; then
    homes=("[eu]" "[us-east, asia]")
    lat="$lat --region-nodes eu=0,us-east=$((nodes - 1)),asia=$((nodes - 1))"
  fi
  for i in $(seq 1 "$nodes"); do
    local w a; w=$(pick); a=$(pick); ws+=("ws://127.0.0.1:$w/ws"); adm+=("$a")
    cat > "$dir/n$i.yaml" <<YAML
node_id: n$i
server: {addr: "127.0.0.1:$w"}
admin: {addr: "127.0.0.1:$a"}
redis: {mode: standalone, addrs: ["127.0.0.1:$rport"], key_prefix: bench}
log: {level: warn}
session: {rate_limit: {per_second: 1000, burst: 2000}}
matchmaking:
  home_regions: ${homes[$((i - 1))]:-[]}
  modes:
    - $mode
YAML
    "$BIN/matchd" --config "$dir/n$i.yaml" 2> "$dir/n$i.log" &
    node_pid+=($!); pids+=($!)
  done
  for a in "${adm[@]}"; do
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$a/readyz" >/dev/null && break; sleep 0.1; done
  done
  sleep 3 # the region leases spread over the nodes (a few lease renewals)
  local before=() f0=() t0
  for p in "${node_pid[@]}" "$redis_pid"; do before+=("$(cpu_ticks "$p")"); done
  for a in "${adm[@]}"; do f0+=("$(formed "$a")"); done
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$BIN/matchload" --nodes "$(IFS=,; echo "${ws[*]}")" --players "$PLAYERS" --rate 1000 --duration "$DURATION" \
    --think "$THINK" --mix normal=1 --progress off --json "$dir/report.json" --seed 7 $lat ${MATCHLOAD_FLAGS:-} >/dev/null 2>"$dir/matchload.err" || {
      echo "matchload failed (regions $regions, nodes $nodes):" >&2; tail -5 "$dir/matchload.err" >&2; }
  local after=() f1=() i md=0 rd
  for p in "${node_pid[@]}" "$redis_pid"; do after+=("$(cpu_ticks "$p")"); done
  for a in "${adm[@]}"; do f1+=("$(formed "$a")"); done
  if [ -n "${KEEP:-}" ]; then for i in "${!adm[@]}"; do curl -sf "http://127.0.0.1:${adm[i]}/metrics" > "$dir/n$((i+1)).metrics" || true; done; fi
  for i in $(seq 0 $((nodes - 1))); do md=$((md + after[i] - before[i])); done
  rd=$((after[nodes] - before[nodes]))
  local per_node=""
  for i in $(seq 0 $((nodes - 1))); do per_node+="n$((i+1)) $(( ${f1[i]%.*} - ${f0[i]%.*} )) "; done
  python3 - "$dir/report.json" "$regions" "$nodes" "$md" "$rd" "$hz" "$per_node" <<'PY' || true
import json, sys
rep = json.load(open(sys.argv[1]))
regions, nodes, md, rd, hz, per_node = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
th = rep["throughput"]
matched = th["players_matched"]
lat = rep["latency"].get("enqueue_to_match_found", {})
p99 = lat.get("p99_ms", lat.get("p99"))
us = lambda ticks: ticks / hz / max(matched, 1) * 1e6
ok = "PASS" if rep["pass"] else "FAIL"
print(f"| {regions} | {nodes} | {th['players_matched_per_sec_steady']:,.0f} | {p99} | {us(md):.0f} | {us(rd):.0f} | {per_node.strip()} | {ok} |")
PY
  cleanup
}

echo "| regions | nodes | players matched/s (steady) | p99 enqueue→match_found (ms) | matchd CPU µs/player | Redis CPU µs/player | matches formed per node | invariants |"
echo "|---|---|---|---|---|---|---|---|"
if [ "${1:-}" = all ]; then
  for _ in $(seq 1 "$RUNS"); do
    for s in "0 1" "1 1" "3 1" "0 2" "1 2" "3 2" "3h 2"; do run $s; done
  done
else
  for _ in $(seq 1 "$RUNS"); do run "${1:?usage: regions.sh 0|1|3|3h NODES | all}" "${2:-1}"; done
fi
