#!/usr/bin/env bash
# Installs what the build needs, skipping whatever is already there, then
# prints the environment worker-build needs. Sourced by the Makefile targets.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

log() { printf '[toolchain] %s\n' "$*" >&2; }

# cargo install with the lockfile first; fall back to fresh resolution when a
# locked version is missing from the registry mirror.
cargo_install() {
  cargo install --locked "$@" || cargo install "$@"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$bindgen_version" ]; then
  cargo generate-lockfile
  bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version (takes several minutes)"
  cargo_install wasm-bindgen-cli --version "=$bindgen_version"
fi

if ! worker-build --version 2>/dev/null | grep -qE '(^| )0\.8\.'; then
  log "installing worker-build 0.8.x (takes several minutes)"
  cargo_install worker-build --version '^0.8'
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.package-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi
