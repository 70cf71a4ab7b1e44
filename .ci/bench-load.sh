#!/usr/bin/env bash
# A short end-to-end load run for `make bench`: one matchd node on the real
# redis-server at MATCHD_TEST_REDIS_ADDR (see with-redis.sh), driven by
# matchload. Prints matchload's report; exits with its status.
set -euo pipefail
: "${MATCHD_TEST_REDIS_ADDR:?run through .ci/with-redis.sh}"
PLAYERS="${BENCH_PLAYERS:-2000}"
DURATION="${BENCH_DURATION:-15s}"
dir=$(mktemp -d)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports below the ephemeral range, which outgoing connections (matchload's
# thousands of them) draw from and could take between the pick and the bind.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick() { for _ in $(seq 1 50); do p=$(( 10000 + RANDOM % (low - 10000) )); port_free "$p" && { echo "$p"; return; }; done; return 1; }
ws=$(pick); adm=$(pick)
cat > "$dir/matchd.yaml" <<YAML
node_id: bench
server: {addr: "127.0.0.1:$ws"}
admin: {addr: "127.0.0.1:$adm"}
redis: {mode: standalone, addrs: ["$MATCHD_TEST_REDIS_ADDR"], key_prefix: "bench$RANDOM"}
log: {level: warn}
session: {rate_limit: {per_second: 1000, burst: 2000}}
matchmaking:
  modes:
    - {name: duel, teams: 2, team_size: 1, loading_timeout: 5s}
YAML
bin/matchd --config "$dir/matchd.yaml" 2> "$dir/matchd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$adm/readyz" >/dev/null && break; sleep 0.1; done
bin/matchload --nodes "ws://127.0.0.1:$ws/ws" --players "$PLAYERS" --rate 1000 --duration "$DURATION" \
  --mix normal=0.9,slow=0.04,noshow=0.02,dodge=0.02,quit=0.01,malformed=0.01 --grace 10s --progress off \
  --metrics "http://127.0.0.1:$adm/metrics"
