/* Loaders for the tracking views (see tracking_db.h). */
#include "storage/tracking_db.h"
#include "storage/pg.h"

#include <inttypes.h>
#include <math.h>
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
