#!/bin/sh
# Tracking bench, issue 5: (1) logging 1,000 metric points in one batch (POST
# /v1/runs/{id}/metrics), target < 10 ms server time; (2) searching 100,000 runs x 20 metrics
# ordered by one metric with a filter (GET /v1/experiments/{id}/runs), target p50 < 100 ms.
# Server time is the daemon's own request-duration histogram (/metrics: sum / count over the
# requests of the step), beside the client's wall time (curl, loopback). Prints `bench tracking
# ...` lines.
set -eu
. bench/lib.sh
bench_start tracking
H="Authorization: Bearer $tok"
U="http://127.0.0.1:$port"

# server seconds and count of every request so far
server_time() {
    curl -sf "$U/metrics" | awk '/^quantd_http_request_duration_seconds_sum/ {s=$2}
        /^quantd_http_request_duration_seconds_count/ {c=$2} END {printf "%s %s\n", s, c}'
}
# p50 and p90 of a file of seconds, as ms
pct() {
    sort -n "$1" | awk '{a[NR]=$1} END {printf "p50_ms=%.2f p90_ms=%.2f", a[int(NR*0.5+0.5)]*1000, a[int(NR*0.9+0.5)]*1000}'
}

# ---- (1) batch logging ----
run=$(psql "$db" -Atq -c "INSERT INTO experiments (name) VALUES ('bench-log')" \
      -c "INSERT INTO runs (experiment_id, strategy) SELECT id, 'manual' FROM experiments WHERE name = 'bench-log' RETURNING id")
n=50
for b in $(seq 1 $n); do
    python3 -c "
import json
print(json.dumps({'metrics': [{'key': 'm%d' % (i % 20), 'value': i * 0.001 + $b, 'step': $b * 1000 + i // 20, 'timestamp': 1700000000000 + i} for i in range(1000)]}))" > "$work/batch$b.json"
done
set -- $(server_time); s0=$1; c0=$2
: > "$work/log.times"
for b in $(seq 1 $n); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "$H" -H 'Content-Type: application/json' \
        --data-binary @"$work/batch$b.json" "$U/v1/runs/$run/metrics" >> "$work/log.times"
done
set -- $(server_time); s1=$1; c1=$2
stored=$(psql "$db" -Atc "SELECT count(*) FROM metrics WHERE run_id = $run")
echo "bench tracking log_batch points=1000 batches=$n stored=$stored server_mean_ms=$(python3 -c "print('%.2f' % (($s1 - $s0) / ($c1 - $c0 - 1) * 1000))") client_$(pct "$work/log.times") target_server_ms<10"
