#!/usr/bin/env bash
# Installs schemathesis (PyPI) into .venv/schemathesis, skipping it when the
# pinned version is already there with the same constraints, and prints the
# path of its `schemathesis` binary (the only thing on stdout; logs go to
# stderr). Used by tests/api-fuzz/schemathesis.mjs.
#
# The version is pinned, and tests/api-fuzz/constraints.txt pins its
# dependencies (hypothesis among them), so a fixed --seed generates the
# same cases everywhere. Needs python3 with venv (Debian: python3-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
constraints=tests/api-fuzz/constraints.txt
venv=.venv/schemathesis
bin=$venv/bin/schemathesis

log() { printf '[schemathesis] %s\n' "$*" >&2; }

# Reinstall when the constraints change, as toolchain.sh does for npm ci.
stamp=$venv/.installed
want="schemathesis==$version $(sha256sum "$constraints" | cut -d' ' -f1)"
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$PWD/$bin"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  log "python3 is missing: install it (Debian: apt-get install python3 python3-venv)"
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  # Debian's python3 lacks ensurepip, hence `venv`, without python3-venv.
  if ! python3 -m venv "$venv" >&2; then
    rm -rf "$venv"
    log "python3 -m venv failed: install Debian's python3-venv (apt-get install python3-venv)"
    exit 1
  fi
fi
log "installing schemathesis==$version"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -c "$constraints" "schemathesis==$version" >&2
echo "$want" > "$stamp"
echo "$PWD/$bin"
