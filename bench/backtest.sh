#!/bin/sh
# Engine bench (d), issue 4: the grid 2 <= fast < slow <= 101 (4,950 backtests) on 5,000 bars
# through the API: an equity_backtest job end to end, including storing every run and its 15
# metrics. Prints `bench backtest ...` lines. Target: under 2 s.
set -eu
. bench/lib.sh
bench_start backtest
# 5,000 business days from 2000-01-03 end on 2019-03-01
bench_job '{"type":"ingest_equity","params":{"symbols":["GRID"],"start_date":"2000-01-03","end_date":"2019-03-01"}}' >/dev/null
t0=$(date +%s.%N)
out=$(bench_job '{"type":"equity_backtest","params":{"symbols":["GRID"],"start_date":"2000-01-03","end_date":"2019-03-01","experiment_name":"bench-grid","fees":{"rate":0.001},"strategy_configs":[{"name":"sma","momentum":{"sma_crossover":{"fast":{"start":2,"stop":100},"slow":{"start":3,"stop":101}}}}]}}')
t1=$(date +%s.%N)
id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
secs=$(psql "$db" -Atc "SELECT round(extract(epoch FROM finished_at - started_at)::numeric, 3) FROM jobs WHERE id = $id")
# server side, from the job's row: created (the POST) to finished
srv=$(psql "$db" -Atc "SELECT round(extract(epoch FROM finished_at - created_at)::numeric, 3) FROM jobs WHERE id = $id")
printf '%s' "$out" | python3 -c "
import json,sys
j=json.load(sys.stdin); r=j['result'] or {}
print('bench backtest d_grid_api status=%s bars=%s runs=%d job_seconds=$secs created_to_finished_seconds=$srv submit_to_done_seconds=%.3f target_seconds<2' % (j['status'], r.get('bars'), len(r.get('runs', [])), $t1-$t0))"
echo "bench backtest stored_runs=$(psql "$db" -Atc 'SELECT count(*) FROM runs') stored_metrics=$(psql "$db" -Atc 'SELECT count(*) FROM metrics')"
