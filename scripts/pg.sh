#!/bin/sh
# Private PostgreSQL clusters for dev, tests and benches (never the system's).
#   pg.sh start|stop|restart|status DIR      pg.sh url DIR [DBNAME]
# Layout: DIR/data (cluster), DIR/run (Unix socket; listen_addresses='' so no TCP port and
# clusters never collide), DIR/log/postgres.log. Superuser role `quantd`, local trust auth:
# dev/test only. PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user. start is idempotent (fast when already running) and creates database
# `quantd`; stop is idempotent. `url` prints a libpq keyword/value conninfo.
# status exits 0 when running, 3 when stopped (like pg_ctl). PG_BINDIR overrides the server
# binaries (default: the newest /usr/lib/postgresql/*/bin).
set -eu
# the caller's libpq environment must not redirect our own psql calls or the server's port
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE PGSERVICE \
      PGSERVICEFILE PGOPTIONS PGDATA PGSSLMODE PGTZ PGCLIENTENCODING 2>/dev/null || true

die() { echo "pg.sh: $*" >&2; exit 1; }
usage() { echo "usage: pg.sh start|stop|restart|status DIR | pg.sh url DIR [DBNAME]" >&2; exit 2; }

if [ $# -lt 2 ] || [ -z "$2" ]; then usage; fi
verb=$1; dir=$2; dbname=${3:-quantd}
case $verb in start|stop|restart|status|url) ;; *) usage ;; esac
[ "$verb" = url ] || [ $# -eq 2 ] || usage

# Absolute, canonical DIR without creating it (url/status/stop create nothing).
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
dir=$(realpath -m -- "$dir" 2>/dev/null) || dir=$(cd "$dir" 2>/dev/null && pwd -P) ||
    die "cannot resolve $2"
case $dir in *\'*|*\\*|*"
"*) die "unsupported characters in $dir (quote, backslash or newline)" ;; esac
data=$dir/data
pidfile=$data/postmaster.pid

# conninfo VALUE: quoted only when needed (spaces), so ordinary paths print plainly.
cval() {
    case $1 in ''|*[[:space:]]*) printf "'%s'" "$1" ;; *) printf '%s' "$1" ;; esac
}
conninfo() {
    printf 'host=%s dbname=%s user=quantd' "$(cval "$dir/run")" "$(cval "$1")"
}

if [ "$verb" = url ]; then
    case $dbname in *\'*|*\\*) die "unsupported characters in database name $dbname" ;; esac
    conninfo "$dbname"; echo
    exit 0
fi

if [ -n "${PG_BINDIR:-}" ]; then
    bin=$PG_BINDIR
else
    bin=$(for b in /usr/lib/postgresql/*/bin; do
              [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ] && echo "$b"
          done | sort -V | tail -n 1)
fi
[ -n "$bin" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/initdb" ] ||
    die "PostgreSQL server not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
psql=$bin/psql
[ -x "$psql" ] || psql=psql

root=false
[ "$(id -u)" = 0 ] && root=true
as_pg() {
    if $root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints the pid of the postmaster serving DIR/data, or fails. `pg_ctl status` trusts any live
# process with the recorded pid; after a crash or a container restart that pid may belong to
# someone else, so also require that the process sits in this data directory (the postmaster
# chdirs there). Without /proc, fall back to pg_ctl status.
server_pid() {
    [ -f "$pidfile" ] || return 1
    p=$(head -n 1 "$pidfile" 2>/dev/null) || return 1
    case $p in ''|*[!0-9]*) return 1 ;; esac
    if [ -d /proc/self ]; then
        [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$(realpath -- "$data")" ] || return 1
    else
        as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1 || return 1
    fi
    echo "$p"
}

# A postmaster.pid (and socket lock files) left by a server that is gone: remove them, or a
# reused pid would make PostgreSQL believe another postmaster is still running.
clear_stale() {
    if [ -f "$pidfile" ]; then
        echo "pg.sh: removing stale $pidfile (pid $(head -n 1 "$pidfile" 2>/dev/null) is not this cluster's postmaster)" >&2
        rm -f "$pidfile"
    fi
    rm -f "$dir"/run/.s.PGSQL.*
}

# Serialise start/stop on one DIR (two `make` targets may race). The lock fd is closed for
# pg_ctl so that the postmaster does not inherit it.
lock() {
    if command -v flock >/dev/null 2>&1 && { [ -w "$dir/.pg.lock" ] || [ -w "$dir" ]; }; then
        exec 9>>"$dir/.pg.lock"
        flock -w 300 9 || die "timed out waiting for the lock on $dir"
    fi
}

# The cluster's files belong to the user the server runs as (postgres when we are root).
foreign_cluster() {
    [ -e "$data" ] || return 0
    if $root; then want=postgres; else want=$(id -un); fi
    owner=$(stat -c %U "$data")
    [ "$owner" = "$want" ] ||
        die "$data belongs to $owner, but the server would run as $want; run as $owner or use another DIR"
}

# As root the server runs as postgres: DIR must belong to postgres and every parent must be
# searchable by it.
prepare_root() {
    id -u postgres >/dev/null 2>&1 ||
        die "running as root, but there is no 'postgres' user to run the server (apt-get install postgresql, or run as a normal user)"
    if [ "$(stat -c %U "$dir")" != postgres ]; then
        for e in "$dir"/* "$dir"/.[!.]*; do
            [ -e "$e" ] || continue
            case ${e##*/} in data|data.new|run|log|.pg.lock) ;;
            *) die "$dir is not empty and not a pg.sh cluster directory (found ${e##*/}); use another DIR" ;;
            esac
        done
        chown postgres "$dir"
    fi
    if ! runuser -u postgres -- test -w "$dir" -a -x "$dir"; then
        bad=$dir; p=$dir
        while [ "$p" != / ]; do
            p=$(dirname "$p")
            runuser -u postgres -- test -x "$p" || bad=$p
        done
        die "the postgres user cannot reach $dir: $bad is not searchable by it (chmod o+x $bad, or use a DIR under a world-searchable path such as /var/tmp/quantd-pg)"
    fi
}

init_cluster() {
    [ -e "$data" ] && die "$data exists but is not a PostgreSQL cluster (no PG_VERSION); move it away"
    echo "pg.sh: creating a new cluster in $data" >&2
    as_pg rm -rf "$dir/data.new"
    as_pg "$bin/initdb" -D "$dir/data.new" -U quantd --auth=trust -E UTF8 --locale=C \
        >"$dir/log/initdb.log" 2>&1 || { cat "$dir/log/initdb.log" >&2; die "initdb failed"; }
    cat >>"$dir/data.new/postgresql.conf" <<CONF

# ---- pg.sh: private dev/test cluster (socket only, trust auth) ----
listen_addresses = ''
port = 5432
unix_socket_directories = '$dir/run'
unix_socket_permissions = 0777
max_connections = 100
shared_buffers = 128MB
fsync = on
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
CONF
    # complete clusters only ever appear under DIR/data
    as_pg mv "$dir/data.new" "$data"
}

ensure_db() {
    printf '%s\n' "SELECT 'CREATE DATABASE quantd' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'quantd') \\gexec" |
        "$psql" -X -q -v ON_ERROR_STOP=1 -d "$(conninfo postgres)" >/dev/null 2>"$dir/log/psql.err" ||
        { cat "$dir/log/psql.err" >&2; die "could not create database quantd"; }
}

do_start() {
    if server_pid >/dev/null; then
        ensure_db
        return 0
    fi
    foreign_cluster
    sock=$dir/run/.s.PGSQL.5432
    [ ${#sock} -le 107 ] ||
        die "$dir is too deep: the socket path $sock exceeds 107 bytes; use a shorter DIR"
    if $root; then prepare_root; fi
    as_pg mkdir -p "$dir/run" "$dir/log"
    [ -f "$data/PG_VERSION" ] || init_cluster
    clear_stale
    if ! as_pg "$bin/pg_ctl" -D "$data" -l "$dir/log/postgres.log" -w -t 120 -s start \
            >"$dir/log/pg_ctl.out" 2>&1 9>&-; then
        cat "$dir/log/pg_ctl.out" >&2
        tail -n 20 "$dir/log/postgres.log" >&2 2>/dev/null || true
        die "PostgreSQL did not start (log: $dir/log/postgres.log)"
    fi
    ensure_db
}

do_stop() {
    [ -d "$data" ] || return 0
    foreign_cluster
    if server_pid >/dev/null; then
        as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 120 -s stop 9>&- ||
            as_pg "$bin/pg_ctl" -D "$data" -m immediate -w -t 60 -s stop 9>&- ||
            die "could not stop the server of $data"
    elif [ -f "$pidfile" ]; then
        clear_stale
    fi
}

case $verb in
status)
    if [ -d "$data" ] && pid=$(server_pid); then
        echo "running (pid $pid, socket $dir/run)"
    else
        echo "stopped"; exit 3
    fi ;;
stop)
    [ -d "$dir" ] || exit 0
    foreign_cluster; lock; do_stop ;;
restart)
    (umask 022; mkdir -p "$dir")
    foreign_cluster; lock; do_stop; do_start ;;
start)
    (umask 022; mkdir -p "$dir")
    foreign_cluster; lock; do_start ;;
esac
