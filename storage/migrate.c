/*
 * Embedded SQL migrations (build/gen/migrations.c from storage/migrations/NNNN_name.sql), applied in
 * order under an advisory lock so two daemons never migrate at once. Each file runs in its own
 * transaction together with its schema_migrations row. Blocking: worker thread or CLI.
 */
#include "storage/migrate.h"
#include "storage/pg.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <string.h>

#define MIGRATE_LOCK_KEY "7262930451"   /* arbitrary constant: "quantd migrations" */

static void
sha256_hex(const char *s, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;

    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static enum qd_code
apply_one(PGconn *conn, const struct migration *m, const char *sum, struct qd_err *err)
{
    const char *params[2] = {m->name, sum};
    enum qd_code rc;

    rc = pg_exec(conn, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK) {
        PGresult *res = PQexec(conn, m->sql);
        rc = pg_check(conn, res, PGRES_COMMAND_OK, err);
        PQclear(res);
        if (rc != QD_OK)
            qd_err_prefix(err, m->name);
    }
    if (rc == QD_OK)
        rc = pg_exec(conn, "INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)", 2,
                     params, PGRES_COMMAND_OK, NULL, err);
    rc = pg_end(conn, rc, err);
    return rc;
}

enum qd_code
migrate_apply(PGconn *conn, unsigned *applied, struct qd_err *err)
{
    PGresult *res = NULL;
    enum qd_code rc;
    unsigned n = 0;

    rc = pg_exec(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL,
                 PGRES_TUPLES_OK, NULL, err);
    if (rc != QD_OK)
        return rc;
    rc = pg_exec(conn,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
                 "sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_exec(conn, "SELECT name, sha256 FROM schema_migrations", 0, NULL,
                     PGRES_TUPLES_OK, &res, err);
    for (unsigned i = 0; rc == QD_OK && i < migrations_count; i++) {
        const struct migration *m = &migrations[i];
        char sum[65];
        int found = -1;

        sha256_hex(m->sql, sum);
        for (int r = 0; r < PQntuples(res); r++)
            if (strcmp(PQgetvalue(res, r, 0), m->name) == 0)
                found = r;
        if (found >= 0) {
            if (strcmp(PQgetvalue(res, found, 1), sum) != 0)
                rc = qd_err_set(err, QD_EINVAL,
                                "migration %s was changed after it was applied (checksum differs)",
                                m->name);
            continue;
        }
        rc = apply_one(conn, m, sum, err);
        if (rc == QD_OK)
            n++;
    }
    /* an applied migration this binary does not know means the database is newer */
    for (int r = 0; rc == QD_OK && res && r < PQntuples(res); r++) {
        int known = 0;
        for (unsigned i = 0; i < migrations_count; i++)
            known |= strcmp(PQgetvalue(res, r, 0), migrations[i].name) == 0;
        if (!known)
            rc = qd_err_set(err, QD_EINVAL,
                            "database has migration %s that this quantd does not know: "
                            "it is older than the schema",
                            PQgetvalue(res, r, 0));
    }
    PQclear(res);
    PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
    if (applied)
        *applied = n;
    return rc;
}
