#!/usr/bin/env bash
# make bench-edge: callkit-edge vs a JS reference worker vs a pass-through
# worker in bare workerd, against a static nginx upstream, measured with wrk.
# Usage: bash bench/edge/run.sh [BUILD_DIR]   (default build/; env knobs in bench/edge/README.md)
set -euo pipefail
cd "$(dirname "$0")/../.."

build_dir=${1:-${BENCH_BUILD:-build}}
if [ ! -f "$build_dir/worker/shim.mjs" ] || [ ! -f "$build_dir/index_bg.wasm" ]; then
  echo "bench-edge: no worker build in $build_dir/ (worker/shim.mjs, index_bg.wasm): run make build first" >&2
  exit 1
fi
if [ ! -x node_modules/workerd/bin/workerd ]; then
  echo "bench-edge: node_modules/workerd is missing: run make toolchain (or npm ci) first" >&2
  exit 1
fi

# nginx-light and wrk from Debian; the bench is not part of CI but must run on a fresh machine.
if ! command -v wrk >/dev/null 2>&1 || [ ! -x /usr/sbin/nginx ]; then
  echo "bench-edge: installing nginx-light and wrk" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi

# The temp dir holds the generated configs, the worker copies and their logs.
# bench.mjs kills its process groups itself; this trap is the backstop if
# node dies without its handlers running.
BENCH_TMP=$(mktemp -d -t bench-edge.XXXXXX)
export BENCH_TMP
cleanup() {
  if [ -f "$BENCH_TMP/pgids" ]; then
    while read -r pgid; do kill -KILL -- "-$pgid" 2>/dev/null || true; done <"$BENCH_TMP/pgids"
  fi
  rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

node bench/edge/bench.mjs "$build_dir"
