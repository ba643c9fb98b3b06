#ifndef FEEDS_YAHOO_H
#define FEEDS_YAHOO_H

/*
 * Yahoo Finance chart API v8, daily bars (../shared/docs/external-apis.md §1): the JSON parser
 * (pure, fuzzed, benchmarked) and the client with the cookie + crumb flow. Any thread.
 */

#include "common/err.h"
#include "core/bar.h"
#include "feeds/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Dividends (amount per share) and splits (ratio = numerator / denominator) by ex-date. */
struct yahoo_action {
    int32_t day;
    char    kind;                   /* 'D' dividend, 'S' split */
    double  value;
};
struct yahoo_actions {
    struct yahoo_action *a;
    size_t               n, cap;
};
void yahoo_actions_release(struct yahoo_actions *x);

struct yahoo_stats {
    size_t skipped_nulls;           /* bars with a null price or volume: skipped, never 0 */
    size_t skipped_bad;             /* bars with a non-positive or non-finite price */
    bool   empty;                   /* no timestamps / quote [{}]: no price data in the range */
};

/* Parses a chart answer into daily bars (date = the bar's time shifted by meta.gmtoffset,
 * increasing; a repeated date keeps the later bar, Yahoo's in-progress bar) and events, both
 * appended. adj_close = close when Yahoo sends no adjclose. QD_ENOTFOUND when the answer is
 * Yahoo's "No data found" error; QD_EINVAL with the reason otherwise (error object, shape). */
enum qd_code yahoo_parse_chart(const char *json, size_t len, struct bar_series *bars,
                               struct yahoo_actions *acts, struct yahoo_stats *st,
                               struct qd_err *err);

/* The fast path of yahoo_parse_chart (feeds/yahoo_scan.c): a single-pass scanner for the
 * usual success answer, with exactly yahoo_parse_chart's results. QD_OK, or QD_EINTERNAL
 * meaning "not handled here, use the jansson parser" (an error answer, invalid JSON, an odd
 * shape, anything the jansson parser would reject); then bars->n and acts->n are as they were
 * and err is untouched. Never any other code. */
enum qd_code yahoo_scan_chart(const char *json, size_t len, struct bar_series *bars,
                              struct yahoo_actions *acts, struct yahoo_stats *st,
                              struct qd_err *err);

/* yahoo_parse_chart through jansson only: the reference the scanner is tested against
 * (tests/unit/feeds/test_yahoo_scan.c, tests/fuzz/fuzz_yahoo.c). Not for other callers. */
enum qd_code yahoo_parse_chart_jansson(const char *json, size_t len, struct bar_series *bars,
                                       struct yahoo_actions *acts, struct yahoo_stats *st,
                                       struct qd_err *err);

/* The hidden inputs csrfToken and sessionId of Yahoo's EU consent form (an HTML page), into
 * csrf and sid (n bytes each). False when either is missing, empty, too long or holds a quote
 * or angle bracket. Pure (fuzzed). */
bool yahoo_consent_form(const char *html, size_t len, char *csrf, char *sid, size_t n);

/* Daily bars and events of symbol for days [start, end], with the cookie + crumb flow
 * (fetched once per process and refreshed once on a refusal): the "basic" strategy (the A3
 * cookie from the cookie host, then getcrumb), falling back on the "csrf" strategy of the EU
 * consent wall (the consent form's csrfToken and sessionId posted back with agree, which sets
 * A3; then getcrumb on the chart host), and switching strategy when a session is refused, as
 * yfinance does. QD_ENOTFOUND for an unknown or
 * delisted symbol; QD_ETRANSIENT when retries ran out (429, 5xx, outage page, timeouts);
 * QD_EAUTH when Yahoo refuses even a fresh crumb; QD_EINVAL for other errors. */
enum qd_code yahoo_fetch(const char *symbol, int32_t start, int32_t end, feed_stop_fn *stop,
                         void *stop_arg, struct bar_series *bars, struct yahoo_actions *acts,
                         struct yahoo_stats *st, struct qd_err *err);

#endif
