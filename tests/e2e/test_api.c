/*
 * End-to-end: the real daemon (build/quantd) on a loopback port against a private PostgreSQL,
 * driven over HTTP with libcurl. One daemon per test case (started in an unchecked fixture,
 * in the parent), so the tests of a case share its database.
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

static struct qt_daemon d;
static char dbinfo[512];

static void
start_daemon(const char *db, const char *config)
{
    ck_assert_msg(qt_db_create(db, dbinfo, sizeof(dbinfo)) == 0, "create database %s", db);
    ck_assert_msg(qt_daemon_start(&d, dbinfo, config) == 0, "daemon start");
    ck_assert_msg(d.token[0] != '\0', "admin token written to the state dir");
}

static void
setup_basic(void)
{
    start_daemon("e2e_api",
                 "{\"jobs\": {\"workers\": 2, \"poll_ms\": 100, \"heartbeat_ms\": 500, "
                 "\"lease_seconds\": 5, \"scheduler_ms\": 100}, "
                 "\"server\": {\"body_max\": 4096, \"bars_upload_max\": 200000, "
                 "\"cors_origins\": [\"http://dash.example\"]}}");
}

static int teardown_failed;

/* Runs in the parent (which started the daemon), so it can check the exit status: SIGTERM
 * must end the daemon with status 0. Under ASan a leak changes the status too. */
static void
teardown(void)
{
    int status = -1;

    if (qt_daemon_signal_wait(&d, SIGTERM, 20000, &status) != 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL: the daemon did not exit 0 after SIGTERM (wait status %d); log %s\n",
                status, d.log_path);
        teardown_failed = 1;
    }
}

static json_t *
post_job(const char *body, long want_status)
{
    struct qt_resp r;
    json_t *job;

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", body, &r), 0);
    ck_assert_msg(r.status == want_status, "POST /v1/jobs: status %ld body %s", r.status, r.body);
    job = json_incref(r.json);
    qt_resp_free(&r);
    return job;
}

static json_t *
run_job(const char *body)
{
    json_t *job = post_job(body, 202), *done;
    long long id = json_integer_value(json_object_get(job, "id"));

    ck_assert_int_gt(id, 0);
    ck_assert_str_eq(json_string_value(json_object_get(job, "status")), "queued");
    json_decref(job);
    done = qt_wait_job(&d, id, 60000);
    ck_assert_msg(done != NULL, "job %lld finished in time", id);
    return done;
}

/* ---- basics: health, errors, request ids ---- */

START_TEST(health_and_request_id)
{
    struct qt_resp r;
    const char *rid;

    ck_assert_int_eq(qt_http(&d, "GET", "/v1/health", NULL, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "ok");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "db")), "ok");
    rid = qt_header(&r, "X-Request-Id");
    ck_assert_msg(rid != NULL && strlen(rid) >= 8, "generated request id");
    qt_resp_free(&r);
}
END_TEST

START_TEST(unknown_route_and_method)
{
    struct qt_resp r;
    json_t *e;

    ck_assert_int_eq(qt_get(&d, "/v1/nothing-here", &r), 0);
    ck_assert_int_eq(r.status, 404);
    e = json_object_get(r.json, "error");
    ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "not_found");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "message")));
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http(&d, "DELETE", "/v1/jobs", d.token, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_ptr_nonnull(qt_header(&r, "Allow"));
    ck_assert_ptr_nonnull(strstr(qt_header(&r, "Allow"), "POST"));
    qt_resp_free(&r);
}
END_TEST

START_TEST(auth_failures)
{
    struct qt_resp r;
    char body[256];
    char *ro = NULL;

    ck_assert_int_eq(qt_http(&d, "GET", "/v1/jobs", NULL, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
                     "unauthenticated");
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http(&d, "GET", "/v1/jobs", "qd_not_a_real_token", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 401);
    qt_resp_free(&r);

    /* a read-only token may read but not submit */
    ck_assert_int_eq(qt_post_json(&d, "/v1/tokens", "{\"name\":\"reader\",\"scopes\":[\"read\"]}",
                                  &r), 0);
    ck_assert_int_eq(r.status, 201);
    ro = strdup(json_string_value(json_object_get(r.json, "token")));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http(&d, "GET", "/v1/jobs", ro, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    qt_resp_free(&r);
    snprintf(body, sizeof(body), "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"X\"],"
                                 "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-01-31\"}}");
    ck_assert_int_eq(qt_http(&d, "POST", "/v1/jobs", ro, "application/json", body, strlen(body),
                             &r), 0);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
                     "permission_denied");
    qt_resp_free(&r);
    /* and not administer tokens */
    ck_assert_int_eq(qt_http(&d, "GET", "/v1/tokens", ro, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 403);
    qt_resp_free(&r);

    /* revoke: the token stops working at once */
    ck_assert_int_eq(qt_http(&d, "DELETE", "/v1/tokens/reader", d.token, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 204);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http(&d, "GET", "/v1/jobs", ro, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 401);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http(&d, "DELETE", "/v1/tokens/reader", d.token, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    /* only the hash is stored */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM api_tokens WHERE "
                                        "length(token_sha256) = 32 AND name = 'reader'"),
                     1);
    free(ro);
}
END_TEST

START_TEST(bad_bodies)
{
    struct qt_resp r;
    char big[6000];
    json_t *e;

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", "{\"type\": \"ingest_equity\", ", &r), 0);
    ck_assert_int_eq(r.status, 400);
    e = json_object_get(r.json, "error");
    ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "invalid_argument");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "message")), "malformed"));
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http(&d, "POST", "/v1/jobs", d.token, "text/plain", "{}", 2, &r), 0);
    ck_assert_int_eq(r.status, 415);
    qt_resp_free(&r);

    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    ck_assert_int_eq(qt_http(&d, "POST", "/v1/jobs", d.token, "application/json", big,
                             sizeof(big), &r), 0);
    ck_assert_int_eq(r.status, 413);
    qt_resp_free(&r);

    /* validation names the field */
    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs",
                                  "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"OK\","
                                  "\"bad symbol!\"],\"start_date\":\"2020-01-01\","
                                  "\"end_date\":\"2020-02-01\"}}",
                                  &r), 0);
    ck_assert_int_eq(r.status, 400);
    e = json_object_get(r.json, "error");
    ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "params.symbols[1]");
    qt_resp_free(&r);

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", "{\"type\":\"no_such_job\",\"params\":{}}", &r),
                     0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "type");
    qt_resp_free(&r);

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs",
                                  "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"A\"],"
                                  "\"start_date\":\"2020-02-30\",\"end_date\":\"2020-03-01\"}}",
                                  &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "params.start_date");
    qt_resp_free(&r);
    /* nothing was queued by any of these */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM jobs WHERE params->'symbols' ? "
                                        "'bad symbol!'"),
                     0);
}
END_TEST

/* ---- jobs ---- */

START_TEST(ingest_job_and_idempotence)
{
    json_t *job = run_job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"AAA\",\"BBB\"],"
                          "\"start_date\":\"2015-01-01\",\"end_date\":\"2015-12-31\","
                          "\"source\":\"synthetic\"}}");
    json_t *result = json_object_get(job, "result");
    long long rows;
    struct qt_resp r;

    ck_assert_str_eq(json_string_value(json_object_get(job, "status")), "succeeded");
    ck_assert(json_number_value(json_object_get(job, "progress")) == 1.0);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(job, "started_at")));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(job, "finished_at")));
    ck_assert_int_eq(json_integer_value(json_object_get(job, "attempts")), 1);
    rows = json_integer_value(json_object_get(result, "rows"));
    ck_assert_int_eq(rows, 2 * 261);            /* business days in 2015 */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol IN ('AAA','BBB')"),
                     rows);
    json_decref(job);

    /* the same job again changes nothing */
    job = run_job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"AAA\",\"BBB\"],"
                  "\"start_date\":\"2015-01-01\",\"end_date\":\"2015-12-31\"}}");
    ck_assert_str_eq(json_string_value(json_object_get(job, "status")), "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(job, "result"), "changed")),
                     0);
    json_decref(job);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol IN ('AAA','BBB')"),
                     rows);

    /* bars read back as the contract says */
    ck_assert_int_eq(qt_get(&d, "/v1/bars/AAA?start=2015-03-02&end=2015-03-06", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "interval")), "1d");
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "bars")), 5);
    {
        json_t *b = json_array_get(json_object_get(r.json, "bars"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(b, "ts")), "2015-03-02");
        ck_assert(json_number_value(json_object_get(b, "high")) >=
                  json_number_value(json_object_get(b, "low")));
        ck_assert(json_is_integer(json_object_get(b, "volume")));
    }
    qt_resp_free(&r);
    /* a second read is served from the cache and is identical */
    {
        struct qt_resp r2;
        ck_assert_int_eq(qt_get(&d, "/v1/bars/AAA?start=2015-03-02&end=2015-03-06", &r), 0);
        ck_assert_int_eq(qt_get(&d, "/v1/bars/AAA?start=2015-03-02&end=2015-03-06", &r2), 0);
        ck_assert_str_eq(r.body, r2.body);
        qt_resp_free(&r2);
        qt_resp_free(&r);
    }
    ck_assert_int_eq(qt_get(&d, "/v1/symbols", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_ge(json_array_size(json_object_get(r.json, "symbols")), 2);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/bars/NOPE", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
}
END_TEST

START_TEST(job_list_and_pagination)
{
    struct qt_resp r;
    json_t *jobs;
    const char *cursor;
    char path[128];

    for (int i = 0; i < 3; i++) {
        json_t *j = run_job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"PAG\"],"
                            "\"start_date\":\"2016-01-01\",\"end_date\":\"2016-01-10\"}}");
        json_decref(j);
    }
    ck_assert_int_eq(qt_get(&d, "/v1/jobs?limit=2&status=succeeded&type=ingest_equity", &r), 0);
    ck_assert_int_eq(r.status, 200);
    jobs = json_object_get(r.json, "jobs");
    ck_assert_int_eq(json_array_size(jobs), 2);
    cursor = json_string_value(json_object_get(r.json, "next_cursor"));
    ck_assert_ptr_nonnull(cursor);
    snprintf(path, sizeof(path), "/v1/jobs?limit=2&status=succeeded&cursor=%s", cursor);
    {
        long long first_page_last = json_integer_value(json_object_get(json_array_get(jobs, 1),
                                                                       "id"));
        struct qt_resp r2;
        ck_assert_int_eq(qt_get(&d, path, &r2), 0);
        ck_assert_int_eq(r2.status, 200);
        ck_assert_int_ge(json_array_size(json_object_get(r2.json, "jobs")), 1);
        ck_assert_int_lt(json_integer_value(json_object_get(
                             json_array_get(json_object_get(r2.json, "jobs"), 0), "id")),
                         first_page_last);
        qt_resp_free(&r2);
    }
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/jobs?status=bogus", &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "status");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/jobs/999999999", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
}
END_TEST

START_TEST(cancel_running_job)
{
    /* 20 symbols x 35 years keeps a worker busy long enough to cancel */
    struct qt_resp r;
    json_t *job, *done;
    long long id;

    job = post_job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"C1\",\"C2\",\"C3\","
                   "\"C4\",\"C5\",\"C6\",\"C7\",\"C8\",\"C9\",\"C10\",\"C11\",\"C12\",\"C13\","
                   "\"C14\",\"C15\",\"C16\",\"C17\",\"C18\",\"C19\",\"C20\"],"
                   "\"start_date\":\"1990-01-01\",\"end_date\":\"2024-12-31\"}}",
                   202);
    id = json_integer_value(json_object_get(job, "id"));
    json_decref(job);
    /* wait until it runs, then cancel */
    for (int i = 0; i < 200; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/v1/jobs/%lld", id);
        ck_assert_int_eq(qt_get(&d, path, &r), 0);
        bool running = strcmp(json_string_value(json_object_get(r.json, "status")), "running") == 0;
        qt_resp_free(&r);
        if (running)
            break;
        usleep(20000);
    }
    {
        char path[64];
        snprintf(path, sizeof(path), "/v1/jobs/%lld/cancel", id);
        ck_assert_int_eq(qt_http(&d, "POST", path, d.token, NULL, NULL, 0, &r), 0);
        ck_assert_msg(r.status == 200 || r.status == 409, "cancel status %ld", r.status);
        qt_resp_free(&r);
    }
    done = qt_wait_job(&d, id, 30000);
    ck_assert_ptr_nonnull(done);
    /* it was cancelled unless it had already finished */
    ck_assert_msg(strcmp(json_string_value(json_object_get(done, "status")), "cancelled") == 0 ||
                      strcmp(json_string_value(json_object_get(done, "status")), "succeeded") == 0,
                  "status %s", json_string_value(json_object_get(done, "status")));
    json_decref(done);
    {
        char path[64];
        snprintf(path, sizeof(path), "/v1/jobs/%lld/cancel", id);
        ck_assert_int_eq(qt_http(&d, "POST", path, d.token, NULL, NULL, 0, &r), 0);
        ck_assert_int_eq(r.status, 409);
        qt_resp_free(&r);
    }
}
END_TEST

START_TEST(progress_event_stream)
{
    json_t *job = post_job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"S1\",\"S2\","
                           "\"S3\",\"S4\",\"S5\",\"S6\"],\"start_date\":\"2000-01-01\","
                           "\"end_date\":\"2020-12-31\"}}",
                           202);
    long long id = json_integer_value(json_object_get(job, "id"));
    char path[64], *out = NULL;
    size_t len = 0;

    json_decref(job);
    snprintf(path, sizeof(path), "/v1/jobs/%lld/events", id);
    ck_assert_int_eq(qt_sse_read(&d, path, 30000, &out, &len), 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "event: done") != NULL, "stream ends with done: %s", out);
    ck_assert_ptr_nonnull(strstr(out, "\"status\":\"succeeded\""));
    ck_assert_ptr_nonnull(strstr(out, "id: 1\n"));
    free(out);
    ck_assert_int_eq(qt_sse_read(&d, "/v1/jobs/987654321/events", 5000, &out, &len), 0);
    ck_assert_ptr_nonnull(strstr(out, "not_found"));
    free(out);
}
END_TEST

/* ---- bars upload ---- */

START_TEST(bars_csv_upload)
{
    static const char good[] = "Date,Open,High,Low,Close,Adj Close,Volume\n"
                               "2015-01-02,10,11,9.5,10.5,10.4,1000\n"
                               "2015-01-05,10.5,10.9,10.1,10.2,10.1,1200\n"
                               "2015-01-06,10.2,10.4,9.9,10.0,9.9,900\n";
    static const char bad[] = "Date,Open,High,Low,Close,Adj Close,Volume\n"
                              "2016-01-04,10,11,9.5,10.5,10.4,1000\n"
                              "2016-01-05,10,9,9.5,10.5,10.4,1000\n";
    struct qt_resp r;
    json_t *e;

    ck_assert_int_eq(qt_http(&d, "PUT", "/v1/bars/UPL", d.token, "text/csv", good,
                             strlen(good), &r), 0);
    ck_assert_msg(r.status == 200, "status %ld body %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "rows")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "first")), "2015-01-02");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "last")), "2015-01-06");
    qt_resp_free(&r);

    ck_assert_int_eq(qt_http(&d, "PUT", "/v1/bars/UPL", d.token, "text/csv", bad, strlen(bad),
                             &r), 0);
    ck_assert_int_eq(r.status, 400);
    e = json_object_get(r.json, "error");
    ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "line 3");
    qt_resp_free(&r);
    /* all or nothing: the good first row of the bad file was not kept */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'UPL'"), 3);

    ck_assert_int_eq(qt_http(&d, "PUT", "/v1/bars/UPL", d.token, "application/json", good,
                             strlen(good), &r), 0);
    ck_assert_int_eq(r.status, 415);
    qt_resp_free(&r);

    /* over server.bars_upload_max (200,000 bytes here): 413, nothing kept */
    {
        size_t n = 0, cap = 400000;
        char *big = malloc(cap);
        int32_t day = 16000;
        n += (size_t)snprintf(big, cap, "Date,Open,High,Low,Close,Volume\n");
        while (n < 250000) {
            char d10[64];
            int y = 2000 + (day - 16000) / 300, m = 1 + ((day - 16000) / 25) % 12,
                dd = 1 + (day - 16000) % 25;
            snprintf(d10, sizeof(d10), "%04d-%02d-%02d", y, m, dd);
            n += (size_t)snprintf(big + n, cap - n, "%s,10,11,9,10,100\n", d10);
            day++;
        }
        ck_assert_int_eq(qt_http(&d, "PUT", "/v1/bars/BIG", d.token, "text/csv", big, n, &r), 0);
        ck_assert_int_eq(r.status, 413);
        qt_resp_free(&r);
        free(big);
        ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'BIG'"), 0);
    }

    /* CSV out */
    {

        ck_assert_int_eq(qt_http_accept(&d, "/v1/bars/UPL", "text/csv", &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(strstr(r.body, "Date,Open,High,Low,Close,Adj Close,Volume\n"
                                             "2015-01-02,10,11,9.5,10.5,10.4,1000\n"));
        qt_resp_free(&r);
    }
}
END_TEST

/* ---- schedules, audit, metrics, CORS ---- */

START_TEST(schedule_fires_job)
{
    struct qt_resp r;
    long long jobs = -1;

    ck_assert_int_eq(qt_post_json(&d, "/v1/schedules",
                                  "{\"name\":\"nightly\",\"cron\":\"30 21 * * 1-5\","
                                  "\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"SCH\"],"
                                  "\"start_date\":\"2019-01-01\",\"end_date\":\"2019-01-31\"}}",
                                  &r), 0);
    ck_assert_msg(r.status == 201, "status %ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r.json, "next_run_at")),
                                 "T21:30:00Z"));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/schedules",
                                  "{\"name\":\"bad\",\"cron\":\"61 * * * *\","
                                  "\"type\":\"ingest_equity\",\"params\":{}}",
                                  &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "cron");
    qt_resp_free(&r);

    /* make it due now: the scheduler must queue the job and a worker run it */
    ck_assert_int_eq(qt_sql_exec(dbinfo, "UPDATE schedules SET next_run_at = now() "
                                         "WHERE name = 'nightly'"), 0);
    for (int i = 0; i < 100 && jobs <= 0; i++) {
        usleep(100000);
        jobs = qt_sql_int(dbinfo, "SELECT count(*) FROM jobs WHERE schedule_name = 'nightly' "
                                  "AND status = 'succeeded'");
    }
    ck_assert_int_eq(jobs, 1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'SCH'"), 23);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM schedules WHERE name = 'nightly' "
                                        "AND next_run_at > now()"), 1);
    ck_assert_int_eq(qt_get(&d, "/v1/schedules/nightly", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_integer_value(json_object_get(r.json, "last_job_id")) > 0);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http(&d, "DELETE", "/v1/schedules/nightly", d.token, NULL, NULL, 0, &r),
                     0);
    ck_assert_int_eq(r.status, 204);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/schedules/nightly", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
}
END_TEST

START_TEST(audit_rows_for_mutations)
{
    struct qt_resp r;
    char sql[256];
    const char *rid;
    long long n = 0;

    ck_assert_int_eq(qt_post_json(&d, "/v1/tokens", "{\"name\":\"audited\",\"scopes\":[\"read\"]}",
                                  &r), 0);
    ck_assert_int_eq(r.status, 201);
    rid = qt_header(&r, "X-Request-Id");
    ck_assert_ptr_nonnull(rid);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM audit_log WHERE request_id = '%s' AND method = 'POST' AND "
             "path = '/v1/tokens' AND status = 201 AND token_name = 'admin'",
             rid);
    for (int i = 0; i < 50 && n == 0; i++) {
        usleep(50000);
        n = qt_sql_int(dbinfo, sql);
    }
    ck_assert_int_eq(n, 1);
    qt_resp_free(&r);
    /* a refused mutation is audited too; the secret is never in the log */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM audit_log WHERE detail::text "
                                        "LIKE '%qd_%'"),
                     0);
}
END_TEST

START_TEST(metrics_exposition)
{
    struct qt_resp r;

    ck_assert_int_eq(qt_http(&d, "GET", "/metrics", NULL, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(qt_header(&r, "Content-Type"), "text/plain"));
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE quantd_http_requests_total counter"));
    ck_assert_ptr_nonnull(strstr(r.body, "quantd_http_requests_total{method=\"GET\","
                                         "route=\"/v1/health\",status=\"200\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "quantd_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "quantd_jobs{state=\"queued\"}"));
    ck_assert_ptr_nonnull(strstr(r.body, "quantd_db_pool_connections{state=\"size\"}"));
    qt_resp_free(&r);
}
END_TEST

START_TEST(cors_allowlist)
{
    struct qt_resp r;

    ck_assert_int_eq(qt_http_origin(&d, "/v1/health", "http://dash.example", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(qt_header(&r, "Access-Control-Allow-Origin"));
    ck_assert_str_eq(qt_header(&r, "Access-Control-Allow-Origin"), "http://dash.example");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http_origin(&d, "/v1/health", "http://evil.example", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(qt_header(&r, "Access-Control-Allow-Origin"));
    qt_resp_free(&r);
}
END_TEST

/* ---- rate limit: its own daemon with a tight limit ---- */

static struct qt_daemon rl;

static void
setup_rate(void)
{
    char info[512];

    ck_assert(qt_db_create("e2e_rate", info, sizeof(info)) == 0);
    ck_assert(qt_daemon_start(&rl, info, "{\"server\": {\"rate_limit_per_second\": 2, "
                                         "\"rate_limit_burst\": 5}}") == 0);
}

static void
teardown_rate(void)
{
    int st = -1;

    if (qt_daemon_signal_wait(&rl, SIGTERM, 20000, &st) != 0 || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0) {
        fprintf(stderr, "FAIL: the daemon did not exit 0 after SIGTERM (wait status %d)\n", st);
        teardown_failed = 1;
    }
}

START_TEST(rate_limit_429)
{
    struct qt_resp r;
    int limited = 0, ok = 0;

    for (int i = 0; i < 15; i++) {
        ck_assert_int_eq(qt_get(&rl, "/v1/jobs", &r), 0);
        if (r.status == 429) {
            limited++;
            ck_assert_ptr_nonnull(qt_header(&r, "Retry-After"));
            ck_assert_int_ge(atoi(qt_header(&r, "Retry-After")), 1);
            ck_assert_str_eq(
                json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
                "rate_limited");
        } else if (r.status == 200) {
            ok++;
        }
        qt_resp_free(&r);
    }
    ck_assert_int_ge(ok, 5);
    ck_assert_int_ge(limited, 8);
    /* health needs no token and is not limited */
    ck_assert_int_eq(qt_http(&rl, "GET", "/v1/health", NULL, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    qt_resp_free(&r);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    TCase *tr = tcase_create("rate_limit");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, setup_basic, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, health_and_request_id);
    tcase_add_test(tc, unknown_route_and_method);
    tcase_add_test(tc, auth_failures);
    tcase_add_test(tc, bad_bodies);
    tcase_add_test(tc, ingest_job_and_idempotence);
    tcase_add_test(tc, job_list_and_pagination);
    tcase_add_test(tc, cancel_running_job);
    tcase_add_test(tc, progress_event_stream);
    tcase_add_test(tc, bars_csv_upload);
    tcase_add_test(tc, schedule_fires_job);
    tcase_add_test(tc, audit_rows_for_mutations);
    tcase_add_test(tc, metrics_exposition);
    tcase_add_test(tc, cors_allowlist);
    suite_add_tcase(s, tc);
    tcase_add_unchecked_fixture(tr, setup_rate, teardown_rate);
    tcase_add_test(tr, rate_limit_429);
    suite_add_tcase(s, tr);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed || teardown_failed ? 1 : 0;
}
