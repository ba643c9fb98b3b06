/*
 * rerun: re-runs a recorded backtest run from its recorded params on the data now stored, as a
 * new run of the same experiment, and says whether the metrics came out the same
 * (POST /v1/runs/{id}/rerun queues it; docs/tracking.md). Params: {"run_id"}. The flat dotted
 * params of the run are turned back into an equity_backtest job's params (the strategy
 * families nested into its strategy config, "symbols" split, fees and sizing regrouped), run by
 * equity_backtest itself, and the new run's metrics compared with the old ones bit for bit.
 */
#include "jobs/job.h"
#include "storage/mlflow_db.h"
#include "storage/runs_db.h"
#include "tracking/params.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

job_validate_fn rerun_validate;
job_run_fn rerun_run;
job_validate_fn equity_backtest_validate;
job_run_fn equity_backtest_run;

enum qd_code
rerun_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"run_id", NULL};
    const json_t *id = json_object_get(params, "run_id");
    enum qd_code rc = job_param_known(params, known, err);

    if (rc != QD_OK)
        return rc;
    if (!json_is_integer(id) || json_integer_value(id) < 1)
        return qd_err_field(err, QD_EINVAL, "params.run_id", "run_id is a run id");
    return QD_OK;
}

/* The equity_backtest params that reproduce a run recorded with flat params p. */
static json_t *
backtest_params(const json_t *p, const char *strategy, const char *experiment)
{
    static const char *const copied[] = {"start_date", "end_date", "fill", "price", "direction",
                                         "fractional", "initial_capital", "slippage_bps",
                                         "risk_free_rate", "rebalance", NULL};
    json_t *bt = json_object(), *cfg = json_object(), *syms = json_array(), *v;
    const char *k, *list = json_string_value(json_object_get(p, "symbols"));
    char *buf = strdup(list ? list : ""), *save = NULL;

    for (const char *const *c = copied; *c; c++)
        if ((v = json_object_get(p, *c)) != NULL)
            json_object_set(bt, *c, v);
    for (char *s = buf ? strtok_r(buf, ",", &save) : NULL; s; s = strtok_r(NULL, ",", &save))
        json_array_append_new(syms, json_string(s));
    free(buf);
    json_object_set_new(bt, "symbols", syms);
    json_object_set_new(cfg, "name", json_string(strategy));
    json_object_foreach((json_t *)p, k, v)
    {
        if (run_param_is_strategy(k))
            run_params_set_nested(cfg, k, v);
        else if (strncmp(k, "fees.", 5) == 0 || strncmp(k, "sizing.", 7) == 0 ||
                 strncmp(k, "weights.", 8) == 0)
            run_params_set_nested(bt, k, v);
    }
    json_object_set_new(bt, "strategy_configs", json_pack("[o]", cfg));
    json_object_set_new(bt, "experiment_name", json_string(experiment));
    json_object_set_new(bt, "keep_top", json_integer(1));
    return bt;
}

/* A run's JSON (runs_db_get) parsed. */
static enum qd_code
load_run(struct job_ctx *ctx, int64_t id, json_t **run, struct qd_err *err)
{
    char *text = NULL;
    enum qd_code rc = runs_db_get((PGconn *)job_conn(ctx), id, &text, err);

    *run = NULL;
    if (rc == QD_OK && (*run = json_loads(text, 0, NULL)) == NULL)
        rc = qd_err_set(err, QD_EINTERNAL, "run %" PRId64 " is not readable", id);
    free(text);
    return rc;
}

enum qd_code
rerun_run(struct job_ctx *ctx, const json_t *params, json_t **result, struct qd_err *err)
{
    int64_t id = (int64_t)json_integer_value(json_object_get(params, "run_id")), new_id;
    json_t *old = NULL, *fresh = NULL, *exp = NULL, *bt = NULL, *bt_result = NULL, *diff;
    char ids[24], *exp_text = NULL;
    const char *k;
    json_t *v;
    bool match = true;
    enum qd_code rc;

    if ((rc = load_run(ctx, id, &old, err)) != QD_OK)
        goto out;
    snprintf(ids, sizeof(ids), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(old, "experiment_id")));
    /* by id only: a name of digits must not stand for another experiment */
    if ((rc = mlflow_db_experiment((PGconn *)job_conn(ctx), ids, NULL, &exp_text, err)) ==
        QD_OK) {
        json_t *root = json_loads(exp_text, 0, NULL);
        exp = json_incref(json_object_get(root, "experiment"));
        json_decref(root);
    }
    if (rc != QD_OK || exp == NULL) {
        rc = rc != QD_OK ? rc : qd_err_set(err, QD_EINTERNAL, "experiment not readable");
        goto out;
    }
    if (json_string_length(json_object_get(old, "strategy")) == 0) {
        rc = qd_err_set(err, QD_EINVAL, "run %" PRId64 " was not made by a backtest (no "
                        "strategy): nothing to re-run", id);
        goto out;
    }
    bt = backtest_params(json_object_get(old, "params"),
                         json_string_value(json_object_get(old, "strategy")),
                         json_string_value(json_object_get(exp, "name")));
    if ((rc = equity_backtest_validate(bt, err)) != QD_OK) {
        qd_err_prefix(err, "the recorded params do not make a backtest");
        goto out;
    }
    job_progress(ctx, 0.1, "re-running run %" PRId64, id);
    if ((rc = equity_backtest_run(ctx, bt, &bt_result, err)) != QD_OK)
        goto out;
    new_id = (int64_t)json_integer_value(
        json_object_get(json_array_get(json_object_get(bt_result, "runs"), 0), "id"));
    if (new_id <= 0) {
        rc = qd_err_set(err, QD_EINTERNAL, "the backtest made no run");
        goto out;
    }
    if ((rc = load_run(ctx, new_id, &fresh, err)) != QD_OK)
        goto out;
    /* bit for bit: the same doubles (json_equal compares reals exactly), the same nulls */
    diff = json_array();
    json_object_foreach(json_object_get(old, "metrics"), k, v)
    {
        json_t *nv = json_object_get(json_object_get(fresh, "metrics"), k);
        if (nv == NULL || !json_equal(v, nv)) {
            match = false;
            json_array_append_new(diff, json_pack("{s:s, s:O, s:O?}", "metric", k, "original",
                                                  v, "rerun", nv));
        }
    }
    *result = json_pack("{s:I, s:I, s:b, s:b, s:o, s:O?, s:O?}", "run_id", (json_int_t)id,
                        "rerun_id", (json_int_t)new_id, "match", match, "data_hash_match",
                        json_equal(json_object_get(old, "data_hash"),
                                   json_object_get(fresh, "data_hash")),
                        "mismatches", diff, "data_hash", json_object_get(old, "data_hash"),
                        "rerun_data_hash", json_object_get(fresh, "data_hash"));
out:
    json_decref(old);
    json_decref(fresh);
    json_decref(exp);
    json_decref(bt);
    json_decref(bt_result);
    free(exp_text);
    return rc;
}
