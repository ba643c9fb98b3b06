#!/bin/sh
# What `make run` runs after building: a private PostgreSQL under var/pg unless
# QUANTD_DATABASE_URL is set, migrations, then the daemon in the foreground on 127.0.0.1:8080
# with its state (and the bootstrap admin token, var/admin.token) in var/.
set -eu
bin=${1:-build/quantd}
if [ -z "${QUANTD_DATABASE_URL:-}" ]; then
    sh scripts/pg.sh start var/pg
    QUANTD_DATABASE_URL=$(sh scripts/pg.sh url var/pg)
    export QUANTD_DATABASE_URL
fi
QUANTD_STATE_DIR=${QUANTD_STATE_DIR:-$PWD/var}
export QUANTD_STATE_DIR
mkdir -p "$QUANTD_STATE_DIR"
"$bin" migrate --config etc/quantd.dev.json
echo "quantd: serving on http://127.0.0.1:8080 (token: $QUANTD_STATE_DIR/admin.token); Ctrl-C stops"
exec "$bin" serve --config etc/quantd.dev.json
