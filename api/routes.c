/*
 * The route table (the contract test compares it with openapi.yaml) and the small handlers:
 * health, metrics, tokens, symbols. Loop thread; *_db functions on a DB worker.
 */
#include "api/api_int.h"
#include "api/handlers.h"
#include "common/date.h"
#include "jobs/runner.h"
#include "storage/bars_db.h"
#include "storage/jobs_db.h"
#include "storage/pg.h"
#include "storage/tokens_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static api_handler_fn api_health_get, api_metrics_get, api_tokens_post, api_tokens_list,
    api_tokens_delete, api_symbols_get;

const struct api_route api_routes[] = {
    {"GET", "/v1/health", api_health_get, 0, API_NOAUTH},
    {"GET", "/metrics", api_metrics_get, 0, API_NOAUTH},
    {"POST", "/v1/jobs", api_jobs_post, SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/v1/jobs", api_jobs_list, SCOPE_READ, 0},
    {"GET", "/v1/jobs/{id}", api_jobs_get, SCOPE_READ, 0},
    {"POST", "/v1/jobs/{id}/cancel", api_jobs_cancel, SCOPE_RESEARCH,
     API_BODY_JSON | API_BODY_OPTIONAL},
    {"GET", "/v1/jobs/{id}/events", api_jobs_events, SCOPE_READ, 0},
    {"POST", "/v1/schedules", api_schedules_post, SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/v1/schedules", api_schedules_list, SCOPE_READ, 0},
    {"GET", "/v1/schedules/{name}", api_schedules_get, SCOPE_READ, 0},
    {"DELETE", "/v1/schedules/{name}", api_schedules_delete, SCOPE_RESEARCH, 0},
    {"POST", "/v1/tokens", api_tokens_post, SCOPE_ADMIN, API_BODY_JSON},
    {"GET", "/v1/tokens", api_tokens_list, SCOPE_ADMIN, 0},
    {"DELETE", "/v1/tokens/{name}", api_tokens_delete, SCOPE_ADMIN, 0},
    {"GET", "/v1/symbols", api_symbols_get, SCOPE_READ, 0},
    {"GET", "/v1/bars/{symbol}", api_bars_get, SCOPE_READ, 0},
    {"PUT", "/v1/bars/{symbol}", api_bars_put, SCOPE_RESEARCH, API_BODY_CSV},
    {"GET", "/v1/features/{symbol}", api_features_get, SCOPE_READ, 0},
    {"GET", "/v1/macro/{series_id}", api_macro_get, SCOPE_READ, 0},
    {"GET", "/v1/vix", api_vix_get, SCOPE_READ, 0},
    {"GET", "/v1/cot/{market}", api_cot_get, SCOPE_READ, 0},
    {"GET", "/v1/options/{symbol}", api_options_get, SCOPE_READ, 0},
    {"GET", "/v1/strategies", api_strategies_get, SCOPE_READ, 0},
    {"GET", "/v1/experiments", api_experiments_list, SCOPE_READ, 0},
    {"POST", "/v1/experiments", api_experiments_post, SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/v1/experiments/{id}", api_experiments_get, SCOPE_READ, 0},
    {"DELETE", "/v1/experiments/{id}", api_experiments_delete, SCOPE_RESEARCH, 0},
    {"POST", "/v1/experiments/{id}/restore", api_experiments_restore, SCOPE_RESEARCH,
     API_BODY_JSON | API_BODY_OPTIONAL},
    {"GET", "/v1/experiments/{id}/runs", api_experiments_runs, SCOPE_READ, 0},
    {"GET", "/v1/experiments/{id}/compare", api_experiments_compare, SCOPE_READ, 0},
    {"GET", "/v1/experiments/{id}/best", api_experiments_best, SCOPE_READ, 0},
    {"GET", "/v1/experiments/{id}/report", api_experiments_report, SCOPE_READ, 0},
    {"GET", "/v1/runs/{id}", api_runs_get, SCOPE_READ, 0},
    {"GET", "/v1/runs/{id}/equity", api_runs_equity, SCOPE_READ, 0},
    {"GET", "/v1/runs/{id}/trades", api_runs_trades, SCOPE_READ, 0},
    {"POST", "/v1/runs/{id}/metrics", api_runs_metrics_post, SCOPE_RESEARCH, API_BODY_JSON},
    {"PUT", "/v1/runs/{id}/artifacts", api_artifacts_put, SCOPE_RESEARCH, API_BODY_RAW},
    {"POST", "/v1/runs/{id}/rerun", api_runs_rerun, SCOPE_RESEARCH,
     API_BODY_JSON | API_BODY_OPTIONAL},
    {"GET", "/v1/runs/{id}/artifacts", api_artifacts_list, SCOPE_READ, 0},
    {"GET", "/v1/runs/{id}/artifacts/file", api_artifacts_get, SCOPE_READ, 0},
    {"GET", "/v1/runs/{id}/metrics/{key}", api_runs_metric_history, SCOPE_READ, 0},
    {"POST", "/v1/models", api_models_post, SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/v1/models", api_models_list, SCOPE_READ, 0},
    {"GET", "/v1/models/{name}", api_models_get, SCOPE_READ, 0},
    {"POST", "/v1/models/{name}/versions", api_models_version_post, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"POST", "/v1/models/{name}/versions/{version}/stage", api_models_stage_post,
     SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/api/2.0/mlflow/experiments/get-by-name", api_mlflow_experiment_get_by_name,
     SCOPE_READ, 0},
    {"GET", "/api/2.0/mlflow/experiments/get", api_mlflow_experiment_get, SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/experiments/create", api_mlflow_experiment_create, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/experiments/search", api_mlflow_experiments_search, SCOPE_READ,
     API_BODY_JSON | API_BODY_OPTIONAL | API_READ_POST},
    {"GET", "/api/2.0/mlflow/experiments/search", api_mlflow_experiments_search, SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/runs/create", api_mlflow_run_create, SCOPE_RESEARCH, API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/runs/update", api_mlflow_run_update, SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/api/2.0/mlflow/runs/get", api_mlflow_run_get, SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/runs/search", api_mlflow_runs_search, SCOPE_READ,
     API_BODY_JSON | API_READ_POST},
    {"POST", "/api/2.0/mlflow/runs/log-metric", api_mlflow_log_metric, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/runs/log-parameter", api_mlflow_log_parameter, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/runs/log-batch", api_mlflow_log_batch, SCOPE_RESEARCH, API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/runs/set-tag", api_mlflow_set_tag, SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/api/2.0/mlflow/metrics/get-history", api_mlflow_metric_history, SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/registered-models/create", api_mlflow_rm_create, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"GET", "/api/2.0/mlflow/registered-models/get", api_mlflow_rm_get, SCOPE_READ, 0},
    {"GET", "/api/2.0/mlflow/registered-models/search", api_mlflow_rm_search, SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/registered-models/get-latest-versions", api_mlflow_rm_latest,
     SCOPE_READ, API_BODY_JSON | API_READ_POST},
    {"GET", "/api/2.0/mlflow/registered-models/get-latest-versions", api_mlflow_rm_latest,
     SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/model-versions/create", api_mlflow_mv_create, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"GET", "/api/2.0/mlflow/model-versions/get", api_mlflow_mv_get, SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/model-versions/transition-stage", api_mlflow_mv_transition,
     SCOPE_RESEARCH, API_BODY_JSON},
    {"GET", "/api/2.0/mlflow/model-versions/search", api_mlflow_mv_search, SCOPE_READ, 0},
    {"POST", "/api/2.0/mlflow/experiments/delete", api_mlflow_experiment_delete, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/experiments/restore", api_mlflow_experiment_restore, SCOPE_RESEARCH,
     API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/runs/delete", api_mlflow_run_delete, SCOPE_RESEARCH, API_BODY_JSON},
    {"POST", "/api/2.0/mlflow/runs/restore", api_mlflow_run_restore, SCOPE_RESEARCH, API_BODY_JSON},
};
const unsigned api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

/* ---- health ---- */

static int64_t started_usec;

/* The database probe is shared: a health request reuses a probe younger than
 * HEALTH_PROBE_MS and answers at once from the loop; otherwise it runs one (SELECT 1). Load
 * balancers may poll hard without each poll costing a round trip to PostgreSQL. */
#define HEALTH_PROBE_MS 200
static uint64_t health_probed_ms;
static bool health_db_up;

static void
health_reply(struct api_req *r, bool up)
{
    api_reply_json(r, up ? 200 : 503,
                   json_pack("{s:s, s:s, s:s, s:I}", "status", up ? "ok" : "unavailable", "db",
                             up ? "ok" : "down", "version", api_deps(r->srv)->version,
                             "uptime_seconds",
                             (json_int_t)((qd_now_usec() - started_usec) / 1000000)));
    if (!up)
        snprintf(r->retry_after, sizeof(r->retry_after), "1");
}

static void
health_db(struct api_req *r, PGconn *conn)
{
    struct qd_err err;

    r->ctx = (void *)(intptr_t)(pg_exec(conn, "SELECT 1", 0, NULL, PGRES_TUPLES_OK, NULL,
                                        &err) == QD_OK);
}

static void
health_after(struct api_req *r)
{
    bool up = r->status == 0 && r->ctx != NULL;

    r->ctx = NULL;
    health_db_up = up;
    health_probed_ms = qd_mono_ms();
    health_reply(r, up);
}

static void
api_health_get(struct api_req *r)
{
    if (started_usec == 0)
        started_usec = qd_now_usec();
    if (health_probed_ms != 0 && qd_mono_ms() - health_probed_ms < HEALTH_PROBE_MS) {
        health_reply(r, health_db_up);
        return;
    }
    r->after_db = health_after;
    api_db(r, health_db);
}

/* ---- metrics ---- */

struct metrics_ctx {
    bool      db_up;
    long long counts[5];
};

static void
metrics_db(struct api_req *r, PGconn *conn)
{
    struct metrics_ctx *m = r->ctx;
    struct qd_err err;

    m->db_up = jobs_db_counts(conn, m->counts, &err) == QD_OK;
}

static void
metrics_after(struct api_req *r)
{
    struct metrics_ctx *m = r->ctx;

    struct qd_buf b = QD_BUF_INIT(0);
    struct pg_pool_stats ps;
    size_t len;
    char *text;

    api_metrics_render(r->srv, &b);
    qd_buf_printf(&b, "# HELP quantd_db_up Whether the last database query succeeded.\n"
                      "# TYPE quantd_db_up gauge\nquantd_db_up %d\n",
                  m->db_up);
    if (m->db_up) {
        qd_buf_puts(&b, "# HELP quantd_jobs Jobs by state.\n# TYPE quantd_jobs gauge\n");
        for (int i = 0; i < 5; i++)
            qd_buf_printf(&b, "quantd_jobs{state=\"%s\"} %lld\n", jobs_db_status_names[i],
                          m->counts[i]);
    }
    pg_pool_stats(api_pool(r->srv), &ps);
    qd_buf_printf(&b,
                  "# HELP quantd_db_pool_connections Database pool connections by state.\n"
                  "# TYPE quantd_db_pool_connections gauge\n"
                  "quantd_db_pool_connections{state=\"size\"} %u\n"
                  "quantd_db_pool_connections{state=\"connected\"} %u\n"
                  "quantd_db_pool_connections{state=\"busy\"} %u\n"
                  "# HELP quantd_db_pool_queued Tasks waiting for a database worker.\n"
                  "# TYPE quantd_db_pool_queued gauge\nquantd_db_pool_queued %u\n"
                  "# HELP quantd_db_pool_tasks_total Tasks run by the database pool.\n"
                  "# TYPE quantd_db_pool_tasks_total counter\nquantd_db_pool_tasks_total %llu\n"
                  "# HELP quantd_jobs_running_here Jobs running in this process.\n"
                  "# TYPE quantd_jobs_running_here gauge\nquantd_jobs_running_here %u\n",
                  ps.workers, ps.connected, ps.busy, ps.queued, ps.tasks,
                  job_runner_running(api_runner(r->srv)));
    text = qd_buf_detach(&b, &len);
    api_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void
api_metrics_get(struct api_req *r)
{
    r->ctx = calloc(1, sizeof(struct metrics_ctx));
    r->ctx_free = free;
    if (r->ctx == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->after_db = metrics_after;
    api_db(r, metrics_db);
}

/* ---- tokens ---- */

static bool
name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr("._-", c)))
            return false;
    }
    return true;
}

bool api_name_ok(const char *s);
bool
api_name_ok(const char *s)
{
    return name_ok(s);
}

struct token_ctx {
    char     name[65];
    unsigned scopes;
};

static void
tokens_post_db(struct api_req *r, PGconn *conn)
{
    struct token_ctx *t = r->ctx;
    char secret[TOKEN_SECRET_LEN + 1], *json = NULL;
    struct qd_err err;

    if (tokens_db_create(conn, t->name, t->scopes, secret, &json, &err) != QD_OK)
        api_reply_err(r, &err);
    else
        api_reply_text_json(r, 201, json);
    memset(secret, 0, sizeof(secret));
}

static void
api_tokens_post(struct api_req *r)
{
    static const char *const known[] = {"name", "scopes", NULL};
    json_t *name = json_object_get(r->json, "name"), *scopes = json_object_get(r->json, "scopes");
    struct token_ctx *t;
    const char *k;
    json_t *v;
    size_t i;

    json_object_foreach(r->json, k, v)
    {
        bool ok = false;
        for (const char *const *p = known; *p; p++)
            ok |= strcmp(*p, k) == 0;
        if (!ok) {
            api_error(r, 400, "invalid_argument", k, "unknown field \"%s\"", k);
            return;
        }
    }
    if (!json_is_string(name) || !name_ok(json_string_value(name))) {
        api_error(r, 400, "invalid_argument", "name",
                  "name must be 1-64 letters, digits or ._- starting with a letter or digit");
        return;
    }
    if (!json_is_array(scopes) || json_array_size(scopes) == 0) {
        api_error(r, 400, "invalid_argument", "scopes",
                  "scopes must be a non-empty array of read, research, trade, admin");
        return;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = t;
    r->ctx_free = free;
    snprintf(t->name, sizeof(t->name), "%s", json_string_value(name));
    json_array_foreach(scopes, i, v)
    {
        unsigned sc = json_is_string(v) ? token_scope_parse(json_string_value(v)) : 0;
        if (sc == 0) {
            char field[32];
            snprintf(field, sizeof(field), "scopes[%zu]", i);
            api_error(r, 400, "invalid_argument", field,
                      "unknown scope: use read, research, trade or admin");
            return;
        }
        t->scopes |= sc;
    }
    api_db(r, tokens_post_db);
}

static void
tokens_list_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = tokens_db_list(conn, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
api_tokens_list(struct api_req *r)
{
    api_db(r, tokens_list_db);
}

static void
tokens_delete_db(struct api_req *r, PGconn *conn)
{
    struct qd_err err;

    if (tokens_db_revoke(conn, r->params[0], &err) != QD_OK)
        api_reply_err(r, &err);
    else
        api_reply(r, 204, NULL, NULL, 0);
}

static void
tokens_delete_after(struct api_req *r)
{
    /* the revoked token stops working on this daemon at once (others within the cache TTL) */
    api_auth_forget(r->srv);
}

static void
api_tokens_delete(struct api_req *r)
{
    r->after_db = tokens_delete_after;
    api_db(r, tokens_delete_db);
}

/* ---- symbols ---- */

static void
symbols_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = bars_db_symbols(conn, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
api_symbols_get(struct api_req *r)
{
    api_db(r, symbols_db);
}
