/*
 * End-to-end: the real FRED and CBOE clients (libcurl) against the fake servers of
 * tests/fakes/fake_feeds.c, through the daemon's ingest_macro and ingest_vix jobs: stored rows
 * (missing values as NULL), paging, GET /v1/macro and /v1/vix, and the failure modes — 429
 * and 5xx then success (retried), a rejected key and an unknown series (not retried, named,
 * the key never echoed), a slow answer past the timeout, truncated JSON, an HTML page, a 403,
 * and CSV quirks (BOM, header only, a repeated date).
 */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <check.h>
#include <jansson.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GOOD_KEY "abcdefghijklmnopqrstuvwxyz012345"
#define BAD_KEY "zyxwvutsrqponmlkjihgfedcba543210"

static char dbinfo[512];
#define TRADIER_TOKEN "tradier-sandbox-token-0123456789"
#define POLYGON_KEY "polygon-key-0123456789abcdef"

static pid_t fake_pid[4];
static int fake_port, cftc_port, yahoo_port, options_port;
/* The options providers' credentials the next start() gives the daemon */
static const char *tradier_key = TRADIER_TOKEN, *polygon_key = POLYGON_KEY;
static struct qt_daemon d;

/* Starts tests/fakes/<name> and returns its port. */
static int
fake_start(const char *name, pid_t *pid)
{
    const char *dir = getenv("QUANTD_FAKES_DIR");
    char bin[512], portfile[512];
    FILE *f = NULL;
    int port = 0;

    snprintf(bin, sizeof(bin), "%s/%s", dir ? dir : "build/fakes", name);
    snprintf(portfile, sizeof(portfile), "build/%s.%d.port", name, (int)getpid());
    unlink(portfile);
    *pid = fork();
    ck_assert(*pid >= 0);
    if (*pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(bin, bin, portfile, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && (f = fopen(portfile, "r")) == NULL; i++) {
        struct timespec ts = {0, 25 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(f != NULL, "the fake server did not start (%s)", bin);
    ck_assert(fscanf(f, "%d", &port) == 1);
    fclose(f);
    unlink(portfile);
    return port;
}

static void
setup(void)
{
    fake_port = fake_start("fake_feeds", &fake_pid[0]);
    cftc_port = fake_start("fake_cftc", &fake_pid[1]);
    yahoo_port = fake_start("fake_yahoo", &fake_pid[2]);
    options_port = fake_start("fake_options", &fake_pid[3]);
}

static void
teardown(void)
{
    for (int i = 0; i < 4; i++)
        if (fake_pid[i] > 0) {
            kill(fake_pid[i], SIGTERM);
            waitpid(fake_pid[i], NULL, 0);
        }
}

/* A daemon on a fresh database (so that it writes its bootstrap admin token) whose FRED and
 * CBOE base URLs select the fake's mode; short timeouts and retries. */
static void
start(const char *mode, const char *key, unsigned timeout_ms, unsigned retries)
{
    char cfg[3072];

    ck_assert(qt_db_create("e2e_feeds", dbinfo, sizeof(dbinfo)) == 0);

    if (key)
        setenv("FRED_API_KEY", key, 1);
    else
        unsetenv("FRED_API_KEY");
    setenv("TRADIER_API_KEY", tradier_key, 1);
    setenv("POLYGON_API_KEY", polygon_key, 1);
    snprintf(cfg, sizeof(cfg),
             "{\"jobs\": {\"workers\": 1, \"poll_ms\": 50, \"max_attempts\": 1,"
             " \"scheduler_ms\": 100},"
             " \"feeds\": {\"fred\": {\"base_url\": \"http://127.0.0.1:%d/m/%s\"},"
             " \"cboe\": {\"base_url\": \"http://127.0.0.1:%d/m/%s\"},"
             " \"cftc\": {\"base_url\": \"http://127.0.0.1:%d/m/%s\"},"
             " \"yahoo\": {\"base_url\": \"http://127.0.0.1:%d/m/%s\","
             " \"cookie_url\": \"http://127.0.0.1:%d/m/%s\","
             " \"crumb_url\": \"http://127.0.0.1:%d/m/%s\","
             " \"consent_url\": \"http://127.0.0.1:%d/m/%s\","
             " \"collect_url\": \"http://127.0.0.1:%d/m/%s\"},"
             " \"tradier\": {\"base_url\": \"http://127.0.0.1:%d/m/%s\"},"
             " \"polygon\": {\"base_url\": \"http://127.0.0.1:%d/m/%s\"}, \"timeout_ms\": %u,"
             " \"connect_timeout_ms\": 1000, \"retries\": %u, \"retry_base_ms\": 50,"
             " \"retry_max_ms\": 1500}}",
             fake_port, mode, fake_port, mode, cftc_port, mode, yahoo_port, mode, yahoo_port,
             mode, yahoo_port, mode, yahoo_port, mode, yahoo_port, mode, options_port, mode, options_port, mode, timeout_ms, retries);
    ck_assert(qt_daemon_start(&d, dbinfo, cfg) == 0);
}

static void
stop(void)
{
    int st = -1;

    ck_assert(qt_daemon_signal_wait(&d, SIGTERM, 20000, &st) == 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Submits and waits; the finished job (status want). */
static json_t *
job(const char *body, const char *want)
{
    struct qt_resp r;
    json_t *j;

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", body, &r), 0);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    j = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
    qt_resp_free(&r);
    ck_assert_ptr_nonnull(j);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "status")), want) == 0,
                  "job %s: %s / %s", json_string_value(json_object_get(j, "status")),
                  json_dumps(json_object_get(j, "error"), 0),
                  json_dumps(json_object_get(j, "result"), 0));
    return j;
}

/* How many requests a fake saw for (mode, key). */
static long
count_at(int port, const char *mode, const char *key)
{
    struct qt_daemon f = {.port = port};
    struct qt_resp r;
    char path[160];
    long n;

    snprintf(f.url, sizeof(f.url), "http://127.0.0.1:%d", port);
    snprintf(path, sizeof(path), "/stats?mode=%s&key=%s", mode, key);
    ck_assert_int_eq(qt_http(&f, "GET", path, NULL, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    n = strtol(r.body, NULL, 10);
    qt_resp_free(&r);
    return n;
}

static long
fake_count(const char *mode, const char *key)
{
    return count_at(fake_port, mode, key);
}

static const char *
err_msg(json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "message"));
}

/* The failed job's error code: "unavailable" when every failure may heal (the runner retries
 * such a job with backoff), "invalid_argument" when none will. */
static const char *
err_code(json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

/* The job JSON and the daemon log never hold the key. */
static void
key_not_leaked(json_t *j, const char *key)
{
    char *dump = json_dumps(j, 0), cmd[1024];
    int st;

    ck_assert_ptr_null(strstr(dump, key));
    free(dump);
    snprintf(cmd, sizeof(cmd), "grep -q '%s' '%s'", key, d.log_path);
    st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "the key is in the daemon log");
}

START_TEST(fred_rows_missing_values_and_reads)
{
    json_t *j, *s0;
    struct qt_resp r;
    json_t *obs;

    start("ok", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS10\",\"T10Y2Y\"],"
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-12-31\"}}",
            "succeeded");
    s0 = json_array_get(json_object_get(json_object_get(j, "result"), "series"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(s0, "rows")), 262);  /* 2020 weekdays */
    ck_assert_str_eq(json_string_value(json_object_get(s0, "first")), "2020-01-01");
    key_not_leaked(j, GOOD_KEY);
    json_decref(j);
    /* FRED's "." is NULL (New Year's Day, a Wednesday), never 0; values as served */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM macro_observations WHERE "
                                        "series_id = 'DGS10' AND value IS NULL"),
                     2);   /* Jan 1 and Dec 25 (Jul 4 2020 is a Saturday: no row) */
    ck_assert_int_eq(qt_sql_int(dbinfo,
                                "SELECT count(*) FROM macro_observations WHERE series_id = "
                                "'DGS10' AND value IS NOT NULL AND abs(value - round((4 + "
                                "sin((date - '2000-01-01'::date) / 200.0))::numeric, 2)) > 1e-9"),
                     0);
    /* a re-run changes nothing */
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS10\"],"
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-12-31\"}}",
            "succeeded");
    s0 = json_array_get(json_object_get(json_object_get(j, "result"), "series"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(s0, "written")), 0);
    json_decref(j);

    ck_assert_int_eq(qt_get(&d, "/v1/macro/DGS10?start=2020-01-01&end=2020-01-03", &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    obs = json_object_get(r.json, "observations");
    ck_assert_int_eq((int)json_array_size(obs), 3);
    ck_assert(json_is_null(json_object_get(json_array_get(obs, 0), "value")));
    ck_assert(json_is_number(json_object_get(json_array_get(obs, 1), "value")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(obs, 2), "date")),
                     "2020-01-03");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/macro/NOSUCH", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/macro/dgs10", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/macro/DGS10?start=2020-13-01", &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "start");
    qt_resp_free(&r);
    /* bad params are refused before anything runs */
    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", "{\"type\":\"ingest_macro\",\"params\":"
                                                  "{\"series\":[\"DGS10\",\"bad id\"]}}",
                                  &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "params.series[1]");
    qt_resp_free(&r);
    stop();
}
END_TEST

START_TEST(fred_paging_follows_offsets)
{
    json_t *j, *s0;

    start("paged", GOOD_KEY, 10000, 2);
    /* the fake pages by 1,000: the whole 2000-2024 history takes several requests */
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"BAMLH0A0HYM2\"]}}", "succeeded");
    s0 = json_array_get(json_object_get(json_object_get(j, "result"), "series"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(s0, "rows")),
                     qt_sql_int(dbinfo, "SELECT count(*) FROM generate_series('2000-01-03'::date, "
                                        "'2024-12-31', '1 day') d WHERE extract(isodow FROM d) "
                                        "< 6"));
    ck_assert_int_ge(fake_count("paged", "BAMLH0A0HYM2"), 7);
    json_decref(j);
    stop();
}
END_TEST

START_TEST(fred_retries_429_and_5xx)
{
    json_t *j;

    start("429once", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS2\"],"
            "\"start_date\":\"2021-01-01\",\"end_date\":\"2021-01-31\"}}",
            "succeeded");
    ck_assert_int_eq(fake_count("429once", "DGS2"), 2);       /* 429, then the data */
    json_decref(j);
    stop();
    start("500once", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS3MO\"],"
            "\"start_date\":\"2021-01-01\",\"end_date\":\"2021-01-31\"}}",
            "succeeded");
    ck_assert_int_eq(fake_count("500once", "DGS3MO"), 2);
    json_decref(j);
    stop();
    /* always 5xx: the attempts run out and the job says why */
    start("500always", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS3MO\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "HTTP 500"));
    ck_assert_ptr_nonnull(strstr(err_msg(j), "after 3 attempts"));
    ck_assert_str_eq(err_code(j), "unavailable");
    ck_assert_int_eq(fake_count("500always", "DGS3MO"), 3);
    key_not_leaked(j, GOOD_KEY);
    json_decref(j);
    stop();
}
END_TEST

START_TEST(fred_refusals_are_not_retried)
{
    json_t *j, *rows;

    start("ok", BAD_KEY, 5000, 3);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"UNRATE\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "FRED_API_KEY"));
    ck_assert_ptr_nonnull(strstr(err_msg(j), "not registered"));
    ck_assert_str_eq(err_code(j), "invalid_argument");         /* a refusal does not heal */
    ck_assert_int_eq(fake_count("ok", "UNRATE"), 1);          /* not retried */
    key_not_leaked(j, BAD_KEY);
    json_decref(j);
    stop();
    /* no key at all: refused before any request */
    start("ok", NULL, 5000, 3);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"FEDFUNDS\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "FRED_API_KEY"));
    ck_assert_int_eq(fake_count("ok", "FEDFUNDS"), 0);
    json_decref(j);
    stop();
    /* an unknown series fails alone; the others are stored */
    start("ok", GOOD_KEY, 5000, 3);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"NOSUCH\",\"CPIAUCSL\"],"
            "\"start_date\":\"2010-01-01\",\"end_date\":\"2010-12-31\"}}",
            "succeeded");
    rows = json_object_get(json_object_get(j, "result"), "series");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(rows, 0),
                                                                   "error")),
                                 "no series NOSUCH"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 1), "rows")), 12);
    ck_assert_int_eq(fake_count("ok", "NOSUCH"), 1);
    json_decref(j);
    stop();
}
END_TEST

/* A failed fetch keeps nothing. */
static void
nothing_kept(void)
{
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM macro_observations"), 0);
}

START_TEST(fred_bad_answers)
{
    json_t *j;

    /* slower than the timeout: retried once, then the job fails naming the timeout */
    start("slow", GOOD_KEY, 800, 1);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS10\"]}}", "failed");
    ck_assert_msg(strcasestr(err_msg(j), "timeout") || strcasestr(err_msg(j), "timed out"),
                  "%s", err_msg(j));
    ck_assert_int_eq(fake_count("slow", "DGS10"), 2);
    json_decref(j);
    nothing_kept();
    stop();
    start("truncated", GOOD_KEY, 5000, 1);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS10\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "not JSON"));
    ck_assert_int_eq(fake_count("truncated", "DGS10"), 2);
    json_decref(j);
    nothing_kept();
    stop();
    start("html", GOOD_KEY, 5000, 1);
    j = job("{\"type\":\"ingest_macro\",\"params\":{\"series\":[\"DGS10\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "HTML"));
    json_decref(j);
    nothing_kept();
    stop();
}
END_TEST

START_TEST(cboe_vix_history)
{
    json_t *j;
    struct qt_resp r;

    start("ok", GOOD_KEY, 10000, 1);
    j = job("{\"type\":\"ingest_vix\",\"params\":{\"start_date\":\"2020-01-01\","
            "\"end_date\":\"2020-12-31\"}}",
            "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "result"), "rows")),
                     262);
    json_decref(j);
    ck_assert_int_eq(qt_sql_int(dbinfo,
                                "SELECT count(*) FROM macro_observations WHERE series_id = 'VIX' "
                                "AND abs(value - round((20 + 8 * sin((date - "
                                "'1990-01-01'::date) / 90.0))::numeric, 6)) > 1e-9"),
                     0);
    ck_assert_int_eq(qt_get(&d, "/v1/vix?start=2020-01-02&end=2020-01-03", &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "series_id")), "VIX");
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "observations")), 2);
    qt_resp_free(&r);
    stop();
    start("bom", GOOD_KEY, 10000, 1);
    j = job("{\"type\":\"ingest_vix\",\"params\":{\"start_date\":\"2021-01-01\","
            "\"end_date\":\"2021-01-31\"}}",
            "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "result"), "rows")),
                     21);
    json_decref(j);
    stop();
    start("headeronly", GOOD_KEY, 10000, 1);
    j = job("{\"type\":\"ingest_vix\",\"params\":{}}", "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "result"), "rows")),
                     0);
    json_decref(j);
    stop();
    /* a repeated date fails the whole file with its line, and nothing of it is kept */
    start("dup", GOOD_KEY, 10000, 1);
    j = job("{\"type\":\"ingest_vix\",\"params\":{\"start_date\":\"2024-01-01\"}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "repeated"));
    ck_assert_ptr_nonnull(strstr(err_msg(j), "line "));
    json_decref(j);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM macro_observations WHERE "
                                        "series_id = 'VIX' AND date >= '2024-01-01'"),
                     0);
    stop();
    /* the CDN's 403 page: final, not retried */
    start("forbidden", GOOD_KEY, 10000, 3);
    j = job("{\"type\":\"ingest_vix\",\"params\":{}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "403"));
    ck_assert_int_eq(fake_count("forbidden", "vix"), 1);
    json_decref(j);
    stop();
}
END_TEST

/* The documented after-close schedule (docs/feeds.md), made due now, runs ingest_macro. */
START_TEST(schedule_runs_ingest)
{
    struct qt_resp r;
    long long jobs = 0;

    start("ok", GOOD_KEY, 5000, 1);
    ck_assert_int_eq(qt_post_json(&d, "/v1/schedules",
                                  "{\"name\":\"fred-morning\",\"cron\":\"0 14 * * 2-6\","
                                  "\"type\":\"ingest_macro\",\"params\":{\"series\":"
                                  "[\"T10Y2Y\"],\"start_date\":\"2024-01-01\","
                                  "\"end_date\":\"2024-03-31\"}}",
                                  &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_sql_exec(dbinfo, "UPDATE schedules SET next_run_at = now() "
                                         "WHERE name = 'fred-morning'"), 0);
    for (int i = 0; i < 100 && jobs <= 0; i++) {
        usleep(100000);
        jobs = qt_sql_int(dbinfo, "SELECT count(*) FROM jobs WHERE schedule_name = "
                                  "'fred-morning' AND status = 'succeeded'");
    }
    ck_assert_int_eq(jobs, 1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM macro_observations WHERE "
                                        "series_id = 'T10Y2Y'"),
                     65);                                     /* Q1 2024 weekdays */
    stop();
}
END_TEST

START_TEST(cftc_cot_reports)
{
    json_t *j, *rows;
    struct qt_resp r;

    start("ok", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_cot\",\"params\":{\"markets\":[\"13874A\"],"
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-12-31\"}}",
            "succeeded");
    rows = json_object_get(json_object_get(j, "result"), "markets");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "rows")), 52);
    json_decref(j);
    /* the stored counts are the fake's (w: weeks since 2010-01-05), an omitted field NULL */
    ck_assert_int_eq(qt_sql_int(dbinfo,
                                "SELECT count(*) FROM cot_reports WHERE market = '13874A' AND "
                                "(open_interest <> 500000 + 1000 * (((report_date - "
                                "'2010-01-05'::date) / 7) % 50) OR noncomm_long <> 200000 + 100 * "
                                "((((report_date - '2010-01-05'::date) / 7) * 7) % 300))"),
                     0);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM cot_reports WHERE comm_short IS "
                                        "NULL AND ((report_date - '2010-01-05'::date) / 7) % 52 "
                                        "<> 10"),
                     0);
    ck_assert_int_eq(qt_get(&d, "/v1/cot/13874A?start=2020-01-01&end=2020-01-31", &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "reports")), 4);
    ck_assert(json_is_number(json_object_get(json_array_get(json_object_get(r.json, "reports"), 0),
                                             "net_noncomm_share")));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/cot/13874a", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    /* the default markets, and the positioning features built from what was ingested */
    j = job("{\"type\":\"ingest_cot\",\"params\":{\"start_date\":\"2015-01-01\"}}", "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "result"), "ok")), 5);
    json_decref(j);
    json_decref(job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"POS\"],"
                    "\"start_date\":\"2019-01-01\",\"end_date\":\"2020-12-31\"}}",
                    "succeeded"));
    j = job("{\"type\":\"build_features\",\"params\":{\"symbols\":[\"POS\"],\"names\":"
            "[\"cot_net_noncommercial\",\"cot_net_noncommercial_z\"],\"start_date\":"
            "\"2019-01-01\",\"end_date\":\"2020-12-31\"}}",
            "succeeded");
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(json_object_get(j, "result"),
                                                                      "symbols"), 0),
                                       "feature_errors"));
    json_decref(j);
    ck_assert_int_gt(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE symbol = 'POS' AND "
                                        "name = 'cot_net_noncommercial_z'"),
                     400);
    stop();
}
END_TEST

START_TEST(cftc_paging_and_failures)
{
    json_t *j;

    start("paged", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_cot\",\"params\":{\"markets\":[\"088691\"]}}", "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(
                         json_object_get(j, "result"), "markets"), 0), "rows")),
                     qt_sql_int(dbinfo, "SELECT count(*) FROM generate_series('2010-01-05'::date, "
                                        "'2024-12-31', '7 days')"));
    ck_assert_int_ge(count_at(cftc_port, "paged", "088691"), 8);     /* pages of 100 */
    json_decref(j);
    stop();
    start("202once", GOOD_KEY, 5000, 2);
    json_decref(job("{\"type\":\"ingest_cot\",\"params\":{\"markets\":[\"043602\"],"
                    "\"start_date\":\"2024-01-01\"}}", "succeeded"));
    ck_assert_int_eq(count_at(cftc_port, "202once", "043602"), 3);   /* 202, page, empty page */
    stop();
    start("429once", GOOD_KEY, 5000, 2);
    json_decref(job("{\"type\":\"ingest_cot\",\"params\":{\"markets\":[\"1170E1\"],"
                    "\"start_date\":\"2024-01-01\"}}", "succeeded"));
    ck_assert_int_eq(count_at(cftc_port, "429once", "1170E1"), 3);
    stop();
    start("forbidden", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_cot\",\"params\":{\"markets\":[\"067651\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "403"));
    ck_assert_int_eq(count_at(cftc_port, "forbidden", "067651"), 1);
    json_decref(j);
    stop();
    start("truncated", GOOD_KEY, 5000, 1);
    j = job("{\"type\":\"ingest_cot\",\"params\":{\"markets\":[\"067651\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "not JSON"));
    json_decref(j);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM cot_reports"), 0);
    stop();
}
END_TEST

START_TEST(yahoo_bars_with_crumb)
{
    json_t *j, *rows, *r0;

    start("crumb", GOOD_KEY, 10000, 2);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\",\"DELISTED\","
            "\"BETA\"],\"source\":\"yahoo\",\"start_date\":\"2020-01-01\","
            "\"end_date\":\"2020-12-31\"}}",
            "succeeded");
    rows = json_object_get(json_object_get(j, "result"), "symbols");
    r0 = json_array_get(rows, 0);
    /* 2020 weekdays less New Year's Day and Christmas (July 4 was a Saturday) */
    ck_assert_int_eq(json_integer_value(json_object_get(r0, "rows")), 260);
    ck_assert_int_eq(json_integer_value(json_object_get(r0, "actions")), 4);   /* dividends */
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(rows, 1),
                                                                   "error")),
                                 "delisted"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 2), "rows")), 260);
    json_decref(j);
    /* one cookie and one crumb for the whole job */
    ck_assert_int_eq(count_at(yahoo_port, "crumb", "cookie"), 1);
    ck_assert_int_eq(count_at(yahoo_port, "crumb", "crumb"), 1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'ACME' AND "
                                        "source = 'yahoo' AND ts::date = '2020-01-02'"),
                     1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM corporate_actions WHERE symbol = "
                                        "'ACME' AND kind = 'dividend' AND value = 0.25"),
                     4);
    stop();
    /* an expired crumb: refused once, refreshed, then served */
    start("crumbonce", GOOD_KEY, 10000, 2);
    json_decref(job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],"
                    "\"source\":\"yahoo\",\"start_date\":\"2010-05-01\","
                    "\"end_date\":\"2010-06-30\"}}", "succeeded"));
    ck_assert_int_eq(count_at(yahoo_port, "crumbonce", "ACME"), 2);
    ck_assert_int_eq(count_at(yahoo_port, "crumbonce", "crumb"), 2);
    /* the refused session was "basic": the fresh one comes by the other strategy, "csrf" */
    ck_assert_int_eq(count_at(yahoo_port, "crumbonce", "cookie"), 1);
    ck_assert_int_eq(count_at(yahoo_port, "crumbonce", "consent"), 1);
    ck_assert_int_eq(count_at(yahoo_port, "crumbonce", "collect"), 1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM corporate_actions WHERE symbol = "
                                        "'ACME' AND kind = 'split' AND value = 2 AND ex_date = "
                                        "'2010-06-01'"),
                     1);
    stop();
}
END_TEST

/* The EU consent wall: the cookie host sets no A3 cookie; the consent form's csrfToken and
 * sessionId posted back with agree get one, and its crumb opens the chart. */
START_TEST(yahoo_consent_wall)
{
    json_t *j;

    start("consent", GOOD_KEY, 10000, 2);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\",\"BETA\"],"
            "\"source\":\"yahoo\",\"start_date\":\"2021-03-01\",\"end_date\":\"2021-03-31\"}}",
            "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(
                         json_object_get(j, "result"), "symbols"), 1), "rows")), 23);
    json_decref(j);
    ck_assert_int_eq(count_at(yahoo_port, "consent", "cookie"), 1);    /* basic tried first */
    ck_assert_int_eq(count_at(yahoo_port, "consent", "consent"), 1);   /* then csrf, once */
    ck_assert_int_eq(count_at(yahoo_port, "consent", "collect"), 1);
    ck_assert_int_eq(count_at(yahoo_port, "consent", "crumb"), 1);
    ck_assert_int_eq(count_at(yahoo_port, "consent", "ACME"), 1);      /* no 401 on the way */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE source = 'yahoo'"),
                     46);
    stop();
}
END_TEST

START_TEST(yahoo_quirks_and_failures)
{
    json_t *j, *r0;

    start("nulls", GOOD_KEY, 10000, 2);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"yahoo\","
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-12-31\"}}",
            "succeeded");
    r0 = json_array_get(json_object_get(json_object_get(j, "result"), "symbols"), 0);
    ck_assert_int_gt(json_integer_value(json_object_get(r0, "skipped_nulls")), 20);
    ck_assert_int_eq(json_integer_value(json_object_get(r0, "rows")) +
                         json_integer_value(json_object_get(r0, "skipped_nulls")),
                     260);
    json_decref(j);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE volume = 0 OR "
                                        "close <= 0"),
                     0);                                      /* nulls never stored as 0 */
    stop();
    start("noadj", GOOD_KEY, 10000, 2);
    json_decref(job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],"
                    "\"source\":\"yahoo\",\"start_date\":\"2020-01-01\","
                    "\"end_date\":\"2020-01-31\"}}", "succeeded"));
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE adj_close <> close"), 0);
    stop();
    start("empty", GOOD_KEY, 10000, 2);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"yahoo\","
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-01-31\"}}",
            "succeeded");
    r0 = json_array_get(json_object_get(json_object_get(j, "result"), "symbols"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r0, "rows")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(r0, "note")), "no price data in the range");
    json_decref(j);
    stop();
    start("429", GOOD_KEY, 10000, 2);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"yahoo\","
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-01-31\"}}",
            "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "HTTP 429"));
    ck_assert_int_eq(count_at(yahoo_port, "429", "ACME"), 3);
    json_decref(j);
    stop();
    start("outage", GOOD_KEY, 10000, 1);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"yahoo\","
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-01-31\"}}",
            "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "Will be right back"));
    json_decref(j);
    stop();
    start("badrequest", GOOD_KEY, 10000, 2);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"yahoo\","
            "\"start_date\":\"2020-01-01\",\"end_date\":\"2020-01-31\"}}",
            "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "Invalid input"));
    ck_assert_int_eq(count_at(yahoo_port, "badrequest", "ACME"), 1);
    json_decref(j);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars"), 0);
    stop();
}
END_TEST

/* Writes text to <state_dir>/import/<name>. */
static void
import_file(const char *name, const char *text)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/import", d.state_dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/import/%s", d.state_dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* ingest_equity source csv: files under the import directory only, all or nothing per file. */
START_TEST(csv_source_import_dir)
{
    json_t *j, *rows;
    char link[1024];

    start("ok", GOOD_KEY, 5000, 1);
    import_file("ACME.csv", "Date,Open,High,Low,Close,Adj Close,Volume\n"
                            "2024-01-02,10,11,9,10.5,10.4,100\n"
                            "2024-01-03,10.5,11,10,10.8,10.7,200\n"
                            "2024-01-04,10.8,11.5,10.6,11,10.9,300\n");
    import_file("BAD.csv", "Date,Open,High,Low,Close,Volume\n"
                           "2024-01-02,10,11,9,10.5,100\n"
                           "2024-01-03,10.5,9,10,10.8,200\n");
    import_file("MAP.csv", "Timestamp,Last,O,H,L,Vol,Venue\n"
                           "2024-01-02,10.5,10,11,9,100,X\n");
    snprintf(link, sizeof(link), "%s/import/out.csv", d.state_dir);
    ck_assert_int_eq(symlink("/etc/passwd", link), 0);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"csv\","
            "\"path\":\"ACME.csv\",\"start_date\":\"2024-01-01\",\"end_date\":\"2024-12-31\"}}",
            "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "result"), "rows")), 3);
    json_decref(j);
    /* a directory: <SYMBOL>.csv each; the bad file fails alone, with its line, keeping nothing */
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\",\"BAD\"],\"source\":"
            "\"csv\",\"path\":\".\",\"start_date\":\"2024-01-01\",\"end_date\":\"2024-12-31\"}}",
            "succeeded");
    rows = json_object_get(json_object_get(j, "result"), "symbols");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(rows, 1),
                                                                   "error")),
                                 "line 3"));
    json_decref(j);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'BAD'"), 0);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'ACME'"), 3);
    /* outside the import directory: refused, also through a symlink */
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"csv\","
            "\"path\":\"../quantd.json\",\"start_date\":\"2024-01-01\",\"end_date\":"
            "\"2024-12-31\"}}",
            "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "outside the import directory"));
    json_decref(j);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\"],\"source\":\"csv\","
            "\"path\":\"out.csv\",\"start_date\":\"2024-01-01\",\"end_date\":\"2024-12-31\"}}",
            "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "outside the import directory"));
    json_decref(j);
    /* a generic layout through the column mapping */
    json_decref(job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"MAP\"],\"source\":"
                    "\"csv\",\"path\":\"MAP.csv\",\"columns\":{\"date\":\"Timestamp\",\"close\":"
                    "\"Last\",\"open\":\"O\",\"high\":\"H\",\"low\":\"L\",\"volume\":\"Vol\"},"
                    "\"extra\":\"ignore\",\"start_date\":\"2024-01-01\","
                    "\"end_date\":\"2024-12-31\"}}", "succeeded"));
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'MAP' AND "
                                        "close = 10.5 AND adj_close = 10.5"),
                     1);
    /* a batch the database refuses (the same symbol twice in one COPY of a first load) is
     * redone symbol by symbol: both succeed, the rows are stored once */
    ck_assert_int_eq(qt_sql_exec(dbinfo, "DELETE FROM bars WHERE symbol = 'ACME'"), 0);
    j = job("{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"ACME\",\"ACME\"],"
            "\"source\":\"csv\",\"path\":\".\",\"start_date\":\"2024-01-01\","
            "\"end_date\":\"2024-12-31\"}}",
            "succeeded");
    rows = json_object_get(json_object_get(j, "result"), "symbols");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "changed")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 1), "changed")), 0);
    json_decref(j);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'ACME'"), 3);
    stop();
}
END_TEST

/* The rows of option_quotes matching a condition. */
static long long
quotes_where(const char *cond)
{
    char sql[1024];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM option_quotes WHERE %s", cond);
    return qt_sql_int(dbinfo, sql);
}

/* The quotes array of GET path (status 200 asserted); r freed by the caller. */
static json_t *
chain_get(const char *path, struct qt_resp *r)
{
    ck_assert_int_eq(qt_get(&d, path, r), 0);
    ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
    return json_object_get(r->json, "quotes");
}

static double
num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

START_TEST(tradier_chains_stored_and_served)
{
    json_t *j, *rows, *qs, *q;
    struct qt_resp r;

    start("ok", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\",\"NOSUCH\"]}}",
            "succeeded");
    rows = json_object_get(json_object_get(j, "result"), "symbols");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "result"),
                                                       "data_provider")), "tradier");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "expirations")),
                     3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "rows")), 30);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "written")), 30);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(rows, 1),
                                                                   "error")),
                                 "no option expirations for NOSUCH"));
    key_not_leaked(j, TRADIER_TOKEN);
    json_decref(j);
    /* one expirations request and one chain per expiration, each once */
    ck_assert_int_eq(count_at(options_port, "ok", "expirations:ACME"), 1);
    ck_assert_int_eq(count_at(options_port, "ok", "chains:ACME"), 3);
    /* stored as of today in New York, values as served */
    ck_assert_int_eq(quotes_where("as_of = (now() AT TIME ZONE 'America/New_York')::date AND "
                                  "source = 'tradier' AND underlying = 'ACME'"), 30);
    ck_assert_int_eq(quotes_where("abs(bid - (greatest(0, CASE option_right WHEN 'C' THEN 100 - "
                                  "strike ELSE strike - 100 END) + 1.5 + 0.5 * (CASE expiration "
                                  "WHEN '2024-07-05' THEN 0 WHEN '2024-07-19' THEN 1 ELSE 2 END)"
                                  " - 0.05)) < 1e-9 AND abs(ask - bid - 0.1) < 1e-9"), 30);
    ck_assert_int_eq(quotes_where("last IS NULL"), 3);        /* the 110 calls never traded */
    ck_assert_int_eq(quotes_where("delta IS NULL OR gamma IS NULL OR iv IS NULL"), 0);
    ck_assert_int_eq(quotes_where("quote_time = '2024-06-28 18:59:59+00'"), 30);

    qs = chain_get("/v1/options/ACME?expiration=2024-07-19", &r);
    ck_assert_int_eq((int)json_array_size(qs), 10);
    q = json_array_get(qs, 0);                                /* the 90 call */
    ck_assert_str_eq(json_string_value(json_object_get(q, "contract")), "ACME240719C00090000");
    ck_assert_str_eq(json_string_value(json_object_get(q, "right")), "call");
    ck_assert_str_eq(json_string_value(json_object_get(q, "expiration")), "2024-07-19");
    ck_assert_double_eq_tol(num(q, "strike"), 90, 1e-12);
    ck_assert_double_eq_tol(num(q, "bid"), 11.95, 1e-9);
    ck_assert_double_eq_tol(num(q, "ask"), 12.05, 1e-9);
    ck_assert_double_eq_tol(num(q, "last"), 12.0, 1e-9);
    ck_assert_int_eq(json_integer_value(json_object_get(q, "volume")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(q, "open_interest")), 100);
    ck_assert_double_eq_tol(num(q, "delta"), 0.7, 1e-9);
    ck_assert_double_eq_tol(num(q, "iv"), 0.27, 1e-9);
    ck_assert_double_eq_tol(num(q, "theta"), -0.04, 1e-9);
    ck_assert_double_eq_tol(num(q, "vega"), 0.11, 1e-9);
    ck_assert_str_eq(json_string_value(json_object_get(q, "source")), "tradier");
    ck_assert_str_eq(json_string_value(json_object_get(q, "quote_time")),
                     "2024-06-28T18:59:59.000Z");
    q = json_array_get(qs, 9);                                /* the 110 put */
    ck_assert_str_eq(json_string_value(json_object_get(q, "right")), "put");
    ck_assert_double_eq_tol(num(q, "rho"), -0.04, 1e-9);
    ck_assert(json_is_null(json_object_get(json_array_get(qs, 8), "last")));
    qt_resp_free(&r);

    /* a re-run changes nothing */
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
            "\"expirations\":[\"2024-08-16\"]}}", "succeeded");
    rows = json_object_get(json_object_get(j, "result"), "symbols");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "rows")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "written")), 0);
    json_decref(j);
    ck_assert_int_eq(count_at(options_port, "ok", "chains:ACME"), 4);

    /* reads: unknown symbol, bad dates, a day without quotes */
    ck_assert_int_eq(qt_get(&d, "/v1/options/ZZZ", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/options/acme", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/options/ACME?as_of=2020-01-01", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/options/ACME?expiration=2024-02-30", &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "expiration");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/options/ACME?source=yahoo", &r), 0);
    ck_assert_int_eq(r.status, 400);
    qt_resp_free(&r);
    /* bad params are refused before anything runs */
    {
        static const char *const bad[][2] = {
            {"{\"symbols\":[\"acme\"]}", "params.symbols[0]"},
            {"{\"symbols\":[\"ACME\"],\"data_provider\":\"yahoo\"}", "params.data_provider"},
            {"{\"symbols\":[\"ACME\"],\"as_of\":\"2024-07-01\"}", "params.as_of"},
            {"{\"symbols\":[\"ACME\"],\"max_contracts\":5}", "params.max_contracts"},
            {"{\"symbols\":[\"ACME\"],\"expirations\":[\"2024-13-01\"]}",
             "params.expirations[0]"},
            {"{\"symbols\":[\"ACME\"],\"api_key\":\"x\"}", "params.api_key"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char body[256];
            snprintf(body, sizeof(body), "{\"type\":\"ingest_options\",\"params\":%s}",
                     bad[i][0]);
            ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", body, &r), 0);
            ck_assert_msg(r.status == 400, "%s: %ld", body, r.status);
            ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"),
                                                               "field")), bad[i][1]);
            qt_resp_free(&r);
        }
    }
    stop();
}
END_TEST

START_TEST(tradier_quirks)
{
    json_t *j, *row;

    /* one expiration as a bare string, one contract as a bare object */
    start("one", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"]}}", "succeeded");
    row = json_array_get(json_object_get(json_object_get(j, "result"), "symbols"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "expirations")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "rows")), 1);
    json_decref(j);
    ck_assert_int_eq(quotes_where("contract = 'ACME240719C00100000' AND strike = 100 AND "
                                  "option_right = 'C' AND expiration = '2024-07-19'"), 1);
    stop();
    /* "options": null is an empty chain, not an error */
    start("null", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"]}}", "succeeded");
    row = json_array_get(json_object_get(json_object_get(j, "result"), "symbols"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "expirations")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "rows")), 0);
    json_decref(j);
    ck_assert_int_eq(quotes_where("true"), 0);
    stop();
    /* greeks null: stored as NULL, never 0 */
    start("nogreeks", GOOD_KEY, 5000, 2);
    json_decref(job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
                    "\"max_expirations\":2}}", "succeeded"));
    ck_assert_int_eq(count_at(options_port, "nogreeks", "chains:ACME"), 2);
    ck_assert_int_eq(quotes_where("option_right = 'P' AND delta IS NULL AND gamma IS NULL AND "
                                  "iv IS NULL AND bid IS NOT NULL"), 10);
    ck_assert_int_eq(quotes_where("option_right = 'C' AND delta IS NOT NULL"), 10);
    ck_assert_int_eq(quotes_where("delta = 0 OR iv = 0"), 0);
    stop();
}
END_TEST

START_TEST(tradier_failures)
{
    json_t *j;

    /* a refused token: named, not retried, never echoed */
    start("401", GOOD_KEY, 5000, 3);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "TRADIER_API_KEY"));
    ck_assert_str_eq(err_code(j), "invalid_argument");
    ck_assert_int_eq(count_at(options_port, "401", "expirations:ACME"), 1);
    key_not_leaked(j, TRADIER_TOKEN);
    json_decref(j);
    stop();
    tradier_key = "wrong-token-wrong-token-wrong";
    start("ok", GOOD_KEY, 5000, 3);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"BETA\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "TRADIER_API_KEY"));
    ck_assert_ptr_nonnull(strstr(err_msg(j), "Invalid Access Token"));
    key_not_leaked(j, tradier_key);
    json_decref(j);
    stop();
    tradier_key = TRADIER_TOKEN;
    /* the rate limit: 4 requests a second; the client waits for X-Ratelimit-Expiry (one retry
     * with a 50 ms backoff would hit the same window again) */
    start("ratelimit", GOOD_KEY, 5000, 1);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\",\"BETA\"]}}",
            "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(
                         json_object_get(j, "result"), "symbols"), 1), "rows")), 30);
    ck_assert_int_eq(count_at(options_port, "ratelimit", "expirations:BETA"), 2);
    json_decref(j);
    stop();
    /* 429 and 500 once per request: each retried once */
    start("429once", GOOD_KEY, 5000, 2);
    json_decref(job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
                    "\"expirations\":[\"2024-07-19\"]}}", "succeeded"));
    ck_assert_int_eq(count_at(options_port, "429once", "expirations:ACME"), 2);
    ck_assert_int_eq(count_at(options_port, "429once", "chains:ACME"), 2);
    ck_assert_int_eq(quotes_where("true"), 10);
    stop();
    start("500once", GOOD_KEY, 5000, 2);
    json_decref(job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
                    "\"max_expirations\":1}}", "succeeded"));
    ck_assert_int_eq(count_at(options_port, "500once", "chains:ACME"), 2);
    ck_assert_int_eq(quotes_where("expiration = '2024-07-05'"), 10);
    stop();
    start("500always", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "HTTP 500"));
    ck_assert_str_eq(err_code(j), "unavailable");
    ck_assert_int_eq(count_at(options_port, "500always", "expirations:ACME"), 3);
    json_decref(j);
    stop();
    start("slow", GOOD_KEY, 800, 1);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"]}}", "failed");
    ck_assert_msg(strcasestr(err_msg(j), "timeout") || strcasestr(err_msg(j), "timed out"),
                  "%s", err_msg(j));
    ck_assert_int_eq(count_at(options_port, "slow", "expirations:ACME"), 2);
    json_decref(j);
    stop();
    start("truncated", GOOD_KEY, 5000, 1);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "not JSON"));
    ck_assert_int_eq(count_at(options_port, "truncated", "expirations:ACME"), 2);
    json_decref(j);
    stop();
    start("html", GOOD_KEY, 5000, 1);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"]}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "HTML"));
    json_decref(j);
    ck_assert_int_eq(quotes_where("true"), 0);
    stop();
}
END_TEST

START_TEST(polygon_contracts_and_day_bars)
{
    json_t *j, *row, *qs, *q;
    struct qt_resp r;

    start("ok", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\",\"NOSUCH\"],"
            "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-01\"}}", "succeeded");
    row = json_array_get(json_object_get(json_object_get(j, "result"), "symbols"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(row, "as_of")), "2024-07-01");
    ck_assert_int_eq(json_integer_value(json_object_get(row, "expirations")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "rows")), 30);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(
                                     json_object_get(json_object_get(j, "result"), "symbols"),
                                     1), "error")),
                                 "no option contracts for NOSUCH"));
    key_not_leaked(j, POLYGON_KEY);
    json_decref(j);
    ck_assert_int_eq(count_at(options_port, "ok", "contracts:ACME"), 1);
    ck_assert_int_eq(count_at(options_port, "ok", "aggs:O:ACME240719C00090000"), 1);
    /* the day's close and volume; no bid/ask or greeks on this API: NULL */
    ck_assert_int_eq(quotes_where("source = 'polygon' AND as_of = '2024-07-01' AND bid IS NULL "
                                  "AND ask IS NULL AND delta IS NULL AND iv IS NULL AND "
                                  "open_interest IS NULL AND quote_time = "
                                  "'2024-07-01 04:00:00+00'"), 30);
    qs = chain_get("/v1/options/ACME?as_of=2024-07-01&expiration=2024-07-19&source=polygon", &r);
    ck_assert_int_eq((int)json_array_size(qs), 10);
    q = json_array_get(qs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(q, "contract")), "ACME240719C00090000");
    ck_assert_double_eq_tol(num(q, "last"), 12.0, 1e-9);
    ck_assert_int_eq(json_integer_value(json_object_get(q, "volume")), 10);
    ck_assert(json_is_null(json_object_get(q, "bid")));
    ck_assert(json_is_null(json_object_get(q, "delta")));
    q = json_array_get(qs, 9);
    ck_assert_str_eq(json_string_value(json_object_get(q, "contract")), "ACME240719P00110000");
    ck_assert_double_eq_tol(num(q, "last"), 12.0, 1e-9);
    ck_assert_int_eq(json_integer_value(json_object_get(q, "volume")), 100);
    qt_resp_free(&r);
    /* latest day by default */
    qs = chain_get("/v1/options/ACME", &r);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "as_of")), "2024-07-01");
    ck_assert_int_eq((int)json_array_size(qs), 30);
    qt_resp_free(&r);
    /* one expiration; too many contracts fails the symbol and keeps nothing new */
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"BETA\"],"
            "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-02\","
            "\"expirations\":[\"2024-08-16\"]}}", "succeeded");
    row = json_array_get(json_object_get(json_object_get(j, "result"), "symbols"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "rows")), 10);
    json_decref(j);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"GAMMA\"],"
            "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-02\",\"max_contracts\":20}}",
            "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "max_contracts"));
    json_decref(j);
    ck_assert_int_eq(quotes_where("underlying = 'GAMMA'"), 0);
    ck_assert_int_eq(count_at(options_port, "ok", "aggs:O:GAMMA240719C00090000"), 0);
    stop();
}
END_TEST

START_TEST(polygon_paging_and_failures)
{
    json_t *j, *row;

    /* 7 contracts a page: next_url followed (under our base) until the listing ends */
    start("paged", GOOD_KEY, 5000, 2);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
            "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-01\",\"max_expirations\":2}}",
            "succeeded");
    row = json_array_get(json_object_get(json_object_get(j, "result"), "symbols"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "rows")), 20);
    ck_assert_int_eq(json_integer_value(json_object_get(row, "expirations")), 2);
    json_decref(j);
    ck_assert_int_eq(count_at(options_port, "paged", "contracts:ACME"), 5);   /* 30 = 4x7 + 2 */
    ck_assert_int_eq(count_at(options_port, "paged", "aggs:O:ACME240816C00090000"), 0);
    ck_assert_int_eq(quotes_where("expiration IN ('2024-07-05', '2024-07-19')"), 20);
    stop();
    start("403", GOOD_KEY, 5000, 3);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
            "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-01\"}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "POLYGON_API_KEY"));
    ck_assert_ptr_nonnull(strstr(err_msg(j), "not entitled"));
    ck_assert_int_eq(count_at(options_port, "403", "contracts:ACME"), 1);
    key_not_leaked(j, POLYGON_KEY);
    json_decref(j);
    stop();
    polygon_key = "polygon-wrong-key-0000000000";
    start("ok", GOOD_KEY, 5000, 3);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"DELTA\"],"
            "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-01\"}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "Unknown API Key"));
    ck_assert_int_eq(count_at(options_port, "ok", "contracts:DELTA"), 1);
    key_not_leaked(j, polygon_key);
    json_decref(j);
    stop();
    polygon_key = POLYGON_KEY;
    start("429once", GOOD_KEY, 5000, 2);
    json_decref(job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
                    "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-01\","
                    "\"expirations\":[\"2024-07-05\"]}}", "succeeded"));
    ck_assert_int_eq(count_at(options_port, "429once", "contracts:ACME"), 2);
    ck_assert_int_eq(count_at(options_port, "429once", "aggs:O:ACME240705P00100000"), 2);
    ck_assert_int_eq(quotes_where("last IS NOT NULL"), 10);
    stop();
    start("truncated", GOOD_KEY, 5000, 1);
    j = job("{\"type\":\"ingest_options\",\"params\":{\"symbols\":[\"ACME\"],"
            "\"data_provider\":\"polygon\",\"as_of\":\"2024-07-01\"}}", "failed");
    ck_assert_ptr_nonnull(strstr(err_msg(j), "not JSON"));
    ck_assert_int_eq(count_at(options_port, "truncated", "contracts:ACME"), 2);
    json_decref(j);
    ck_assert_int_eq(quotes_where("true"), 0);
    stop();
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("feeds");
    TCase *tc = tcase_create("feeds");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fred_rows_missing_values_and_reads);
    tcase_add_test(tc, fred_paging_follows_offsets);
    tcase_add_test(tc, fred_retries_429_and_5xx);
    tcase_add_test(tc, fred_refusals_are_not_retried);
    tcase_add_test(tc, fred_bad_answers);
    tcase_add_test(tc, cboe_vix_history);
    tcase_add_test(tc, schedule_runs_ingest);
    tcase_add_test(tc, csv_source_import_dir);
    tcase_add_test(tc, cftc_cot_reports);
    tcase_add_test(tc, cftc_paging_and_failures);
    tcase_add_test(tc, yahoo_bars_with_crumb);
    tcase_add_test(tc, yahoo_consent_wall);
    tcase_add_test(tc, yahoo_quirks_and_failures);
    tcase_add_test(tc, tradier_chains_stored_and_served);
    tcase_add_test(tc, tradier_quirks);
    tcase_add_test(tc, tradier_failures);
    tcase_add_test(tc, polygon_contracts_and_day_bars);
    tcase_add_test(tc, polygon_paging_and_failures);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
