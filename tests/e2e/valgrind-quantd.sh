#!/bin/sh
# QUANTD_BIN for `make valgrind`: the daemon under valgrind's memcheck; a leak or memory error
# makes the daemon exit 99, which the e2e tests see as a failed SIGTERM exit status.
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 --log-file="${QUANTD_STATE_DIR:-.}/valgrind.log" \
    "$(dirname "$0")/../../build/quantd" "$@"
