/*
 * /v1/jobs and /v1/schedules, and the Server-Sent Events stream of a job's progress.
 * Loop thread; *_db functions on a DB worker.
 *
 * DESIGN (event streams): every open stream is in one list. A 200 ms loop timer fetches all
 * their jobs in one query (so progress made by any daemon sharing the database shows up) and
 * appends an event to a stream whose job changed. A stream with nothing to send suspends its
 * connection from MHD's content reader and is resumed when an event is appended.
 */
#include "api/api_int.h"
#include "api/handlers.h"
#include "common/cron.h"
#include "common/date.h"
#include "common/log.h"
#include "daemon/config.h"
#include "jobs/job.h"
#include "storage/pg.h"
#include "jobs/runner.h"
#include "storage/jobs_db.h"
#include "storage/schedules_db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define QD_LOG_MODULE "api"
#define KEEPALIVE_MS 15000
#define MAX_STREAMS 256

bool api_name_ok(const char *s);

static bool
only_known(struct api_req *r, json_t *obj, const char *const *known)
{
    const char *k;
    json_t *v;

    json_object_foreach(obj, k, v)
    {
        bool ok = false;
        for (const char *const *p = known; *p; p++)
            ok |= strcmp(*p, k) == 0;
        if (!ok) {
            api_error(r, 400, "invalid_argument", k, "unknown field \"%s\"", k);
            return false;
        }
    }
    return true;
}

/* ---- POST /v1/jobs ---- */

struct job_post {
    char     type[64];
    char    *params;
    unsigned max_attempts;
    char     created_by[72];
};

static void
job_post_free(void *p)
{
    struct job_post *j = p;

    if (j != NULL)
        free(j->params);
    free(j);
}

static void
jobs_post_db(struct api_req *r, PGconn *conn)
{
    struct job_post *j = r->ctx;
    char *json;
    struct qd_err err;

    if (jobs_db_insert(conn, j->type, j->params, j->max_attempts, j->created_by, NULL, &json,
                       &err) != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    api_reply_text_json(r, 202, json);
}

static void
jobs_post_after(struct api_req *r)
{
    if (r->status == 202) {
        json_t *job = json_loads(r->resp, 0, NULL);
        json_int_t id = json_integer_value(json_object_get(job, "id"));
        char loc[48];
        snprintf(loc, sizeof(loc), "/v1/jobs/%" JSON_INTEGER_FORMAT, id);
        r->location = strdup(loc);
        json_decref(job);
        job_runner_wake(api_runner(r->srv));
    }
}

void
api_jobs_post(struct api_req *r)
{
    static const char *const known[] = {"type", "params", "max_attempts", NULL};
    json_t *type = json_object_get(r->json, "type"), *params = json_object_get(r->json, "params");
    json_t *ma = json_object_get(r->json, "max_attempts");
    struct job_post *j;
    struct qd_err err;

    if (!only_known(r, r->json, known))
        return;
    if (!json_is_string(type)) {
        api_error(r, 400, "invalid_argument", "type", "type must be a string naming a job type");
        return;
    }
    if (params == NULL) {
        api_error(r, 400, "invalid_argument", "params", "params is required (an object)");
        return;
    }
    if (ma != NULL && (!json_is_integer(ma) || json_integer_value(ma) < 1 ||
                       json_integer_value(ma) > 100)) {
        api_error(r, 400, "invalid_argument", "max_attempts",
                  "max_attempts must be an integer from 1 to 100");
        return;
    }
    if (job_validate(json_string_value(type), params, &err) != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = j;
    r->ctx_free = job_post_free;
    snprintf(j->type, sizeof(j->type), "%s", json_string_value(type));
    j->params = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
    j->max_attempts = ma ? (unsigned)json_integer_value(ma) : api_deps(r->srv)->cfg->max_attempts;
    snprintf(j->created_by, sizeof(j->created_by), "token:%s", r->token_name);
    r->after_db = jobs_post_after;
    api_db(r, jobs_post_db);
}

/* ---- POST /v1/runs/{id}/rerun: a rerun job (jobs/rerun.c) ---- */

void
api_runs_rerun(struct api_req *r)
{
    struct job_post *j;
    char params[64];

    if (!api_param_id(r, 0, "run"))
        return;
    if ((j = calloc(1, sizeof(*j))) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = j;
    r->ctx_free = job_post_free;
    snprintf(j->type, sizeof(j->type), "rerun");
    snprintf(params, sizeof(params), "{\"run_id\": %" PRId64 "}", r->id);
    if ((j->params = strdup(params)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    j->max_attempts = 1;
    snprintf(j->created_by, sizeof(j->created_by), "token:%s", r->token_name);
    r->after_db = jobs_post_after;
    api_db(r, jobs_post_db);
}

/* ---- GET /v1/jobs ---- */

struct job_list {
    const char *status, *type;
    unsigned    limit;
    int64_t     cursor;
};

static void
jobs_list_db(struct api_req *r, PGconn *conn)
{
    struct job_list *l = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = jobs_db_list(conn, l->status, l->type, l->limit, l->cursor, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static bool
parse_uint_param(struct api_req *r, const char *name, long long min, long long max,
                 long long *out)
{
    const char *v = api_query(r, name);
    char *end;
    long long n;

    if (v == NULL)
        return true;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < min || n > max) {
        api_error(r, 400, "invalid_argument", name, "%s must be an integer from %lld to %lld",
                  name, min, max);
        return false;
    }
    *out = n;
    return true;
}

void
api_jobs_list(struct api_req *r)
{
    struct job_list *l = calloc(1, sizeof(*l));
    long long limit = 50, cursor = 0;
    const char *status = api_query(r, "status"), *type = api_query(r, "type");

    if (l == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = l;
    r->ctx_free = free;
    if (status != NULL) {
        bool ok = false;
        for (int i = 0; i < 5; i++)
            ok |= strcmp(status, jobs_db_status_names[i]) == 0;
        if (!ok) {
            api_error(r, 400, "invalid_argument", "status",
                      "status must be queued, running, succeeded, failed or cancelled");
            return;
        }
    }
    if (type != NULL && strlen(type) > 64) {
        api_error(r, 400, "invalid_argument", "type", "type is too long");
        return;
    }
    if (!parse_uint_param(r, "limit", 1, 500, &limit) ||
        !parse_uint_param(r, "cursor", 1, INT64_MAX, &cursor))
        return;
    l->status = status;
    l->type = type;
    l->limit = (unsigned)limit;
    l->cursor = cursor;
    api_db(r, jobs_list_db);
}

/* ---- GET /v1/jobs/{id}, cancel ---- */

static void
jobs_get_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = jobs_db_get(conn, r->id, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_jobs_get(struct api_req *r)
{
    if (api_param_id(r, 0, "job"))
        api_db(r, jobs_get_db);
}

static void
jobs_cancel_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    bool running = false;
    struct qd_err err;
    enum qd_code rc = jobs_db_cancel(conn, r->id, &running, &json, &err);

    if (rc != QD_OK) {
        free(json);
        api_reply_err(r, &err);
        return;
    }
    r->ctx = (void *)(intptr_t)running;
    api_reply_text_json(r, 200, json);
}

static void
jobs_cancel_after(struct api_req *r)
{
    if (r->status == 200 && r->ctx != NULL)
        job_runner_cancel(api_runner(r->srv), r->id);
    r->ctx = NULL;
}

void
api_jobs_cancel(struct api_req *r)
{
    if (!api_param_id(r, 0, "job"))
        return;
    r->after_db = jobs_cancel_after;
    api_db(r, jobs_cancel_db);
}

/* ---- event streams ---- */

struct stream {
    struct api_req *r;              /* NULL once the request completed */
    int64_t         job_id;
    struct qd_buf   out;
    size_t          sent;
    char           *last;           /* last job JSON sent */
    unsigned        seq;
    bool            ended;          /* nothing more will be appended */
    bool            waiting;        /* suspended in the reader */
    uint64_t        last_write_ms;
    struct stream  *next;
};

struct streams {
    struct stream *head;
    unsigned       count;
    bool           polling;         /* a fetch is in flight */
    struct pg_task task;
    int64_t       *ids;
    unsigned       nids;
    char          *result;
    struct api_server *srv;
};

static struct streams *
streams_get(struct api_server *s)
{
    struct streams *st = api_streams(s);

    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st != NULL) {
            st->srv = s;
            api_set_streams(s, st);
        }
    }
    return st;
}

static void
stream_wake(struct stream *s)
{
    if (s->waiting && s->r != NULL) {
        s->waiting = false;
        api_resume(s->r);
    }
}

static bool
job_terminal(json_t *job)
{
    const char *st = json_string_value(json_object_get(job, "status"));

    return st && (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
                  strcmp(st, "cancelled") == 0);
}

/* Appends an event for job (JSON text) if it changed; ends the stream on a terminal state. */
static void
stream_update(struct stream *s, const char *job_text)
{
    json_t *job;
    bool done;

    if (s->ended || (s->last != NULL && strcmp(s->last, job_text) == 0))
        return;
    job = json_loads(job_text, 0, NULL);
    done = job_terminal(job);
    json_decref(job);
    free(s->last);
    s->last = strdup(job_text);
    qd_buf_printf(&s->out, "id: %u\nevent: %s\ndata: %s\n\n", ++s->seq,
                  done ? "done" : "progress", job_text);
    s->last_write_ms = qd_mono_ms();
    if (done)
        s->ended = true;
    stream_wake(s);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    size_t n;

    (void)pos;
    if (s->out.len > s->sent) {
        n = s->out.len - s->sent;
        if (n > max)
            n = max;
        memcpy(buf, s->out.data + s->sent, n);
        s->sent += n;
        if (s->sent == s->out.len) {            /* keep the buffer small */
            s->out.len = 0;
            s->sent = 0;
        }
        return (ssize_t)n;
    }
    if (s->ended || s->r == NULL)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (!s->r->suspended) {
        s->waiting = true;
        s->r->suspended = true;
        api_server_suspend_count(s->r->srv, 1);
        MHD_suspend_connection(s->r->conn);
    }
    return 0;
}

static void
stream_free(void *cls)
{
    struct stream *s = cls;

    /* unlinked in api_stream_closed; here only the memory goes */
    qd_buf_release(&s->out);
    free(s->last);
    free(s);
}

void
api_stream_closed(struct api_req *r)
{
    struct streams *st = api_streams(r->srv);
    struct stream **pp;

    for (pp = st ? &st->head : NULL; pp && *pp; pp = &(*pp)->next) {
        if ((*pp)->r == r) {
            struct stream *s = *pp;
            *pp = s->next;
            s->r = NULL;
            st->count--;
            break;
        }
    }
    MHD_destroy_response(r->stream);
    r->stream = NULL;
}

enum MHD_Result
api_stream_send(struct api_req *r)
{
    enum MHD_Result ret;

    MHD_add_response_header(r->stream, "Content-Type", "text/event-stream");
    MHD_add_response_header(r->stream, "Cache-Control", "no-cache");
    MHD_add_response_header(r->stream, "X-Accel-Buffering", "no");
    MHD_add_response_header(r->stream, "X-Request-Id", r->request_id);
    r->status = 200;
    ret = MHD_queue_response(r->conn, 200, r->stream);
    r->state = REQ_SENT;
    return ret;
}

static void
events_after(struct api_req *r)
{
    struct streams *st;
    struct stream *s;

    if (r->status != 200)
        return;                     /* 404 etc. as prepared */
    st = streams_get(r->srv);
    s = calloc(1, sizeof(*s));
    if (st == NULL || s == NULL || st->count >= MAX_STREAMS) {
        free(s);
        api_error(r, 503, "unavailable", NULL, "too many event streams open, retry later");
        snprintf(r->retry_after, sizeof(r->retry_after), "5");
        return;
    }
    s->r = r;
    s->job_id = r->id;
    s->out.max = 1 << 20;
    qd_buf_puts(&s->out, "retry: 3000\n\n");
    stream_update(s, r->resp);
    free(r->resp);
    r->resp = NULL;
    r->status = 0;
    r->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s,
                                                  stream_free);
    if (r->stream == NULL) {
        stream_free(s);
        api_error(r, 503, "unavailable", NULL, "could not open the event stream");
        return;
    }
    s->next = st->head;
    st->head = s;
    st->count++;
    r->no_audit = true;
}

void
api_jobs_events(struct api_req *r)
{
    if (!api_param_id(r, 0, "job"))
        return;
    r->after_db = events_after;
    api_db(r, jobs_get_db);
}

static void
poll_run(struct pg_task *t, PGconn *conn)
{
    struct streams *st = t->data;
    struct qd_err err;

    st->result = NULL;
    if (conn != NULL && jobs_db_get_many(conn, st->ids, st->nids, &st->result, &err) != QD_OK &&
        pg_lost(conn))
        t->retry = true;
}

static void
poll_done(struct pg_task *t)
{
    struct streams *st = t->data;
    json_t *all = st->result ? json_loads(st->result, 0, NULL) : NULL;
    uint64_t now = qd_mono_ms();

    st->polling = false;
    for (struct stream *s = st->head; s; s = s->next) {
        char key[24];
        json_t *job;
        snprintf(key, sizeof(key), "%" PRId64, s->job_id);
        job = json_object_get(all, key);
        if (job != NULL) {
            char *text = json_dumps(job, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (text) {
                stream_update(s, text);
                free(text);
            }
        } else if (all != NULL && !s->ended) {
            s->ended = true;        /* the job vanished */
            stream_wake(s);
        }
        if (!s->ended && now - s->last_write_ms >= KEEPALIVE_MS) {
            qd_buf_puts(&s->out, ": keepalive\n\n");
            s->last_write_ms = now;
            stream_wake(s);
        }
    }
    json_decref(all);
    free(st->result);
    st->result = NULL;
}

void
api_streams_poll(struct api_server *srv)
{
    struct streams *st = api_streams(srv);
    unsigned n = 0;

    if (st == NULL || st->head == NULL || st->polling)
        return;
    free(st->ids);
    st->ids = calloc(st->count, sizeof(*st->ids));
    if (st->ids == NULL)
        return;
    for (struct stream *s = st->head; s; s = s->next)
        if (!s->ended)
            st->ids[n++] = s->job_id;
    if (n == 0)
        return;
    st->nids = n;
    st->task.run = poll_run;
    st->task.done = poll_done;
    st->task.data = st;
    if (pg_pool_submit(api_pool(srv), &st->task) == QD_OK)
        st->polling = true;
}

void
api_streams_end_all(struct api_server *srv)
{
    struct streams *st = api_streams(srv);

    if (st == NULL)
        return;
    for (struct stream *s = st->head; s; s = s->next) {
        s->ended = true;
        stream_wake(s);
    }
}

void
api_streams_free(struct api_server *srv)
{
    struct streams *st = api_streams(srv);

    if (st == NULL)
        return;
    free(st->ids);
    free(st->result);
    free(st);
    api_set_streams(srv, NULL);
}

/* ---- schedules ---- */

struct sched_post {
    char     name[65];
    char     cron[128];
    char     type[64];
    char    *params;
    bool     enabled;
    int64_t  next;
};

static void
sched_post_free(void *p)
{
    struct sched_post *s = p;

    if (s)
        free(s->params);
    free(s);
}

static void
sched_post_db(struct api_req *r, PGconn *conn)
{
    struct sched_post *s = r->ctx;
    char *json;
    struct qd_err err;

    if (schedules_db_create(conn, s->name, s->cron, s->type, s->params, s->enabled, s->next,
                            &json, &err) != QD_OK)
        api_reply_err(r, &err);
    else
        api_reply_text_json(r, 201, json);
}

void
api_schedules_post(struct api_req *r)
{
    static const char *const known[] = {"name", "cron", "type", "params", "enabled", NULL};
    json_t *name = json_object_get(r->json, "name"), *cron = json_object_get(r->json, "cron");
    json_t *type = json_object_get(r->json, "type"), *params = json_object_get(r->json, "params");
    json_t *enabled = json_object_get(r->json, "enabled");
    struct sched_post *s;
    struct cron c;
    struct qd_err err;

    if (!only_known(r, r->json, known))
        return;
    if (!json_is_string(name) || !api_name_ok(json_string_value(name))) {
        api_error(r, 400, "invalid_argument", "name",
                  "name must be 1-64 letters, digits or ._- starting with a letter or digit");
        return;
    }
    if (!json_is_string(cron) || json_string_length(cron) >= 128) {
        api_error(r, 400, "invalid_argument", "cron",
                  "cron must be a 5-field cron expression (UTC), e.g. \"30 21 * * 1-5\"");
        return;
    }
    if (cron_parse(json_string_value(cron), &c, &err) != QD_OK) {
        api_error(r, 400, "invalid_argument", "cron", "%s", err.msg);
        return;
    }
    if (!json_is_string(type)) {
        api_error(r, 400, "invalid_argument", "type", "type must be a string naming a job type");
        return;
    }
    if (params == NULL) {
        api_error(r, 400, "invalid_argument", "params", "params is required (an object)");
        return;
    }
    if (job_validate(json_string_value(type), params, &err) != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    if (enabled != NULL && !json_is_boolean(enabled)) {
        api_error(r, 400, "invalid_argument", "enabled", "enabled must be true or false");
        return;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = s;
    r->ctx_free = sched_post_free;
    snprintf(s->name, sizeof(s->name), "%s", json_string_value(name));
    snprintf(s->cron, sizeof(s->cron), "%s", json_string_value(cron));
    snprintf(s->type, sizeof(s->type), "%s", json_string_value(type));
    s->params = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
    s->enabled = enabled == NULL || json_is_true(enabled);
    s->next = cron_next(&c, qd_now_usec() / 1000000);
    if (s->next < 0) {
        api_error(r, 400, "invalid_argument", "cron", "the cron expression never fires");
        return;
    }
    api_db(r, sched_post_db);
}

static void
sched_list_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = schedules_db_list(conn, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_schedules_list(struct api_req *r)
{
    api_db(r, sched_list_db);
}

static void
sched_get_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = schedules_db_get(conn, r->params[0], &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_schedules_get(struct api_req *r)
{
    api_db(r, sched_get_db);
}

static void
sched_delete_db(struct api_req *r, PGconn *conn)
{
    struct qd_err err;

    if (schedules_db_delete(conn, r->params[0], &err) != QD_OK)
        api_reply_err(r, &err);
    else
        api_reply(r, 204, NULL, NULL, 0);
}

void
api_schedules_delete(struct api_req *r)
{
    api_db(r, sched_delete_db);
}
