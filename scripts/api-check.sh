#!/usr/bin/env bash
# The service checked as a running binary: a generated dataset in a throwaway SQLite database,
# `encore serve` on a free loopback port with an admin key, then
#   1. schemathesis (PyPI, installed into the ignored .venv-test) against /openapi.json with a fixed
#      seed and example count: every route, every documented parameter and body, and bad input;
#      it fails on any 5xx, any response that breaks the schema or its documented status codes;
#   2. a short wrk smoke run of recommendations: it fails on any error or non-2xx response;
#   3. SIGTERM: the server must stop cleanly and say so.
# Fails loudly when something it needs is missing; never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
ENCORE=.build/release/encore
VENV=.venv-test
[ -x "$ENCORE" ] || { echo "error: build encore first ($ENCORE is missing)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "error: wrk is missing (make deps installs it)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl is missing (make deps installs it)" >&2; exit 1; }
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "schemathesis==4.32.5" \
    || { echo "error: could not install schemathesis from PyPI into $VENV" >&2; exit 1; }
fi
tmp=$(mktemp -d)
source scripts/serve-lib.sh
serve_database
key=$("$ENCORE" keys create --role admin --database "$tmp/encore.db" | grep -o 'enc_[0-9a-z_]*' | head -1)
serve_start
echo "schemathesis against http://127.0.0.1:$port/openapi.json"
"$VENV/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples 25 --seed 42 --workers 1 --no-color
cut -d, -f2 "$tmp/raw/count_data.csv" | tail -n +2 | sort -u > "$tmp/users.txt"
out=$(USERS="$tmp/users.txt" KEY="$key" RATE=0 CONNECTIONS=8 wrk -t1 -c8 -d5s -s bench/wrk_rate.lua "http://127.0.0.1:$port")
echo "$out" | grep -E "Requests/sec|Latency"
if echo "$out" | grep -qE "Non-2xx|Socket errors"; then echo "$out" >&2; echo "error: the wrk smoke run saw errors" >&2; exit 1; fi
serve_stop
echo "api check passed"
