#!/usr/bin/env bash
# wrangler's [build] command. make dev and the tests build first and set
# CALLKIT_SKIP_BUILD=1 so wrangler does not build the same thing again.
set -euo pipefail
[ "${CALLKIT_SKIP_BUILD:-}" = 1 ] && exit 0
cd "$(dirname "$0")/.."
source scripts/env.sh
exec worker-build --release
