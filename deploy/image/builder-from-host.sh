#!/usr/bin/env bash
# Builds an image for the Dockerfile's build stage (GO_IMAGE) on a build
# host that cannot pull from a container registry but can reach a Debian
# mirror: a minimal Debian (debootstrap) with this host's Go toolchain.
#
#   deploy/image/builder-from-host.sh [TAG]   # default localhost/matchd-go-builder:1.26
#   make image GO_IMAGE=localhost/matchd-go-builder:1.26
#
# Needs root, podman and debootstrap (apt-get install podman debootstrap).
# The build stage's Go trusts this host's CA bundle (SSL_CERT_FILE), so
# module downloads work behind a TLS-inspecting proxy; the image itself
# still gets Debian's stock CA bundle.
set -euo pipefail

tag=${1:-localhost/matchd-go-builder:1.26}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
for tool in podman debootstrap go; do
  command -v "$tool" >/dev/null 2>&1 || { echo "builder-from-host: $tool is required" >&2; exit 1; }
done
goroot=$(go env GOROOT)
gover=$(go env GOVERSION)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "builder-from-host: debootstrap $suite (minbase) from $mirror" >&2
debootstrap --variant=minbase --include=ca-certificates "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
echo "builder-from-host: adding $gover from $goroot" >&2
mkdir -p "$work/rootfs/usr/local"
cp -a "$goroot" "$work/rootfs/usr/local/go"
cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/host-ca-certificates.crt"
tar -C "$work/rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV GOPATH=/go' --change 'ENV GOTOOLCHAIN=local' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/host-ca-certificates.crt' \
  --change 'WORKDIR /go' - "$tag" >/dev/null
echo "builder-from-host: $tag ($gover on Debian $suite)" >&2
