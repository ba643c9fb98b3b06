/*
 * The MLflow REST subset under /api/2.0/mlflow/ (external-apis.md §9, docs/tracking.md), on the
 * tables quantd's own tracking uses, so that the official client with
 * MLFLOW_TRACKING_URI=http://host:port (and MLFLOW_TRACKING_TOKEN = a quantd token) can create
 * runs and log to quantd, and sees quantd's backtests. GET requests carry their fields in the
 * query string, POST requests in a JSON body; int64 fields may be numbers or strings; errors
 * are {"error_code", "message"} (api_error does that for these paths). Loop thread parses; the
 * _db functions run on a DB worker.
 */
#include "api/api_int.h"
#include "api/handlers.h"
#include "storage/mlflow_db.h"
#include "storage/models_db.h"
#include "storage/tokens_db.h"
#include "storage/tracking_db.h"
#include "tracking/filter.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

bool api_metric_key_ok(const char *s);

#define MAX_BATCH_METRICS 1000
#define MAX_BATCH_PARAMS  100
#define MAX_BATCH_TAGS    100
#define MAX_BATCH_ITEMS   1000
#define MAX_PARAM_VALUE   6000
#define MAX_TAG_VALUE     8000
#define MAX_SEARCH        50000

/* What one request needs on the DB worker. */
struct mf {
    int64_t              run_id, exp_id, start_ms, end_ms;
    char                *name, *user, *status, *key, *artifact;
    char                *params, *tags;         /* JSON objects of strings */
    struct metric_point *pts;
    size_t               npts;
    char               **keys;                  /* the points' keys, owned */
    struct run_filter    filter;
    char                 order_sql[128], order_metric[256], exp_ids[4096];
    int                  view;
    unsigned             max;
    unsigned long        offset;
};

static void
mf_free(void *x)
{
    struct mf *m = x;

    if (m == NULL)
        return;
    free(m->name);
    free(m->user);
    free(m->status);
    free(m->key);
    free(m->artifact);
    free(m->params);
    free(m->tags);
    for (size_t i = 0; i < m->npts; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->pts);
    run_filter_release(&m->filter);
    free(m);
}

static struct mf *
mf_new(struct api_req *r)
{
    struct mf *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return NULL;
    }
    m->end_ms = -1;
    r->ctx = m;
    r->ctx_free = mf_free;
    return m;
}

/* A field: from the query string (GET) or the JSON body (POST). JSON numbers are given as
 * their text in buf. */
static const char *
field(struct api_req *r, const char *name, char *buf, size_t n)
{
    json_t *v;

    if (r->json == NULL)
        return api_query(r, name);
    v = json_object_get(r->json, name);
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, n, "%.17g", json_real_value(v));
        return buf;
    }
    if (json_is_boolean(v)) {
        snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
        return buf;
    }
    return NULL;
}

/* An int64 field (a number or a string of digits). absent: *present false, true returned. */
static bool
int64_field(struct api_req *r, const char *name, int64_t *out, bool *present)
{
    char buf[64], *end;
    const char *s = field(r, name, buf, sizeof(buf));
    long long v;

    *present = s != NULL;
    if (s == NULL)
        return true;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0') {
        api_error(r, 400, "invalid_argument", name, "%s must be an int64", name);
        return false;
    }
    *out = v;
    return true;
}

static bool
required_str(struct api_req *r, const char *name, char **out, size_t max)
{
    char buf[64];
    const char *s = field(r, name, buf, sizeof(buf));

    if (s == NULL || s[0] == '\0') {
        api_error(r, 400, "invalid_argument", name, "Missing value for required parameter '%s'",
                  name);
        return false;
    }
    if (strlen(s) > max) {
        api_error(r, 400, "invalid_argument", name, "%s is longer than %zu bytes", name, max);
        return false;
    }
    if ((*out = strdup(s)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return false;
    }
    return true;
}

/* run_id (or the deprecated run_uuid). */
static bool
run_field(struct api_req *r, struct mf *m)
{
    char buf[64];
    const char *s = field(r, "run_id", buf, sizeof(buf));

    if (s == NULL || s[0] == '\0')
        s = field(r, "run_uuid", buf, sizeof(buf));
    if (s == NULL || s[0] == '\0') {
        api_error(r, 400, "invalid_argument", "run_id",
                  "Missing value for required parameter 'run_id'");
        return false;
    }
    if (!mlflow_parse_run_id(s, &m->run_id)) {
        api_error(r, 404, "not_found", "run_id", "Run '%.64s' not found", s);
        return false;
    }
    return true;
}

static bool
experiment_field(struct api_req *r, struct mf *m, bool required)
{
    char buf[64], *end;
    const char *s = field(r, "experiment_id", buf, sizeof(buf));
    long long v;

    if (s == NULL || s[0] == '\0') {
        if (required) {
            api_error(r, 400, "invalid_argument", "experiment_id",
                      "Missing value for required parameter 'experiment_id'");
            return false;
        }
        m->exp_id = 0;                  /* the default experiment */
        return true;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || end == s || v < 0) {
        api_error(r, 404, "not_found", "experiment_id", "No Experiment with id=%.64s exists", s);
        return false;
    }
    m->exp_id = v;
    return true;
}

/* A key as MLflow allows for params and tags (as metric keys). */
static bool
key_ok(const char *s)
{
    return s != NULL && api_metric_key_ok(s);
}

/* [{key, value}] -> a JSON object of strings (*out, malloc'd); max entries, value bytes. */
static bool
kv_list(struct api_req *r, const json_t *list, const char *what, size_t max_n, size_t max_value,
        char **out)
{
    json_t *obj = json_object(), *e;
    size_t i;

    if (obj == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return false;
    }
    if (list != NULL && (!json_is_array(list) || json_array_size(list) > max_n)) {
        json_decref(obj);
        api_error(r, 400, "invalid_argument", what, "%s is a list of at most %zu {key, value}",
                  what, max_n);
        return false;
    }
    json_array_foreach(list, i, e)
    {
        const char *k = json_string_value(json_object_get(e, "key"));
        json_t *v = json_object_get(e, "value");
        char num[64];
        const char *vs = json_string_value(v);
        if (vs == NULL && json_is_number(v)) {
            snprintf(num, sizeof(num), "%.17g", json_number_value(v));
            vs = num;
        }
        if (!key_ok(k) || vs == NULL || strlen(vs) > max_value) {
            json_decref(obj);
            api_error(r, 400, "invalid_argument", what,
                      "%s[%zu]: a key of 1-250 letters, digits, _ - . / or space, and a value "
                      "of at most %zu bytes", what, i, max_value);
            return false;
        }
        json_object_set_new(obj, k, json_string(vs));
    }
    *out = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (*out == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return false;
    }
    return true;
}

/* A metric value: a number or "NaN" / "Infinity" / "-Infinity" (Python's bare tokens arrive as
 * those strings, see api_is_mlflow). */
static bool
metric_value(const json_t *v, double *out)
{
    const char *s = json_string_value(v);

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (s == NULL)
        return false;
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -INFINITY;
    else {
        char *end;
        errno = 0;
        *out = strtod(s, &end);
        return errno == 0 && end != s && *end == '\0';
    }
    return true;
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The points of a metrics list [{key, value, timestamp, step}] into m. */
static bool
metric_points(struct api_req *r, struct mf *m, const json_t *list)
{
    size_t n = json_array_size(list), i;
    json_t *e;

    if (n == 0)
        return true;
    m->pts = calloc(n, sizeof(*m->pts));
    m->keys = calloc(n, sizeof(*m->keys));
    if (m->pts == NULL || m->keys == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return false;
    }
    json_array_foreach(list, i, e)
    {
        const char *k = json_string_value(json_object_get(e, "key"));
        json_t *ts = json_object_get(e, "timestamp"), *st = json_object_get(e, "step");
        struct metric_point *p = &m->pts[i];
        char *end;
        if (!key_ok(k) || !metric_value(json_object_get(e, "value"), &p->value)) {
            api_error(r, 400, "invalid_argument", "metrics",
                      "metrics[%zu]: a key of 1-250 letters, digits, _ - . / or space, and a "
                      "numeric value", i);
            return false;
        }
        p->ts_ms = now_ms();
        p->step = 0;
        if (ts != NULL && !json_is_null(ts)) {
            p->ts_ms = json_is_integer(ts) ? (int64_t)json_integer_value(ts)
                                           : (int64_t)strtoll(json_string_value(ts)
                                                                  ? json_string_value(ts)
                                                                  : "x",
                                                              &end, 10);
            if (!json_is_integer(ts) && (json_string_value(ts) == NULL || *end != '\0')) {
                api_error(r, 400, "invalid_argument", "metrics",
                          "metrics[%zu]: timestamp is an int64 (epoch ms)", i);
                return false;
            }
        }
        if (st != NULL && !json_is_null(st)) {
            p->step = json_is_integer(st) ? (int64_t)json_integer_value(st)
                                          : (int64_t)strtoll(json_string_value(st)
                                                                 ? json_string_value(st)
                                                                 : "x",
                                                             &end, 10);
            if (!json_is_integer(st) && (json_string_value(st) == NULL || *end != '\0')) {
                api_error(r, 400, "invalid_argument", "metrics",
                          "metrics[%zu]: step is an int64", i);
                return false;
            }
        }
        if ((m->keys[i] = strdup(k)) == NULL) {
            api_error(r, 503, "unavailable", NULL, "out of memory");
            return false;
        }
        p->key = m->keys[i];
        m->npts = i + 1;
    }
    return true;
}

/* ---- DB side ---- */

static void
reply_empty(struct api_req *r, enum qd_code rc, const struct qd_err *err)
{
    if (rc == QD_OK)
        api_reply_json(r, 200, json_object());
    else
        api_reply_err(r, err);
}

static void
experiment_get_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL, id[24];
    struct qd_err err;
    enum qd_code rc;

    snprintf(id, sizeof(id), "%" PRId64, m->exp_id);
    rc = mlflow_db_experiment(conn, m->name ? NULL : id, m->name, &json, &err);
    api_reply_db(r, rc, 200, json, &err);
}

static void
experiment_create_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_experiment_create(conn, m->name, m->artifact, m->tags, &json,
                                                  &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
experiments_search_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_experiments_search(conn, m->view, m->max, m->offset, &json,
                                                   &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
run_create_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_run_create(conn, m->exp_id, m->user, m->name, m->start_ms,
                                           m->tags, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
run_update_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_run_update(conn, m->run_id, m->status, m->end_ms, m->name,
                                           &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
run_get_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_run_get(conn, m->run_id, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
history_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_metric_history(conn, m->run_id, m->key, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

/* log-metric, log-parameter, set-tag and log-batch: params and tags first (a changed param
 * refuses the call before any metric is logged), then the metrics. */
static void
log_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    struct qd_err err;
    enum qd_code rc = QD_OK;

    if (m->params != NULL || m->tags != NULL)
        rc = mlflow_db_log_params_tags(conn, m->run_id, m->params, m->tags, &err);
    if (rc == QD_OK && m->npts > 0)
        rc = tracking_db_log_metrics(conn, m->run_id, m->pts, m->npts, &err);
    reply_empty(r, rc, &err);
}

static void
runs_search_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_runs_search(conn, m->exp_ids, &m->filter, m->order_sql,
                                            m->order_metric[0] ? m->order_metric : NULL, m->view,
                                            m->max, m->offset, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

/* ---- handlers ---- */

void
api_mlflow_experiment_get_by_name(struct api_req *r)
{
    struct mf *m = mf_new(r);

    if (m && required_str(r, "experiment_name", &m->name, 500))
        api_db(r, experiment_get_db);
}

void
api_mlflow_experiment_get(struct api_req *r)
{
    struct mf *m = mf_new(r);

    if (m && experiment_field(r, m, true))
        api_db(r, experiment_get_db);
}

void
api_mlflow_experiment_create(struct api_req *r)
{
    struct mf *m = mf_new(r);
    char buf[64];
    const char *al;

    if (m == NULL || !required_str(r, "name", &m->name, 200) ||
        !kv_list(r, json_object_get(r->json, "tags"), "tags", MAX_BATCH_TAGS, MAX_TAG_VALUE,
                 &m->tags))
        return;
    /* experiments are addressed by id or name: a name of digits would shadow an id */
    if (strspn(m->name, "0123456789") == strlen(m->name)) {
        api_error(r, 400, "invalid_argument", "name",
                  "an experiment name is not all digits (experiments are named by id or name)");
        return;
    }
    if ((al = field(r, "artifact_location", buf, sizeof(buf))) != NULL &&
        (m->artifact = strdup(al)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_db(r, experiment_create_db);
}

/* max_results (default def, at most MAX_SEARCH), page_token (our offset), a view type. */
static bool
paging(struct api_req *r, struct mf *m, const char *view_name, unsigned def)
{
    char buf[64], *end;
    const char *s;
    int64_t mr;
    bool present;

    m->max = def;
    m->view = 1;
    if (!int64_field(r, "max_results", &mr, &present))
        return false;
    if (present) {
        if (mr < 1 || mr > MAX_SEARCH) {
            api_error(r, 400, "invalid_argument", "max_results",
                      "Invalid value for max_results: it must be from 1 to %d", MAX_SEARCH);
            return false;
        }
        m->max = (unsigned)mr;
    }
    if ((s = field(r, "page_token", buf, sizeof(buf))) != NULL && s[0] != '\0') {
        errno = 0;
        m->offset = strtoul(s, &end, 10);
        if (errno || *end != '\0' || end == s || m->offset > 100000000UL) {
            api_error(r, 400, "invalid_argument", "page_token", "Invalid page token");
            return false;
        }
    }
    if ((s = field(r, view_name, buf, sizeof(buf))) != NULL && s[0] != '\0') {
        if (strcmp(s, "ACTIVE_ONLY") == 0 || strcmp(s, "1") == 0)
            m->view = 1;
        else if (strcmp(s, "DELETED_ONLY") == 0 || strcmp(s, "2") == 0)
            m->view = 2;
        else if (strcmp(s, "ALL") == 0 || strcmp(s, "3") == 0)
            m->view = 3;
        else {
            api_error(r, 400, "invalid_argument", view_name,
                      "%s is ACTIVE_ONLY, DELETED_ONLY or ALL", view_name);
            return false;
        }
    }
    return true;
}

void
api_mlflow_experiments_search(struct api_req *r)
{
    struct mf *m = mf_new(r);
    char buf[64];
    const char *f;

    if (m == NULL || !paging(r, m, "view_type", 1000))
        return;
    if ((f = field(r, "filter", buf, sizeof(buf))) != NULL && f[0] != '\0') {
        api_error(r, 400, "invalid_argument", "filter",
                  "filtering experiments is not supported by quantd; list them all");
        return;
    }
    api_db(r, experiments_search_db);
}

void
api_mlflow_run_create(struct api_req *r)
{
    struct mf *m = mf_new(r);
    char buf[64];
    const char *s;
    bool present;

    if (m == NULL || !experiment_field(r, m, false) ||
        !kv_list(r, json_object_get(r->json, "tags"), "tags", MAX_BATCH_TAGS, MAX_TAG_VALUE,
                 &m->tags) ||
        !int64_field(r, "start_time", &m->start_ms, &present))
        return;
    if (!present)
        m->start_ms = now_ms();
    if ((s = field(r, "user_id", buf, sizeof(buf))) != NULL && (m->user = strdup(s)) == NULL)
        goto oom;
    /* the name: run_name, else the mlflow.runName tag */
    s = field(r, "run_name", buf, sizeof(buf));
    if (s == NULL || s[0] == '\0') {
        json_t *tags = json_loads(m->tags, 0, NULL);
        s = json_string_value(json_object_get(tags, "mlflow.runName"));
        if (s != NULL && (m->name = strdup(s)) == NULL) {
            json_decref(tags);
            goto oom;
        }
        json_decref(tags);
    } else if (strlen(s) > 250 || (m->name = strdup(s)) == NULL) {
        api_error(r, 400, "invalid_argument", "run_name", "run_name is at most 250 bytes");
        return;
    }
    api_db(r, run_create_db);
    return;
oom:
    api_error(r, 503, "unavailable", NULL, "out of memory");
}

void
api_mlflow_run_update(struct api_req *r)
{
    static const char *const statuses[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED",
                                           "KILLED", NULL};
    struct mf *m = mf_new(r);
    char buf[64];
    const char *s;
    bool present;

    if (m == NULL || !run_field(r, m) || !int64_field(r, "end_time", &m->end_ms, &present))
        return;
    if (!present)
        m->end_ms = -1;
    if ((s = field(r, "status", buf, sizeof(buf))) != NULL) {
        bool ok = false;
        for (const char *const *p = statuses; *p; p++)
            ok |= strcmp(*p, s) == 0;
        if (!ok) {
            api_error(r, 400, "invalid_argument", "status",
                      "status is RUNNING, SCHEDULED, FINISHED, FAILED or KILLED");
            return;
        }
        if ((m->status = strdup(s)) == NULL)
            goto oom;
    }
    if ((s = field(r, "run_name", buf, sizeof(buf))) != NULL && s[0] != '\0' &&
        (m->name = strdup(s)) == NULL)
        goto oom;
    api_db(r, run_update_db);
    return;
oom:
    api_error(r, 503, "unavailable", NULL, "out of memory");
}

void
api_mlflow_run_get(struct api_req *r)
{
    struct mf *m = mf_new(r);

    if (m && run_field(r, m))
        api_db(r, run_get_db);
}

void
api_mlflow_metric_history(struct api_req *r)
{
    struct mf *m = mf_new(r);

    if (m && run_field(r, m) && required_str(r, "metric_key", &m->key, 250))
        api_db(r, history_db);
}

void
api_mlflow_log_metric(struct api_req *r)
{
    struct mf *m = mf_new(r);
    json_t *one, *list;

    if (m == NULL || !run_field(r, m))
        return;
    if ((one = json_pack("{s:O?, s:O?, s:O?, s:O?}", "key", json_object_get(r->json, "key"),
                         "value", json_object_get(r->json, "value"), "timestamp",
                         json_object_get(r->json, "timestamp"), "step",
                         json_object_get(r->json, "step"))) == NULL ||
        (list = json_pack("[o]", one)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    if (metric_points(r, m, list))
        api_db(r, log_db);
    json_decref(list);
}

/* log-parameter and set-tag: one {key, value} into params or tags. */
static void
one_kv(struct api_req *r, bool param)
{
    struct mf *m = mf_new(r);
    json_t *list;

    if (m == NULL || !run_field(r, m))
        return;
    list = json_pack("[{s:O?, s:O?}]", "key", json_object_get(r->json, "key"), "value",
                     json_object_get(r->json, "value"));
    if (list != NULL && kv_list(r, list, param ? "params" : "tags", 1,
                                param ? MAX_PARAM_VALUE : MAX_TAG_VALUE,
                                param ? &m->params : &m->tags))
        api_db(r, log_db);
    else if (list == NULL)
        api_error(r, 503, "unavailable", NULL, "out of memory");
    json_decref(list);
}

void
api_mlflow_log_parameter(struct api_req *r)
{
    one_kv(r, true);
}

void
api_mlflow_set_tag(struct api_req *r)
{
    one_kv(r, false);
}

void
api_mlflow_log_batch(struct api_req *r)
{
    struct mf *m = mf_new(r);
    json_t *metrics = json_object_get(r->json, "metrics");
    json_t *params = json_object_get(r->json, "params"), *tags = json_object_get(r->json, "tags");
    size_t nm = json_array_size(metrics), np = json_array_size(params);
    size_t nt = json_array_size(tags);

    if (m == NULL || !run_field(r, m))
        return;
    if ((metrics && !json_is_array(metrics)) || nm > MAX_BATCH_METRICS ||
        np > MAX_BATCH_PARAMS || nt > MAX_BATCH_TAGS || nm + np + nt > MAX_BATCH_ITEMS) {
        api_error(r, 400, "invalid_argument", "metrics",
                  "A batch logging request can contain at most %d metrics, %d params and %d "
                  "tags, %d items in total (got %zu, %zu and %zu)",
                  MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS, MAX_BATCH_ITEMS, nm, np,
                  nt);
        return;
    }
    if (!metric_points(r, m, metrics))
        return;
    if (np > 0 && !kv_list(r, params, "params", MAX_BATCH_PARAMS, MAX_PARAM_VALUE, &m->params))
        return;
    if (nt > 0 && !kv_list(r, tags, "tags", MAX_BATCH_TAGS, MAX_TAG_VALUE, &m->tags))
        return;
    /* two params of one key with different values in one batch: MLflow refuses */
    if (np > 1) {
        json_t *obj = json_loads(m->params, 0, NULL);
        size_t distinct = json_object_size(obj);
        json_decref(obj);
        if (distinct < np) {
            size_t i, j;
            json_t *a, *b;
            json_array_foreach(params, i, a)
            {
                for (j = i + 1; j < np; j++) {
                    b = json_array_get(params, j);
                    if (json_equal(json_object_get(a, "key"), json_object_get(b, "key")) &&
                        !json_equal(json_object_get(a, "value"), json_object_get(b, "value"))) {
                        api_error(r, 400, "invalid_argument", "params",
                                  "Duplicate parameter keys with different values: %.250s",
                                  json_string_value(json_object_get(a, "key")));
                        return;
                    }
                }
            }
        }
    }
    api_db(r, log_db);
}

/* order_by: the first entry, "metrics.<key> [ASC|DESC]" or "[attributes.]start_time |
 * end_time | run_name | status [ASC|DESC]"; default start_time DESC. */
static bool
parse_order(struct api_req *r, struct mf *m, const char *s)
{
    static const struct {
        const char *name, *col;
    } attrs[] = {{"start_time", "r.start_time"}, {"end_time", "r.end_time"},
                 {"run_name", "r.name"}, {"status", "r.status"}, {"run_id", "r.id"}};
    char key[32] = "";
    const char *dir = "", *sp;
    bool desc;
    size_t kl;

    if (s == NULL || s[0] == '\0') {
        snprintf(m->order_sql, sizeof(m->order_sql), "r.start_time DESC, r.id DESC");
        return true;
    }
    if (strncmp(s, "attributes.", 11) == 0)
        s += 11;
    if (strncmp(s, "metrics.", 8) == 0) {
        const char *k = s + 8;
        if (*k == '`') {
            const char *e = strchr(k + 1, '`');
            if (e == NULL || e == k + 1 || (size_t)(e - k - 1) >= sizeof(m->order_metric))
                goto bad;
            memcpy(m->order_metric, k + 1, (size_t)(e - k - 1));
            m->order_metric[e - k - 1] = '\0';
            dir = e + 1;
        } else {
            sp = strchr(k, ' ');
            kl = sp ? (size_t)(sp - k) : strlen(k);
            if (kl == 0 || kl >= sizeof(m->order_metric))
                goto bad;
            memcpy(m->order_metric, k, kl);
            m->order_metric[kl] = '\0';
            dir = sp ? sp : "";
        }
        if (!api_metric_key_ok(m->order_metric))
            goto bad;
        snprintf(key, sizeof(key), "om");
    } else {
        sp = strchr(s, ' ');
        kl = sp ? (size_t)(sp - s) : strlen(s);
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            if (strlen(attrs[i].name) == kl && strncmp(attrs[i].name, s, kl) == 0)
                snprintf(key, sizeof(key), "%s", attrs[i].col);
        if (key[0] == '\0')
            goto bad;
        dir = sp ? sp : "";
    }
    while (*dir == ' ')
        dir++;
    if (*dir && strcasecmp(dir, "ASC") != 0 && strcasecmp(dir, "DESC") != 0)
        goto bad;
    desc = strcasecmp(dir, "DESC") == 0;
    snprintf(m->order_sql, sizeof(m->order_sql), "%s %s NULLS LAST, r.id %s", key,
             desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
    return true;
bad:
    api_error(r, 400, "invalid_argument", "order_by",
              "order_by is \"metrics.<key> [ASC|DESC]\" or an attribute (start_time, end_time, "
              "run_name, status) with ASC or DESC");
    return false;
}

void
api_mlflow_runs_search(struct api_req *r)
{
    struct mf *m = mf_new(r);
    json_t *ids = json_object_get(r->json, "experiment_ids"), *v;
    json_t *order = json_object_get(r->json, "order_by");
    const char *f = json_string_value(json_object_get(r->json, "filter"));
    size_t i, at = 0;
    struct qd_err err;

    if (m == NULL || !paging(r, m, "run_view_type", 1000))
        return;
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > 100) {
        api_error(r, 400, "invalid_argument", "experiment_ids",
                  "experiment_ids is a list of 1-100 experiment ids");
        return;
    }
    at = (size_t)snprintf(m->exp_ids, sizeof(m->exp_ids), "{");
    json_array_foreach(ids, i, v)
    {
        char buf[32];
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (json_is_integer(v)) {
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            s = buf;
        }
        if (s == NULL || s[0] == '\0' || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s)) {
            api_error(r, 400, "invalid_argument", "experiment_ids",
                      "experiment_ids[%zu] is not an experiment id", i);
            return;
        }
        at += (size_t)snprintf(m->exp_ids + at, sizeof(m->exp_ids) - at, "%s%s", i ? "," : "",
                               s);
    }
    snprintf(m->exp_ids + at, sizeof(m->exp_ids) - at, "}");
    if (order != NULL && !json_is_array(order)) {
        api_error(r, 400, "invalid_argument", "order_by", "order_by is a list of strings");
        return;
    }
    if (!parse_order(r, m, json_string_value(json_array_get(order, 0))))
        return;
    if (run_filter_parse(f, f ? strlen(f) : 0, 2, &m->filter, &err) != QD_OK) {
        api_error(r, 400, "invalid_argument", "filter", "%s", err.msg);
        return;
    }
    api_db(r, runs_search_db);
}

/* ---- the model registry and lifecycles (registered-models/…, model-versions/…,
 * experiments|runs delete/restore) ---- */

/* Registry requests reuse struct mf: name the model, start_ms the version, key the source or
 * stage, status the description, view archive_existing_versions, exp_ids the stages array. */

/* A stage name as MLflow takes it (any case) in its canonical spelling, or NULL. */
static const char *
canonical_stage(const char *s)
{
    static const char *const stages[] = {"None", "Staging", "Production", "Archived", NULL};

    for (const char *const *p = stages; s && *p; p++)
        if (strcasecmp(*p, s) == 0)
            return *p;
    return NULL;
}

static bool
version_field(struct api_req *r, struct mf *m)
{
    int64_t v;
    bool present;

    if (!int64_field(r, "version", &v, &present))
        return false;
    if (!present || v < 1 || v > 1000000000) {
        api_error(r, 400, "invalid_argument", "version",
                  "Missing or bad value for required parameter 'version'");
        return false;
    }
    m->start_ms = v;
    return true;
}

static void
rm_create_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = models_db_create(conn, m->name, m->artifact, r->token_name, &json, &err);

    free(json);
    json = NULL;
    if (rc == QD_ECONFLICT)
        qd_err_set(&err, QD_ECONFLICT, "Registered Model (name=%s) already exists.", m->name);
    if (rc == QD_OK)
        rc = mlflow_db_registered_model(conn, m->name, &json, &err);
    api_reply_db(r, rc, 200, json, &err);
}

static void
rm_get_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_registered_model(conn, m->name, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
rm_search_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_registered_models_search(conn, m->name, m->max, m->offset, &json,
                                                         &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
rm_latest_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_latest_versions(conn, m->name, m->exp_ids[0] ? m->exp_ids : NULL,
                                                &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
mv_create_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = models_db_version_create(conn, m->name, m->run_id, m->status, m->key,
                                               r->token_name, &json, &err);
    json_t *v = rc == QD_OK ? json_loads(json, 0, NULL) : NULL;
    int version = (int)json_integer_value(json_object_get(v, "version"));

    json_decref(v);
    free(json);
    json = NULL;
    if (rc == QD_OK)
        rc = mlflow_db_model_version(conn, m->name, version, &json, &err);
    api_reply_db(r, rc, 200, json, &err);
}

static void
mv_get_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_model_version(conn, m->name, (int)m->start_ms, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
mv_transition_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = models_db_transition(conn, m->name, (int)m->start_ms, m->key,
                                           m->view != 0,
                                           token_scope_allows(r->scopes, SCOPE_ADMIN),
                                           r->token_name, &json, &err);

    free(json);
    json = NULL;
    if (rc == QD_OK)
        rc = mlflow_db_model_version(conn, m->name, (int)m->start_ms, &json, &err);
    api_reply_db(r, rc, 200, json, &err);
}

static void
mv_search_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = mlflow_db_model_versions_search(conn, m->name, m->max, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
lifecycle_db(struct api_req *r, PGconn *conn)
{
    struct mf *m = r->ctx;
    struct qd_err err;
    enum qd_code rc = mlflow_db_lifecycle(conn, m->run_id != 0, m->run_id ? m->run_id
                                                                          : m->exp_id,
                                          m->status, &err);

    reply_empty(r, rc, &err);
}

void
api_mlflow_rm_create(struct api_req *r)
{
    struct mf *m = mf_new(r);
    char buf[64];
    const char *d;

    if (m == NULL || !required_str(r, "name", &m->name, 200))
        return;
    if (strchr(m->name, '/') != NULL) {
        api_error(r, 400, "invalid_argument", "name", "a model name has no '/'");
        return;
    }
    if ((d = field(r, "description", buf, sizeof(buf))) != NULL &&
        (m->artifact = strdup(d)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_db(r, rm_create_db);
}

void
api_mlflow_rm_get(struct api_req *r)
{
    struct mf *m = mf_new(r);

    if (m && required_str(r, "name", &m->name, 200))
        api_db(r, rm_get_db);
}

/* A search filter quantd reads: none, or name = 'x' (any spacing, either quote). The name is
 * copied into *name; anything else is refused. */
static bool
name_filter(struct api_req *r, char **name)
{
    char buf[64], q;
    const char *f = field(r, "filter", buf, sizeof(buf)), *s, *e;

    if (f == NULL || f[strspn(f, " ")] == '\0')
        return true;
    s = f + strspn(f, " ");
    if (strncmp(s, "name", 4) != 0)
        goto bad;
    s += 4;
    s += strspn(s, " ");
    if (*s != '=')
        goto bad;
    s++;
    s += strspn(s, " ");
    q = *s;
    if ((q != '\'' && q != '"') || (e = strchr(s + 1, q)) == NULL || e == s + 1 ||
        e[1 + strspn(e + 1, " ")] != '\0')
        goto bad;
    if ((*name = strndup(s + 1, (size_t)(e - s - 1))) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return false;
    }
    return true;
bad:
    api_error(r, 400, "invalid_argument", "filter",
              "quantd's registry searches take no filter or name = '<name>'");
    return false;
}

void
api_mlflow_rm_search(struct api_req *r)
{
    struct mf *m = mf_new(r);
    char *name = NULL;

    if (m == NULL || !paging(r, m, "view_type", 100) || !name_filter(r, &name))
        return;
    m->name = name;                     /* NULL: every model */
    api_db(r, rm_search_db);
}

void
api_mlflow_rm_latest(struct api_req *r)
{
    struct mf *m = mf_new(r);
    json_t *stages = r->json ? json_object_get(r->json, "stages") : NULL, *s;
    size_t i, at;

    if (m == NULL || !required_str(r, "name", &m->name, 200))
        return;
    if (stages == NULL && r->json == NULL && api_query(r, "stages") != NULL)
        stages = json_pack("[s]", api_query(r, "stages"));
    else
        json_incref(stages);
    at = 0;
    /* at most the four stages (each once): the array literal cannot outgrow exp_ids */
    if (json_array_size(stages) > 4) {
        json_decref(stages);
        api_error(r, 400, "invalid_argument", "stages", "stages lists at most the 4 stages");
        return;
    }
    json_array_foreach(stages, i, s)
    {
        const char *st = canonical_stage(json_string_value(s));
        if (st == NULL) {
            json_decref(stages);
            api_error(r, 400, "invalid_argument", "stages",
                      "stages are None, Staging, Production or Archived");
            return;
        }
        at += (size_t)snprintf(m->exp_ids + at, sizeof(m->exp_ids) - at, "%s%s", i ? "," : "{",
                               st);
    }
    if (at > 0)
        snprintf(m->exp_ids + at, sizeof(m->exp_ids) - at, "}");
    json_decref(stages);
    api_db(r, rm_latest_db);
}

void
api_mlflow_mv_create(struct api_req *r)
{
    struct mf *m = mf_new(r);
    char buf[64];
    const char *s;

    if (m == NULL || !required_str(r, "name", &m->name, 200) ||
        !required_str(r, "source", &m->key, 2000))
        return;
    if (field(r, "run_id", buf, sizeof(buf)) == NULL) {
        api_error(r, 400, "invalid_argument", "run_id",
                  "quantd's model versions are made from a run: run_id is required");
        return;
    }
    if (!run_field(r, m))
        return;
    if ((s = field(r, "description", buf, sizeof(buf))) != NULL &&
        (m->status = strdup(s)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_db(r, mv_create_db);
}

void
api_mlflow_mv_get(struct api_req *r)
{
    struct mf *m = mf_new(r);

    if (m && required_str(r, "name", &m->name, 200) && version_field(r, m))
        api_db(r, mv_get_db);
}

void
api_mlflow_mv_transition(struct api_req *r)
{
    struct mf *m = mf_new(r);
    char buf[64];
    const char *st;
    json_t *ae;

    if (m == NULL || !required_str(r, "name", &m->name, 200) || !version_field(r, m))
        return;
    st = canonical_stage(field(r, "stage", buf, sizeof(buf)));
    if (st == NULL) {
        api_error(r, 400, "invalid_argument", "stage",
                  "stage is None, Staging, Production or Archived");
        return;
    }
    ae = json_object_get(r->json, "archive_existing_versions");
    if (!json_is_boolean(ae)) {
        api_error(r, 400, "invalid_argument", "archive_existing_versions",
                  "Missing value for required parameter 'archive_existing_versions'");
        return;
    }
    /* Production runs real money: only an admin token puts a version there */
    if (strcmp(st, "Production") == 0 && !token_scope_allows(r->scopes, SCOPE_ADMIN)) {
        api_error(r, 403, "forbidden", NULL,
                  "moving a version to Production needs the admin scope");
        return;
    }
    if ((m->key = strdup(st)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    m->view = json_is_true(ae);
    api_db(r, mv_transition_db);
}

void
api_mlflow_mv_search(struct api_req *r)
{
    struct mf *m = mf_new(r);

    if (m == NULL || !paging(r, m, "view_type", 1000) || !name_filter(r, &m->name))
        return;
    api_db(r, mv_search_db);
}

static void
lifecycle(struct api_req *r, bool run, const char *to)
{
    struct mf *m = mf_new(r);

    if (m == NULL || (run ? !run_field(r, m) : !experiment_field(r, m, true)))
        return;
    if (!run && m->exp_id == 0) {
        api_error(r, 400, "invalid_argument", "experiment_id",
                  "the default experiment cannot be deleted");
        return;
    }
    if ((m->status = strdup(to)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    api_db(r, lifecycle_db);
}

void
api_mlflow_experiment_delete(struct api_req *r)
{
    lifecycle(r, false, "deleted");
}

void
api_mlflow_experiment_restore(struct api_req *r)
{
    lifecycle(r, false, "active");
}

void
api_mlflow_run_delete(struct api_req *r)
{
    lifecycle(r, true, "deleted");
}

void
api_mlflow_run_restore(struct api_req *r)
{
    lifecycle(r, true, "active");
}
