/*
 * HTTP server: libmicrohttpd in external-epoll mode on the daemon's libuv loop, the generic
 * request pipeline (route match, 404/405, body limits 413, content type 415, JSON parse 400,
 * bearer auth 401/403, per-token rate limit 429, CORS, X-Request-Id), responses, metrics and
 * the audit log. Loop thread only; api_db() runs SQL on the storage pool's workers.
 *
 * DESIGN: MHD calls the access handler once for the headers, once per body chunk, and once
 * more when the body is complete. We never answer on the first call (libmicrohttpd 0.9.75
 * would then close a keep-alive connection: ../shared/docs/limits.md). A handler that needs
 * the database suspends the connection and submits a pg_task; the task's done() callback, on
 * the loop, resumes the connection and MHD calls the access handler again, which queues the
 * response the task prepared.
 */
#define _GNU_SOURCE
#include "api/api_int.h"
#include "common/date.h"
#include "common/log.h"
#include "daemon/config.h"
#include "storage/pg.h"
#include "storage/tokens_db.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define QD_LOG_MODULE "http"
#define AUTH_CACHE_SIZE 64
#define AUTH_CACHE_TTL_MS 5000
#define MAX_STATUS_SLOTS 16

static const double latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

struct auth_entry {
    unsigned char hash[32];
    char          name[65];
    unsigned      scopes;
    uint64_t      expires_ms;
};

struct rate_bucket {
    char     name[65];
    double   tokens;
    uint64_t last_ms;
};

struct route_stats {
    int                status[MAX_STATUS_SLOTS];
    unsigned long long count[MAX_STATUS_SLOTS];
};

struct api_server {
    struct api_deps     deps;
    struct MHD_Daemon  *mhd;
    uv_poll_t           poll;
    uv_timer_t          timer;
    uv_timer_t          stream_timer;
    int                 closing;
    bool                quiesced;
    unsigned            connections;
    unsigned            suspended;      /* requests waiting for the database or a stream */
    uint64_t            next_id;
    struct auth_entry   auth[AUTH_CACHE_SIZE];
    unsigned            auth_next;
    struct rate_bucket *buckets;
    unsigned            nbuckets;
    struct route_stats *stats;      /* api_routes_count + 1 (unmatched) */
    unsigned long long  hist[NBUCKETS + 1];
    double              hist_sum;
    unsigned long long  hist_count;
    void               *bars_cache;
    void               *streams;
};

static void http_kick(struct api_server *s);

/* ---- small accessors ---- */

struct pg_pool *
api_pool(struct api_server *s)
{
    return s->deps.pool;
}

struct job_runner *
api_runner(struct api_server *s)
{
    return s->deps.runner;
}

const struct api_deps *
api_deps(struct api_server *s)
{
    return &s->deps;
}

void *
api_bars_cache(struct api_server *s)
{
    return s->bars_cache;
}

void
api_set_bars_cache(struct api_server *s, void *cache)
{
    s->bars_cache = cache;
}

void *
api_streams(struct api_server *s)
{
    return s->streams;
}

void
api_set_streams(struct api_server *s, void *st)
{
    s->streams = st;
}

const char *
api_query(struct api_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *
api_header(struct api_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---- responses ---- */

void
api_reply(struct api_req *r, int status, const char *content_type, char *body, size_t len)
{
    free(r->resp);
    r->status = status;
    r->content_type = content_type;
    r->resp = body;
    r->resp_len = len;
}

void
api_reply_text_json(struct api_req *r, int status, char *json_text)
{
    api_reply(r, status, "application/json", json_text, json_text ? strlen(json_text) : 0);
}

void
api_reply_json(struct api_req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(body);
    if (text == NULL) {
        api_error(r, 500, "internal", NULL, "could not encode the response");
        return;
    }
    api_reply_text_json(r, status, text);
}

/* Replaces each byte that does not belong to valid UTF-8 with '?': a message may quote user
 * text cut mid-character (%.64s) or raw bytes from a query string, and JSON needs UTF-8. */
static void
utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;

    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p >> 5) == 0x6 ? 2 : (*p >> 4) == 0xe ? 3
                 : (*p >> 3) == 0x1e ? 4 : 0;
        bool ok = n > 0;
        for (size_t k = 1; ok && k < n; k++)
            ok = (p[k] & 0xc0) == 0x80;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

bool
api_is_mlflow(const struct api_req *r)
{
    return strncmp(r->path, "/api/2.0/mlflow/", 16) == 0;
}

/* Python's json writes NaN, Infinity and -Infinity as bare tokens (MLflow metric values), which
 * JSON and jansson refuse: outside strings they become the strings "NaN", "Infinity" and
 * "-Infinity", which the MLflow handlers read as those numbers. Returns a new buffer or NULL. */
static char *
nan_tokens_quoted(const char *in, size_t len, size_t *out_len)
{
    char *out = malloc(2 * len + 16), *o = out;
    bool str = false;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        const char *tok = NULL;
        if (str) {
            if (in[i] == '\\' && i + 1 < len)
                *o++ = in[i++];
            else if (in[i] == '"')
                str = false;
        } else if (in[i] == '"') {
            str = true;
        } else if (len - i >= 3 && memcmp(in + i, "NaN", 3) == 0) {
            tok = "NaN";
        } else if (len - i >= 8 && memcmp(in + i, "Infinity", 8) == 0) {
            tok = "Infinity";
        } else if (len - i >= 9 && memcmp(in + i, "-Infinity", 9) == 0) {
            tok = "-Infinity";
        }
        if (tok != NULL && (size_t)(o - out) + strlen(tok) + 2 <= 2 * len + 16) {
            size_t tl = strlen(tok);
            *o++ = '"';
            memcpy(o, tok, tl);
            o += tl;
            *o++ = '"';
            i += tl - 1;
            continue;
        }
        if ((size_t)(o - out) + 1 > 2 * len + 16) {
            free(out);
            return NULL;
        }
        *o++ = in[i];
    }
    *out_len = (size_t)(o - out);
    return out;
}

void
api_error(struct api_req *r, int status, const char *code, const char *field, const char *fmt,
          ...)
{
    char msg[512];
    json_t *e;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    utf8_clean(msg);
    if (api_is_mlflow(r)) {
        /* MLflow's error shape and codes (external-apis.md §9): the official client reads
         * error_code; an unknown endpoint is ENDPOINT_NOT_FOUND, a taken name a 400 */
        const char *ec = "INTERNAL_ERROR";
        switch (status) {
        case 400:
        case 413:
            ec = "INVALID_PARAMETER_VALUE";
            status = 400;
            break;
        case 401:
            ec = "UNAUTHENTICATED";
            break;
        case 403:
            ec = "PERMISSION_DENIED";
            break;
        case 404:
        case 405:
            ec = r->route == NULL ? "ENDPOINT_NOT_FOUND" : "RESOURCE_DOES_NOT_EXIST";
            status = 404;
            break;
        case 409:
            ec = "RESOURCE_ALREADY_EXISTS";
            status = 400;
            break;
        case 429:
            ec = "REQUEST_LIMIT_EXCEEDED";
            break;
        case 503:
            ec = "TEMPORARILY_UNAVAILABLE";
            break;
        default:
            break;
        }
        api_reply_json(r, status, json_pack("{s:s, s:s}", "error_code", ec, "message", msg));
        return;
    }
    e = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (field != NULL && field[0] != '\0')
        json_object_set_new(e, "field", json_string(field));
    api_reply_json(r, status, json_pack("{s:o}", "error", e));
}

void
api_reply_err(struct api_req *r, const struct qd_err *err)
{
    int status;

    switch (err->code) {
    case QD_EINVAL:
        status = 400;
        break;
    case QD_ENOTFOUND:
        status = 404;
        break;
    case QD_ECONFLICT:
        status = 409;
        break;
    case QD_ETOOBIG:
        status = 413;
        break;
    case QD_EAUTH:
        status = 401;
        break;
    case QD_EFORBIDDEN:
        status = 403;
        break;
    case QD_EBUSY:
    case QD_EDB_RETRY:
    case QD_ETRANSIENT:
    case QD_ETIMEOUT:
        status = 503;
        snprintf(r->retry_after, sizeof(r->retry_after), "1");
        break;
    default:
        status = 500;
        break;
    }
    if (status == 500) {
        QD_LOG(QD_LOG_ERR, "request failed: %s\trequest_id=%s", err->msg, r->request_id);
        api_error(r, 500, "internal", NULL, "internal error (request %s)", r->request_id);
        return;
    }
    if (status == 503 && err->code != QD_EBUSY)
        api_error(r, 503, "unavailable", NULL, "%s", "the database is unavailable, retry later");
    else
        api_error(r, status, status == 503 ? "unavailable" : qd_code_name(err->code), err->field,
                  "%s", err->msg);
}

void
api_reply_db(struct api_req *r, enum qd_code rc, int status, char *json, const struct qd_err *err)
{
    if (rc == QD_OK)
        api_reply_text_json(r, status, json);
    else
        api_reply_err(r, err);
}

static void
add_cors(struct api_req *r, struct MHD_Response *resp)
{
    const char *origin = api_header(r, "Origin");
    char **allowed = r->srv->deps.cfg->cors_origins;

    if (origin == NULL || allowed == NULL)
        return;
    for (char **a = allowed; *a; a++) {
        if (strcmp(*a, origin) == 0 || strcmp(*a, "*") == 0) {
            MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
            MHD_add_response_header(resp, "Vary", "Origin");
            MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                    "X-Request-Id, Retry-After");
            return;
        }
    }
}

static enum MHD_Result
send_response(struct api_req *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (r->resp == NULL && r->status == 0)
        api_error(r, 500, "internal", NULL, "no response");
    resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        return MHD_NO;
    r->resp = NULL;
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    if (r->retry_after[0])
        MHD_add_response_header(resp, "Retry-After", r->retry_after);
    if (r->allow[0])
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->location)
        MHD_add_response_header(resp, "Location", r->location);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->csp)
        MHD_add_response_header(resp, "Content-Security-Policy", r->csp);
    add_cors(r, resp);
    ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->state = REQ_SENT;
    return ret;
}

/* ---- database hand-off ---- */

void
api_resume(struct api_req *r)
{
    if (r->suspended) {
        r->suspended = false;
        r->srv->suspended--;
        MHD_resume_connection(r->conn);
        http_kick(r->srv);
    }
}

static void
db_run(struct pg_task *t, PGconn *conn)
{
    struct api_req *r = t->data;

    if (conn == NULL) {
        struct qd_err e;
        qd_err_set(&e, QD_EDB_RETRY, "the database is unavailable");
        api_reply_err(r, &e);
        return;
    }
    r->db_fn(r, conn);
    if (pg_lost(conn) && (r->status == 503 || r->status == 500))
        t->retry = true;            /* lost mid-request: run once more on a fresh connection */
}

static void
db_done(struct pg_task *t)
{
    struct api_req *r = t->data;

    r->db_fn = NULL;
    r->state = REQ_READY;
    if (r->after_db != NULL) {
        api_handler_fn *fn = r->after_db;
        r->after_db = NULL;
        fn(r);
    }
    if (r->state == REQ_WAIT)
        return;                     /* the after step queued another database task */
    api_resume(r);
}

void
api_db(struct api_req *r, api_db_fn *fn)
{
    r->db_fn = fn;
    r->task.run = db_run;
    r->task.done = db_done;
    r->task.data = r;
    r->state = REQ_WAIT;
    if (pg_pool_submit(r->srv->deps.pool, &r->task) != QD_OK) {
        api_error(r, 503, "unavailable", NULL, "server busy, retry later");
        snprintf(r->retry_after, sizeof(r->retry_after), "1");
        r->db_fn = NULL;
        r->state = REQ_READY;
        return;
    }
    if (!r->suspended) {
        r->suspended = true;
        r->srv->suspended++;
        MHD_suspend_connection(r->conn);
    }
}

/* ---- request ids, routes ---- */

static bool
valid_request_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
            return false;
    return true;
}

/* Matches a path against a template, capturing {params}. */
static bool
path_match(const char *tmpl, const char *path, char params[][256], unsigned *nparams)
{
    unsigned np = 0;

    while (*tmpl && *path) {
        if (*tmpl == '{') {
            const char *end = strchr(path, '/');
            size_t n = end ? (size_t)(end - path) : strlen(path);
            if (n == 0 || n >= 256 || np >= API_MAX_PARAMS)
                return false;
            memcpy(params[np], path, n);
            params[np][n] = '\0';
            np++;
            path += n;
            tmpl = strchr(tmpl, '}') + 1;
            continue;
        }
        if (*tmpl++ != *path++)
            return false;
    }
    if (*tmpl != '\0' || *path != '\0')
        return false;
    *nparams = np;
    return true;
}

int
api_route_lookup(const char *method, const char *path, char params[][256], unsigned *nparams,
                 char *allow, size_t allowlen)
{
    size_t at = 0;

    allow[0] = '\0';
    for (unsigned i = 0; i < api_routes_count; i++) {
        if (!path_match(api_routes[i].path, path, params, nparams))
            continue;
        if (strcmp(api_routes[i].method, method) == 0)
            return (int)i;
        if (at < allowlen)
            at += (size_t)snprintf(allow + at, allowlen - at, "%s%s", at ? ", " : "",
                                   api_routes[i].method);
    }
    return -1;
}

/* Finds the route; on a path match with the wrong method fills r->allow and returns -1. */
static int
route_find(struct api_req *r)
{
    return api_route_lookup(r->method, r->path, r->params, &r->nparams, r->allow,
                            sizeof(r->allow));
}

bool
api_param_id(struct api_req *r, unsigned i, const char *what)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(r->params[i], &end, 10);
    if (errno || *end != '\0' || v <= 0 || end == r->params[i]) {
        api_error(r, 404, "not_found", NULL, "%s \"%s\" not found", what, r->params[i]);
        return false;
    }
    r->id = v;
    return true;
}

void
api_routes_print(FILE *out)
{
    for (unsigned i = 0; i < api_routes_count; i++)
        fprintf(out, "%s %s\n", api_routes[i].method, api_routes[i].path);
}

/* ---- auth and rate limit ---- */

void
api_auth_forget(struct api_server *s)
{
    memset(s->auth, 0, sizeof(s->auth));
}

void
api_server_flush_auth(struct api_server *s)
{
    if (s)
        api_auth_forget(s);
}

static struct auth_entry *
auth_cached(struct api_server *s, const unsigned char h[32])
{
    uint64_t now = qd_mono_ms();

    for (unsigned i = 0; i < AUTH_CACHE_SIZE; i++)
        if (s->auth[i].expires_ms > now && memcmp(s->auth[i].hash, h, 32) == 0)
            return &s->auth[i];
    return NULL;
}

static void
auth_remember(struct api_server *s, const unsigned char h[32], const char *name, unsigned scopes)
{
    struct auth_entry *e = &s->auth[s->auth_next++ % AUTH_CACHE_SIZE];

    memcpy(e->hash, h, 32);
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->scopes = scopes;
    e->expires_ms = qd_mono_ms() + AUTH_CACHE_TTL_MS;
}

/* true when the request may go on; otherwise a 429 is prepared. */
static bool
rate_allow(struct api_req *r)
{
    struct api_server *s = r->srv;
    double rate = s->deps.cfg->rate_limit_per_second, burst = s->deps.cfg->rate_limit_burst;
    uint64_t now = qd_mono_ms();
    struct rate_bucket *b = NULL;

    if (rate <= 0)
        return true;
    for (unsigned i = 0; i < s->nbuckets; i++)
        if (strcmp(s->buckets[i].name, r->token_name) == 0)
            b = &s->buckets[i];
    if (b == NULL) {
        struct rate_bucket *nb = realloc(s->buckets, (s->nbuckets + 1) * sizeof(*nb));
        if (nb == NULL)
            return true;
        s->buckets = nb;
        b = &s->buckets[s->nbuckets++];
        snprintf(b->name, sizeof(b->name), "%s", r->token_name);
        b->tokens = burst;
        b->last_ms = now;
    }
    b->tokens += (double)(now - b->last_ms) * rate / 1000.0;
    if (b->tokens > burst)
        b->tokens = burst;
    b->last_ms = now;
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return true;
    }
    snprintf(r->retry_after, sizeof(r->retry_after), "%.0f", ceil((1 - b->tokens) / rate));
    api_error(r, 429, "rate_limited", NULL, "too many requests for token \"%s\": limit %g/s",
              r->token_name, rate);
    return false;
}

static void run_handler(struct api_req *r);

static void
auth_db(struct api_req *r, PGconn *conn)
{
    struct qd_err err;
    enum qd_code rc = tokens_db_lookup(conn, r->token_hash, r->token_name, &r->scopes, &err);

    if (rc == QD_ENOTFOUND)
        api_error(r, 401, "unauthenticated", NULL, "unknown or revoked token");
    else if (rc != QD_OK)
        api_reply_err(r, &err);
}

static void
auth_done(struct api_req *r)
{
    if (r->status != 0)
        return;                     /* 401 or 503 already prepared */
    auth_remember(r->srv, r->token_hash, r->token_name, r->scopes);
    run_handler(r);
}

/* Checks scope, rate, deferred body errors, then calls the route's handler. */
static void
run_handler(struct api_req *r)
{
    const struct api_route *rt = r->route;

    if (!(rt->flags & API_NOAUTH)) {
        if (!token_scope_allows(r->scopes, rt->scope)) {
            api_error(r, 403, "permission_denied", NULL, "token \"%s\" lacks the \"%s\" scope",
                      r->token_name,
                      rt->scope == SCOPE_ADMIN      ? "admin"
                      : rt->scope == SCOPE_RESEARCH ? "research"
                      : rt->scope == SCOPE_TRADE    ? "trade"
                                                    : "read");
            return;
        }
        if (!rate_allow(r))
            return;
    }
    if (r->defer_status) {
        api_error(r, r->defer_status,
                  r->defer_status == 415   ? "unsupported_media_type"
                  : r->defer_status == 413 ? "too_large"
                                           : qd_code_name(r->defer_err.code),
                  r->defer_err.field, "%s", r->defer_err.msg);
        return;
    }
    rt->fn(r);
}

static void
start_request(struct api_req *r)
{
    const char *auth;

    if (r->route->flags & API_NOAUTH) {
        run_handler(r);
        return;
    }
    auth = api_header(r, "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0') {
        api_error(r, 401, "unauthenticated", NULL,
                  "missing bearer token: send \"Authorization: Bearer <token>\"");
        return;
    }
    token_hash(auth + 7, strlen(auth + 7), r->token_hash);
    r->have_token = true;
    struct auth_entry *e = auth_cached(r->srv, r->token_hash);
    if (e != NULL) {
        snprintf(r->token_name, sizeof(r->token_name), "%s", e->name);
        r->scopes = e->scopes;
        run_handler(r);
        return;
    }
    r->after_db = auth_done;
    api_db(r, auth_db);
}

/* ---- body handling ---- */

static bool
content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* route_bars.c streams CSV uploads */
enum qd_code api_bars_upload_chunk(struct api_req *r, const char *data, size_t len);
enum qd_code api_bars_upload_begin(struct api_req *r);
enum qd_code api_artifact_upload_begin(struct api_req *r);
enum qd_code api_artifact_upload_chunk(struct api_req *r, const char *data, size_t len);

static void
defer(struct api_req *r, int status, const struct qd_err *e)
{
    if (r->defer_status == 0) {
        r->defer_status = status;
        r->defer_err = *e;
    }
}

static void
body_chunk(struct api_req *r, const char *data, size_t len)
{
    struct qd_err e;

    if (r->defer_status)
        return;                     /* already failed: discard the rest */
    if (r->route->flags & API_BODY_CSV) {
        if (api_bars_upload_chunk(r, data, len) != QD_OK && r->defer_status == 0)
            defer(r, 400, &r->err);
        return;
    }
    if (r->route->flags & API_BODY_RAW) {
        if (api_artifact_upload_chunk(r, data, len) != QD_OK)
            defer(r, r->err.code == QD_ETOOBIG ? 413 : 503, &r->err);
        return;
    }
    if (qd_buf_append(&r->body, data, len) != QD_OK) {
        qd_err_set(&e, QD_ETOOBIG, "request body exceeds %zu bytes", r->body.max);
        defer(r, 413, &e);
    }
}

static void
body_finish(struct api_req *r)
{
    json_error_t je = {0};
    struct qd_err e;

    if (r->defer_status || !(r->route->flags & API_BODY_JSON))
        return;
    if (r->body.len == 0) {
        if (r->route->flags & API_BODY_OPTIONAL)
            return;
        qd_err_set(&e, QD_EINVAL, "a JSON object body is required");
        defer(r, 400, &e);
        return;
    }
    if (api_is_mlflow(r)) {
        size_t n = 0;
        char *q = nan_tokens_quoted(r->body.data, r->body.len, &n);
        r->json = q ? json_loadb(q, n, JSON_REJECT_DUPLICATES, &je) : NULL;
        if (q == NULL)
            snprintf(je.text, sizeof(je.text), "out of memory");
        free(q);
    } else {
        r->json = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
    }
    if (r->json == NULL) {
        qd_err_set(&e, QD_EINVAL, "malformed JSON at line %d column %d: %s", je.line, je.column,
                   je.text);
        defer(r, 400, &e);
    } else if (!json_is_object(r->json)) {
        qd_err_set(&e, QD_EINVAL, "the body must be a JSON object");
        defer(r, 400, &e);
    }
}

/* ---- MHD callbacks ---- */

static struct api_req *
req_create(struct api_server *s, struct MHD_Connection *conn, const char *url, const char *method)
{
    struct api_req *r = calloc(1, sizeof(*r));
    const char *rid;
    const union MHD_ConnectionInfo *ci;

    if (r == NULL)
        return NULL;
    r->srv = s;
    r->conn = conn;
    r->start_ms = qd_mono_ms();
    r->route_index = -1;
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->path, sizeof(r->path), "%s", url);
    rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid != NULL && valid_request_id(rid))
        snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
    else
        snprintf(r->request_id, sizeof(r->request_id), "%016" PRIx64,
                 (uint64_t)((s->next_id++ * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)qd_now_usec()));
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL) {
        char host[INET6_ADDRSTRLEN] = "";
        getnameinfo(ci->client_addr,
                    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in),
                    host, sizeof(host), NULL, 0, NI_NUMERICHOST);
        snprintf(r->remote, sizeof(r->remote), "%s", host);
    }
    return r;
}

static void
preflight(struct api_req *r)
{
    const char *origin = api_header(r, "Origin");
    char **allowed = r->srv->deps.cfg->cors_origins;
    bool ok = false;

    for (char **a = allowed; origin && a && *a && !ok; a++)
        ok = strcmp(*a, origin) == 0 || strcmp(*a, "*") == 0;
    if (!ok) {
        api_error(r, 403, "permission_denied", NULL, "origin not allowed");
        return;
    }
    api_reply(r, 204, NULL, NULL, 0);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct api_server *s = cls;
    struct api_req *r = *con_cls;

    (void)version;
    if (r == NULL) {
        const char *cl;
        r = req_create(s, conn, url, method);
        if (r == NULL)
            return MHD_NO;
        *con_cls = r;
        r->route_index = route_find(r);
        r->route = r->route_index >= 0 ? &api_routes[r->route_index] : NULL;
        r->state = REQ_HEADERS;
        if (r->route != NULL) {
            size_t max = (r->route->flags & API_BODY_CSV) ? s->deps.cfg->bars_upload_max
                         : (r->route->flags & API_BODY_RAW)
                             ? (size_t)s->deps.cfg->artifact_max_mb << 20
                             : s->deps.cfg->body_max;
            const char *ct = api_header(r, "Content-Type");
            struct qd_err e;
            char *end;
            r->body.max = max;
            cl = api_header(r, "Content-Length");
            if (cl != NULL && strtoull(cl, &end, 10) > max) {
                /* refuse before reading: MHD closes the connection after this answer */
                api_error(r, 413, "too_large", NULL, "request body exceeds %zu bytes", max);
                return send_response(r);
            }
            if ((r->route->flags & API_BODY_JSON) && cl != NULL && strcmp(cl, "0") != 0 &&
                !content_type_is(ct, "application/json")) {
                qd_err_set(&e, QD_EINVAL, "Content-Type must be application/json");
                defer(r, 415, &e);
            } else if ((r->route->flags & API_BODY_RAW) &&
                       api_header(r, "Authorization") == NULL) {
                /* nothing is written to disk for a request that cannot be authenticated */
                qd_err_set(&e, QD_EAUTH, "a bearer token is required");
                defer(r, 401, &e);
            } else if ((r->route->flags & API_BODY_RAW) &&
                       api_artifact_upload_begin(r) != QD_OK) {
                defer(r, 503, &r->err);
            } else if (r->route->flags & API_BODY_CSV) {
                if (!content_type_is(ct, "text/csv")) {
                    qd_err_set(&e, QD_EINVAL, "Content-Type must be text/csv");
                    defer(r, 415, &e);
                } else if (api_bars_upload_begin(r) != QD_OK) {
                    defer(r, r->err.code == QD_EINVAL ? 400 : 500, &r->err);
                }
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (r->route != NULL && r->state == REQ_HEADERS)
            body_chunk(r, upload_data, *upload_data_size);
        else if (r->route == NULL && r->body.len + *upload_data_size > s->deps.cfg->body_max) {
            api_error(r, 413, "too_large", NULL, "request body too large");
            *upload_data_size = 0;
            return send_response(r);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    switch (r->state) {
    case REQ_HEADERS:
        if (r->route == NULL) {
            if (strcmp(r->method, "OPTIONS") == 0 && r->allow[0])
                preflight(r);
            else if (r->allow[0])
                api_error(r, 405, "method_not_allowed", NULL, "%s is not allowed on %s (allowed: %s)",
                          r->method, r->path, r->allow);
            else
                api_error(r, 404, "not_found", NULL, "no route for %s %s", r->method, r->path);
            r->no_audit = true;
            return send_response(r);
        }
        body_finish(r);
        r->state = REQ_READY;
        start_request(r);
        if (r->state == REQ_WAIT)
            return MHD_YES;
        return r->stream ? api_stream_send(r) : send_response(r);
    case REQ_READY:
        return r->stream ? api_stream_send(r) : send_response(r);
    case REQ_WAIT:
        return MHD_YES;             /* resumed early (should not happen): keep waiting */
    case REQ_STREAM:
        return MHD_YES;
    case REQ_SENT:
        return MHD_YES;
    default:
        return MHD_NO;
    }
}

static void
audit_run(struct pg_task *t, PGconn *conn)
{
    char **a = t->data;
    struct qd_err err;

    if (conn == NULL) {
        QD_LOG(QD_LOG_ERR, "could not write audit row: database unavailable\trequest_id=%s", a[4]);
        return;
    }
    if (audit_db_insert(conn, a[0], a[1], a[2], (int)strtol(a[3], NULL, 10), a[4], a[5], NULL, &err) != QD_OK) {
        if (pg_lost(conn)) {
            t->retry = true;
            return;
        }
        QD_LOG(QD_LOG_ERR, "could not write audit row: %s\trequest_id=%s", err.msg, a[4]);
    }
}

static void
audit_done(struct pg_task *t)
{
    char **a = t->data;

    for (int i = 0; i < 6; i++)
        free(a[i]);
    free(a);
    free(t);
}

/* Every mutating call leaves an audit row, whatever its outcome (after the response: the
 * caller does not wait for it). */
static void
audit(struct api_req *r)
{
    struct pg_task *t;
    char **a, st[16];

    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0 ||
        strcmp(r->method, "OPTIONS") == 0 || r->no_audit)
        return;
    t = calloc(1, sizeof(*t));
    a = calloc(6, sizeof(*a));
    if (t == NULL || a == NULL) {
        free(t);
        free(a);
        return;
    }
    snprintf(st, sizeof(st), "%d", r->status);
    a[0] = r->token_name[0] ? strdup(r->token_name) : NULL;
    a[1] = strdup(r->method);
    a[2] = strdup(r->path);
    a[3] = strdup(st);
    a[4] = strdup(r->request_id);
    a[5] = r->remote[0] ? strdup(r->remote) : NULL;
    t->run = audit_run;
    t->done = audit_done;
    t->data = a;
    if (pg_pool_submit(r->srv->deps.pool, t) != QD_OK) {
        QD_LOG(QD_LOG_ERR, "could not queue audit row: pool full\trequest_id=%s", r->request_id);
        audit_done(t);
    }
}

static void
record_metrics(struct api_req *r)
{
    struct api_server *s = r->srv;
    struct route_stats *st = &s->stats[r->route_index >= 0 ? (unsigned)r->route_index
                                                           : api_routes_count];
    double secs = (double)(qd_mono_ms() - r->start_ms) / 1000.0;
    unsigned i;

    for (i = 0; i < MAX_STATUS_SLOTS; i++) {
        if (st->status[i] == r->status || st->status[i] == 0) {
            st->status[i] = r->status;
            st->count[i]++;
            break;
        }
    }
    for (i = 0; i < NBUCKETS && secs > latency_buckets[i]; i++)
        ;
    s->hist[i]++;
    s->hist_sum += secs;
    s->hist_count++;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct api_req *r = *con_cls;

    (void)cls;
    (void)conn;
    if (r == NULL)
        return;
    if (r->stream != NULL)
        api_stream_closed(r);
    if (r->status == 0)
        r->status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 200 : 499;
    record_metrics(r);
    audit(r);
    if (r->status >= 500 || qd_log_threshold >= QD_LOG_DEBUG)
        QD_LOG(r->status >= 500 ? QD_LOG_WARNING : QD_LOG_DEBUG,
               "request\tmethod=%s path=%s status=%d ms=%llu request_id=%s", r->method, r->path,
               r->status, (unsigned long long)(qd_mono_ms() - r->start_ms), r->request_id);
    if (r->ctx_free)
        r->ctx_free(r->ctx);
    json_decref(r->json);
    qd_buf_release(&r->body);
    free(r->resp);
    free(r->location);
    free(r);
    *con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
              enum MHD_ConnectionNotificationCode toe)
{
    struct api_server *s = cls;

    (void)conn;
    (void)socket_ctx;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        s->connections++;
    else if (s->connections > 0)
        s->connections--;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    QD_LOG(QD_LOG_NOTICE, "%s", msg);
}

/* ---- loop integration ---- */

static void on_timer(uv_timer_t *t);

static void
http_kick(struct api_server *s)
{
    MHD_UNSIGNED_LONG_LONG ms;

    if (s->mhd == NULL)
        return;
    MHD_run(s->mhd);
    if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
        uv_timer_start(&s->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&s->timer);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    http_kick(p->data);
}

static void
on_timer(uv_timer_t *t)
{
    http_kick(t->data);
}

static void
on_stream_timer(uv_timer_t *t)
{
    api_streams_poll(t->data);
}

struct api_server *
api_server_start(const struct api_deps *deps, struct qd_err *err)
{
    struct api_server *s = calloc(1, sizeof(*s));
    char host[256], portstr[8];
    unsigned port;
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM}, *ai = NULL;
    const union MHD_DaemonInfo *info;

    if (s == NULL) {
        qd_err_set(err, QD_ENOMEM, "out of memory");
        return NULL;
    }
    s->deps = *deps;
    s->stats = calloc(api_routes_count + 1, sizeof(*s->stats));
    if (s->stats == NULL) {
        free(s);
        qd_err_set(err, QD_ENOMEM, "out of memory");
        return NULL;
    }
    if (!config_split_listen(deps->cfg->listen, host, sizeof(host), &port) ||
        getaddrinfo(host, (snprintf(portstr, sizeof(portstr), "%u", port), portstr), &hints,
                    &ai) != 0) {
        free(s->stats);
        free(s);
        qd_err_field(err, QD_EINVAL, "server.listen",
                     "server.listen must be a numeric address:port, got \"%s\"",
                     deps->cfg->listen);
        return NULL;
    }
    s->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
            (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
        (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_END);
    freeaddrinfo(ai);
    if (s->mhd == NULL) {
        free(s->stats);
        free(s);
        qd_err_set(err, QD_EIO, "could not listen on %s", deps->cfg->listen);
        return NULL;
    }
    info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    uv_poll_init(deps->loop, &s->poll, info->epoll_fd);
    uv_timer_init(deps->loop, &s->timer);
    uv_timer_init(deps->loop, &s->stream_timer);
    s->poll.data = s->timer.data = s->stream_timer.data = s;
    uv_poll_start(&s->poll, UV_READABLE, on_poll);
    uv_timer_start(&s->stream_timer, on_stream_timer, 200, 200);
    http_kick(s);
    return s;
}

void
api_server_quiesce(struct api_server *s)
{
    MHD_socket fd;

    if (s == NULL || s->quiesced)
        return;
    s->quiesced = true;
    fd = MHD_quiesce_daemon(s->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    http_kick(s);
}

unsigned
api_server_connections(struct api_server *s)
{
    return s ? s->connections : 0;
}

void
api_server_suspend_count(struct api_server *s, int delta)
{
    s->suspended = (unsigned)((int)s->suspended + delta);
}

unsigned
api_server_suspended(struct api_server *s)
{
    return s ? s->suspended : 0;
}

void
api_server_end_streams(struct api_server *s)
{
    if (s != NULL)
        api_streams_end_all(s);
}

static void
on_handle_closed(uv_handle_t *h)
{
    struct api_server *s = h->data;

    if (--s->closing > 0)
        return;
    free(s->buckets);
    free(s->stats);
    free(s);
}

void
api_server_stop(struct api_server *s)
{
    if (s == NULL)
        return;
    api_streams_end_all(s);
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
    api_bars_cache_free(s);
    api_streams_free(s);
    s->closing = 3;
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->stream_timer, on_handle_closed);
}

/* ---- metrics ---- */

void
api_metrics_render(struct api_server *s, struct qd_buf *out)
{
    unsigned long long cum = 0;

    qd_buf_puts(out, "# HELP quantd_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE quantd_http_requests_total counter\n");
    for (unsigned i = 0; i <= api_routes_count; i++) {
        const char *m = i < api_routes_count ? api_routes[i].method : "";
        const char *p = i < api_routes_count ? api_routes[i].path : "unmatched";
        for (unsigned k = 0; k < MAX_STATUS_SLOTS && s->stats[i].status[k]; k++)
            qd_buf_printf(out,
                          "quantd_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} "
                          "%llu\n",
                          m, p, s->stats[i].status[k], s->stats[i].count[k]);
    }
    qd_buf_puts(out, "# HELP quantd_http_request_duration_seconds Time from request to response.\n"
                     "# TYPE quantd_http_request_duration_seconds histogram\n");
    for (unsigned i = 0; i < NBUCKETS; i++) {
        cum += s->hist[i];
        qd_buf_printf(out, "quantd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      latency_buckets[i], cum);
    }
    qd_buf_printf(out,
                  "quantd_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "quantd_http_request_duration_seconds_sum %.6f\n"
                  "quantd_http_request_duration_seconds_count %llu\n",
                  s->hist_count, s->hist_sum, s->hist_count);
    qd_buf_printf(out,
                  "# HELP quantd_http_connections Open HTTP connections.\n"
                  "# TYPE quantd_http_connections gauge\nquantd_http_connections %u\n",
                  s->connections);
}
