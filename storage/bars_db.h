#ifndef STORAGE_BARS_DB_H
#define STORAGE_BARS_DB_H

/* Daily bars in SQL: idempotent bulk upsert through binary COPY into a staging table, and
 * reads. Blocking: worker threads only. */

#include "common/buf.h"
#include "common/err.h"
#include "core/bar.h"

#include <libpq-fe.h>

#include <stdbool.h>
#include <stdint.h>

struct bars_upsert_result {
    long long rows;                 /* rows given */
    long long changed;              /* rows inserted or updated (0 on an identical re-run) */
    enum qd_code code;              /* bars_db_upsert_many: this symbol's outcome */
    char      error[256];           /* and why, when code is not QD_OK */
};

/* Upserts s for symbol in one transaction (all or nothing): creates the symbol if needed,
 * writes rows whose values differ and bumps symbols.bars_version when anything changed. */
enum qd_code bars_db_upsert(PGconn *c, const char *symbol, const char *source,
                            const struct bar_series *s, struct bars_upsert_result *out,
                            struct qd_err *err);

/* bars_db_upsert for k symbols at once (out[k]). The symbols that have no bar in their range
 * yet go in one transaction and one COPY (a first load of many small files costs far less
 * than one transaction each); the others, and all of them should that transaction fail on a
 * concurrent writer or any other refusal, go through bars_db_upsert one by one. Each symbol's
 * rows are still all or nothing, and each out[j] has its own code and error. Returns an error
 * only for a lost connection or a timeout (the caller retries; what was committed stays). */
enum qd_code bars_db_upsert_many(PGconn *c, const char *const *symbols,
                                 const struct bar_series *const *ss, size_t k,
                                 const char *source, struct bars_upsert_result *out,
                                 struct qd_err *err);

/* Upserts corporate actions (kind[i] 'D' dividend or 'S' split, value > 0) of symbol by
 * ex-date in one transaction; *written gets the rows inserted or changed. */
enum qd_code bars_db_actions_upsert(PGconn *c, const char *symbol, const char *source,
                                    const int32_t *day, const char *kind, const double *value,
                                    size_t n, long long *written, struct qd_err *err);

/* Reads the daily bars of symbol in [start_day, end_day] (days since epoch; INT32_MIN/MAX for
 * open ends) into s (cleared first), plus the symbol's bars_version.
 * QD_ENOTFOUND when the symbol is unknown. */
enum qd_code bars_db_read(PGconn *c, const char *symbol, int32_t start_day, int32_t end_day,
                          struct bar_series *s, int64_t *version, struct qd_err *err);
/* The symbol's bars_version, QD_ENOTFOUND when unknown. */
enum qd_code bars_db_version(PGconn *c, const char *symbol, int64_t *version,
                             struct qd_err *err);
/* {"symbols":[{"symbol","bars","first","last"}...]} as JSON text (malloc'd). */
enum qd_code bars_db_symbols(PGconn *c, char **json, struct qd_err *err);

#endif
