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

#endif
