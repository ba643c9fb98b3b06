# Shared by the bench scripts (sourced): a private PostgreSQL database and a quantd serving on a
# free loopback port, and a helper that submits a job and waits for it.
#   bench_start NAME   -> sets $work, $db, $port, $pid, $tok (daemon stopped on exit)
#   bench_job BODY     -> prints the finished job's JSON
BIN=${QUANTD_BIN:-build/quantd}

bench_start() {
    work=$(pwd)/var/bench-$1
    rm -rf "$work"
    mkdir -p "$work"
    sh scripts/pg.sh start var/pg-bench >/dev/null
    db=$(sh scripts/pg.sh url var/pg-bench)
    psql "$db" -qc "DROP DATABASE IF EXISTS bench_$1 WITH (FORCE)" -c "CREATE DATABASE bench_$1" 2>/dev/null
    db=$(sh scripts/pg.sh url var/pg-bench "bench_$1")
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    QUANTD_DATABASE_URL=$db QUANTD_LISTEN=127.0.0.1:$port QUANTD_STATE_DIR=$work \
        "$BIN" serve --config bench/quantd.bench.json > "$work/quantd.log" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break
        sleep 0.1
    done
    tok=$(cat "$work/admin.token")
}

# No python in the polling loop: a pyenv shim costs ~0.4 s per start, which the end-to-end
# figures would otherwise include. The job's id is the first "id" of the POST's answer.
bench_job() {
    _id=$(curl -sf -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$1" \
          "http://127.0.0.1:$port/v1/jobs" | grep -Eo '"id" ?: ?[0-9]+' | head -1 | grep -Eo '[0-9]+$')
    while :; do
        _out=$(curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/jobs/$_id")
        case $(printf '%s' "$_out" | grep -Eo '"status" ?: ?"[a-z]+"' | head -1) in
        *queued*|*running*) sleep 0.01 ;;
        *) break ;;
        esac
    done
    printf '%s' "$_out"
}
