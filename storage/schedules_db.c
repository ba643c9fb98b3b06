/* Schedules SQL (see schedules_db.h). Worker threads. */
#include "storage/schedules_db.h"
#include "common/cron.h"
#include "common/log.h"
#include "storage/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QD_LOG_MODULE "schedules"
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define SCHEDULE_JSON                                                                             \
    "json_build_object('name', name, 'cron', cron, 'type', job_type, 'params', params, "          \
    "'enabled', enabled, 'next_run_at', " TS("next_run_at") ", 'last_run_at', "                   \
    TS("last_run_at") ", 'last_job_id', last_job_id, 'created_at', " TS("created_at") ")"

static enum qd_code
one_text(PGconn *c, const char *sql, int n, const char *const *p, char **out, const char *what,
         struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc = pg_exec(c, sql, n, p, PGRES_TUPLES_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = qd_err_set(err, QD_ENOTFOUND, "schedule \"%s\" not found", what);
    else if ((*out = strdup(PQgetvalue(res, 0, 0))) == NULL)
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    PQclear(res);
    return rc;
}

enum qd_code
schedules_db_create(PGconn *c, const char *name, const char *cron, const char *type,
                    const char *params_json, bool enabled, int64_t next_run_at, char **json,
                    struct qd_err *err)
{
    char next[24];
    const char *p[6] = {name, cron, type, params_json, enabled ? "true" : "false", next};
    enum qd_code rc;

    snprintf(next, sizeof(next), "%" PRId64, next_run_at);
    rc = one_text(c,
                  "INSERT INTO schedules (name, cron, job_type, params, enabled, next_run_at) "
                  "VALUES ($1, $2, $3, $4::jsonb, $5::boolean, to_timestamp($6::bigint)) "
                  "RETURNING " SCHEDULE_JSON,
                  6, p, json, name, err);
    if (rc == QD_ECONFLICT)
        qd_err_field(err, rc, "name", "a schedule named \"%s\" already exists", name);
    return rc;
}

enum qd_code
schedules_db_get(PGconn *c, const char *name, char **json, struct qd_err *err)
{
    const char *p[1] = {name};

    return one_text(c, "SELECT " SCHEDULE_JSON " FROM schedules WHERE name = $1", 1, p, json,
                    name, err);
}

enum qd_code
schedules_db_list(PGconn *c, char **json, struct qd_err *err)
{
    return one_text(c,
                    "SELECT json_build_object('schedules', coalesce(json_agg(" SCHEDULE_JSON
                    " ORDER BY name), '[]'::json)) FROM schedules",
                    0, NULL, json, "", err);
}

enum qd_code
schedules_db_delete(PGconn *c, const char *name, struct qd_err *err)
{
    const char *p[1] = {name};
    PGresult *res;
    enum qd_code rc = pg_exec(c, "DELETE FROM schedules WHERE name = $1", 1, p, PGRES_COMMAND_OK,
                              &res, err);

    if (rc != QD_OK)
        return rc;
    if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = qd_err_set(err, QD_ENOTFOUND, "schedule \"%s\" not found", name);
    PQclear(res);
    return rc;
}

enum qd_code
schedules_db_fire_due(PGconn *c, unsigned *fired, struct qd_err *err)
{
    PGresult *due = NULL;
    enum qd_code rc;

    *fired = 0;
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc != QD_OK)
        return rc;
    rc = pg_exec(c,
                 "SELECT name, cron, job_type, params::text, extract(epoch FROM now())::bigint "
                 "FROM schedules WHERE enabled AND next_run_at <= now() ORDER BY next_run_at "
                 "LIMIT 100 FOR UPDATE SKIP LOCKED",
                 0, NULL, PGRES_TUPLES_OK, &due, err);
    for (int i = 0; rc == QD_OK && i < PQntuples(due); i++) {
        const char *name = PQgetvalue(due, i, 0);
        int64_t now = strtoll(PQgetvalue(due, i, 4), NULL, 10), next;
        struct cron cr;
        struct qd_err perr;
        char nexts[24];
        const char *p[4] = {name, PQgetvalue(due, i, 2), PQgetvalue(due, i, 3), nexts};

        if (cron_parse(PQgetvalue(due, i, 1), &cr, &perr) != QD_OK) {
            QD_LOG(QD_LOG_WARNING, "schedule has a bad cron expression, disabled: %s\tname=%s",
                   perr.msg, name);
            rc = pg_exec(c, "UPDATE schedules SET enabled = false WHERE name = $1", 1, p,
                         PGRES_COMMAND_OK, NULL, err);
            continue;
        }
        next = cron_next(&cr, now);
        if (next < 0)
            next = now + 5LL * 366 * 86400;
        snprintf(nexts, sizeof(nexts), "%" PRId64, next);
        rc = pg_exec(c,
                     "WITH j AS (INSERT INTO jobs (type, params, schedule_name, created_by) "
                     "VALUES ($2, $3::jsonb, $1, 'schedule:' || $1) RETURNING id) "
                     "UPDATE schedules SET last_run_at = now(), last_job_id = (SELECT id FROM j), "
                     "next_run_at = to_timestamp($4::bigint) WHERE name = $1",
                     4, p, PGRES_COMMAND_OK, NULL, err);
        if (rc == QD_OK) {
            (*fired)++;
            QD_LOG(QD_LOG_INFO, "schedule fired\tname=%s type=%s", name, p[1]);
        }
    }
    PQclear(due);
    rc = pg_end(c, rc, err);
    return rc;
}
