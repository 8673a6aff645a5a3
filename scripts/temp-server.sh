# Sourced by test.sh and contract.sh, with HERALD_BIN and PORT set: starts `herald serve` on
# 127.0.0.1:$PORT over a temporary SQLite data dir ($DATA_DIR, removed on exit) and waits until
# it answers; the server's log is shown if it dies first.
DATA_DIR="$(mktemp -d)"
export HERALD_DATA_DIR="$DATA_DIR" DATABASE_URL="sqlite://$DATA_DIR/herald.db" HERALD_BIND="127.0.0.1:$PORT"
"$HERALD_BIN" serve > "$DATA_DIR/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true; rm -rf "$DATA_DIR"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  kill -0 $SERVER_PID 2>/dev/null || { cat "$DATA_DIR/server.log"; exit 1; }
  sleep 0.2
done
