/*
 * The model registry (storage/models_db.h, docs/tracking.md):
 *   POST /v1/models, GET /v1/models, GET /v1/models/{name}?stage=,
 *   POST /v1/models/{name}/versions ({run_id} or "register best": {experiment, strategy?,
 *   metric?}), POST /v1/models/{name}/versions/{version}/stage ({stage, archive_existing}).
 * Moving a version to Production needs the admin scope. Loop thread; _db on a DB worker.
 */
#include "api/api_int.h"
#include "api/handlers.h"
#include "storage/tokens_db.h"
#include "storage/models_db.h"
#include "storage/tracking_db.h"
#include "tracking/compare.h"
#include "tracking/params.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const stages[] = {"None", "Staging", "Production", "Archived", NULL};

struct model_req {
    char    name[208];
    char    stage[16];
    char   *description;
    int64_t run_id;
    int     version;
    bool    archive_existing;
    char    experiment[208], strategy[136], metric[72];
};

static void
model_req_free(void *x)
{
    struct model_req *m = x;

    if (m != NULL)
        free(m->description);
    free(m);
}

/* A model name: 1-200 bytes, no control characters, no '/'. */
static bool
model_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 200)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/')
            return false;
    return true;
}

static struct model_req *
model_req(struct api_req *r)
{
    struct model_req *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return NULL;
    }
    r->ctx = m;
    r->ctx_free = model_req_free;
    if (r->nparams > 0) {
        if (!model_name_ok(r->params[0])) {
            api_error(r, 404, "not_found", NULL, "model not found");
            return NULL;
        }
        snprintf(m->name, sizeof(m->name), "%.200s", r->params[0]);
    }
    return m;
}

static bool
stage_ok(const char *s)
{
    for (const char *const *p = stages; *p; p++)
        if (strcmp(*p, s) == 0)
            return true;
    return false;
}

static void
models_post_db(struct api_req *r, PGconn *conn)
{
    struct model_req *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = models_db_create(conn, m->name, m->description, r->token_name, &json,
                                       &err);

    api_reply_db(r, rc, 201, json, &err);
}

static void
models_list_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = models_db_list(conn, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
models_get_db(struct api_req *r, PGconn *conn)
{
    struct model_req *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = models_db_get(conn, m->name, m->stage[0] ? m->stage : NULL, &json, &err);
    json_t *j;

    if (rc != QD_OK || m->stage[0] == '\0') {
        api_reply_db(r, rc, 200, json, &err);
        return;
    }
    j = json_loads(json, 0, NULL);
    free(json);
    if (j == NULL) {
        api_error(r, 500, "internal", NULL, "could not read the version");
        return;
    }
    json_object_set_new(j, "strategy_config", run_params_strategy_config(json_object_get(j, "params")));
    api_reply_json(r, 200, j);
}

static void
version_post_db(struct api_req *r, PGconn *conn)
{
    struct model_req *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = QD_OK;

    if (m->experiment[0]) {
        /* register best: the best run of the strategy (or experiment) by the metric */
        struct exp_runs runs;
        struct cmp_group *g = NULL;
        size_t ng = 0, k = 0;
        rc = tracking_db_runs(conn, m->experiment, m->metric, &runs, &err);
        if (rc == QD_OK) {
            rc = compare_groups(&runs, compare_direction(m->metric), &g, &ng, &err);
            for (k = 0; rc == QD_OK && m->strategy[0] && k < ng; k++)
                if (strcmp(g[k].strategy, m->strategy) == 0)
                    break;
            if (rc == QD_OK && (k == ng || g[k].best == SIZE_MAX))
                rc = qd_err_set(&err, QD_ENOTFOUND, "no run with metric %s%s%s in the "
                                "experiment", m->metric, m->strategy[0] ? " of strategy " : "",
                                m->strategy);
            if (rc == QD_OK)
                m->run_id = runs.id[g[k].best];
            free(g);
            exp_runs_release(&runs);
        }
    }
    if (rc == QD_OK)
        rc = models_db_version_create(conn, m->name, m->run_id, m->description, NULL,
                                      r->token_name, &json, &err);
    api_reply_db(r, rc, 201, json, &err);
}

static void
stage_post_db(struct api_req *r, PGconn *conn)
{
    struct model_req *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = models_db_transition(conn, m->name, m->version, m->stage,
                                           m->archive_existing,
                                           token_scope_allows(r->scopes, SCOPE_ADMIN),
                                           r->token_name, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_models_post(struct api_req *r)
{
    json_t *name = json_object_get(r->json, "name");
    json_t *desc = json_object_get(r->json, "description");
    struct model_req *m = model_req(r);

    if (m == NULL)
        return;
    if (!json_is_string(name) || !model_name_ok(json_string_value(name))) {
        api_error(r, 400, "invalid_argument", "name",
                  "name is 1-200 characters without control characters or '/'");
        return;
    }
    if (desc != NULL && (!json_is_string(desc) || json_string_length(desc) > 5000)) {
        api_error(r, 400, "invalid_argument", "description", "description is a string");
        return;
    }
    snprintf(m->name, sizeof(m->name), "%s", json_string_value(name));
    if (desc != NULL && (m->description = strdup(json_string_value(desc))) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_db(r, models_post_db);
}

void
api_models_list(struct api_req *r)
{
    api_db(r, models_list_db);
}

void
api_models_get(struct api_req *r)
{
    struct model_req *m = model_req(r);
    const char *stage = api_query(r, "stage");

    if (m == NULL)
        return;
    if (stage != NULL) {
        if (!stage_ok(stage)) {
            api_error(r, 400, "invalid_argument", "stage",
                      "stage is None, Staging, Production or Archived");
            return;
        }
        snprintf(m->stage, sizeof(m->stage), "%s", stage);
    }
    api_db(r, models_get_db);
}

void
api_models_version_post(struct api_req *r)
{
    struct model_req *m = model_req(r);
    json_t *run = json_object_get(r->json, "run_id");
    json_t *exp = json_object_get(r->json, "experiment");
    json_t *strat = json_object_get(r->json, "strategy");
    json_t *metric = json_object_get(r->json, "metric");
    json_t *desc = json_object_get(r->json, "description");

    if (m == NULL)
        return;
    if ((run != NULL) == (exp != NULL)) {
        api_error(r, 400, "invalid_argument", "run_id",
                  "give run_id, or experiment (with strategy and metric) to register the best "
                  "run");
        return;
    }
    if (run != NULL && (!json_is_integer(run) || json_integer_value(run) < 1)) {
        api_error(r, 400, "invalid_argument", "run_id", "run_id is a run id");
        return;
    }
    m->run_id = run ? (int64_t)json_integer_value(run) : 0;
    if (exp != NULL) {
        if (!json_is_string(exp) || json_string_length(exp) == 0 ||
            json_string_length(exp) >= sizeof(m->experiment) ||
            (strat != NULL && (!json_is_string(strat) ||
                               json_string_length(strat) >= sizeof(m->strategy))) ||
            (metric != NULL && (!json_is_string(metric) || json_string_length(metric) == 0 ||
                                json_string_length(metric) > 64))) {
            api_error(r, 400, "invalid_argument", "experiment",
                      "experiment (an id or name), strategy and metric are strings");
            return;
        }
        snprintf(m->experiment, sizeof(m->experiment), "%s", json_string_value(exp));
        snprintf(m->strategy, sizeof(m->strategy), "%s", strat ? json_string_value(strat) : "");
        snprintf(m->metric, sizeof(m->metric), "%s",
                 metric ? json_string_value(metric) : "sharpe_ratio");
    }
    if (desc != NULL &&
        (!json_is_string(desc) || (m->description = strdup(json_string_value(desc))) == NULL)) {
        api_error(r, 400, "invalid_argument", "description", "description is a string");
        return;
    }
    api_db(r, version_post_db);
}

void
api_models_stage_post(struct api_req *r)
{
    struct model_req *m = model_req(r);
    json_t *stage = json_object_get(r->json, "stage"), *ae = json_object_get(r->json,
                                                                             "archive_existing");
    char *end;
    long v;

    if (m == NULL)
        return;
    errno = 0;
    v = strtol(r->params[1], &end, 10);
    if (errno || *end != '\0' || end == r->params[1] || v < 1 || v > 1000000000) {
        api_error(r, 404, "not_found", NULL, "model version not found");
        return;
    }
    m->version = (int)v;
    if (!json_is_string(stage) || !stage_ok(json_string_value(stage))) {
        api_error(r, 400, "invalid_argument", "stage",
                  "stage is None, Staging, Production or Archived");
        return;
    }
    if (ae != NULL && !json_is_boolean(ae)) {
        api_error(r, 400, "invalid_argument", "archive_existing", "archive_existing is a boolean");
        return;
    }
    snprintf(m->stage, sizeof(m->stage), "%s", json_string_value(stage));
    m->archive_existing = ae == NULL || json_is_true(ae);
    /* Production runs real money: only an admin token puts a version there */
    if (strcmp(m->stage, "Production") == 0 && !token_scope_allows(r->scopes, SCOPE_ADMIN)) {
        api_error(r, 403, "forbidden", NULL,
                  "moving a version to Production needs the admin scope (token \"%s\")",
                  r->token_name);
        return;
    }
    api_db(r, stage_post_db);
}
