#!/usr/bin/env bash
# make bench-live: the live board of the built worker in bare workerd: webhooks
# applied per second, and fan-out latency to 100 live sockets.
# Usage: bash bench/live/run.sh [BUILD_DIR]   (default build/; env knobs in bench/live/README.md)
set -euo pipefail
cd "$(dirname "$0")/../.."

build_dir=${1:-${BENCH_BUILD:-build}}
if [ ! -f "$build_dir/worker/shim.mjs" ] || [ ! -f "$build_dir/index_bg.wasm" ]; then
  echo "bench-live: no worker build in $build_dir/ (worker/shim.mjs, index_bg.wasm): run make build first" >&2
  exit 1
fi
if [ ! -x node_modules/workerd/bin/workerd ] || [ ! -d node_modules/ws ]; then
  echo "bench-live: node_modules (workerd, ws) is missing: run make toolchain (or npm ci) first" >&2
  exit 1
fi

# The temp dir holds the worker copies, their Durable Object storage (or, with
# BENCH_STORAGE=tmpfs, the list of its dirs under /dev/shm) and logs.
# bench.mjs kills its process groups itself; this trap is the backstop if
# node dies without its handlers running.
BENCH_TMP=$(mktemp -d -t bench-live.XXXXXX)
export BENCH_TMP
cleanup() {
  if [ -f "$BENCH_TMP/pgids" ]; then
    while read -r pgid; do kill -KILL -- "-$pgid" 2>/dev/null || true; done <"$BENCH_TMP/pgids"
  fi
  if [ -f "$BENCH_TMP/shm-dirs" ]; then
    while read -r dir; do case "$dir" in /dev/shm/bench-live-*) rm -rf "$dir" ;; esac; done <"$BENCH_TMP/shm-dirs"
  fi
  rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

node bench/live/bench.mjs "$build_dir"
