#ifndef STORAGE_OPTIONS_DB_H
#define STORAGE_OPTIONS_DB_H

/* Option chain snapshots (migration 0007, option_quotes). Blocking: worker threads only. */

#include "common/err.h"
#include "feeds/options.h"

#include <libpq-fe.h>

#include <stddef.h>
#include <stdint.h>

/* Upserts one underlying's snapshot of day as_of from source ("tradier" | "polygon") in one
 * transaction: COPY into a staging table, then insert or update the rows that changed.
 * *written gets the rows inserted or changed. QD_EINVAL when two quotes share a key
 * (expiration, strike, right). */
enum qd_code options_db_upsert(PGconn *c, const char *underlying, int32_t as_of,
                               const char *source, const struct option_quote *q, size_t n,
                               long long *written, struct qd_err *err);

/* {"symbol", "as_of", "quotes": [{"contract", "expiration", "strike", "right": "call"|"put",
 * "bid", "ask", "last", "volume", "open_interest", "iv", "delta", "gamma", "theta", "vega",
 * "rho", "source", "quote_time"}, …]} ordered by expiration, strike, right, source. as_of
 * INT32_MIN: the latest day with quotes; expiration INT32_MIN: all; source NULL: every source.
 * QD_ENOTFOUND when there are no quotes that day (or none at all). */
enum qd_code options_db_json(PGconn *c, const char *underlying, int32_t as_of,
                             int32_t expiration, const char *source, char **json,
                             struct qd_err *err);

#endif
