#!/bin/sh
# Lints openapi.yaml with the pinned @redocly/cli (tools/openapi/package-lock.json). npm ci runs
# only when node_modules is missing or the lock file changed; the lint itself needs no network
# (telemetry and update checks off). Warnings are printed; errors fail.
set -eu
cd "$(dirname "$0")/openapi"
stamp=node_modules/.lock-stamp
if [ ! -x node_modules/.bin/redocly ] || ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    cp package-lock.json "$stamp"
fi
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    ./node_modules/.bin/redocly lint --format=stylish ../../openapi.yaml
