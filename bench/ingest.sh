#!/bin/sh
# Ingest bench (issue 2): synthetic ingest of 300 symbols x 25 years (about 1.96M bars) through
# the real daemon's ingest_equity job, first into an empty table and then again (every row an
# upsert that changes nothing). Prints `bench ingest ...` lines. Target: under 10 s.
set -eu
NSYM=${NSYM:-300}
. bench/lib.sh
bench_start ingest
syms=$(python3 -c "print(','.join('\"S%03d\"' % i for i in range($NSYM)))")
body="{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[$syms],\"start_date\":\"2000-01-01\",\"end_date\":\"2024-12-31\"}}"
for run in first rerun; do
    out=$(bench_job "$body")
    id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    # the job's own start and finish, from the database
    secs=$(psql "$db" -Atc "SELECT round(extract(epoch FROM finished_at - started_at)::numeric, 2) FROM jobs WHERE id = $id")
    printf '%s' "$out" | python3 -c "
import json,sys
j=json.load(sys.stdin); r=j['result'] or {}
print('bench ingest run=$run status=%s rows=%s changed=%s seconds=$secs rows_per_s=%.0f target_seconds<10' % (j['status'], r.get('rows'), r.get('changed'), (r.get('rows') or 0)/max($secs,0.001)))"
done
