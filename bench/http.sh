#!/bin/sh
# HTTP bench (issue 2): wrk against GET /v1/health and GET /v1/bars/{symbol} (2,520 rows), and
# against nginx serving static files of the same sizes, in the same run, loopback only.
# Prints a table and `bench http ...` lines with req/s, p50, p99 and the ratios.
#   make bench        (or: sh bench/http.sh; env DURATION=10s THREADS=2 CONNS=64)
set -eu
DURATION=${DURATION:-10s}; THREADS=${THREADS:-2}; CONNS=${CONNS:-64}
BIN=${QUANTD_BIN:-build/quantd}
top=$(pwd); work=$top/var/bench; mkdir -p "$work"
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "bench: needs wrk and nginx (make bench-deps)"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

sh scripts/pg.sh start var/pg-bench
db=$(sh scripts/pg.sh url var/pg-bench)
psql "$db" -qc "DROP DATABASE IF EXISTS bench_http WITH (FORCE)" -c "CREATE DATABASE bench_http"
db=$(sh scripts/pg.sh url var/pg-bench bench_http)
qport=$(free_port); nport=$(free_port)
rm -rf "$work/state"; mkdir -p "$work/state"
QUANTD_DATABASE_URL=$db QUANTD_LISTEN=127.0.0.1:$qport QUANTD_STATE_DIR=$work/state \
  "$BIN" serve --config bench/quantd.bench.json > "$work/quantd.log" 2>&1 &
qpid=$!
nginx_conf=$work/nginx.conf
cleanup() { kill "$qpid" 2>/dev/null || true; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$qport/v1/health" >/dev/null && break; sleep 0.1; done
tok=$(cat "$work/state/admin.token")
# 2,520 business days from 2015-01-01 end on 2024-08-28
curl -sf -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
  -d '{"type":"ingest_equity","params":{"symbols":["BENCH"],"start_date":"2015-01-01","end_date":"2024-08-28"}}' \
  "http://127.0.0.1:$qport/v1/jobs" >/dev/null
for i in $(seq 1 100); do
  n=$(curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$qport/v1/bars/BENCH" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["bars"]))' 2>/dev/null || echo 0)
  [ "$n" = 2520 ] && break; sleep 0.2
done
[ "$n" = 2520 ] || { echo "bench: bars not ingested ($n rows)"; exit 1; }
mkdir -p "$work/www"
curl -sf "http://127.0.0.1:$qport/v1/health" > "$work/www/health.json"
curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$qport/v1/bars/BENCH" > "$work/www/bars.json"
cat > "$nginx_conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp; uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$nport; root $work/www; default_type application/json; }
}
CONF
mkdir -p "$work/nginx-tmp"
nginx -c "$nginx_conf" -p "$work"
sleep 0.3
run() { # name url [auth]
  if [ -n "${3:-}" ]; then
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/report.lua -H "Authorization: Bearer $3" "$2" | grep '^wrk '
  else
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/report.lua "$2" | grep '^wrk '
  fi | sed "s/^wrk /$1 /"
}
res=$work/results.txt
{
  run quantd_health "http://127.0.0.1:$qport/v1/health"
  run nginx_small "http://127.0.0.1:$nport/health.json"
  run quantd_bars "http://127.0.0.1:$qport/v1/bars/BENCH" "$tok"
  run nginx_bars "http://127.0.0.1:$nport/bars.json"
} | tee "$res"
get() { sed -n "s/^$1 .*$2=\([0-9]*\).*/\1/p" "$res"; }
hs=$(stat -c %s "$work/www/health.json"); bs=$(stat -c %s "$work/www/bars.json")
echo
printf '%-16s %10s %8s %8s %8s\n' target bytes rps p50_us p99_us
for t in quantd_health nginx_small quantd_bars nginx_bars; do
  case $t in *health|*small) sz=$hs;; *) sz=$bs;; esac
  printf '%-16s %10s %8s %8s %8s\n' "$t" "$sz" "$(get $t rps)" "$(get $t p50_us)" "$(get $t p99_us)"
done
echo "bench http health_rps=$(get quantd_health rps) nginx_small_rps=$(get nginx_small rps) ratio=$(python3 -c "print(round($(get quantd_health rps)/$(get nginx_small rps),3))") target_ratio>=0.5"
echo "bench http bars_rps=$(get quantd_bars rps) nginx_bars_rps=$(get nginx_bars rps) ratio=$(python3 -c "print(round($(get quantd_bars rps)/$(get nginx_bars rps),3))") bars_bytes=$bs target_bars_rps>=1000"
