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

/* Creates an experiment; *json = the experiment as GET /v1/experiments/{id} shows it.
 * QD_ECONFLICT when the name exists. tags_json: a JSON object of strings (validated by the
 * caller) or NULL. */
enum qd_code tracking_db_experiment_create(PGconn *c, const char *name, const char *tags_json,
                                           char **json, struct qd_err *err);

/* One metric point to log. */
struct metric_point {
    const char *key;
    int64_t     step;
    double      value;                  /* NaN and infinities are stored as such */
    int64_t     ts_ms;                  /* epoch milliseconds */
};
/* Appends n points to run_id's metric history (metric_points, never overwritten) and makes
 * each key's latest point (by timestamp, then value) its summary value (`metrics`, step 0)
 * unless the stored summary is later; one statement. QD_ENOTFOUND for an unknown run. */
enum qd_code tracking_db_log_metrics(PGconn *c, int64_t run_id, const struct metric_point *p,
                                     size_t n, struct qd_err *err);

/* {"run_id", "key", "history": [{"step", "value", "timestamp"}…]} in step, then timestamp,
 * then logging order (timestamp in epoch ms; an undefined value null); a metric without a
 * logged history (a backtest's) is its summary value at step 0. QD_ENOTFOUND for an unknown
 * run; an unknown key gives []. */
enum qd_code tracking_db_metric_history(PGconn *c, int64_t run_id, const char *key, char **json,
                                        struct qd_err *err);

/* Records (or replaces) the artifact `path` of a run: {"run_id", "path", "sha256", "size",
 * "created_at"}. QD_ENOTFOUND for an unknown run. */
enum qd_code tracking_db_artifact_put(PGconn *c, int64_t run_id, const char *path,
                                      const char *sha256, int64_t size, char **json,
                                      struct qd_err *err);
/* {"run_id", "artifacts": [{"path", "sha256", "size", "created_at"}…]} by path. */
enum qd_code tracking_db_artifacts(PGconn *c, int64_t run_id, char **json, struct qd_err *err);
/* One artifact's digest (65 bytes) and size. QD_ENOTFOUND. */
enum qd_code tracking_db_artifact_get(PGconn *c, int64_t run_id, const char *path, char *sha256,
                                      int64_t *size, struct qd_err *err);

#endif
