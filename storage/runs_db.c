/*
 * Runs SQL (see runs_db.h). A sweep inserts thousands of runs with tens of metrics each:
 * ids are reserved from the sequence in one statement, then runs and metrics go through COPY
 * (runs as text, metrics in the binary format), all in one transaction. Worker threads.
 */
#include "storage/runs_db.h"
#include "common/buf.h"
#include "common/date.h"
#include "storage/pg.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* pg_one_text with "<what> not found". */
static enum qd_code
one_text(PGconn *c, const char *sql, int n, const char *const *p, char **out, const char *what,
         struct qd_err *err)
{
    char msg[128];

    snprintf(msg, sizeof(msg), "%s not found", what);
    return pg_one_text(c, sql, n, p, out, msg, err);
}

enum qd_code
runs_db_experiment(PGconn *c, const char *name, int64_t *id, struct qd_err *err)
{
    const char *p[1] = {name};
    PGresult *res;
    enum qd_code rc = pg_exec(c,
                              "WITH ins AS (INSERT INTO experiments (name) VALUES ($1) "
                              "ON CONFLICT (name) DO NOTHING RETURNING id) "
                              "SELECT id FROM ins UNION ALL "
                              "SELECT id FROM experiments WHERE name = $1 LIMIT 1",
                              1, p, PGRES_TUPLES_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = qd_err_set(err, QD_EDB_RETRY, "experiment \"%s\" was created concurrently", name);
    else
        *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/* Appends s escaped for COPY text format: plain spans in one piece. */
static enum qd_code
copy_text(struct qd_buf *b, const char *s)
{
    enum qd_code rc = QD_OK;

    if (s == NULL)
        return qd_buf_puts(b, "\\N");
    while (*s && rc == QD_OK) {
        size_t span = strcspn(s, "\\\t\n\r");
        if (span > 0) {
            rc = qd_buf_append(b, s, span);
            s += span;
            continue;
        }
        switch (*s++) {
        case '\\':
            rc = qd_buf_puts(b, "\\\\");
            break;
        case '\t':
            rc = qd_buf_puts(b, "\\t");
            break;
        case '\n':
            rc = qd_buf_puts(b, "\\n");
            break;
        default:
            rc = qd_buf_puts(b, "\\r");
        }
    }
    return rc;
}

/* COPY binary format (PostgreSQL "COPY ... WITH (FORMAT binary)"): network byte order. */
static enum qd_code
put_be(struct qd_buf *b, uint64_t v, unsigned bytes)
{
    unsigned char x[8];

    for (unsigned i = 0; i < bytes; i++)
        x[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    return qd_buf_append(b, x, bytes);
}

/* One metrics row (run_id int8, key text, value float8) in binary COPY: no decimal formatting
 * or parsing of the values, NaN and infinities as they are. */
static void
copy_bin_metric(struct qd_buf *b, int64_t run_id, const char *key, double v)
{
    uint64_t bits;
    size_t klen = strlen(key);

    memcpy(&bits, &v, sizeof(bits));
    put_be(b, 3, 2);
    put_be(b, 8, 4);
    put_be(b, (uint64_t)run_id, 8);
    put_be(b, klen, 4);
    qd_buf_append(b, key, klen);
    put_be(b, 8, 4);
    put_be(b, bits, 8);
}

enum qd_code
runs_db_insert_batch(PGconn *c, const struct run_batch *b, int64_t *ids, struct qd_err *err)
{
    struct qd_buf runs = QD_BUF_INIT(0), mets = QD_BUF_INIT(0);
    char count[24], now[32];
    const char *p[1] = {count};
    PGresult *res = NULL;
    enum qd_code rc;

    if (b->n == 0)
        return QD_OK;
    snprintf(count, sizeof(count), "%zu", b->n);
    qd_time_format(qd_now_usec(), now);
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc != QD_OK)
        return rc;
    rc = pg_exec(c, "SELECT nextval('runs_id_seq') FROM generate_series(1, $1::int)", 1, p,
                 PGRES_TUPLES_OK, &res, err);
    {
        /* the whole binary stream at once, so that no append below can fail */
        size_t bytes = 11 + 8 + 2;
        for (unsigned k = 0; k < b->nm; k++)
            bytes += b->n * (2 + 4 + 8 + 4 + strlen(b->metric_names[k]) + 4 + 8);
        if (rc == QD_OK && qd_buf_reserve(&mets, bytes) != QD_OK)
            rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    /* binary COPY header: signature, flags, header extension length */
    qd_buf_append(&mets, "PGCOPY\n\377\r\n\0", 11);
    put_be(&mets, 0, 4);
    put_be(&mets, 0, 4);
    for (size_t i = 0; rc == QD_OK && i < b->n; i++) {
        ids[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
        qd_buf_printf(&runs, "%" PRId64 "\t%" PRId64 "\t", ids[i], b->experiment_id);
        copy_text(&runs, b->strategy[i]);
        qd_buf_puts(&runs, "\t");
        copy_text(&runs, b->params_json[i]);
        qd_buf_puts(&runs, "\t");
        copy_text(&runs, b->data_hash);
        qd_buf_puts(&runs, "\t");
        copy_text(&runs, b->config_hash[i]);
        qd_buf_puts(&runs, "\t");
        copy_text(&runs, b->engine_version);
        if (b->job_id > 0)
            qd_buf_printf(&runs, "\t%" PRId64, b->job_id);
        else
            qd_buf_puts(&runs, "\t\\N");
        qd_buf_printf(&runs, "\t%s\n", now);
        for (unsigned k = 0; k < b->nm; k++)
            copy_bin_metric(&mets, ids[i], b->metric_names[k], b->metrics[i * b->nm + k]);
    }
    put_be(&mets, UINT16_MAX, 2);                   /* trailer: field count -1 */
    PQclear(res);
    if (rc == QD_OK && (runs.data == NULL || mets.len == 0) && b->nm > 0)
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    if (rc == QD_OK)
        rc = pg_copy_in(c,
                        "COPY runs (id, experiment_id, strategy, params, data_hash, config_hash, "
                        "engine_version, job_id, end_time) FROM STDIN",
                        runs.data, runs.len, err);
    if (rc == QD_OK && b->nm > 0)
        rc = pg_copy_in(c, "COPY metrics (run_id, key, value) FROM STDIN WITH (FORMAT binary)",
                        mets.data, mets.len, err);
    rc = pg_end(c, rc, err);
    qd_buf_release(&runs);
    qd_buf_release(&mets);
    return rc;
}

enum qd_code
runs_db_store_series(PGconn *c, int64_t run_id, const int32_t *days, const double *equity,
                     size_t n, const char *trades_json, struct qd_err *err)
{
    struct qd_buf d = QD_BUF_INIT(0), e = QD_BUF_INIT(0);
    char id[24];
    const char *p[4] = {id, NULL, NULL, trades_json};
    enum qd_code rc = QD_OK;

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    qd_buf_puts(&d, "{");
    qd_buf_puts(&e, "{");
    for (size_t i = 0; i < n; i++) {
        qd_buf_printf(&d, "%s%d", i ? "," : "", days[i]);
        qd_buf_printf(&e, "%s%.17g", i ? "," : "", equity[i]);
    }
    if (qd_buf_puts(&d, "}") != QD_OK || qd_buf_puts(&e, "}") != QD_OK)
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    p[1] = d.data;
    p[2] = e.data;
    if (rc == QD_OK)
        rc = pg_exec(c,
                     "INSERT INTO run_series (run_id, days, equity, trades) VALUES ($1, $2, $3, "
                     "$4::jsonb) ON CONFLICT (run_id) DO UPDATE SET days = excluded.days, "
                     "equity = excluded.equity, trades = excluded.trades",
                     4, p, PGRES_COMMAND_OK, NULL, err);
    qd_buf_release(&d);
    qd_buf_release(&e);
    return rc;
}

/* NaN and infinities are not JSON: served as null. */
#define METRIC_JSON "CASE WHEN value IN ('NaN'::float8, 'Infinity', '-Infinity') THEN 'null'::json " \
                    "ELSE to_json(value) END"

enum qd_code
runs_db_get(PGconn *c, int64_t id, char **json, struct qd_err *err)
{
    char ids[24];
    const char *p[1] = {ids};

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    return one_text(
        c,
        "SELECT json_build_object('id', r.id, 'experiment_id', r.experiment_id, 'name', r.name, "
        "'strategy', r.strategy, 'status', r.status, 'params', r.params, 'tags', r.tags, "
        "'metrics', coalesce((SELECT json_object_agg(key, " METRIC_JSON " ORDER BY key) "
        "FROM metrics m WHERE m.run_id = r.id AND m.step = 0), '{}'::json), "
        "'data_hash', r.data_hash, 'config_hash', r.config_hash, "
        "'engine_version', r.engine_version, 'job_id', r.job_id, "
        "'start_time', " TS("r.start_time") ", 'end_time', " TS("r.end_time") ", "
        "'has_series', EXISTS (SELECT 1 FROM run_series s WHERE s.run_id = r.id)) "
        "FROM runs r WHERE r.id = $1",
        1, p, json, "run", err);
}

enum qd_code
runs_db_equity(PGconn *c, int64_t id, char **json, struct qd_err *err)
{
    char ids[24];
    const char *p[1] = {ids};

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    return one_text(c,
                    "SELECT json_build_object('run_id', s.run_id, 'equity', "
                    "(SELECT json_agg(json_build_object('ts', to_char(date '1970-01-01' + d, "
                    "'YYYY-MM-DD'), 'value', v) ORDER BY o) FROM unnest(s.days, s.equity) "
                    "WITH ORDINALITY AS u(d, v, o))) FROM run_series s WHERE s.run_id = $1",
                    1, p, json, "equity curve of the run (kept for the best runs only)", err);
}

enum qd_code
runs_db_trades(PGconn *c, int64_t id, char **json, struct qd_err *err)
{
    char ids[24];
    const char *p[1] = {ids};

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    return one_text(c,
                    "SELECT json_build_object('run_id', run_id, 'trades', trades) FROM run_series "
                    "WHERE run_id = $1",
                    1, p, json, "trades of the run (kept for the best runs only)", err);
}

#define EXPERIMENT_JSON                                                                           \
    "json_build_object('id', e.id, 'name', e.name, 'lifecycle', e.lifecycle, 'tags', e.tags, "   \
    "'created_at', " TS("e.created_at") ", 'runs', (SELECT count(*) FROM runs r WHERE "           \
    "r.experiment_id = e.id))"

enum qd_code
runs_db_experiments(PGconn *c, char **json, struct qd_err *err)
{
    return one_text(c,
                    "SELECT json_build_object('experiments', coalesce(json_agg(" EXPERIMENT_JSON
                    " ORDER BY e.id DESC), '[]'::json)) FROM experiments e",
                    0, NULL, json, "experiments", err);
}

enum qd_code
runs_db_experiment_get(PGconn *c, const char *id_or_name, char **json, struct qd_err *err)
{
    const char *p[1] = {id_or_name};

    return one_text(c,
                    "SELECT (" EXPERIMENT_JSON "::jsonb || jsonb_build_object('strategies', "
                    "coalesce((SELECT jsonb_agg(DISTINCT r.strategy) FROM runs r WHERE "
                    "r.experiment_id = e.id), '[]'::jsonb)))::text FROM experiments e "
                    "WHERE (e.name = $1 OR ($1 ~ '^[0-9]{1,18}$' AND e.id = $1::bigint)) "
                    "ORDER BY (e.name = $1) DESC LIMIT 1",
                    1, p, json, "experiment", err);
}

enum qd_code
runs_db_list(PGconn *c, int64_t experiment_id, const char *metric, int desc, unsigned limit,
             unsigned long offset, const struct run_filter *f, char **json, struct qd_err *err)
{
    const char *where = f != NULL && f->sql != NULL ? f->sql : "TRUE";
    int nf = f != NULL && f->sql != NULL ? f->nvalues : 0;
    const char **p = calloc((size_t)(6 + nf), sizeof(*p));
    char eid[24], lim[16], off[24], cand[24], *sql = NULL, *exists = NULL;
    unsigned long long want = (unsigned long long)offset + limit + 1;
    size_t cap = strlen(where) + 4096;
    enum qd_code rc;

    *json = NULL;
    if (p == NULL || (sql = malloc(cap)) == NULL) {
        free(p);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    snprintf(eid, sizeof(eid), "%" PRId64, experiment_id);
    snprintf(lim, sizeof(lim), "%u", limit);
    snprintf(off, sizeof(off), "%lu", offset);
    p[0] = eid;
    p[1] = metric;
    p[2] = desc ? "1" : "0";
    p[3] = lim;
    p[4] = off;
    for (int i = 0; i < nf; i++)
        p[5 + i] = f->values[i];
    p[5 + nf] = cand;
    rc = one_text(c, "SELECT id::text FROM experiments WHERE id = $1::bigint", 1, p, &exists,
                  "experiment", err);
    free(exists);
    if (rc != QD_OK) {
        free(sql);
        free(p);
        return rc;
    }
    /*
     * Ordered by a metric, a page must not rank every run (100,000 runs: 0.7 s). The candidates
     * are the first N summary values of the metric in order, read from metrics_summary_value
     * (migration 0009) and fenced in a MATERIALIZED CTE so that the planner walks the index
     * and stops; the runs among them that match (experiment, filter) are ranked. When fewer
     * than offset + limit + 1 match and the walk was cut at N, N grows fourfold and the query
     * runs again. When the walk ran out, the runs without the metric (or NaN) follow, by id.
     * The filter's SQL is fixed text with bound parameters ($6 on), candidates $(6 + nf).
     */
    if (metric == NULL)
        snprintf(sql, cap,
                 "WITH page AS (SELECT r.*, $5::bigint + row_number() OVER () AS rn FROM "
                 "(SELECT r.* FROM runs r WHERE r.experiment_id = $1::bigint AND (%s) ORDER BY "
                 "r.id OFFSET $5::bigint LIMIT $4::int + 1) r), more AS (SELECT false AS x "
                 "WHERE $2::text IS NULL OR $%d::bigint > 0 OR true) ",
                 where, 6 + nf);
    else
        snprintf(sql, cap,
                 "WITH cand AS MATERIALIZED (SELECT m.run_id, m.value FROM metrics m WHERE "
                 "m.key = $2 AND m.step = 0 AND m.value <> 'NaN'::float8 ORDER BY m.value %s, "
                 "m.run_id LIMIT $%d::bigint), "
                 "matched AS (SELECT r.*, row_number() OVER (ORDER BY c.value %s, r.id) AS rn "
                 "FROM cand c JOIN runs r ON r.id = c.run_id WHERE r.experiment_id = $1::bigint "
                 "AND (%s)), "
                 "walked AS (SELECT (SELECT count(*) FROM cand) < $%d::bigint AS all_seen, "
                 "(SELECT count(*) FROM matched) AS n), "
                 "rest AS (SELECT r.*, (SELECT n FROM walked) + row_number() OVER (ORDER BY "
                 "r.id) AS rn FROM runs r WHERE (SELECT all_seen FROM walked) AND "
                 "r.experiment_id = $1::bigint AND (%s) AND NOT EXISTS (SELECT 1 FROM metrics m "
                 "WHERE m.run_id = r.id AND m.key = $2 AND m.step = 0 AND m.value <> "
                 "'NaN'::float8)), "
                 "page AS (SELECT * FROM matched WHERE rn > $5::bigint AND rn <= $5::bigint + "
                 "$4::int + 1 UNION ALL SELECT * FROM rest WHERE rn > $5::bigint AND rn <= "
                 "$5::bigint + $4::int + 1), "
                 "more AS (SELECT NOT all_seen AND n < $5::bigint + $4::int + 1 AS x FROM "
                 "walked) ",
                 desc ? "DESC" : "ASC", 6 + nf, desc ? "DESC" : "ASC", where, 6 + nf, where);
    {
        /* the page as JSON, and whether the candidates ran short ($3 bound, unused) */
        static const char tail[] =
            "SELECT json_build_object('runs', coalesce((SELECT json_agg(json_build_object('id', "
            "id, 'strategy', strategy, 'status', status, 'params', params, 'metrics', "
            "coalesce((SELECT json_object_agg(key, " METRIC_JSON " ORDER BY key) FROM metrics m "
            "WHERE m.run_id = page.id AND m.step = 0), '{}'::json)) ORDER BY rn) FROM page WHERE "
            "rn <= $5::bigint + $4::int), '[]'::json), 'next_cursor', CASE WHEN (SELECT count(*) "
            "FROM page) > $4::int AND $3 IN ('0', '1') THEN ($5::bigint + $4::int)::text "
            "END)::text, (SELECT x FROM more)";
        size_t at = strlen(sql);
        snprintf(sql + at, cap - at, "%s", tail);
    }
    rc = pg_candidate_walk(c, sql, 6 + nf, p, cand, sizeof(cand), want, json, err);
    free(sql);
    free(p);
    return rc;
}
