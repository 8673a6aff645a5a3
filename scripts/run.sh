#!/usr/bin/env bash
# Builds Herald if needed and serves the dashboard at http://127.0.0.1:3000 on SQLite (./data).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
scripts/build.sh
exec "${CARGO_TARGET_DIR:-target}/debug/herald" serve "$@"
