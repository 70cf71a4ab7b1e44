# matchd: the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin
PKGS      := ./... ./.ci/benchsum/
TESTFLAGS ?= -race -count=1 -timeout 25m
FUZZTIME  ?= 20s
# What `matchd --version` and matchd_build_info report; override for release builds.
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VERSION_PKG := github.com/matchd/matchd/cmd/internal/version
LDFLAGS   := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT)
# The container image: name, and the build stage's base (any image with Go 1.26 and a shell).
IMAGE     ?= matchd
GO_IMAGE  ?= docker.io/library/golang:1.26-bookworm
IMAGE_BUILD_FLAGS ?=
IMAGE_RUN_FLAGS   ?=

.PHONY: run demo build image image-smoke image-builder-local deps test test-unit test-js test-lua test-e2e test-deploy test-helm bench fuzz lint fmt vet clean

## run: one node on the embedded Redis (nothing to install but Go)
run: build
	$(BIN)/matchd $(ARGS)

## demo: one node on the embedded Redis, with the demo page (sdk/js/demo) at /debug/play
demo: build
	@echo "matchd demo: open http://127.0.0.1:9090/debug/play in two browser tabs, one player each"
	MATCHD_SERVER__ORIGIN_PATTERNS=127.0.0.1:9090,localhost:9090 exec $(BIN)/matchd $(ARGS)

## build: the matchd, matchctl and matchload binaries into bin/, stamped with VERSION and COMMIT
build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

## image: the container image $(IMAGE):$(VERSION) from the Dockerfile, with podman (else buildah)
image:
	@if command -v podman >/dev/null 2>&1; then tool="podman build"; \
	elif command -v buildah >/dev/null 2>&1; then tool="buildah bud"; \
	else echo "image: podman or buildah is required (apt-get install podman)" >&2; exit 1; fi; \
	echo "$$tool ... -t $(IMAGE):$(VERSION)"; \
	$$tool $(IMAGE_BUILD_FLAGS) --build-arg GO_IMAGE=$(GO_IMAGE) --build-arg VERSION=$(VERSION) \
		--build-arg COMMIT=$(COMMIT) -t $(IMAGE):$(VERSION) -f Dockerfile .

## image-smoke: start $(IMAGE):$(VERSION), check /healthz, /readyz, the user and a clean SIGTERM exit
image-smoke:
	deploy/image/smoke.sh $(IMAGE):$(VERSION) $(IMAGE_RUN_FLAGS)

## image-builder-local: a GO_IMAGE made on this host (debootstrap + the local Go), for hosts without registry access
image-builder-local:
	deploy/image/builder-from-host.sh localhost/matchd-go-builder:1.26

## deps: install what the tests need when missing (redis, promtool, chromium, node)
deps:
	.ci/deps.sh

## test: everything — lint, alert rules, the Helm chart, the JavaScript client, then every Go test tier on a throwaway real redis-server
test: deps lint test-deploy test-helm test-js
	.ci/with-redis.sh $(GO) test $(TESTFLAGS) $(PKGS)

## test-js: the JavaScript client's unit tests (Node's test runner)
test-js:
	cd sdk/js && npm test

## test-deploy: the Prometheus alert rules and scrape config
test-deploy:
	promtool check rules deploy/prometheus/alerts.yml
	promtool test rules deploy/prometheus/alerts_test.yml
	promtool check config deploy/prometheus/prometheus.yml
	promtool check config deploy/compose/prometheus.yml

## test-helm: render the Helm chart with each values file and decode every manifest (module deploy/helmtest)
test-helm:
	cd deploy/helmtest && $(GO) vet ./... && $(GO) test -count=1 ./...

## test-unit: pure Go tests (matching, state tables, codec, config)
test-unit:
	$(GO) test -race ./actors/match/ ./config/ ./gateway/protocol/

## test-lua: every Lua script against real Redis and the embedded one
test-lua:
	.ci/with-redis.sh $(GO) test -race ./lua/ ./redisx/...

## test-e2e: black-box tests of the built matchd binary on real redis-server
test-e2e:
	.ci/with-redis.sh $(GO) test -race -timeout 20m ./e2e/

## bench: every headline figure BENCH_RUNS (3) times back to back (Go benchmarks, matchload scenarios on real Redis); prints medians and ranges as Markdown
bench: build
	.ci/bench.sh

## fuzz: run each fuzzer for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./gateway/protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFastEquivalence$$' -fuzztime $(FUZZTIME) ./gateway/protocol/
	$(GO) test -run '^$$' -fuzz '^FuzzEncodeEquivalence$$' -fuzztime $(FUZZTIME) ./gateway/protocol/
	$(GO) test -run '^$$' -fuzz FuzzAuthHMAC -fuzztime $(FUZZTIME) ./gateway/
	$(GO) test -run '^$$' -fuzz FuzzLoadYAML -fuzztime $(FUZZTIME) ./config/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME) ./gateway/client/

## lint: gofmt, go vet and staticcheck
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

vet:
	$(GO) vet $(PKGS)

## fmt: format the code
fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
