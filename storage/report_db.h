#ifndef STORAGE_REPORT_DB_H
#define STORAGE_REPORT_DB_H

/* The experiment report (tracking/report.h) assembled from the database: the runs, the
 * comparison, each strategy's best metrics and the top kept curves. Used by GET
 * /v1/experiments/{id}/report and the report job. Blocking: worker threads only. */

#include "common/buf.h"
#include "common/err.h"
#include "tracking/compare.h"

#include <libpq-fe.h>

#include <stdint.h>

#define REPORT_MAX_BYTES (16u << 20)

/* The curves of the best runs of groups g[0..ng) (curves[k].n = 0 when one was not kept);
 * days/equity (ng each) hold what the caller frees. */
enum qd_code report_db_load_curves(PGconn *conn, const struct exp_runs *runs,
                                   const struct cmp_group *g, size_t ng,
                                   struct cmp_curve *curves, int32_t **days, double **equity,
                                   struct qd_err *err);

/* Appends the report of the experiment (id or name) ranked by metric to html; *best_run gets
 * the best run's id (0 when none). QD_ENOTFOUND for an unknown experiment. */
enum qd_code report_db_build(PGconn *conn, const char *experiment, const char *metric,
                             double threshold, struct qd_buf *html, int64_t *best_run,
                             struct qd_err *err);

#endif
