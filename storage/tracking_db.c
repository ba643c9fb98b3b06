/* Loaders for the tracking views (see tracking_db.h). */
#include "storage/tracking_db.h"
#include "common/buf.h"
#include "storage/pg.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A float8 column: NaN for NULL (and PostgreSQL's own "NaN"). */
static double
f8(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

enum qd_code
tracking_db_runs(PGconn *c, const char *experiment, const char *metric, struct exp_runs *out,
                 struct qd_err *err)
{
    const char *p[2] = {experiment, metric};
    PGresult *res;
    size_t n;
    enum qd_code rc;

    memset(out, 0, sizeof(*out));
    rc = pg_exec(c,
                 "SELECT id, name FROM experiments WHERE name = $1 OR ($1 ~ '^[0-9]{1,18}$' AND "
                 "id = $1::bigint) ORDER BY (name = $1) DESC LIMIT 1",
                 1, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "experiment not found");
    }
    out->experiment_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(out->experiment, sizeof(out->experiment), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    {
        char eid[24];
        const char *q[2] = {eid, metric};
        snprintf(eid, sizeof(eid), "%" PRId64, out->experiment_id);
        rc = pg_exec(c,
                     "SELECT r.id, r.strategy, r.params::text, "
                     "(SELECT m.value FROM metrics m WHERE m.run_id = r.id AND m.key = $2 AND "
                     "m.step = 0), (SELECT m.value FROM metrics m WHERE m.run_id = r.id AND "
                     "m.key = 'sharpe_ratio' AND m.step = 0) FROM runs r WHERE "
                     "r.experiment_id = $1::bigint ORDER BY r.id",
                     2, q, PGRES_TUPLES_OK, &res, err);
    }
    if (rc != QD_OK)
        return rc;
    n = (size_t)PQntuples(res);
    out->id = calloc(n ? n : 1, sizeof(*out->id));
    out->strategy = calloc(n ? n : 1, sizeof(*out->strategy));
    out->params = calloc(n ? n : 1, sizeof(*out->params));
    out->value = calloc(n ? n : 1, sizeof(*out->value));
    out->sharpe = calloc(n ? n : 1, sizeof(*out->sharpe));
    if (!out->id || !out->strategy || !out->params || !out->value || !out->sharpe) {
        PQclear(res);
        exp_runs_release(out);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        int row = (int)i;
        out->id[i] = strtoll(PQgetvalue(res, row, 0), NULL, 10);
        out->strategy[i] = strdup(PQgetvalue(res, row, 1));
        out->params[i] = strdup(PQgetvalue(res, row, 2));
        out->value[i] = f8(res, row, 3);
        out->sharpe[i] = f8(res, row, 4);
        out->n = i + 1;
        if (out->strategy[i] == NULL || out->params[i] == NULL) {
            PQclear(res);
            exp_runs_release(out);
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        }
    }
    PQclear(res);
    return QD_OK;
}

enum qd_code
tracking_db_series(PGconn *c, int64_t run_id, int32_t **days, double **equity, size_t *n,
                   struct qd_err *err)
{
    char id[24];
    const char *p[1] = {id};
    PGresult *res;
    size_t m;
    enum qd_code rc;

    *days = NULL;
    *equity = NULL;
    *n = 0;
    snprintf(id, sizeof(id), "%" PRId64, run_id);
    rc = pg_exec(c,
                 "SELECT u.d, u.v FROM run_series s, unnest(s.days, s.equity) WITH ORDINALITY "
                 "AS u(d, v, o) WHERE s.run_id = $1::bigint ORDER BY u.o",
                 1, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    m = (size_t)PQntuples(res);
    if (m == 0) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "the equity curve of run %" PRId64 " was not kept",
                          run_id);
    }
    *days = malloc(m * sizeof(**days));
    *equity = malloc(m * sizeof(**equity));
    if (*days == NULL || *equity == NULL) {
        PQclear(res);
        free(*days);
        free(*equity);
        *days = NULL;
        *equity = NULL;
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++) {
        (*days)[i] = (int32_t)strtol(PQgetvalue(res, (int)i, 0), NULL, 10);
        (*equity)[i] = f8(res, (int)i, 1);
    }
    *n = m;
    PQclear(res);
    return QD_OK;
}

#define TS_UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum qd_code
tracking_db_experiment_create(PGconn *c, const char *name, const char *tags_json, char **json,
                              struct qd_err *err)
{
    const char *p[2] = {name, tags_json ? tags_json : "{}"};
    PGresult *res;
    enum qd_code rc = pg_exec(
        c,
        "WITH ins AS (INSERT INTO experiments (name, tags) VALUES ($1, $2::jsonb) ON CONFLICT "
        "(name) DO NOTHING RETURNING *) SELECT json_build_object('id', id, 'name', name, "
        "'lifecycle', lifecycle, 'tags', tags, 'created_at', " TS_UTC("created_at") ", 'runs', "
        "0)::text FROM ins",
        2, p, PGRES_TUPLES_OK, &res, err);

    *json = NULL;
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = qd_err_set(err, QD_ECONFLICT, "an experiment named \"%.200s\" exists", name);
    else if ((*json = strdup(PQgetvalue(res, 0, 0))) == NULL)
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    PQclear(res);
    return rc;
}

/* Appends s as an element of a PostgreSQL array literal ("…" with \ and " escaped). */
static void
array_text(struct qd_buf *b, const char *s, bool first)
{
    qd_buf_puts(b, first ? "{\"" : ",\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            qd_buf_append(b, "\\", 1);
        qd_buf_append(b, s, 1);
    }
    qd_buf_puts(b, "\"");
}

static void
array_double(struct qd_buf *b, double v, bool first)
{
    qd_buf_puts(b, first ? "{" : ",");
    if (isnan(v))
        qd_buf_puts(b, "NaN");
    else if (isinf(v))
        qd_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    else
        qd_buf_printf(b, "%.17g", v);
}

enum qd_code
tracking_db_log_metrics(PGconn *c, int64_t run_id, const struct metric_point *pt, size_t n,
                        struct qd_err *err)
{
    struct qd_buf k = {0}, s = {0}, v = {0}, t = {0};
    char id[24];
    const char *p[5] = {id};
    PGresult *res;
    enum qd_code rc;

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    for (size_t i = 0; i < n; i++) {
        array_text(&k, pt[i].key, i == 0);
        qd_buf_printf(&s, "%s%" PRId64, i ? "," : "{", pt[i].step);
        array_double(&v, pt[i].value, i == 0);
        qd_buf_printf(&t, "%s%" PRId64, i ? "," : "{", pt[i].ts_ms);
    }
    if (n == 0) {
        qd_buf_puts(&k, "{");
        qd_buf_puts(&s, "{");
        qd_buf_puts(&v, "{");
        qd_buf_puts(&t, "{");
    }
    qd_buf_puts(&k, "}");
    qd_buf_puts(&s, "}");
    qd_buf_puts(&v, "}");
    if (qd_buf_puts(&t, "}") != QD_OK || k.data == NULL || s.data == NULL || v.data == NULL) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        goto out;
    }
    p[1] = k.data;
    p[2] = s.data;
    p[3] = v.data;
    p[4] = t.data;
    /* the last point of a (key, step) wins, in the batch as against the table: DISTINCT ON
     * over the batch's order keeps ON CONFLICT from touching a row twice */
    rc = pg_exec(c,
                 "WITH run AS (SELECT id FROM runs WHERE id = $1::bigint), "
                 "b AS (SELECT DISTINCT ON (k, s) k, s, v, t FROM unnest($2::text[], "
                 "$3::bigint[], $4::float8[], $5::bigint[]) WITH ORDINALITY AS u(k, s, v, t, o) "
                 "ORDER BY k, s, o DESC), "
                 "ins AS (INSERT INTO metrics (run_id, key, step, value, ts) SELECT run.id, b.k, "
                 "b.s, b.v, to_timestamp(b.t / 1000.0) FROM run, b ON CONFLICT (run_id, key, "
                 "step) DO UPDATE SET value = excluded.value, ts = excluded.ts RETURNING 1) "
                 "SELECT (SELECT count(*) FROM run), (SELECT count(*) FROM ins)",
                 5, p, PGRES_TUPLES_OK, &res, err);
    if (rc == QD_OK) {
        if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
            rc = qd_err_set(err, QD_ENOTFOUND, "run %" PRId64 " not found", run_id);
        PQclear(res);
    }
out:
    qd_buf_release(&k);
    qd_buf_release(&s);
    qd_buf_release(&v);
    qd_buf_release(&t);
    return rc;
}

enum qd_code
tracking_db_metric_history(PGconn *c, int64_t run_id, const char *key, char **json,
                           struct qd_err *err)
{
    char id[24];
    const char *p[2] = {id, key};
    PGresult *res;
    enum qd_code rc;

    *json = NULL;
    snprintf(id, sizeof(id), "%" PRId64, run_id);
    rc = pg_exec(c,
                 "SELECT json_build_object('run_id', r.id, 'key', $2::text, 'history', "
                 "coalesce((SELECT json_agg(json_build_object('step', m.step, 'value', CASE WHEN "
                 "m.value IN ('NaN'::float8, 'Infinity', '-Infinity') THEN NULL ELSE m.value "
                 "END, 'timestamp', (extract(epoch FROM m.ts) * 1000)::bigint) ORDER BY m.step) "
                 "FROM metrics m WHERE m.run_id = r.id AND m.key = $2), '[]'::json))::text "
                 "FROM runs r WHERE r.id = $1::bigint",
                 2, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = qd_err_set(err, QD_ENOTFOUND, "run %" PRId64 " not found", run_id);
    else if ((*json = strdup(PQgetvalue(res, 0, 0))) == NULL)
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    PQclear(res);
    return rc;
}
