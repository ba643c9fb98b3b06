#!/bin/sh
# Runs the end-to-end test binaries against the private test cluster var/pg-test (never
# var/pg, which is `make run`'s). Prints one summary line `N passed, N failed`.
set -u
sh scripts/pg.sh start var/pg-test || { echo "could not start the test PostgreSQL"; exit 1; }
QUANTD_TEST_PG_DIR=$(cd var/pg-test && pwd)
export QUANTD_TEST_PG_DIR
export QUANTD_BIN=${QUANTD_BIN:-build/quantd}
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-1}
passed=0; failed=0; bad=""
for t in "$@"; do
    echo "== $t"
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    checks=$(printf '%s' "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
    fails=$(printf '%s' "$line" | sed -n 's/.*Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2/p')
    f=0; for n in $fails; do f=$((f + n)); done
    if [ -z "$checks" ]; then checks=1; f=1; fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + checks - f)); failed=$((failed + f))
    [ "$rc" -ne 0 ] && bad="$bad $t"
done
echo "e2e: $passed passed, $failed failed"
[ -z "$bad" ]
