/* Comparison views of an experiment (tracking/compare.h, docs/tracking.md):
 *   GET /v1/experiments/{id|name}/compare?metric=sharpe_ratio
 *   GET /v1/experiments/{id|name}/best?strategy=&metric=
 * Loop thread; the _db functions (loading and the statistics) on a DB worker. */
#include "api/api_int.h"
#include "api/handlers.h"
#include "daemon/config.h"
#include "storage/runs_db.h"
#include "storage/tracking_db.h"
#include "tracking/compare.h"
#include "storage/report_db.h"
#include "tracking/report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cmp_req {
    char   experiment[208];
    char   metric[72];
    char   strategy[136];           /* "" = every strategy (best) */
    double threshold;
};

/* A metric key as runs store them: 1-64 of a-z, A-Z, 0-9, '_', '.', '-'. */
static bool
metric_key_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Loads the runs, groups them, loads the best curves; then compare (best == false) or the best
 * run of one strategy. */
static void
compare_db_common(struct api_req *r, PGconn *conn, bool best)
{
    struct cmp_req *q = r->ctx;
    struct exp_runs runs;
    struct cmp_group *g = NULL;
    struct cmp_curve *curves = NULL;
    int32_t **days = NULL;
    double **equity = NULL;
    size_t ng = 0, pick = 0;
    struct cmp_opts o = {.metric = q->metric, .direction = compare_direction(q->metric),
                         .dsr_threshold = q->threshold};
    json_t *out = NULL;
    struct qd_err err;
    enum qd_code rc = tracking_db_runs(conn, q->experiment, q->metric, &runs, &err);

    if (rc != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    rc = compare_groups(&runs, o.direction, &g, &ng, &err);
    if (rc == QD_OK && best) {
        /* the strategy's group, or the overall best (g[0]); its curve and the overall best's */
        for (pick = 0; q->strategy[0] && pick < ng; pick++)
            if (strcmp(g[pick].strategy, q->strategy) == 0)
                break;
        if (pick == ng || ng == 0 || g[pick].best == SIZE_MAX)
            rc = qd_err_set(&err, QD_ENOTFOUND, "%s%s%s has no run with metric %s",
                            q->strategy[0] ? "strategy " : "experiment ",
                            q->strategy[0] ? q->strategy : runs.experiment,
                            q->strategy[0] ? " of this experiment" : "", q->metric);
    }
    if (rc == QD_OK) {
        curves = calloc(ng ? ng : 1, sizeof(*curves));
        days = calloc(ng ? ng : 1, sizeof(*days));
        equity = calloc(ng ? ng : 1, sizeof(*equity));
        if (curves == NULL || days == NULL || equity == NULL)
            rc = qd_err_set(&err, QD_ENOMEM, "out of memory");
    }
    if (rc == QD_OK && best) {
        /* only the two curves the answer needs */
        struct cmp_group two[2] = {g[0], g[pick]};
        struct cmp_curve c2[2] = {{0}};
        rc = report_db_load_curves(conn, &runs, two, pick ? 2 : 1, c2, days, equity, &err);
        curves[0] = c2[0];
        if (pick)
            curves[pick] = c2[1];
    } else if (rc == QD_OK) {
        rc = report_db_load_curves(conn, &runs, g, ng, curves, days, equity, &err);
    }
    if (rc == QD_OK && !best) {
        rc = compare_json(&runs, g, ng, curves, &o, &out, &err);
    } else if (rc == QD_OK) {
        size_t i = g[pick].best;
        char *run_json = NULL;
        /* an infinite best value (a profit factor without losses) is JSON null */
        out = json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "experiment_id",
                        (json_int_t)runs.experiment_id, "experiment", runs.experiment,
                        "strategy", runs.strategy[i], "metric", q->metric, "run_id",
                        (json_int_t)runs.id[i], "value",
                        isfinite(runs.value[i]) ? json_real(runs.value[i]) : json_null());
        if (out == NULL)
            rc = qd_err_set(&err, QD_ENOMEM, "out of memory");
        if (rc == QD_OK && (rc = runs_db_get(conn, runs.id[i], &run_json, &err)) == QD_OK) {
            json_t *run = json_loads(run_json, 0, NULL);
            json_object_set(out, "params", json_object_get(run, "params"));
            json_object_set(out, "metrics", json_object_get(run, "metrics"));
            json_object_set_new(out, "runs_in_strategy", json_integer((json_int_t)g[pick].count));
            json_object_set_new(out, "runs_in_experiment", json_integer((json_int_t)runs.n));
            json_decref(run);
            free(run_json);
        }
        if (rc == QD_OK) {
            json_t *sig = json_object();
            rc = compare_significance(&runs, i, &curves[pick], g[0].best, &curves[0], &o, sig,
                                      &err);
            json_object_set_new(sig, "threshold", json_real(q->threshold));
            json_object_set_new(out, "deflated_sharpe", sig);
        }
    }
    for (size_t k = 0; days && k < ng; k++) {
        free(days[k]);
        free(equity[k]);
    }
    free(days);
    free(equity);
    free(curves);
    free(g);
    exp_runs_release(&runs);
    if (rc != QD_OK) {
        json_decref(out);
        api_reply_err(r, &err);
        return;
    }
    api_reply_json(r, 200, out);
}

static void
compare_db(struct api_req *r, PGconn *conn)
{
    compare_db_common(r, conn, false);
}

static void
best_db(struct api_req *r, PGconn *conn)
{
    compare_db_common(r, conn, true);
}

static bool
read_request(struct api_req *r)
{
    struct cmp_req *q = calloc(1, sizeof(*q));
    const char *v;

    if (q == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return false;
    }
    r->ctx = q;
    r->ctx_free = free;
    if (strlen(r->params[0]) >= sizeof(q->experiment)) {
        api_error(r, 404, "not_found", NULL, "experiment not found");
        return false;
    }
    snprintf(q->experiment, sizeof(q->experiment), "%.200s", r->params[0]);
    v = api_query(r, "metric");
    snprintf(q->metric, sizeof(q->metric), "%s", v ? v : "sharpe_ratio");
    if (v != NULL && !metric_key_valid(v)) {
        api_error(r, 400, "invalid_argument", "metric",
                  "metric is a metric key (1-64 of letters, digits, _ . -), e.g. sharpe_ratio");
        return false;
    }
    if ((v = api_query(r, "strategy")) != NULL) {
        if (strlen(v) == 0 || strlen(v) >= sizeof(q->strategy)) {
            api_error(r, 400, "invalid_argument", "strategy", "strategy is 1-128 characters");
            return false;
        }
        snprintf(q->strategy, sizeof(q->strategy), "%s", v);
    }
    q->threshold = api_deps(r->srv)->cfg->dsr_threshold;
    return true;
}

void
api_experiments_compare(struct api_req *r)
{
    if (read_request(r))
        api_db(r, compare_db);
}

void
api_experiments_best(struct api_req *r)
{
    if (read_request(r))
        api_db(r, best_db);
}

/* ---- POST /v1/experiments, POST /v1/runs/{id}/metrics, GET /v1/runs/{id}/metrics/{key} ---- */

#define MAX_TAGS          100
#define MAX_BATCH_METRICS 1000          /* MLflow's log-batch limit */

/* Text a user names things with: 1..max bytes of UTF-8 without control characters. */
static bool
name_text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* A metric key as MLflow allows them: letters, digits, _ - . space and /, 1-250 bytes. */
bool api_metric_key_ok(const char *s);
bool
api_metric_key_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 250 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. /") == n;
}

struct exp_post {
    char  name[208];
    char *tags;
};

static void
exp_post_free(void *p)
{
    struct exp_post *e = p;

    if (e != NULL)
        free(e->tags);
    free(e);
}

static void
exp_post_db(struct api_req *r, PGconn *conn)
{
    struct exp_post *e = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = tracking_db_experiment_create(conn, e->name, e->tags, &json, &err);

    api_reply_db(r, rc, 201, json, &err);
}

void
api_experiments_post(struct api_req *r)
{
    json_t *name = json_object_get(r->json, "name"), *tags = json_object_get(r->json, "tags");
    struct exp_post *e;
    const char *k;
    json_t *v;

    json_object_foreach(r->json, k, v)
    {
        if (strcmp(k, "name") != 0 && strcmp(k, "tags") != 0) {
            api_error(r, 400, "invalid_argument", k, "unknown field \"%.64s\"", k);
            return;
        }
    }
    if (!json_is_string(name) || !name_text_ok(json_string_value(name), 200) ||
        strspn(json_string_value(name), "0123456789") == json_string_length(name)) {
        api_error(r, 400, "invalid_argument", "name",
                  "name is 1-200 characters without control characters, not all digits (an "
                  "experiment is named by id or name)");
        return;
    }
    if (tags != NULL && (!json_is_object(tags) || json_object_size(tags) > MAX_TAGS)) {
        api_error(r, 400, "invalid_argument", "tags", "tags is an object of at most %d strings",
                  MAX_TAGS);
        return;
    }
    json_object_foreach(tags, k, v)
    {
        if (!name_text_ok(k, 250) || !json_is_string(v) || json_string_length(v) > 5000) {
            char field[300];
            snprintf(field, sizeof(field), "tags.%.250s", k);
            api_error(r, 400, "invalid_argument", field,
                      "a tag is a key of 1-250 characters and a string value of at most 5000");
            return;
        }
    }
    if ((e = calloc(1, sizeof(*e))) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = e;
    r->ctx_free = exp_post_free;
    snprintf(e->name, sizeof(e->name), "%s", json_string_value(name));
    if (tags != NULL && (e->tags = json_dumps(tags, JSON_COMPACT)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_db(r, exp_post_db);
}

struct metrics_post {
    size_t               n;
    struct metric_point *p;             /* keys point into keybuf */
    char                *keybuf;
};

static void
metrics_post_free(void *x)
{
    struct metrics_post *m = x;

    if (m != NULL) {
        free(m->p);
        free(m->keybuf);
    }
    free(m);
}

static void
metrics_post_db(struct api_req *r, PGconn *conn)
{
    struct metrics_post *m = r->ctx;
    struct qd_err err;
    enum qd_code rc = tracking_db_log_metrics(conn, r->id, m->p, m->n, &err);

    if (rc != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    api_reply_json(r, 200, json_pack("{s:I, s:I}", "run_id", (json_int_t)r->id, "logged",
                                     (json_int_t)m->n));
}

/* A metric value: a number, or "NaN" / "Infinity" / "-Infinity" (JSON has no such numbers). */
static bool
metric_value(const json_t *v, double *out)
{
    const char *s = json_string_value(v);

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (s != NULL && (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 ||
                      strcmp(s, "-Infinity") == 0)) {
        *out = s[0] == 'N' ? NAN : s[0] == 'I' ? INFINITY : -INFINITY;
        return true;
    }
    return false;
}

void
api_runs_metrics_post(struct api_req *r)
{
    json_t *list = json_object_get(r->json, "metrics"), *one;
    struct metrics_post *m;
    size_t i, at = 0, keys = 0;
    int64_t now_ms;
    struct timespec ts;
    char field[64];

    if (!api_param_id(r, 0, "run"))
        return;
    if (json_object_size(r->json) != 1 || !json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > MAX_BATCH_METRICS) {
        api_error(r, 400, "invalid_argument", "metrics",
                  "the body is {\"metrics\": [{\"key\", \"value\", \"step\", \"timestamp\"}, "
                  "…]} with 1-%d entries", MAX_BATCH_METRICS);
        return;
    }
    json_array_foreach(list, i, one)
        keys += json_string_length(json_object_get(one, "key")) + 1;
    if ((m = calloc(1, sizeof(*m))) == NULL ||
        (m->p = calloc(json_array_size(list), sizeof(*m->p))) == NULL ||
        (m->keybuf = malloc(keys ? keys : 1)) == NULL) {
        metrics_post_free(m);
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = m;
    r->ctx_free = metrics_post_free;
    clock_gettime(CLOCK_REALTIME, &ts);
    now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    json_array_foreach(list, i, one)
    {
        json_t *key = json_object_get(one, "key"), *step = json_object_get(one, "step");
        json_t *tms = json_object_get(one, "timestamp");
        struct metric_point *p = &m->p[i];
        const char *k;
        json_t *v;

        snprintf(field, sizeof(field), "metrics[%zu]", i);
        json_object_foreach(one, k, v)
        {
            if (strcmp(k, "key") && strcmp(k, "value") && strcmp(k, "step") &&
                strcmp(k, "timestamp")) {
                api_error(r, 400, "invalid_argument", field, "unknown field \"%.64s\"", k);
                return;
            }
        }
        if (!json_is_string(key) || !api_metric_key_ok(json_string_value(key))) {
            api_error(r, 400, "invalid_argument", field,
                      "key is 1-250 letters, digits, _ - . space or /");
            return;
        }
        if (!metric_value(json_object_get(one, "value"), &p->value)) {
            api_error(r, 400, "invalid_argument", field,
                      "value is a number, or \"NaN\", \"Infinity\", \"-Infinity\"");
            return;
        }
        if (step != NULL && (!json_is_integer(step) || json_integer_value(step) < 0)) {
            api_error(r, 400, "invalid_argument", field, "step is an integer >= 0");
            return;
        }
        if (tms != NULL && (!json_is_integer(tms) || json_integer_value(tms) < 0 ||
                            json_integer_value(tms) > 253402300799999LL)) {
            api_error(r, 400, "invalid_argument", field,
                      "timestamp is epoch milliseconds (an integer >= 0)");
            return;
        }
        memcpy(m->keybuf + at, json_string_value(key), json_string_length(key) + 1);
        p->key = m->keybuf + at;
        at += json_string_length(key) + 1;
        p->step = step ? (int64_t)json_integer_value(step) : 0;
        p->ts_ms = tms ? (int64_t)json_integer_value(tms) : now_ms;
    }
    m->n = json_array_size(list);
    api_db(r, metrics_post_db);
}

static void
history_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = tracking_db_metric_history(conn, r->id, r->params[1], &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_runs_metric_history(struct api_req *r)
{
    if (!api_param_id(r, 0, "run"))
        return;
    if (!api_metric_key_ok(r->params[1])) {
        api_error(r, 400, "invalid_argument", "key",
                  "a metric key is 1-250 letters, digits, _ - . space or /");
        return;
    }
    api_db(r, history_db);
}

/* ---- GET /v1/experiments/{id|name}/report?metric= ---- */

static void
report_db(struct api_req *r, PGconn *conn)
{
    struct cmp_req *q = r->ctx;
    struct qd_buf html = QD_BUF_INIT(REPORT_MAX_BYTES);
    int64_t best_run = 0;
    size_t len = 0;
    struct qd_err err;
    char *body;

    if (report_db_build(conn, q->experiment, q->metric, q->threshold, &html, &best_run, &err) !=
        QD_OK) {
        qd_buf_release(&html);
        api_reply_err(r, &err);
        return;
    }
    body = qd_buf_detach(&html, &len);
    /* the page needs nothing but its own inline styles */
    r->csp = "default-src 'none'; style-src 'unsafe-inline'";
    api_reply(r, 200, "text/html; charset=utf-8", body, len);
}

void
api_experiments_report(struct api_req *r)
{
    if (read_request(r))
        api_db(r, report_db);
}
