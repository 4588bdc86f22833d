#!/usr/bin/env bash
# The release build: worker-build, then the post-build steps on its glue
# (the executor's microtask source, the project's own shim). It is
# wrangler's [build] command too; make dev and the tests build first and set
# CALLKIT_SKIP_BUILD=1 so wrangler does not build the same thing again.
set -euo pipefail
[ "${CALLKIT_SKIP_BUILD:-}" = 1 ] && exit 0
cd "$(dirname "$0")/.."
source scripts/env.sh
worker-build --release
node scripts/microtask-fallback.mjs build/index.js
node scripts/lean-shim.mjs build/index.js
