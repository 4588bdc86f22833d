#!/usr/bin/env bash
# Throughput of the emulator's get_call_info (release build, rate limit off).
# Usage: bench/emulator.sh   (env: DURATION=10s CONNECTIONS=64 THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk..." >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq wrk >/dev/null
fi

# The workspace release profile optimises for size (opt-level "z", for the
# Worker bundle); a benchmark wants speed. Build with opt-level 3 in a target
# dir of its own so the shared release artifacts are left alone.
BENCH_TARGET=${BENCH_TARGET_DIR:-target/bench-emulator}
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_TARGET_DIR="$BENCH_TARGET" \
  cargo build --release -p callkit-emulator >&2
BIN=$BENCH_TARGET/release/callkit-emulator

out=$(mktemp)
"$BIN" serve --listen 127.0.0.1:0 --rate-limit 0 >"$out" 2>/dev/null &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$out"
}
trap cleanup EXIT

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^callkit-emulator listening on //p' "$out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "emulator did not start" >&2; exit 1; }

call_id=$(curl -fsS -X POST "$url/_emulator/calls" \
  -d '{"caller":"alice","callees":["bob"],"mediaType":"Audio"}' |
  sed -E 's/.*"callId":"([^"]+)".*/\1/')
sig=$("$BIN" mint --identifier administrator)
export CALL_ID="$call_id"
export V4_PATH="/v4/call_engine_http_srv/get_call_info?sdkappid=1400000000&identifier=administrator&usersig=${sig}&random=12345&contenttype=json"

# One request by hand first: fail fast if the setup is wrong.
curl -fsS -X POST "$url$V4_PATH" -d "{\"CallId\":\"$call_id\"}" | grep -q '"ErrorCode":0,' ||
  { echo "get_call_info did not succeed" >&2; exit 1; }

report=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s bench/get_call_info.lua "$url")
echo "$report"
bad=$(echo "$report" | sed -n 's/^other answers: //p')
if [ "${bad:-1}" != "0" ]; then
  echo "FAIL: $bad answers were not HTTP 200 with ErrorCode 0" >&2
  exit 1
fi
