# Orca — a Kubernetes-compatible pod orchestrator in one Swift binary.
SWIFT ?= swift
DATA_DIR ?= /var/lib/orca
PORT ?= 6443
APT_PACKAGES = runc conmon containernetworking-plugins busybox-static libsqlite3-dev iproute2 iptables util-linux curl python3-pip python3-grpcio docker-registry skopeo zstd apache2-utils openssl

.PHONY: deps build run test unit-test clean-state

## Install the system packages Orca needs (Debian; we are root).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build --product orca

## Build and start `orca server` in the foreground (data in $(DATA_DIR)).
run: build
	.build/debug/orca server --data-dir $(DATA_DIR) --https-port $(PORT)

## Install, build and run every test (unit, integration and end-to-end).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel --num-workers 1
