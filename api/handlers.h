#ifndef API_HANDLERS_H
#define API_HANDLERS_H

/* The route handlers that live in api/route_*.c, for the route table in api/routes.c. Each
 * runs on the loop thread (see api_int.h). */

struct api_req;

void api_jobs_post(struct api_req *r);
void api_jobs_list(struct api_req *r);
void api_jobs_get(struct api_req *r);
void api_jobs_cancel(struct api_req *r);
void api_jobs_events(struct api_req *r);
void api_schedules_post(struct api_req *r);
void api_schedules_list(struct api_req *r);
void api_schedules_get(struct api_req *r);
void api_schedules_delete(struct api_req *r);
void api_bars_get(struct api_req *r);
void api_bars_put(struct api_req *r);
void api_runs_get(struct api_req *r);
void api_runs_equity(struct api_req *r);
void api_runs_trades(struct api_req *r);
void api_features_get(struct api_req *r);
void api_macro_get(struct api_req *r);
void api_vix_get(struct api_req *r);
void api_cot_get(struct api_req *r);
void api_options_get(struct api_req *r);
void api_strategies_get(struct api_req *r);
void api_experiments_list(struct api_req *r);
void api_experiments_get(struct api_req *r);
void api_experiments_runs(struct api_req *r);
void api_experiments_compare(struct api_req *r);
void api_experiments_delete(struct api_req *r);
void api_experiments_restore(struct api_req *r);
void api_experiments_best(struct api_req *r);
void api_experiments_report(struct api_req *r);
void api_artifacts_put(struct api_req *r);
void api_runs_rerun(struct api_req *r);
void api_artifacts_list(struct api_req *r);
void api_artifacts_get(struct api_req *r);
void api_experiments_post(struct api_req *r);
void api_runs_metrics_post(struct api_req *r);
void api_runs_metric_history(struct api_req *r);
void api_models_post(struct api_req *r);
void api_models_list(struct api_req *r);
void api_models_get(struct api_req *r);
void api_models_version_post(struct api_req *r);
void api_models_stage_post(struct api_req *r);
void api_mlflow_experiment_get_by_name(struct api_req *r);
void api_mlflow_experiment_get(struct api_req *r);
void api_mlflow_experiment_create(struct api_req *r);
void api_mlflow_experiments_search(struct api_req *r);
void api_mlflow_run_create(struct api_req *r);
void api_mlflow_run_update(struct api_req *r);
void api_mlflow_run_get(struct api_req *r);
void api_mlflow_runs_search(struct api_req *r);
void api_mlflow_log_metric(struct api_req *r);
void api_mlflow_log_parameter(struct api_req *r);
void api_mlflow_log_batch(struct api_req *r);
void api_mlflow_set_tag(struct api_req *r);
void api_mlflow_metric_history(struct api_req *r);
void api_mlflow_rm_create(struct api_req *r);
void api_mlflow_rm_get(struct api_req *r);
void api_mlflow_rm_search(struct api_req *r);
void api_mlflow_rm_latest(struct api_req *r);
void api_mlflow_mv_create(struct api_req *r);
void api_mlflow_mv_get(struct api_req *r);
void api_mlflow_mv_transition(struct api_req *r);
void api_mlflow_mv_search(struct api_req *r);
void api_mlflow_experiment_delete(struct api_req *r);
void api_mlflow_experiment_restore(struct api_req *r);
void api_mlflow_run_delete(struct api_req *r);
void api_mlflow_run_restore(struct api_req *r);

#endif
