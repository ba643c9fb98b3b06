#!/bin/sh
# What `make run` runs after building, from the repository root: sh scripts/run.sh BIN.
# Unless QUANTD_DATABASE_URL is set, a private PostgreSQL under var/pg (scripts/pg.sh);
# state (and the bootstrap admin token, <state>/admin.token) in QUANTD_STATE_DIR, default
# ./var; migrations; then the daemon in the foreground with etc/quantd.dev.json
# (127.0.0.1:8080 unless QUANTD_LISTEN says otherwise). Ctrl-C stops it; PostgreSQL keeps
# running (make pg-stop).
set -eu
bin=${1:-build/quantd}
case $bin in */*) ;; *) bin=./$bin ;; esac
[ -x "$bin" ] || { echo "run.sh: $bin is not built (make)" >&2; exit 1; }
config=etc/quantd.dev.json
if [ -z "${QUANTD_DATABASE_URL:-}" ]; then
    sh "$(dirname "$0")/pg.sh" start var/pg
    QUANTD_DATABASE_URL=$(sh "$(dirname "$0")/pg.sh" url var/pg)
    export QUANTD_DATABASE_URL
fi
QUANTD_STATE_DIR=${QUANTD_STATE_DIR:-$PWD/var}
export QUANTD_STATE_DIR
mkdir -p "$QUANTD_STATE_DIR"
"$bin" migrate --config "$config"
echo "quantd: serving on http://${QUANTD_LISTEN:-127.0.0.1:8080} (admin token: $QUANTD_STATE_DIR/admin.token); Ctrl-C stops"
exec "$bin" serve --config "$config"
