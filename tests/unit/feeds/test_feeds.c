#include "tests/unit/unit.h"
#include "common/date.h"
#include "feeds/csv_bars.h"
#include "feeds/synthetic.h"

#include <math.h>
#include <string.h>

static int32_t
day(const char *s)
{
    int32_t d;

    ck_assert(qd_date_parse(s, strlen(s), &d));
    return d;
}

START_TEST(synthetic_deterministic_and_range_independent)
{
    struct bar_series a, b;
    struct qd_err err;
    size_t off = 0;

    bar_series_init(&a, 0);
    bar_series_init(&b, 0);
    ck_assert_int_eq(synthetic_bars("AAPL", day("2015-01-01"), day("2024-12-31"), &a, &err), QD_OK);
    ck_assert_int_eq(synthetic_bars("AAPL", day("2020-01-01"), day("2020-12-31"), &b, &err), QD_OK);
    ck_assert_uint_eq(b.n, 262);
    while (a.day[off] != b.day[0])
        off++;
    for (size_t i = 0; i < b.n; i++) {
        ck_assert_int_eq(a.day[off + i], b.day[i]);
        ck_assert(a.open[off + i] == b.open[i] && a.close[off + i] == b.close[i]);
        ck_assert(a.high[off + i] == b.high[i] && a.low[off + i] == b.low[i]);
        ck_assert_int_eq(a.volume[off + i], b.volume[i]);
    }
    bar_series_clear(&b);
    ck_assert_int_eq(synthetic_bars("MSFT", day("2020-01-01"), day("2020-12-31"), &b, &err), QD_OK);
    ck_assert(b.close[0] != a.close[off]);                /* symbols differ */
    bar_series_release(&a);
    bar_series_release(&b);
}
END_TEST

START_TEST(synthetic_realistic)
{
    struct bar_series s;
    struct qd_err err;
    double sum = 0, sum2 = 0;

    bar_series_init(&s, 0);
    ck_assert_int_eq(synthetic_bars("SPY", day("1990-01-01"), day("2024-12-31"), &s, &err), QD_OK);
    for (size_t i = 0; i < s.n; i++) {
        unsigned wd = qd_weekday(s.day[i]);
        ck_assert(wd >= 1 && wd <= 5);
        ck_assert(s.low[i] > 0);
        ck_assert(s.low[i] <= fmin(s.open[i], s.close[i]));
        ck_assert(s.high[i] >= fmax(s.open[i], s.close[i]));
        ck_assert(s.volume[i] > 0);
        ck_assert(s.adj_close[i] == s.close[i]);
        ck_assert(fabs(s.close[i] * 100 - round(s.close[i] * 100)) < 1e-6);   /* cents */
        if (i > 0) {
            double r = log(s.close[i] / s.close[i - 1]);
            sum += r;
            sum2 += r * r;
        }
    }
    {
        double n = (double)s.n - 1, var = sum2 / n - (sum / n) * (sum / n);
        double vol = sqrt(var * 252);
        ck_assert_msg(vol > 0.05 && vol < 1.5, "annualized vol %f", vol);
    }
    bar_series_clear(&s);
    ck_assert_int_eq(synthetic_bars("SPY", day("2020-01-10"), day("2020-01-01"), &s, &err), QD_OK);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(synthetic_bars("SPY", day("1960-01-01"), day("2020-01-01"), &s, &err),
                     QD_EINVAL);
    bar_series_release(&s);
}
END_TEST

static const char sample[] = "\xef\xbb\xbf"
                             "Date,Open,High,Low,Close,Adj Close,Volume\r\n"
                             "2015-01-02,10,11,9.5,10.5,10.4,1000\r\n"
                             "\r\n"
                             "2015-01-05,null,null,null,null,null,null\r\n"
                             "2015-01-06,10.5,10.9,10.1,10.2,10.1,1200.0\r\n"
                             "2015-01-07,10.2,10.4,9.9,10.0,9.9,900";

static void
parse_all(const char *text, size_t len, size_t chunk, struct bar_series *out, enum qd_code *rc,
          struct qd_err *err)
{
    struct csv_bars *p = csv_bars_create(out);

    *rc = QD_OK;
    for (size_t at = 0; at < len && *rc == QD_OK; at += chunk)
        *rc = csv_bars_feed(p, text + at, at + chunk > len ? len - at : chunk, err);
    if (*rc == QD_OK)
        *rc = csv_bars_finish(p, err);
    csv_bars_destroy(p);
}

START_TEST(csv_chunking_invariant)
{
    struct bar_series a, b;
    struct qd_err err;
    enum qd_code rc;

    bar_series_init(&a, 0);
    bar_series_init(&b, 0);
    parse_all(sample, strlen(sample), strlen(sample), &a, &rc, &err);
    ck_assert_msg(rc == QD_OK, "%s %s", err.field, err.msg);
    ck_assert_uint_eq(a.n, 3);
    ck_assert(a.adj_close[0] == 10.4 && a.volume[1] == 1200 && a.close[2] == 10.0);
    parse_all(sample, strlen(sample), 1, &b, &rc, &err);
    ck_assert_int_eq(rc, QD_OK);
    ck_assert_uint_eq(b.n, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert(a.day[i] == b.day[i] && a.high[i] == b.high[i] && a.volume[i] == b.volume[i]);
    bar_series_release(&a);
    bar_series_release(&b);
}
END_TEST

static const struct {
    const char *csv, *field, *words;
} csv_bad[] = {
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,9,9.5,10,1\n", "line 2", "High"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,11,10.5,10,1\n", "line 2", "Low"},
    {"Date,Open,High,Low,Close,Volume\n2015-02-30,10,11,9,10,1\n", "line 2", "Date"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,ten,11,9,10,1\n", "line 2", "Open"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,11,9,10,1.5\n", "line 2", "Volume"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,11,9,10,-1\n", "line 2", "Volume"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,-10,11,9,10,1\n", "line 2", "positive"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,11,9,10\n", "line 2", "fields"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-05,10,11,9,10,1\n2015-01-02,10,11,9,10,1\n",
     "line 3", "after"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,11,9,10,1\n2015-01-02,10,11,9,10,1\n",
     "line 3", "after"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,null,9,10,1\n", "line 2", "null"},
    {"Date,Open,High,Low,Volume\n", "line 1", "Close"},
    {"Date,Open,High,Low,Close,Volume,Colour\n", "line 1", "Colour"},
    {"Date,Open,High,Low,Close,Volume\n", "line 1", "no rows"},
    {"", "line 0", "header"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,10,11,9,10,nan\n", "line 2", "Volume"},
    {"Date,Open,High,Low,Close,Volume\n2015-01-02,inf,11,9,10,1\n", "line 2", "Open"},
};

START_TEST(csv_errors_name_line_and_column)
{
    struct bar_series s;
    struct qd_err err = {0};
    enum qd_code rc;

    bar_series_init(&s, 0);
    parse_all(csv_bad[_i].csv, strlen(csv_bad[_i].csv), 7, &s, &rc, &err);
    ck_assert_int_eq(rc, QD_EINVAL);
    ck_assert_str_eq(err.field, csv_bad[_i].field);
    ck_assert_msg(strstr(err.msg, csv_bad[_i].words) != NULL, "%s: %s", csv_bad[_i].csv, err.msg);
    bar_series_release(&s);
}
END_TEST

START_TEST(csv_long_line)
{
    struct bar_series s;
    struct qd_err err = {0};
    struct csv_bars *p;
    char big[5000];

    bar_series_init(&s, 0);
    p = csv_bars_create(&s);
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(csv_bars_feed(p, big, sizeof(big), &err), QD_ETOOBIG);
    ck_assert_str_eq(err.field, "line 1");
    csv_bars_destroy(p);
    bar_series_release(&s);
}
END_TEST

Suite *
suite_feeds(void)
{
    Suite *s = suite_create("feeds");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, synthetic_deterministic_and_range_independent);
    tcase_add_test(tc, synthetic_realistic);
    tcase_add_test(tc, csv_chunking_invariant);
    tcase_add_loop_test(tc, csv_errors_name_line_and_column, 0,
                        sizeof(csv_bad) / sizeof(csv_bad[0]));
    tcase_add_test(tc, csv_long_line);
    suite_add_tcase(s, tc);
    return s;
}
