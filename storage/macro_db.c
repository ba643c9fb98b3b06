/* Macro and COT SQL (see macro_db.h). Worker threads. */
#include "storage/macro_db.h"
#include "storage/pg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
macro_series_release(struct macro_series *s)
{
    free(s->day);
    free(s->value);
    memset(s, 0, sizeof(*s));
}

/* Fills out from a result of (day int4 text, value float8 text or NULL). */
static enum qd_code
fill(PGresult *res, struct macro_series *out, struct qd_err *err)
{
    size_t n = (size_t)PQntuples(res);

    memset(out, 0, sizeof(*out));
    if (n == 0)
        return QD_OK;
    out->day = malloc(n * sizeof(*out->day));
    out->value = malloc(n * sizeof(*out->value));
    if (out->day == NULL || out->value == NULL) {
        macro_series_release(out);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        out->day[i] = (int32_t)strtol(PQgetvalue(res, (int)i, 0), NULL, 10);
        out->value[i] = PQgetisnull(res, (int)i, 1) ? NAN
                                                    : strtod(PQgetvalue(res, (int)i, 1), NULL);
    }
    out->n = n;
    return QD_OK;
}

static enum qd_code
read_two(PGconn *c, const char *sql, const char *key, int32_t to, struct macro_series *out,
         struct qd_err *err)
{
    char tob[16];
    const char *p[2] = {key, tob};
    PGresult *res;
    enum qd_code rc;

    snprintf(tob, sizeof(tob), "%d", (int)(to > 1000000 ? 1000000 : to));   /* year 4707 */
    rc = pg_exec(c, sql, 2, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    rc = fill(res, out, err);
    PQclear(res);
    return rc;
}

enum qd_code
macro_db_read(PGconn *c, const char *series_id, int32_t to, struct macro_series *out,
              struct qd_err *err)
{
    /* PostgreSQL 12+ prints float8 as the shortest text that reads back exactly */
    return read_two(c,
                    "SELECT (date - '1970-01-01'::date)::int4, value FROM macro_observations "
                    "WHERE series_id = $1 AND date <= '1970-01-01'::date + $2::int4 "
                    "ORDER BY date",
                    series_id, to, out, err);
}

enum qd_code
cot_db_net_share(PGconn *c, const char *market, int32_t to, struct macro_series *out,
                 struct qd_err *err)
{
    return read_two(c,
                    "SELECT (report_date - '1970-01-01'::date)::int4, "
                    "CASE WHEN open_interest > 0 THEN "
                    "(noncomm_long - noncomm_short)::float8 / open_interest END "
                    "FROM cot_reports WHERE market = $1 "
                    "AND report_date <= '1970-01-01'::date + $2::int4 ORDER BY report_date",
                    market, to, out, err);
}
