#ifndef STORAGE_MACRO_DB_H
#define STORAGE_MACRO_DB_H

/* Macro and positioning series (migration 0005), read by the feature factory. Blocking: worker
 * threads only. */

#include "common/err.h"

#include <libpq-fe.h>

#include <stddef.h>
#include <stdint.h>

/* A dated series: days (since 1970-01-01, increasing) and values (NaN where missing). */
struct macro_series {
    int32_t *day;
    double  *value;
    size_t   n;
};
void macro_series_release(struct macro_series *s);

/* The observations of series_id dated up to `to` (INT32_MAX: all), oldest first. An absent
 * series is n = 0 (not an error). */
enum qd_code macro_db_read(PGconn *c, const char *series_id, int32_t to, struct macro_series *out,
                           struct qd_err *err);

/* The COT reports of a market up to `to`: day = report date, value = net non-commercial
 * (long - short) / open interest (NaN when open interest is 0). n = 0 when none. */
enum qd_code cot_db_net_share(PGconn *c, const char *market, int32_t to,
                              struct macro_series *out, struct qd_err *err);

/* Upserts a series' observations (NaN stored as NULL: missing) in one transaction: COPY into a
 * staging table, then insert or update the rows whose value changed (a FRED revision).
 * *written gets the rows inserted or changed. */
enum qd_code macro_db_upsert(PGconn *c, const char *series_id, const int32_t *days,
                             const double *values, size_t n, long long *written,
                             struct qd_err *err);

/* {"series_id", "observations": [{"date", "value": number|null}, …]} for dates in
 * [start, end] (INT32_MIN / INT32_MAX: open); QD_ENOTFOUND when the series has no rows at all. */
enum qd_code macro_db_json(PGconn *c, const char *series_id, int32_t start, int32_t end,
                           char **json, struct qd_err *err);

/* One COT report for cot_db_upsert (the counts of feeds/cftc.h; -1 = absent, stored NULL). */
struct cot_db_row {
    int32_t     day;
    const char *name;
    int64_t     open_interest, noncomm_long, noncomm_short, noncomm_spread, comm_long,
                comm_short;
};
/* Upserts a market's reports (a revision updates the row) in one transaction; *written gets
 * the rows inserted or changed. */
enum qd_code cot_db_upsert(PGconn *c, const char *market, const struct cot_db_row *rows,
                           size_t n, long long *written, struct qd_err *err);
/* {"market", "reports": [{"date", "market_name", "open_interest", "noncomm_long",
 * "noncomm_short", "noncomm_spread", "comm_long", "comm_short", "net_noncomm_share"}, …]} in
 * [start, end]; QD_ENOTFOUND when the market has no reports at all. */
enum qd_code cot_db_json(PGconn *c, const char *market, int32_t start, int32_t end, char **json,
                         struct qd_err *err);

#endif
