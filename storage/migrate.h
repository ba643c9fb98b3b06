#ifndef STORAGE_MIGRATE_H
#define STORAGE_MIGRATE_H

#include "common/err.h"

#include <libpq-fe.h>

/* One embedded migration (build/gen/migrations.c, from storage/migrations/NNNN_name.sql). */
struct migration {
    const char *name;               /* "0001_init" */
    const char *sql;
};
extern const struct migration migrations[];
extern const unsigned migrations_count;

/* Applies the missing migrations in order under an advisory lock, each in its own transaction
 * with its schema_migrations row; refuses when an applied file's checksum changed.
 * *applied (may be NULL) gets the number applied now. Blocking: worker thread or CLI only. */
enum qd_code migrate_apply(PGconn *conn, unsigned *applied, struct qd_err *err);

#endif
