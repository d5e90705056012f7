# Orca — a Kubernetes-compatible pod orchestrator in one Swift binary.
SWIFT ?= swift
DATA_DIR ?= /var/lib/orca
PORT ?= 6443
APT_PACKAGES = runc conmon containernetworking-plugins busybox-static libsqlite3-dev iproute2 iptables util-linux curl python3-pip python3-grpcio docker-registry skopeo zstd apache2-utils openssl nftables dnsmasq-base conntrack
# kopf and its dependencies from PyPI, installed with Debian's Python for the operator end-to-end test.
KOPF_DIR = /var/cache/orca-tests/kopf
KOPF_VERSION = 1.45.2

.PHONY: deps build run test unit-test clean-state fuzz

## Install the system packages Orca needs (Debian; we are root), and kopf for the operator end-to-end test.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@if [ ! -d $(KOPF_DIR) ]; then \
		echo "installing kopf $(KOPF_VERSION) into $(KOPF_DIR)"; \
		rm -rf $(KOPF_DIR).tmp && /usr/bin/python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
			--target $(KOPF_DIR).tmp kopf==$(KOPF_VERSION) && mv $(KOPF_DIR).tmp $(KOPF_DIR); \
	fi

build: deps
	$(SWIFT) build --product orca

## Build and start `orca server` in the foreground (data in $(DATA_DIR)).
run: build
	.build/debug/orca server --data-dir $(DATA_DIR) --https-port $(PORT)

## Install, build and run every test: unit and integration, then end to end in a process of its own
## (the end-to-end harness blocks threads while it waits on processes, and would starve the others).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 1 --skip OrcaE2ETests
	$(SWIFT) test --skip-build --parallel --num-workers 1 --filter OrcaE2ETests

## Fuzz every input parser with libFuzzer for FUZZ_SECONDS each (the toolchain's libFuzzer).
## A crashing input is saved under Fuzz/artifacts/; copy it to
## Tests/OrcaFuzzingTests/Regressions/<target>/ so that `make test` replays it for ever.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = json-body yaml-body protobuf-body label-selector field-selector quantity json-patch merge-patch strategic-merge-patch layer-whiteout
fuzz:
	cd Fuzz && $(SWIFT) build -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
	@mkdir -p Fuzz/artifacts
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p Fuzz/corpus/$$t; \
		SWIFT_BACKTRACE=enable=no ORCA_FUZZ_TARGET=$$t Fuzz/.build/debug/orca-fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
			-print_final_stats=1 -artifact_prefix=Fuzz/artifacts/$$t- Fuzz/corpus/$$t Tests/OrcaFuzzingTests/Regressions/$$t \
			> Fuzz/artifacts/$$t.log 2>&1; rc=$$?; \
		echo "== $$t (exit $$rc)"; grep -E "^stat::(number_of_executed_units|average_exec_per_sec)" Fuzz/artifacts/$$t.log; \
		if [ $$rc -ne 0 ]; then tail -40 Fuzz/artifacts/$$t.log; exit 1; fi; \
	done
