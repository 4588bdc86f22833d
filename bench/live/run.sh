#!/usr/bin/env bash
# make bench-live: the live board of the built worker in bare workerd: webhooks
# applied per second, and fan-out latency to 100 live sockets.
# Usage: bash bench/live/run.sh [BUILD_DIR]   (default build/; env knobs in bench/live/README.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/session.sh

build_dir=${1:-${BENCH_BUILD:-build}}
bench_require bench-live "$build_dir" ws

# With BENCH_STORAGE=tmpfs the Durable Object storage lives under /dev/shm;
# bench.mjs lists those dirs in BENCH_TMP/shm-dirs.
bench_cleanup_extra() {
  if [ -f "$BENCH_TMP/shm-dirs" ]; then
    while read -r dir; do case "$dir" in /dev/shm/bench-live-*) rm -rf "$dir" ;; esac; done <"$BENCH_TMP/shm-dirs"
  fi
}
bench_session bench-live
node bench/live/bench.mjs "$build_dir"
