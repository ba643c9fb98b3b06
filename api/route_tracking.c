/* Comparison views of an experiment (tracking/compare.h, docs/tracking.md):
 *   GET /v1/experiments/{id|name}/compare?metric=sharpe_ratio
 *   GET /v1/experiments/{id|name}/best?strategy=&metric=
 * Loop thread; the _db functions (loading and the statistics) on a DB worker. */
#include "api/api_int.h"
#include "daemon/config.h"
#include "storage/runs_db.h"
#include "storage/tracking_db.h"
#include "tracking/compare.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void api_experiments_compare(struct api_req *r);
void api_experiments_best(struct api_req *r);

struct cmp_req {
    char   experiment[208];
    char   metric[72];
    char   strategy[136];           /* "" = every strategy (best) */
    double threshold;
};

/* A metric key as runs store them: 1-64 of a-z, A-Z, 0-9, '_', '.', '-'. */
static bool
metric_key_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* The curves of the best runs of groups g[0..ng); curves[k].n = 0 when one was not kept.
 * days/equity hold what to free. */
static enum qd_code
load_curves(PGconn *conn, const struct exp_runs *runs, const struct cmp_group *g, size_t ng,
            struct cmp_curve *curves, int32_t **days, double **equity, struct qd_err *err)
{
    for (size_t k = 0; k < ng; k++) {
        size_t n = 0;
        enum qd_code rc;
        curves[k] = (struct cmp_curve){0};
        if (g[k].best == SIZE_MAX)
            continue;
        rc = tracking_db_series(conn, runs->id[g[k].best], &days[k], &equity[k], &n, err);
        if (rc == QD_ENOTFOUND)
            continue;
        if (rc != QD_OK)
            return rc;
        curves[k] = (struct cmp_curve){.days = days[k], .equity = equity[k], .n = n};
    }
    return QD_OK;
}

/* Loads the runs, groups them, loads the best curves; then compare (best == false) or the best
 * run of one strategy. */
static void
compare_db_common(struct api_req *r, PGconn *conn, bool best)
{
    struct cmp_req *q = r->ctx;
    struct exp_runs runs;
    struct cmp_group *g = NULL;
    struct cmp_curve *curves = NULL;
    int32_t **days = NULL;
    double **equity = NULL;
    size_t ng = 0, pick = 0;
    struct cmp_opts o = {.metric = q->metric, .direction = compare_direction(q->metric),
                         .dsr_threshold = q->threshold};
    json_t *out = NULL;
    struct qd_err err;
    enum qd_code rc = tracking_db_runs(conn, q->experiment, q->metric, &runs, &err);

    if (rc != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    rc = compare_groups(&runs, o.direction, &g, &ng, &err);
    if (rc == QD_OK && best) {
        /* the strategy's group, or the overall best (g[0]); its curve and the overall best's */
        for (pick = 0; q->strategy[0] && pick < ng; pick++)
            if (strcmp(g[pick].strategy, q->strategy) == 0)
                break;
        if (pick == ng || ng == 0 || g[pick].best == SIZE_MAX)
            rc = qd_err_set(&err, QD_ENOTFOUND, "%s%s%s has no run with metric %s",
                            q->strategy[0] ? "strategy " : "experiment ",
                            q->strategy[0] ? q->strategy : runs.experiment,
                            q->strategy[0] ? " of this experiment" : "", q->metric);
    }
    if (rc == QD_OK) {
        curves = calloc(ng ? ng : 1, sizeof(*curves));
        days = calloc(ng ? ng : 1, sizeof(*days));
        equity = calloc(ng ? ng : 1, sizeof(*equity));
        if (curves == NULL || days == NULL || equity == NULL)
            rc = qd_err_set(&err, QD_ENOMEM, "out of memory");
    }
    if (rc == QD_OK && best) {
        /* only the two curves the answer needs */
        struct cmp_group two[2] = {g[0], g[pick]};
        struct cmp_curve c2[2] = {{0}};
        rc = load_curves(conn, &runs, two, pick ? 2 : 1, c2, days, equity, &err);
        curves[0] = c2[0];
        if (pick)
            curves[pick] = c2[1];
    } else if (rc == QD_OK) {
        rc = load_curves(conn, &runs, g, ng, curves, days, equity, &err);
    }
    if (rc == QD_OK && !best) {
        rc = compare_json(&runs, g, ng, curves, &o, &out, &err);
    } else if (rc == QD_OK) {
        size_t i = g[pick].best;
        char *run_json = NULL;
        out = json_pack("{s:I, s:s, s:s, s:s, s:I, s:f}", "experiment_id",
                        (json_int_t)runs.experiment_id, "experiment", runs.experiment,
                        "strategy", runs.strategy[i], "metric", q->metric, "run_id",
                        (json_int_t)runs.id[i], "value", runs.value[i]);
        if (out == NULL)
            rc = qd_err_set(&err, QD_ENOMEM, "out of memory");
        if (rc == QD_OK && (rc = runs_db_get(conn, runs.id[i], &run_json, &err)) == QD_OK) {
            json_t *run = json_loads(run_json, 0, NULL);
            json_object_set(out, "params", json_object_get(run, "params"));
            json_object_set(out, "metrics", json_object_get(run, "metrics"));
            json_object_set(out, "runs_in_strategy", json_integer((json_int_t)g[pick].count));
            json_object_set_new(out, "runs_in_experiment", json_integer((json_int_t)runs.n));
            json_decref(run);
            free(run_json);
        }
        if (rc == QD_OK) {
            json_t *sig = json_object();
            rc = compare_significance(&runs, i, &curves[pick], g[0].best, &curves[0], &o, sig,
                                      &err);
            json_object_set_new(sig, "threshold", json_real(q->threshold));
            json_object_set_new(out, "deflated_sharpe", sig);
        }
    }
    for (size_t k = 0; days && k < ng; k++) {
        free(days[k]);
        free(equity[k]);
    }
    free(days);
    free(equity);
    free(curves);
    free(g);
    exp_runs_release(&runs);
    if (rc != QD_OK) {
        json_decref(out);
        api_reply_err(r, &err);
        return;
    }
    api_reply_json(r, 200, out);
}

static void
compare_db(struct api_req *r, PGconn *conn)
{
    compare_db_common(r, conn, false);
}

static void
best_db(struct api_req *r, PGconn *conn)
{
    compare_db_common(r, conn, true);
}

static bool
read_request(struct api_req *r)
{
    struct cmp_req *q = calloc(1, sizeof(*q));
    const char *v;

    if (q == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return false;
    }
    r->ctx = q;
    r->ctx_free = free;
    if (strlen(r->params[0]) >= sizeof(q->experiment)) {
        api_error(r, 404, "not_found", NULL, "experiment not found");
        return false;
    }
    snprintf(q->experiment, sizeof(q->experiment), "%s", r->params[0]);
    v = api_query(r, "metric");
    snprintf(q->metric, sizeof(q->metric), "%s", v ? v : "sharpe_ratio");
    if (v != NULL && !metric_key_valid(v)) {
        api_error(r, 400, "invalid_argument", "metric",
                  "metric is a metric key (1-64 of letters, digits, _ . -), e.g. sharpe_ratio");
        return false;
    }
    if ((v = api_query(r, "strategy")) != NULL) {
        if (strlen(v) == 0 || strlen(v) >= sizeof(q->strategy)) {
            api_error(r, 400, "invalid_argument", "strategy", "strategy is 1-128 characters");
            return false;
        }
        snprintf(q->strategy, sizeof(q->strategy), "%s", v);
    }
    q->threshold = api_deps(r->srv)->cfg->dsr_threshold;
    return true;
}

void
api_experiments_compare(struct api_req *r)
{
    if (read_request(r))
        api_db(r, compare_db);
}

void
api_experiments_best(struct api_req *r)
{
    if (read_request(r))
        api_db(r, best_db);
}
