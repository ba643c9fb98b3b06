/* The options providers' parsers on hand-made answers in the documented wire formats: Tradier's
 * expirations and chains (array, lone object or string, null; greeks null; iv fallback; quote
 * time), Polygon's contracts (the "O:" prefix, next_url, one object) and aggregates; OCC
 * symbols; the New York calendar day that dates a snapshot. */
#include "tests/unit/unit.h"
#include "common/date.h"
#include "feeds/options.h"
#include "feeds/polygon.h"
#include "feeds/tradier.h"

#include <math.h>
#include <string.h>

#define D(y, m, d) qd_days_from_civil(y, m, d)
#define LIT(s) s, strlen(s)

START_TEST(tradier_expirations)
{
    int32_t days[4];
    size_t n = 99;
    struct qd_err err;
    static const char arr[] = "{\"expirations\":{\"date\":[\"2024-08-16\",\"2024-07-19\","
                              "\"2024-08-16\"]}}";
    static const char one[] = "{\"expirations\":{\"date\":\"2024-07-19\"}}";
    static const char obj[] = "{\"expirations\":{\"expiration\":[{\"date\":\"2024-07-05\","
                              "\"contract_size\":100,\"strikes\":{\"strike\":[90.0,95.0]}},"
                              "{\"date\":\"2024-07-19\"}]}}";
    static const char five[] = "{\"expirations\":{\"date\":[\"2024-07-01\",\"2024-07-02\","
                               "\"2024-07-03\",\"2024-07-04\",\"2024-07-05\"]}}";

    ck_assert_int_eq(tradier_parse_expirations(arr, strlen(arr), days, 4, &n, &err), QD_OK);
    ck_assert_uint_eq(n, 2);                                  /* sorted, repeats dropped */
    ck_assert_int_eq(days[0], D(2024, 7, 19));
    ck_assert_int_eq(days[1], D(2024, 8, 16));
    ck_assert_int_eq(tradier_parse_expirations(one, strlen(one), days, 4, &n, &err), QD_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(days[0], D(2024, 7, 19));
    ck_assert_int_eq(tradier_parse_expirations(obj, strlen(obj), days, 4, &n, &err), QD_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(days[0], D(2024, 7, 5));
    ck_assert_int_eq(tradier_parse_expirations(LIT("{\"expirations\":null}"), days, 4, &n, &err),
                     QD_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(tradier_parse_expirations(five, strlen(five), days, 4, &n, &err),
                     QD_ETOOBIG);
    ck_assert_int_eq(tradier_parse_expirations(LIT("{\"expirations\":{\"date\":"
                                                   "[\"07/19/2024\"]}}"),
                                               days, 4, &n, &err),
                     QD_EINVAL);
    ck_assert_int_eq(tradier_parse_expirations(LIT("<html>"), days, 4, &n, &err), QD_EINVAL);
    ck_assert_int_eq(tradier_parse_expirations(LIT("{}"), days, 4, &n, &err), QD_EINVAL);
}
END_TEST

static const char chain2[] =
    "{\"options\":{\"option\":["
    "{\"symbol\":\"SPY240719C00450000\",\"description\":\"SPY Jul 19 2024 $450.00 Call\","
    "\"exch\":\"Z\",\"type\":\"option\",\"last\":12.5,\"bid\":12.4,\"ask\":12.6,\"volume\":7,"
    "\"open_interest\":1500,\"strike\":450.0,\"option_type\":\"call\",\"expiration_date\":"
    "\"2024-07-19\",\"bid_date\":1719601199000,\"ask_date\":1719601198000,\"trade_date\":"
    "1719601139000,\"greeks\":{\"delta\":0.55,\"gamma\":0.02,\"theta\":-0.1,\"vega\":0.3,"
    "\"rho\":0.05,\"phi\":-0.06,\"bid_iv\":0.1,\"mid_iv\":0.0,\"ask_iv\":0.2,\"smv_vol\":0.18,"
    "\"updated_at\":\"2024-06-28 14:58:59\"}},"
    "{\"symbol\":\"SPY240719P00450000\",\"last\":null,\"bid\":3.1,\"ask\":null,\"volume\":0,"
    "\"open_interest\":null,\"strike\":450,\"option_type\":\"put\",\"expiration_date\":"
    "\"2024-07-19\",\"bid_date\":0,\"ask_date\":0,\"trade_date\":1719601139000,"
    "\"greeks\":null}]}}";

START_TEST(tradier_chain)
{
    struct option_quotes l = {0};
    size_t got;
    struct qd_err err;
    const struct option_quote *c, *p;

    ck_assert_int_eq(tradier_parse_chain(chain2, strlen(chain2), &l, &got, &err), QD_OK);
    ck_assert_uint_eq(got, 2);
    c = &l.q[0];
    p = &l.q[1];
    ck_assert_str_eq(c->contract, "SPY240719C00450000");
    ck_assert(c->right == 'C' && c->strike == 450 && c->expiration == D(2024, 7, 19));
    ck_assert(c->bid == 12.4 && c->ask == 12.6 && c->last == 12.5);
    ck_assert(c->volume == 7 && c->open_interest == 1500);
    ck_assert(c->delta == 0.55 && c->gamma == 0.02 && c->theta == -0.1 && c->vega == 0.3 &&
              c->rho == 0.05);
    ck_assert(c->iv == 0.18);                     /* mid_iv 0 (no market): smv_vol */
    ck_assert(c->quote_ms == 1719601199000LL);    /* the later of bid_date and ask_date */
    ck_assert(p->right == 'P' && isnan(p->last) && isnan(p->ask) && p->bid == 3.1);
    ck_assert(p->volume == 0 && p->open_interest == -1);
    ck_assert(isnan(p->delta) && isnan(p->iv) && isnan(p->rho));      /* greeks null: absent */
    ck_assert(p->quote_ms == 1719601139000LL);    /* no quote dates: the trade date */
    /* a lone contract as an object; null chains add nothing */
    {
        static const char one[] = "{\"options\":{\"option\":{\"symbol\":\"X240719C00001500\","
                                  "\"strike\":1.5,\"option_type\":\"call\",\"expiration_date\":"
                                  "\"2024-07-19\"}}}";
        ck_assert_int_eq(tradier_parse_chain(one, strlen(one), &l, &got, &err), QD_OK);
        ck_assert_uint_eq(got, 1);
        ck_assert_uint_eq(l.n, 3);
        ck_assert(l.q[2].strike == 1.5 && isnan(l.q[2].bid) && l.q[2].volume == -1);
    }
    ck_assert_int_eq(tradier_parse_chain(LIT("{\"options\":null}"), &l, &got, &err), QD_OK);
    ck_assert_uint_eq(got, 0);
    /* a bad contract fails the chain and keeps the list as it was */
    {
        static const char bad[] = "{\"options\":{\"option\":[{\"symbol\":\"A240719C00001000\","
                                  "\"strike\":1,\"option_type\":\"call\",\"expiration_date\":"
                                  "\"2024-07-19\"},{\"symbol\":\"B240719C00001000\","
                                  "\"option_type\":\"call\",\"expiration_date\":\"2024-07-19\"}]}}";
        ck_assert_int_eq(tradier_parse_chain(bad, strlen(bad), &l, &got, &err), QD_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "B240719C00001000"));
        ck_assert_ptr_nonnull(strstr(err.msg, "strike"));
        ck_assert_uint_eq(l.n, 3);
    }
    ck_assert_int_eq(tradier_parse_chain(LIT("{\"options\":{\"option\":[{\"symbol\":\"A\","
                                         "\"strike\":1,\"option_type\":\"straddle\","
                                         "\"expiration_date\":\"2024-07-19\"}]}}"),
                                         &l, &got, &err),
                     QD_EINVAL);
    option_quotes_release(&l);
}
END_TEST

START_TEST(tradier_errors)
{
    char msg[64];
    static const char fault[] = "{\"fault\":{\"faultstring\":\"Missing required parameter: "
                                "expiration\",\"detail\":{\"errorcode\":\"x\"}}}";
    static const char errs[] = "{\"errors\":{\"error\":[\"Invalid symbol\",\"second\"]}}";

    tradier_error_message(fault, strlen(fault), msg, sizeof(msg));
    ck_assert_str_eq(msg, "Missing required parameter: expiration");
    tradier_error_message(errs, strlen(errs), msg, sizeof(msg));
    ck_assert_str_eq(msg, "Invalid symbol");
    tradier_error_message(LIT("Invalid Access Token\r\n"), msg, sizeof(msg));
    ck_assert_str_eq(msg, "Invalid Access Token");
    tradier_error_message(LIT("Quota Violation"), msg, 6);
    ck_assert_str_eq(msg, "Quota");
}
END_TEST

START_TEST(polygon_contracts)
{
    struct option_quotes l = {0};
    size_t got;
    char next[128];
    struct qd_err err;
    static const char page[] =
        "{\"results\":[{\"cfi\":\"OCASPS\",\"contract_type\":\"call\",\"exercise_style\":"
        "\"american\",\"expiration_date\":\"2024-07-19\",\"primary_exchange\":\"BATO\","
        "\"shares_per_contract\":100,\"strike_price\":450,\"ticker\":\"O:SPY240719C00450000\","
        "\"underlying_ticker\":\"SPY\"},{\"contract_type\":\"put\",\"expiration_date\":"
        "\"2024-07-19\",\"strike_price\":447.5,\"ticker\":\"O:SPY240719P00447500\"}],"
        "\"status\":\"OK\",\"request_id\":\"abc\",\"next_url\":\"https://api.polygon.io/v3/"
        "reference/options/contracts?cursor=YWJj\"}";
    static const char single[] =
        "{\"results\":{\"contract_type\":\"put\",\"expiration_date\":\"2024-08-16\","
        "\"strike_price\":5,\"ticker\":\"O:F240816P00005000\"},\"status\":\"OK\"}";

    ck_assert_int_eq(polygon_parse_contracts(page, strlen(page), &l, &got, next, sizeof(next),
                                             &err), QD_OK);
    ck_assert_uint_eq(got, 2);
    ck_assert_str_eq(l.q[0].contract, "SPY240719C00450000");          /* "O:" dropped */
    ck_assert(l.q[0].right == 'C' && l.q[0].strike == 450 &&
              l.q[0].expiration == D(2024, 7, 19));
    ck_assert(l.q[1].right == 'P' && l.q[1].strike == 447.5);
    ck_assert(isnan(l.q[1].bid) && isnan(l.q[1].delta) && l.q[1].volume == -1);
    ck_assert_str_eq(next, "https://api.polygon.io/v3/reference/options/contracts?cursor=YWJj");
    ck_assert_int_eq(polygon_parse_contracts(single, strlen(single), &l, &got, next,
                                             sizeof(next), &err), QD_OK);
    ck_assert_uint_eq(got, 1);
    ck_assert_str_eq(next, "");
    ck_assert_str_eq(l.q[2].contract, "F240816P00005000");
    ck_assert_int_eq(polygon_parse_contracts(LIT("{\"results\":[],\"status\":\"OK\"}"), &l, &got,
                                             next, sizeof(next), &err), QD_OK);
    ck_assert_uint_eq(got, 0);
    /* a next_url too long for the buffer, a contract without a type: refused, list kept */
    ck_assert_int_eq(polygon_parse_contracts(page, strlen(page), &l, &got, next, 20, &err),
                     QD_EINVAL);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(polygon_parse_contracts(LIT("{\"results\":[{\"expiration_date\":"
                                                 "\"2024-07-19\",\"strike_price\":1,"
                                                 "\"ticker\":\"O:A\"}]}"),
                                             &l, &got, next, sizeof(next), &err),
                     QD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "contract_type"));
    ck_assert_uint_eq(l.n, 3);
    /* an empty listing may omit "results"; anything but an object is not an answer */
    ck_assert_int_eq(polygon_parse_contracts(LIT("{\"status\":\"OK\"}"), &l, &got, next,
                                             sizeof(next), &err), QD_OK);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(polygon_parse_contracts(LIT("[1]"), &l, &got, next, sizeof(next), &err),
                     QD_EINVAL);
    option_quotes_release(&l);
}
END_TEST

START_TEST(polygon_aggs_and_errors)
{
    struct polygon_bar b[2];
    size_t n = 9;
    struct qd_err err;
    char msg[80];
    static const char aggs[] =
        "{\"ticker\":\"O:SPY240719C00450000\",\"queryCount\":1,\"resultsCount\":1,\"adjusted\":"
        "false,\"results\":[{\"v\":120.0,\"vw\":12.51,\"o\":12.3,\"c\":12.5,\"h\":12.8,\"l\":12.1,"
        "\"t\":1719806400000,\"n\":31}],\"status\":\"OK\",\"request_id\":\"x\",\"count\":1}";
    static const char none[] = "{\"ticker\":\"O:X\",\"queryCount\":0,\"resultsCount\":0,"
                               "\"adjusted\":false,\"status\":\"OK\",\"count\":0}";

    ck_assert_int_eq(polygon_parse_aggs(aggs, strlen(aggs), b, 2, &n, &err), QD_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(b[0].t == 1719806400000LL && b[0].c == 12.5 && b[0].v == 120 && b[0].vw == 12.51);
    ck_assert_int_eq(qd_new_york_day(b[0].t / 1000), D(2024, 7, 1));
    ck_assert_int_eq(polygon_parse_aggs(none, strlen(none), b, 2, &n, &err), QD_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(polygon_parse_aggs(LIT("{\"results\":[{\"t\":1}]}"), b, 2, &n, &err),
                     QD_EINVAL);
    ck_assert_int_eq(polygon_parse_aggs(LIT("{\"results\":[{\"t\":1,\"c\":1},{\"t\":2,\"c\":1},"
                                        "{\"t\":3,\"c\":1}]}"), b, 2, &n, &err), QD_ETOOBIG);
    polygon_error_message(LIT("{\"status\":\"ERROR\",\"request_id\":\"r\",\"error\":\"Unknown API "
                          "Key\"}"), msg, sizeof(msg));
    ck_assert_str_eq(msg, "Unknown API Key");
    polygon_error_message(LIT("{\"status\":\"NOT_AUTHORIZED\",\"message\":"
                              "\"You are not entitled\"}"),
                          msg, sizeof(msg));
    ck_assert_str_eq(msg, "You are not entitled");
    polygon_error_message(LIT("<html>"), msg, sizeof(msg));
    ck_assert_str_eq(msg, "");
}
END_TEST

START_TEST(occ_symbols_and_underlyings)
{
    int32_t exp;
    char right;
    double strike;

    ck_assert(occ_parse("SPY240719C00450000", &exp, &right, &strike));
    ck_assert(exp == D(2024, 7, 19) && right == 'C' && strike == 450);
    ck_assert(occ_parse("BRKB251219P00012500", &exp, &right, &strike));
    ck_assert(exp == D(2025, 12, 19) && right == 'P' && strike == 12.5);
    ck_assert(!occ_parse("SPY240719X00450000", &exp, &right, &strike));
    ck_assert(!occ_parse("SPY241319C00450000", &exp, &right, &strike));        /* month 13 */
    ck_assert(!occ_parse("SPY240719C0045000", &exp, &right, &strike));         /* 7 digits */
    ck_assert(!occ_parse("240719C00450000", &exp, &right, &strike));           /* no root */
    ck_assert(!occ_parse("TOOLONGR240719C00450000", &exp, &right, &strike));
    ck_assert(option_underlying_valid("SPY") && option_underlying_valid("BRK.B") &&
              option_underlying_valid("BF-B"));
    ck_assert(!option_underlying_valid("spy") && !option_underlying_valid("") &&
              !option_underlying_valid("ABCDEFGHIJK") && !option_underlying_valid("A B") &&
              !option_underlying_valid("A&B"));
}
END_TEST

START_TEST(new_york_day)
{
    /* EDT (UTC-4) in July: midnight New York is 04:00Z */
    ck_assert_int_eq(qd_new_york_day(1719806400), D(2024, 7, 1));            /* 04:00:00Z */
    ck_assert_int_eq(qd_new_york_day(1719806399), D(2024, 6, 30));           /* 03:59:59Z */
    /* EST (UTC-5) in January */
    ck_assert_int_eq(qd_new_york_day(1704171599), D(2024, 1, 1));            /* 01-02 04:59:59Z */
    ck_assert_int_eq(qd_new_york_day(1704171600), D(2024, 1, 2));            /* 01-02 05:00Z */
    /* 2024-03-10, the second Sunday of March: 02:00 EST (07:00Z) becomes 03:00 EDT */
    ck_assert_int_eq(qd_new_york_day(1710046800), D(2024, 3, 10));           /* 05:00Z, EST */
    ck_assert_int_eq(qd_new_york_day(1710046799), D(2024, 3, 9));
    ck_assert_int_eq(qd_new_york_day(1710129600), D(2024, 3, 11));           /* 03-11 04:00Z */
    ck_assert_int_eq(qd_new_york_day(1710129599), D(2024, 3, 10));
    /* 2024-11-03, the first Sunday of November: back to EST at 06:00Z */
    ck_assert_int_eq(qd_new_york_day(1730606400), D(2024, 11, 3));           /* 04:00Z, EDT */
    ck_assert_int_eq(qd_new_york_day(1730696400), D(2024, 11, 4));           /* 11-04 05:00Z */
    ck_assert_int_eq(qd_new_york_day(1730696399), D(2024, 11, 3));           /* 04:59:59Z */
}
END_TEST

Suite *
suite_options_parsers(void)
{
    Suite *s = suite_create("options_parsers");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, tradier_expirations);
    tcase_add_test(tc, tradier_chain);
    tcase_add_test(tc, tradier_errors);
    tcase_add_test(tc, polygon_contracts);
    tcase_add_test(tc, polygon_aggs_and_errors);
    tcase_add_test(tc, occ_symbols_and_underlyings);
    tcase_add_test(tc, new_york_day);
    suite_add_tcase(s, tc);
    return s;
}
