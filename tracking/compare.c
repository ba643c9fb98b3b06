/* Comparison of an experiment's runs (see compare.h and docs/tracking.md). */
#include "tracking/compare.h"
#include "tracking/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PERIODS_PER_YEAR 252.0

void
exp_runs_release(struct exp_runs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->strategy[i]);
        free(r->params[i]);
    }
    free(r->id);
    free(r->strategy);
    free(r->params);
    free(r->value);
    free(r->sharpe);
    memset(r, 0, sizeof(*r));
}

int
compare_direction(const char *metric)
{
    static const char *const lower[] = {"max_drawdown", "max_drawdown_duration_days",
                                        "annual_volatility", NULL};

    for (const char *const *l = lower; *l; l++)
        if (strcmp(*l, metric) == 0)
            return -1;
    return 1;
}

/* a better than b in direction dir (NaN is never better; ties are not better). */
static bool
better(double a, double b, int dir)
{
    if (isnan(a))
        return false;
    if (isnan(b))
        return true;
    return dir > 0 ? a > b : a < b;
}

static json_t *
jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Orders groups by a higher best value first (compare_groups negates the values of a
 * lower-is-better metric around the sort: no global state, any thread), then by name. */
static int
cmp_groups(const void *pa, const void *pb)
{
    const struct cmp_group *a = pa, *b = pb;

    if (better(a->best_value, b->best_value, 1))
        return -1;
    if (better(b->best_value, a->best_value, 1))
        return 1;
    return strcmp(a->strategy, b->strategy);
}

static int
cmp_dbl(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

enum qd_code
compare_groups(const struct exp_runs *runs, int direction, struct cmp_group **g, size_t *ng,
               struct qd_err *err)
{
    struct cmp_group *out = calloc(runs->n ? runs->n : 1, sizeof(*out));
    double *vals = malloc((runs->n ? runs->n : 1) * sizeof(*vals));
    size_t m = 0;

    *g = NULL;
    *ng = 0;
    if (out == NULL || vals == NULL) {
        free(out);
        free(vals);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    /* groups in order of first appearance (runs are by id); O(n * groups) */
    for (size_t i = 0; i < runs->n; i++) {
        size_t k = 0;
        while (k < m && strcmp(out[k].strategy, runs->strategy[i]) != 0)
            k++;
        if (k == m)
            out[m++] = (struct cmp_group){.strategy = runs->strategy[i], .best = SIZE_MAX,
                                          .best_value = NAN};
        out[k].count++;
        if (!isnan(runs->value[i])) {
            out[k].defined++;
            if (out[k].best == SIZE_MAX || better(runs->value[i], out[k].best_value, direction)) {
                out[k].best = i;
                out[k].best_value = runs->value[i];
            }
        }
    }
    for (size_t k = 0; k < m; k++) {
        size_t nv = 0;
        double sum = 0;
        for (size_t i = 0; i < runs->n; i++)
            if (strcmp(runs->strategy[i], out[k].strategy) == 0 && !isnan(runs->value[i])) {
                vals[nv++] = runs->value[i];
                sum += runs->value[i];
            }
        out[k].mean = nv ? sum / (double)nv : NAN;
        if (nv) {
            qsort(vals, nv, sizeof(*vals), cmp_dbl);
            out[k].median = nv % 2 ? vals[nv / 2] : (vals[nv / 2 - 1] + vals[nv / 2]) / 2;
        } else {
            out[k].median = NAN;
        }
    }
    free(vals);
    for (size_t k = 0; direction < 0 && k < m; k++)
        out[k].best_value = -out[k].best_value;
    qsort(out, m, sizeof(*out), cmp_groups);
    for (size_t k = 0; direction < 0 && k < m; k++)
        out[k].best_value = -out[k].best_value;
    *g = out;
    *ng = m;
    return QD_OK;
}

/* The per-period Sharpe ratios of every run (annualised ones stored), for the deflation. */
static double *
trial_srs(const struct exp_runs *runs)
{
    double *t = malloc((runs->n ? runs->n : 1) * sizeof(*t));

    if (t != NULL)
        for (size_t i = 0; i < runs->n; i++)
            t[i] = runs->sharpe[i] / sqrt(PERIODS_PER_YEAR);
    return t;
}

enum qd_code
compare_significance(const struct exp_runs *runs, size_t idx, const struct cmp_curve *c,
                     size_t best_idx, const struct cmp_curve *best_curve,
                     const struct cmp_opts *o, json_t *obj, struct qd_err *err)
{
    struct stats_sr sr;
    struct stats_ci ci;
    struct stats_dsr dsr;
    struct stats_boot_params bp = {.resamples = o->resamples, .level = o->level};
    double *r = NULL, *trials = NULL;
    enum qd_code rc = QD_OK;

    if (c->n < 3) {
        json_object_set_new(obj, "sharpe_ratio", json_null());
        json_object_set_new(obj, "sharpe_ci", json_null());
        json_object_set_new(obj, "psr", json_null());
        json_object_set_new(obj, "dsr", json_null());
        json_object_set_new(obj, "dsr_passes", json_null());
        json_object_set_new(obj, "vs_best", json_null());
        json_object_set_new(obj, "note",
                            json_string(c->n == 0 ? "the equity curve of this run was not kept "
                                                    "(equity_backtest keep_top): no daily "
                                                    "returns to test"
                                                  : "too few daily returns to test"));
        return QD_OK;
    }
    if ((r = malloc((c->n - 1) * sizeof(*r))) == NULL || (trials = trial_srs(runs)) == NULL) {
        free(r);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    bp.seed = (uint64_t)runs->id[idx];
    if ((rc = stats_returns_from_equity(c->equity, c->n, r, err)) == QD_OK &&
        (rc = stats_sharpe(r, c->n - 1, NULL, &sr, err)) == QD_OK &&
        (rc = stats_sharpe_ci(r, c->n - 1, &bp, &ci, err)) == QD_OK)
        rc = stats_deflated_sharpe(&sr, trials, runs->n, runs->n, o->dsr_threshold, &dsr, err);
    if (rc == QD_OK) {
        json_object_set_new(obj, "sharpe_ratio", jnum(sr.sr_annual));
        json_object_set_new(obj, "sharpe_ci",
                            json_pack("{s:o, s:o, s:o, s:o, s:I, s:f}", "lo", jnum(ci.lo), "hi",
                                      jnum(ci.hi), "se", jnum(ci.se), "estimate",
                                      jnum(ci.estimate), "resamples", (json_int_t)ci.resamples,
                                      "level", ci.level));
        json_object_set_new(obj, "returns", json_integer((json_int_t)sr.n));
        json_object_set_new(obj, "psr", jnum(stats_psr(sr.sr, 0, sr.n, sr.skew, sr.kurt)));
        json_object_set_new(obj, "dsr", jnum(dsr.dsr));
        json_object_set_new(obj, "dsr_passes", json_boolean(dsr.passes));
        json_object_set_new(obj, "expected_max_sr", jnum(dsr.sr0 * sqrt(PERIODS_PER_YEAR)));
    }
    if (rc == QD_OK && best_idx != idx && best_curve != NULL && best_curve->n >= 3) {
        size_t m = c->n < best_curve->n ? c->n : best_curve->n, k = 0;
        double *ra = malloc(m * sizeof(*ra)), *rb = malloc(m * sizeof(*rb));
        struct stats_paired pt;
        if (ra == NULL || rb == NULL)
            rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        if (rc == QD_OK)
            rc = stats_common_returns(c->days, c->equity, c->n, best_curve->days,
                                      best_curve->equity, best_curve->n, ra, rb, &k, err);
        if (rc == QD_OK)
            rc = stats_paired_test(ra, rb, k, NULL, &pt, err);
        if (rc == QD_OK)
            json_object_set_new(obj, "vs_best",
                                json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "run_id",
                                          (json_int_t)runs->id[best_idx], "returns",
                                          (json_int_t)pt.n, "jk_z", jnum(pt.jk_z), "jk_p",
                                          jnum(pt.jk_p), "t", jnum(pt.t), "t_p", jnum(pt.t_p)));
        free(ra);
        free(rb);
    } else if (rc == QD_OK) {
        json_object_set_new(obj, "vs_best", json_null());
    }
    free(r);
    free(trials);
    return rc;
}

enum qd_code
compare_json(const struct exp_runs *runs, const struct cmp_group *g, size_t ng,
             const struct cmp_curve *curves, const struct cmp_opts *o, json_t **out,
             struct qd_err *err)
{
    json_t *root = json_object(), *list = json_array();
    size_t best = ng > 0 ? g[0].best : SIZE_MAX;
    double *trials = trial_srs(runs);
    enum qd_code rc = QD_OK;

    *out = NULL;
    if (root == NULL || list == NULL || trials == NULL) {
        json_decref(root);
        json_decref(list);
        free(trials);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    json_object_set_new(root, "experiment_id", json_integer((json_int_t)runs->experiment_id));
    json_object_set_new(root, "experiment", json_string(runs->experiment));
    json_object_set_new(root, "metric", json_string(o->metric));
    json_object_set_new(root, "direction", json_string(o->direction > 0 ? "max" : "min"));
    json_object_set_new(root, "runs", json_integer((json_int_t)runs->n));
    json_object_set_new(root, "best",
                        best == SIZE_MAX ? json_null()
                                         : json_pack("{s:I, s:s, s:o}", "run_id",
                                                     (json_int_t)runs->id[best], "strategy",
                                                     runs->strategy[best], "value",
                                                     jnum(runs->value[best])));
    for (size_t k = 0; k < ng && rc == QD_OK; k++) {
        json_t *s = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o}", "strategy", g[k].strategy, "runs",
                              (json_int_t)g[k].count, "defined", (json_int_t)g[k].defined,
                              "best", jnum(g[k].best_value), "median", jnum(g[k].median), "mean",
                              jnum(g[k].mean));
        if (s == NULL) {
            rc = qd_err_set(err, QD_ENOMEM, "out of memory");
            break;
        }
        json_array_append_new(list, s);
        if (g[k].best == SIZE_MAX) {
            json_object_set_new(s, "best_run_id", json_null());
            json_object_set_new(s, "note", json_string("the metric is undefined for every run"));
            continue;
        }
        json_object_set_new(s, "best_run_id", json_integer((json_int_t)runs->id[g[k].best]));
        json_object_set_new(s, "best_params", json_loads(runs->params[g[k].best], 0, NULL));
        rc = compare_significance(runs, g[k].best, &curves[k], best, &curves[0], o, s, err);
    }
    json_object_set_new(root, "strategies", list);
    /* the deflation every DSR above was charged: all runs of the experiment are trials, the
     * variance is that of their (finite) Sharpe ratios */
    if (rc == QD_OK && runs->n > 0) {
        double sum = 0, ss = 0, var;
        size_t nf = 0;
        for (size_t i = 0; i < runs->n; i++)
            if (isfinite(trials[i])) {
                sum += trials[i];
                nf++;
            }
        for (size_t i = 0; i < runs->n; i++)
            if (isfinite(trials[i]))
                ss += (trials[i] - sum / (double)nf) * (trials[i] - sum / (double)nf);
        var = nf >= 2 ? ss / (double)(nf - 1) : runs->n == 1 ? 0 : NAN;
        json_object_set_new(root, "deflation",
                            json_pack("{s:I, s:o, s:o, s:f}", "trials", (json_int_t)runs->n,
                                      "sharpe_sd", jnum(sqrt(var) * sqrt(PERIODS_PER_YEAR)),
                                      "expected_max_sr",
                                      jnum(stats_expected_max_sr(var, runs->n) *
                                           sqrt(PERIODS_PER_YEAR)),
                                      "threshold", o->dsr_threshold));
    }
    free(trials);
    if (rc != QD_OK) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return QD_OK;
}
