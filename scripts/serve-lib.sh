# Shared by scripts/api-check.sh and scripts/dashboard-check.sh (sourced, not run): a throwaway
# `encore serve` on a free loopback port over a generated dataset in a temporary SQLite database.
#   serve_database       generates 300 users × 200 songs and imports them into $tmp/encore.db
#   serve_start          starts encore serve on $port (logs in $tmp/serve.log) and waits until ready
#   serve_stop           SIGTERM; fails unless the server stops cleanly and says so
# The caller sets ENCORE and creates $tmp; the EXIT trap kills a server left running and removes $tmp.
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

serve_database() {
  "$ENCORE" generate --users 300 --songs 200 --plays 8000 --seed 5 --output "$tmp/raw" >/dev/null
  "$ENCORE" import "$tmp/raw" --database "$tmp/encore.db" >/dev/null
}

serve_start() {
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  OPENBLAS_NUM_THREADS=1 "$ENCORE" serve --database "$tmp/encore.db" --port "$port" >"$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; echo "error: encore serve died while starting" >&2; exit 1; }
    sleep 1
  done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "error: encore serve did not become ready" >&2; exit 1; }
}

serve_stop() {
  kill -TERM "$pid"
  wait "$pid" || { cat "$tmp/serve.log" >&2; echo "error: encore serve did not stop cleanly on SIGTERM" >&2; exit 1; }
  pid=""
  grep -q "every accepted event is committed" "$tmp/serve.log" || { cat "$tmp/serve.log" >&2; echo "error: no clean-stop message" >&2; exit 1; }
}
