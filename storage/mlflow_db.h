#ifndef STORAGE_MLFLOW_DB_H
#define STORAGE_MLFLOW_DB_H

/* The MLflow REST subset's view of experiments and runs (external-apis.md §9), on the tables
 * quantd's own tracking uses: JSON in MLflow's shape (snake_case, enums by name, int64 times in
 * epoch ms as numbers, experiment ids as strings, run ids as 32 hex digits of our id).
 * Blocking: worker threads only. */

#include "common/err.h"
#include "tracking/filter.h"

#include <libpq-fe.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* {"experiment": {…}} by id (digits) or, when id is NULL, by name. QD_ENOTFOUND. */
enum qd_code mlflow_db_experiment(PGconn *c, const char *id, const char *name, char **json,
                                  struct qd_err *err);
/* {"experiment_id": "N"}; tags_json a JSON object of strings. QD_ECONFLICT for a taken name. */
enum qd_code mlflow_db_experiment_create(PGconn *c, const char *name, const char *artifact_loc,
                                         const char *tags_json, char **json, struct qd_err *err);
/* {"experiments": […], "next_page_token"?}; view 1 active, 2 deleted, 3 all. */
enum qd_code mlflow_db_experiments_search(PGconn *c, int view, unsigned max_results,
                                          unsigned long offset, char **json, struct qd_err *err);

/* A new RUNNING run: {"run": {…}}. name NULL or "": "run-<id>", also tagged mlflow.runName.
 * QD_ENOTFOUND for an unknown experiment. */
enum qd_code mlflow_db_run_create(PGconn *c, int64_t experiment_id, const char *user_id,
                                  const char *name, int64_t start_ms, const char *tags_json,
                                  char **json, struct qd_err *err);
/* status NULL (unchanged) or RUNNING/SCHEDULED/FINISHED/FAILED/KILLED; end_ms < 0: unchanged;
 * name NULL: unchanged. {"run_info": {…}}. QD_ENOTFOUND. */
enum qd_code mlflow_db_run_update(PGconn *c, int64_t run_id, const char *status, int64_t end_ms,
                                  const char *name, char **json, struct qd_err *err);
/* {"run": {"info", "data": {"metrics", "params", "tags"}, "inputs"}}. QD_ENOTFOUND. */
enum qd_code mlflow_db_run_get(PGconn *c, int64_t run_id, char **json, struct qd_err *err);

/* Params are write-once: a key logged again with another value is QD_EINVAL naming it; the
 * same value is accepted. params_json / tags_json: JSON objects of strings. One transaction
 * with the tags (last write wins). QD_ENOTFOUND for an unknown run. */
enum qd_code mlflow_db_log_params_tags(PGconn *c, int64_t run_id, const char *params_json,
                                       const char *tags_json, struct qd_err *err);

/* {"metrics": [{"key", "value", "timestamp", "step"}…]} of one key, in step and time order. */
enum qd_code mlflow_db_metric_history(PGconn *c, int64_t run_id, const char *key, char **json,
                                      struct qd_err *err);

/* runs/search: runs of the experiments (ids) matching the filter (f->sql with its values from
 * $2 on; $1 is the experiment id array), ordered by order_sql (a fixed fragment built by the
 * caller from a whitelist), a page: {"runs": […], "next_page_token"?}. view as above. */
enum qd_code mlflow_db_runs_search(PGconn *c, const char *experiment_ids_array,
                                   const struct run_filter *f, const char *order_sql,
                                   const char *order_metric, int view, unsigned max_results,
                                   unsigned long offset, char **json, struct qd_err *err);

/* The model registry in MLflow's shape (on storage/models_db.h's tables). */
/* {"registered_model": {name, creation_timestamp, last_updated_timestamp, user_id,
 * description, latest_versions, tags, aliases}}; QD_ENOTFOUND. */
enum qd_code mlflow_db_registered_model(PGconn *c, const char *name, char **json,
                                        struct qd_err *err);
/* {"registered_models": […], "next_page_token"?}; name non-NULL: only that model. */
enum qd_code mlflow_db_registered_models_search(PGconn *c, const char *name,
                                                unsigned max_results, unsigned long offset,
                                                char **json, struct qd_err *err);
/* {"model_version": {…}} of (name, version); QD_ENOTFOUND. */
enum qd_code mlflow_db_model_version(PGconn *c, const char *name, int version, char **json,
                                     struct qd_err *err);
/* {"model_versions": […]}: per stage in stages_array ("{Production,Staging}" or NULL: every
 * stage), the latest version in it. QD_ENOTFOUND for an unknown model. */
enum qd_code mlflow_db_latest_versions(PGconn *c, const char *name, const char *stages_array,
                                       char **json, struct qd_err *err);
/* {"model_versions": […]} of a model (name NULL: all), newest first. */
enum qd_code mlflow_db_model_versions_search(PGconn *c, const char *name, unsigned max_results,
                                             char **json, struct qd_err *err);
/* Experiment or run lifecycle: "active" or "deleted". QD_ENOTFOUND. */
enum qd_code mlflow_db_lifecycle(PGconn *c, bool run, int64_t id, const char *lifecycle,
                                 struct qd_err *err);

/* Our run id in MLflow's spelling: 32 lower-case hex digits; and back (32 hex digits, or the
 * decimal id quantd's own API uses). */
void mlflow_run_id(int64_t id, char out[33]);
bool mlflow_parse_run_id(const char *s, int64_t *id);

#endif
