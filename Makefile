# ptrsweep: the one entry point. `make demo` and `make test` are the README's two commands.
GO      ?= go
BIN     := bin
LAB     ?= 127.0.0.2:53535
SPACE   ?= 198.18.0.0/16
export GOFLAGS := -buildvcs=false

.PHONY: all build test test-short lint bench bench-go chaos rehearsal demo deps clickhouse clean images k8s-check k8s-verify scale k8s-rehearsal

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

deps:
	scripts/deps.sh
	$(GO) mod download

clickhouse:
	scripts/clickhouse.sh

# Every test, including the integration tests against embedded JetStream, the
# real ClickHouse, the in-process DNS lab, and Knot + Unbound. One package at
# a time (-p 1): the end-to-end packages run real servers and count DNS
# timeouts, which two of them running at once on 2 cores would cause.
test: deps
	$(GO) vet ./...
	$(GO) test -p 1 -count=1 -timeout 45m ./...
	cd deploy/images && $(GO) test -count=1 ./...
	cd deploy/k8s && $(GO) test -count=1 ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Knot serving 1M generated addresses (Unbound in front too): dnsperf, the
# engine alone (worker resolve) and the whole pipeline (coordinator sweep),
# every answer checked. Writes the table to bench.md; see BENCHMARKS.md.
bench: deps build
	$(BIN)/ptrbench --bin $(BIN) --unbound --out bench.md

# ClickHouse at scale: ROWS synthetic rows (INSERT … SELECT from numbers(),
# two scans, a scanner fleet) in a fresh database, then the commands users
# run, timed; with the IP-to-ASN data of Debian's libloc-database when the
# location tool is there. Writes the table to scale.md; see BENCHMARKS.md.
ROWS ?= 100000000
scale: build
	@asn=""; if command -v location >/dev/null; then location dump $(BIN)/location.txt && asn="--asn $(BIN)/location.txt"; fi; \
	$(BIN)/ptrscale --bin $(BIN) --rows $(ROWS) $$asn --out scale.md

# Go micro-benchmarks (packer, parser, matcher, batcher, output), with allocations.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Fault scenarios with real processes: worker, NATS (built from the module),
# a private ClickHouse server, the DNS lab. Writes the table to chaos.md.
chaos: deps build
	$(GO) build -o $(BIN)/nats-server github.com/nats-io/nats-server/v2
	$(BIN)/ptrchaos --bin $(BIN) --out chaos.md

# A whole deployment on one machine against the synthetic Internet: an
# external nats-server (REHEARSAL_FLAGS="--cluster 3" for three nodes),
# `ptrlab serve --internet`, four worker processes, a fresh database on the
# ClickHouse at 127.0.0.1:9000; sweeps a /8 (16.7M addresses) and checks the
# stored rows against the truth. See BENCHMARKS.md.
REHEARSAL_FLAGS ?=
rehearsal: deps build
	$(GO) build -o $(BIN)/nats-server github.com/nats-io/nats-server/v2
	$(BIN)/ptrrehearse --bin $(BIN) -v $(REHEARSAL_FLAGS)

# One machine, end to end: ClickHouse, the DNS lab on $(LAB), a sweep of the
# lab's space with in-process workers on embedded JetStream, and a suffix search.
demo: deps build
	scripts/demo.sh $(BIN) $(LAB) $(SPACE)

# OCI image tarballs of the static binaries, without a Docker daemon or a base
# image (deploy/images, go-containerregistry): bin/images/*.oci.tar.
TAG ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
images:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/static/ ./cmd/coordinator ./cmd/worker
	cd deploy/images && $(GO) run . --bin ../../$(BIN)/static --out ../../$(BIN)/images --tag $(TAG) \
		--image ptrsweep/worker=worker --image ptrsweep/coordinator=coordinator

# The Kubernetes manifests (deploy/k8s, a Go module of its own): every
# overlay rendered, decoded strictly into the API types, policy-checked.
k8s-check:
	cd deploy/k8s && $(GO) vet ./... && $(GO) test -count=1 ./...

# A server-side dry run of every overlay against a real kube-apiserver and
# etcd on 127.0.0.1 (builds kube-apiserver: minutes the first time).
k8s-verify:
	deploy/k8s/verify.sh $(BIN)

# The dev overlay rehearsed on this machine: its NATS (nats.conf), ClickHouse
# (a private 18.16 with the rendered users file), schema Job, coordinator Job
# and three worker pods (each with its Unbound and the rendered unbound.conf,
# in front of the lab's Knot; one pod SIGKILLed mid-run) as local processes
# with the manifests' own commands, args, env and files; ends with the
# lab-truth comparison. Not in `make test`. See deploy/k8s/README.md.
k8s-rehearsal: build
	$(GO) build -o $(BIN)/nats-server github.com/nats-io/nats-server/v2
	cd deploy/k8s && $(GO) run ./cmd/ptrk8srehearse --bin ../../$(BIN)

clean:
	rm -rf $(BIN)
