# Every target bootstraps what it needs (scripts/toolchain.sh is idempotent),
# so each works from a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ENV := source scripts/env.sh

.PHONY: build dev test test-deploy test-native test-wasm test-integration test-api-fuzz test-browser test-fuzz fuzz soak bench bench-edge bench-live toolchain emulator bench-relay

toolchain:
	@bash scripts/toolchain.sh

## Build the Worker bundle into build/worker (wasm + JS shim).
build: toolchain
	@CALLKIT_SKIP_BUILD= bash scripts/build-worker.sh
	@bash scripts/size.sh

# A dev build: its dependencies are already compiled by the native tests, and
# it is fast enough for the tests and `make dev` (bench/ builds its own).
emulator:
	@$(ENV); cargo build -p callkit-emulator

## Run the emulator with demo data and wrangler dev wired to it.
dev: build emulator
	@bash scripts/dev.sh

## Everything: native unit tests, a fuzz smoke, wasm tests under Node,
## integration tests of the built worker in workerd against the emulator,
## schemathesis against its OpenAPI document, browser tests.
test: toolchain test-native test-fuzz test-wasm build test-deploy emulator test-integration test-api-fuzz test-browser

## `wrangler deploy` would accept the project (config and bundle); offline.
test-deploy:
	@mkdir -p .wrangler; $(ENV); CALLKIT_SKIP_BUILD=1 WRANGLER_SEND_METRICS=false wrangler deploy --dry-run --outdir .wrangler/dry-run > .wrangler/dry-run.log 2>&1 || { cat .wrangler/dry-run.log; exit 1; }
	@echo "wrangler deploy --dry-run: ok"

test-native:
	@$(ENV); cargo test --workspace

test-wasm: toolchain
	@$(ENV); cargo test -p callkit-edge --target wasm32-unknown-unknown --test wasm

# --test-timeout (10 min, per test and per file): a hang fails instead of stalling the run.
test-integration:
	@$(ENV); node --test --test-concurrency=1 --test-timeout=600000 tests/integration/

## schemathesis (PyPI, into .venv/ by scripts/schemathesis.sh) against the
## OpenAPI document the built worker serves, in bare workerd with the emulator,
## as an admin and a member. Tests build/ as it is: needs `make build emulator`.
test-api-fuzz:
	@$(ENV); node tests/api-fuzz/schemathesis.mjs

test-browser:
	@bash scripts/chromium.sh
	@$(ENV); node --test --test-concurrency=1 --test-timeout=600000 tests/browser/

## Every fuzz target for FUZZ_SECS seconds (default 60); installs nightly
## and cargo-fuzz when missing.
FUZZ_SECS ?= 60
fuzz:
	@FUZZ_SECS=$(FUZZ_SECS) bash scripts/fuzz.sh

## The fuzz smoke of `make test`: 3 s per target, so the targets keep building.
test-fuzz:
	@FUZZ_SECS=3 bash scripts/fuzz.sh

## The built worker against the faulty emulator, many clients, SOAK_SECS
## seconds (default 60). Needs `make build emulator` first.
SOAK_SECS ?= 60
soak:
	@$(ENV); SOAK_SECS=$(SOAK_SECS) node tests/soak/soak.mjs

bench:
	@bash bench/emulator.sh

## callkit-edge vs a JS reference and a pass-through worker in bare workerd
## (wrk, cold start). Measures build/ as it is: run make build first.
bench-edge:
	@bash bench/edge/run.sh

## The live board (CallBoard Durable Object) in bare workerd: webhooks/s
## applied and fan-out latency to 100 sockets. Measures build/ as it is.
bench-live:
	@bash bench/live/run.sh

## The call ledger (D1) under Miniflare: ended calls/s through signed webhooks,
## then 1,000,000 calls seeded through SQL: page and stats latency, export
## rows/s and memory. Measures build/ as it is.
## Its export phase (BENCH_PHASES=export alone) samples the worker's heap and
## RSS along a 1,000,000-row export, the worker alone in bare workerd.
.PHONY: bench-history
bench-history:
	@bash bench/history/run.sh
## The webhook relay in bare workerd (Miniflare's queue broker; BENCH_RUNTIME=wrangler
## for wrangler dev): deliveries/s to
## local sinks, webhook-answered → delivered p50/p99, ingest with the relay
## on and off. Measures build/ as it is, with the dev emulator: run
## `make build emulator` first.
bench-relay:
	@$(ENV); node bench/relay/bench.mjs
