#!/bin/sh
# Private PostgreSQL clusters for dev, tests and benches (never the system's).
#   pg.sh start|stop|restart|status DIR      pg.sh url DIR [DBNAME]
# Layout: DIR/data (cluster), DIR/run (Unix socket; no TCP port, so clusters never collide),
# DIR/log/postgres.log. Local connections are trusted: dev/test only. PostgreSQL refuses to
# run as root, so as root the server runs as the `postgres` user.
set -eu
verb=${1:-}; dir=${2:-}
[ -n "$verb" ] && [ -n "$dir" ] || { echo "usage: pg.sh start|stop|restart|status|url DIR [DB]" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg.sh: PostgreSQL server not installed (apt-get install postgresql)" >&2; exit 1; }

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() {
    as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

case "$verb" in
url)
    echo "host=$dir/run dbname=${3:-quantd} user=quantd"
    exit 0 ;;
status)
    if running; then echo "running"; else echo "stopped"; exit 3; fi
    exit 0 ;;
stop)
    if [ -d "$dir/data" ] && running; then
        as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    exit 0 ;;
restart)
    sh "$0" stop "$dir"
    exec sh "$0" start "$dir" ;;
start) ;;
*) echo "pg.sh: unknown verb $verb" >&2; exit 2 ;;
esac

if [ "$(id -u)" = 0 ]; then
    # every parent must be traversable by the postgres user
    p=$dir
    while [ "$p" != "/" ]; do
        p=$(dirname "$p")
        if ! runuser -u postgres -- test -x "$p"; then
            echo "pg.sh: $p is not searchable by the postgres user; use a path under /tmp or chmod o+x" >&2
            exit 1
        fi
    done
    chown postgres "$dir"
fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg mkdir -p "$dir/data" "$dir/run" "$dir/log"
    as_pg "$bin/initdb" -D "$dir/data" -U quantd --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/run'
unix_socket_permissions = 0777
shared_buffers = 128MB
max_connections = 100
fsync = on
synchronous_commit = on
log_min_messages = warning
CONF
fi
if ! running; then
    as_pg mkdir -p "$dir/run" "$dir/log"
    # a stale pid file after a crash is handled by pg_ctl itself when the pid is gone
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log/postgres.log" -w -t 60 start >/dev/null || {
        tail -n 20 "$dir/log/postgres.log" >&2; exit 1; }
fi
if ! "$bin/psql" "host=$dir/run dbname=postgres user=quantd" -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'quantd'" | grep -q 1; then
    "$bin/psql" "host=$dir/run dbname=postgres user=quantd" -qc "CREATE DATABASE quantd" >/dev/null
fi
