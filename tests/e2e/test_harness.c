/*
 * The e2e harness itself, without quantd: databases and SQL on the real test cluster, and the
 * daemon/HTTP side against a stand-in server. The stand-in is this very binary: started as
 * `test_harness serve --config FILE` (QUANTD_BIN=/proc/self/exe) it plays a minimal daemon on
 * QUANTD_LISTEN and writes an admin token to QUANTD_STATE_DIR.
 */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <check.h>
#include <jansson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the stand-in daemon ---- */

static volatile sig_atomic_t fake_stop;

static void
on_term(int sig)
{
    (void)sig;
    fake_stop = 1;
}

static void
send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void
reply(int fd, const char *status, const char *extra_headers, const char *ctype, const char *body)
{
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, ctype, strlen(body), extra_headers);

    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

/* One request per connection: the head (and a body up to Content-Length) into req. */
static size_t
read_request(int fd, char *req, size_t cap)
{
    size_t got = 0, need = 0;
    char *end;

    while (got + 1 < cap) {
        ssize_t n = read(fd, req + got, cap - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
        if ((end = strstr(req, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(req, "\r\nContent-Length:");
            need = (size_t)(end + 4 - req) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
            if (got >= need)
                break;
        }
    }
    req[got] = '\0';
    return got;
}

static int
fake_daemon(void)
{
    const char *listen_at = getenv("QUANTD_LISTEN"), *state = getenv("QUANTD_STATE_DIR");
    const char *mode = getenv("QT_FAKE_MODE");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sigaction act;
    char path[600], req[65536];
    int fd, one = 1, job_polls = 0;
    FILE *f;

    if (mode != NULL && strcmp(mode, "crash") == 0) {
        fprintf(stderr, "fake: refusing to start (database unreachable)\n");
        return 3;
    }
    if (listen_at == NULL || strchr(listen_at, ':') == NULL || state == NULL)
        return 2;
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_term;
    sigaction(SIGTERM, &act, NULL);
    sa.sin_port = htons((unsigned short)atoi(strchr(listen_at, ':') + 1));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
        perror("fake: bind");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/admin.token", state);
    if ((f = fopen(path, "w")) != NULL) {
        fputs("  qt_fake_token \n", f);
        fclose(f);
    }
    fprintf(stderr, "fake: listening on %s\n", listen_at);
    while (!fake_stop) {
        int c = accept(fd, NULL, NULL);
        if (c < 0)
            continue;
        read_request(c, req, sizeof(req));
        if (strncmp(req, "GET /v1/health ", 15) == 0) {
            reply(c, "200 OK", "", "application/json", "{\"status\":\"ok\"}");
        } else if (strncmp(req, "HEAD /v1/health ", 16) == 0) {
            const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 15\r\nConnection: close\r\n\r\n";
            send_all(c, h, strlen(h));
        } else if (strncmp(req, "GET /v1/jobs/7 ", 15) == 0) {
            reply(c, "200 OK", "", "application/json",
                  ++job_polls < 3 ? "{\"id\":7,\"status\":\"running\"}"
                                  : "{\"id\":7,\"status\":\"succeeded\"}");
        } else if (strncmp(req, "GET /events ", 12) == 0) {
            const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                            "Connection: close\r\n\r\n";
            send_all(c, h, strlen(h));
            h = "id: 1\nevent: progress\ndata: {}\n\nid: 2\nevent: done\ndata: {}\n\n";
            send_all(c, h, strlen(h));
        } else if (strncmp(req, "GET /hang ", 10) == 0) {
            const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                            "event: hello\n\n";
            send_all(c, h, strlen(h));
            sleep(1);
        } else if (strncmp(req, "GET /continue ", 14) == 0) {
            const char *h = "HTTP/1.1 100 Continue\r\nX-Only-Early: 1\r\nX-Which: early\r\n\r\n";
            send_all(c, h, strlen(h));
            reply(c, "200 OK", "X-Which:   final  \r\nx-which: second\r\n", "text/plain", "42");
        } else if (strncmp(req, "GET /number ", 12) == 0) {
            reply(c, "200 OK", "", "application/json", "42");
        } else {
            /* echo: the whole request back as text, 201 */
            reply(c, "201 Created", "X-Echo: yes\r\n", "text/plain", req);
        }
        close(c);
    }
    close(fd);
    return 0;
}

/* ---- PostgreSQL ---- */

START_TEST(test_pg_dir_absolute)
{
    ck_assert_ptr_nonnull(qt_pg_dir());
    ck_assert_int_eq(qt_pg_dir()[0], '/');
}
END_TEST

START_TEST(test_db_create_and_count)
{
    char ci[1024];

    ck_assert_int_eq(qt_db_create("qt_harness", ci, sizeof(ci)), 0);
    ck_assert_ptr_nonnull(strstr(ci, "dbname=qt_harness"));
    ck_assert_int_eq(qt_sql_exec(ci, "CREATE TABLE t (id bigint PRIMARY KEY, v text)"), 0);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT count(*) FROM t"), 0);
    ck_assert_int_eq(qt_sql_exec(ci, "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 25) g;"
                                     "INSERT INTO t VALUES (100, 'y')"),
                     0);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT count(*) FROM t"), 26);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT sum(id) FROM t WHERE id <= 25"), 325);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT current_database() = 'qt_harness'"), 1);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT 5000000000::bigint"), 5000000000LL);
    /* errors, no row, NULL, not a number */
    ck_assert_int_eq(qt_sql_int(ci, "SELECT count(*) FROM no_such_table"), -1);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT id FROM t WHERE id < 0"), -1);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT NULL::int"), -1);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT 'abc'"), -1);
    ck_assert_int_eq(qt_sql_exec(ci, "INSERT INTO t VALUES (1, 'dup')"), -1);
    ck_assert_int_eq(qt_sql_int("host=/nonexistent dbname=x user=quantd", "SELECT 1"), -1);
    ck_assert_int_eq(qt_sql_exec("host=/nonexistent dbname=x user=quantd", "SELECT 1"), -1);
}
END_TEST

START_TEST(test_db_recreate_is_empty)
{
    char ci[1024], ci2[1024];
    ck_assert_int_eq(qt_db_create("qt_harness_re", ci, sizeof(ci)), 0);
    ck_assert_int_eq(qt_sql_exec(ci, "CREATE TABLE keep (x int); INSERT INTO keep VALUES (1)"), 0);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT count(*) FROM keep"), 1);
    /* dropped WITH (FORCE) and made again: empty */
    ck_assert_int_eq(qt_db_create("qt_harness_re", ci2, sizeof(ci2)), 0);
    ck_assert_str_eq(ci, ci2);
    ck_assert_int_eq(qt_sql_int(ci2, "SELECT count(*) FROM pg_tables WHERE tablename = 'keep'"),
                     0);
    /* names are taken literally (quoted identifiers) */
    ck_assert_int_eq(qt_db_create("qt_Harness Mixed", ci, sizeof(ci)), 0);
    ck_assert_int_eq(qt_sql_int(ci, "SELECT current_database() = 'qt_Harness Mixed'"), 1);
    ck_assert_int_eq(qt_sql_exec(ci2, "DROP DATABASE \"qt_Harness Mixed\""), 0);
    ck_assert_int_eq(qt_db_create("", ci, sizeof(ci)), -1);
    ck_assert_int_eq(qt_db_create("qt_harness_small", ci, 10), -1);
}
END_TEST

/* ---- daemon and HTTP against the stand-in ---- */

static struct qt_daemon fd_;

static void
use_fake(const char *mode)
{
    static char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    ck_assert_int_gt(n, 0);
    self[n] = '\0';
    setenv("QUANTD_BIN", self, 1);
    if (mode)
        setenv("QT_FAKE_MODE", mode, 1);
    else
        unsetenv("QT_FAKE_MODE");
}

START_TEST(test_daemon_lifecycle)
{
    struct qt_resp r;
    struct stat st;
    int status = -1;
    char path[700], buf[64] = "";
    FILE *f;

    use_fake(NULL);
    ck_assert_int_eq(qt_daemon_start(&fd_, "host=/nowhere dbname=x user=quantd",
                                     "{\"jobs\":{\"workers\":1}}"),
                     0);
    ck_assert_int_gt(fd_.pid, 0);
    ck_assert_int_gt(fd_.port, 0);
    ck_assert_str_eq(fd_.token, "qt_fake_token");
    ck_assert_ptr_nonnull(strstr(fd_.state_dir, "/build/e2e-state/"));
    ck_assert_int_eq(stat(fd_.state_dir, &st), 0);
    ck_assert_str_eq(fd_.conninfo, "host=/nowhere dbname=x user=quantd");
    snprintf(path, sizeof(path), "%s/quantd.json", fd_.state_dir);
    ck_assert_str_eq(path, fd_.config_path);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
    fclose(f);
    ck_assert_str_eq(buf, "{\"jobs\":{\"workers\":1}}");

    ck_assert_int_eq(qt_get(&fd_, "/v1/health", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(r.json);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "ok");
    qt_resp_free(&r);
    qt_resp_free(&r); /* idempotent */

    /* SIGTERM: clean exit; restart on the same port and state */
    ck_assert_int_eq(qt_daemon_signal_wait(&fd_, SIGTERM, 5000, &status), 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(fd_.pid, 0);
    ck_assert_int_ne(qt_get(&fd_, "/v1/health", &r), 0);
    {
        int port = fd_.port;
        ck_assert_int_eq(qt_daemon_restart(&fd_), 0);
        ck_assert_int_eq(fd_.port, port);
    }
    ck_assert_int_eq(qt_daemon_restart(&fd_), -1); /* still running */
    ck_assert_int_eq(qt_get(&fd_, "/v1/health", &r), 0);
    ck_assert_int_eq(r.status, 200);
    qt_resp_free(&r);
    qt_daemon_kill9(&fd_);
    ck_assert_int_eq(fd_.pid, 0);
    qt_daemon_kill9(&fd_); /* idempotent */
    ck_assert_int_eq(qt_daemon_signal_wait(&fd_, SIGTERM, 100, &status), -1);
}
END_TEST

START_TEST(test_daemon_start_failure)
{
    struct qt_daemon d;

    use_fake("crash");
    ck_assert_int_eq(qt_daemon_start(&d, "host=/nowhere dbname=x user=quantd", NULL), -1);
    ck_assert_int_eq(d.pid, 0);
    setenv("QUANTD_BIN", "/nonexistent/quantd", 1);
    ck_assert_int_eq(qt_daemon_start(&d, "host=/nowhere dbname=x user=quantd", NULL), -1);
    ck_assert_int_eq(d.pid, 0);
}
END_TEST

START_TEST(test_http)
{
    struct qt_resp r;
    char *out = NULL;
    size_t len = 0;
    const char *extra[] = {"X-Custom: abc", NULL};
    json_t *job;

    use_fake(NULL);
    ck_assert_int_eq(qt_daemon_start(&fd_, "host=/nowhere dbname=x user=quantd", NULL), 0);

    /* request shape: method, auth, content type, body */
    ck_assert_int_eq(qt_post_json(&fd_, "/echo", "{\"a\":1}", &r), 0);
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "POST /echo HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "Authorization: Bearer qt_fake_token\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "Content-Type: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\n\r\n{\"a\":1}"));
    ck_assert_ptr_null(r.json); /* text, not JSON */
    ck_assert_str_eq(qt_header(&r, "x-echo"), "yes");
    ck_assert_str_eq(qt_header(&r, "CONTENT-TYPE"), "text/plain");
    ck_assert_ptr_null(qt_header(&r, "X-Ech"));
    ck_assert_ptr_null(qt_header(&r, "Nope"));
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http_ex(&fd_, "DELETE", "/echo", NULL, NULL, NULL, 0, extra, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "DELETE /echo HTTP/1.1\r\n"));
    ck_assert_ptr_null(strcasestr(r.body, "Authorization:"));
    ck_assert_ptr_null(strcasestr(r.body, "Content-Type:"));
    ck_assert_ptr_nonnull(strstr(r.body, "X-Custom: abc\r\n"));
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http(&fd_, "POST", "/echo", "t2", NULL, NULL, 0, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "Authorization: Bearer t2\r\n"));
    ck_assert_ptr_nonnull(strcasestr(r.body, "Content-Length: 0\r\n"));
    ck_assert_ptr_null(strcasestr(r.body, "Content-Type:"));
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http(&fd_, "PUT", "/echo", "t", "text/csv", "a,b\n1,2\n", 8, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "PUT /echo HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "Content-Type: text/csv\r\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\r\n\r\na,b\n1,2\n"));
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http(&fd_, "HEAD", "/v1/health", NULL, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_str_eq(r.body, "");
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http_accept(&fd_, "/echo", "text/csv", &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "Accept: text/csv\r\n"));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http_origin(&fd_, "/echo", "http://dash.example", &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "Origin: http://dash.example\r\n"));
    qt_resp_free(&r);

    /* headers: the final block only, first occurrence, trimmed; values stay valid together */
    ck_assert_int_eq(qt_get(&fd_, "/continue", &r), 0);
    ck_assert_int_eq(r.status, 200);
    {
        const char *a = qt_header(&r, "X-Which"), *b = qt_header(&r, "content-length");
        ck_assert_str_eq(a, "final");
        ck_assert_str_eq(b, "2");
    }
    ck_assert_ptr_null(qt_header(&r, "X-Only-Early"));
    ck_assert_ptr_null(r.json); /* "42" as text/plain is not taken as JSON */
    ck_assert_ptr_nonnull(strstr(r.headers, "HTTP/1.1 200"));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&fd_, "/number", &r), 0);
    ck_assert_ptr_nonnull(r.json);
    ck_assert_int_eq(json_integer_value(r.json), 42);
    qt_resp_free(&r);

    /* jobs and event streams */
    job = qt_wait_job(&fd_, 7, 10000);
    ck_assert_ptr_nonnull(job);
    ck_assert_str_eq(json_string_value(json_object_get(job, "status")), "succeeded");
    json_decref(job);
    ck_assert_ptr_null(qt_wait_job(&fd_, 8, 300)); /* never finishes */

    ck_assert_int_eq(qt_sse_read(&fd_, "/events", 5000, &out, &len), 0);
    ck_assert_uint_eq(len, strlen(out));
    ck_assert_ptr_nonnull(strstr(out, "id: 1\nevent: progress\n"));
    ck_assert_ptr_nonnull(strstr(out, "event: done\n"));
    free(out);
    ck_assert_int_eq(qt_sse_read(&fd_, "/hang", 500, &out, &len), 0); /* time runs out */
    ck_assert_ptr_nonnull(strstr(out, "event: hello"));
    free(out);
    ck_assert_int_eq(qt_sse_read(&fd_, "/echo", 2000, &out, &len), 0);
    ck_assert_ptr_nonnull(strstr(out, "Accept: text/event-stream\r\n"));
    free(out);

    /* a dead daemon: no answer, and qt_wait_job gives up at once */
    qt_daemon_kill9(&fd_);
    ck_assert_int_eq(qt_get(&fd_, "/v1/health", &r), -1);
    ck_assert_ptr_null(r.body);
    ck_assert_int_eq(qt_sse_read(&fd_, "/events", 1000, &out, &len), -1);
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

static Suite *
harness_suite(void)
{
    Suite *s = suite_create("harness");
    TCase *pg = tcase_create("pg"), *http = tcase_create("daemon_http");

    tcase_add_test(pg, test_pg_dir_absolute);
    tcase_add_test(pg, test_db_create_and_count);
    tcase_add_test(pg, test_db_recreate_is_empty);
    tcase_set_timeout(pg, 30);
    suite_add_tcase(s, pg);
    tcase_add_test(http, test_daemon_lifecycle);
    tcase_add_test(http, test_daemon_start_failure);
    tcase_add_test(http, test_http);
    tcase_set_timeout(http, 30);
    suite_add_tcase(s, http);
    return s;
}

int
main(int argc, char **argv)
{
    SRunner *sr;
    int failed;

    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return fake_daemon();
    sr = srunner_create(harness_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
