/*
 * Job workers and housekeeping (see runner.h).
 * DESIGN: the database is the source of truth. A worker holds a lease on the job it runs; the
 * housekeeping thread renews every lease of this daemon each heartbeat, so a long computation
 * never has to. If the daemon dies, its leases lapse and any daemon's housekeeping re-queues
 * those jobs (attempts already counted at claim). Cancel requests reach a local job at once
 * through job_runner_cancel() and a job on another daemon through the heartbeat.
 */
#define _GNU_SOURCE
#include "jobs/runner.h"
#include "common/cron.h"
#include "common/date.h"
#include "common/log.h"
#include "jobs/job.h"
#include "storage/jobs_db.h"
#include "storage/pg.h"
#include "storage/schedules_db.h"

#include <jansson.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QD_LOG_MODULE "jobs"
#define PROGRESS_MIN_MS 100

struct job_ctx {
    struct job_runner *runner;
    int64_t            id;
    int                attempt;
    PGconn            *conn;
    _Atomic bool       cancel;      /* user asked */
    _Atomic bool       shutdown;    /* daemon stopping past its drain deadline */
    uint64_t           last_progress_ms;
};

struct job_worker {
    struct job_runner *r;
    pthread_t          thread;
    unsigned           index;
    PGconn            *conn;
    struct job_ctx    *current;     /* under r->mu */
};

struct job_runner {
    struct job_runner_config cfg;
    char                    *conninfo, *owner;
    pthread_mutex_t          mu;
    pthread_cond_t           cv;        /* workers wait here for work */
    pthread_cond_t           hk_cv;     /* housekeeping waits here */
    unsigned                 wake_pending;
    bool                     stopping;
    uint64_t                 drain_deadline_ms;
    struct job_worker       *workers;
    unsigned                 nworkers;
    pthread_t                hk_thread;
    bool                     hk_started;
    _Atomic unsigned         running;
};

/* ---- context API for run functions ---- */

int64_t
job_id(const struct job_ctx *ctx)
{
    return ctx->id;
}

int
job_attempt(const struct job_ctx *ctx)
{
    return ctx->attempt;
}

struct pg_conn *
job_conn(struct job_ctx *ctx)
{
    return ctx->conn;
}

bool
job_should_stop(const struct job_ctx *ctx)
{
    return atomic_load_explicit(&ctx->cancel, memory_order_relaxed) ||
           atomic_load_explicit(&ctx->shutdown, memory_order_relaxed);
}

void
job_progress(struct job_ctx *ctx, double frac, const char *fmt, ...)
{
    uint64_t now = qd_mono_ms();
    char msg[256];
    struct qd_err err;
    va_list ap;

    if (frac < 1 && now - ctx->last_progress_ms < PROGRESS_MIN_MS)
        return;
    ctx->last_progress_ms = now;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (jobs_db_progress(ctx->conn, ctx->id, ctx->runner->owner, frac, msg, &err) != QD_OK)
        QD_LOG(QD_LOG_WARNING, "could not record progress: %s\tjob=%lld", err.msg,
               (long long)ctx->id);
}

/* ---- helpers ---- */

unsigned
job_backoff_ms(unsigned base, unsigned max, int attempts, uint64_t seed)
{
    double d = base;

    for (int i = 1; i < attempts && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    /* jitter: up to 20% less, so many failing jobs do not come back in lock step */
    seed ^= seed >> 33;
    seed *= 0xff51afd7ed558ccdULL;
    seed ^= seed >> 33;
    d -= d * 0.2 * (double)(seed % 1000) / 1000.0;
    return d < 1 ? 1 : (unsigned)d;
}

static bool
is_transient(enum qd_code c)
{
    return c == QD_ETRANSIENT || c == QD_EDB_RETRY || c == QD_ETIMEOUT || c == QD_EBUSY;
}

static char *
error_json(const struct qd_err *e)
{
    json_t *o = json_pack("{s:s, s:s}", "code", qd_code_name(e->code), "message", e->msg);
    char *s;

    if (e->field[0])
        json_object_set_new(o, "field", json_string(e->field));
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Sleeps up to ms; wakes early when the runner stops (unless it is already stopping: the
 * housekeeping thread keeps ticking through the drain) or, with consume_wake, for new work.
 * Returns false when stopping. */
static bool
runner_wait(struct job_runner *r, pthread_cond_t *cv, unsigned ms, bool consume_wake)
{
    struct timespec ts;
    bool go;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    bool was_stopping = r->stopping;
    while ((was_stopping || !r->stopping) && !(consume_wake && r->wake_pending > 0))
        if (pthread_cond_timedwait(cv, &r->mu, &ts) != 0)
            break;
    if (consume_wake && r->wake_pending > 0)
        r->wake_pending--;
    go = !r->stopping;
    pthread_mutex_unlock(&r->mu);
    return go;
}

static PGconn *
ensure_conn(struct job_runner *r, PGconn **conn, const char *app)
{
    struct qd_err err;

    if (*conn != NULL && PQstatus(*conn) == CONNECTION_BAD) {
        PQfinish(*conn);
        *conn = NULL;
    }
    if (*conn == NULL) {
        *conn = pg_connect(r->conninfo, app, r->cfg.statement_timeout_ms, &err);
        if (*conn == NULL)
            QD_LOG(QD_LOG_WARNING, "%s\tthread=%s", err.msg, app);
    }
    return *conn;
}

/* Writes the job's outcome, retrying across a reconnect: the job's work is already done. */
static void
record_outcome(struct job_worker *w, struct job_ctx *ctx, const struct job_claim *jc,
               enum qd_code rc, json_t *result, struct qd_err *err)
{
    struct job_runner *r = w->r;
    char *res = result ? json_dumps(result, JSON_COMPACT) : NULL;
    char *errj = rc != QD_OK ? error_json(err) : NULL;
    const char *outcome;

    for (int tries = 0; tries < 5; tries++) {
        struct qd_err e;
        enum qd_code wrc;
        char app[32];

        snprintf(app, sizeof(app), "quantd/job%u", w->index);
        if (ensure_conn(r, &w->conn, app) == NULL) {
            runner_wait(r, &r->hk_cv, 200, false);
            continue;
        }
        if (rc == QD_OK) {
            outcome = "succeeded";
            wrc = jobs_db_finish(w->conn, jc->id, r->owner, outcome, res, NULL, &e);
        } else if (rc == QD_ECANCELED && atomic_load(&ctx->shutdown) &&
                   !atomic_load(&ctx->cancel)) {
            outcome = "requeued (shutdown)";
            wrc = jobs_db_requeue(w->conn, jc->id, r->owner, 0, "re-queued: the daemon stopped",
                                  NULL, true, &e);
        } else if (rc == QD_ECANCELED) {
            outcome = "cancelled";
            wrc = jobs_db_finish(w->conn, jc->id, r->owner, outcome, res, NULL, &e);
        } else if (is_transient(rc) && jc->attempts < jc->max_attempts) {
            unsigned delay = job_backoff_ms(r->cfg.backoff_base_ms, r->cfg.backoff_max_ms,
                                            jc->attempts, (uint64_t)jc->id * 31 + jc->attempts);
            char msg[300];
            snprintf(msg, sizeof(msg), "retrying in %u ms after: %s", delay, err->msg);
            outcome = "retry";
            wrc = jobs_db_requeue(w->conn, jc->id, r->owner, delay, msg, errj, false, &e);
        } else {
            outcome = "failed";
            wrc = jobs_db_finish(w->conn, jc->id, r->owner, outcome, res, errj, &e);
        }
        if (wrc == QD_OK) {
            QD_LOG(QD_LOG_INFO, "job finished\tjob=%lld type=%s outcome=\"%s\" attempt=%d",
                   (long long)jc->id, jc->type, outcome, jc->attempts);
            break;
        }
        QD_LOG(QD_LOG_WARNING, "could not record job outcome: %s\tjob=%lld", e.msg,
               (long long)jc->id);
        if (!pg_lost(w->conn))
            break;
    }
    free(res);
    free(errj);
}

static void
run_claimed(struct job_worker *w, struct job_claim *jc)
{
    struct job_runner *r = w->r;
    struct job_ctx ctx = {.runner = r, .id = jc->id, .attempt = jc->attempts, .conn = w->conn};
    const struct job_type *t = job_type_find(jc->type);
    json_error_t je;
    json_t *params = json_loads(jc->params_json, 0, &je), *result = NULL;
    struct qd_err err = {0};
    enum qd_code rc;

    pthread_mutex_lock(&r->mu);
    w->current = &ctx;
    if (r->stopping && r->drain_deadline_ms && qd_mono_ms() >= r->drain_deadline_ms)
        atomic_store(&ctx.shutdown, true);
    pthread_mutex_unlock(&r->mu);
    atomic_fetch_add(&r->running, 1);
    QD_LOG(QD_LOG_INFO, "job started\tjob=%lld type=%s attempt=%d", (long long)jc->id, jc->type,
           jc->attempts);
    if (t == NULL)
        rc = qd_err_field(&err, QD_EINVAL, "type", "unknown job type \"%s\"", jc->type);
    else if (params == NULL)
        rc = qd_err_field(&err, QD_EINVAL, "params", "params are not valid JSON");
    else if ((rc = t->validate(params, &err)) == QD_OK)
        rc = t->run(&ctx, params, &result, &err);
    if (rc != QD_OK && rc != QD_ECANCELED && job_should_stop(&ctx))
        rc = qd_err_set(&err, QD_ECANCELED, "cancelled");
    pthread_mutex_lock(&r->mu);
    w->current = NULL;
    pthread_mutex_unlock(&r->mu);
    w->conn = ctx.conn;
    record_outcome(w, &ctx, jc, rc, result, &err);
    atomic_fetch_sub(&r->running, 1);
    json_decref(result);
    json_decref(params);
}

static void *
worker_main(void *arg)
{
    struct job_worker *w = arg;
    struct job_runner *r = w->r;
    char app[32];

    snprintf(app, sizeof(app), "quantd/job%u", w->index);
    for (;;) {
        struct job_claim jc = {0};
        struct qd_err err;
        enum qd_code rc;

        pthread_mutex_lock(&r->mu);
        if (r->stopping) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        pthread_mutex_unlock(&r->mu);
        if (ensure_conn(r, &w->conn, app) == NULL) {
            if (!runner_wait(r, &r->cv, r->cfg.poll_ms, true))
                break;
            continue;
        }
        rc = jobs_db_claim(w->conn, r->owner, r->cfg.lease_seconds, &jc, &err);
        if (rc == QD_ENOTFOUND) {
            if (!runner_wait(r, &r->cv, r->cfg.poll_ms, true))
                break;
            continue;
        }
        if (rc != QD_OK) {
            QD_LOG(QD_LOG_WARNING, "could not claim a job: %s\tworker=%u", err.msg, w->index);
            if (!runner_wait(r, &r->cv, r->cfg.poll_ms, true))
                break;
            continue;
        }
        run_claimed(w, &jc);
        jobs_db_claim_release(&jc);
    }
    if (w->conn)
        PQfinish(w->conn);
    w->conn = NULL;
    return NULL;
}

/* ---- housekeeping ---- */

static void
set_cancel(struct job_runner *r, int64_t id, bool shutdown)
{
    pthread_mutex_lock(&r->mu);
    for (unsigned i = 0; i < r->nworkers; i++) {
        struct job_ctx *c = r->workers[i].current;
        if (c != NULL && (shutdown || c->id == id))
            atomic_store(shutdown ? &c->shutdown : &c->cancel, true);
    }
    pthread_mutex_unlock(&r->mu);
}

static void
fire_schedules(struct job_runner *r, PGconn *c)
{
    struct qd_err err;
    unsigned fired = 0;

    if (schedules_db_fire_due(c, &fired, &err) != QD_OK)
        QD_LOG(QD_LOG_WARNING, "could not run due schedules: %s", err.msg);
    else if (fired > 0)
        job_runner_wake(r);
}

static void *
housekeeping_main(void *arg)
{
    struct job_runner *r = arg;
    PGconn *c = NULL;
    uint64_t next_hb = 0, next_sched = 0;
    unsigned tick = r->cfg.heartbeat_ms < r->cfg.scheduler_ms ? r->cfg.heartbeat_ms
                                                              : r->cfg.scheduler_ms;

    if (tick > 200)
        tick = 200;                 /* also the granularity of the drain deadline */
    for (;;) {
        uint64_t now = qd_mono_ms();
        bool stopping;

        pthread_mutex_lock(&r->mu);
        stopping = r->stopping;
        pthread_mutex_unlock(&r->mu);
        if (stopping) {
            if (atomic_load(&r->running) == 0)
                break;
            if (now >= r->drain_deadline_ms)
                set_cancel(r, 0, true);
        }
        if (now >= next_hb && ensure_conn(r, &c, "quantd/housekeeping") != NULL) {
            int64_t ids[64];
            unsigned n = 0, reaped = 0;
            struct qd_err err;
            if (jobs_db_heartbeat(c, r->owner, r->cfg.lease_seconds, ids, 64, &n, &err) != QD_OK)
                QD_LOG(QD_LOG_WARNING, "could not renew job leases: %s", err.msg);
            for (unsigned i = 0; i < n; i++)
                set_cancel(r, ids[i], false);
            if (!stopping && jobs_db_reap(c, &reaped, &err) != QD_OK)
                QD_LOG(QD_LOG_WARNING, "could not re-queue expired jobs: %s", err.msg);
            else if (reaped > 0) {
                QD_LOG(QD_LOG_NOTICE, "re-queued jobs whose lease expired\tcount=%u", reaped);
                job_runner_wake(r);
            }
            next_hb = now + r->cfg.heartbeat_ms;
        }
        if (!stopping && now >= next_sched && c != NULL && !pg_lost(c)) {
            fire_schedules(r, c);
            next_sched = now + r->cfg.scheduler_ms;
        }
        runner_wait(r, &r->hk_cv, tick, false);
    }
    if (c)
        PQfinish(c);
    return NULL;
}

/* ---- lifecycle ---- */

struct job_runner *
job_runner_start(const struct job_runner_config *cfg, struct qd_err *err)
{
    struct job_runner *r = calloc(1, sizeof(*r));
    pthread_condattr_t ca;

    if (r == NULL)
        goto oom;
    r->cfg = *cfg;
    r->conninfo = strdup(cfg->conninfo);
    r->owner = strdup(cfg->owner);
    r->workers = calloc(cfg->workers ? cfg->workers : 1, sizeof(*r->workers));
    if (r->conninfo == NULL || r->owner == NULL || r->workers == NULL)
        goto oom;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_cond_init(&r->hk_cv, &ca);
    pthread_condattr_destroy(&ca);
    for (unsigned i = 0; i < cfg->workers; i++) {
        struct job_worker *w = &r->workers[i];
        w->r = r;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            break;
        r->nworkers++;
    }
    if (cfg->housekeeping && pthread_create(&r->hk_thread, NULL, housekeeping_main, r) == 0)
        r->hk_started = true;
    return r;
oom:
    if (r) {
        free(r->conninfo);
        free(r->owner);
        free(r->workers);
        free(r);
    }
    qd_err_set(err, QD_ENOMEM, "could not start the job runner");
    return NULL;
}

void
job_runner_wake(struct job_runner *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    if (r->wake_pending < r->nworkers)
        r->wake_pending++;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void
job_runner_cancel(struct job_runner *r, int64_t id)
{
    if (r != NULL)
        set_cancel(r, id, false);
}

unsigned
job_runner_running(struct job_runner *r)
{
    return r ? atomic_load(&r->running) : 0;
}

void
job_runner_shutdown(struct job_runner *r, unsigned drain_ms)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    if (!r->stopping) {
        r->stopping = true;
        r->drain_deadline_ms = qd_mono_ms() + drain_ms;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_cond_broadcast(&r->hk_cv);
    pthread_mutex_unlock(&r->mu);
    if (drain_ms == 0)
        set_cancel(r, 0, true);
}

void
job_runner_destroy(struct job_runner *r)
{
    if (r == NULL)
        return;
    job_runner_shutdown(r, 0);
    for (unsigned i = 0; i < r->nworkers; i++)
        pthread_join(r->workers[i].thread, NULL);
    if (r->hk_started)
        pthread_join(r->hk_thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    pthread_cond_destroy(&r->hk_cv);
    free(r->conninfo);
    free(r->owner);
    free(r->workers);
    free(r);
}
