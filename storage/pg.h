#ifndef STORAGE_PG_H
#define STORAGE_PG_H

/* libpq helpers shared by storage modules: connect with our session settings, map results to
 * qd_code. Blocking: worker threads and the CLI only, never the loop thread. */

#include "common/err.h"

#include <libpq-fe.h>

#include <stdbool.h>

/* Connects and sets application_name, statement_timeout, idle-in-transaction timeout and
 * TCP keepalives. NULL on failure with *err (QD_EDB_RETRY: the server may come back).
 * Free with PQfinish. */
PGconn *pg_connect(const char *conninfo, const char *app_name, unsigned statement_timeout_ms,
                   struct qd_err *err);

/* OK when res has status want; otherwise fills *err from the server's message and SQLSTATE:
 * 23505 -> QD_ECONFLICT, 23xxx/22xxx -> QD_EINVAL, 40001/40P01/08xxx/57P0x or a lost
 * connection -> QD_EDB_RETRY, anything else QD_EDB. Does not clear res. */
enum qd_code pg_check(PGconn *conn, const PGresult *res, ExecStatusType want,
                      struct qd_err *err);

/* Runs a parameterized statement expecting want; clears the result unless out is given. */
enum qd_code pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                     ExecStatusType want, PGresult **out, struct qd_err *err);

/* The first column of the first row of a parameterized query, strdup'd into *out (NULL
 * otherwise). No row, or a NULL value: QD_ENOTFOUND with the message notfound. */
enum qd_code pg_one_text(PGconn *conn, const char *sql, int nparams, const char *const *params,
                         char **out, const char *notfound, struct qd_err *err);

/* Ends the transaction open on conn: COMMIT when rc is QD_OK (a failed COMMIT becomes the
 * result), else ROLLBACK and rc stays. Returns the outcome. */
enum qd_code pg_end(PGconn *conn, enum qd_code rc, struct qd_err *err);

/* A search whose SQL weighs only its best `cand` candidates, a text parameter the caller
 * points into (cand_n bytes): runs sql in a read-only transaction with cand = max(1024, 4 want),
 * four times larger each time the answer's second column is "t" (not enough candidates), up
 * to 2^40; *json is then the first column, strdup'd (NULL on error). */
enum qd_code pg_candidate_walk(PGconn *conn, const char *sql, int nparams,
                               const char *const *params, char *cand, size_t cand_n,
                               unsigned long long want, char **json, struct qd_err *err);

/* COPY ... FROM STDIN of len bytes already in the COPY format the statement names (text or
 * binary), then the statement's outcome. */
enum qd_code pg_copy_in(PGconn *conn, const char *copy_sql, const char *data, size_t len,
                        struct qd_err *err);

/* True when the connection is gone (status bad). */
bool pg_lost(PGconn *conn);

/* Escapes nothing: conninfo with any password=... value replaced by ***, for logs. */
void pg_conninfo_redact(const char *conninfo, char *out, size_t outlen);

#endif
