/* Read-only views of experiments and their runs (the tracking work adds filters, comparison,
 * reports): GET /v1/experiments, /v1/experiments/{id|name}, /v1/experiments/{id}/runs.
 * Loop thread; *_db functions on a DB worker. */
#include "api/api_int.h"
#include "api/handlers.h"
#include "engines/equity.h"
#include "storage/mlflow_db.h"
#include "storage/runs_db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool api_metric_key_ok(const char *s);

struct runs_query {
    char              metric[256];
    bool              has_metric, desc;
    unsigned          limit;
    unsigned long     offset;
    struct run_filter filter;
};

static void
runs_query_free(void *x)
{
    struct runs_query *q = x;

    if (q != NULL)
        run_filter_release(&q->filter);
    free(q);
}

static void
experiments_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = runs_db_experiments(conn, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
experiment_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = runs_db_experiment_get(conn, r->params[0], &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
runs_list_db(struct api_req *r, PGconn *conn)
{
    struct runs_query *q = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = runs_db_list(conn, r->id, q->has_metric ? q->metric : NULL, q->desc,
                                   q->limit, q->offset, &q->filter, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_experiments_list(struct api_req *r)
{
    api_db(r, experiments_db);
}

void
api_experiments_get(struct api_req *r)
{
    api_db(r, experiment_db);
}

/* order_by: "metrics.<name> [ASC|DESC]" (a metric of docs/engine.md) or "id [ASC]". */
static bool
parse_order(struct api_req *r, const char *v, struct runs_query *q)
{
    char key[96] = "", dir[8] = "";
    const char *sp = strchr(v, ' ');
    size_t kl = sp ? (size_t)(sp - v) : strlen(v);

    if (kl >= sizeof(key) || (sp && strlen(sp + 1) >= sizeof(dir)))
        goto bad;
    memcpy(key, v, kl);
    if (sp)
        snprintf(dir, sizeof(dir), "%s", sp + 1);
    if (dir[0] && strcasecmp(dir, "ASC") != 0 && strcasecmp(dir, "DESC") != 0)
        goto bad;
    q->desc = dir[0] == '\0' || strcasecmp(dir, "DESC") == 0;
    if (strcmp(key, "id") == 0) {
        q->desc = false;
        return true;
    }
    /* a backtest metric, or any key a client logged (runs without it come last) */
    if (strncmp(key, "metrics.", 8) == 0 && api_metric_key_ok(key + 8)) {
        snprintf(q->metric, sizeof(q->metric), "%s", key + 8);
        q->has_metric = true;
        return true;
    }
bad:
    api_error(r, 400, "invalid_argument", "order_by",
              "order_by is \"metrics.<key> [ASC|DESC]\" (a metric key: letters, digits, _ - . / "
              "and spaces), e.g. metrics.sharpe_ratio, or \"id\"");
    return false;
}

void
api_experiments_runs(struct api_req *r)
{
    struct runs_query *q;
    const char *v;
    char *end;

    if (!api_param_id(r, 0, "experiment"))
        return;
    q = calloc(1, sizeof(*q));
    if (q == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = q;
    r->ctx_free = runs_query_free;
    q->limit = 100;
    if ((v = api_query(r, "filter")) != NULL) {
        struct qd_err err;
        if (run_filter_parse(v, strlen(v), 6, &q->filter, &err) != QD_OK) {
            api_error(r, 400, "invalid_argument", "filter", "%s", err.msg);
            return;
        }
    }
    if ((v = api_query(r, "order_by")) != NULL && !parse_order(r, v, q))
        return;
    if ((v = api_query(r, "limit")) != NULL) {
        unsigned long l;
        errno = 0;
        l = strtoul(v, &end, 10);
        if (errno || *end || end == v || l < 1 || l > 1000) {
            api_error(r, 400, "invalid_argument", "limit", "limit must be from 1 to 1000");
            return;
        }
        q->limit = (unsigned)l;
    }
    if ((v = api_query(r, "cursor")) != NULL) {
        errno = 0;
        q->offset = strtoul(v, &end, 10);
        if (errno || *end || end == v || q->offset > 100000000UL) {
            api_error(r, 400, "invalid_argument", "cursor", "cursor is a next_cursor value");
            return;
        }
    }
    api_db(r, runs_list_db);
}

/* ---- DELETE /v1/experiments/{id}, POST /v1/experiments/{id}/restore: the lifecycle ---- */

static void
lifecycle_db(struct api_req *r, PGconn *conn)
{
    struct qd_err err;
    enum qd_code rc = mlflow_db_lifecycle(conn, false, r->id, r->ctx ? "active" : "deleted", &err);

    if (rc != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    experiment_db(r, conn);
}

static void
lifecycle(struct api_req *r, bool restore)
{
    if (!api_param_id(r, 0, "experiment"))
        return;
    /* r->ctx only says which way (no allocation, no ctx_free) */
    r->ctx = restore ? (void *)r : NULL;
    api_db(r, lifecycle_db);
}

void
api_experiments_delete(struct api_req *r)
{
    lifecycle(r, false);
}

void
api_experiments_restore(struct api_req *r)
{
    lifecycle(r, true);
}
