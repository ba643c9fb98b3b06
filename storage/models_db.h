#ifndef STORAGE_MODELS_DB_H
#define STORAGE_MODELS_DB_H

/* The model registry (migration 0010): registered models, their versions made from runs,
 * stage transitions with an audit trail. JSON results are malloc'd text. Blocking: worker
 * threads only. */

#include "common/err.h"

#include <libpq-fe.h>

#include <stdbool.h>
#include <stdint.h>

/* QD_ECONFLICT when the name is taken. *json: the model. */
enum qd_code models_db_create(PGconn *c, const char *name, const char *description,
                              const char *actor, char **json, struct qd_err *err);
/* {"models": [{name, description, created_at, updated_at, latest_version, production}…]} */
enum qd_code models_db_list(PGconn *c, char **json, struct qd_err *err);
/* The model with its versions; stage non-NULL: only the latest version in that stage, with
 * what a trading job needs (strategy, params, strategy_config) — QD_ENOTFOUND when none. */
enum qd_code models_db_get(PGconn *c, const char *name, const char *stage, char **json,
                           struct qd_err *err);
/* A new version (the next number) from run_id; the model is created when new. source (may be
 * NULL) is kept as information (MLflow's model-versions/create gives one). */
enum qd_code models_db_version_create(PGconn *c, const char *name, int64_t run_id,
                                      const char *description, const char *source,
                                      const char *actor, char **json, struct qd_err *err);
/* Moves a version to stage; archive_existing: the other versions in that stage go to Archived
 * (each move audited). Moving a version into or out of Production needs admin (the caller's
 * token scope): QD_EFORBIDDEN otherwise. QD_ENOTFOUND for an unknown model or version. */
enum qd_code models_db_transition(PGconn *c, const char *name, int version, const char *stage,
                                  bool archive_existing, bool admin, const char *actor,
                                  char **json, struct qd_err *err);

#endif
