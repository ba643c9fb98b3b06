#!/bin/sh
# Runs the end-to-end test binaries (Check programs) one after the other against the private
# test cluster var/pg-test (never var/pg, which is `make run`'s), from the repository root:
#   sh tests/e2e/run.sh BIN...
# Exports QUANTD_TEST_PG_DIR (absolute), QUANTD_BIN (default build/quantd),
# CK_TIMEOUT_MULTIPLIER (default 1: the suites set their own timeouts) and CK_DEFAULT_TIMEOUT (default 30 s). Counts the checks
# from each binary's Check summary line and ends with one line `N passed, N failed`; exits
# non-zero when any binary failed (a failed check, a crash, or a non-zero exit such as a leak
# report). The cluster is left running so that re-runs are fast (`sh scripts/pg.sh stop
# var/pg-test` stops it).
set -u
pg_dir=var/pg-test
[ $# -gt 0 ] || { echo "usage: tests/e2e/run.sh TEST-BINARY..." >&2; exit 2; }
sh scripts/pg.sh start "$pg_dir" || { echo "e2e: could not start the test PostgreSQL in $pg_dir" >&2; exit 1; }
QUANTD_TEST_PG_DIR=$(realpath "$pg_dir")
QUANTD_BIN=${QUANTD_BIN:-build/quantd}
CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-1}
CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30}
export QUANTD_TEST_PG_DIR QUANTD_BIN CK_TIMEOUT_MULTIPLIER CK_DEFAULT_TIMEOUT
[ -x "$QUANTD_BIN" ] || echo "e2e: warning: QUANTD_BIN=$QUANTD_BIN is not an executable" >&2

# daemon state dirs (build/e2e-state/<test>-<pid>-<n>) are kept for post-mortems; prune old ones
if [ -d build/e2e-state ]; then
    find build/e2e-state -mindepth 1 -maxdepth 1 -mmin +720 -exec rm -rf {} + 2>/dev/null
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
passed=0; failed=0; bad=""
for t in "$@"; do
    echo "== $t"
    t0=$(date +%s)
    { "$t" 2>&1; echo $? >"$tmp/rc"; } | tee "$tmp/out"
    rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
    # "100%: Checks: 5, Failures: 0, Errors: 0" (summed, should a binary run several runners)
    read -r n checks fails <<EOF
$(awk '/^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
           gsub(/,/, ""); n++; c += $3; f += $5 + $7 }
       END { print n + 0, c + 0, f + 0 }' "$tmp/out")
EOF
    if [ "$n" -eq 0 ]; then
        echo "e2e: $t printed no Check summary (exit status $rc)"
        checks=1; fails=1
    elif [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
        echo "e2e: $t exited with status $rc although its checks passed"
        fails=1
        [ "$checks" -gt 0 ] || checks=1
    fi
    passed=$((passed + checks - fails)); failed=$((failed + fails))
    if [ "$rc" -ne 0 ] || [ "$fails" -ne 0 ]; then bad="$bad $t"; fi
    echo "== $t: $((checks - fails))/$checks in $(( $(date +%s) - t0 )) s"
done
[ -z "$bad" ] || echo "e2e: failed:$bad"
echo "$passed passed, $failed failed"
[ -z "$bad" ]
