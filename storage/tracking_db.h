#ifndef STORAGE_TRACKING_DB_H
#define STORAGE_TRACKING_DB_H

/* What the tracking views (compare, best) read: every run of an experiment with one scalar
 * metric and its Sharpe ratio, and a kept run's equity curve. Blocking: worker threads only. */

#include "common/err.h"
#include "tracking/compare.h"

#include <libpq-fe.h>

#include <stddef.h>
#include <stdint.h>


/* The runs of the experiment (id or name), by id. QD_ENOTFOUND for an unknown experiment; an
 * experiment without runs gives n = 0. */
enum qd_code tracking_db_runs(PGconn *c, const char *experiment, const char *metric,
                              struct exp_runs *out, struct qd_err *err);

/* A run's kept equity curve (days since 1970-01-01, values), malloc'd. QD_ENOTFOUND when it was
 * not kept. */
enum qd_code tracking_db_series(PGconn *c, int64_t run_id, int32_t **days, double **equity,
                                size_t *n, struct qd_err *err);

#endif
