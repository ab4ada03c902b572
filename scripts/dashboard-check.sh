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
source scripts/serve-lib.sh
serve_database
for lambda in 50 200; do
  "$ENCORE" train --database "$tmp/encore.db" --model ease --config "{\"lambda\": $lambda}" >/dev/null
done
read_key=$("$ENCORE" keys create --role read --database "$tmp/encore.db" | grep -o 'enc_[0-9a-z_]*' | head -1)
admin_key=$("$ENCORE" keys create --role admin --database "$tmp/encore.db" | grep -o 'enc_[0-9a-z_]*' | head -1)
serve_start
# The cluster page computes its analysis on first use: ask for it once before the browser does.
curl -s -o /dev/null "http://127.0.0.1:$port/clusters" || true
CHROMIUM="$CHROMIUM" "$VENV/bin/python" scripts/dashboard_check.py "http://127.0.0.1:$port" "$read_key" "$admin_key" .build/screenshots \
  || { tail -20 "$tmp/serve.log" >&2; exit 1; }
serve_stop
