/* Macro and COT SQL (see macro_db.h). Worker threads. */
#include "storage/macro_db.h"
#include "storage/pg.h"
#include "common/buf.h"
#include "common/date.h"

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

enum qd_code
macro_db_upsert(PGconn *c, const char *series_id, const int32_t *days, const double *values,
                size_t n, long long *written, struct qd_err *err)
{
    const char *p[1] = {series_id};
    struct qd_buf rows = QD_BUF_INIT(0);
    PGresult *res;
    enum qd_code rc = QD_OK;

    *written = 0;
    for (size_t i = 0; i < n && rc == QD_OK; i++) {
        char d[16];
        qd_date_format(days[i], d);
        if (isfinite(values[i]))
            rc = qd_buf_printf(&rows, "%s\t%.17g\n", d, values[i]);
        else
            rc = qd_buf_printf(&rows, "%s\t\\N\n", d);      /* missing: NULL, never 0 */
    }
    if (rc != QD_OK) {
        qd_buf_release(&rows);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_exec(c,
                     "CREATE TEMP TABLE IF NOT EXISTS macro_stage (date date, value float8) "
                     "ON COMMIT DELETE ROWS",
                     0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK && rows.len > 0) {
        rc = pg_copy_in(c, "COPY macro_stage (date, value) FROM STDIN", rows.data, rows.len, err);
        if (rc == QD_OK)
            rc = pg_exec(c,
                         "INSERT INTO macro_observations AS m (series_id, date, value) "
                         "SELECT $1, date, value FROM macro_stage "
                         "ON CONFLICT (series_id, date) DO UPDATE SET value = excluded.value, "
                         "updated_at = now() WHERE m.value IS DISTINCT FROM excluded.value",
                         1, p, PGRES_COMMAND_OK, &res, err);
        if (rc == QD_OK) {
            *written = strtoll(PQcmdTuples(res), NULL, 10);
            PQclear(res);
        }
    }
    rc = pg_end(c, rc, err);
    qd_buf_release(&rows);
    return rc;
}

enum qd_code
macro_db_json(PGconn *c, const char *series_id, int32_t start, int32_t end, char **json,
              struct qd_err *err)
{
    char a[16] = "-infinity", b[16] = "infinity";
    const char *p[3] = {series_id, a, b};
    PGresult *res;
    enum qd_code rc;

    if (start != INT32_MIN)
        qd_date_format(start, a);
    if (end != INT32_MAX)
        qd_date_format(end, b);
    rc = pg_exec(c,
                 "SELECT CASE WHEN EXISTS (SELECT 1 FROM macro_observations WHERE series_id = $1) "
                 "THEN json_build_object('series_id', $1::text, 'observations', coalesce(("
                 "SELECT json_agg(json_build_object('date', to_char(date, 'YYYY-MM-DD'), "
                 "'value', value) ORDER BY date) FROM macro_observations WHERE series_id = $1 "
                 "AND date >= $2::date AND date <= $3::date), '[]'::json)) END",
                 3, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "no observations of series %s", series_id);
    }
    *json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *json ? QD_OK : qd_err_set(err, QD_ENOMEM, "out of memory");
}

/* Appends a count for COPY text: \N when absent. */
static enum qd_code
copy_count(struct qd_buf *b, int64_t v, const char *sep)
{
    return v < 0 ? qd_buf_printf(b, "\\N%s", sep)
                 : qd_buf_printf(b, "%lld%s", (long long)v, sep);
}

enum qd_code
cot_db_upsert(PGconn *c, const char *market, const struct cot_db_row *rows, size_t n,
              long long *written, struct qd_err *err)
{
    const char *p[1] = {market};
    struct qd_buf b = QD_BUF_INIT(0);
    PGresult *res;
    enum qd_code rc = QD_OK;

    *written = 0;
    for (size_t i = 0; i < n && rc == QD_OK; i++) {
        char d[16];
        qd_date_format(rows[i].day, d);
        rc = qd_buf_printf(&b, "%s\t", d);
        /* market names are plain text; tabs, newlines and backslashes cannot come through the
         * parser's JSON strings unescaped here, so drop them */
        for (const char *q = rows[i].name; rc == QD_OK && *q; q++)
            if (*q != '\t' && *q != '\n' && *q != '\r' && *q != '\\')
                rc = qd_buf_append(&b, q, 1);
        if (rc == QD_OK)
            rc = qd_buf_puts(&b, "\t");
        if (rc == QD_OK) rc = copy_count(&b, rows[i].open_interest, "\t");
        if (rc == QD_OK) rc = copy_count(&b, rows[i].noncomm_long, "\t");
        if (rc == QD_OK) rc = copy_count(&b, rows[i].noncomm_short, "\t");
        if (rc == QD_OK) rc = copy_count(&b, rows[i].noncomm_spread, "\t");
        if (rc == QD_OK) rc = copy_count(&b, rows[i].comm_long, "\t");
        if (rc == QD_OK) rc = copy_count(&b, rows[i].comm_short, "\n");
    }
    if (rc != QD_OK) {
        qd_buf_release(&b);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_exec(c,
                     "CREATE TEMP TABLE IF NOT EXISTS cot_stage (report_date date, market_name "
                     "text, open_interest bigint, noncomm_long bigint, noncomm_short bigint, "
                     "noncomm_spread bigint, comm_long bigint, comm_short bigint) "
                     "ON COMMIT DELETE ROWS",
                     0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK && b.len > 0) {
        rc = pg_copy_in(c, "COPY cot_stage FROM STDIN", b.data, b.len, err);
        if (rc == QD_OK)
            rc = pg_exec(c,
                         "INSERT INTO cot_reports AS r (market, report_date, market_name, "
                         "open_interest, noncomm_long, noncomm_short, noncomm_spread, comm_long, "
                         "comm_short) SELECT $1, report_date, market_name, open_interest, "
                         "noncomm_long, noncomm_short, noncomm_spread, comm_long, comm_short "
                         "FROM cot_stage ON CONFLICT (market, report_date) DO UPDATE SET "
                         "market_name = excluded.market_name, open_interest = "
                         "excluded.open_interest, noncomm_long = excluded.noncomm_long, "
                         "noncomm_short = excluded.noncomm_short, noncomm_spread = "
                         "excluded.noncomm_spread, comm_long = excluded.comm_long, comm_short = "
                         "excluded.comm_short, updated_at = now() WHERE (r.market_name, "
                         "r.open_interest, r.noncomm_long, r.noncomm_short, r.noncomm_spread, "
                         "r.comm_long, r.comm_short) IS DISTINCT FROM (excluded.market_name, "
                         "excluded.open_interest, excluded.noncomm_long, excluded.noncomm_short, "
                         "excluded.noncomm_spread, excluded.comm_long, excluded.comm_short)",
                         1, p, PGRES_COMMAND_OK, &res, err);
        if (rc == QD_OK) {
            *written = strtoll(PQcmdTuples(res), NULL, 10);
            PQclear(res);
        }
    }
    rc = pg_end(c, rc, err);
    qd_buf_release(&b);
    return rc;
}

enum qd_code
cot_db_json(PGconn *c, const char *market, int32_t start, int32_t end, char **json,
            struct qd_err *err)
{
    char a[16] = "-infinity", b[16] = "infinity";
    const char *p[3] = {market, a, b};
    PGresult *res;
    enum qd_code rc;

    if (start != INT32_MIN)
        qd_date_format(start, a);
    if (end != INT32_MAX)
        qd_date_format(end, b);
    rc = pg_exec(c,
                 "SELECT CASE WHEN EXISTS (SELECT 1 FROM cot_reports WHERE market = $1) THEN "
                 "json_build_object('market', $1::text, 'reports', coalesce((SELECT json_agg("
                 "json_build_object('date', to_char(report_date, 'YYYY-MM-DD'), 'market_name', "
                 "market_name, 'open_interest', open_interest, 'noncomm_long', noncomm_long, "
                 "'noncomm_short', noncomm_short, 'noncomm_spread', noncomm_spread, "
                 "'comm_long', comm_long, 'comm_short', comm_short, 'net_noncomm_share', "
                 "CASE WHEN open_interest > 0 THEN (noncomm_long - noncomm_short)::float8 / "
                 "open_interest END) ORDER BY report_date) FROM cot_reports WHERE market = $1 "
                 "AND report_date >= $2::date AND report_date <= $3::date), '[]'::json)) END",
                 3, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "no COT reports of market %s", market);
    }
    *json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *json ? QD_OK : qd_err_set(err, QD_ENOMEM, "out of memory");
}
