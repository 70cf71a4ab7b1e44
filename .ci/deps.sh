#!/usr/bin/env bash
# Installs what the tests need when it is missing: redis-server and
# redis-cli (every Redis tier), promtool and prometheus (alert rule checks,
# the Prometheus e2e test), chromium (the /debug/ui and /debug/play e2e
# tests) and nodejs with npm (the JavaScript client's tests). Debian
# packages, --no-install-recommends, only as root; otherwise it says what is
# missing and the tests that need it fail.
set -euo pipefail

want=()
command -v redis-server >/dev/null 2>&1 || want+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || want+=(redis-tools)
command -v promtool >/dev/null 2>&1 || want+=(prometheus)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing ${want[*]}; install them with apt-get (as root)" >&2
  exit 0
fi
echo "deps: installing ${want[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
