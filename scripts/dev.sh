#!/usr/bin/env bash
# `make dev`: the emulator with demo data and simulated calls, and wrangler
# dev (workerd) wired to it: the edge calls the emulator, the emulator sends
# its signed call webhooks to the edge, so the live board moves on its own.
# Prints the console URL and demo sign-in tokens. Ctrl-C (or SIGTERM, e.g.
# `timeout 60 make dev`) stops everything started here.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

EMULATOR_LISTEN=${CALLKIT_EMULATOR_LISTEN:-127.0.0.1:8790}
DEV_PORT=${DEV_PORT:-8787}
# Simulated calls started per minute; 0 turns the traffic off.
DEV_SIMULATE_CALLS=${DEV_SIMULATE_CALLS:-6}
# The sample backend the relay delivers every accepted webhook to.
RELAY_BACKEND_PORT=${RELAY_BACKEND_PORT:-8791}
emulator=target/debug/callkit-emulator
# The run's state (config, local D1 and board, logs), the console's dev-only
# copy and the settings file; tests point them at a fresh directory.
dev_dir=$(realpath -m "${DEV_STATE_DIR:-.wrangler/dev}")
assets=$(realpath -m "${DEV_ASSETS_DIR:-.wrangler/dev-assets}")
dev_vars=$(realpath -m "${DEV_VARS_FILE:-.dev.vars}")

pids=()
stopping=
# Each child runs in its own session (setsid), so a terminal's Ctrl-C or a
# group-wide SIGTERM reaches only this script, which stops each whole group.
stop_groups() {
  for pid in "${pids[@]}"; do kill -"$1" -- "-$pid" 2>/dev/null || true; done
}
# Zombies count: workerd processes orphaned by wrangler's exit linger until
# init reaps them, and `make dev` should end only once nothing is left.
groups_alive() {
  local pid
  for pid in "${pids[@]}"; do
    ps -eo pgid= | awk -v g="$pid" '$1 == g { found = 1 } END { exit !found }' && return 0
  done
  return 1
}
# Waits up to $1 × 0.1 s for every group to be gone.
wait_groups() {
  local n=0
  while groups_alive && [ "$n" -lt "$1" ]; do
    sleep 0.1
    n=$((n + 1))
  done
}
cleanup() {
  [ -n "$stopping" ] && return
  stopping=1
  # Ignore further signals rather than restore the default: under
  # `timeout make dev`, make forwards a second SIGTERM moments after the
  # first, and it used to kill this script half-way, leaving wrangler up.
  trap '' INT TERM HUP
  # The leaders first: wrangler then stops and reaps its own workerd.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait_groups 30
  stop_groups TERM
  wait_groups 20
  stop_groups KILL
  wait 2>/dev/null || true
  echo "stopped the emulator and wrangler dev"
}
# Then dies of the same signal, so make reports it as such.
on_signal() {
  cleanup
  trap - "$1"
  kill -"$1" $$
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap cleanup EXIT

# Waits up to $2 × 0.2 s for URL $1 to answer 2xx.
wait_up() {
  for _ in $(seq 1 "$2"); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# The emulator signs webhooks with TENCENT_CALLBACK_TOKEN and the edge checks
# them with it. A .dev.vars from before the live board lacks it, and the one
# written from .dev.vars.example has it empty: fill in a random one, once.
ensure_callback_token() {
  grep -q '^TENCENT_CALLBACK_TOKEN=.' "$dev_vars" && return 0
  local token line new
  token=$(random_hex)
  new=$(
    while IFS= read -r line || [ -n "$line" ]; do
      [ "$line" = "TENCENT_CALLBACK_TOKEN=" ] || printf '%s\n' "$line"
    done < "$dev_vars"
    grep -q '^TENCENT_CALLBACK_TOKEN=$' "$dev_vars" ||
      printf '%s\n' "# Signs the emulator's webhooks to the edge (make dev wrote it, random)."
    # printf is a builtin: the token never appears in a process's argv.
    printf 'TENCENT_CALLBACK_TOKEN=%s' "$token"
  )
  # Rewritten in place, so the file keeps its owner and mode.
  printf '%s\n' "$new" > "$dev_vars"
  echo "added a random TENCENT_CALLBACK_TOKEN to .dev.vars (the emulator signs webhooks with it)"
}

# A value from .dev.vars, without the quotes dotenv allows.
dev_var() {
  local value
  value=$(sed -n "s/^$1=//p" "$dev_vars" | tail -n 1)
  value=${value%\"}
  printf '%s' "${value#\"}"
}

# wrangler.toml without its [build] table, main made absolute: wrangler dev
# re-runs a [build] command when its watcher is ready ("The file src
# changed, restarting build...") and restarts the worker; make dev has built
# already. The same trick as isolatedConfig in tests/integration/harness.mjs.
dev_config() {
  mkdir -p "$dev_dir"
  awk -v root="$PWD" '
    /^[[:space:]]*\[\[?[[:space:]]*[A-Za-z0-9_.-]+[[:space:]]*\]\]?[[:space:]]*(#.*)?$/ { t = $0; sub(/#.*/, "", t); gsub(/[][[:space:]]/, "", t); table = t }
    table == "build" { next }
    (table == "" && /^[[:space:]]*main[[:space:]]*=/) ||
    (table == "assets" && /^[[:space:]]*directory[[:space:]]*=/) ||
    (table == "d1_databases" && /^[[:space:]]*migrations_dir[[:space:]]*=/) {
      match($0, /"[^"]*"/)
      path = substr($0, RSTART + 1, RLENGTH - 2)
      if (path !~ /^\//) path = root "/" path
      print substr($0, 1, RSTART - 1) "\"" path "\"" substr($0, RSTART + RLENGTH)
      if (table == "") saw_main = 1
      next
    }
    { print }
    END { if (!saw_main) { print "dev.sh: wrangler.toml has no top-level main" > "/dev/stderr"; exit 1 } }
  ' wrangler.toml > "$dev_dir/wrangler.toml"
  # Read after .dev.vars, so the edge always calls the emulator started here.
  printf 'TENCENT_API_BASE=http://%s\n' "$EMULATOR_LISTEN" > "$dev_dir/emulator.env"
}

start_emulator() {
  # Secrets go in the environment, not argv, where ps would show them.
  # TRTC's room and media events go to the edge, signed with $trtc_key.
  CALLKIT_EMULATOR_TRTC_URL="http://127.0.0.1:$DEV_PORT/api/v1/webhooks/trtc" \
    CALLKIT_EMULATOR_TRTC_KEY="$trtc_key" \
    CALLKIT_EMULATOR_APPS="$sdkappid:$key:administrator" \
    CALLKIT_EMULATOR_WEBHOOK_TOKEN="$(dev_var TENCENT_CALLBACK_TOKEN)" \
    setsid "$emulator" serve --listen "$EMULATOR_LISTEN" --seed-demo \
    --simulate-calls "$DEV_SIMULATE_CALLS" &
  pids+=($!)
  wait_up "http://$EMULATOR_LISTEN/_emulator/health" 50 || {
    echo "dev.sh: the emulator did not come up on $EMULATOR_LISTEN" >&2
    exit 1
  }
}

# The relay (docs/relay.md): a sample backend that verifies and prints each
# delivery, and the settings that point the edge at it, with a fresh secret.
start_relay_backend() {
  local secret
  secret="whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
  printf 'WEBHOOK_FORWARD_URLS=http://127.0.0.1:%s/hook\nWEBHOOK_FORWARD_SECRET=%s\nTRTC_CALLBACK_KEY=%s\n' \
    "$RELAY_BACKEND_PORT" "$secret" "$trtc_key" > "$dev_dir/relay.env"
  WEBHOOK_FORWARD_SECRET="$secret" PORT="$RELAY_BACKEND_PORT" \
    setsid node scripts/relay-backend.mjs &
  pids+=($!)
}

start_wrangler() {
  # The emulator starts empty every time, so the board must too: a call
  # left live by the last run would stay on it until the reconcile alarm.
  rm -rf "$dev_dir/state"
  # The call ledger's tables, in the local D1 under the same state dir.
  CI=true wrangler d1 migrations apply CALL_LEDGER --local --config "$dev_dir/wrangler.toml" \
    --persist-to "$dev_dir/state" > "$dev_dir/migrations.log" 2>&1 || {
    cat "$dev_dir/migrations.log" >&2
    echo "dev.sh: could not apply the call ledger's migrations" >&2
    exit 1
  }
  # With an --env-file, wrangler reads no .dev.vars of its own: pass it.
  setsid wrangler dev --config "$dev_dir/wrangler.toml" --ip 127.0.0.1 --port "$DEV_PORT" \
    --assets "$assets" --persist-to "$dev_dir/state" \
    --env-file "$dev_vars" --env-file "$dev_dir/emulator.env" \
    --env-file "$dev_dir/relay.env" &
  pids+=($!)
  wait_up "http://127.0.0.1:$DEV_PORT/api/v1/health" 300 || {
    echo "dev.sh: wrangler dev did not come up on port $DEV_PORT" >&2
    exit 1
  }
}

mint() { CALLKIT_EMULATOR_KEY="$key" "$emulator" mint --identifier "$1" --sdkappid "$sdkappid" --expire 86400; }

# The console offers these on its sign-in screen. They go into a dev-only
# copy of www/, so a later `wrangler deploy` can never publish them.
write_assets() {
  rm -rf "$assets" && mkdir -p "$assets" && cp -r www/. "$assets/" && rm -f "$assets/.assetsignore"
  cat > "$assets/dev-tokens.json" <<JSON
{ "tokens": [
  { "label": "Demo admin (ops-admin)", "token": "$admin_token" },
  { "label": "Demo user alice", "token": "$alice_token" },
  { "label": "Demo user bob", "token": "$bob_token" }
] }
JSON
}

# Points the emulator's webhooks at the edge, through the edge's own API as
# the demo admin. Sets $callback_note.
configure_callback() {
  local url="http://127.0.0.1:$DEV_PORT/api/v1/webhooks/tencent" status
  local body="{\"url\":\"$url\",\"commands\":[\"Call.CallbackAfterStartCall\",\"Call.CallbackAfterMemberChanged\",\"Call.CallbackAfterEndCall\"]}"
  # The header comes on stdin (-H @-): a token in curl's argv would show in ps.
  status=$(printf 'Authorization: Bearer %s\n' "$admin_token" |
    curl -sS -o "$dev_dir/callback.json" -w '%{http_code}' -X PUT -H @- \
      -H 'content-type: application/json' --data "$body" \
      "http://127.0.0.1:$DEV_PORT/api/v1/callback") || status=000
  if [ "$status" = 200 ]; then
    callback_note="$url (signed; all three Call.Callback* commands)"
  else
    callback_note="NOT configured: PUT /api/v1/callback answered $status (see $dev_dir/callback.json)"
  fi
}

# Imports the emulator's 7 days of records into the call ledger, as the
# demo admin, so the History panel has data at once. Sets $backfill_note.
start_backfill() {
  local status
  status=$(printf 'Authorization: Bearer %s\n' "$admin_token" |
    curl -sS -o "$dev_dir/backfill.json" -w '%{http_code}' -X POST -H @- \
      "http://127.0.0.1:$DEV_PORT/api/v1/history/backfill") || status=000
  if [ "$status" = 202 ]; then
    backfill_note="importing the last 7 days (GET /api/v1/history/backfill)"
  else
    backfill_note="NOT started: POST /api/v1/history/backfill answered $status (see $dev_dir/backfill.json)"
  fi
}

if [ ! -f "$dev_vars" ]; then
  sed "s|^TENCENT_API_BASE=.*|TENCENT_API_BASE=http://$EMULATOR_LISTEN|" .dev.vars.example > "$dev_vars"
  echo "wrote .dev.vars for the emulator's demo app (see .dev.vars.example)"
fi
ensure_callback_token
# The demo tokens are UserSigs, so they are minted with the key the worker
# verifies with.
key=$(dev_var TENCENT_SECRET_KEY)
# TRTC's callback key for this run: up to 32 letters and digits.
trtc_key=$(random_hex | cut -c1-32)
sdkappid=$(sed -n 's/^TENCENT_SDKAPPID = "\(.*\)"/\1/p' wrangler.toml)

start_emulator
admin_token=$(mint ops-admin)
alice_token=$(mint alice)
bob_token=$(mint bob)
write_assets
dev_config
start_relay_backend
start_wrangler
configure_callback
start_backfill
traffic_note="about $DEV_SIMULATE_CALLS simulated calls a minute among alice, bob, carol, dave, erin"
[ "$DEV_SIMULATE_CALLS" = 0 ] && traffic_note="off (DEV_SIMULATE_CALLS=0)"

cat <<INFO

  callkit-edge is running.
    console     http://127.0.0.1:$DEV_PORT/
    edge API    http://127.0.0.1:$DEV_PORT/api/v1/health
    emulator    http://$EMULATOR_LISTEN/_emulator/health  (control API, see crates/callkit-emulator/README.md)
    webhooks    $callback_note
    TRTC events the emulator's room and media events, signed, to /api/v1/webhooks/trtc
    traffic     $traffic_note
    history     $backfill_note
    relay       every accepted webhook goes on to the sample backend on port $RELAY_BACKEND_PORT,
                which prints each delivery it verified as "<webhook-id> <source> <event>"

  Sign-in tokens (Authorization: Bearer <token>), valid 24 h:
    admin  ops-admin      $admin_token
    user   alice          $alice_token
    user   bob            $bob_token

  Try:  curl -H "Authorization: Bearer $admin_token" http://127.0.0.1:$DEV_PORT/api/v1/live/calls
  Ctrl-C stops everything.

INFO
# Until one of them exits (or a signal arrives): then stop the other too.
wait -n || true
echo "dev.sh: the emulator or wrangler dev exited; stopping the other" >&2
exit 1
