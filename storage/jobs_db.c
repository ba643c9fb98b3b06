/* Job queue SQL (see jobs_db.h). Worker threads. */
#include "storage/jobs_db.h"
#include "storage/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const jobs_db_status_names[5] = {"queued", "running", "succeeded", "failed",
                                             "cancelled"};

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define JOB_JSON                                                                                  \
    "json_build_object('id', id, 'type', type, 'status', status, 'progress', progress, "          \
    "'message', message, 'params', params, 'result', result, 'error', error, "                    \
    "'attempts', attempts, 'max_attempts', max_attempts, 'cancel_requested', cancel_requested, "  \
    "'created_at', " TS("created_at") ", 'started_at', " TS("started_at") ", "                   \
    "'finished_at', " TS("finished_at") ")"

static enum qd_code
one_text(PGconn *c, const char *sql, int n, const char *const *params, char **out,
         struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc = pg_exec(c, sql, n, params, PGRES_TUPLES_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "not found");
    }
    *out = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *out ? QD_OK : qd_err_set(err, QD_ENOMEM, "out of memory");
}

enum qd_code
jobs_db_insert(PGconn *c, const char *type, const char *params_json, unsigned max_attempts,
               const char *created_by, const char *schedule_name, char **job_json,
               struct qd_err *err)
{
    char ma[16];
    const char *p[5] = {type, params_json, ma, created_by, schedule_name};

    snprintf(ma, sizeof(ma), "%u", max_attempts);
    return one_text(c,
                    "INSERT INTO jobs (type, params, max_attempts, created_by, schedule_name) "
                    "VALUES ($1, $2::jsonb, $3, $4, $5) RETURNING " JOB_JSON,
                    5, p, job_json, err);
}

enum qd_code
jobs_db_get(PGconn *c, int64_t id, char **job_json, struct qd_err *err)
{
    char ids[24];
    const char *p[1] = {ids};
    enum qd_code rc;

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    rc = one_text(c, "SELECT " JOB_JSON " FROM jobs WHERE id = $1", 1, p, job_json, err);
    if (rc == QD_ENOTFOUND)
        qd_err_set(err, rc, "job %" PRId64 " not found", id);
    return rc;
}

enum qd_code
jobs_db_list(PGconn *c, const char *status, const char *type, unsigned limit, int64_t cursor,
             char **list_json, struct qd_err *err)
{
    char lim[16], cur[24];
    const char *p[4] = {status, type, lim, cur};

    snprintf(lim, sizeof(lim), "%u", limit);
    snprintf(cur, sizeof(cur), "%" PRId64, cursor > 0 ? cursor : INT64_MAX);
    /* one row past the page tells whether there is a next page */
    return one_text(
        c,
        "WITH page AS (SELECT * FROM jobs WHERE ($1::text IS NULL OR status = $1) "
        "AND ($2::text IS NULL OR type = $2) AND id < $4::bigint ORDER BY id DESC "
        "LIMIT $3::int + 1), "
        "shown AS (SELECT * FROM page ORDER BY id DESC LIMIT $3::int) "
        "SELECT json_build_object('jobs', coalesce((SELECT json_agg(" JOB_JSON
        " ORDER BY id DESC) FROM shown), '[]'::json), 'next_cursor', "
        "CASE WHEN (SELECT count(*) FROM page) > $3::int "
        "THEN (SELECT min(id)::text FROM shown) END)",
        4, p, list_json, err);
}

enum qd_code
jobs_db_cancel(PGconn *c, int64_t id, bool *was_running, char **job_json, struct qd_err *err)
{
    char ids[24];
    const char *p[1] = {ids};
    PGresult *res;
    enum qd_code rc;

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    /* The UPDATE only touches unfinished jobs; the outer SELECT reports what happened. */
    rc = pg_exec(c,
                 "WITH u AS (UPDATE jobs SET "
                 "status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, "
                 "finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END, "
                 "message = CASE WHEN status = 'queued' THEN 'cancelled before it started' "
                 "ELSE message END, "
                 "cancel_requested = true, updated_at = now() "
                 "WHERE id = $1 AND status IN ('queued', 'running') RETURNING *, "
                 "(status = 'running') AS was_running) "
                 "SELECT 'updated', u.was_running, " JOB_JSON " FROM u "
                 "UNION ALL SELECT 'finished', false, " JOB_JSON
                 " FROM jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM u)",
                 1, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "job %" PRId64 " not found", id);
    }
    *was_running = PQgetvalue(res, 0, 1)[0] == 't';
    *job_json = strdup(PQgetvalue(res, 0, 2));
    if (strcmp(PQgetvalue(res, 0, 0), "finished") == 0)
        rc = qd_err_set(err, QD_ECONFLICT, "job %" PRId64 " has already finished", id);
    PQclear(res);
    return rc;
}

enum qd_code
jobs_db_claim(PGconn *c, const char *owner, unsigned lease_seconds, struct job_claim *out,
              struct qd_err *err)
{
    char lease[16];
    const char *p[2] = {owner, lease};
    PGresult *res;
    enum qd_code rc;

    snprintf(lease, sizeof(lease), "%u", lease_seconds);
    rc = pg_exec(c,
                 "UPDATE jobs SET status = 'running', lease_owner = $1, "
                 "lease_until = now() + make_interval(secs => $2::int), attempts = attempts + 1, "
                 "started_at = coalesce(started_at, now()), updated_at = now(), message = '' "
                 "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= now() "
                 "ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
                 "RETURNING id, type, params::text, attempts, max_attempts",
                 2, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return QD_ENOTFOUND;
    }
    out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    out->type = strdup(PQgetvalue(res, 0, 1));
    out->params_json = strdup(PQgetvalue(res, 0, 2));
    out->attempts = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
    out->max_attempts = (int)strtol(PQgetvalue(res, 0, 4), NULL, 10);
    PQclear(res);
    if (out->type == NULL || out->params_json == NULL) {
        jobs_db_claim_release(out);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    return QD_OK;
}

void
jobs_db_claim_release(struct job_claim *j)
{
    free(j->type);
    free(j->params_json);
    j->type = j->params_json = NULL;
}

enum qd_code
jobs_db_heartbeat(PGconn *c, const char *owner, unsigned lease_seconds, int64_t *cancel_ids,
                  unsigned max, unsigned *ncancel, struct qd_err *err)
{
    char lease[16];
    const char *p[2] = {owner, lease};
    PGresult *res;
    enum qd_code rc;

    snprintf(lease, sizeof(lease), "%u", lease_seconds);
    rc = pg_exec(c,
                 "UPDATE jobs SET lease_until = now() + make_interval(secs => $2::int) "
                 "WHERE status = 'running' AND lease_owner = $1 "
                 "RETURNING id, cancel_requested",
                 2, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    *ncancel = 0;
    for (int i = 0; i < PQntuples(res) && *ncancel < max; i++)
        if (PQgetvalue(res, i, 1)[0] == 't')
            cancel_ids[(*ncancel)++] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    return QD_OK;
}

enum qd_code
jobs_db_reap(PGconn *c, unsigned *n, struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc;

    rc = pg_exec(c,
                 "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, updated_at = now(), "
                 "status = CASE WHEN cancel_requested THEN 'cancelled' "
                 "WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, "
                 "finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts "
                 "THEN now() END, "
                 "error = CASE WHEN attempts >= max_attempts AND NOT cancel_requested THEN "
                 "json_build_object('code', 'lease_expired', 'message', "
                 "'the worker running the job stopped answering')::jsonb ELSE error END, "
                 "message = 'lease expired: the worker running the job stopped answering' "
                 "WHERE status = 'running' AND lease_until < now() RETURNING id",
                 0, NULL, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    *n = (unsigned)PQntuples(res);
    PQclear(res);
    return QD_OK;
}

enum qd_code
jobs_db_progress(PGconn *c, int64_t id, const char *owner, double progress, const char *message,
                 struct qd_err *err)
{
    char ids[24], pr[32];
    const char *p[4] = {ids, owner, pr, message};

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    snprintf(pr, sizeof(pr), "%.6f", progress < 0 ? 0 : progress > 1 ? 1 : progress);
    return pg_exec(c,
                   "UPDATE jobs SET progress = $3, message = $4, updated_at = now() "
                   "WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                   4, p, PGRES_COMMAND_OK, NULL, err);
}

enum qd_code
jobs_db_finish(PGconn *c, int64_t id, const char *owner, const char *status,
               const char *result_json, const char *error_json, struct qd_err *err)
{
    char ids[24];
    const char *p[5] = {ids, owner, status, result_json, error_json};

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    return pg_exec(c,
                   "UPDATE jobs SET status = $3, result = $4::jsonb, error = $5::jsonb, "
                   "progress = CASE WHEN $3 = 'succeeded' THEN 1 ELSE progress END, "
                   "message = CASE WHEN $3 = 'succeeded' THEN 'done' WHEN $3 = 'cancelled' "
                   "THEN 'cancelled' ELSE coalesce($5::jsonb->>'message', 'failed') END, "
                   "finished_at = now(), updated_at = now(), lease_owner = NULL, "
                   "lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                   5, p, PGRES_COMMAND_OK, NULL, err);
}

enum qd_code
jobs_db_requeue(PGconn *c, int64_t id, const char *owner, unsigned delay_ms, const char *message,
                const char *error_json, bool refund, struct qd_err *err)
{
    char ids[24], delay[16];
    const char *p[6] = {ids, owner, delay, message, error_json, refund ? "1" : "0"};

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    snprintf(delay, sizeof(delay), "%u", delay_ms);
    return pg_exec(c,
                   "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, "
                   "run_after = now() + make_interval(secs => $3::int / 1000.0), message = $4, "
                   "error = $5::jsonb, attempts = attempts - $6::int, updated_at = now() "
                   "WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                   6, p, PGRES_COMMAND_OK, NULL, err);
}

enum qd_code
jobs_db_counts(PGconn *c, long long counts[5], struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc = pg_exec(c, "SELECT status, count(*) FROM jobs GROUP BY status", 0, NULL,
                              PGRES_TUPLES_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    memset(counts, 0, 5 * sizeof(counts[0]));
    for (int i = 0; i < PQntuples(res); i++)
        for (int s = 0; s < 5; s++)
            if (strcmp(PQgetvalue(res, i, 0), jobs_db_status_names[s]) == 0)
                counts[s] = strtoll(PQgetvalue(res, i, 1), NULL, 10);
    PQclear(res);
    return QD_OK;
}

enum qd_code
jobs_db_get_many(PGconn *c, const int64_t *ids, unsigned n, char **json, struct qd_err *err)
{
    char *arr = malloc((size_t)n * 22 + 3);
    size_t at = 0;
    const char *p[1];
    enum qd_code rc;

    if (arr == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    arr[at++] = '{';
    for (unsigned i = 0; i < n; i++)
        at += (size_t)snprintf(arr + at, 23, "%s%" PRId64, i ? "," : "", ids[i]);
    arr[at++] = '}';
    arr[at] = '\0';
    p[0] = arr;
    rc = one_text(c,
                  "SELECT coalesce(json_object_agg(id, " JOB_JSON "), '{}'::json) FROM jobs "
                  "WHERE id = ANY($1::bigint[])",
                  1, p, json, err);
    free(arr);
    return rc;
}
