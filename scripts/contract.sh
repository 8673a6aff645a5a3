#!/usr/bin/env bash
# The API contract test: schemathesis generates requests from the server's own OpenAPI document
# (/api/v1/openapi.json) and checks every answer: no 5xx, every status, content type and body
# as documented. It runs against a server of its own (another port, a temporary SQLite data
# dir) with a tenant and an API key made through the CLI. Needs the debug binary (scripts/build.sh)
# and the venv scripts/setup.sh test installs. Bounded to a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="$(realpath "${CARGO_TARGET_DIR:-target}")"
HERALD_BIN="${HERALD_BIN:-$TARGET/debug/herald}"
SCHEMATHESIS="${SCHEMATHESIS:-$HOME/.cache/herald/venv/bin/schemathesis}"
[ -x "$HERALD_BIN" ] || { echo "no herald binary at $HERALD_BIN" >&2; exit 1; }
[ -x "$SCHEMATHESIS" ] || { echo "no schemathesis at $SCHEMATHESIS (run: source scripts/setup.sh test)" >&2; exit 1; }
PORT="${CONTRACT_PORT:-3200}"
export HERALD_PUBLIC_URL="http://127.0.0.1:$PORT"
source scripts/temp-server.sh
TENANT="$(HERALD_PASSWORD='contract-test-password' "$HERALD_BIN" tenant create --name 'Contract Spa' --plan enterprise \
  --admin-email contract@spa.example --allow-private-urls)"
KEY="$("$HERALD_BIN" api-key create --tenant "$TENANT" --name contract)"
# Something to find: an endpoint (delivering to a closed local port) and an event for it.
curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/endpoints" -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"name": "Contract sink", "url": "http://127.0.0.1:9/hook", "event_types": ["*"]}'
curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/events" -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"event_type": "appointment.booking.created", "event_id": "contract-1", "data": {"id": "apt_1"}}'

# Positive and negative data from the examples and the schemas, a bounded number per operation,
# from a fixed seed (a failure reproduces); the stateful phase follows the document's links
# (create an endpoint → test it → read, replay the delivery; recover → read, cancel the job),
# so answers about real objects are checked too. The checks: no server error, and each answer's
# status, content type and body are the documented ones.
timeout 900 "$SCHEMATHESIS" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --url "http://127.0.0.1:$PORT" \
  --header "Authorization: Bearer $KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${CONTRACT_EXAMPLES:-100}" \
  --seed "${CONTRACT_SEED:-20261203}" \
  --workers 2 \
  --request-timeout 10 \
  --suppress-health-check all \
  --warnings off \
  || { echo "--- server log"; tail -40 "$DATA_DIR/server.log"; exit 1; }
