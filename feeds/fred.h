#ifndef FEEDS_FRED_H
#define FEEDS_FRED_H

/*
 * FRED series observations (../shared/docs/external-apis.md §2): the JSON parser (pure, fuzzed)
 * and the client (libcurl through feeds/http.h; the API key goes in the query string and is
 * masked in every message). Any thread.
 */

#include "common/err.h"
#include "feeds/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appends one page (FRED's "." as NaN) of /fred/series/observations (file_type=json) to out; *count gets the
 * total the server reports. QD_EINVAL with the reason (not JSON, a missing field, a bad date
 * or value: naming the observation); QD_ENOMEM. out keeps what it had on error. */
enum qd_code fred_parse_page(const char *json, size_t len, struct feed_series *out,
                             long long *count, struct qd_err *err);
/* The error_message of a FRED error body ({"error_code", "error_message"}), or "". */
void fred_error_message(const char *json, size_t len, char *out, size_t n);
/* A FRED series id as quantd accepts it: 1-64 of A-Z, 0-9, '_' (FRED ids are upper case). */
bool fred_series_id_valid(const char *id);

/* Fetches a series' observations dated in [start, end] (INT32_MIN / INT32_MAX: open), all
 * pages. Errors: QD_EAUTH when FRED refuses the key or there is none ("FRED_API_KEY" named,
 * never its value); QD_ENOTFOUND for an unknown series; QD_ETRANSIENT when retries ran out;
 * QD_EINVAL for an answer that is not FRED's. */
enum qd_code fred_fetch(const char *series_id, int32_t start, int32_t end, feed_stop_fn *stop,
                        void *stop_arg, struct feed_series *out, struct qd_err *err);

#endif
