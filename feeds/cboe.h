#ifndef FEEDS_CBOE_H
#define FEEDS_CBOE_H

/*
 * CBOE VIX daily history CSV (../shared/docs/external-apis.md §4): the parser (pure, fuzzed)
 * and the client. Any thread.
 */

#include "common/err.h"
#include "feeds/feeds.h"
#include "feeds/http.h"

/* Parses DATE,OPEN,HIGH,LOW,CLOSE (MM/DD/YYYY, ascending) into the closes. A UTF-8 BOM, CRLF
 * line ends and a last line without a newline are accepted; a header-only file gives n = 0.
 * A bad row, a high below the low, a duplicate or out-of-order date fails the whole file:
 * QD_EINVAL naming the line. close keeps nothing on error. */
enum qd_code cboe_parse_vix(const char *csv, size_t len, struct feed_series *close,
                            struct qd_err *err);

/* Downloads and parses the VIX history from feeds.cboe.base_url. QD_ETRANSIENT when retries
 * ran out; QD_EAUTH for a 401/403 (the CDN refusing us); QD_EINVAL for a bad file. */
enum qd_code cboe_fetch_vix(feed_stop_fn *stop, void *stop_arg, struct feed_series *close,
                            struct qd_err *err);

#endif
