#ifndef STORAGE_SCHEDULES_DB_H
#define STORAGE_SCHEDULES_DB_H

/* Cron schedules that queue jobs (DESIGN §5). JSON results are malloc'd text.
 * Blocking: worker threads only. */

#include "common/err.h"

#include <libpq-fe.h>

#include <stdbool.h>
#include <stdint.h>

/* next_run_at: seconds since the epoch (UTC). QD_ECONFLICT when the name is taken. */
enum qd_code schedules_db_create(PGconn *c, const char *name, const char *cron, const char *type,
                                 const char *params_json, bool enabled, int64_t next_run_at,
                                 char **json, struct qd_err *err);
enum qd_code schedules_db_get(PGconn *c, const char *name, char **json, struct qd_err *err);
enum qd_code schedules_db_list(PGconn *c, char **json, struct qd_err *err);
/* QD_ENOTFOUND when there is no such schedule. */
enum qd_code schedules_db_delete(PGconn *c, const char *name, struct qd_err *err);
/* Queues a job for every enabled schedule whose time has come, and moves each to its next
 * time after now; safe with several daemons (FOR UPDATE SKIP LOCKED). */
enum qd_code schedules_db_fire_due(PGconn *c, unsigned *fired, struct qd_err *err);

#endif
