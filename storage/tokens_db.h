#ifndef STORAGE_TOKENS_DB_H
#define STORAGE_TOKENS_DB_H

/* API tokens: only the SHA-256 of a secret is stored; the secret is shown once at creation.
 * And the audit log. Blocking: worker threads and the CLI only. */

#include "common/err.h"

#include <libpq-fe.h>

#include <stdint.h>

enum token_scope {
    SCOPE_READ = 1 << 0,
    SCOPE_RESEARCH = 1 << 1,
    SCOPE_TRADE = 1 << 2,
    SCOPE_ADMIN = 1 << 3,
};
#define TOKEN_SECRET_LEN 67         /* "qd_" + 64 hex digits */

/* "read" -> SCOPE_READ …; 0 when unknown. */
unsigned token_scope_parse(const char *s);
/* True when a token with scopes `have` may use a route that needs `need`: admin implies every
 * scope, research and trade imply read. */
int token_scope_allows(unsigned have, unsigned need);
/* SHA-256 of the secret. */
void token_hash(const char *secret, size_t len, unsigned char out[32]);

/* Makes a token; secret gets TOKEN_SECRET_LEN chars + NUL; *json (may be NULL) gets
 * {"name","scopes","token","created_at"}. QD_ECONFLICT when the name is taken. */
enum qd_code tokens_db_create(PGconn *c, const char *name, unsigned scopes,
                              char secret[TOKEN_SECRET_LEN + 1], char **json, struct qd_err *err);
/* QD_ENOTFOUND when there is no active token of that name. */
enum qd_code tokens_db_revoke(PGconn *c, const char *name, struct qd_err *err);
/* Active token by hash: its name (up to 64 chars + NUL) and scopes; marks it used.
 * QD_ENOTFOUND when unknown or revoked. */
enum qd_code tokens_db_lookup(PGconn *c, const unsigned char hash[32], char name[65],
                              unsigned *scopes, struct qd_err *err);
enum qd_code tokens_db_count_active(PGconn *c, long long *n, struct qd_err *err);
enum qd_code tokens_db_list(PGconn *c, char **json, struct qd_err *err);

enum qd_code audit_db_insert(PGconn *c, const char *token_name, const char *method,
                             const char *path, int status, const char *request_id,
                             const char *remote, const char *detail_json, struct qd_err *err);

#endif
