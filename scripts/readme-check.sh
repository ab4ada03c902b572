#!/usr/bin/env bash
# Runs every ```sh example of the README, as written and in order, except the first (make demo and
# make test, which run on their own). The examples are written for a checkout's root with the
# shared data beside it, so they run in a new folder laid out the same way: ../shared linked to the
# shared data, the checkout's .models and Makefile linked in, and this build's `encore` first on
# PATH. They run in one bash session (later examples use variables set by earlier ones) with
# `set -euo pipefail`. One substitution: the service's port 8080 becomes a free port. A failing
# example stops the run with its text, the output's tail and exit status 1.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$repo/../shared/data/lastfm-2k" ] || { echo "readme-check: ../shared/data/lastfm-2k is missing" >&2; exit 1; }
[ -x "$repo/.build/release/encore" ] || { echo "readme-check: build encore first (make build)" >&2; exit 1; }
[ -f "$repo/.models/all-MiniLM-L6-v2/model.safetensors" ] || { echo "readme-check: run make models first" >&2; exit 1; }
shared=$(cd "$repo/../shared" && pwd)
tmp=$(mktemp -d /tmp/encore-readme.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  # The service example leaves `encore serve` running in the background.
  pkill -f "encore serve .*--port $port" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ln -s "$shared" "$tmp/shared"
mkdir "$tmp/work"
ln -s "$repo/.models" "$tmp/work/.models"
ln -s "$repo/Makefile" "$tmp/work/Makefile"
export PATH="$repo/.build/release:$PATH"
count=$(python3 - "$repo/README.md" "$tmp" "$port" <<'EOF'
import re, sys
readme, tmp, port = sys.argv[1:]
blocks = re.findall(r"```sh\n(.*?)```", open(readme).read(), re.S)[1:]
if not blocks:
    sys.exit("readme-check: the README has no examples after the first")
with open(f"{tmp}/session.sh", "w") as f:
    f.write("set -euo pipefail\n")
    for n, block in enumerate(blocks, start=1):
        block = block.replace("8080", port)
        # The service runs in the background: its own log, its port.
        block = re.sub(r"^(encore serve [^&\n]*?)\s*&\s*$", rf"\1 --port {port} > serve.log 2>&1 &", block, flags=re.M)
        with open(f"{tmp}/example-{n}.sh", "w") as e:
            e.write(block)
        # Markers on lines of their own (an example's last output may not end its line).
        f.write(f'printf "\\n@@ example {n}\\n"; SECONDS=0\n{block}\nprintf "\\n@@ example {n} passed in %s s\\n" "$SECONDS"\n')
print(len(blocks))
EOF
)
echo "readme-check: $count README examples, run in $tmp/work"
cd "$tmp/work"
set +e
bash "$tmp/session.sh" > "$tmp/session.log" 2>&1
status=$?
set -e
grep '^@@ example [0-9]* passed' "$tmp/session.log" | sed 's/^@@ /readme-check: /'
if [ $status -ne 0 ]; then
  n=$(grep -o '^@@ example [0-9]*$' "$tmp/session.log" | tail -n 1 | grep -o '[0-9]*$')
  echo "readme-check: README example $n failed (exit status $status):" >&2
  sed 's/^/    /' "$tmp/example-$n.sh" >&2
  echo "  its output (last 40 lines):" >&2
  tail -n 40 "$tmp/session.log" >&2
  if [ -f serve.log ]; then echo "  serve.log (last 20 lines):" >&2; tail -n 20 serve.log >&2; fi
  exit 1
fi
echo "readme-check: every example passed"
