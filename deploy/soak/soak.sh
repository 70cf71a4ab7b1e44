#!/usr/bin/env bash
# Crash soak: two matchd nodes on one redis-server, the full behaviour mix of
# matchload with its silence watchdog, and one kind of fault injected all run
# long. Prints matchload's report (and the fault count); exits with
# matchload's status, so a broken invariant fails the soak.
#
#   deploy/soak/soak.sh none   # no faults: the baseline
#   deploy/soak/soak.sh a      # a random queue, room, session, sessions
#                              # supervisor or coordinator crashed every 2s
#   deploy/soak/soak.sh b      # queue, room and session crashes every 0.5s
#   deploy/soak/soak.sh c      # SIGSTOP of the leading node for 4s, 3 times
#   deploy/soak/soak.sh d      # Pub/Sub connections killed every second
#
# Environment: PLAYERS (default 600), DURATION (60s), REDIS_PORT (a free
# port; a throwaway redis-server is started there), BIN (bin/, from make
# build), MATCHLOAD_FLAGS (more flags, e.g. --trace 40), KEEP (a directory to keep the nodes' logs and configs in). Needs
# redis-server, redis-cli, curl and python3.
set -euo pipefail
scenario="${1:?usage: soak.sh none|a|b|c|d}"
PLAYERS="${PLAYERS:-600}"
DURATION="${DURATION:-60s}"
BIN="${BIN:-bin}"
dir=$(mktemp -d)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports below the ephemeral range, which outgoing connections (matchload's
# thousands of them) draw from and could take between the pick and the bind.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick() { for _ in $(seq 1 50); do p=$(( 10000 + RANDOM % (low - 10000) )); port_free "$p" && { echo "$p"; return; }; done; return 1; }
rport="${REDIS_PORT:-$(pick)}"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$dir"/. "$KEEP"/; fi
  rm -rf "$dir"
}
trap cleanup EXIT
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done

ws=(); adm=(); node_pid=()
for i in 1 2; do
  w=$(pick); a=$(pick); ws+=("$w"); adm+=("$a")
  cat > "$dir/n$i.yaml" <<YAML
node_id: n$i
server: {addr: "127.0.0.1:$w"}
admin: {addr: "127.0.0.1:$a"}
redis: {mode: standalone, addrs: ["127.0.0.1:$rport"], key_prefix: soak}
log: {level: ${LOG_LEVEL:-warn}}
debug: {fault_injection: true}
session: {rate_limit: {per_second: 1000, burst: 2000}}
matchmaking:
  modes:
    - {name: duel, teams: 2, team_size: 1, loading_timeout: 5s}
YAML
  "$BIN/matchd" --config "$dir/n$i.yaml" 2> "$dir/n$i.log" &
  node_pid+=($!); pids+=($!)
done
for i in 0 1; do
  ready=no
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:${adm[$i]}/readyz" >/dev/null && { ready=yes; break; }; sleep 0.1; done
  if [ "$ready" != yes ]; then echo "n$((i+1)) never became ready:" >&2; tail -5 "$dir/n$((i+1)).log" >&2; exit 1; fi
done

crash() { curl -sf -X POST "http://127.0.0.1:${adm[$1]}/debug/crash?actor=$2" >/dev/null && echo "n$(($1+1)) $2" >> "$dir/faults" || true; }
rc() { redis-cli -p "$rport" "$@"; }
# node_index NODE_ID: 0 for n1, 1 for n2.
node_index() { echo $(( ${1#n} - 1 )); }
crash_one() { # crash_one KIND...: a random actor of a random kind among KIND
  # Rooms and sessions are picked from Redis (a random open room and its
  # owner; a random player in the mode and its session's node): listing
  # every actor of a node asks each one and would slow injection down.
  local node kind id pick kinds=("$@")
  node=$(( RANDOM % 2 ))
  kind=${kinds[$(( RANDOM % ${#kinds[@]} ))]}
  case "$kind" in
    sessions|coordinator) id=$kind ;;
    queue) id=queue/duel ;;
    room)
      mapfile -t pick < <(rc HRANDFIELD "soak:{m:duel}:own" 1 WITHVALUES)
      [ "${#pick[@]}" -eq 2 ] || return 0
      id="room/${pick[0]}"; node=$(node_index "${pick[1]}") ;;
    session)
      pick=$(rc HRANDFIELD "soak:{m:duel}:pl" 1)
      [ -n "$pick" ] || return 0
      id="session/$pick"; node=$(node_index "$(rc HGET "soak:{p:$pick}" node)") ;;
  esac
  [ -n "$id" ] && crash "$node" "$id"
}
leader() { for i in 0 1; do curl -sf "http://127.0.0.1:${adm[$i]}/debug/actors?kind=queue" | grep -q '"state":"leader"' && { echo "$i"; return; }; done; }

chaos() {
  set +e # a fault that cannot be injected this time is tried again next time
  case "$scenario" in
    none) ;;
    a) while sleep 2; do crash_one queue room session sessions coordinator; done ;;
    b) while sleep 0.5; do crash_one queue room session; done ;;
    c) for t in 10 20 20; do sleep "$t"; l=$(leader); [ -n "$l" ] || continue
         kill -STOP "${node_pid[$l]}"; echo "stop n$((l+1))" >> "$dir/faults"; sleep 4; kill -CONT "${node_pid[$l]}"; done ;;
    d) while sleep 1; do redis-cli -p "$rport" client kill type pubsub >/dev/null && echo pubsub >> "$dir/faults"; done ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
}
touch "$dir/faults"
chaos & pids+=($!)
status=0
"$BIN/matchload" --nodes "ws://127.0.0.1:${ws[0]}/ws,ws://127.0.0.1:${ws[1]}/ws" --players "$PLAYERS" --rate 1000 \
  --duration "$DURATION" --mix normal=0.9,slow=0.04,noshow=0.02,dodge=0.02,quit=0.01,malformed=0.01 \
  --silence 12s --grace 15s --progress off \
  --metrics "http://127.0.0.1:${adm[0]}/metrics,http://127.0.0.1:${adm[1]}/metrics" ${MATCHLOAD_FLAGS:-} || status=$?
echo "faults injected ($scenario): $(wc -l < "$dir/faults" 2>/dev/null || echo 0)"
for i in 1 2; do
  exited=no
  kill -0 "${node_pid[$((i-1))]}" 2>/dev/null || { exited=yes; status=1; }
  echo "n$i: $(grep -c '"level":"ERROR"' "$dir/n$i.log" || true) ERROR log lines; exited: $exited"
done
exit "$status"
