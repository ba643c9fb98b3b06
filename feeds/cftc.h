#ifndef FEEDS_CFTC_H
#define FEEDS_CFTC_H

/*
 * CFTC Commitments of Traders, legacy report, from the Public Reporting Environment (Socrata
 * SODA API, ../shared/docs/external-apis.md §3): the JSON parser (pure, fuzzed) and the client
 * (paging with $limit / $offset). Any thread.
 */

#include "common/err.h"
#include "feeds/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cot_row {
    int32_t day;                    /* report date (the Tuesday of the positions) */
    char    market[16];             /* CFTC contract market code, trimmed: "13874A" */
    char    name[128];              /* market_and_exchange_names */
    int64_t open_interest, noncomm_long, noncomm_short;
    int64_t noncomm_spread, comm_long, comm_short;   /* -1: absent (Socrata omits nulls) */
};

struct cot_rows {
    struct cot_row *row;
    size_t          n, cap;
};
void cot_rows_release(struct cot_rows *r);

/* Appends the rows of one page (a JSON array of objects whose values are strings) to out and
 * sets *page_rows. QD_EINVAL naming the row and field (not an array, a missing or non-integer
 * count, a bad date); out keeps what it had on error. */
enum qd_code cftc_parse_page(const char *json, size_t len, struct cot_rows *out,
                             size_t *page_rows, struct qd_err *err);
/* A contract market code as accepted: 1-16 of 0-9, A-Z. */
bool cftc_market_valid(const char *code);

/* Every report of a market dated in [start, end] (INT32_MIN / INT32_MAX: open), oldest first,
 * from feeds.cftc (base URL and dataset). QD_ETRANSIENT when retries ran out (429, 202, 5xx,
 * timeouts); QD_EAUTH for 401/403; QD_EINVAL for an answer that is not Socrata's. */
enum qd_code cftc_fetch(const char *market, int32_t start, int32_t end, feed_stop_fn *stop,
                        void *stop_arg, struct cot_rows *out, struct qd_err *err);

#endif
