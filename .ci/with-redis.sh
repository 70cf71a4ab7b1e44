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

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for _ in $(seq 1 50); do
  p=$(( 20000 + RANDOM % 30000 ))
  if port_free "$p"; then port=$p; break; fi
done
[ -n "$port" ] || { echo "with-redis: no free port" >&2; exit 1; }

dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
cleanup() {
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$port" ping >/dev/null
export MATCHD_TEST_REDIS_ADDR="127.0.0.1:$port"
echo "with-redis: redis-server on $MATCHD_TEST_REDIS_ADDR" >&2
"$@"
