#include "tests/unit/unit.h"
#include "api/api_int.h"
#include "jobs/job.h"
#include "jobs/runner.h"
#include "storage/tokens_db.h"

#include <string.h>

START_TEST(router_matches_and_captures)
{
    char params[API_MAX_PARAMS][256], allow[64];
    unsigned np = 0;
    int i;

    i = api_route_lookup("GET", "/v1/jobs/42", params, &np, allow, sizeof(allow));
    ck_assert_int_ge(i, 0);
    ck_assert_str_eq(api_routes[i].path, "/v1/jobs/{id}");
    ck_assert_uint_eq(np, 1);
    ck_assert_str_eq(params[0], "42");
    i = api_route_lookup("POST", "/v1/jobs/7/cancel", params, &np, allow, sizeof(allow));
    ck_assert_str_eq(api_routes[i].path, "/v1/jobs/{id}/cancel");
    ck_assert_str_eq(params[0], "7");
    i = api_route_lookup("PUT", "/v1/bars/BRK.B", params, &np, allow, sizeof(allow));
    ck_assert_str_eq(api_routes[i].method, "PUT");
    ck_assert_str_eq(params[0], "BRK.B");
    /* wrong method: -1 and the methods the path has */
    ck_assert_int_eq(api_route_lookup("DELETE", "/v1/jobs", params, &np, allow, sizeof(allow)),
                     -1);
    ck_assert_ptr_nonnull(strstr(allow, "POST"));
    ck_assert_ptr_nonnull(strstr(allow, "GET"));
    /* unknown path: -1 and nothing allowed */
    ck_assert_int_eq(api_route_lookup("GET", "/v1/jobs/1/2/3", params, &np, allow, sizeof(allow)),
                     -1);
    ck_assert_str_eq(allow, "");
    ck_assert_int_eq(api_route_lookup("GET", "/v1/jobs/", params, &np, allow, sizeof(allow)), -1);
    ck_assert_int_eq(api_route_lookup("GET", "/v1/healthz", params, &np, allow, sizeof(allow)),
                     -1);
}
END_TEST

START_TEST(route_table_is_sane)
{
    for (unsigned i = 0; i < api_routes_count; i++) {
        const struct api_route *r = &api_routes[i];
        ck_assert_msg((r->flags & API_NOAUTH) || r->scope != 0, "%s %s has no scope", r->method,
                      r->path);
        for (unsigned k = i + 1; k < api_routes_count; k++)
            ck_assert_msg(strcmp(r->method, api_routes[k].method) != 0 ||
                              strcmp(r->path, api_routes[k].path) != 0,
                          "duplicate route %s %s", r->method, r->path);
        /* mutating routes need more than read; a POST that only reads says so */
        if (strcmp(r->method, "GET") != 0)
            ck_assert_msg(r->scope != SCOPE_READ || (r->flags & API_READ_POST), "%s %s",
                          r->method, r->path);
        if (r->flags & API_READ_POST)
            ck_assert_str_eq(r->method, "POST");
    }
}
END_TEST

START_TEST(scopes)
{
    ck_assert_uint_eq(token_scope_parse("read"), SCOPE_READ);
    ck_assert_uint_eq(token_scope_parse("admin"), SCOPE_ADMIN);
    ck_assert_uint_eq(token_scope_parse("root"), 0);
    ck_assert(token_scope_allows(SCOPE_ADMIN, SCOPE_TRADE));
    ck_assert(token_scope_allows(SCOPE_RESEARCH, SCOPE_READ));
    ck_assert(token_scope_allows(SCOPE_TRADE, SCOPE_READ));
    ck_assert(!token_scope_allows(SCOPE_READ, SCOPE_RESEARCH));
    ck_assert(!token_scope_allows(SCOPE_RESEARCH, SCOPE_TRADE));
    ck_assert(!token_scope_allows(SCOPE_TRADE, SCOPE_ADMIN));
    ck_assert(!token_scope_allows(0, SCOPE_READ));
}
END_TEST

START_TEST(token_hash_is_sha256)
{
    unsigned char h[32];
    static const unsigned char abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

    token_hash("abc", 3, h);
    ck_assert_mem_eq(h, abc, 32);
}
END_TEST

static const struct {
    const char *json, *field;
} job_cases[] = {
    {"{\"symbols\":[\"A\"],\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\"}", ""},
    {"{\"symbols\":[\"A\"],\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\","
     "\"source\":\"synthetic\"}", ""},
    {"{\"symbols\":[],\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\"}",
     "params.symbols"},
    {"{\"symbols\":\"A\",\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\"}",
     "params.symbols"},
    {"{\"symbols\":[\"A\",7],\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\"}",
     "params.symbols[1]"},
    {"{\"symbols\":[\"A\",\"B C\"],\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\"}",
     "params.symbols[1]"},
    {"{\"symbols\":[\"A\"],\"end_date\":\"2020-02-01\"}", "params.start_date"},
    {"{\"symbols\":[\"A\"],\"start_date\":\"2020-1-01\",\"end_date\":\"2020-02-01\"}",
     "params.start_date"},
    {"{\"symbols\":[\"A\"],\"start_date\":\"2020-03-01\",\"end_date\":\"2020-02-01\"}",
     "params.end_date"},
    {"{\"symbols\":[\"A\"],\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\","
     "\"source\":\"bloomberg\"}", "params.source"},
    {"{\"symbols\":[\"A\"],\"start_date\":\"2020-01-01\",\"end_date\":\"2020-02-01\","
     "\"colour\":1}", "params.colour"},
};

START_TEST(job_params_validation)
{
    json_t *p = json_loads(job_cases[_i].json, 0, NULL);
    struct qd_err err = {0};
    enum qd_code rc;

    ck_assert_ptr_nonnull(p);
    rc = job_validate("ingest_equity", p, &err);
    if (job_cases[_i].field[0] == '\0')
        ck_assert_msg(rc == QD_OK, "%s: %s", job_cases[_i].json, err.msg);
    else {
        ck_assert_int_eq(rc, QD_EINVAL);
        ck_assert_str_eq(err.field, job_cases[_i].field);
    }
    json_decref(p);
}
END_TEST

START_TEST(job_type_unknown)
{
    json_t *p = json_object();
    struct qd_err err = {0};

    ck_assert_int_eq(job_validate("launch_rockets", p, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "type");
    ck_assert_ptr_nonnull(strstr(err.msg, "ingest_equity"));
    json_decref(p);
    p = json_array();
    ck_assert_int_eq(job_validate("ingest_equity", p, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "params");
    json_decref(p);
}
END_TEST

START_TEST(backoff_grows_and_caps)
{
    unsigned a = job_backoff_ms(1000, 60000, 1, 7), b = job_backoff_ms(1000, 60000, 2, 7);
    unsigned c = job_backoff_ms(1000, 60000, 3, 7), z = job_backoff_ms(1000, 60000, 30, 7);

    ck_assert(a >= 800 && a <= 1000);
    ck_assert(b >= 1600 && b <= 2000);
    ck_assert(c >= 3200 && c <= 4000);
    ck_assert(z >= 48000 && z <= 60000);
}
END_TEST

Suite *
suite_router_auth(void)
{
    Suite *s = suite_create("router_auth_validation");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, router_matches_and_captures);
    tcase_add_test(tc, route_table_is_sane);
    tcase_add_test(tc, scopes);
    tcase_add_test(tc, token_hash_is_sha256);
    tcase_add_loop_test(tc, job_params_validation, 0, sizeof(job_cases) / sizeof(job_cases[0]));
    tcase_add_test(tc, job_type_unknown);
    tcase_add_test(tc, backoff_grows_and_caps);
    suite_add_tcase(s, tc);
    return s;
}
