/* The data-source parsers on hand-made answers in the documented wire formats: FRED
 * observations ("." missing, paging counts, errors), the CBOE VIX CSV (BOM, CRLF, header only,
 * repeated dates, bad rows by line), CFTC Socrata rows (strings, omitted fields, padding). */
#include "tests/unit/unit.h"
#include "common/date.h"
#include "feeds/cboe.h"
#include "feeds/cftc.h"
#include "feeds/csv_bars.h"
#include "feeds/fred.h"
#include "feeds/yahoo.h"

#include <math.h>
#include <string.h>

static const char fred_page[] =
    "{\"realtime_start\":\"2024-06-03\",\"realtime_end\":\"2024-06-03\",\"count\":4,"
    "\"offset\":0,\"limit\":100000,\"observations\":["
    "{\"realtime_start\":\"2024-06-03\",\"realtime_end\":\"2024-06-03\",\"date\":\"2024-05-28\","
    "\"value\":\"4.54\"},"
    "{\"realtime_start\":\"2024-06-03\",\"realtime_end\":\"2024-06-03\",\"date\":\"2024-05-30\","
    "\"value\":\".\"},"
    "{\"realtime_start\":\"2024-06-03\",\"realtime_end\":\"2024-06-03\",\"date\":\"2024-05-31\","
    "\"value\":\"-0.5\"}]}";

START_TEST(fred_observations)
{
    struct feed_series s = {0};
    struct qd_err err;
    long long count;
    char msg[128];

    ck_assert_int_eq(fred_parse_page(fred_page, strlen(fred_page), &s, &count, &err), QD_OK);
    ck_assert_int_eq(count, 4);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(s.day[0], qd_days_from_civil(2024, 5, 28));
    ck_assert(s.value[0] == 4.54 && isnan(s.value[1]) && s.value[2] == -0.5);
    /* a second page appends; its dates must continue to increase */
    ck_assert_int_eq(fred_parse_page(fred_page, strlen(fred_page), &s, &count, &err),
                     QD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "out of order"));
    ck_assert_uint_eq(s.n, 3);                      /* kept what it had */
    feed_series_release(&s);
    {
        static const char bad[] = "{\"count\":1,\"observations\":[{\"date\":\"2024-05-28\","
                                  "\"value\":\"nan\"}]}";
        ck_assert_int_eq(fred_parse_page(bad, strlen(bad), &s, &count, &err), QD_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, "bad value"));
        ck_assert_uint_eq(s.n, 0);
    }
    ck_assert_int_eq(fred_parse_page("<html>", 6, &s, &count, &err), QD_EINVAL);
    ck_assert_int_eq(fred_parse_page("[]", 2, &s, &count, &err), QD_EINVAL);
    {
        static const char e[] = "{\"error_code\":400,\"error_message\":\"Bad Request.  The "
                                "series does not exist.\"}";
        fred_error_message(e, strlen(e), msg, sizeof(msg));
    }
    ck_assert_str_eq(msg, "Bad Request.  The series does not exist.");
    ck_assert(fred_series_id_valid("BAMLH0A0HYM2") && !fred_series_id_valid("dgs10") &&
              !fred_series_id_valid("") && !fred_series_id_valid("A B"));
}
END_TEST

START_TEST(cboe_csv)
{
    static const char ok[] = "\xEF\xBB\xBF" "DATE,OPEN,HIGH,LOW,CLOSE\r\n"
                             "01/02/1990,17.240000,17.240000,17.240000,17.240000\r\n"
                             "06/03/2024,12.950000,13.410000,12.600000,13.110000";
    static const char dup[] = "DATE,OPEN,HIGH,LOW,CLOSE\n"
                              "06/03/2024,12.95,13.41,12.60,13.11\n"
                              "06/03/2024,12.95,13.41,12.60,13.11\n";
    static const char bad[] = "DATE,OPEN,HIGH,LOW,CLOSE\n"
                              "06/03/2024,12.95,13.41,12.60,13.11\n"
                              "02/30/2024,12.95,13.41,12.60,13.11\n";
    struct feed_series s;
    struct qd_err err;

    ck_assert_int_eq(cboe_parse_vix(ok, strlen(ok), &s, &err), QD_OK);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_int_eq(s.day[1], qd_days_from_civil(2024, 6, 3));
    ck_assert(s.value[0] == 17.24 && s.value[1] == 13.11);
    feed_series_release(&s);
    ck_assert_int_eq(cboe_parse_vix("DATE,OPEN,HIGH,LOW,CLOSE\n", 25, &s, &err), QD_OK);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(cboe_parse_vix(dup, strlen(dup), &s, &err), QD_EINVAL);
    ck_assert_str_eq(err.msg, "line 3: date repeated");
    ck_assert_int_eq(cboe_parse_vix(bad, strlen(bad), &s, &err), QD_EINVAL);
    ck_assert_str_eq(err.msg, "line 3: bad date (MM/DD/YYYY)");
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(cboe_parse_vix("DATE,VVIX\n", 10, &s, &err), QD_EINVAL);
    ck_assert_int_eq(cboe_parse_vix("", 0, &s, &err), QD_EINVAL);
}
END_TEST

START_TEST(cftc_rows)
{
    static const char page[] =
        "[{\"market_and_exchange_names\":\"E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE\","
        "\"report_date_as_yyyy_mm_dd\":\"2024-08-20T00:00:00.000\","
        "\"cftc_contract_market_code\":\"13874A\",\"cftc_market_code\":\"CME \","
        "\"open_interest_all\":\"  650000\",\"noncomm_positions_long_all\":\"210000\","
        "\"noncomm_positions_short_all\":\"150000\",\"noncomm_postions_spread_all\":\"12000\","
        "\"comm_positions_long_all\":\"300000\"}]";
    static const char number[] =
        "[{\"report_date_as_yyyy_mm_dd\":\"2024-08-20T00:00:00.000\","
        "\"cftc_contract_market_code\":\"13874A\",\"open_interest_all\":650000,"
        "\"noncomm_positions_long_all\":\"1\",\"noncomm_positions_short_all\":\"1\"}]";
    struct cot_rows r = {0};
    struct qd_err err;
    size_t got;

    ck_assert_int_eq(cftc_parse_page(page, strlen(page), &r, &got, &err), QD_OK);
    ck_assert_uint_eq(got, 1);
    ck_assert_str_eq(r.row[0].market, "13874A");
    ck_assert_int_eq(r.row[0].day, qd_days_from_civil(2024, 8, 20));
    ck_assert_int_eq(r.row[0].open_interest, 650000);          /* padding tolerated */
    ck_assert_int_eq(r.row[0].noncomm_spread, 12000);
    ck_assert_int_eq(r.row[0].comm_short, -1);                 /* omitted: null */
    /* numbers must come as strings, as Socrata sends them */
    ck_assert_int_eq(cftc_parse_page(number, strlen(number), &r, &got, &err), QD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "open_interest_all"));
    ck_assert_uint_eq(r.n, 1);
    ck_assert_int_eq(cftc_parse_page("{\"code\":\"x\"}", 12, &r, &got, &err), QD_EINVAL);
    ck_assert_int_eq(cftc_parse_page("[]", 2, &r, &got, &err), QD_OK);
    ck_assert_uint_eq(got, 0);
    cot_rows_release(&r);
    ck_assert(cftc_market_valid("1170E1") && !cftc_market_valid("13874a") &&
              !cftc_market_valid("'; DROP"));
}
END_TEST

START_TEST(csv_column_mapping)
{
    static const char body[] = "Timestamp,Last,O,H,L,Vol,Exchange\n"
                               "2024-06-03,13.11,12.95,13.41,12.60,1000,CBOE\n";
    struct bar_series s;
    struct csv_bars *p;
    struct qd_err err;

    bar_series_init(&s, 0);
    /* without a mapping the header is refused, naming the column */
    p = csv_bars_create(&s);
    ck_assert_int_eq(csv_bars_feed(p, body, strlen(body), &err), QD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "Timestamp"));
    csv_bars_destroy(p);
    /* mapped, with the extra column ignored */
    p = csv_bars_create(&s);
    ck_assert_int_eq(csv_bars_alias(p, "date", "timestamp", &err), QD_OK);
    ck_assert_int_eq(csv_bars_alias(p, "close", "Last", &err), QD_OK);
    ck_assert_int_eq(csv_bars_alias(p, "open", "O", &err), QD_OK);
    ck_assert_int_eq(csv_bars_alias(p, "high", "H", &err), QD_OK);
    ck_assert_int_eq(csv_bars_alias(p, "low", "L", &err), QD_OK);
    ck_assert_int_eq(csv_bars_alias(p, "volume", "Vol", &err), QD_OK);
    ck_assert_int_eq(csv_bars_alias(p, "price", "P", &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "price");
    ck_assert_int_eq(csv_bars_feed(p, body, strlen(body), &err), QD_EINVAL);   /* Exchange */
    csv_bars_destroy(p);
    p = csv_bars_create(&s);
    csv_bars_alias(p, "date", "Timestamp", &err);
    csv_bars_alias(p, "close", "Last", &err);
    csv_bars_alias(p, "open", "O", &err);
    csv_bars_alias(p, "high", "H", &err);
    csv_bars_alias(p, "low", "L", &err);
    csv_bars_alias(p, "volume", "Vol", &err);
    csv_bars_ignore_unknown(p, true);
    ck_assert_int_eq(csv_bars_feed(p, body, strlen(body), &err), QD_OK);
    ck_assert_int_eq(csv_bars_finish(p, &err), QD_OK);
    ck_assert_uint_eq(s.n, 1);
    ck_assert(s.close[0] == 13.11 && s.open[0] == 12.95 && s.adj_close[0] == 13.11 &&
              s.volume[0] == 1000);
    csv_bars_destroy(p);
    bar_series_release(&s);
}
END_TEST

START_TEST(yahoo_consent_form_inputs)
{
    char csrf[32], sid[32];
    static const char form[] =
        "<form method=\"post\"><input type=\"hidden\" name=\"sessionId\" value=\"3_cc-abc\">"
        "<input name=\"csrfToken\" type=\"hidden\" value=\"tok-123_X\"></form>";

    ck_assert(yahoo_consent_form(form, strlen(form), csrf, sid, sizeof(csrf)));
    ck_assert_str_eq(csrf, "tok-123_X");
    ck_assert_str_eq(sid, "3_cc-abc");
    /* a missing input, an empty value, one that runs to the end, one too long */
    ck_assert(!yahoo_consent_form(form, 60, csrf, sid, sizeof(csrf)));
    {
        static const char e[] = "<input name=\"csrfToken\" value=\"\"><input name=\"sessionId\""
                                " value=\"s\">";
        static const char open[] = "<input name=\"csrfToken\" value=\"abc";
        static const char other[] = "<input name=\"csrfToken\"><p value=\"x\">"
                                    "<input name=\"sessionId\" value=\"s\">";
        ck_assert(!yahoo_consent_form(e, strlen(e), csrf, sid, sizeof(csrf)));
        ck_assert(!yahoo_consent_form(open, strlen(open), csrf, sid, sizeof(csrf)));
        ck_assert(!yahoo_consent_form(other, strlen(other), csrf, sid, sizeof(csrf)));
        ck_assert(!yahoo_consent_form(form, strlen(form), csrf, sid, 5));
    }
}
END_TEST

Suite *
suite_feed_parsers(void)
{
    Suite *s = suite_create("feed_parsers");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, fred_observations);
    tcase_add_test(tc, cboe_csv);
    tcase_add_test(tc, cftc_rows);
    tcase_add_test(tc, csv_column_mapping);
    tcase_add_test(tc, yahoo_consent_form_inputs);
    suite_add_tcase(s, tc);
    return s;
}
