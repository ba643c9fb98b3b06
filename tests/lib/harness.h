#ifndef TESTS_LIB_HARNESS_H
#define TESTS_LIB_HARNESS_H

/*
 * End-to-end test harness: databases on the private test cluster (tests/e2e/run.sh starts it
 * with scripts/pg.sh and exports QUANTD_TEST_PG_DIR), the real daemon (QUANTD_BIN, default
 * build/quantd) started on a free loopback port, and HTTP through libcurl. Paths are relative
 * to the repository root (the tests' working directory). For the test process only; not
 * thread-safe. Every daemon is killed (SIGKILL) when the process that started it dies, so a
 * failing or timed-out test never leaves one behind.
 */

#include <jansson.h>

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct qt_daemon {
    pid_t pid;                      /* 0 when not running */
    int   port;
    char  url[64];                  /* http://127.0.0.1:<port> */
    char  token[256];               /* the bootstrap admin token ("" when none was written) */
    char  state_dir[512];           /* build/e2e-state/<prog>-<pid>-<n>, absolute */
    char  conninfo[512];
    char  log_path[600];            /* <state_dir>/quantd.log (stdout and stderr, appended) */
    char  config_path[600];         /* <state_dir>/quantd.json */
};

struct qt_resp {
    long    status;                 /* HTTP status */
    char   *body;                   /* NUL-terminated (also when empty) */
    size_t  len;
    char   *headers;                /* raw header block(s), NUL-terminated */
    json_t *json;                   /* NULL when the body is not JSON */
};

/* The test cluster's directory: $QUANTD_TEST_PG_DIR, else <cwd>/var/pg-test. */
const char *qt_pg_dir(void);
/* Drops (WITH (FORCE)) and creates database name on the test cluster, connecting to database
 * quantd; writes the new database's conninfo. 0 or -1. */
int qt_db_create(const char *name, char *conninfo, size_t n);

/* Fresh state dir, config_json (NULL = "{}") written to <state>/quantd.json, free loopback
 * port, `$QUANTD_BIN serve --config <state>/quantd.json` with QUANTD_LISTEN,
 * QUANTD_DATABASE_URL=conninfo and QUANTD_STATE_DIR; waits until GET /v1/health answers 200
 * (30 s, or $QT_START_TIMEOUT_S), then reads <state>/admin.token into d->token. 0 or -1 (the
 * log tail is printed and the process killed). */
int qt_daemon_start(struct qt_daemon *d, const char *conninfo, const char *config_json);
/* Starts a stopped daemon again with the same state dir, port, config and conninfo. */
int qt_daemon_restart(struct qt_daemon *d);
/* Sends sig and waits up to timeout_ms for the daemon to exit; *status (may be NULL) gets the
 * wait status. 0 when it exited in time; otherwise it is killed with SIGKILL and -1 returned.
 * Only the process that started the daemon can wait for it. */
int qt_daemon_signal_wait(struct qt_daemon *d, int sig, int timeout_ms, int *status);
void qt_daemon_kill9(struct qt_daemon *d);

/* One request to d (loopback, no proxy, 30 s timeout). token NULL: no Authorization header;
 * content_type NULL: none; body NULL: none (POST/PUT/PATCH then send an empty body). extra:
 * NULL-terminated list of "Name: value" headers, or NULL. 0 when an HTTP answer came back
 * (whatever its status), -1 otherwise; on 0 release r with qt_resp_free. */
int qt_http_ex(struct qt_daemon *d, const char *method, const char *path, const char *token,
               const char *content_type, const char *body, size_t len,
               const char *const *extra, struct qt_resp *r);
int qt_http(struct qt_daemon *d, const char *method, const char *path, const char *token,
            const char *content_type, const char *body, size_t len, struct qt_resp *r);
/* GET / POST (application/json) with d->token (no Authorization when d->token is empty). */
int qt_get(struct qt_daemon *d, const char *path, struct qt_resp *r);
int qt_post_json(struct qt_daemon *d, const char *path, const char *json, struct qt_resp *r);
/* GET with d->token and an Accept / Origin header. */
int qt_http_accept(struct qt_daemon *d, const char *path, const char *accept, struct qt_resp *r);
int qt_http_origin(struct qt_daemon *d, const char *path, const char *origin, struct qt_resp *r);
/* Value of the first header called name (case-insensitive) in the final response's header
 * block, trimmed, or NULL. Points into r: valid until qt_resp_free. */
const char *qt_header(const struct qt_resp *r, const char *name);
/* Frees and zeroes r; safe on a zeroed or already freed qt_resp. */
void qt_resp_free(struct qt_resp *r);

/* First column of the first row as an integer (t/f as 1/0); -1 on error, no row or NULL. */
long long qt_sql_int(const char *conninfo, const char *sql);
/* Runs sql (may hold several statements); 0 or -1. */
int qt_sql_exec(const char *conninfo, const char *sql);

/* Polls GET /v1/jobs/{id} until its status is succeeded, failed or cancelled; returns the job
 * JSON (json_decref it) or NULL on timeout or when the daemon died. */
json_t *qt_wait_job(struct qt_daemon *d, long long id, int timeout_ms);
/* GET path with Accept: text/event-stream and d->token; collects the body until the server
 * closes the stream or max_ms passes. *out (always set, NUL-terminated; free it) and *len.
 * 0 when the server answered (any status) or the time ran out, -1 when it could not connect. */
int qt_sse_read(struct qt_daemon *d, const char *path, int max_ms, char **out, size_t *len);

#endif
