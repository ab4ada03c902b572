#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: initdb into a temporary folder, pg_ctl start on
# a free loopback port (socket in that folder, password authentication), the command with
# ENCORE_TEST_POSTGRES (a URL), PGPASSWORD and ENCORE_TEST_POSTGRES_CTL (a script that stops and
# starts the server) set, then the server stopped and the folder removed,
# also when the command fails. PostgreSQL refuses to run as root: as root, initdb and pg_ctl run
# as the `postgres` system user on a folder that user owns. Fails loudly when it cannot start.
set -euo pipefail
if ! command -v initdb >/dev/null 2>&1; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && PATH="$d:$PATH"; done
fi
command -v initdb >/dev/null 2>&1 || { echo "with-postgres: initdb not found (install the Debian package postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/encore-pg.XXXXXX)
chmod 755 "$dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "with-postgres: running as root needs the postgres system user" >&2; exit 1; }
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password="encore-$RANDOM$RANDOM"
printf '%s\n' "$password" > "$dir/pw"
[ "$(id -u)" = 0 ] && chown postgres "$dir/pw"
stop() {
  "${as_pg[@]}" pg_ctl -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
if ! "${as_pg[@]}" initdb -D "$dir/data" -U encore --auth=scram-sha-256 --pwfile="$dir/pw" -E UTF8 >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2; echo "with-postgres: initdb failed" >&2; exit 1
fi
if ! "${as_pg[@]}" pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 \
     -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null; then
  cat "$dir/server.log" >&2; echo "with-postgres: the server did not start" >&2; exit 1
fi
# A way for a test to take the server away and bring it back (scripts/replicas-check.sh).
cat > "$dir/ctl.sh" <<CTL
#!/usr/bin/env bash
# stop | start the throwaway PostgreSQL server
export PATH="$PATH"
case "\$1" in
  stop) ${as_pg[*]:-} pg_ctl -D "$dir/data" -m fast -w stop >/dev/null ;;
  start) ${as_pg[*]:-} pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
chmod 755 "$dir/ctl.sh"
export ENCORE_TEST_POSTGRES_CTL="$dir/ctl.sh"
export ENCORE_TEST_POSTGRES="postgres://encore@127.0.0.1:$port/postgres"
export ENCORE_TEST_POSTGRES_PORT="$port"
export PGPASSWORD="$password"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port ($dir)" >&2
set +e
"$@"
status=$?
set -e
exit $status
