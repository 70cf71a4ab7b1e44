#!/usr/bin/env bash
# Idle soak: one matchd node on a throwaway redis-server holds PLAYERS idle
# sessions (matchload --idle) for MINUTES minutes, and this prints, minute by
# minute, the node's resident memory per session, its CPU (share of one
# core over the minute) and the Redis commands per second that idle
# sessions cost (directory renewals, reconciles), and the live heap after a
# forced collection (see live_mib). It ends with a verdict
# against the bounds a production node should meet: RSS per session flat
# within 5 % from the first minute to the last, idle CPU at most 10 % of a
# core.
#
#   deploy/soak/idle.sh                  # 19,000 sessions for 5 minutes
#   PLAYERS=5000 MINUTES=2 deploy/soak/idle.sh
#
# Needs redis-server, redis-cli, curl, bin/ from make build, and an open
# file limit above PLAYERS (both processes raise theirs to the hard limit).
set -euo pipefail
PLAYERS="${PLAYERS:-19000}"
MINUTES="${MINUTES:-5}"
BIN="${BIN:-bin}"
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -le $((PLAYERS + 500)) ]; then
  echo "open file limit $(ulimit -n) is too low for $PLAYERS sessions" >&2
  exit 2
fi
dir=$(mktemp -d)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports below the ephemeral range, which matchload's connections draw from.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick() { for _ in $(seq 1 50); do p=$(( 10000 + RANDOM % (low - 10000) )); port_free "$p" && { echo "$p"; return; }; done; return 1; }
rport=$(pick); ws=$(pick); adm=$(pick)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
cat > "$dir/matchd.yaml" <<YAML
node_id: idle
server: {addr: "127.0.0.1:$ws"}
admin: {addr: "127.0.0.1:$adm"}
redis: {mode: standalone, addrs: ["127.0.0.1:$rport"], key_prefix: idle}
log: {level: warn}
matchmaking:
  modes:
    - {name: duel, teams: 2, team_size: 1}
YAML
"$BIN/matchd" --config "$dir/matchd.yaml" 2> "$dir/matchd.log" &
node=$!; pids+=($node)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$adm/readyz" >/dev/null && break; sleep 0.1; done

"$BIN/matchload" --nodes "ws://127.0.0.1:$ws/ws" --idle --players "$PLAYERS" --rate 2000 \
  --duration "$((MINUTES + 3))m" --progress off > "$dir/matchload.out" 2>&1 &
load=$!; pids+=($load)

sessions() { curl -sf "http://127.0.0.1:$adm/metrics" | awk '$1=="matchd_sessions"{print int($2)}'; }
# The Go heap's goal (twice the heap that survived the last collection):
# flat when nothing leaks, whatever the resident size does meanwhile.
gc_goal_mib() { curl -sf "http://127.0.0.1:$adm/metrics" | awk '$1=="go_memstats_next_gc_bytes"{printf "%.1f", $2/1048576}'; }
# Goroutine stacks and the heap in use, apart: stacks grow per goroutine
# and are not in a heap profile.
stack_mib() { curl -sf "http://127.0.0.1:$adm/metrics" | awk '$1=="go_memstats_stack_inuse_bytes"{printf "%.1f", $2/1048576}'; }
heap_mib() { curl -sf "http://127.0.0.1:$adm/metrics" | awk '$1=="go_memstats_heap_inuse_bytes"{printf "%.1f", $2/1048576}'; }
# The live heap: a forced collection (the admin listener's pprof), then the
# heap that survived it. Taken after each minute's RSS sample, so every RSS
# sample but the first sits a minute after a collection: the same phase of
# the GC cycle, whose swing (the heap grows to twice the live heap before
# the next collection) would otherwise move RSS by a fifth from one sample
# to the next.
live_mib() {
  curl -sf -o /dev/null "http://127.0.0.1:$adm/debug/pprof/heap?gc=1"
  curl -sf "http://127.0.0.1:$adm/metrics" | awk '$1=="go_memstats_heap_alloc_bytes"{printf "%.1f", $2/1048576}'
}
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$node/status"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$node/stat"; }
redis_cmds() { redis-cli -p "$rport" info stats | awk -F: '/^total_commands_processed:/{print $2+0}'; }
hz=$(getconf CLK_TCK)

# The minutes count from when every session is connected.
until [ "$(sessions || echo 0)" -ge "$PLAYERS" ]; do
  kill -0 "$load" 2>/dev/null || { echo "matchload ended before every session connected:" >&2; tail -5 "$dir/matchload.out" >&2; exit 1; }
  sleep 1
done
echo "$PLAYERS idle sessions connected; sampling every minute (node pid $node, admin http://127.0.0.1:$adm)"
printf '%-7s %9s %10s %13s %11s %14s %12s %10s %10s %10s\n' minute sessions "RSS MiB" "KiB/session" "CPU % core" "redis cmds/s" "GC goal MiB" "stack MiB" "heap MiB" "live MiB"
live_mib > /dev/null # the first sample too sits a minute after a collection
t0=$(date +%s.%N); c0=$(cpu_ticks); r0=$(redis_cmds)
first=""; last=""; worst_cpu=0; minute=0
while [ "$minute" -lt "$MINUTES" ]; do
  sleep 60
  kill -0 "$load" 2>/dev/null || { echo "matchload ended early:" >&2; tail -5 "$dir/matchload.out" >&2; exit 1; }
  minute=$((minute + 1))
  t1=$(date +%s.%N); c1=$(cpu_ticks); r1=$(redis_cmds); rss=$(rss_kib); n=$(sessions)
  cpu=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v t="$t1" -v t0="$t0" 'BEGIN{printf "%.1f", 100*c/hz/(t-t0)}')
  cps=$(awk -v r="$((r1 - r0))" -v t="$t1" -v t0="$t0" 'BEGIN{printf "%.0f", r/(t-t0)}')
  per=$(awk -v r="$rss" -v n="$n" 'BEGIN{printf "%.2f", r/n}')
  printf '%-7s %9s %10.1f %13s %11s %14s %12s %10s %10s %10s\n' "$minute" "$n" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$per" "$cpu" "$cps" "$(gc_goal_mib)" "$(stack_mib)" "$(heap_mib)" "$(live_mib)"
  [ -z "$first" ] && first=$per
  last=$per
  worst_cpu=$(awk -v a="$worst_cpu" -v b="$cpu" 'BEGIN{print (b>a)?b:a}')
  t0=$t1; c0=$c1; r0=$r1
done
kill -INT "$load" 2>/dev/null || true
wait "$load" 2>/dev/null || true
if [ -z "$first" ]; then echo "no full minute was measured" >&2; exit 1; fi
drift=$(awk -v a="$first" -v b="$last" 'BEGIN{printf "%.1f", 100*(b-a)/a}')
echo "RSS per session: minute 1 $first KiB, minute $minute $last KiB ($drift %); worst minute's CPU $worst_cpu % of a core"
status=0
awk -v d="$drift" 'BEGIN{exit !(d<=5 && d>=-5)}' || { echo "FAIL: RSS per session drifted more than 5 %"; status=1; }
awk -v c="$worst_cpu" 'BEGIN{exit !(c<=10)}' || { echo "FAIL: idle CPU above 10 % of a core"; status=1; }
[ "$status" = 0 ] && echo "PASS"
exit "$status"
