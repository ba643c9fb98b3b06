#ifndef API_API_INT_H
#define API_API_INT_H

/* Internal to api/: the request object, the route table and response helpers.
 * Loop thread only, except the run() functions handed to api_db(), which run on a DB worker
 * and may touch only their request's fields (never the server). */

#include "api/api.h"
#include "common/buf.h"
#include "common/err.h"
#include "storage/pg_pool.h"

#include <jansson.h>
#include <microhttpd.h>

#include <stdint.h>

struct api_req;
typedef void api_handler_fn(struct api_req *r);
typedef void api_db_fn(struct api_req *r, PGconn *conn);

enum api_route_flags {
    API_NOAUTH = 1 << 0,
    API_BODY_JSON = 1 << 1,         /* a JSON object body is required */
    API_BODY_CSV = 1 << 2,          /* streamed text/csv body (PUT /v1/bars) */
    API_BODY_OPTIONAL = 1 << 3,     /* a JSON body may be absent */
    API_READ_POST = 1 << 4,         /* a POST that only reads (MLflow's searches): scope read */
    API_BODY_RAW = 1 << 5,          /* streamed raw body to a file (artifacts) */
};

struct api_route {
    const char     *method;
    const char     *path;           /* "/v1/jobs/{id}" */
    api_handler_fn *fn;
    unsigned        scope;          /* SCOPE_* needed; 0 with API_NOAUTH */
    unsigned        flags;
};
extern const struct api_route api_routes[];
extern const unsigned api_routes_count;

#define API_MAX_PARAMS 4

enum api_state { REQ_HEADERS, REQ_BODY, REQ_WAIT, REQ_READY, REQ_SENT, REQ_STREAM };

struct api_req {
    struct api_server      *srv;
    struct MHD_Connection  *conn;
    const struct api_route *route;
    int                     route_index;    /* -1: no route */
    enum api_state          state;
    char                    method[12];
    char                    path[512];
    char                    params[API_MAX_PARAMS][256];
    unsigned                nparams;
    char                    request_id[72];
    char                    remote[64];
    uint64_t                start_ms;
    /* auth */
    char                    token_name[65];
    unsigned                scopes;
    unsigned char           token_hash[32];
    bool                    have_token;
    /* request body */
    struct qd_buf           body;
    json_t                  *json;
    int                     defer_status;   /* an error found while reading the body */
    struct qd_err           defer_err;
    void                    *upload;        /* CSV upload state (route_bars.c) */
    /* response */
    int                     status;
    char                   *resp;           /* malloc'd */
    size_t                  resp_len;
    const char             *content_type;
    char                    retry_after[16];
    char                    allow[64];
    char                   *location;
    const char             *csp;            /* Content-Security-Policy (static text) or NULL */
    bool                    no_audit;
    /* handler scratch */
    void                   *ctx;
    void                  (*ctx_free)(void *);
    api_db_fn              *db_fn;
    api_handler_fn         *after_db;       /* runs on the loop after db_fn, instead of reply */
    struct pg_task          task;
    struct qd_err           err;
    int64_t                 id;             /* parsed {id} */
    bool                    suspended;
    struct MHD_Response    *stream;         /* event stream response */
};

/* Replies (loop thread, or a db_fn on its worker: they only fill the request). */
void api_reply(struct api_req *r, int status, const char *content_type, char *body, size_t len);
void api_reply_json(struct api_req *r, int status, json_t *body);        /* steals body */
void api_reply_text_json(struct api_req *r, int status, char *json_text); /* takes the text */
void api_error(struct api_req *r, int status, const char *code, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The usual end of a *_db function: rc == QD_OK replies status with the JSON text json (taken),
 * otherwise the error. */
void api_reply_db(struct api_req *r, enum qd_code rc, int status, char *json,
                  const struct qd_err *err);
/* Maps err->code to a status (EINVAL 400, ENOTFOUND 404, ECONFLICT 409, ETOOBIG 413,
 * EBUSY/EDB_RETRY 503 + Retry-After, ...). */
void api_reply_err(struct api_req *r, const struct qd_err *err);

/* Runs fn on a DB worker with the request suspended; afterwards r->after_db (if set) runs on
 * the loop, else the reply fn left is sent. 503 when the pool is full or the DB is down. */
void api_db(struct api_req *r, api_db_fn *fn);

/* Route table lookup: index of the route for method+path, capturing {params}; -1 when none,
 * with allow listing the methods the path has (empty: unknown path). */
int api_route_lookup(const char *method, const char *path, char params[][256], unsigned *nparams,
                     char *allow, size_t allowlen);

/* True for the MLflow-compatible routes (/api/2.0/mlflow/…): errors take MLflow's shape
 * ({"error_code", "message"}) and bodies may hold Python's bare NaN / Infinity tokens. */
bool api_is_mlflow(const struct api_req *r);

/* Query string value or NULL. */
const char *api_query(struct api_req *r, const char *key);
const char *api_header(struct api_req *r, const char *name);
/* Parses r->params[i] as a positive int64 id into r->id; replies 404 and returns false if not. */
bool api_param_id(struct api_req *r, unsigned i, const char *what);

/* Server internals used by handlers. */
struct pg_pool    *api_pool(struct api_server *s);
struct job_runner *api_runner(struct api_server *s);
const struct api_deps *api_deps(struct api_server *s);
void api_auth_forget(struct api_server *s);
void api_metrics_render(struct api_server *s, struct qd_buf *out);

/* Bars cache (route_bars.c). */
void api_bars_cache_free(struct api_server *s);
void *api_bars_cache(struct api_server *s);
void api_set_bars_cache(struct api_server *s, void *cache);

/* Event streams (route_jobs.c). */
void api_streams_end_all(struct api_server *s);
void api_streams_poll(struct api_server *s);
void api_stream_closed(struct api_req *r);
/* Queues r->stream (an event-stream response) on the connection. */
enum MHD_Result api_stream_send(struct api_req *r);
void *api_streams(struct api_server *s);
void api_set_streams(struct api_server *s, void *st);
void api_resume(struct api_req *r);
void api_streams_free(struct api_server *s);
/* Counts a connection suspended outside api_db (event streams). */
void api_server_suspend_count(struct api_server *s, int delta);

#endif
