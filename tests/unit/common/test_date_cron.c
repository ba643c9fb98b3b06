#include "tests/unit/unit.h"
#include "common/cron.h"
#include "common/date.h"

#include <string.h>

static int64_t
ts(const char *date, int h, int m)
{
    int32_t d;

    ck_assert(qd_date_parse(date, strlen(date), &d));
    return (int64_t)d * 86400 + h * 3600 + m * 60;
}

START_TEST(date_known_values)
{
    int32_t d;
    char buf[32];

    ck_assert(qd_date_parse("1970-01-01", 10, &d));
    ck_assert_int_eq(d, 0);
    ck_assert(qd_date_parse("2015-01-02", 10, &d));
    ck_assert_int_eq(qd_weekday(d), 5);                 /* a Friday */
    qd_date_format(d, buf);
    ck_assert_str_eq(buf, "2015-01-02");
    ck_assert(qd_date_parse("2000-02-29", 10, &d));
    ck_assert(!qd_date_parse("2023-02-29", 10, &d));
    ck_assert(!qd_date_parse("2024-13-01", 10, &d));
    ck_assert(!qd_date_parse("2024-01-1", 9, &d));
    ck_assert(!qd_date_parse("2024-01-01x", 11, &d));
    ck_assert(!qd_date_parse("0999-01-01", 10, &d));
    ck_assert(!qd_date_parse("2024/01/01", 10, &d));
    qd_time_format(1448377200LL * 1000000 + 999999, buf);
    ck_assert_str_eq(buf, "2015-11-24T15:00:00Z");
    qd_time_format(-1000000, buf);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
}
END_TEST

START_TEST(date_round_trip)
{
    for (int32_t d = -800000; d < 800000; d += 17) {
        int y;
        unsigned m, dd;
        qd_civil_from_days(d, &y, &m, &dd);
        ck_assert_int_eq(qd_days_from_civil(y, m, dd), d);
        ck_assert_int_eq(qd_weekday(d + 1), (qd_weekday(d) + 1) % 7);
    }
}
END_TEST

static const struct {
    const char *expr, *after_date;
    int after_h, after_m;
    const char *want_date;
    int want_h, want_m;
} next_cases[] = {
    /* Friday 21:30 -> Monday 21:30 */
    {"30 21 * * 1-5", "2026-11-27", 21, 30, "2026-11-30", 21, 30},
    {"30 21 * * 1-5", "2026-11-27", 21, 29, "2026-11-27", 21, 30},
    {"*/15 * * * *", "2026-01-01", 10, 7, "2026-01-01", 10, 15},
    {"*/15 * * * *", "2026-01-01", 23, 59, "2026-01-02", 0, 0},
    {"0 0 1 1 *", "2025-12-31", 23, 59, "2026-01-01", 0, 0},
    {"0 0 29 2 *", "2025-03-01", 0, 0, "2028-02-29", 0, 0},
    {"0 0 31 * *", "2026-04-01", 0, 0, "2026-05-31", 0, 0},
    /* both day fields restricted: either matches (the 13th, or a Friday) */
    {"0 12 13 * 5", "2026-11-24", 0, 0, "2026-11-27", 12, 0},
    {"0 12 13 * FRI", "2026-12-05", 0, 0, "2026-12-11", 12, 0},
    {"0 9 * JAN-MAR mon", "2026-03-31", 10, 0, "2027-01-04", 9, 0},
    {"5 4 * * 7", "2026-11-24", 0, 0, "2026-11-29", 4, 5},          /* 7 is Sunday */
    {"0 0/6 * * *", "2026-11-24", 7, 0, "2026-11-24", 12, 0},
    {"1,2,3 0 * * *", "2026-11-24", 0, 2, "2026-11-24", 0, 3},
};

START_TEST(cron_next_cases)
{
    struct cron c;
    struct qd_err err;

    ck_assert_msg(cron_parse(next_cases[_i].expr, &c, &err) == QD_OK, "%s: %s",
                  next_cases[_i].expr, err.msg);
    ck_assert_int_eq(cron_next(&c, ts(next_cases[_i].after_date, next_cases[_i].after_h,
                                      next_cases[_i].after_m)),
                     ts(next_cases[_i].want_date, next_cases[_i].want_h, next_cases[_i].want_m));
}
END_TEST

static const struct {
    const char *expr, *words;
} bad_cases[] = {
    {"61 * * * *", "minute"},      {"* 24 * * *", "hour"},       {"* * 0 * *", "day of month"},
    {"* * * 13 *", "month"},       {"* * * * 8", "day of week"}, {"*/0 * * * *", "minute"},
    {"5-1 * * * *", "minute"},     {"* * * *", "5 fields"},      {"* * * * * *", "5 fields"},
    {"x * * * *", "minute"},       {"* * * FOO *", "month"},     {"1,,2 * * * *", "minute"},
};

START_TEST(cron_parse_errors)
{
    struct cron c;
    struct qd_err err = {0};

    ck_assert_int_eq(cron_parse(bad_cases[_i].expr, &c, &err), QD_EINVAL);
    ck_assert_msg(strstr(err.msg, bad_cases[_i].words) != NULL, "\"%s\": %s", bad_cases[_i].expr,
                  err.msg);
}
END_TEST

START_TEST(cron_never)
{
    struct cron c;
    struct qd_err err;

    ck_assert_int_eq(cron_parse("0 0 30 2 *", &c, &err), QD_OK);
    ck_assert_int_eq(cron_next(&c, ts("2026-01-01", 0, 0)), -1);
}
END_TEST

Suite *
suite_date_cron(void)
{
    Suite *s = suite_create("date_cron");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, date_known_values);
    tcase_add_test(tc, date_round_trip);
    tcase_add_loop_test(tc, cron_next_cases, 0, sizeof(next_cases) / sizeof(next_cases[0]));
    tcase_add_loop_test(tc, cron_parse_errors, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
    tcase_add_test(tc, cron_never);
    suite_add_tcase(s, tc);
    return s;
}
