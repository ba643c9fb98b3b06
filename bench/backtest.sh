#!/bin/sh
# Engine bench (d), issue 4: the grid 2 <= fast < slow <= 101 (4,950 backtests) on 5,000 bars
# through the API: an equity_backtest job end to end, including storing every run and its 15
# metrics. Prints `bench backtest ...` lines. Target: under 2 s.
set -eu
BIN=${QUANTD_BIN:-build/quantd}
top=$(pwd); work=$top/var/bench-backtest; rm -rf "$work"; mkdir -p "$work"
sh scripts/pg.sh start var/pg-bench
db=$(sh scripts/pg.sh url var/pg-bench)
psql "$db" -qc "DROP DATABASE IF EXISTS bench_backtest WITH (FORCE)" -c "CREATE DATABASE bench_backtest" 2>/dev/null
db=$(sh scripts/pg.sh url var/pg-bench bench_backtest)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
QUANTD_DATABASE_URL=$db QUANTD_LISTEN=127.0.0.1:$port QUANTD_STATE_DIR=$work \
  "$BIN" serve --config bench/quantd.bench.json > "$work/quantd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
tok=$(cat "$work/admin.token")
job() { # body -> prints the finished job
  id=$(curl -sf -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$1" \
       "http://127.0.0.1:$port/v1/jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while :; do
    out=$(curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/jobs/$id")
    case $(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])') in
      queued|running) sleep 0.02 ;; *) break ;;
    esac
  done
  printf '%s' "$out"
}
# 5,000 business days from 2000-01-03 end on 2019-03-01
job '{"type":"ingest_equity","params":{"symbols":["GRID"],"start_date":"2000-01-03","end_date":"2019-03-01"}}' >/dev/null
t0=$(date +%s.%N)
out=$(job '{"type":"equity_backtest","params":{"symbols":["GRID"],"start_date":"2000-01-03","end_date":"2019-03-01","experiment_name":"bench-grid","fees":{"rate":0.001},"strategy_configs":[{"name":"sma","momentum":{"sma_crossover":{"fast":{"start":2,"stop":100},"slow":{"start":3,"stop":101}}}}]}}')
t1=$(date +%s.%N)
id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
secs=$(psql "$db" -Atc "SELECT round(extract(epoch FROM finished_at - started_at)::numeric, 3) FROM jobs WHERE id = $id")
printf '%s' "$out" | python3 -c "
import json,sys
j=json.load(sys.stdin); r=j['result'] or {}
print('bench backtest d_grid_api status=%s bars=%s runs=%d job_seconds=$secs submit_to_done_seconds=%.3f target_seconds<2' % (j['status'], r.get('bars'), len(r.get('runs', [])), $t1-$t0))"
echo "bench backtest stored_runs=$(psql "$db" -Atc 'SELECT count(*) FROM runs') stored_metrics=$(psql "$db" -Atc 'SELECT count(*) FROM metrics')"
