/*
 * End-to-end: the quantd command line (version, routes, check-config, migrate, token create and
 * revoke), systemd notifications over a real NOTIFY_SOCKET, and SIGHUP reload.
 */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <check.h>
#include <jansson.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *
bin(void)
{
    const char *b = getenv("QUANTD_BIN");

    return b ? b : "build/quantd";
}

/* Runs a shell command line; returns its exit status and its first output line in out. */
static int
run(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    int st;

    ck_assert_ptr_nonnull(p);
    out[0] = '\0';
    if (fgets(out, (int)n, p) != NULL)
        out[strcspn(out, "\n")] = '\0';
    while (fgetc(p) != EOF)
        ;
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(version_routes_check_config)
{
    char cmd[512], out[512];

    snprintf(cmd, sizeof(cmd), "%s version", bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 0);
    ck_assert_ptr_nonnull(strstr(out, "quantd 0."));
    snprintf(cmd, sizeof(cmd), "%s routes | grep -c '/v1/'", bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 0);
    ck_assert_int_ge(atoi(out), 10);
    snprintf(cmd, sizeof(cmd), "%s check-config --config systemd/quantd.json.example", bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "configuration ok");
    snprintf(cmd, sizeof(cmd),
             "echo '{\"server\": {\"nope\": 1}}' > build/bad.json && %s check-config --config "
             "build/bad.json 2>&1",
             bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 2);
    ck_assert_ptr_nonnull(strstr(out, "server.nope"));
    snprintf(cmd, sizeof(cmd),
             "QUANTD_DATABASE_URL='host=/x password=hunter2' %s check-config --dump "
             "--config systemd/quantd.json.example | grep -c hunter2",
             bin());
    run(cmd, out, sizeof(out));
    ck_assert_str_eq(out, "0");                         /* the secret is masked */
    snprintf(cmd, sizeof(cmd), "%s frobnicate 2>&1", bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 2);
}
END_TEST

START_TEST(migrate_concurrently_and_tokens)
{
    char info[512], cmd[2048], out[512], secret[128];
    struct qt_daemon d;
    struct qt_resp r;

    ck_assert_int_eq(qt_db_create("e2e_cli", info, sizeof(info)), 0);
    /* two migrations at once: the advisory lock serialises them and both succeed */
    snprintf(cmd, sizeof(cmd),
             "QUANTD_DATABASE_URL='%s' %s migrate 2>/dev/null & QUANTD_DATABASE_URL='%s' %s "
             "migrate 2>/dev/null; a=$?; wait $!; b=$?; echo $a$b",
             info, bin(), info, bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "00");
    /* every embedded migration applied exactly once */
    ck_assert_int_eq(run("ls storage/migrations/*.sql | wc -l", out, sizeof(out)), 0);
    ck_assert_int_eq(qt_sql_int(info, "SELECT count(*) FROM schema_migrations"), atoi(out));

    snprintf(cmd, sizeof(cmd),
             "QUANTD_DATABASE_URL='%s' %s token create --name cli --scope read,research", info,
             bin());
    ck_assert_int_eq(run(cmd, secret, sizeof(secret)), 0);
    ck_assert_int_eq((int)strlen(secret), 67);
    ck_assert(strncmp(secret, "qd_", 3) == 0);
    snprintf(cmd, sizeof(cmd),
             "QUANTD_DATABASE_URL='%s' %s token create --name cli --scope read 2>&1", info, bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 1);    /* the name is taken */
    snprintf(cmd, sizeof(cmd),
             "QUANTD_DATABASE_URL='%s' %s token create --name x --scope god 2>&1", info, bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 1);
    ck_assert_ptr_nonnull(strstr(out, "god"));

    /* a token exists, so the daemon does not bootstrap one; the CLI token works */
    ck_assert_int_eq(qt_daemon_start(&d, info, NULL), 0);
    ck_assert_str_eq(d.token, "");
    ck_assert_int_eq(qt_http(&d, "GET", "/v1/jobs", secret, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    qt_resp_free(&r);
    snprintf(cmd, sizeof(cmd), "QUANTD_DATABASE_URL='%s' %s token revoke --name cli", info,
             bin());
    ck_assert_int_eq(run(cmd, out, sizeof(out)), 0);
    /* revoked in the database: this daemon notices when its 5 s cache entry expires */
    {
        long st = 200;
        for (int i = 0; i < 80 && st == 200; i++) {
            usleep(100000);
            ck_assert_int_eq(qt_http(&d, "GET", "/v1/jobs", secret, NULL, NULL, 0, &r), 0);
            st = r.status;
            qt_resp_free(&r);
        }
        ck_assert_int_eq(st, 401);
    }
    {
        int status;
        ck_assert_int_eq(qt_daemon_signal_wait(&d, SIGTERM, 20000, &status), 0);
    }
}
END_TEST

/* A datagram socket standing in for systemd's notification socket. */
static int
notify_socket(char *path, size_t n)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    snprintf(path, n, "/tmp/quantd-notify-%d", (int)getpid());
    unlink(path);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Collects datagrams for up to ms into buf (appended, newline-separated). */
static void
collect(int fd, char *buf, size_t n, int ms)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    struct timespec start, now;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        size_t at = strlen(buf);
        ssize_t got;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > ms)
            return;
        if (at + 2 >= n)
            return;
        got = recv(fd, buf + at, n - at - 2, 0);
        if (got > 0) {
            buf[at + (size_t)got] = '\n';
            buf[at + (size_t)got + 1] = '\0';
        }
    }
}

START_TEST(sd_notify_and_sighup)
{
    char info[512], path[108], msgs[8192] = "";
    struct qt_daemon d;
    struct qt_resp r;
    int fd = notify_socket(path, sizeof(path)), status, limited = 0;

    ck_assert_int_eq(qt_db_create("e2e_notify", info, sizeof(info)), 0);
    setenv("NOTIFY_SOCKET", path, 1);
    setenv("WATCHDOG_USEC", "400000", 1);               /* ping every 200 ms */
    ck_assert_int_eq(qt_daemon_start(&d, info, "{\"server\": {\"log_level\": \"info\"}}"), 0);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    collect(fd, msgs, sizeof(msgs), 700);
    ck_assert_msg(strstr(msgs, "READY=1") != NULL, "got: %s", msgs);
    ck_assert_ptr_nonnull(strstr(msgs, "STATUS=serving on 127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(msgs, "WATCHDOG=1"));

    /* SIGHUP: a tighter rate limit applies without a restart */
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(qt_get(&d, "/v1/jobs", &r), 0);
        ck_assert_int_eq(r.status, 200);
        qt_resp_free(&r);
    }
    {
        FILE *f = fopen(d.config_path, "w");
        fputs("{\"server\": {\"rate_limit_per_second\": 1, \"rate_limit_burst\": 2}}", f);
        fclose(f);
    }
    msgs[0] = '\0';
    kill(d.pid, SIGHUP);
    collect(fd, msgs, sizeof(msgs), 500);
    ck_assert_msg(strstr(msgs, "RELOADING=1") != NULL, "got: %s", msgs);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(qt_get(&d, "/v1/jobs", &r), 0);
        limited += r.status == 429;
        qt_resp_free(&r);
    }
    ck_assert_int_ge(limited, 5);
    /* a broken file on SIGHUP keeps the running configuration and the daemon up */
    {
        FILE *f = fopen(d.config_path, "w");
        fputs("{\"server\": {", f);
        fclose(f);
    }
    kill(d.pid, SIGHUP);
    usleep(300000);
    ck_assert_int_eq(qt_http(&d, "GET", "/v1/health", NULL, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    qt_resp_free(&r);

    msgs[0] = '\0';
    ck_assert_int_eq(qt_daemon_signal_wait(&d, SIGTERM, 20000, &status), 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    collect(fd, msgs, sizeof(msgs), 300);
    ck_assert_msg(strstr(msgs, "STOPPING=1") != NULL, "got: %s", msgs);
    close(fd);
    unlink(path);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, version_routes_check_config);
    tcase_add_test(tc, migrate_concurrently_and_tokens);
    tcase_add_test(tc, sd_notify_and_sighup);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
