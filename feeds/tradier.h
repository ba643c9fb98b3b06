#ifndef FEEDS_TRADIER_H
#define FEEDS_TRADIER_H

/*
 * Tradier market data, options (../shared/docs/external-apis.md §5): expirations, then each
 * expiration's chain with greeks. The parsers are pure (and fuzzed); every collection node may
 * be an array, a bare object or string (one element), or null (none), as Tradier serializes
 * from XML. The client sends the token as a bearer header from feeds.tradier (TRADIER_API_KEY)
 * and never shows it; a 429 waits for X-Ratelimit-Expiry. Any thread.
 */

#include "common/err.h"
#include "feeds/http.h"
#include "feeds/options.h"

#include <stddef.h>
#include <stdint.h>

/* The dates of {"expirations": {"date": [..] | ".." | null} | null} (or, with strikes=true,
 * {"expirations": {"expiration": [{"date": ..}, ..]}}) into out[0..max), increasing and
 * without repeats; *n gets how many. QD_EINVAL with the reason; QD_ETOOBIG past max. */
enum qd_code tradier_parse_expirations(const char *json, size_t len, int32_t *out, size_t max,
                                       size_t *n, struct qd_err *err);

/* Appends the contracts of {"options": {"option": [..] | {..} | null} | null} to out; *count
 * gets how many. QD_EINVAL naming the contract and field (a missing symbol, type, strike or
 * expiration date); quote fields and greeks may be null or absent (NaN / -1). out keeps what
 * it had on error. */
enum qd_code tradier_parse_chain(const char *json, size_t len, struct option_quotes *out,
                                 size_t *count, struct qd_err *err);

/* The message of a Tradier error body: the Apigee fault's faultstring, the first of
 * {"errors": {"error": ..}}, or the plain text (e.g. "Invalid Access Token"), cut to n. */
void tradier_error_message(const char *body, size_t len, char *out, size_t n);

/* A symbol's expiration dates (at most max). QD_EAUTH naming TRADIER_API_KEY (none, or
 * refused); QD_ETRANSIENT when retries ran out; QD_EINVAL for an answer that is not
 * Tradier's. No expirations: *n = 0. */
enum qd_code tradier_fetch_expirations(const char *symbol, feed_stop_fn *stop, void *stop_arg,
                                       int32_t *out, size_t max, size_t *n, struct qd_err *err);

/* One expiration's chain with greeks, appended to out. Errors as above. */
enum qd_code tradier_fetch_chain(const char *symbol, int32_t expiration, feed_stop_fn *stop,
                                 void *stop_arg, struct option_quotes *out, struct qd_err *err);

#endif
