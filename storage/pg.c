/* libpq helpers. Worker threads; each PGconn is used by one thread at a time. */
#include "storage/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PGconn *
pg_connect(const char *conninfo, const char *app_name, unsigned statement_timeout_ms,
           struct qd_err *err)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", "keepalives",
                          "keepalives_idle", "options", NULL};
    char opts[192];
    const char *vals[7];
    PGconn *c;

    snprintf(opts, sizeof(opts),
             "-c timezone=UTC -c client_min_messages=warning -c statement_timeout=%u "
             "-c idle_in_transaction_session_timeout=%u",
             statement_timeout_ms, statement_timeout_ms ? statement_timeout_ms * 2 : 600000);
    vals[0] = conninfo;             /* expand_dbname: a URL or key=value string */
    vals[1] = app_name;
    vals[2] = "5";
    vals[3] = "1";
    vals[4] = "30";
    vals[5] = opts;
    vals[6] = NULL;
    c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL) {
        qd_err_set(err, QD_ENOMEM, "could not allocate a database connection");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        qd_err_set(err, QD_EDB_RETRY, "could not connect to the database: %s", msg);
        PQfinish(c);
        return NULL;
    }
    PQsetErrorVerbosity(c, PQERRORS_TERSE);
    return c;
}

bool
pg_lost(PGconn *conn)
{
    return conn == NULL || PQstatus(conn) == CONNECTION_BAD;
}

enum qd_code
pg_check(PGconn *conn, const PGresult *res, ExecStatusType want, struct qd_err *err)
{
    const char *state, *msg;
    char text[200];
    enum qd_code code = QD_EDB;

    if (res != NULL && PQresultStatus(res) == want)
        return QD_OK;
    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg == NULL)
        msg = PQerrorMessage(conn);
    snprintf(text, sizeof(text), "%s", msg ? msg : "unknown error");
    text[strcspn(text, "\n")] = '\0';
    if (pg_lost(conn))
        code = QD_EDB_RETRY;
    else if (state != NULL) {
        if (strcmp(state, "23505") == 0)
            code = QD_ECONFLICT;
        else if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
            code = QD_EINVAL;
        else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                 strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0)
            code = QD_EDB_RETRY;
        else if (strcmp(state, "57014") == 0)
            code = QD_ETIMEOUT;
    }
    return qd_err_set(err, code, "database: %s", text);
}

enum qd_code
pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
        ExecStatusType want, PGresult **out, struct qd_err *err)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    enum qd_code rc = pg_check(conn, res, want, err);

    if (out != NULL && rc == QD_OK)
        *out = res;
    else
        PQclear(res);
    return rc;
}

void
pg_conninfo_redact(const char *conninfo, char *out, size_t outlen)
{
    const char *p = strstr(conninfo, "password=");
    const char *at = strchr(conninfo, '@');
    const char *scheme = strstr(conninfo, "://");

    if (p != NULL) {
        const char *end = strchr(p, ' ');
        snprintf(out, outlen, "%.*spassword=***%s", (int)(p - conninfo), conninfo,
                 end ? end : "");
    } else if (scheme != NULL && at != NULL && at > scheme) {
        const char *colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
        if (colon != NULL)
            snprintf(out, outlen, "%.*s:***%s", (int)(colon - conninfo), conninfo, at);
        else
            snprintf(out, outlen, "%s", conninfo);
    } else {
        snprintf(out, outlen, "%s", conninfo);
    }
}

enum qd_code
pg_copy_in(PGconn *conn, const char *copy_sql, const char *data, size_t len, struct qd_err *err)
{
    PGresult *res = PQexec(conn, copy_sql);
    enum qd_code rc = pg_check(conn, res, PGRES_COPY_IN, err);

    PQclear(res);
    if (rc != QD_OK)
        return rc;
    if (PQputCopyData(conn, data ? data : "", (int)len) != 1 || PQputCopyEnd(conn, NULL) != 1)
        rc = qd_err_set(err, QD_EDB_RETRY, "database: COPY failed: %s", PQerrorMessage(conn));
    while ((res = PQgetResult(conn)) != NULL) {
        if (rc == QD_OK)
            rc = pg_check(conn, res, PGRES_COMMAND_OK, err);
        PQclear(res);
    }
    return rc;
}

enum qd_code
pg_one_text(PGconn *conn, const char *sql, int nparams, const char *const *params, char **out,
            const char *notfound, struct qd_err *err)
{
    PGresult *res;
    enum qd_code rc = pg_exec(conn, sql, nparams, params, PGRES_TUPLES_OK, &res, err);

    *out = NULL;
    if (rc != QD_OK)
        return rc;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        rc = qd_err_set(err, QD_ENOTFOUND, "%s", notfound);
    else if ((*out = strdup(PQgetvalue(res, 0, 0))) == NULL)
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
    PQclear(res);
    return rc;
}

enum qd_code
pg_end(PGconn *conn, enum qd_code rc, struct qd_err *err)
{
    if (rc == QD_OK)
        return pg_exec(conn, "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    PQclear(PQexec(conn, "ROLLBACK"));
    return rc;
}

enum qd_code
pg_candidate_walk(PGconn *conn, const char *sql, int nparams, const char *const *params,
                  char *cand, size_t cand_n, unsigned long long want, char **json,
                  struct qd_err *err)
{
    enum qd_code rc = pg_exec(conn, "BEGIN READ ONLY", 0, NULL, PGRES_COMMAND_OK, NULL, err);

    *json = NULL;
    for (unsigned long long n = want * 4 < 1024 ? 1024 : want * 4; rc == QD_OK; n *= 4) {
        PGresult *res;
        snprintf(cand, cand_n, "%llu", n);
        if ((rc = pg_exec(conn, sql, nparams, params, PGRES_TUPLES_OK, &res, err)) != QD_OK)
            break;
        if (strcmp(PQgetvalue(res, 0, 1), "t") != 0 || n > (1ULL << 40)) {
            if ((*json = strdup(PQgetvalue(res, 0, 0))) == NULL)
                rc = qd_err_set(err, QD_ENOMEM, "out of memory");
            PQclear(res);
            break;
        }
        PQclear(res);
    }
    rc = pg_end(conn, rc, err);
    if (rc != QD_OK) {
        free(*json);
        *json = NULL;
    }
    return rc;
}
