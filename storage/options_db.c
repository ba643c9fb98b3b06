/* option_quotes SQL (see options_db.h). Worker threads. */
#include "storage/options_db.h"
#include "storage/pg.h"
#include "common/buf.h"
#include "common/date.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* COPY text of a float: \N when NaN (absent, never 0). */
static enum qd_code
copy_num(struct qd_buf *b, double v, char sep)
{
    return isfinite(v) ? qd_buf_printf(b, "%.17g%c", v, sep) : qd_buf_printf(b, "\\N%c", sep);
}

static enum qd_code
copy_count(struct qd_buf *b, int64_t v, char sep)
{
    return v < 0 ? qd_buf_printf(b, "\\N%c", sep) : qd_buf_printf(b, "%lld%c", (long long)v, sep);
}

static enum qd_code
copy_row(struct qd_buf *b, const struct option_quote *q)
{
    char e[16];
    enum qd_code rc;

    qd_date_format(q->expiration, e);
    /* contract symbols are A-Z, 0-9 and '.' (the parsers check): nothing to escape */
    rc = qd_buf_printf(b, "%s\t%.17g\t%c\t%s\t", e, q->strike, q->right, q->contract);
    if (rc == QD_OK) rc = copy_num(b, q->bid, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->ask, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->last, '\t');
    if (rc == QD_OK) rc = copy_count(b, q->volume, '\t');
    if (rc == QD_OK) rc = copy_count(b, q->open_interest, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->iv, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->delta, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->gamma, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->theta, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->vega, '\t');
    if (rc == QD_OK) rc = copy_num(b, q->rho, '\t');
    if (rc == QD_OK)
        rc = q->quote_ms > 0 ? qd_buf_printf(b, "%lld\n", (long long)q->quote_ms)
                             : qd_buf_puts(b, "\\N\n");
    return rc;
}

enum qd_code
options_db_upsert(PGconn *c, const char *underlying, int32_t as_of, const char *source,
                  const struct option_quote *q, size_t n, long long *written,
                  struct qd_err *err)
{
    char day[16];
    const char *p[3] = {underlying, day, source};
    struct qd_buf b = QD_BUF_INIT(0);
    PGresult *res;
    enum qd_code rc = QD_OK;

    *written = 0;
    qd_date_format(as_of, day);
    for (size_t i = 0; i < n && rc == QD_OK; i++)
        rc = copy_row(&b, &q[i]);
    if (rc != QD_OK) {
        qd_buf_release(&b);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_exec(c,
                     "CREATE TEMP TABLE IF NOT EXISTS option_stage (expiration date, strike "
                     "float8, option_right char(1), contract text, bid float8, ask float8, "
                     "last float8, volume bigint, open_interest bigint, iv float8, delta float8, "
                     "gamma float8, theta float8, vega float8, rho float8, quote_ms bigint) "
                     "ON COMMIT DELETE ROWS",
                     0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK && b.len > 0) {
        rc = pg_copy_in(c, "COPY option_stage FROM STDIN", b.data, b.len, err);
        /* a repeated key would make ON CONFLICT touch a row twice: say which */
        if (rc == QD_OK) {
            rc = pg_exec(c,
                         "SELECT min(contract) FROM option_stage GROUP BY expiration, strike, "
                         "option_right HAVING count(*) > 1 LIMIT 1",
                         0, NULL, PGRES_TUPLES_OK, &res, err);
            if (rc == QD_OK) {
                if (PQntuples(res) > 0)
                    rc = qd_err_set(err, QD_EINVAL, "the provider sent contract %.40s twice",
                                    PQgetvalue(res, 0, 0));
                PQclear(res);
            }
        }
        if (rc == QD_OK)
            rc = pg_exec(c,
                         "INSERT INTO option_quotes AS o (underlying, as_of, source, expiration, "
                         "strike, option_right, contract, bid, ask, last, volume, open_interest, "
                         "iv, delta, gamma, theta, vega, rho, quote_time) SELECT $1, $2::date, "
                         "$3, expiration, strike, option_right, contract, bid, ask, last, volume, "
                         "open_interest, iv, delta, gamma, theta, vega, rho, "
                         "to_timestamp(quote_ms / 1000.0) FROM option_stage "
                         "ON CONFLICT (underlying, as_of, source, expiration, strike, "
                         "option_right) DO UPDATE SET contract = excluded.contract, bid = "
                         "excluded.bid, ask = excluded.ask, last = excluded.last, volume = "
                         "excluded.volume, open_interest = excluded.open_interest, iv = "
                         "excluded.iv, delta = excluded.delta, gamma = excluded.gamma, theta = "
                         "excluded.theta, vega = excluded.vega, rho = excluded.rho, quote_time = "
                         "excluded.quote_time, updated_at = now() WHERE (o.contract, o.bid, "
                         "o.ask, o.last, o.volume, o.open_interest, o.iv, o.delta, o.gamma, "
                         "o.theta, o.vega, o.rho, o.quote_time) IS DISTINCT FROM "
                         "(excluded.contract, excluded.bid, excluded.ask, excluded.last, "
                         "excluded.volume, excluded.open_interest, excluded.iv, excluded.delta, "
                         "excluded.gamma, excluded.theta, excluded.vega, excluded.rho, "
                         "excluded.quote_time)",
                         3, p, PGRES_COMMAND_OK, &res, err);
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
options_db_json(PGconn *c, const char *underlying, int32_t as_of, int32_t expiration,
                const char *source, char **json, struct qd_err *err)
{
    char a[16] = "", e[16] = "";
    const char *p[4] = {underlying, as_of == INT32_MIN ? NULL : a,
                        expiration == INT32_MIN ? NULL : e, source};
    PGresult *res;
    enum qd_code rc;

    if (as_of != INT32_MIN)
        qd_date_format(as_of, a);
    if (expiration != INT32_MIN)
        qd_date_format(expiration, e);
    /* the day: as given, else the latest with quotes (of that source) */
    rc = pg_exec(c,
                 "WITH d AS (SELECT coalesce($2::date, (SELECT max(as_of) FROM option_quotes "
                 "WHERE underlying = $1 AND ($4::text IS NULL OR source = $4))) AS day), "
                 "q AS (SELECT o.* FROM option_quotes o, d WHERE o.underlying = $1 AND "
                 "o.as_of = d.day AND ($3::date IS NULL OR o.expiration = $3::date) AND "
                 "($4::text IS NULL OR o.source = $4)) "
                 "SELECT CASE WHEN EXISTS (SELECT 1 FROM q) THEN json_build_object('symbol', "
                 "$1::text, 'as_of', (SELECT to_char(day, 'YYYY-MM-DD') FROM d), 'quotes', "
                 "(SELECT json_agg(json_build_object('contract', contract, 'expiration', "
                 "to_char(expiration, 'YYYY-MM-DD'), 'strike', strike, 'right', CASE "
                 "option_right WHEN 'C' THEN 'call' ELSE 'put' END, 'bid', bid, 'ask', ask, "
                 "'last', last, 'volume', volume, 'open_interest', open_interest, 'iv', iv, "
                 "'delta', delta, 'gamma', gamma, 'theta', theta, 'vega', vega, 'rho', rho, "
                 "'source', source, 'quote_time', to_char(quote_time AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) ORDER BY expiration, strike, "
                 "option_right, source) FROM q)) END",
                 4, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "no option quotes of %s%s%s", underlying,
                          as_of != INT32_MIN ? " on " : "", a);
    }
    *json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *json ? QD_OK : qd_err_set(err, QD_ENOMEM, "out of memory");
}
