#!/usr/bin/env bash
# make bench-history: the call ledger (D1) of the built worker under Miniflare:
# ingest through signed webhooks, then 1,000,000 seeded calls read back.
# Usage: bash bench/history/run.sh [BUILD_DIR]   (default build/; env knobs in bench/history/README.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/session.sh

build_dir=${1:-${BENCH_BUILD:-build}}
bench_require bench-history "$build_dir" miniflare
bench_session bench-history
node bench/history/bench.mjs "$build_dir"
