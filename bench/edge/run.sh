#!/usr/bin/env bash
# make bench-edge: callkit-edge vs a JS reference worker vs a pass-through
# worker in bare workerd, against a static nginx upstream, measured with wrk.
# Usage: bash bench/edge/run.sh [BUILD_DIR]   (default build/; env knobs in bench/edge/README.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/session.sh

build_dir=${1:-${BENCH_BUILD:-build}}
bench_require bench-edge "$build_dir"

# nginx-light and wrk from Debian; the bench is not part of CI but must run on a fresh machine.
if ! command -v wrk >/dev/null 2>&1 || [ ! -x /usr/sbin/nginx ]; then
  echo "bench-edge: installing nginx-light and wrk" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi

bench_session bench-edge
node bench/edge/bench.mjs "$build_dir"
