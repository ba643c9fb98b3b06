/* The experiment report assembled from the database (see report_db.h). */
#include "storage/report_db.h"
#include "storage/runs_db.h"
#include "storage/tracking_db.h"
#include "tracking/compare.h"
#include "tracking/report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The curves of the best runs of groups g[0..ng); curves[k].n = 0 when one was not kept.
 * days/equity hold what to free. */
enum qd_code
report_db_load_curves(PGconn *conn, const struct exp_runs *runs, const struct cmp_group *g,
                      size_t ng, struct cmp_curve *curves, int32_t **days, double **equity,
                      struct qd_err *err)
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

#define REPORT_TOP_CURVES  5
#define REPORT_TRY_CURVES  50

/* A run's place in the report's ranking: key = the metric, negated when higher is better, so
 * that ascending keys are best first; NaN last; ties by index. */
struct ranked {
    double key;
    size_t i;
};

static int
cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (isnan(x->key) != isnan(y->key))
        return isnan(x->key) ? 1 : -1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

enum qd_code
report_db_build(PGconn *conn, const char *experiment, const char *metric, double threshold,
                struct qd_buf *html, int64_t *best_run, struct qd_err *errp)
{
    struct exp_runs runs;
    struct cmp_group *g = NULL;
    struct cmp_curve *curves = NULL;
    struct report_curve top[REPORT_TOP_CURVES];
    int32_t **days = NULL, *tdays[REPORT_TOP_CURVES] = {0};
    double **equity = NULL, *teq[REPORT_TOP_CURVES] = {0};
    size_t ng = 0, ntop = 0;
    struct ranked *order = NULL;
    struct cmp_opts o = {.metric = metric, .direction = compare_direction(metric),
                         .dsr_threshold = threshold};
    json_t *cmp = NULL, *best = json_object();
    struct report_input in;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    struct qd_err err;
    enum qd_code rc = tracking_db_runs(conn, experiment, metric, &runs, &err);

    *best_run = 0;
    if (rc != QD_OK) {
        json_decref(best);
        *errp = err;
        return rc;
    }
    rc = compare_groups(&runs, o.direction, &g, &ng, &err);
    if (rc == QD_OK) {
        curves = calloc(ng ? ng : 1, sizeof(*curves));
        days = calloc(ng ? ng : 1, sizeof(*days));
        equity = calloc(ng ? ng : 1, sizeof(*equity));
        order = malloc((runs.n ? runs.n : 1) * sizeof(*order));
        if (curves == NULL || days == NULL || equity == NULL || order == NULL || best == NULL)
            rc = qd_err_set(&err, QD_ENOMEM, "out of memory");
    }
    if (rc == QD_OK)
        rc = report_db_load_curves(conn, &runs, g, ng, curves, days, equity, &err);
    if (rc == QD_OK)
        rc = compare_json(&runs, g, ng, curves, &o, &cmp, &err);
    /* each strategy's best run's metrics, for the targets */
    for (size_t k = 0; rc == QD_OK && k < ng; k++) {
        char *run_json = NULL;
        json_t *run;
        if (g[k].best == SIZE_MAX)
            continue;
        rc = runs_db_get(conn, runs.id[g[k].best], &run_json, &err);
        if (rc == QD_OK && (run = json_loads(run_json, 0, NULL)) != NULL) {
            json_object_set(best, g[k].strategy, json_object_get(run, "metrics"));
            json_decref(run);
        }
        free(run_json);
    }
    /* the top runs by the metric with a kept curve */
    if (rc == QD_OK) {
        for (size_t i = 0; i < runs.n; i++)
            order[i] = (struct ranked){o.direction > 0 ? -runs.value[i] : runs.value[i], i};
        qsort(order, runs.n, sizeof(*order), cmp_ranked);
        for (size_t i = 0; i < runs.n && i < REPORT_TRY_CURVES && ntop < REPORT_TOP_CURVES &&
                           rc == QD_OK; i++) {
            size_t n = 0;
            enum qd_code sr = tracking_db_series(conn, runs.id[order[i].i], &tdays[ntop],
                                                 &teq[ntop], &n, &err);
            if (sr == QD_ENOTFOUND)
                continue;
            if (sr != QD_OK) {
                rc = sr;
                break;
            }
            top[ntop] = (struct report_curve){.run_id = runs.id[order[i].i],
                                              .strategy = runs.strategy[order[i].i],
                                              .days = tdays[ntop], .equity = teq[ntop], .n = n};
            ntop++;
        }
    }
    if (rc == QD_OK) {
        gmtime_r(&now, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        in = (struct report_input){.runs = &runs, .metric = metric, .compare = cmp,
                                   .best_metrics = best, .curves = top, .ncurves = ntop,
                                   .generated = when};
        rc = report_html(&in, html, &err);
        if (rc == QD_OK && ng > 0 && g[0].best != SIZE_MAX)
            *best_run = runs.id[g[0].best];
    }
    for (size_t k = 0; days && k < ng; k++) {
        free(days[k]);
        free(equity[k]);
    }
    for (size_t k = 0; k < REPORT_TOP_CURVES; k++) {
        free(tdays[k]);
        free(teq[k]);
    }
    free(days);
    free(equity);
    free(curves);
    free(order);
    free(g);
    json_decref(cmp);
    json_decref(best);
    exp_runs_release(&runs);
    if (rc != QD_OK)
        *errp = err;
    return rc;
}
