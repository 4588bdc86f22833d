# Sourced by bench/edge/run.sh and bench/live/run.sh: what both need before
# node starts, and the sweep after it ends.

# bench_require NAME BUILD_DIR [NODE_MODULE...]: a worker build and the
# node_modules the bench imports, or a hint and exit 1.
bench_require() {
  local name=$1 build_dir=$2 module
  shift 2
  if [ ! -f "$build_dir/worker/shim.mjs" ] || [ ! -f "$build_dir/index_bg.wasm" ]; then
    echo "$name: no worker build in $build_dir/ (worker/shim.mjs, index_bg.wasm): run make build first" >&2
    exit 1
  fi
  for module in workerd/bin/workerd "$@"; do
    if [ ! -e "node_modules/$module" ]; then
      echo "$name: node_modules/$module is missing: run make toolchain (or npm ci) first" >&2
      exit 1
    fi
  done
}

# bench_session NAME: exports BENCH_TMP, a temp dir for the configs, worker
# copies and logs. bench.mjs kills its process groups itself; the EXIT trap
# is the backstop if node dies without its handlers running. A caller may
# define bench_cleanup_extra to remove more.
bench_session() {
  BENCH_TMP=$(mktemp -d -t "$1.XXXXXX")
  export BENCH_TMP
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_cleanup() {
  if [ -f "$BENCH_TMP/pgids" ]; then
    while read -r pgid; do kill -KILL -- "-$pgid" 2>/dev/null || true; done <"$BENCH_TMP/pgids"
  fi
  if declare -F bench_cleanup_extra >/dev/null; then bench_cleanup_extra; fi
  rm -rf "$BENCH_TMP"
}
