# Sourced by run.sh and test.sh: installs whatever building (and, with `test`, testing) Herald
# needs and is missing. Quick when everything is there. See ../shared/TOOLCHAIN.md for why:
# the wasm std is built from source with Debian's rustc-web, since no prebuilt one exists here.
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1   # -Zbuild-std for the wasm build
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
WANT_TESTS="${1:-}"

packages=()
/usr/bin/rustc --version 2>/dev/null | grep -q '^rustc 1\.9[6-9]' || packages+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || packages+=(rust-web-src)
[ -x /usr/bin/rust-lld ] || packages+=(rust-web-llvm lld-22)
if [ "$WANT_TESTS" = test ]; then
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  command -v pg_isready >/dev/null || packages+=(postgresql-client)
  [ -x /usr/bin/cargo-clippy ] || packages+=(rust-web-clippy)
  [ -x /usr/bin/rustfmt ] || packages+=(rustfmt-web)
  python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "==> installing ${packages[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}"
fi
if ! command -v rustup >/dev/null; then
  echo "rustup is required (it selects Debian's rustc-web through rust-toolchain.toml)" >&2
  exit 1
fi
rustup toolchain list | grep -q '^debian-web' || rustup toolchain link debian-web /usr
if ! wasm-bindgen --version 2>/dev/null | grep -q ' 0\.2\.130'; then
  echo "==> installing wasm-bindgen-cli 0.2.130 (once; takes a few minutes)"
  cargo +debian-web install wasm-bindgen-cli --version 0.2.130 -j2
fi
# The API contract test (scripts/contract.sh): schemathesis, from PyPI, in a venv of its own.
SCHEMATHESIS_VERSION=4.32.5
if [ "$WANT_TESTS" = test ] && ! "$HOME/.cache/herald/venv/bin/schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION (into ~/.cache/herald/venv)"
  python3 -m venv "$HOME/.cache/herald/venv"
  "$HOME/.cache/herald/venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
E2E="$(dirname "${BASH_SOURCE[0]}")/../e2e"
# (Re)install the browser-test packages when package-lock.json changed since the last install.
if [ "$WANT_TESTS" = test ] && ! cmp -s "$E2E/package-lock.json" "$E2E/node_modules/.herald-installed-lock"; then
  echo "==> installing Playwright and axe-core (uses Debian's Chromium, downloads no browser)"
  (cd "$E2E" && npm install --no-audit --no-fund && cp package-lock.json node_modules/.herald-installed-lock)
fi
