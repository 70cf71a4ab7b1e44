# matchd container image: a static binary on an empty base, run as a
# non-root user, with no shell or package manager to attack.
#
#   make image                     # podman or buildah, tagged matchd:$(VERSION)
#   podman build -t matchd --build-arg VERSION=v1.0.0 --build-arg COMMIT=$(git rev-parse HEAD) .
#
# GO_IMAGE is the build stage's base: any image with Go 1.26 and a shell.
# On a build host without registry access, make a local one first
# (make image-builder-local) and pass it: make image GO_IMAGE=localhost/matchd-go-builder:1.26

ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=unknown
ARG COMMIT=unknown
# CGO off: a static binary that needs no libc in the final image.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/matchd/matchd/cmd/internal/version.version=${VERSION} -X github.com/matchd/matchd/cmd/internal/version.commit=${COMMIT}" \
      -o /out/ ./cmd/matchd ./cmd/matchctl \
 && mkdir -p /out/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && printf 'matchd:x:65532:65532:matchd:/nonexistent:/sbin/nologin\n' > /out/etc/passwd \
 && printf 'matchd:x:65532:\n' > /out/etc/group

FROM scratch
ARG VERSION=unknown
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="matchd" \
      org.opencontainers.image.description="Matchmaking service for online games" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
# CA certificates for https key sets (auth.mode jwks); passwd and group so
# the numeric user has a name in ps and logs.
COPY --from=build /out/etc/ /etc/
COPY --from=build /out/matchd /out/matchctl /usr/local/bin/
USER 65532:65532
# Clients (server.addr), operators (admin.addr), Prometheus (metrics.addr).
EXPOSE 8080 9090 9100
# SIGTERM starts matchd's drain; it exits within server.drain_timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/matchd"]
