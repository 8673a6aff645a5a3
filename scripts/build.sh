#!/usr/bin/env bash
# Builds Herald: the wasm front end (std from source, see ../shared/TOOLCHAIN.md), its JS glue,
# the stylesheet, and the server binary. Debug by default; `scripts/build.sh release` for release.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
SITE="${LEPTOS_SITE_ROOT:-target/site}"
PKG="$SITE/pkg"
if [ "${1:-}" = release ]; then
  WASM_PROFILE=(--profile wasm-release); WASM_DIR=wasm-release; SERVER_PROFILE=(--release)
else
  WASM_PROFILE=(); WASM_DIR=debug; SERVER_PROFILE=()
fi
mkdir -p "$PKG"
cargo build -p frontend --lib --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort \
  --target-dir "$TARGET_DIR/front" "${WASM_PROFILE[@]}"
wasm-bindgen --target web --out-dir "$PKG" --out-name herald \
  "$TARGET_DIR/front/wasm32-unknown-unknown/$WASM_DIR/frontend.wasm"
if [ "${1:-}" = release ] && command -v wasm-opt >/dev/null && wasm-opt --version | grep -q "version 1[2-9][0-9]"; then
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$PKG/herald_bg.wasm" -o "$PKG/herald_bg.wasm"
fi
cp style/main.css "$PKG/herald.css"
cp -r public/. "$SITE/"
cargo build -p server --bin herald "${SERVER_PROFILE[@]}"
