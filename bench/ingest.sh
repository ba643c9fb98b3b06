#!/bin/sh
# Ingest bench (issue 2): synthetic ingest of 300 symbols x 25 years (about 1.96M bars) through
# the real daemon's ingest_equity job, first into an empty table and then again (every row an
# upsert that changes nothing). Prints `bench ingest ...` lines. Target: under 10 s.
set -eu
BIN=${QUANTD_BIN:-build/quantd}
NSYM=${NSYM:-300}
top=$(pwd); work=$top/var/bench-ingest; rm -rf "$work"; mkdir -p "$work"
sh scripts/pg.sh start var/pg-bench
db=$(sh scripts/pg.sh url var/pg-bench)
psql "$db" -qc "DROP DATABASE IF EXISTS bench_ingest WITH (FORCE)" -c "CREATE DATABASE bench_ingest" 2>/dev/null
db=$(sh scripts/pg.sh url var/pg-bench bench_ingest)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
QUANTD_DATABASE_URL=$db QUANTD_LISTEN=127.0.0.1:$port QUANTD_STATE_DIR=$work \
  "$BIN" serve --config bench/quantd.bench.json > "$work/quantd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
tok=$(cat "$work/admin.token")
syms=$(python3 -c "print(','.join('\"S%03d\"' % i for i in range($NSYM)))")
body="{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[$syms],\"start_date\":\"2000-01-01\",\"end_date\":\"2024-12-31\"}}"
for run in first rerun; do
  id=$(curl -sf -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$body" \
       "http://127.0.0.1:$port/v1/jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while :; do
    out=$(curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/jobs/$id")
    st=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    case $st in queued|running) sleep 0.05 ;; *) break ;; esac
  done
  # the job's own start/finish times, from the database (millisecond precision)
  secs=$(psql "$db" -Atc "SELECT round(extract(epoch FROM finished_at - started_at)::numeric, 2) FROM jobs WHERE id = $id")
  printf '%s' "$out" | python3 -c "
import json,sys
j=json.load(sys.stdin); r=j['result'] or {}
print('bench ingest run=$run status=%s rows=%s changed=%s seconds=$secs rows_per_s=%.0f target_seconds<10' % (j['status'], r.get('rows'), r.get('changed'), (r.get('rows') or 0)/max($secs,0.001)))"
done
