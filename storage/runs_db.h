#ifndef STORAGE_RUNS_DB_H
#define STORAGE_RUNS_DB_H

/* Experiments, runs, their metrics and kept series (migration 0002). JSON results are
 * malloc'd text the caller frees. Blocking: worker threads only. */

#include "common/err.h"
#include "tracking/filter.h"

#include <libpq-fe.h>

#include <stddef.h>
#include <stdint.h>

/* The experiment's id, created when the name is new. */
enum qd_code runs_db_experiment(PGconn *c, const char *name, int64_t *id, struct qd_err *err);

struct run_batch {
    int64_t            experiment_id, job_id;
    const char        *engine_version, *data_hash;
    size_t             n;
    const char *const *strategy;        /* n each */
    const char *const *params_json;
    const char *const *config_hash;
    const char *const *metric_names;    /* nm */
    unsigned           nm;
    const double      *metrics;         /* n * nm, row-major; NaN stored as NaN */
};
/* Inserts every run and its metrics in one transaction (COPY); ids (n) get the new run ids in
 * order. */
enum qd_code runs_db_insert_batch(PGconn *c, const struct run_batch *b, int64_t *ids,
                                  struct qd_err *err);
/* Stores a run's equity curve and trades (JSON array text). */
enum qd_code runs_db_store_series(PGconn *c, int64_t run_id, const int32_t *days,
                                  const double *equity, size_t n, const char *trades_json,
                                  struct qd_err *err);
/* {"id","experiment_id","name","strategy","status","params","tags","metrics":{…},
 *  "data_hash","config_hash","engine_version","job_id","start_time","end_time",
 *  "has_series"}; QD_ENOTFOUND. */
enum qd_code runs_db_get(PGconn *c, int64_t id, char **json, struct qd_err *err);
/* {"run_id","equity":[{"ts","value"}…]} or {"run_id","trades":[…]}; QD_ENOTFOUND when the run
 * or its kept series does not exist. */
enum qd_code runs_db_equity(PGconn *c, int64_t id, char **json, struct qd_err *err);
enum qd_code runs_db_trades(PGconn *c, int64_t id, char **json, struct qd_err *err);

/* {"experiments":[{"id","name","lifecycle","tags","created_at","runs"}…]}, newest first. */
enum qd_code runs_db_experiments(PGconn *c, char **json, struct qd_err *err);
/* One experiment by id (digits) or name, with its run count and strategies; QD_ENOTFOUND. */
enum qd_code runs_db_experiment_get(PGconn *c, const char *id_or_name, char **json,
                                    struct qd_err *err);
/* {"runs":[{"id","strategy","status","params","metrics"}…],"next_cursor"} of an experiment,
 * ordered by a step-0 metric (metric NULL: by id) descending or ascending; undefined values
 * last either way, among the runs matching f (NULL: all; its parameters numbered from $6,
 * tracking/filter.h). offset/limit page. QD_ENOTFOUND for an unknown experiment. */
enum qd_code runs_db_list(PGconn *c, int64_t experiment_id, const char *metric, int desc,
                          unsigned limit, unsigned long offset, const struct run_filter *f,
                          char **json, struct qd_err *err);

#endif
