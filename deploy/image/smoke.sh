#!/usr/bin/env bash
# Starts the image on host networking with the embedded Redis on loopback,
# waits for /healthz and /readyz, checks the version it reports and that it
# runs as a non-root user, then stops it with SIGTERM and expects exit 0.
#
#   deploy/image/smoke.sh IMAGE [extra podman run flags...]
#   make image-smoke          # IMAGE_RUN_FLAGS adds flags, e.g. --runtime runc
set -euo pipefail

image=${1:?usage: smoke.sh IMAGE [podman run flags]}
shift
command -v podman >/dev/null 2>&1 || { echo "smoke: podman is required" >&2; exit 1; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports below the ephemeral range, which outgoing connections (matchload's
# thousands of them) draw from and could take between the pick and the bind.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
pick() { local p; for _ in $(seq 1 50); do p=$(( 10000 + RANDOM % (low - 10000) )); port_free "$p" && { echo "$p"; return; }; done; exit 1; }
client=$(pick); admin=$(pick); metrics=$(pick)

cid=$(podman run -d --network host "$@" \
  -e MATCHD_SERVER__ADDR=127.0.0.1:$client -e MATCHD_ADMIN__ADDR=127.0.0.1:$admin \
  -e MATCHD_METRICS__ADDR=127.0.0.1:$metrics "$image")
cleanup() { podman rm -f "$cid" >/dev/null 2>&1 || true; }
trap cleanup EXIT

ok=""
for _ in $(seq 1 100); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics/readyz")" = 200 ]; then ok=1; break; fi
  sleep 0.1
done
[ -n "$ok" ] || { echo "smoke: /readyz never answered 200" >&2; podman logs "$cid" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$admin/healthz" >/dev/null
echo "smoke: /healthz and /readyz answer 200"
curl -fsS "http://127.0.0.1:$metrics/metrics" | grep '^matchd_build_info'
user=$(podman top "$cid" user | tail -n 1)
[ "$user" != root ] || { echo "smoke: runs as root" >&2; exit 1; }
echo "smoke: runs as user $user"
podman stop -t 30 "$cid" >/dev/null
code=$(podman inspect "$cid" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || { echo "smoke: exit status $code after SIGTERM, want 0" >&2; podman logs "$cid" >&2; exit 1; }
echo "smoke: drained and exited 0 on SIGTERM"
