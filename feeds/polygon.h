#ifndef FEEDS_POLYGON_H
#define FEEDS_POLYGON_H

/*
 * Polygon.io (Massive.com) options (../shared/docs/external-apis.md §6): the contracts of an
 * underlying as of a date (/v3/reference/options/contracts, paged by next_url) and each
 * contract's daily aggregate (/v2/aggs). The parsers are pure (and fuzzed). The client sends the
 * key as a bearer header from feeds.polygon (POLYGON_API_KEY), never in a URL or a message, and
 * follows next_url only under the configured base URL (the key goes nowhere else). Any thread.
 */

#include "common/err.h"
#include "feeds/http.h"
#include "feeds/options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One daily aggregate: t = the bar's start (epoch ms, midnight in New York). */
struct polygon_bar {
    int64_t t;
    double  o, h, l, c, v, vw;
};

/* Appends the contracts of a contracts answer ("results" an array, or one object from the
 * single-contract endpoint) to out, with only contract, expiration, strike and right set (the
 * rest NaN / -1); *count gets how many; next (n bytes) gets next_url or "". QD_EINVAL naming
 * the contract and field; out keeps what it had on error. */
enum qd_code polygon_parse_contracts(const char *json, size_t len, struct option_quotes *out,
                                     size_t *count, char *next, size_t n, struct qd_err *err);

/* The bars of an aggregates answer into out[0..max) ("results" absent: none). QD_EINVAL for a
 * bar without t or c; QD_ETOOBIG past max. */
enum qd_code polygon_parse_aggs(const char *json, size_t len, struct polygon_bar *out,
                                size_t max, size_t *n, struct qd_err *err);

/* The "error" or "message" of a Polygon error body, or "". */
void polygon_error_message(const char *json, size_t len, char *out, size_t n);

/* The contracts of underlying listed as of day as_of that expire on `expiration`
 * (INT32_MIN: any date from as_of on), every page, at most max (QD_ETOOBIG beyond).
 * QD_EAUTH naming POLYGON_API_KEY (none, unknown, or not entitled); QD_ETRANSIENT when retries
 * ran out; QD_EINVAL for an answer that is not Polygon's. */
enum qd_code polygon_fetch_contracts(const char *underlying, int32_t as_of, int32_t expiration,
                                     size_t max, feed_stop_fn *stop, void *stop_arg,
                                     struct option_quotes *out, struct qd_err *err);

/* Fills q's last, volume and quote_ms from the contract's daily bar of `day` (unchanged when
 * there is none: no trade that day). Errors as above. */
enum qd_code polygon_fetch_day(struct option_quote *q, int32_t day, feed_stop_fn *stop,
                               void *stop_arg, struct qd_err *err);

#endif
