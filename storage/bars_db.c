/*
 * Bars SQL. DESIGN: writes go COPY (binary) -> temporary staging table -> one
 * INSERT … ON CONFLICT DO UPDATE … WHERE the row differs, in a single transaction, so a
 * re-run of the same data changes nothing and a failure keeps nothing. Binary COPY is about
 * twice CSV COPY (docs/limits in ../shared) and needs no float formatting.
 * Worker threads only.
 */
#include "storage/bars_db.h"
#include "common/buf.h"
#include "common/date.h"
#include "storage/pg.h"

#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL dates count days from 2000-01-01; timestamps microseconds from it. */
#define PG_EPOCH_DAYS 10957
#define COPY_CHUNK    (256 * 1024)

static void
put16(unsigned char *p, uint16_t v)
{
    v = htons(v);
    memcpy(p, &v, 2);
}

static void
put32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

static void
put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static void
putf8(unsigned char *p, double d)
{
    uint64_t u;

    memcpy(&u, &d, 8);
    put64(p, u);
}

/* Streams k series as one binary COPY of (ts timestamptz, open..adj_close float8, volume int8)
 * with the statement given: into the staging table (symbols NULL), or straight into bars with
 * each series' symbol, interval '1d' and source as text columns. */
static enum qd_code
copy_many(PGconn *c, const char *copy_sql, const struct bar_series *const *ss,
          const char *const *symbols, size_t k, const char *source, struct qd_err *err)
{
    static const unsigned char header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r',
                                             '\n', 0,   0,   0,   0,   0,   0,   0,    0,   0};
    enum { ROW = 2 + 7 * 4 + 7 * 8 };
    size_t sl = 0, ol = symbols && source ? strlen(source) : 0;
    unsigned char *buf, *p;
    PGresult *res;
    enum qd_code rc = QD_OK;

    for (size_t j = 0; symbols && j < k; j++)
        sl = strlen(symbols[j]) > sl ? strlen(symbols[j]) : sl;
    buf = malloc(COPY_CHUNK + ROW + 3 * 4 + sl + ol + 2 + sizeof(header));
    if (buf == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    res = PQexec(c, copy_sql);
    rc = pg_check(c, res, PGRES_COPY_IN, err);
    PQclear(res);
    if (rc != QD_OK) {
        free(buf);
        return rc;
    }
    memcpy(buf, header, sizeof(header));
    p = buf + sizeof(header);
    for (size_t j = 0; j < k && rc == QD_OK; j++) {
        const struct bar_series *s = ss[j];
        const char *symbol = symbols ? symbols[j] : NULL;
        size_t len = symbol ? strlen(symbol) : 0;
        for (size_t i = 0; i < s->n && rc == QD_OK; i++) {
            int64_t usec = ((int64_t)s->day[i] - PG_EPOCH_DAYS) * 86400LL * 1000000LL;
            double v[5] = {s->open[i], s->high[i], s->low[i], s->close[i], s->adj_close[i]};

            put16(p, symbol ? 10 : 7);
            p += 2;
            if (symbol) {
                put32(p, (uint32_t)len);
                memcpy(p + 4, symbol, len);
                p += 4 + len;
                put32(p, 2);
                memcpy(p + 4, "1d", 2);
                p += 6;
            }
            put32(p, 8);
            put64(p + 4, (uint64_t)usec);
            p += 12;
            for (int f = 0; f < 5; f++) {
                put32(p, 8);
                putf8(p + 4, v[f]);
                p += 12;
            }
            put32(p, 8);
            put64(p + 4, (uint64_t)s->volume[i]);
            p += 12;
            if (symbol) {
                put32(p, (uint32_t)ol);
                memcpy(p + 4, source, ol);
                p += 4 + ol;
            }
            if (p - buf >= COPY_CHUNK) {
                if (PQputCopyData(c, (const char *)buf, (int)(p - buf)) != 1)
                    rc = qd_err_set(err, QD_EDB_RETRY, "database: COPY failed: %s",
                                    PQerrorMessage(c));
                p = buf;
            }
        }
    }
    put16(p, 0xffff);               /* trailer */
    p += 2;
    if (rc == QD_OK && PQputCopyData(c, (const char *)buf, (int)(p - buf)) != 1)
        rc = qd_err_set(err, QD_EDB_RETRY, "database: COPY failed: %s", PQerrorMessage(c));
    free(buf);
    if (PQputCopyEnd(c, rc == QD_OK ? NULL : "aborted") != 1 && rc == QD_OK)
        rc = qd_err_set(err, QD_EDB_RETRY, "database: COPY failed: %s", PQerrorMessage(c));
    while ((res = PQgetResult(c)) != NULL) {
        if (rc == QD_OK)
            rc = pg_check(c, res, PGRES_COMMAND_OK, err);
        PQclear(res);
    }
    return rc;
}

static enum qd_code
copy_series(PGconn *c, const char *copy_sql, const struct bar_series *s, const char *symbol,
            const char *source, struct qd_err *err)
{
    const struct bar_series *ss[1] = {s};
    const char *syms[1] = {symbol};

    return copy_many(c, copy_sql, ss, symbol ? syms : NULL, 1, source, err);
}

#define DIRECT_COPY                                                                               \
    "COPY bars (symbol, interval, ts, open, high, low, close, adj_close, volume, source) "        \
    "FROM STDIN (FORMAT binary)"

#define STAGE_COPY                                                                                \
    "COPY bars_stage (ts, open, high, low, close, adj_close, volume) FROM STDIN (FORMAT binary)"

/* Writes s into bars. fresh: the symbol has no bar in the range (a first ingest), so a COPY
 * straight into bars does; otherwise staged rows are upserted, writing only those that differ.
 * *changed gets the rows written. */
static enum qd_code
upsert_rows(PGconn *c, const char *symbol, const char *source, const struct bar_series *s,
            bool fresh, long long *changed, struct qd_err *err)
{
    const char *p[2] = {symbol, source};
    PGresult *res = NULL;
    enum qd_code rc;

    if (fresh) {
        /* a first load of the range: straight into bars, no staging (measured: about twice
         * the rows per second of staging + INSERT ... SELECT); a concurrent writer shows up as
         * a unique violation and the caller redoes it with conflict handling */
        rc = copy_series(c, DIRECT_COPY, s, symbol, source, err);
        if (rc == QD_OK)
            *changed = (long long)s->n;
        return rc;
    }
    rc = copy_series(c, STAGE_COPY, s, NULL, NULL, err);
    if (rc != QD_OK)
        return rc;
    rc = pg_exec(c,
                 "INSERT INTO bars AS b (symbol, interval, ts, open, high, low, close, "
                 "adj_close, volume, source) "
                 "SELECT $1, '1d', ts, open, high, low, close, adj_close, volume, $2 "
                 "FROM bars_stage "
                 "ON CONFLICT (symbol, interval, ts) DO UPDATE SET open = excluded.open, "
                 "high = excluded.high, low = excluded.low, close = excluded.close, "
                 "adj_close = excluded.adj_close, volume = excluded.volume, "
                 "source = excluded.source "
                 "WHERE (b.open, b.high, b.low, b.close, b.adj_close, b.volume, b.source) "
                 "IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, "
                 "excluded.close, excluded.adj_close, excluded.volume, excluded.source)",
                 2, p, PGRES_COMMAND_OK, &res, err);
    if (rc == QD_OK)
        *changed = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

enum qd_code
bars_db_upsert(PGconn *c, const char *symbol, const char *source, const struct bar_series *s,
               struct bars_upsert_result *out, struct qd_err *err)
{
    const char *p[3] = {symbol, NULL, NULL};
    char first[11], last[11];
    PGresult *res = NULL;
    enum qd_code rc;
    bool fresh = false;

    out->rows = (long long)s->n;
    out->changed = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
        if (rc != QD_OK)
            return rc;
        rc = pg_exec(c,
                     "CREATE TEMP TABLE IF NOT EXISTS bars_stage (ts timestamptz, open float8, "
                     "high float8, low float8, close float8, adj_close float8, volume int8) "
                     "ON COMMIT DELETE ROWS",
                     0, NULL, PGRES_COMMAND_OK, NULL, err);
        if (rc == QD_OK)
            rc = pg_exec(c, "INSERT INTO symbols (symbol) VALUES ($1) ON CONFLICT DO NOTHING", 1,
                         p, PGRES_COMMAND_OK, NULL, err);
        if (rc == QD_OK && s->n > 0 && attempt == 0) {
            /* no bar of the symbol in the range yet: plain inserts, no conflict handling */
            qd_date_format(s->day[0], first);
            qd_date_format(s->day[s->n - 1], last);
            p[1] = first;
            p[2] = last;
            rc = pg_exec(c,
                         "SELECT NOT EXISTS (SELECT 1 FROM bars WHERE symbol = $1 AND "
                         "interval = '1d' AND ts >= $2::date AND ts <= $3::date)",
                         3, p, PGRES_TUPLES_OK, &res, err);
            fresh = rc == QD_OK && PQgetvalue(res, 0, 0)[0] == 't';
            PQclear(res);
            res = NULL;
        } else {
            fresh = false;
        }
        if (rc == QD_OK && s->n > 0)
            rc = upsert_rows(c, symbol, source, s, fresh, &out->changed, err);
        if (rc == QD_OK && out->changed > 0)
            rc = pg_exec(c, "UPDATE symbols SET bars_version = bars_version + 1 WHERE symbol = $1",
                         1, p, PGRES_COMMAND_OK, NULL, err);
        rc = pg_end(c, rc, err);
        /* a concurrent writer added rows after our check: redo with conflict handling */
        if (rc == QD_ECONFLICT && fresh)
            continue;
        break;
    }
    return rc;
}

static void
day_param(int32_t day, char *buf)
{
    if (day == INT32_MIN)
        snprintf(buf, 16, "-infinity");
    else if (day == INT32_MAX)
        snprintf(buf, 16, "infinity");
    else
        qd_date_format(day, buf);
}

enum qd_code
bars_db_version(PGconn *c, const char *symbol, int64_t *version, struct qd_err *err)
{
    const char *p[1] = {symbol};
    PGresult *res;
    enum qd_code rc = pg_exec(c, "SELECT bars_version FROM symbols WHERE symbol = $1", 1, p,
                              PGRES_TUPLES_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = qd_err_set(err, QD_ENOTFOUND, "symbol \"%s\" not found", symbol);
    else
        *version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

static double
getf8(const char *p)
{
    uint32_t hi, lo;
    uint64_t u;
    double d;

    memcpy(&hi, p, 4);
    memcpy(&lo, p + 4, 4);
    u = ((uint64_t)ntohl(hi) << 32) | ntohl(lo);
    memcpy(&d, &u, 8);
    return d;
}

static int64_t
get8(const char *p)
{
    uint32_t hi, lo;

    memcpy(&hi, p, 4);
    memcpy(&lo, p + 4, 4);
    return (int64_t)(((uint64_t)ntohl(hi) << 32) | ntohl(lo));
}

enum qd_code
bars_db_read(PGconn *c, const char *symbol, int32_t start_day, int32_t end_day,
             struct bar_series *s, int64_t *version, struct qd_err *err)
{
    char a[16], b[16];
    const char *p[3] = {symbol, a, b};
    PGresult *res;
    enum qd_code rc;
    int n;

    bar_series_clear(s);
    day_param(start_day, a);
    day_param(end_day, b);
    /* one statement: version and rows from the same snapshot; binary results avoid parsing */
    res = PQexecParams(c,
                       "SELECT s.bars_version, (b.ts::date - '1970-01-01'::date)::int4, b.open, "
                       "b.high, b.low, b.close, b.adj_close, b.volume FROM symbols s "
                       "LEFT JOIN bars b ON b.symbol = s.symbol AND b.interval = '1d' "
                       "AND b.ts >= $2::date::timestamptz AND b.ts <= $3::date::timestamptz "
                       "WHERE s.symbol = $1 ORDER BY b.ts",
                       3, NULL, p, NULL, NULL, 1);
    rc = pg_check(c, res, PGRES_TUPLES_OK, err);
    if (rc != QD_OK) {
        PQclear(res);
        return rc;
    }
    n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "symbol \"%s\" not found", symbol);
    }
    *version = get8(PQgetvalue(res, 0, 0));
    for (int i = 0; i < n && rc == QD_OK; i++) {
        uint32_t d;
        if (PQgetisnull(res, i, 1))
            continue;               /* the symbol exists but has no bars in range */
        memcpy(&d, PQgetvalue(res, i, 1), 4);
        rc = bar_series_push(s, (int32_t)ntohl(d), getf8(PQgetvalue(res, i, 2)),
                             getf8(PQgetvalue(res, i, 3)), getf8(PQgetvalue(res, i, 4)),
                             getf8(PQgetvalue(res, i, 5)), getf8(PQgetvalue(res, i, 6)),
                             get8(PQgetvalue(res, i, 7)));
    }
    PQclear(res);
    if (rc != QD_OK)
        return qd_err_set(err, rc, "out of memory reading bars");
    return QD_OK;
}

enum qd_code
bars_db_symbols(PGconn *c, char **json, struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc = pg_exec(
        c,
        "SELECT json_build_object('symbols', coalesce(json_agg(json_build_object("
        "'symbol', s.symbol, 'bars', coalesce(x.n, 0), 'first', to_char(x.first, 'YYYY-MM-DD'), "
        "'last', to_char(x.last, 'YYYY-MM-DD')) ORDER BY s.symbol), '[]'::json)) "
        "FROM symbols s LEFT JOIN LATERAL (SELECT count(*) AS n, min(ts AT TIME ZONE 'UTC') AS "
        "first, max(ts AT TIME ZONE 'UTC') AS last FROM bars b WHERE b.symbol = s.symbol "
        "AND b.interval = '1d') x ON true",
        0, NULL, PGRES_TUPLES_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    *json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *json ? QD_OK : qd_err_set(err, QD_ENOMEM, "out of memory");
}

enum qd_code
bars_db_actions_upsert(PGconn *c, const char *symbol, const char *source, const int32_t *day,
                       const char *kind, const double *value, size_t n, long long *written,
                       struct qd_err *err)
{
    struct qd_buf d = QD_BUF_INIT(0), k = QD_BUF_INIT(0), v = QD_BUF_INIT(0);
    const char *p[5];
    PGresult *res;
    enum qd_code rc = QD_OK;

    *written = 0;
    if (n == 0)
        return QD_OK;
    /* three parallel arrays as text literals: {2024-01-02,...} */
    for (size_t i = 0; i < n && rc == QD_OK; i++) {
        char ds[16];
        qd_date_format(day[i], ds);
        rc = qd_buf_printf(&d, "%s%s", i ? "," : "{", ds);
        if (rc == QD_OK)
            rc = qd_buf_printf(&k, "%s%s", i ? "," : "{", kind[i] == 'S' ? "split" : "dividend");
        if (rc == QD_OK)
            rc = qd_buf_printf(&v, "%s%.17g", i ? "," : "{", value[i]);
    }
    if (rc == QD_OK && (rc = qd_buf_puts(&d, "}")) == QD_OK && (rc = qd_buf_puts(&k, "}")) == QD_OK)
        rc = qd_buf_puts(&v, "}");
    if (rc != QD_OK) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    } else {
        p[0] = symbol;
        p[1] = source;
        p[2] = d.data;
        p[3] = k.data;
        p[4] = v.data;
        rc = pg_exec(c,
                     "INSERT INTO corporate_actions AS a (symbol, ex_date, kind, value, source) "
                     "SELECT $1, x.d, x.k, x.v, $2 FROM unnest($3::date[], $4::text[], "
                     "$5::float8[]) AS x(d, k, v) ON CONFLICT (symbol, ex_date, kind) DO UPDATE "
                     "SET value = excluded.value, source = excluded.source, updated_at = now() "
                     "WHERE (a.value, a.source) IS DISTINCT FROM (excluded.value, excluded.source)",
                     5, p, PGRES_COMMAND_OK, &res, err);
        if (rc == QD_OK) {
            *written = strtoll(PQcmdTuples(res), NULL, 10);
            PQclear(res);
        }
    }
    qd_buf_release(&d);
    qd_buf_release(&k);
    qd_buf_release(&v);
    return rc;
}

/* Text array literal {"a","b"} of symbols (validated: no quotes or backslashes in them). */
static enum qd_code
text_array(struct qd_buf *b, const char *const *v, size_t k)
{
    enum qd_code rc = qd_buf_puts(b, "{");

    for (size_t j = 0; j < k && rc == QD_OK; j++)
        rc = qd_buf_printf(b, "%s\"%s\"", j ? "," : "", v[j]);
    return rc == QD_OK ? qd_buf_puts(b, "}") : rc;
}

enum qd_code
bars_db_upsert_many(PGconn *c, const char *const *symbols, const struct bar_series *const *ss,
                    size_t k, const char *source, struct bars_upsert_result *out,
                    struct qd_err *err)
{
    struct qd_buf names = QD_BUF_INIT(0), firsts = QD_BUF_INIT(0), lasts = QD_BUF_INIT(0);
    const char **fs = calloc(k + 1, sizeof(*fs));
    const struct bar_series **fss = calloc(k + 1, sizeof(*fss));
    bool *fresh = calloc(k + 1, sizeof(*fresh));
    size_t nf = 0;
    PGresult *res = NULL;
    enum qd_code rc = QD_OK;

    if (fs == NULL || fss == NULL || fresh == NULL) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < k && rc == QD_OK; j++) {
        char a[16] = "infinity", b[16] = "-infinity";
        if (ss[j]->n > 0) {
            qd_date_format(ss[j]->day[0], a);
            qd_date_format(ss[j]->day[ss[j]->n - 1], b);
        }
        rc = qd_buf_printf(&firsts, "%s%s", j ? "," : "{", a);
        if (rc == QD_OK)
            rc = qd_buf_printf(&lasts, "%s%s", j ? "," : "{", b);
    }
    if (rc == QD_OK && (rc = qd_buf_puts(&firsts, "}")) == QD_OK &&
        (rc = qd_buf_puts(&lasts, "}")) == QD_OK)
        rc = text_array(&names, symbols, k);
    if (rc != QD_OK) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        goto out;
    }
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK) {
        const char *p[3] = {names.data, firsts.data, lasts.data};
        rc = pg_exec(c, "INSERT INTO symbols (symbol) SELECT unnest($1::text[]) "
                        "ON CONFLICT DO NOTHING",
                     1, p, PGRES_COMMAND_OK, NULL, err);
        /* which symbols have no bar in their range: those are fresh */
        if (rc == QD_OK)
            rc = pg_exec(c,
                         "SELECT NOT EXISTS (SELECT 1 FROM bars b WHERE b.symbol = x.s AND "
                         "b.interval = '1d' AND b.ts >= x.a AND b.ts <= x.z) FROM "
                         "unnest($1::text[], $2::date[], $3::date[]) WITH ORDINALITY "
                         "AS x(s, a, z, i) ORDER BY i",
                         3, p, PGRES_TUPLES_OK, &res, err);
    }
    for (size_t j = 0; rc == QD_OK && j < k; j++) {
        fresh[j] = ss[j]->n > 0 && PQgetvalue(res, (int)j, 0)[0] == 't';
        if (fresh[j]) {
            fs[nf] = symbols[j];
            fss[nf++] = ss[j];
        }
    }
    PQclear(res);
    res = NULL;
    if (rc == QD_OK && nf > 0)
        rc = copy_many(c, DIRECT_COPY, fss, fs, nf, source, err);
    if (rc == QD_OK && nf > 0) {
        struct qd_buf fn = QD_BUF_INIT(0);
        const char *p[1];
        if (text_array(&fn, fs, nf) != QD_OK)
            rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        p[0] = fn.data;
        if (rc == QD_OK)
            rc = pg_exec(c, "UPDATE symbols SET bars_version = bars_version + 1 "
                            "WHERE symbol = ANY($1::text[])",
                         1, p, PGRES_COMMAND_OK, NULL, err);
        qd_buf_release(&fn);
    }
    rc = pg_end(c, rc, err);
    if (rc == QD_EDB_RETRY || rc == QD_ETIMEOUT || rc == QD_ENOMEM)
        goto out;
    if (rc != QD_OK) {
        /* a concurrent writer, or a row the database refused: every symbol through the
         * careful path, so that only the guilty one fails */
        memset(fresh, 0, k * sizeof(*fresh));
        rc = QD_OK;
    }
    for (size_t j = 0; j < k && rc == QD_OK; j++) {
        struct qd_err e = {0};
        enum qd_code one;
        out[j].code = QD_OK;
        out[j].error[0] = '\0';
        if (fresh[j]) {
            out[j].rows = out[j].changed = (long long)ss[j]->n;
            continue;
        }
        one = bars_db_upsert(c, symbols[j], source, ss[j], &out[j], &e);
        out[j].code = one;
        memcpy(out[j].error, one == QD_OK ? "" : e.msg, one == QD_OK ? 1 : sizeof(e.msg));
        if (one == QD_EDB_RETRY || one == QD_ETIMEOUT || one == QD_ENOMEM)
            rc = qd_err_set(err, one, "%s: %s", symbols[j], e.msg);
    }
out:
    qd_buf_release(&names);
    qd_buf_release(&firsts);
    qd_buf_release(&lasts);
    free(fs);
    free(fss);
    free(fresh);
    return rc;
}
