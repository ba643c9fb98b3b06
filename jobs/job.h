#ifndef JOBS_JOB_H
#define JOBS_JOB_H

/*
 * Job types: the registry (name -> params validator + run function) that every job type adds
 * a row to (jobs/registry.c), and what a run function may call while it runs.
 *
 * validate() runs on the loop thread when a job is submitted (and when a schedule is made):
 * it must be quick and pure, and name the offending field as "params.symbols[2]".
 * run() runs on a job worker thread with that worker's own database connection. It returns:
 *   QD_OK (result set, or NULL), QD_ECANCELED when job_should_stop() told it to stop,
 *   QD_ETRANSIENT / QD_EDB_RETRY / QD_ETIMEOUT for failures worth retrying with backoff,
 *   anything else for a permanent failure described in *err.
 * A run must be idempotent: after a crash the job runs again from the start.
 */

#include "common/err.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg_conn;                     /* libpq's PGconn */
struct job_ctx;

typedef enum qd_code job_validate_fn(const json_t *params, struct qd_err *err);
typedef enum qd_code job_run_fn(struct job_ctx *ctx, const json_t *params, json_t **result,
                                struct qd_err *err);

struct job_type {
    const char      *name;
    const char      *summary;
    job_validate_fn *validate;
    job_run_fn      *run;
};

/* NULL when unknown. Any thread. */
const struct job_type *job_type_find(const char *name);
const struct job_type *job_types(size_t *n);
/* Validates {"type", "params"} as a whole for a submission; names fields "type", "params.x". */
enum qd_code job_validate(const char *type, const json_t *params, struct qd_err *err);

/* For run functions (worker thread). */
int64_t         job_id(const struct job_ctx *ctx);
int             job_attempt(const struct job_ctx *ctx);
struct pg_conn *job_conn(struct job_ctx *ctx);
/* True once the job was cancelled or the daemon is shutting down: return QD_ECANCELED soon.
 * Cheap (one atomic load): call it at least every ~100 ms of work. */
bool job_should_stop(const struct job_ctx *ctx);
/* Records progress (0..1) and a message, at most every 100 ms unless frac >= 1. Call it
 * outside the run's own transactions. Failures are logged, not returned. */
void job_progress(struct job_ctx *ctx, double frac, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Helpers for validators: a "YYYY-MM-DD" string member, required or not. */
enum qd_code job_param_date(const json_t *params, const char *key, bool required, int32_t *day,
                            struct qd_err *err);
/* Rejects members not in the NULL-terminated list, naming the first unknown one. */
enum qd_code job_param_known(const json_t *params, const char *const *keys, struct qd_err *err);

/* Fetches and stores one item (a symbol, a series, a market) into its result row; the codes of
 * fetch and store (QD_EDB_RETRY / QD_ETIMEOUT: the database went away). */
typedef enum qd_code job_item_fn(struct job_ctx *ctx, const char *id, void *arg, json_t *row,
                                 struct qd_err *e);
/* The loop the ingest jobs share: one(ctx, id, arg, ...) for every string of params[list] (or
 * of the NULL-terminated defaults when the list is absent), one failing without failing the
 * others; the job fails when every one failed (as transient when every failure may heal) or the
 * database went away. Result: {<list>: [{<key>: id, ...}], "ok", "failed"}. */
enum qd_code job_each_item(struct job_ctx *ctx, const json_t *params, const char *list,
                           const char *key, const char *const *defaults, job_item_fn *one,
                           void *arg, json_t **result, struct qd_err *err);

#endif
