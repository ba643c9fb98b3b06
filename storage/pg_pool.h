#ifndef STORAGE_PG_POOL_H
#define STORAGE_PG_POOL_H

/*
 * DB worker threads, one PGconn each, fed from a bounded queue; results come back on the loop
 * thread through one uv_async_t. A worker reconnects by itself after PostgreSQL restarts:
 * before a task it checks a connection that sat idle, and a task that lost its connection
 * (it sets task->retry) runs once more on a fresh one.
 */

#include "common/err.h"

#include <libpq-fe.h>
#include <uv.h>

#include <stdbool.h>

struct pg_pool;
struct pg_task;

/* Runs on a DB worker. conn is NULL when the database cannot be reached: answer "unavailable". */
typedef void pg_task_fn(struct pg_task *t, PGconn *conn);
/* Runs on the loop thread afterwards; owns the task again (frees it). */
typedef void pg_task_done_fn(struct pg_task *t);

struct pg_task {
    pg_task_fn      *run;
    pg_task_done_fn *done;
    void            *data;
    bool             retry;         /* set by run() when the connection was lost mid-task */
    struct pg_task  *next;          /* pool-private */
};

struct pg_pool_config {
    const char *conninfo;
    unsigned    workers;            /* 1..64 */
    unsigned    queue_max;          /* back-pressure: submit fails with QD_EBUSY past this */
    unsigned    statement_timeout_ms;
};

struct pg_pool_stats {
    unsigned workers, busy, connected, queued;
    unsigned long long tasks;
};

/* Starts the workers (they connect lazily). Loop thread. NULL + *err on failure. */
struct pg_pool *pg_pool_create(uv_loop_t *loop, const struct pg_pool_config *cfg,
                               struct qd_err *err);
/* Queues t; t->done runs later on the loop. QD_EBUSY when the queue is full (t untouched). */
enum qd_code pg_pool_submit(struct pg_pool *p, struct pg_task *t);
void pg_pool_stats(struct pg_pool *p, struct pg_pool_stats *out);    /* any thread */
/* Runs the queued tasks, joins the workers, closes the connections and the async handle;
 * done callbacks of queued tasks still run. Loop thread; the loop must run afterwards for
 * the handle close to complete. NULL is a no-op. */
void pg_pool_destroy(struct pg_pool *p);

#endif
