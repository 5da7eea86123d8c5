# kiln: the two commands that matter are `make demo` and `make test`.
GO ?= go
BIN := bin/kiln
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: all setup build demo test test-short bench vet clean

all: build

setup:
	bash scripts/setup

build:
	$(GO) build -o $(BIN) ./cmd/kiln

# Installs host packages, builds kiln and builds, publishes and boots examples/hello-linux.json.
demo: setup build
	bash scripts/demo

# The whole test suite, end-to-end builds included (needs root and the host packages).
test: setup
	KILN_E2E=1 $(GO) test -count=1 -timeout 60m ./...

# Unit and CLI tests only: no root, no network.
test-short:
	$(GO) test -short -count=1 ./...

bench: build
	bash bench/build.sh
	bash bench/harden.sh
	bash bench/publish.sh

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
