#ifndef TRACKING_COMPARE_H
#define TRACKING_COMPARE_H

/*
 * Comparison of an experiment's runs (GET /v1/experiments/{id}/compare and /best): runs grouped
 * by strategy, the best / median / mean of a metric per strategy, and for each strategy's best
 * run (when its equity curve was kept) the significance statistics of docs/statistics.md: a
 * bootstrap confidence interval of its Sharpe ratio, the Jobson-Korkie-Memmel test against the
 * overall best run on their common dates, the Probabilistic Sharpe Ratio and the Deflated
 * Sharpe Ratio charged for every run of the experiment. Pure (jansson for the output); any
 * thread.
 */

#include "common/err.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The runs of one experiment with one metric (storage/tracking_db.h loads them). */
struct exp_runs {
    int64_t experiment_id;
    char    experiment[208];
    size_t  n;
    int64_t *id;
    char   **strategy;              /* n each, malloc'd */
    char   **params;                /* JSON text */
    double  *value;                 /* the metric asked for; NaN when undefined or absent */
    double  *sharpe;                /* sharpe_ratio (annualised); NaN when undefined or absent */
};
void exp_runs_release(struct exp_runs *r);

/* +1 when a higher value of the metric is better, -1 when lower is (max_drawdown,
 * max_drawdown_duration_days, annual_volatility). */
int compare_direction(const char *metric);

struct cmp_group {
    const char *strategy;           /* points into the runs */
    size_t      count;              /* runs of the strategy */
    size_t      defined;            /* of which the metric is defined */
    size_t      best;               /* index of the best run; SIZE_MAX when none is defined */
    double      best_value, median, mean;   /* NaN when none is defined */
};

/* Groups the runs by strategy, best group first (ties: strategy name); within a group the best
 * run is the one with the best value, the lowest id on a tie. *g is malloc'd. */
enum qd_code compare_groups(const struct exp_runs *runs, int direction, struct cmp_group **g,
                            size_t *ng, struct qd_err *err);

/* An equity curve; n == 0 when it was not kept. */
struct cmp_curve {
    const int32_t *days;
    const double  *equity;
    size_t         n;
};

struct cmp_opts {
    const char *metric;
    int         direction;
    double      dsr_threshold;      /* e.g. 0.95 */
    size_t      resamples;          /* bootstrap; 0: 2000 */
    double      level;              /* 0: 0.95 */
};

/* The significance statistics of the run runs->id[idx] with curve c, into obj:
 * "sharpe_ratio", "sharpe_ci", "psr", "dsr", "dsr_passes", "expected_max_sr", and, when
 * best_idx != idx and best_curve has data, "vs_best". A curve that was not kept gives nulls and
 * a "note". */
enum qd_code compare_significance(const struct exp_runs *runs, size_t idx,
                                  const struct cmp_curve *c, size_t best_idx,
                                  const struct cmp_curve *best_curve, const struct cmp_opts *o,
                                  json_t *obj, struct qd_err *err);

/* The whole comparison: g[0..ng) from compare_groups and curves[i] the curve of g[i]'s best run.
 * *out is a new object (docs/tracking.md). */
enum qd_code compare_json(const struct exp_runs *runs, const struct cmp_group *g, size_t ng,
                          const struct cmp_curve *curves, const struct cmp_opts *o,
                          json_t **out, struct qd_err *err);

#endif
