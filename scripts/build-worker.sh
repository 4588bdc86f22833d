#!/usr/bin/env bash
# The release build: worker-build, then the glue's post-build step. It is
# wrangler's [build] command too; make dev and the tests build first and set
# CALLKIT_SKIP_BUILD=1 so wrangler does not build the same thing again.
set -euo pipefail
[ "${CALLKIT_SKIP_BUILD:-}" = 1 ] && exit 0
cd "$(dirname "$0")/.."
source scripts/env.sh
worker-build --release
node scripts/microtask-fallback.mjs build/index.js
