/*
 * End-to-end: the MLflow REST subset under /api/2.0/mlflow/, replaying the request sequence the
 * official Python client sends (external-apis.md §9: set_experiment, start_run, log_param,
 * log_metric, log_params/log_metrics/set_tags as log-batch, end_run, get_run, search_runs),
 * with its wire quirks (int64 as strings, run_uuid, bare NaN tokens), MLflow's error codes and
 * batch limits, and quantd's own backtest runs visible to it.
 */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <check.h>
#include <jansson.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MF "/api/2.0/mlflow/"

static struct qt_daemon d;
static char dbinfo[512];

static void
setup(void)
{
    ck_assert(qt_db_create("e2e_mlflow", dbinfo, sizeof(dbinfo)) == 0);
    ck_assert(qt_daemon_start(&d, dbinfo, "{\"jobs\": {\"workers\": 1, \"poll_ms\": 50}}") == 0);
}

static void
teardown(void)
{
    int st = -1;

    ck_assert(qt_daemon_signal_wait(&d, SIGTERM, 20000, &st) == 0);
}

/* POST body to MF path; asserts the status; returns the JSON answer (decref it). */
static json_t *
post(const char *path, const char *body, long want)
{
    struct qt_resp r;
    char full[256];
    json_t *j;

    snprintf(full, sizeof(full), MF "%s", path);
    ck_assert_int_eq(qt_post_json(&d, full, body, &r), 0);
    ck_assert_msg(r.status == want, "POST %s %s: %ld %s", path, body, r.status, r.body);
    ck_assert_msg(r.json != NULL && json_is_object(r.json), "not a JSON object: %s", r.body);
    j = json_incref(r.json);
    qt_resp_free(&r);
    return j;
}

static json_t *
get(const char *path_query, long want)
{
    struct qt_resp r;
    char full[512];
    json_t *j;

    snprintf(full, sizeof(full), MF "%s", path_query);
    ck_assert_int_eq(qt_get(&d, full, &r), 0);
    ck_assert_msg(r.status == want, "GET %s: %ld %s", path_query, r.status, r.body);
    ck_assert(r.json != NULL && json_is_object(r.json));
    j = json_incref(r.json);
    qt_resp_free(&r);
    return j;
}

static const char *
str(json_t *o, const char *path)
{
    json_t *v = o;
    char buf[256], *save = NULL, *tok;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
        v = json_object_get(v, tok);
    return json_string_value(v);
}

/* The value of key in a [{key, value}] list. */
static json_t *
kv(json_t *list, const char *key)
{
    size_t i;
    json_t *e;

    json_array_foreach(list, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "key")), key) == 0)
            return json_object_get(e, "value");
    }
    return NULL;
}

START_TEST(python_client_sequence)
{
    json_t *j, *run, *data;
    char body[2048], q[256], exp_id[32], run_id[40];

    /* mlflow.set_experiment("demo"): get-by-name (404 RESOURCE_DOES_NOT_EXIST), create, get */
    j = get("experiments/get-by-name?experiment_name=demo", 404);
    ck_assert_str_eq(str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
    json_decref(j);
    j = post("experiments/create", "{\"name\":\"demo\"}", 200);
    ck_assert_ptr_nonnull(str(j, "experiment_id"));
    snprintf(exp_id, sizeof(exp_id), "%s", str(j, "experiment_id"));
    json_decref(j);
    snprintf(q, sizeof(q), "experiments/get?experiment_id=%s", exp_id);
    j = get(q, 200);
    ck_assert_str_eq(str(j, "experiment.name"), "demo");
    ck_assert_str_eq(str(j, "experiment.lifecycle_stage"), "active");
    ck_assert_str_eq(str(j, "experiment.experiment_id"), exp_id);
    json_decref(j);
    j = post("experiments/create", "{\"name\":\"demo\"}", 400);
    ck_assert_str_eq(str(j, "error_code"), "RESOURCE_ALREADY_EXISTS");
    json_decref(j);
    j = post("experiments/create", "{\"name\":\"123\"}", 400);       /* would shadow an id */
    ck_assert_str_eq(str(j, "error_code"), "INVALID_PARAMETER_VALUE");
    json_decref(j);

    /* mlflow.start_run(run_name="bright-fox-1"): runs/create with the client's tags */
    snprintf(body, sizeof(body),
             "{\"experiment_id\":\"%s\",\"user_id\":\"ann\",\"start_time\":1700000000000,"
             "\"tags\":[{\"key\":\"mlflow.user\",\"value\":\"ann\"},{\"key\":"
             "\"mlflow.source.name\",\"value\":\"train.py\"},{\"key\":\"mlflow.source.type\","
             "\"value\":\"LOCAL\"},{\"key\":\"mlflow.runName\",\"value\":\"bright-fox-1\"}]}",
             exp_id);
    j = post("runs/create", body, 200);
    run = json_object_get(j, "run");
    ck_assert_str_eq(str(run, "info.status"), "RUNNING");
    ck_assert_str_eq(str(run, "info.run_name"), "bright-fox-1");
    ck_assert_str_eq(str(run, "info.experiment_id"), exp_id);
    ck_assert_str_eq(str(run, "info.lifecycle_stage"), "active");
    ck_assert_int_eq((int)strlen(str(run, "info.run_id")), 32);
    ck_assert_int_eq((int)strspn(str(run, "info.run_id"), "0123456789abcdef"), 32);
    ck_assert_str_eq(str(run, "info.run_uuid"), str(run, "info.run_id"));
    ck_assert(json_integer_value(json_object_get(json_object_get(run, "info"), "start_time")) ==
              1700000000000LL);
    snprintf(run_id, sizeof(run_id), "%s", str(run, "info.run_id"));
    json_decref(j);

    /* log_param: accepted again with the same value, refused with another */
    snprintf(body, sizeof(body),
             "{\"run_id\":\"%s\",\"run_uuid\":\"%s\",\"key\":\"lr\",\"value\":\"0.01\"}", run_id,
             run_id);
    json_decref(post("runs/log-parameter", body, 200));
    json_decref(post("runs/log-parameter", body, 200));
    snprintf(body, sizeof(body), "{\"run_id\":\"%s\",\"key\":\"lr\",\"value\":\"0.02\"}", run_id);
    j = post("runs/log-parameter", body, 400);
    ck_assert_str_eq(str(j, "error_code"), "INVALID_PARAMETER_VALUE");
    json_decref(j);

    /* log_metric, int64 as numbers and as strings (older clients) */
    snprintf(body, sizeof(body),
             "{\"run_id\":\"%s\",\"key\":\"loss\",\"value\":0.5,\"timestamp\":1700000000100,"
             "\"step\":0}", run_id);
    j = post("runs/log-metric", body, 200);
    ck_assert_int_eq((int)json_object_size(j), 0);            /* {} */
    json_decref(j);
    snprintf(body, sizeof(body),
             "{\"run_uuid\":\"%s\",\"key\":\"loss\",\"value\":0.25,\"timestamp\":"
             "\"1700000000200\",\"step\":\"1\"}", run_id);
    json_decref(post("runs/log-metric", body, 200));

    /* log_metrics/log_params/set_tags -> log-batch, with Python's bare NaN */
    snprintf(body, sizeof(body),
             "{\"run_id\":\"%s\",\"metrics\":[{\"key\":\"acc\",\"value\":NaN,\"timestamp\":"
             "1700000000300,\"step\":0},{\"key\":\"acc\",\"value\":0.75,\"timestamp\":"
             "1700000000400,\"step\":1}],\"params\":[{\"key\":\"epochs\",\"value\":\"10\"}],"
             "\"tags\":[{\"key\":\"team\",\"value\":\"quant\"}]}", run_id);
    json_decref(post("runs/log-batch", body, 200));
    snprintf(body, sizeof(body), "{\"run_id\":\"%s\",\"key\":\"team\",\"value\":\"research\"}",
             run_id);
    json_decref(post("runs/set-tag", body, 200));

    /* end_run */
    snprintf(body, sizeof(body),
             "{\"run_id\":\"%s\",\"run_uuid\":\"%s\",\"status\":\"FINISHED\",\"end_time\":"
             "1700000001000}", run_id, run_id);
    j = post("runs/update", body, 200);
    ck_assert_str_eq(str(j, "run_info.status"), "FINISHED");
    ck_assert(json_integer_value(json_object_get(json_object_get(j, "run_info"), "end_time")) ==
              1700000001000LL);
    json_decref(j);

    /* get_run: each metric once, its latest value; params and tags as strings */
    snprintf(q, sizeof(q), "runs/get?run_id=%s", run_id);
    j = get(q, 200);
    data = json_object_get(json_object_get(j, "run"), "data");
    ck_assert(json_real_value(kv(json_object_get(data, "metrics"), "loss")) == 0.25);
    ck_assert(json_real_value(kv(json_object_get(data, "metrics"), "acc")) == 0.75);
    ck_assert_str_eq(json_string_value(kv(json_object_get(data, "params"), "lr")), "0.01");
    ck_assert_str_eq(json_string_value(kv(json_object_get(data, "params"), "epochs")), "10");
    ck_assert_str_eq(json_string_value(kv(json_object_get(data, "tags"), "team")), "research");
    ck_assert_str_eq(json_string_value(kv(json_object_get(data, "tags"), "mlflow.runName")),
                     "bright-fox-1");
    ck_assert_str_eq(str(j, "run.info.status"), "FINISHED");
    json_decref(j);

    /* metric history: every point, NaN as the string protobuf reads */
    snprintf(q, sizeof(q), "metrics/get-history?run_id=%s&metric_key=acc", run_id);
    j = get(q, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "metrics")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
                                                                      "metrics"), 0), "value")),
                     "NaN");
    json_decref(j);
    snprintf(q, sizeof(q), "metrics/get-history?run_id=%s&metric_key=loss", run_id);
    j = get(q, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "metrics")), 2);
    ck_assert(json_integer_value(json_object_get(json_array_get(json_object_get(j, "metrics"), 1),
                                                 "step")) == 1);
    json_decref(j);

    /* search_runs with a filter and an order */
    snprintf(body, sizeof(body),
             "{\"experiment_ids\":[\"%s\"],\"filter\":\"metrics.loss < 1 and params.lr = "
             "'0.01' and tags.team = 'research'\",\"run_view_type\":\"ACTIVE_ONLY\","
             "\"max_results\":10,\"order_by\":[\"metrics.loss DESC\"]}", exp_id);
    j = post("runs/search", body, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "runs")), 1);
    ck_assert_str_eq(str(json_array_get(json_object_get(j, "runs"), 0), "info.run_id"), run_id);
    json_decref(j);
    snprintf(body, sizeof(body),
             "{\"experiment_ids\":[\"%s\"],\"filter\":\"metrics.loss > 1\"}", exp_id);
    j = post("runs/search", body, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "runs")), 0);
    json_decref(j);
    snprintf(body, sizeof(body), "{\"experiment_ids\":[\"%s\"],\"filter\":\"metrics.loss <\"}",
             exp_id);
    j = post("runs/search", body, 400);
    ck_assert_str_eq(str(j, "error_code"), "INVALID_PARAMETER_VALUE");
    json_decref(j);

    /* the default experiment "0" */
    j = get("experiments/get-by-name?experiment_name=Default", 200);
    ck_assert_str_eq(str(j, "experiment.experiment_id"), "0");
    json_decref(j);
    j = post("runs/create", "{\"user_id\":\"bob\",\"start_time\":\"1700000005000\"}", 200);
    ck_assert_str_eq(str(j, "run.info.experiment_id"), "0");
    ck_assert_ptr_nonnull(strstr(str(j, "run.info.run_name"), "run-"));
    json_decref(j);
    j = post("experiments/search", "{\"max_results\":1}", 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "experiments")), 1);
    ck_assert_str_eq(str(j, "next_page_token"), "1");
    json_decref(j);
}
END_TEST

START_TEST(errors_and_limits)
{
    json_t *j;
    struct qt_resp r;
    char *body;
    size_t len;
    FILE *f;
    char run_id[40];

    j = post("runs/create", "{}", 200);
    snprintf(run_id, sizeof(run_id), "%s", str(j, "run.info.run_id"));
    json_decref(j);
    /* an endpoint quantd does not have */
    j = get("registered-models/nope", 404);
    ck_assert_str_eq(str(j, "error_code"), "ENDPOINT_NOT_FOUND");
    json_decref(j);
    /* an unknown run */
    j = get("runs/get?run_id=000000000000000000000000000fffff", 404);
    ck_assert_str_eq(str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
    json_decref(j);
    j = get("runs/get?run_id=zz", 404);
    ck_assert_str_eq(str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
    json_decref(j);
    j = get("experiments/get?experiment_id=987654", 404);
    ck_assert_str_eq(str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
    json_decref(j);
    /* a missing field */
    j = post("runs/log-metric", "{\"key\":\"x\",\"value\":1}", 400);
    ck_assert_str_eq(str(j, "error_code"), "INVALID_PARAMETER_VALUE");
    json_decref(j);
    /* 1,001 metrics in a batch: refused, nothing logged */
    f = open_memstream(&body, &len);
    fprintf(f, "{\"run_id\":\"%s\",\"metrics\":[", run_id);
    for (int i = 0; i < 1001; i++)
        fprintf(f, "%s{\"key\":\"m\",\"value\":%d,\"timestamp\":1,\"step\":%d}", i ? "," : "", i,
                i);
    fputs("]}", f);
    fclose(f);
    j = post("runs/log-batch", body, 400);
    ck_assert_str_eq(str(j, "error_code"), "INVALID_PARAMETER_VALUE");
    json_decref(j);
    free(body);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metric_points WHERE key = 'm'"), 0);
    /* 101 params */
    f = open_memstream(&body, &len);
    fprintf(f, "{\"run_id\":\"%s\",\"params\":[", run_id);
    for (int i = 0; i < 101; i++)
        fprintf(f, "%s{\"key\":\"p%d\",\"value\":\"v\"}", i ? "," : "", i);
    fputs("]}", f);
    fclose(f);
    j = post("runs/log-batch", body, 400);
    json_decref(j);
    free(body);
    /* no token: MLflow's UNAUTHENTICATED */
    ck_assert_int_eq(qt_http(&d, "GET", MF "experiments/get?experiment_id=0", NULL, NULL, NULL,
                             0, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(str(r.json, "error_code"), "UNAUTHENTICATED");
    qt_resp_free(&r);
    /* a bad status */
    {
        char b[256];
        snprintf(b, sizeof(b), "{\"run_id\":\"%s\",\"status\":\"DONE\"}", run_id);
        j = post("runs/update", b, 400);
        json_decref(j);
    }
}
END_TEST

/* quantd's own backtests are runs the MLflow client can search and read. */
START_TEST(backtests_visible)
{
    struct qt_resp r;
    json_t *job, *j, *runs;
    char body[512];

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs",
                                  "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"MF\"],"
                                  "\"start_date\":\"2015-01-01\",\"end_date\":\"2019-12-31\"}}",
                                  &r), 0);
    job = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
    qt_resp_free(&r);
    json_decref(job);
    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs",
                                  "{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"MF\"],"
                                  "\"start_date\":\"2015-01-01\",\"end_date\":\"2019-12-31\","
                                  "\"experiment_name\":\"bt\",\"strategy_configs\":[{\"name\":"
                                  "\"sma\",\"momentum\":{\"sma_crossover\":{\"fast\":[5,10],"
                                  "\"slow\":30}}}]}}", &r), 0);
    job = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
    qt_resp_free(&r);
    ck_assert_str_eq(json_string_value(json_object_get(job, "status")), "succeeded");
    json_decref(job);
    j = get("experiments/get-by-name?experiment_name=bt", 200);
    snprintf(body, sizeof(body),
             "{\"experiment_ids\":[\"%s\"],\"order_by\":[\"metrics.sharpe_ratio DESC\"],"
             "\"filter\":\"params.`momentum.sma_crossover.slow` = 30\"}",
             str(j, "experiment.experiment_id"));
    json_decref(j);
    j = post("runs/search", body, 200);
    runs = json_object_get(j, "runs");
    ck_assert_int_eq((int)json_array_size(runs), 2);
    ck_assert(json_is_real(kv(json_object_get(json_object_get(json_array_get(runs, 0), "data"),
                                              "metrics"), "sharpe_ratio")) ||
              json_is_string(kv(json_object_get(json_object_get(json_array_get(runs, 0), "data"),
                                                "metrics"), "sharpe_ratio")));
    ck_assert(json_real_value(kv(json_object_get(json_object_get(json_array_get(runs, 0), "data"),
                                                 "metrics"), "sharpe_ratio")) >=
              json_real_value(kv(json_object_get(json_object_get(json_array_get(runs, 1), "data"),
                                                 "metrics"), "sharpe_ratio")));
    ck_assert_str_eq(json_string_value(kv(json_object_get(json_object_get(json_array_get(runs, 0),
                                                                          "data"), "params"),
                                          "momentum.sma_crossover.slow")), "30");
    ck_assert_str_eq(str(json_array_get(runs, 0), "info.status"), "FINISHED");
    json_decref(j);
}
END_TEST

/* The registry basics (registered-models, model-versions, stages) and the lifecycle of
 * experiments and runs (delete, restore) as the client calls them. */
START_TEST(registry_and_lifecycle)
{
    json_t *j;
    char body[512], q[256], exp_id[32], run_id[40];

    j = post("experiments/create", "{\"name\":\"reg\"}", 200);
    snprintf(exp_id, sizeof(exp_id), "%s", str(j, "experiment_id"));
    json_decref(j);
    snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\",\"run_name\":\"r1\"}", exp_id);
    j = post("runs/create", body, 200);
    snprintf(run_id, sizeof(run_id), "%s", str(j, "run.info.run_id"));
    json_decref(j);

    j = post("registered-models/create", "{\"name\":\"demo-model\",\"description\":\"d\"}", 200);
    ck_assert_str_eq(str(j, "registered_model.name"), "demo-model");
    json_decref(j);
    j = post("registered-models/create", "{\"name\":\"demo-model\"}", 400);
    ck_assert_str_eq(str(j, "error_code"), "RESOURCE_ALREADY_EXISTS");
    json_decref(j);
    snprintf(body, sizeof(body),
             "{\"name\":\"demo-model\",\"source\":\"runs:/%s/model\",\"run_id\":\"%s\"}", run_id,
             run_id);
    j = post("model-versions/create", body, 200);
    ck_assert_str_eq(str(j, "model_version.version"), "1");
    ck_assert_str_eq(str(j, "model_version.status"), "READY");
    ck_assert_str_eq(str(j, "model_version.current_stage"), "None");
    ck_assert_str_eq(str(j, "model_version.run_id"), run_id);
    json_decref(j);
    j = post("model-versions/create", "{\"name\":\"demo-model\",\"source\":\"s3://x\"}", 400);
    json_decref(j);
    /* stages: the client's lower-case name is accepted; archive_existing_versions required */
    j = post("model-versions/transition-stage",
             "{\"name\":\"demo-model\",\"version\":\"1\",\"stage\":\"production\","
             "\"archive_existing_versions\":true}", 200);
    ck_assert_str_eq(str(j, "model_version.current_stage"), "Production");
    json_decref(j);
    j = post("model-versions/transition-stage",
             "{\"name\":\"demo-model\",\"version\":\"1\",\"stage\":\"Staging\"}", 400);
    json_decref(j);
    j = post("registered-models/get-latest-versions",
             "{\"name\":\"demo-model\",\"stages\":[\"Production\"]}", 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "model_versions")), 1);
    json_decref(j);
    j = get("registered-models/get-latest-versions?name=demo-model&stages=Staging", 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "model_versions")), 0);
    json_decref(j);
    j = post("registered-models/get-latest-versions",
             "{\"name\":\"demo-model\",\"stages\":[\"None\",\"None\",\"None\",\"None\","
             "\"None\"]}", 400);
    json_decref(j);
    j = get("registered-models/search?filter=name%3D%27demo-model%27", 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "registered_models")), 1);
    json_decref(j);
    j = get("registered-models/search?filter=name%3D%27nope%27", 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "registered_models")), 0);
    json_decref(j);
    j = get("registered-models/get?name=demo-model", 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(json_object_get(j, "registered_model"),
                                                          "latest_versions")), 1);
    json_decref(j);
    j = get("model-versions/search?filter=name%3D%27demo-model%27", 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "model_versions")), 1);
    json_decref(j);
    j = get("model-versions/get?name=demo-model&version=2", 404);
    ck_assert_str_eq(str(j, "error_code"), "RESOURCE_DOES_NOT_EXIST");
    json_decref(j);
    /* the native registry sees the same version and its audit trail */
    {
        struct qt_resp r;
        ck_assert_int_eq(qt_get(&d, "/v1/models/demo-model?stage=Production", &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 1);
        qt_resp_free(&r);
    }

    /* lifecycle: a deleted run leaves ACTIVE_ONLY searches; a deleted experiment takes no
     * runs until restored */
    snprintf(body, sizeof(body), "{\"run_id\":\"%s\"}", run_id);
    json_decref(post("runs/delete", body, 200));
    snprintf(body, sizeof(body), "{\"experiment_ids\":[\"%s\"]}", exp_id);
    j = post("runs/search", body, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "runs")), 0);
    json_decref(j);
    snprintf(body, sizeof(body), "{\"experiment_ids\":[\"%s\"],\"run_view_type\":\"DELETED_ONLY\"}",
             exp_id);
    j = post("runs/search", body, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(j, "runs")), 1);
    ck_assert_str_eq(str(json_array_get(json_object_get(j, "runs"), 0), "info.lifecycle_stage"),
                     "deleted");
    json_decref(j);
    snprintf(body, sizeof(body), "{\"run_id\":\"%s\"}", run_id);
    json_decref(post("runs/restore", body, 200));
    snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\"}", exp_id);
    json_decref(post("experiments/delete", body, 200));
    snprintf(q, sizeof(q), "experiments/get?experiment_id=%s", exp_id);
    j = get(q, 200);
    ck_assert_str_eq(str(j, "experiment.lifecycle_stage"), "deleted");
    json_decref(j);
    snprintf(body, sizeof(body), "{\"experiment_id\":\"%s\"}", exp_id);
    j = post("runs/create", body, 404);
    json_decref(j);
    json_decref(post("experiments/restore", body, 200));
    json_decref(post("runs/create", body, 200));
    j = post("experiments/delete", "{\"experiment_id\":\"0\"}", 400);
    json_decref(j);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("mlflow");
    TCase *tc = tcase_create("mlflow");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, python_client_sequence);
    tcase_add_test(tc, errors_and_limits);
    tcase_add_test(tc, backtests_visible);
    tcase_add_test(tc, registry_and_lifecycle);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
