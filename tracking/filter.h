#ifndef TRACKING_FILTER_H
#define TRACKING_FILTER_H

/*
 * The run-search filter (docs/tracking.md, "Filter grammar"): a small MLflow-like language,
 *     metrics.sharpe_ratio > 1.5 AND params.`momentum.sma_crossover.fast` = 10
 * compiled to a SQL boolean expression over the runs table (alias r) and the metrics table.
 *
 * Nothing the user typed ever reaches the SQL text: every key and every value becomes a bound
 * parameter ($n, in order from a caller-given first number), and the SQL is assembled only from
 * fixed fragments (a whitelist of columns and operators) and parameter numbers. A parameter
 * number may appear more than once in the SQL (a params key compared with a number is used
 * twice); every number from first_param to first_param + nvalues - 1 appears at least once.
 *
 * Pure: no I/O, no globals (only constant tables); any thread.
 */

#include "common/err.h"

#include <stddef.h>

#define RUN_FILTER_MAX_TEXT  4096   /* bytes of filter text */
#define RUN_FILTER_MAX_CONDS 20     /* conditions joined by AND */
#define RUN_FILTER_MAX_KEY   250    /* bytes of a key */
#define RUN_FILTER_MAX_STR   1000   /* bytes of a string value */

struct run_filter {
    char  *sql;                     /* malloc'd, "TRUE" when there are no conditions */
    char **values;                  /* malloc'd array of malloc'd NUL-terminated parameter texts,
                                     * values[i] is $(first_param + i); NULL when nvalues is 0 */
    int    nvalues;
};

/* Parses text (len bytes, not necessarily NUL-terminated; NULL only with len 0) into f, the
 * parameters numbered from first_param (1 ..  65535 - 2 * RUN_FILTER_MAX_CONDS). An empty or
 * blank text gives sql "TRUE" and no values. QD_EINVAL for text that is not a valid filter, with
 * err.field "filter" and a message "filter: <what> at <byte offset from 0>"; QD_ENOMEM. On any
 * error f is zeroed (nothing to release). */
enum qd_code run_filter_parse(const char *text, size_t len, int first_param,
                              struct run_filter *f, struct qd_err *err);
/* Frees what run_filter_parse gave and zeroes f; f may be zeroed already, or NULL. */
void run_filter_release(struct run_filter *f);

#endif
