#!/usr/bin/env bash
# Runs a command with a throwaway redis-server on a free loopback port,
# exported as MATCHD_TEST_REDIS_ADDR, and stops the server afterwards.
# Installs redis-server with apt-get when it is missing and we are root.
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "with-redis: installing redis-server" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
  else
    echo "with-redis: redis-server is missing; install it (apt-get install redis-server)" >&2
    exit 1
  fi
fi

# Ports below the kernel's ephemeral range, so no outgoing connection can
# hold the one we pick; a server that does not come up is retried on another.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
dir=$(mktemp -d)
cleanup() {
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
port=""
for _ in $(seq 1 10); do
  p=$(( 10000 + RANDOM % (low - 10000) ))
  port_free "$p" || continue
  redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" || continue
  for _ in $(seq 1 100); do
    redis-cli -p "$p" ping >/dev/null 2>&1 && { port=$p; break; }
    sleep 0.05
  done
  [ -n "$port" ] && break
  echo "with-redis: redis-server did not come up on $p; trying another port" >&2
  tail -n 3 "$dir/redis.log" >&2 || true
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; rm -f "$dir/redis.pid"; fi
done
[ -n "$port" ] || { echo "with-redis: could not start redis-server" >&2; exit 1; }
export MATCHD_TEST_REDIS_ADDR="127.0.0.1:$port"
echo "with-redis: redis-server on $MATCHD_TEST_REDIS_ADDR" >&2
"$@"
