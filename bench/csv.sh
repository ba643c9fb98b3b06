#!/bin/sh
# CSV ingest bench (issue 3): 1,000,000 bar rows (400 symbols x 2,500 days) through
# PUT /v1/bars/{symbol} (two uploads at a time) and through an ingest_equity job with
# source csv reading the same files from the import directory, each into new symbols, and in
# the same run a plain COPY of the same rows into a copy of the bars table (same columns and
# primary key). Prints `bench csv ...` lines. Target: each path >= 50 % of COPY's rows/s.
set -eu
NSYM=${NSYM:-400}
NDAYS=${NDAYS:-2500}
. bench/lib.sh
bench_start csv
imp=$work/import
mkdir -p "$imp"
# the files: Yahoo-style CSV, one per symbol, and the same rows as one COPY file
PY=$(command -v /usr/bin/python3 || command -v python3)
"$PY" - "$imp" "$NSYM" "$NDAYS" <<'PYEOF'
import datetime, random, sys
imp, nsym, ndays = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(42)
day0 = datetime.date(2000, 1, 3)
dates = [(day0 + datetime.timedelta(days=d)).isoformat() for d in range(ndays)]
with open(imp + "/all.copy", "w") as allf:
    for s in range(nsym):
        p = 50.0 + s % 100
        out = ["Date,Open,High,Low,Close,Adj Close,Volume\n"]
        for d in range(ndays):
            p *= 1 + (random.random() - 0.5) * 0.02
            o, h, l, v = p * 0.999, p * 1.01, p * 0.99, int(1e6 + random.random() * 1e5)
            row = "%.4f,%.4f,%.4f,%.4f,%.4f,%d" % (o, h, l, p, p, v)
            out.append("%s,%s\n" % (dates[d], row))
            allf.write("C%03d,1d,%s 00:00:00+00,%s,bench\n" % (s, dates[d], row))
        with open("%s/C%03d.csv" % (imp, s), "w") as f:
            f.write("".join(out))
PYEOF
rows=$((NSYM * NDAYS))
bytes=$(cat "$imp"/C*.csv | wc -c)

# COPY baseline: a table like bars (columns, checks, primary key)
psql "$db" -qc "CREATE TABLE bars_copy (LIKE bars INCLUDING ALL)"
t0=$(date +%s.%N)
psql "$db" -qc "\\copy bars_copy FROM '$imp/all.copy' WITH (FORMAT csv)"
t1=$(date +%s.%N)
copy_s=$(echo "$t1 - $t0" | bc -l)

# PUT /v1/bars: every file to symbol P<nnn>, two at a time, from one curl process (a curl
# and a shell per file would cost more than the upload on this machine)
cfg=$work/put.curl
: > "$cfg"
for f in "$imp"/C*.csv; do
    s=P$(basename "$f" .csv | cut -c2-)
    [ -s "$cfg" ] && echo next >> "$cfg"       # between blocks only: a trailing one is an error
    printf 'url = "http://127.0.0.1:%s/v1/bars/%s"\nupload-file = "%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: text/csv"\nsilent\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{url}\\n"\n' \
        "$port" "$s" "$f" "$tok" >> "$cfg"
done
t0=$(date +%s.%N)
curl --no-progress-meter --parallel --parallel-max 2 -K "$cfg" > "$work/put.status" || true
bad=$(grep -vc "^200 " "$work/put.status" || true)
[ "$bad" = 0 ] || { echo "bench csv: $bad uploads failed:" >&2; grep -v "^200 " "$work/put.status" | sort | uniq -c | head -5 >&2; }
t1=$(date +%s.%N)
put_s=$(echo "$t1 - $t0" | bc -l)
put_rows=$(psql "$db" -Atc "SELECT count(*) FROM bars WHERE symbol LIKE 'P%'")

# ingest_equity, source csv, the directory: symbols C<nnn>
syms=$(ls "$imp"/C*.csv | sed 's|.*/\(C[0-9]*\)\.csv|"\1"|' | paste -sd, -)
t0=$(date +%s.%N)
out=$(bench_job "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[$syms],\"source\":\"csv\",\"path\":\".\",\"start_date\":\"2000-01-01\",\"end_date\":\"2030-12-31\"}}")
t1=$(date +%s.%N)
job_s=$(echo "$t1 - $t0" | bc -l)
job_rows=$(psql "$db" -Atc "SELECT count(*) FROM bars WHERE symbol LIKE 'C%'")

awk -v rows="$rows" -v bytes="$bytes" -v c="$copy_s" -v p="$put_s" -v pr="$put_rows" \
    -v j="$job_s" -v jr="$job_rows" 'BEGIN {
    printf "bench csv rows=%d csv_mb=%.1f\n", rows, bytes / 1e6
    printf "bench csv copy seconds=%.2f rows_per_s=%.0f\n", c, rows / c
    printf "bench csv put_bars seconds=%.2f rows=%d rows_per_s=%.0f ratio_to_copy=%.2f target>=0.5\n", p, pr, pr / p, (pr / p) / (rows / c)
    printf "bench csv ingest_equity_csv seconds=%.2f rows=%d rows_per_s=%.0f ratio_to_copy=%.2f target>=0.5\n", j, jr, jr / j, (jr / j) / (rows / c)
}'
