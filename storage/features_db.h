#ifndef STORAGE_FEATURES_DB_H
#define STORAGE_FEATURES_DB_H

/* Feature values (migration 0003). Blocking: worker threads only. */

#include "common/err.h"

#include <libpq-fe.h>

#include <stddef.h>
#include <stdint.h>

/* Upserts the defined (non-NaN) values of one feature of a symbol on days in [from, to];
 * *written gets how many rows were inserted or changed. One transaction. */
enum qd_code features_db_upsert(PGconn *c, const char *symbol, const char *name,
                                const int32_t *days, const double *values, size_t n, int32_t from,
                                int32_t to, long long *written, struct qd_err *err);
/* {"symbol","rows":[{"ts", name: value|null, …}…]} for the names (NULL-terminated) and range
 * (INT32_MIN/MAX for open ends); every requested name is a key of every row. */
enum qd_code features_db_read(PGconn *c, const char *symbol, const char *const *names,
                              int32_t start, int32_t end, char **json, struct qd_err *err);

#endif
