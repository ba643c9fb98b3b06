#define _GNU_SOURCE
#include "tests/unit/unit.h"
#include "daemon/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static const char *
write_cfg(const char *text)
{
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/quantd-cfg-%d.json", (int)getpid());
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void
clear_env(void)
{
    unsetenv("QUANTD_LISTEN");
    unsetenv("QUANTD_DATABASE_URL");
    unsetenv("QUANTD_STATE_DIR");
    unsetenv("QUANTD_LOG_LEVEL");
    unsetenv("QUANTD_ROLE");
    unsetenv("QUANTD_JOBS_WORKERS");
    unsetenv("QUANTD_LOG_FILE");
}

START_TEST(defaults_file_and_env)
{
    struct qd_config c;
    struct qd_err err;

    clear_env();
    ck_assert_int_eq(config_load(&c, write_cfg("{\"server\": {\"listen\": \"127.0.0.1:9000\", "
                                               "\"cors_origins\": [\"http://a\"]}, "
                                               "\"jobs\": {\"workers\": 3}}"),
                                 &err),
                     QD_OK);
    ck_assert_str_eq(c.listen, "127.0.0.1:9000");
    ck_assert_uint_eq(c.jobs_workers, 3);
    ck_assert_uint_eq(c.pool_size, 4);                   /* default */
    ck_assert_str_eq(c.cors_origins[0], "http://a");
    ck_assert_ptr_null(c.cors_origins[1]);
    config_release(&c);

    setenv("QUANTD_LISTEN", "127.0.0.1:7777", 1);
    setenv("QUANTD_DATABASE_URL", "host=/tmp dbname=x password=secret", 1);
    ck_assert_int_eq(config_load(&c, path, &err), QD_OK);
    ck_assert_str_eq(c.listen, "127.0.0.1:7777");        /* the environment wins */
    ck_assert_str_eq(c.database_url, "host=/tmp dbname=x password=secret");
    {
        char *dump = config_dump(&c);
        ck_assert_ptr_null(strstr(dump, "secret"));      /* masked */
        ck_assert_ptr_nonnull(strstr(dump, "\"workers\": 3"));
        free(dump);
    }
    config_release(&c);
    clear_env();
    unlink(path);
}
END_TEST

static const struct {
    const char *json, *field;
} bad[] = {
    {"{\"server\": {\"listne\": \"x\"}}", "server.listne"},
    {"{\"server\": {\"body_max\": 10}}", "server.body_max"},
    {"{\"server\": {\"body_max\": \"big\"}}", "server.body_max"},
    {"{\"jobs\": {\"workers\": 1.5}}", "jobs.workers"},
    {"{\"server\": {\"log_level\": \"loud\"}}", "server.log_level"},
    {"{\"server\": {\"role\": \"boss\"}}", "server.role"},
    {"{\"server\": {\"listen\": \"nocolon\"}}", "server.listen"},
    {"{\"server\": {\"cors_origins\": [1]}}", "server.cors_origins"},
    {"{\"server\": 5}", "server"},
    {"{\"jobs\": {\"heartbeat_ms\": 40000, \"lease_seconds\": 30}}", "jobs.heartbeat_ms"},
};

START_TEST(bad_values_name_the_key)
{
    struct qd_config c;
    struct qd_err err = {0};

    clear_env();
    ck_assert_int_eq(config_load(&c, write_cfg(bad[_i].json), &err), QD_EINVAL);
    ck_assert_str_eq(err.field, bad[_i].field);
    ck_assert_ptr_nonnull(strstr(err.msg, path));        /* file named, except env errors */
    unlink(path);
}
END_TEST

START_TEST(malformed_file_and_env)
{
    struct qd_config c;
    struct qd_err err = {0};

    clear_env();
    ck_assert_int_eq(config_load(&c, write_cfg("{\"server\": {"), &err), QD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, ":1:"));       /* file:line:column */
    ck_assert_int_eq(config_load(&c, "/nonexistent/quantd.json", &err), QD_EINVAL);
    setenv("QUANTD_JOBS_WORKERS", "many", 1);
    ck_assert_int_eq(config_load(&c, write_cfg("{}"), &err), QD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "QUANTD_JOBS_WORKERS"));
    clear_env();
    unlink(path);
}
END_TEST

START_TEST(reload_applies_only_reloadable)
{
    struct qd_config a, b;
    struct qd_err err;

    clear_env();
    ck_assert_int_eq(config_load(&a, write_cfg("{}"), &err), QD_OK);
    ck_assert_int_eq(config_load(&b, write_cfg("{\"server\": {\"listen\": \"127.0.0.1:1\", "
                                               "\"log_level\": \"debug\", "
                                               "\"rate_limit_per_second\": 3, "
                                               "\"cors_origins\": [\"http://x\"]}}"),
                                 &err),
                     QD_OK);
    ck_assert(config_apply_reloadable(&a, &b));
    ck_assert_str_eq(a.listen, "127.0.0.1:8080");        /* not reloadable */
    ck_assert_int_eq(a.log_level, 7);
    ck_assert(a.rate_limit_per_second == 3);
    ck_assert_str_eq(a.cors_origins[0], "http://x");
    ck_assert(!config_apply_reloadable(&a, &b));         /* nothing left to change */
    config_release(&a);
    config_release(&b);
    unlink(path);
}
END_TEST

START_TEST(split_listen)
{
    char host[64];
    unsigned port;

    ck_assert(config_split_listen("127.0.0.1:8080", host, sizeof(host), &port));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 8080);
    ck_assert(config_split_listen("[::1]:9", host, sizeof(host), &port));
    ck_assert_str_eq(host, "::1");
    ck_assert(!config_split_listen("127.0.0.1:99999", host, sizeof(host), &port));
    ck_assert(!config_split_listen(":80", host, sizeof(host), &port));
    ck_assert(!config_split_listen("127.0.0.1:x", host, sizeof(host), &port));
}
END_TEST

Suite *
suite_config(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, defaults_file_and_env);
    tcase_add_loop_test(tc, bad_values_name_the_key, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, malformed_file_and_env);
    tcase_add_test(tc, reload_applies_only_reloadable);
    tcase_add_test(tc, split_listen);
    suite_add_tcase(s, tc);
    return s;
}
