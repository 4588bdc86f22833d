#!/usr/bin/env bash
# Prints the bundle's wasm size, raw and gzip, for notes and reviews.
set -euo pipefail
wasm=build/index_bg.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "wasm: $raw bytes raw, $gz bytes gzip ($wasm)"
