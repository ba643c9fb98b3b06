/* Features SQL (see features_db.h): COPY into a staging table, then one upsert that writes only
 * changed values. Worker threads. */
#include "storage/features_db.h"
#include "common/buf.h"
#include "common/date.h"
#include "storage/pg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum qd_code
features_db_upsert(PGconn *c, const char *symbol, const char *name, const int32_t *days,
                   const double *values, size_t n, int32_t from, int32_t to, long long *written,
                   struct qd_err *err)
{
    const char *p[2] = {symbol, name};
    struct qd_buf rows = QD_BUF_INIT(0);
    PGresult *res;
    enum qd_code rc;

    *written = 0;
    for (size_t i = 0; i < n; i++) {
        char d[11];
        if (days[i] < from || days[i] > to || !isfinite(values[i]))
            continue;
        qd_date_format(days[i], d);
        if (qd_buf_printf(&rows, "%s\t%.17g\n", d, values[i]) != QD_OK) {
            qd_buf_release(&rows);
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        }
    }
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_exec(c,
                     "CREATE TEMP TABLE IF NOT EXISTS features_stage (ts date, value float8) "
                     "ON COMMIT DELETE ROWS",
                     0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK && rows.len > 0) {
        rc = pg_copy_in(c, "COPY features_stage (ts, value) FROM STDIN", rows.data, rows.len, err);
        if (rc == QD_OK) {
            rc = pg_exec(c,
                         "INSERT INTO features AS f (symbol, name, ts, value) "
                         "SELECT $1, $2, ts, value FROM features_stage "
                         "ON CONFLICT (symbol, name, ts) DO UPDATE SET value = excluded.value "
                         "WHERE f.value IS DISTINCT FROM excluded.value",
                         2, p, PGRES_COMMAND_OK, &res, err);
            if (rc == QD_OK) {
                *written = strtoll(PQcmdTuples(res), NULL, 10);
                PQclear(res);
            }
        }
    }
    rc = pg_end(c, rc, err);
    qd_buf_release(&rows);
    return rc;
}

enum qd_code
features_db_read(PGconn *c, const char *symbol, const char *const *names, int32_t start,
                 int32_t end, char **json, struct qd_err *err)
{
    struct qd_buf arr = QD_BUF_INIT(0);
    char a[16] = "-infinity", b[16] = "infinity";
    const char *p[4] = {symbol, NULL, a, b};
    PGresult *res;
    enum qd_code rc;

    qd_buf_puts(&arr, "{");
    for (size_t i = 0; names[i]; i++)
        qd_buf_printf(&arr, "%s\"%s\"", i ? "," : "", names[i]);
    qd_buf_puts(&arr, "}");
    p[1] = arr.data;
    if (start != INT32_MIN)
        qd_date_format(start, a);
    if (end != INT32_MAX)
        qd_date_format(end, b);
    /* one row per date that has any requested feature; every name present (null when absent) */
    rc = pg_exec(c,
                 "WITH n AS (SELECT unnest($2::text[]) AS name), "
                 "d AS (SELECT DISTINCT ts FROM features WHERE symbol = $1 AND name = ANY($2) "
                 "AND ts >= $3::date AND ts <= $4::date) "
                 "SELECT json_build_object('symbol', $1::text, 'rows', coalesce(json_agg(r ORDER "
                 "BY ts), '[]'::json)) FROM (SELECT d.ts, (json_build_object('ts', "
                 "to_char(d.ts, 'YYYY-MM-DD'))::jsonb || jsonb_object_agg(n.name, "
                 "CASE WHEN f.value IN ('NaN'::float8, 'Infinity', '-Infinity') THEN NULL "
                 "ELSE f.value END)) AS r FROM d CROSS JOIN n LEFT JOIN features f ON "
                 "f.symbol = $1 AND f.name = n.name AND f.ts = d.ts GROUP BY d.ts) x",
                 4, p, PGRES_TUPLES_OK, &res, err);
    qd_buf_release(&arr);
    if (rc != QD_OK)
        return rc;
    *json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *json ? QD_OK : qd_err_set(err, QD_ENOMEM, "out of memory");
}
