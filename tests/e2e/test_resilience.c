/*
 * End-to-end resilience: PostgreSQL going away and coming back, kill -9 in the middle of a
 * job, SIGTERM. The PostgreSQL restart uses its own cluster (var/pg-restart) so that stopping
 * it cannot disturb other tests.
 */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <check.h>
#include <jansson.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int
pg_ctl(const char *verb, const char *dir)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "sh scripts/pg.sh %s %s >/dev/null 2>&1", verb, dir);
    return system(cmd);
}

static int
pg_url_db(const char *dir, const char *db, char *out, size_t n)
{
    char cmd[512];
    FILE *p;

    snprintf(cmd, sizeof(cmd), "sh scripts/pg.sh url %s %s", dir, db);
    p = popen(cmd, "r");
    if (p == NULL || fgets(out, (int)n, p) == NULL) {
        if (p)
            pclose(p);
        return -1;
    }
    out[strcspn(out, "\n")] = '\0';
    return pclose(p) == 0 ? 0 : -1;
}

static int
pg_url(const char *dir, char *out, size_t n)
{
    return pg_url_db(dir, "quantd", out, n);
}

static long
health(struct qt_daemon *d)
{
    struct qt_resp r;
    long st;

    if (qt_http(d, "GET", "/v1/health", NULL, NULL, NULL, 0, &r) != 0)
        return -1;
    st = r.status;
    qt_resp_free(&r);
    return st;
}

/* Queues ingest_equity for nsym symbols PREFIX00.. over 1995-2024 and waits until at least
 * min_symbols of them have bars, so the job is mid-way. Returns the job id. */
static long long
submit_long_ingest(struct qt_daemon *d, const char *info, const char *prefix, int nsym,
                   int min_symbols)
{
    struct qt_resp r;
    char body[4096], sql[96];
    size_t at = 0;
    long long id;
    bool running = false;

    at += (size_t)snprintf(body + at, sizeof(body) - at,
                           "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[");
    for (int i = 0; i < nsym; i++)
        at += (size_t)snprintf(body + at, sizeof(body) - at, "%s\"%s%02d\"", i ? "," : "",
                               prefix, i);
    snprintf(body + at, sizeof(body) - at,
             "],\"start_date\":\"1995-01-01\",\"end_date\":\"2024-12-31\"}}");
    ck_assert_int_eq(qt_post_json(d, "/v1/jobs", body, &r), 0);
    ck_assert_int_eq(r.status, 202);
    id = json_integer_value(json_object_get(r.json, "id"));
    qt_resp_free(&r);
    snprintf(sql, sizeof(sql), "SELECT (count(DISTINCT symbol) >= %d)::int FROM bars", min_symbols);
    for (int i = 0; i < 500 && !running; i++) {
        usleep(20000);
        running = qt_sql_int(info, sql) == 1;
    }
    ck_assert_msg(running, "the job wrote %d symbols in time", min_symbols);
    return id;
}

/* Business days 1995-01-01..2024-12-31: the rows per symbol of submit_long_ingest. */
static long long
long_ingest_rows(const char *info)
{
    return qt_sql_int(info, "SELECT count(*) FROM generate_series('1995-01-01'::date, "
                            "'2024-12-31'::date, '1 day') g WHERE extract(isodow FROM g) < 6");
}

START_TEST(postgres_restart)
{
    struct qt_daemon d;
    char info[512];
    long st = 0;
    int status;

    ck_assert_int_eq(pg_ctl("start", "var/pg-restart"), 0);
    ck_assert_int_eq(pg_url("var/pg-restart", info, sizeof(info)), 0);
    /* a fresh database each run, so the daemon bootstraps its admin token */
    ck_assert_int_eq(qt_sql_exec(info, "DROP DATABASE IF EXISTS restart_test WITH (FORCE)"), 0);
    ck_assert_int_eq(qt_sql_exec(info, "CREATE DATABASE restart_test"), 0);
    ck_assert_int_eq(pg_url_db("var/pg-restart", "restart_test", info, sizeof(info)), 0);
    ck_assert_int_eq(qt_daemon_start(&d, info, "{\"storage\": {\"pool_size\": 2}}"), 0);
    ck_assert_int_eq(health(&d), 200);

    ck_assert_int_eq(pg_ctl("stop", "var/pg-restart"), 0);
    for (int i = 0; i < 50 && st != 503; i++) {
        st = health(&d);
        usleep(100000);
    }
    ck_assert_int_eq(st, 503);
    /* the daemon stays up and answers other requests with a clean 503/JSON */
    {
        struct qt_resp r;
        ck_assert_int_eq(qt_get(&d, "/v1/jobs", &r), 0);
        ck_assert_msg(r.status == 503 || r.status == 200, "status %ld", r.status);
        if (r.status == 503)
            ck_assert_ptr_nonnull(json_object_get(r.json, "error"));
        qt_resp_free(&r);
    }
    ck_assert_int_eq(kill(d.pid, 0), 0);

    ck_assert_int_eq(pg_ctl("start", "var/pg-restart"), 0);
    st = 0;
    for (int i = 0; i < 100 && st != 200; i++) {
        st = health(&d);
        usleep(100000);
    }
    ck_assert_int_eq(st, 200);
    /* and a job runs again: the workers reconnected too */
    {
        struct qt_resp r;
        json_t *done;
        ck_assert_int_eq(qt_post_json(&d, "/v1/jobs",
                                      "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":"
                                      "[\"RST\"],\"start_date\":\"2020-01-01\","
                                      "\"end_date\":\"2020-03-31\"}}",
                                      &r), 0);
        ck_assert_int_eq(r.status, 202);
        done = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 30000);
        qt_resp_free(&r);
        ck_assert_ptr_nonnull(done);
        ck_assert_str_eq(json_string_value(json_object_get(done, "status")), "succeeded");
        json_decref(done);
    }
    ck_assert_int_eq(qt_daemon_signal_wait(&d, SIGTERM, 20000, &status), 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(kill9_during_job)
{
    struct qt_daemon d;
    char info[512];
    long long id, expected;
    json_t *done;
    int status;

    ck_assert_int_eq(qt_db_create("e2e_kill9", info, sizeof(info)), 0);
    ck_assert_int_eq(qt_daemon_start(&d, info, "{\"jobs\": {\"workers\": 1, \"lease_seconds\": 2, "
                                               "\"heartbeat_ms\": 300, \"poll_ms\": 100}}"),
                     0);
    id = submit_long_ingest(&d, info, "K", 60, 3);
    qt_daemon_kill9(&d);
    ck_assert_int_eq(qt_sql_int(info, "SELECT count(*) FROM jobs WHERE status = 'running'"), 1);

    ck_assert_int_eq(qt_daemon_restart(&d), 0);
    done = qt_wait_job(&d, id, 120000);
    ck_assert_ptr_nonnull(done);
    ck_assert_str_eq(json_string_value(json_object_get(done, "status")), "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(done, "attempts")), 2);
    json_decref(done);
    /* exactly one row per symbol and business day: nothing doubled */
    expected = long_ingest_rows(info);
    ck_assert_int_eq(qt_sql_int(info, "SELECT count(*) FROM bars"), 60 * expected);
    ck_assert_int_eq(qt_sql_int(info, "SELECT count(*) FROM (SELECT symbol, ts FROM bars GROUP BY "
                                      "1, 2 HAVING count(*) > 1) x"),
                     0);
    ck_assert_int_eq(qt_daemon_signal_wait(&d, SIGTERM, 20000, &status), 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(sigterm_drains_and_requeues)
{
    struct qt_daemon d;
    char info[512];
    long long id;
    int status;

    ck_assert_int_eq(qt_db_create("e2e_sigterm", info, sizeof(info)), 0);
    ck_assert_int_eq(qt_daemon_start(&d, info, "{\"server\": {\"drain_timeout_ms\": 300}, "
                                               "\"jobs\": {\"workers\": 1, \"poll_ms\": 100}}"),
                     0);
    id = submit_long_ingest(&d, info, "T", 80, 1);
    ck_assert_int_eq(qt_daemon_signal_wait(&d, SIGTERM, 20000, &status), 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    /* the unfinished job went back to the queue, its attempt not counted */
    {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM jobs WHERE id = %lld AND status = 'queued' AND "
                 "attempts = 0 AND lease_owner IS NULL",
                 id);
        ck_assert_int_eq(qt_sql_int(info, sql), 1);
    }
}
END_TEST

START_TEST(transient_failure_retried_with_backoff)
{
    struct qt_daemon d;
    char info[512];
    long long id, expected;
    json_t *done;
    int status;

    ck_assert_int_eq(qt_db_create("e2e_retry", info, sizeof(info)), 0);
    ck_assert_int_eq(qt_daemon_start(&d, info, "{\"jobs\": {\"workers\": 1, \"poll_ms\": 50, "
                                               "\"backoff_base_ms\": 300}}"),
                     0);
    id = submit_long_ingest(&d, info, "R", 40, 2);
    /* the worker's database session dies under it: a transient failure */
    ck_assert_int_eq(qt_sql_int(info, "SELECT count(pg_terminate_backend(pid)) FROM "
                                      "pg_stat_activity WHERE application_name LIKE 'quantd/job%' "
                                      "AND datname = current_database()"),
                     1);
    done = qt_wait_job(&d, id, 120000);
    ck_assert_ptr_nonnull(done);
    ck_assert_str_eq(json_string_value(json_object_get(done, "status")), "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(done, "attempts")), 2);
    json_decref(done);
    expected = long_ingest_rows(info);
    ck_assert_int_eq(qt_sql_int(info, "SELECT count(*) FROM bars"), 40 * expected);
    ck_assert_int_eq(qt_daemon_signal_wait(&d, SIGTERM, 20000, &status), 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("resilience");
    TCase *tc = tcase_create("resilience");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, postgres_restart);
    tcase_add_test(tc, kill9_during_job);
    tcase_add_test(tc, sigterm_drains_and_requeues);
    tcase_add_test(tc, transient_failure_retried_with_backoff);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
