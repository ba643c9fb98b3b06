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
    enum qd_code rc = pg_one_text(
        c,
        "WITH ins AS (INSERT INTO experiments (name, tags) VALUES ($1, $2::jsonb) ON CONFLICT "
        "(name) DO NOTHING RETURNING *) SELECT json_build_object('id', id, 'name', name, "
        "'lifecycle', lifecycle, 'tags', tags, 'created_at', " TS_UTC("created_at") ", 'runs', "
        "0)::text FROM ins",
        2, p, json, "taken", err);

    /* no row: ON CONFLICT DO NOTHING, the name is taken */
    if (rc == QD_ENOTFOUND)
        rc = qd_err_set(err, QD_ECONFLICT, "an experiment named \"%.200s\" exists", name);
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

/* Orders pointers into one array of points by key, then position (a stable grouping). */
static int
cmp_point(const void *a, const void *b)
{
    const struct metric_point *x = *(const struct metric_point *const *)a;
    const struct metric_point *y = *(const struct metric_point *const *)b;
    int c = strcmp(x->key, y->key);

    return c ? c : (x > y) - (x < y);
}

/* A double as COPY / array text: NaN and infinities spelled as PostgreSQL reads them. */
static void
put_double(struct qd_buf *b, double v)
{
    if (isnan(v))
        qd_buf_puts(b, "NaN");
    else if (isinf(v))
        qd_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    else
        qd_buf_printf(b, "%.17g", v);
}

/* later: point a is later than b by MLflow's rule (timestamp, then value); on a full tie the
 * later logged one. */
static bool
later(const struct metric_point *a, const struct metric_point *b)
{
    if (a->ts_ms != b->ts_ms)
        return a->ts_ms > b->ts_ms;
    if (a->value != b->value)
        return isnan(a->value) || (!isnan(b->value) && a->value > b->value);
    return true;
}

enum qd_code
tracking_db_log_metrics(PGconn *c, int64_t run_id, const struct metric_point *pt, size_t n,
                        struct qd_err *err)
{
    struct qd_buf cp = {0}, lk = {0}, lv = {0}, lt = {0};
    const struct metric_point **ord = malloc((n ? n : 1) * sizeof(*ord));
    char id[24];
    const char *p[4] = {id};
    PGresult *res;
    enum qd_code rc = QD_OK;

    if (ord == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    snprintf(id, sizeof(id), "%" PRId64, run_id);
    /* One COPY row per key: its points as arrays, in logging order; and per key its latest
     * point, for the summary. Keys are validated by the API (no tab, newline or backslash),
     * escaped here all the same. */
    for (size_t i = 0; i < n; i++)
        ord[i] = &pt[i];
    qsort(ord, n, sizeof(*ord), cmp_point);
    for (size_t a = 0, b; a < n && rc == QD_OK; a = b) {
        const struct metric_point *last = ord[a];
        for (b = a; b < n && strcmp(ord[b]->key, ord[a]->key) == 0; b++)
            if (later(ord[b], last))
                last = ord[b];
        qd_buf_printf(&cp, "%s\t", id);
        for (const char *k = ord[a]->key; *k; k++) {
            if (*k == '\\' || *k == '\t' || *k == '\n' || *k == '\r')
                qd_buf_append(&cp, "\\", 1);
            qd_buf_append(&cp, k, 1);
        }
        qd_buf_puts(&cp, "\t{");
        for (size_t x = a; x < b; x++)
            qd_buf_printf(&cp, "%s%" PRId64, x > a ? "," : "", ord[x]->step);
        qd_buf_puts(&cp, "}\t{");
        for (size_t x = a; x < b; x++) {
            if (x > a)
                qd_buf_puts(&cp, ",");
            put_double(&cp, ord[x]->value);
        }
        qd_buf_puts(&cp, "}\t{");
        for (size_t x = a; x < b; x++)
            qd_buf_printf(&cp, "%s%" PRId64, x > a ? "," : "", ord[x]->ts_ms);
        qd_buf_puts(&cp, "}\n");
        array_text(&lk, last->key, a == 0);
        array_double(&lv, last->value, a == 0);
        rc = qd_buf_printf(&lt, "%s%" PRId64, a == 0 ? "{" : ",", last->ts_ms);
    }
    free(ord);
    if (rc == QD_OK && n > 0 && (qd_buf_puts(&lk, "}") != QD_OK || qd_buf_puts(&lv, "}") != QD_OK ||
                                 qd_buf_puts(&lt, "}") != QD_OK || cp.data == NULL))
        rc = QD_ENOMEM;
    if (rc != QD_OK) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        goto out;
    }
    /* BEGIN, the history by COPY, then the summaries in a statement that also says whether
     * the run exists (when not, everything is rolled back): four round trips in all */
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK && n > 0)
        rc = pg_copy_in(c, "COPY metric_points (run_id, key, steps, vals, ts_ms) FROM STDIN",
                        cp.data, cp.len, err);
    if (rc == QD_OK) {
        /* the summary: the batch's latest point of each key, unless the stored one is later */
        p[1] = n > 0 ? lk.data : "{}";
        p[2] = n > 0 ? lv.data : "{}";
        p[3] = n > 0 ? lt.data : "{}";
        rc = pg_exec(c,
                     "WITH run AS (SELECT id FROM runs WHERE id = $1::bigint FOR KEY SHARE), "
                     "ins AS (INSERT INTO metrics AS m (run_id, key, step, value, ts) SELECT "
                     "run.id, k, 0, v, to_timestamp(t / 1000.0) FROM run, unnest($2::text[], "
                     "$3::float8[], $4::int8[]) AS u(k, v, t) ON CONFLICT (run_id, key, step) DO "
                     "UPDATE SET value = excluded.value, ts = excluded.ts WHERE (excluded.ts, "
                     "excluded.value) >= (m.ts, m.value) RETURNING 1) SELECT count(*) FROM run",
                     4, p, PGRES_TUPLES_OK, &res, err);
        if (rc == QD_OK) {
            if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
                rc = qd_err_set(err, QD_ENOTFOUND, "run %" PRId64 " not found", run_id);
            PQclear(res);
        }
    }
    rc = pg_end(c, rc, err);
out:
    qd_buf_release(&cp);
    qd_buf_release(&lk);
    qd_buf_release(&lv);
    qd_buf_release(&lt);
    return rc;
}

enum qd_code
tracking_db_metric_history(PGconn *c, int64_t run_id, const char *key, char **json,
                           struct qd_err *err)
{
    char id[24], notfound[48];
    const char *p[2] = {id, key};

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    snprintf(notfound, sizeof(notfound), "run %" PRId64 " not found", run_id);
    return pg_one_text(c,
                 "WITH pts AS (SELECT u.s, u.v, u.t, p.seq, u.o FROM metric_points p, "
                 "unnest(p.steps, p.vals, p.ts_ms) WITH ORDINALITY AS u(s, v, t, o) WHERE "
                 "p.run_id = $1::bigint AND p.key = $2 UNION ALL SELECT m.step, m.value, "
                 "(extract(epoch FROM m.ts) * 1000)::int8, 0, 0 FROM metrics m WHERE m.run_id = "
                 "$1::bigint AND m.key = $2 AND NOT EXISTS (SELECT 1 FROM metric_points p WHERE "
                 "p.run_id = $1::bigint AND p.key = $2)) "
                 "SELECT json_build_object('run_id', r.id, 'key', $2::text, 'history', "
                 "coalesce((SELECT json_agg(json_build_object('step', s, 'value', CASE WHEN v IN "
                 "('NaN'::float8, 'Infinity', '-Infinity') THEN NULL ELSE v END, 'timestamp', t) "
                 "ORDER BY s, t, seq, o) FROM pts), '[]'::json))::text "
                 "FROM runs r WHERE r.id = $1::bigint",
                 2, p, json, notfound, err);
}

enum qd_code
tracking_db_artifact_put(PGconn *c, int64_t run_id, const char *path, const char *sha256,
                         int64_t size, char **json, struct qd_err *err)
{
    char id[24], sz[24], notfound[48];
    const char *p[4] = {id, path, sha256, sz};

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    snprintf(sz, sizeof(sz), "%" PRId64, size);
    snprintf(notfound, sizeof(notfound), "run %" PRId64 " not found", run_id);
    return pg_one_text(c,
                 "WITH run AS (SELECT id FROM runs WHERE id = $1::bigint), a AS (INSERT INTO "
                 "artifacts (run_id, path, sha256, size) SELECT run.id, $2, $3, $4::bigint FROM "
                 "run ON CONFLICT (run_id, path) DO UPDATE SET sha256 = excluded.sha256, size = "
                 "excluded.size, created_at = now() RETURNING *) SELECT json_build_object("
                 "'run_id', run_id, 'path', path, 'sha256', sha256, 'size', size, 'created_at', "
                 TS_UTC("created_at") ")::text FROM a",
                 4, p, json, notfound, err);
}

enum qd_code
tracking_db_artifacts(PGconn *c, int64_t run_id, char **json, struct qd_err *err)
{
    char id[24], notfound[48];
    const char *p[1] = {id};

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    snprintf(notfound, sizeof(notfound), "run %" PRId64 " not found", run_id);
    return pg_one_text(c,
                 "SELECT json_build_object('run_id', r.id, 'artifacts', coalesce((SELECT "
                 "json_agg(json_build_object('path', a.path, 'sha256', a.sha256, 'size', a.size, "
                 "'created_at', " TS_UTC("a.created_at") ") ORDER BY a.path) FROM artifacts a "
                 "WHERE a.run_id = r.id), '[]'::json))::text FROM runs r WHERE r.id = $1::bigint",
                 1, p, json, notfound, err);
}

enum qd_code
tracking_db_artifact_get(PGconn *c, int64_t run_id, const char *path, char *sha256,
                         int64_t *size, struct qd_err *err)
{
    char id[24];
    const char *p[2] = {id, path};
    PGresult *res;
    enum qd_code rc;

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    rc = pg_exec(c, "SELECT sha256, size FROM artifacts WHERE run_id = $1::bigint AND path = $2",
                 2, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0 || strlen(PQgetvalue(res, 0, 0)) != 64) {
        rc = qd_err_set(err, QD_ENOTFOUND, "run %" PRId64 " has no artifact \"%.200s\"", run_id,
                        path);
    } else {
        snprintf(sha256, 65, "%s", PQgetvalue(res, 0, 0));
        *size = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return rc;
}
