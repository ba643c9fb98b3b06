#ifndef STORAGE_JOBS_DB_H
#define STORAGE_JOBS_DB_H

/*
 * The durable job queue (DESIGN §5) in SQL. Jobs are returned to callers as JSON text built by
 * PostgreSQL in one shape (JOB_JSON in jobs_db.c), malloc'd: the caller frees it.
 * Blocking: worker threads only.
 */

#include "common/err.h"

#include <libpq-fe.h>

#include <stdbool.h>
#include <stdint.h>

/* Inserts a queued job; *job_json gets the job. */
enum qd_code jobs_db_insert(PGconn *c, const char *type, const char *params_json,
                            unsigned max_attempts, const char *created_by,
                            const char *schedule_name, char **job_json, struct qd_err *err);
/* QD_ENOTFOUND when there is no such job. */
enum qd_code jobs_db_get(PGconn *c, int64_t id, char **job_json, struct qd_err *err);
/* {"jobs": [...], "next_cursor": "…"|null}, newest first; status/type may be NULL;
 * cursor 0 = from the newest. */
enum qd_code jobs_db_list(PGconn *c, const char *status, const char *type, unsigned limit,
                          int64_t cursor, char **list_json, struct qd_err *err);
/* Queued -> cancelled at once; running -> cancel_requested (the owner stops it).
 * QD_ENOTFOUND, or QD_ECONFLICT when it already finished. *was_running tells which. */
enum qd_code jobs_db_cancel(PGconn *c, int64_t id, bool *was_running, char **job_json,
                            struct qd_err *err);

/* A claimed job, for a runner. Strings malloc'd; free with jobs_db_claim_release. */
struct job_claim {
    int64_t id;
    char   *type;
    char   *params_json;
    int     attempts, max_attempts;
};
/* Claims the oldest runnable job (FOR UPDATE SKIP LOCKED), taking a lease for owner.
 * QD_ENOTFOUND when nothing is runnable. */
enum qd_code jobs_db_claim(PGconn *c, const char *owner, unsigned lease_seconds,
                           struct job_claim *out, struct qd_err *err);
void jobs_db_claim_release(struct job_claim *j);

/* Renews the leases of owner's running jobs; ids whose cancellation was requested are written
 * to cancel_ids (up to max), their count to *ncancel. */
enum qd_code jobs_db_heartbeat(PGconn *c, const char *owner, unsigned lease_seconds,
                               int64_t *cancel_ids, unsigned max, unsigned *ncancel,
                               struct qd_err *err);
/* Requeues running jobs whose lease expired (or fails them when out of attempts);
 * *n gets how many. */
enum qd_code jobs_db_reap(PGconn *c, unsigned *n, struct qd_err *err);
enum qd_code jobs_db_progress(PGconn *c, int64_t id, const char *owner, double progress,
                              const char *message, struct qd_err *err);
/* status: "succeeded" | "failed" | "cancelled"; result/error JSON text or NULL. */
enum qd_code jobs_db_finish(PGconn *c, int64_t id, const char *owner, const char *status,
                            const char *result_json, const char *error_json, struct qd_err *err);
/* Back to queued after a transient failure, runnable after delay_ms. When refund is true the
 * attempt is not counted (shutdown drain). */
enum qd_code jobs_db_requeue(PGconn *c, int64_t id, const char *owner, unsigned delay_ms,
                             const char *message, const char *error_json, bool refund,
                             struct qd_err *err);
/* Counts by status, in the order queued, running, succeeded, failed, cancelled. */
enum qd_code jobs_db_counts(PGconn *c, long long counts[5], struct qd_err *err);
/* Jobs JSON for several ids: {"<id>": job, ...}. For the event streams. */
enum qd_code jobs_db_get_many(PGconn *c, const int64_t *ids, unsigned n, char **json,
                              struct qd_err *err);

extern const char *const jobs_db_status_names[5];

#endif
