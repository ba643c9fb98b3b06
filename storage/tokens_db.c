/* API tokens and audit log SQL (see tokens_db.h). Worker threads and CLI. */
#include "storage/tokens_db.h"
#include "storage/pg.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const scope_names[] = {"read", "research", "trade", "admin"};

unsigned
token_scope_parse(const char *s)
{
    for (unsigned i = 0; i < 4; i++)
        if (strcmp(s, scope_names[i]) == 0)
            return 1u << i;
    return 0;
}

int
token_scope_allows(unsigned have, unsigned need)
{
    if (have & SCOPE_ADMIN)
        return 1;
    if (have & (SCOPE_RESEARCH | SCOPE_TRADE))
        have |= SCOPE_READ;
    return (have & need) == need;
}

void
token_hash(const char *secret, size_t len, unsigned char out[32])
{
    unsigned int n = 32;

    EVP_Digest(secret, len, out, &n, EVP_sha256(), NULL);
}

static void
hash_param(const unsigned char h[32], char out[67])
{
    memcpy(out, "\\x", 2);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 + 2 * i, 3, "%02x", h[i]);
}

static void
scopes_param(unsigned scopes, char *out, size_t n)
{
    size_t at = 0;

    at += (size_t)snprintf(out, n, "{");
    for (unsigned i = 0; i < 4; i++)
        if (scopes & (1u << i))
            at += (size_t)snprintf(out + at, n - at, "%s%s", at > 1 ? "," : "", scope_names[i]);
    snprintf(out + at, n - at, "}");
}

enum qd_code
tokens_db_create(PGconn *c, const char *name, unsigned scopes,
                 char secret[TOKEN_SECRET_LEN + 1], char **json, struct qd_err *err)
{
    unsigned char raw[32], h[32];
    char hp[67], sp[64];
    const char *p[4] = {name, hp, sp, secret};
    PGresult *res;
    enum qd_code rc;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return qd_err_set(err, QD_EINTERNAL, "could not get random bytes for a token");
    memcpy(secret, "qd_", 3);
    for (int i = 0; i < 32; i++)
        snprintf(secret + 3 + 2 * i, 3, "%02x", raw[i]);
    token_hash(secret, TOKEN_SECRET_LEN, h);
    hash_param(h, hp);
    scopes_param(scopes, sp, sizeof(sp));
    rc = pg_exec(c,
                 "INSERT INTO api_tokens (name, token_sha256, scopes) VALUES ($1, $2::bytea, "
                 "$3::text[]) ON CONFLICT (name) DO UPDATE SET token_sha256 = excluded.token_sha256, "
                 "scopes = excluded.scopes, created_at = now(), last_used_at = NULL, "
                 "revoked_at = NULL WHERE api_tokens.revoked_at IS NOT NULL "
                 "RETURNING json_build_object('name', name, 'scopes', scopes, 'token', $4::text, "
                 "'created_at', to_char(created_at AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
                 4, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0)
        rc = qd_err_field(err, QD_ECONFLICT, "name", "a token named \"%s\" already exists", name);
    else if (json != NULL && (*json = strdup(PQgetvalue(res, 0, 0))) == NULL)
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    PQclear(res);
    return rc;
}

enum qd_code
tokens_db_revoke(PGconn *c, const char *name, struct qd_err *err)
{
    const char *p[1] = {name};
    PGresult *res;
    enum qd_code rc = pg_exec(c,
                              "UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND "
                              "revoked_at IS NULL",
                              1, p, PGRES_COMMAND_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    if (strcmp(PQcmdTuples(res), "0") == 0)
        rc = qd_err_set(err, QD_ENOTFOUND, "token \"%s\" not found", name);
    PQclear(res);
    return rc;
}

enum qd_code
tokens_db_lookup(PGconn *c, const unsigned char hash[32], char name[65], unsigned *scopes,
                 struct qd_err *err)
{
    char hp[67];
    const char *p[1] = {hp};
    PGresult *res;
    enum qd_code rc;

    hash_param(hash, hp);
    /* last_used_at is written at most once a minute per token to keep lookups cheap */
    rc = pg_exec(c,
                 "WITH t AS (SELECT name, scopes FROM api_tokens WHERE token_sha256 = $1::bytea "
                 "AND revoked_at IS NULL), "
                 "u AS (UPDATE api_tokens SET last_used_at = now() WHERE token_sha256 = $1::bytea "
                 "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')) "
                 "SELECT name, array_to_string(scopes, ',') FROM t",
                 1, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return qd_err_set(err, QD_ENOTFOUND, "unknown or revoked token");
    }
    snprintf(name, 65, "%s", PQgetvalue(res, 0, 0));
    *scopes = 0;
    {
        char buf[128], *save = NULL, *tok;
        snprintf(buf, sizeof(buf), "%s", PQgetvalue(res, 0, 1));
        for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            *scopes |= token_scope_parse(tok);
    }
    PQclear(res);
    return QD_OK;
}

enum qd_code
tokens_db_count_active(PGconn *c, long long *n, struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc = pg_exec(c, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL", 0,
                              NULL, PGRES_TUPLES_OK, &res, err);

    if (rc == QD_OK) {
        *n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    return rc;
}

enum qd_code
tokens_db_list(PGconn *c, char **json, struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc = pg_exec(
        c,
        "SELECT json_build_object('tokens', coalesce(json_agg(json_build_object('name', name, "
        "'scopes', scopes, 'created_at', to_char(created_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'last_used_at', to_char(last_used_at AT TIME ZONE "
        "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'revoked_at', to_char(revoked_at AT TIME ZONE "
        "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) ORDER BY name), '[]'::json)) FROM api_tokens",
        0, NULL, PGRES_TUPLES_OK, &res, err);

    if (rc != QD_OK)
        return rc;
    *json = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *json ? QD_OK : qd_err_set(err, QD_ENOMEM, "out of memory");
}

enum qd_code
audit_db_insert(PGconn *c, const char *token_name, const char *method, const char *path,
                int status, const char *request_id, const char *remote, const char *detail_json,
                struct qd_err *err)
{
    char st[16];
    const char *p[7] = {token_name, method, path, st, request_id, remote, detail_json};

    snprintf(st, sizeof(st), "%d", status);
    return pg_exec(c,
                   "INSERT INTO audit_log (token_name, method, path, status, request_id, "
                   "remote_addr, detail) VALUES ($1, $2, $3, $4::int, $5, $6, $7::jsonb)",
                   7, p, PGRES_COMMAND_OK, NULL, err);
}
