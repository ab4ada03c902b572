#!/usr/bin/env bash
# The dashboard checked in a real browser: a generated dataset in a throwaway SQLite database with
# two registered EASE models, `encore serve` on a free loopback port with keys on, then headless
# Chromium (Debian package `chromium`, which make deps installs) driven by Playwright (PyPI, into the
# ignored .venv-test): scripts/dashboard_check.py. Screenshots go to .build/screenshots/.
# Fails loudly when something it needs is missing; never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
ENCORE=.build/release/encore
VENV=.venv-test
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -x "$ENCORE" ] || { echo "error: build encore first ($ENCORE is missing)" >&2; exit 1; }
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || { echo "error: chromium is missing (make deps installs the Debian package chromium)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || { echo "error: could not create $VENV" >&2; exit 1; }
"$VENV/bin/python" -c "import playwright" 2>/dev/null || "$VENV/bin/pip" install -q "playwright==1.65.2" \
  || { echo "error: could not install playwright from PyPI into $VENV" >&2; exit 1; }
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
"$ENCORE" generate --users 300 --songs 200 --plays 8000 --seed 5 --output "$tmp/raw" >/dev/null
"$ENCORE" import "$tmp/raw" --database "$tmp/encore.db" >/dev/null
for lambda in 50 200; do
  "$ENCORE" train --database "$tmp/encore.db" --model ease --config "{\"lambda\": $lambda}" >/dev/null
done
read_key=$("$ENCORE" keys create --role read --database "$tmp/encore.db" | grep -o 'enc_[0-9a-z_]*' | head -1)
admin_key=$("$ENCORE" keys create --role admin --database "$tmp/encore.db" | grep -o 'enc_[0-9a-z_]*' | head -1)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
OPENBLAS_NUM_THREADS=1 "$ENCORE" serve --database "$tmp/encore.db" --port "$port" >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; echo "error: encore serve died while starting" >&2; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "error: encore serve did not become ready" >&2; exit 1; }
# The cluster page computes its analysis on first use: ask for it once before the browser does.
curl -s -o /dev/null "http://127.0.0.1:$port/clusters" || true
CHROMIUM="$CHROMIUM" "$VENV/bin/python" scripts/dashboard_check.py "http://127.0.0.1:$port" "$read_key" "$admin_key" .build/screenshots \
  || { tail -20 "$tmp/serve.log" >&2; exit 1; }
kill -TERM "$pid"
wait "$pid" || { cat "$tmp/serve.log" >&2; echo "error: encore serve did not stop cleanly on SIGTERM" >&2; exit 1; }
pid=""
