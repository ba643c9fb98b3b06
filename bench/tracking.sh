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

# ---- (2) search: 100,000 runs x 20 metrics, ordered by one metric, with a filter ----
t0=$(date +%s.%N)
exp=$(psql "$db" -Atq -c "INSERT INTO experiments (name) VALUES ('bench-search') RETURNING id")
psql "$db" -q <<SQL
INSERT INTO runs (experiment_id, strategy, params)
SELECT $exp, 'sma', jsonb_build_object('momentum.sma_crossover.fast', 2 + g % 50,
       'momentum.sma_crossover.slow', 60 + g % 40, 'fill', 'next_open')
FROM generate_series(1, 100000) g;
INSERT INTO metrics (run_id, key, step, value)
SELECT r.id, k.key, 0, hashint8(r.id * 20 + k.n)::float8 / 2147483648.0 * (k.n + 1)
FROM runs r, (VALUES ('sharpe_ratio', 0), ('cagr', 1), ('total_return', 2), ('max_drawdown', 3),
  ('annual_volatility', 4), ('sortino_ratio', 5), ('calmar_ratio', 6), ('win_rate', 7),
  ('profit_factor', 8), ('avg_trade_return', 9), ('num_trades', 10), ('exposure', 11),
  ('turnover', 12), ('final_value', 13), ('max_drawdown_duration_days', 14), ('m15', 15),
  ('m16', 16), ('m17', 17), ('m18', 18), ('m19', 19)) AS k(key, n)
WHERE r.experiment_id = $exp;
ANALYZE runs; ANALYZE metrics;
SQL
t1=$(date +%s.%N)
echo "bench tracking search_setup runs=$(psql "$db" -Atc "SELECT count(*) FROM runs WHERE experiment_id = $exp") metrics=$(psql "$db" -Atc 'SELECT count(*) FROM metrics') seconds=$(python3 -c "print('%.1f' % ($t1 - $t0))")"
q="order_by=metrics.sharpe_ratio%20DESC&limit=100&filter=metrics.cagr%20%3E%200.5%20AND%20params.%60momentum.sma_crossover.fast%60%20%3E%3D%2010"
n=20
curl -sf -o "$work/search.json" -H "$H" "$U/v1/experiments/$exp/runs?$q"
set -- $(server_time); s0=$1; c0=$2
: > "$work/search.times"
for i in $(seq 1 $n); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "$H" "$U/v1/experiments/$exp/runs?$q" >> "$work/search.times"
done
set -- $(server_time); s1=$1; c1=$2
got=$(python3 -c "import json; print(len(json.load(open('$work/search.json'))['runs']))")
mlbody="{\"experiment_ids\":[\"$exp\"],\"max_results\":100,\"order_by\":[\"metrics.sharpe_ratio DESC\"],\"filter\":\"metrics.cagr > 0.5 and params.\`momentum.sma_crossover.fast\` >= 10\"}"
: > "$work/mlsearch.times"
for i in $(seq 1 $n); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "$H" -H 'Content-Type: application/json' -d "$mlbody" "$U/api/2.0/mlflow/runs/search" >> "$work/mlsearch.times"
done
echo "bench tracking search runs=100000 metrics_per_run=20 page=$got requests=$n server_mean_ms=$(python3 -c "print('%.1f' % (($s1 - $s0) / ($c1 - $c0 - 1) * 1000))") client_$(pct "$work/search.times") target_p50_ms<100"
echo "bench tracking mlflow_runs_search runs=100000 page=100 requests=$n client_$(pct "$work/mlsearch.times")"

# ---- (3) the report of an experiment of 4,950 runs (the full SMA grid on 5,000 bars) ----
bench_job '{"type":"ingest_equity","params":{"symbols":["GRID"],"start_date":"2000-01-03","end_date":"2019-03-01"}}' >/dev/null
bench_job '{"type":"equity_backtest","params":{"symbols":["GRID"],"start_date":"2000-01-03","end_date":"2019-03-01","experiment_name":"bench-grid","fees":{"rate":0.001},"strategy_configs":[{"name":"sma","momentum":{"sma_crossover":{"fast":{"start":2,"stop":100},"slow":{"start":3,"stop":101}}}}]}}' >/dev/null
curl -sf -o "$work/report.html" -H "$H" "$U/v1/experiments/bench-grid/report"
: > "$work/report.times"
for i in $(seq 1 5); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "$H" "$U/v1/experiments/bench-grid/report" >> "$work/report.times"
done
echo "bench tracking report runs=$(psql "$db" -Atc "SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = 'bench-grid'") bytes=$(wc -c < "$work/report.html") client_$(pct "$work/report.times") target_ms<1000 target_bytes<2097152"
: > "$work/compare.times"
for i in $(seq 1 5); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "$H" "$U/v1/experiments/bench-grid/compare" >> "$work/compare.times"
done
echo "bench tracking compare runs=4950 client_$(pct "$work/compare.times")"
