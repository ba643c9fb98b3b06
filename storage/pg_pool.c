/*
 * DB worker pool (see pg_pool.h). Threads: pg_pool_create/submit/destroy and the done
 * callbacks run on the loop thread; run() callbacks on the workers. The two queues are the
 * only shared state, each under its mutex.
 */
#define _GNU_SOURCE
#include "storage/pg_pool.h"
#include "common/date.h"
#include "common/log.h"
#include "storage/pg.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QD_LOG_MODULE "pg_pool"
#define IDLE_CHECK_MS 1000          /* ping a connection that sat idle longer than this */

struct pg_worker {
    struct pg_pool *pool;
    pthread_t       thread;
    unsigned        index;
    PGconn         *conn;
    uint64_t        last_used_ms;
};

struct pg_pool {
    uv_async_t        async;
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    struct pg_task   *head, *tail;  /* pending, under mu */
    unsigned          queued, queue_max;
    bool              stopping;
    pthread_mutex_t   done_mu;
    struct pg_task   *done_head;    /* finished, under done_mu */
    char             *conninfo;
    unsigned          statement_timeout_ms;
    unsigned          nworkers;
    struct pg_worker *workers;
    _Atomic unsigned  busy, connected;
    _Atomic unsigned long long tasks;
    uint64_t          last_fail_log_ms;
};

static void
worker_disconnect(struct pg_worker *w)
{
    if (w->conn != NULL) {
        PQfinish(w->conn);
        w->conn = NULL;
        atomic_fetch_sub(&w->pool->connected, 1);
    }
}

/* Returns a usable connection or NULL (the database is down). */
static PGconn *
worker_conn(struct pg_worker *w)
{
    uint64_t now = qd_mono_ms();

    if (w->conn != NULL && PQstatus(w->conn) != CONNECTION_BAD &&
        now - w->last_used_ms > IDLE_CHECK_MS) {
        /* a connection that sat idle may be stale (server restarted): one cheap round trip */
        PGresult *res = PQexec(w->conn, "");
        if (PQresultStatus(res) == PGRES_FATAL_ERROR || res == NULL)
            worker_disconnect(w);
        PQclear(res);
    }
    if (w->conn != NULL && PQstatus(w->conn) == CONNECTION_BAD)
        worker_disconnect(w);
    if (w->conn == NULL) {
        char app[32];
        struct qd_err err;
        snprintf(app, sizeof(app), "quantd/db%u", w->index);
        w->conn = pg_connect(w->pool->conninfo, app, w->pool->statement_timeout_ms, &err);
        if (w->conn == NULL) {
            QD_LOG(QD_LOG_WARNING, "%s\tworker=%u", err.msg, w->index);
            return NULL;
        }
        atomic_fetch_add(&w->pool->connected, 1);
    }
    w->last_used_ms = now;
    return w->conn;
}

static void *
worker_main(void *arg)
{
    struct pg_worker *w = arg;
    struct pg_pool *p = w->pool;

    for (;;) {
        struct pg_task *t;

        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        t = p->head;
        if (t == NULL) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        p->head = t->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);

        atomic_fetch_add(&p->busy, 1);
        t->retry = false;
        t->run(t, worker_conn(w));
        if (t->retry || pg_lost(w->conn)) {
            worker_disconnect(w);
            if (t->retry) {
                t->retry = false;
                t->run(t, worker_conn(w));
            }
        }
        atomic_fetch_sub(&p->busy, 1);
        atomic_fetch_add(&p->tasks, 1);

        pthread_mutex_lock(&p->done_mu);
        t->next = p->done_head;
        p->done_head = t;
        pthread_mutex_unlock(&p->done_mu);
        uv_async_send(&p->async);
    }
    worker_disconnect(w);
    return NULL;
}

static void
on_done(uv_async_t *h)
{
    struct pg_pool *p = h->data;
    struct pg_task *list, *rev = NULL;

    pthread_mutex_lock(&p->done_mu);
    list = p->done_head;
    p->done_head = NULL;
    pthread_mutex_unlock(&p->done_mu);
    while (list != NULL) {          /* restore completion order */
        struct pg_task *t = list;
        list = t->next;
        t->next = rev;
        rev = t;
    }
    while (rev != NULL) {
        struct pg_task *t = rev;
        rev = t->next;
        t->done(t);
    }
}

struct pg_pool *
pg_pool_create(uv_loop_t *loop, const struct pg_pool_config *cfg, struct qd_err *err)
{
    struct pg_pool *p = calloc(1, sizeof(*p));

    if (p == NULL || cfg->workers < 1 || cfg->workers > 64) {
        free(p);
        qd_err_set(err, p ? QD_EINVAL : QD_ENOMEM, "could not create the database pool");
        return NULL;
    }
    p->conninfo = strdup(cfg->conninfo);
    p->workers = calloc(cfg->workers, sizeof(*p->workers));
    if (p->conninfo == NULL || p->workers == NULL) {
        free(p->conninfo);
        free(p->workers);
        free(p);
        qd_err_set(err, QD_ENOMEM, "could not create the database pool");
        return NULL;
    }
    p->queue_max = cfg->queue_max ? cfg->queue_max : 1024;
    p->statement_timeout_ms = cfg->statement_timeout_ms;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    uv_async_init(loop, &p->async, on_done);
    p->async.data = p;
    for (unsigned i = 0; i < cfg->workers; i++) {
        struct pg_worker *w = &p->workers[i];
        w->pool = p;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            QD_LOG(QD_LOG_ERR, "could not start a database worker thread");
            break;
        }
        p->nworkers++;
    }
    if (p->nworkers == 0) {
        pg_pool_destroy(p);
        qd_err_set(err, QD_ENOMEM, "could not start database worker threads");
        return NULL;
    }
    return p;
}

enum qd_code
pg_pool_submit(struct pg_pool *p, struct pg_task *t)
{
    pthread_mutex_lock(&p->mu);
    if (p->queued >= p->queue_max || p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return QD_EBUSY;
    }
    t->next = NULL;
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return QD_OK;
}

void
pg_pool_stats(struct pg_pool *p, struct pg_pool_stats *out)
{
    out->workers = p->nworkers;
    out->busy = atomic_load(&p->busy);
    out->connected = atomic_load(&p->connected);
    pthread_mutex_lock(&p->mu);
    out->queued = p->queued;
    pthread_mutex_unlock(&p->mu);
    out->tasks = atomic_load(&p->tasks);
}

static void
on_async_closed(uv_handle_t *h)
{
    struct pg_pool *p = h->data;

    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->done_mu);
    free(p->conninfo);
    free(p->workers);
    free(p);
}

void
pg_pool_destroy(struct pg_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i].thread, NULL);
    on_done(&p->async);             /* deliver what finished last */
    uv_close((uv_handle_t *)&p->async, on_async_closed);
}
