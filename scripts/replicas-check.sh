#!/usr/bin/env bash
# Two `encore serve` replicas over one PostgreSQL database, on loopback: an activation through one
# swaps the model on the other; a play accepted by one leaves the other's list for that listener
# within a second; with the database stopped both answer /readyz with 503, and when it comes back
# they recover by themselves and the plays flow again. Runs under scripts/with-postgres.sh (make
# test does; the server here is its own, so stopping it disturbs no other test). Fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${ENCORE_TEST_POSTGRES:-}" ] && [ -n "${ENCORE_TEST_POSTGRES_CTL:-}" ] || {
  echo "replicas-check: run it through scripts/with-postgres.sh" >&2; exit 1; }
E=$PWD/.build/release/encore
[ -x "$E" ] || { echo "replicas-check: build encore first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/encore-replicas.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "replicas-check: FAILED: $*" >&2
  for n in 1 2; do echo "--- replica $n log (tail)" >&2; tail -n 20 "$tmp/r$n.log" >&2 || true; done
  exit 1
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
now_ms() { date +%s%3N; }

psql -h 127.0.0.1 -p "$ENCORE_TEST_POSTGRES_PORT" -U encore -d postgres -q -c "CREATE DATABASE replicas"
db="${ENCORE_TEST_POSTGRES%/*}/replicas"
"$E" generate --users 300 --songs 200 --plays 9000 --seed 5 --output "$tmp/raw" >/dev/null
"$E" import "$tmp/raw" --database "$db" >/dev/null
model=$("$E" train --database "$db" --model ease --format json | json 'd["id"]')
key=$("$E" keys create --role admin --database "$db" --format json | json 'd["secret"]')
auth=(-H "Authorization: Bearer $key")

ports=("$(free_port)" "$(free_port)")
for n in 0 1; do
  "$E" serve --database "$db" --port "${ports[$n]}" --policy default > "$tmp/r$((n + 1)).log" 2>&1 &
  pids+=($!)
done
ready() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz" || true; }
for p in "${ports[@]}"; do
  for _ in $(seq 1 240); do [ "$(ready "$p")" = 200 ] && break; sleep 0.5; done
  [ "$(ready "$p")" = 200 ] || fail "replica on port $p did not become ready"
done
echo "replicas-check: two replicas ready on ports ${ports[*]}"

# An activation through replica 1 swaps replica 2 onto the registered model.
curl -sf "${auth[@]}" -X POST "http://127.0.0.1:${ports[0]}/v1/models/$model/activate" >/dev/null || fail "activation through replica 1"
serving() { curl -sf "${auth[@]}" "http://127.0.0.1:$1/v1/models" | json 'd["serving"].get("ease", 0)'; }
start=$(now_ms)
for _ in $(seq 1 200); do [ "$(serving "${ports[1]}")" = "$model" ] && break; sleep 0.1; done
[ "$(serving "${ports[1]}")" = "$model" ] || fail "replica 2 does not serve model $model after the activation through replica 1"
echo "replicas-check: activation through replica 1 reached replica 2 in $(( $(now_ms) - start )) ms"

# A play accepted by one replica leaves the other's list for that listener within a second.
user=$(sed -n 2p "$tmp/raw/count_data.csv" | cut -d, -f2)
top() { curl -sf "${auth[@]}" "http://127.0.0.1:$1/v1/users/$user/recommendations?k=10" | json 'd["items"][0]["song"]'; }
play_and_check() {  # $1 accepting replica port, $2 reading replica port
  local song; song=$(top "$2")
  [ -n "$song" ] || fail "no list for $user"
  curl -sf "${auth[@]}" -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$1/v1/events" \
    -d "{\"events\": [{\"user\": \"$user\", \"song\": \"$song\", \"kind\": \"play\", \"plays\": 3}]}" >/dev/null || fail "the play through port $1"
  local t0; t0=$(now_ms)
  while [ "$(top "$2")" = "$song" ]; do
    [ $(( $(now_ms) - t0 )) -lt 1000 ] || fail "the play of $song accepted on port $1 did not reach port $2 within 1 s"
    sleep 0.02
  done
  echo "replicas-check: a play accepted on port $1 left port $2's list in $(( $(now_ms) - t0 )) ms"
}
play_and_check "${ports[0]}" "${ports[1]}"
play_and_check "${ports[1]}" "${ports[0]}"

# The database goes away: both replicas become unready; it comes back: they recover by themselves.
"$ENCORE_TEST_POSTGRES_CTL" stop
for p in "${ports[@]}"; do
  for _ in $(seq 1 50); do [ "$(ready "$p")" = 503 ] && break; sleep 0.1; done
  [ "$(ready "$p")" = 503 ] || fail "replica on port $p answers /readyz with $(ready "$p") while the database is down"
done
echo "replicas-check: with the database stopped both replicas answer /readyz 503"
"$ENCORE_TEST_POSTGRES_CTL" start
start=$(now_ms)
for p in "${ports[@]}"; do
  for _ in $(seq 1 300); do [ "$(ready "$p")" = 200 ] && break; sleep 0.1; done
  [ "$(ready "$p")" = 200 ] || fail "replica on port $p did not recover after the database came back"
done
echo "replicas-check: both replicas ready again $(( $(now_ms) - start )) ms after the database came back"
# The listeners reconnect too (and each replica reloads, having possibly missed notifications).
sleep 2
play_and_check "${ports[0]}" "${ports[1]}"
echo "replicas-check: passed"
