#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for FUZZ_SECS seconds (default 60),
# seeded from the documented samples, and prints executions, coverage and
# crashes per target. `make fuzz` runs it as is; `make test` with
# FUZZ_SECS=3 as a smoke test so the targets never rot. Fails on any crash.
#
# Bootstraps its tools: the nightly toolchain (rustup) and cargo-fuzz
# (crates.io). Sanitizer "none": the code under test is safe Rust, where
# AddressSanitizer finds little and halves the speed; debug assertions stay on
# (`-a`), so an arithmetic overflow is a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

secs=${FUZZ_SECS:-60}
log() { printf '[fuzz] %s\n' "$*" >&2; }

if ! rustup toolchain list | grep -q '^nightly'; then
  log "installing the nightly toolchain (minimal profile)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz (takes a few minutes)"
  cargo install --locked cargo-fuzz || cargo install cargo-fuzz
fi

# Corpora start from the samples the protocol core is tested with: Tencent's
# documented replies and the UserSig test vectors of docs/tencent-callkit-v4.md §7.4.
seed() {
  local target=$1
  mkdir -p "fuzz/corpus/$target"
  case $target in
    envelope)
      for f in crates/callkit-core/tests/resources/*.response*.json; do
        cp "$f" "fuzz/corpus/$target/$(basename "$f")"
      done ;;
    usersig)
      grep -o 'eJ[A-Za-z0-9*_-]*' crates/callkit-core/src/usersig/fixtures.rs | sort -u |
        while read -r sig; do printf '%s' "$sig" > "fuzz/corpus/$target/$(printf '%s' "$sig" | sha1sum | cut -c1-16)"; done ;;
  esac
  if [ -d "fuzz/seeds/$target" ]; then cp fuzz/seeds/"$target"/* "fuzz/corpus/$target/"; fi
}

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^callkit-edge-fuzz$')
log "building $(echo "$targets" | wc -w) targets"
(cd fuzz && cargo +nightly fuzz build --sanitizer none -a)

failed=0
summary=()
for target in $targets; do
  seed "$target"
  out="fuzz/artifacts/$target.log"
  mkdir -p fuzz/artifacts
  status=0
  (cd fuzz && cargo +nightly fuzz run --sanitizer none -a "$target" "corpus/$target" -- \
    -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -max_len=16384) >"$out" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$out" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$out" | tail -1 | cut -d' ' -f2)
  corp=$(find "fuzz/corpus/$target" -type f | wc -l)
  crashes=$(find "fuzz/artifacts/$target" -type f 2>/dev/null | wc -l)
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    tail -30 "$out" >&2
  fi
  summary+=("$(printf '%-10s %12s execs  cov %5s  ft %6s  corpus %5s  crashes %s' \
    "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$crashes")")
done

printf '%s\n' "fuzz summary (${secs}s per target):" "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  log "a target crashed: inputs are in fuzz/artifacts/<target>/, logs in fuzz/artifacts/<target>.log"
  exit 1
fi
