#ifndef TRACKING_REPORT_H
#define TRACKING_REPORT_H

/*
 * The experiment report (GET /v1/experiments/{id}/report, docs/tracking.md): one self-contained
 * HTML page — inline CSS and SVG, no script, font or image from anywhere — with the summary
 * table and the seed's performance targets per strategy, the equity curves of the top runs,
 * the drawdown and the monthly returns of the best run, a parameter heatmap for each strategy
 * swept over two numeric parameters, and the significance table. Pure; any thread.
 */

#include "common/buf.h"
#include "common/err.h"
#include "tracking/compare.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

/* One kept equity curve, best first. */
struct report_curve {
    int64_t        run_id;
    const char    *strategy;
    const int32_t *days;
    const double  *equity;
    size_t         n;
};

struct report_input {
    const struct exp_runs     *runs;        /* every run; value = the metric */
    const char                *metric;
    const json_t              *compare;     /* compare_json's answer */
    const json_t              *best_metrics;    /* strategy -> its best run's metrics object */
    const struct report_curve *curves;      /* the top runs with a kept curve, best first */
    size_t                     ncurves;
    const char                *generated;   /* e.g. "2026-12-04T16:30:00Z" */
};

/* The seed's performance targets (docs/tracking.md). */
#define REPORT_TARGET_CAGR   0.10           /* annual return >= 10% */
#define REPORT_TARGET_SHARPE 1.5            /* Sharpe ratio > 1.5 */
#define REPORT_TARGET_MAXDD  0.15           /* max drawdown < 15% */

/* Appends the page to out. QD_ENOMEM / QD_ETOOBIG (out's cap). */
enum qd_code report_html(const struct report_input *in, struct qd_buf *out, struct qd_err *err);

#endif
