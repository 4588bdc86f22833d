#!/usr/bin/env bash
# `make dev`: the emulator with demo data, and wrangler dev (workerd) wired to
# it through .dev.vars. Prints the console URL and demo sign-in tokens.
# Ctrl-C stops everything started here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

EMULATOR_LISTEN=${CALLKIT_EMULATOR_LISTEN:-127.0.0.1:8790}
DEV_PORT=${DEV_PORT:-8787}
emulator=target/debug/callkit-emulator

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "stopped the emulator and wrangler dev"
}
trap cleanup INT TERM EXIT

if [ ! -f .dev.vars ]; then
  sed "s|^TENCENT_API_BASE=.*|TENCENT_API_BASE=http://$EMULATOR_LISTEN|" .dev.vars.example > .dev.vars
  echo "wrote .dev.vars for the emulator's demo app (see .dev.vars.example)"
fi
# The demo tokens are UserSigs, so they are minted with the key the worker
# verifies with.
key=$(sed -n 's/^TENCENT_SECRET_KEY=//p' .dev.vars | tail -n 1)
sdkappid=$(sed -n 's/^TENCENT_SDKAPPID = "\(.*\)"/\1/p' wrangler.toml)

setsid "$emulator" serve --listen "$EMULATOR_LISTEN" --seed-demo --app "$sdkappid:$key:administrator" &
pids+=($!)
for _ in $(seq 1 50); do
  curl -fsS "http://$EMULATOR_LISTEN/_emulator/health" >/dev/null 2>&1 && break
  sleep 0.2
done

mint() { "$emulator" mint --identifier "$1" --sdkappid "$sdkappid" --key "$key" --expire 86400; }
admin_token=$(mint ops-admin)
alice_token=$(mint alice)
bob_token=$(mint bob)
# The console offers these on its sign-in screen. They go into a dev-only
# copy of www/, so a later `wrangler deploy` can never publish them.
assets=.wrangler/dev-assets
rm -rf "$assets" && mkdir -p "$assets" && cp -r www/. "$assets/" && rm -f "$assets/.assetsignore"
cat > "$assets/dev-tokens.json" <<JSON
{ "tokens": [
  { "label": "Demo admin (ops-admin)", "token": "$admin_token" },
  { "label": "Demo user alice", "token": "$alice_token" },
  { "label": "Demo user bob", "token": "$bob_token" }
] }
JSON

CALLKIT_SKIP_BUILD=1 setsid wrangler dev --ip 127.0.0.1 --port "$DEV_PORT" --assets "$assets" &
pids+=($!)
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$DEV_PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.2
done

cat <<INFO

  callkit-edge is running.
    console     http://127.0.0.1:$DEV_PORT/
    edge API    http://127.0.0.1:$DEV_PORT/api/v1/health
    emulator    http://$EMULATOR_LISTEN/_emulator/health  (control API, see crates/callkit-emulator/README.md)

  Sign-in tokens (Authorization: Bearer <token>), valid 24 h:
    admin  ops-admin      $admin_token
    user   alice          $alice_token
    user   bob            $bob_token

  Try:  curl -H "Authorization: Bearer $admin_token" http://127.0.0.1:$DEV_PORT/api/v1/records
  Ctrl-C stops everything.

INFO
wait
