#ifndef TESTS_LIB_HARNESS_H
#define TESTS_LIB_HARNESS_H

/*
 * End-to-end test harness: databases on the private test cluster (tests/e2e/run.sh starts it
 * and exports QUANTD_TEST_PG_DIR), the real daemon started on a free loopback port, and HTTP
 * through libcurl. Test process only; not thread-safe.
 */

#include <jansson.h>

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct qt_daemon {
    pid_t pid;
    int   port;
    char  url[64];
    char  token[256];               /* the bootstrap admin token */
    char  state_dir[512];
    char  conninfo[512];
    char  log_path[600];
    char  config_path[600];
};

struct qt_resp {
    long    status;
    char   *body;                   /* NUL-terminated */
    size_t  len;
    char   *headers;                /* raw header block */
    json_t *json;                   /* NULL when the body is not JSON */
};

const char *qt_pg_dir(void);
/* Drops and creates database name on the test cluster; writes its conninfo. 0 or -1. */
int qt_db_create(const char *name, char *conninfo, size_t n);

/* Starts `quantd serve` with config_json (NULL = "{}") and waits for /v1/health 200. */
int qt_daemon_start(struct qt_daemon *d, const char *conninfo, const char *config_json);
int qt_daemon_restart(struct qt_daemon *d);
/* Sends sig and waits up to timeout_ms; *status gets the wait status. 0 when it exited. */
int qt_daemon_signal_wait(struct qt_daemon *d, int sig, int timeout_ms, int *status);
void qt_daemon_kill9(struct qt_daemon *d);

/* One request. token NULL: no Authorization; content_type NULL: none. extra: NULL-terminated
 * list of "Name: value" headers or NULL. 0 when an HTTP answer came back. */
int qt_http_ex(struct qt_daemon *d, const char *method, const char *path, const char *token,
               const char *content_type, const char *body, size_t len,
               const char *const *extra, struct qt_resp *r);
int qt_http(struct qt_daemon *d, const char *method, const char *path, const char *token,
            const char *content_type, const char *body, size_t len, struct qt_resp *r);
int qt_get(struct qt_daemon *d, const char *path, struct qt_resp *r);
int qt_post_json(struct qt_daemon *d, const char *path, const char *json, struct qt_resp *r);
int qt_http_accept(struct qt_daemon *d, const char *path, const char *accept, struct qt_resp *r);
int qt_http_origin(struct qt_daemon *d, const char *path, const char *origin, struct qt_resp *r);
/* Header value (case-insensitive name) or NULL; valid until qt_resp_free. */
const char *qt_header(const struct qt_resp *r, const char *name);
void qt_resp_free(struct qt_resp *r);

long long qt_sql_int(const char *conninfo, const char *sql);
int qt_sql_exec(const char *conninfo, const char *sql);

/* Polls the job until it is succeeded, failed or cancelled; NULL on timeout. */
json_t *qt_wait_job(struct qt_daemon *d, long long id, int timeout_ms);
/* Reads an event stream until the server closes it or max_ms passes. */
int qt_sse_read(struct qt_daemon *d, const char *path, int max_ms, char **out, size_t *len);

#endif
