/* Macro factors and positioning on hand-made series: as-of alignment with publication lags and
 * staleness, changes, the report z-score, and the catalog's use of the inputs (errors naming
 * the missing series, never zeros; fallback notes only for what is missing). */
#include "tests/unit/unit.h"
#include "features/catalog.h"
#include "features/macro.h"

#include <math.h>
#include <string.h>

START_TEST(asof_lag_missing_and_stale)
{
    /* observations on days 10, 11 (missing), 12, 30; bars on days 9..13 and 31, 45 */
    static const int32_t sday[4] = {10, 11, 12, 30};
    static const double sval[4] = {1.5, NAN, 2.5, 4.0};
    static const int32_t day[7] = {9, 10, 11, 12, 13, 31, 45};
    double out[7];

    feat_asof(sday, sval, 4, 0, 10, day, 7, out);
    ck_assert(isnan(out[0]));                   /* nothing known yet */
    ck_assert(out[1] == 1.5 && out[2] == 1.5);  /* day 11 is missing: day 10's value holds */
    ck_assert(out[3] == 2.5 && out[4] == 2.5);
    ck_assert(out[5] == 4.0);
    ck_assert(isnan(out[6]));                   /* day 30's value is 15 days old at 45: stale */
    /* a one-day publication lag: the value dated D is used from D + 1 */
    feat_asof(sday, sval, 4, 1, 10, day, 7, out);
    ck_assert(isnan(out[1]) && out[2] == 1.5 && out[3] == 1.5 && out[4] == 2.5);
    ck_assert(out[5] == 4.0);
    /* staleness counts from the day the value became known (30 + 1): 45 - 31 = 14 > 10 */
    ck_assert(isnan(out[6]));
    feat_asof(sday, sval, 0, 0, 10, day, 7, out);
    for (int i = 0; i < 7; i++)
        ck_assert(isnan(out[i]));
}
END_TEST

START_TEST(change_and_report_zscore)
{
    static const double x[6] = {1, 2, 4, NAN, 5, 9};
    double out[6];

    feat_change(x, 6, 2, out);
    ck_assert(isnan(out[0]) && isnan(out[1]));
    ck_assert(out[2] == 3 && isnan(out[3]) && out[4] == 1 && isnan(out[5]));
    /* z over 3 reports, population sd: at i = 2 {1, 2, 4}: mean 7/3, var 14/9 */
    feat_report_zscore(x, 6, 3, out);
    ck_assert(isnan(out[0]) && isnan(out[1]));
    ck_assert_double_eq_tol(out[2], (4 - 7.0 / 3) / sqrt(14.0 / 9), 1e-15);
    ck_assert(isnan(out[3]) && isnan(out[4]) && isnan(out[5]));   /* a missing report inside */
    {
        static const double flat[4] = {2, 2, 2, 2};
        feat_report_zscore(flat, 4, 3, out);
        ck_assert(isnan(out[2]) && isnan(out[3]));                 /* zero deviation */
    }
}
END_TEST

START_TEST(catalog_uses_inputs)
{
    enum { N = 70 };
    struct bar_series s;
    struct feat_spec f;
    struct qd_err err;
    double hy[N], dgs10[N], curve[N], vix[N], out[N], scratch[2 * N];
    struct feat_inputs in = {0};

    bar_series_init(&s, 0);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(bar_series_push(&s, 1000 + i, 10, 11, 9, 10, 10, 100), QD_OK);
        hy[i] = 3.0 + 0.01 * i;
        dgs10[i] = 2.0 + 0.02 * i;
        curve[i] = i < 35 ? 0.5 : -0.25;
        vix[i] = i < 35 ? 14 : 32;
    }
    /* nothing ingested: a clear error naming the series, and nothing computed */
    ck_assert_int_eq(feat_parse("credit_spread", &f, &err), QD_OK);
    ck_assert_int_eq(feat_compute(&f, &s, s.high, s.low, NULL, out, scratch, &err),
                     QD_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "BAMLH0A0HYM2"));
    ck_assert_int_eq(feat_parse("cot_net_noncommercial_z", &f, &err), QD_OK);
    ck_assert_int_eq(feat_compute(&f, &s, s.high, s.low, &in, out, scratch, &err),
                     QD_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "CFTC"));

    in.hy_oas = hy;
    in.dgs10 = dgs10;
    in.curve = curve;
    ck_assert_int_eq(feat_parse("credit_spread_change", &f, &err), QD_OK);
    ck_assert_int_eq(feat_compute(&f, &s, s.high, s.low, &in, out, scratch, &err), QD_OK);
    ck_assert(isnan(out[20]));
    ck_assert_double_eq_tol(out[21], hy[21] - hy[0], 1e-15);
    ck_assert_int_eq(feat_parse("rate_momentum", &f, &err), QD_OK);
    ck_assert_int_eq(feat_compute(&f, &s, s.high, s.low, &in, out, scratch, &err), QD_OK);
    ck_assert(isnan(out[62]));
    ck_assert_double_eq_tol(out[69], dgs10[69] - dgs10[6], 1e-15);
    ck_assert_int_eq(feat_parse("curve_slope", &f, &err), QD_OK);
    ck_assert_int_eq(feat_compute(&f, &s, s.high, s.low, &in, out, scratch, &err), QD_OK);
    ck_assert(out[0] == 0.5 && out[69] == -0.25);

    /* the risk regime: without VIX it says so; with it, no note and VIX counts */
    ck_assert_int_eq(feat_parse("risk_regime", &f, &err), QD_OK);
    ck_assert_ptr_nonnull(strstr(feat_fallback_note(&f, &in), "VIX"));
    in.vix = vix;
    ck_assert_str_eq(feat_fallback_note(&f, &in), "");
    ck_assert_ptr_nonnull(strstr(feat_fallback_note(&f, NULL), "no VIX or FRED"));
    ck_assert_int_eq(feat_compute(&f, &s, s.high, s.low, &in, out, scratch, &err), QD_OK);
    /* flat closes: on the trend SMA(200) never defined before bar 199: NaN on 70 bars */
    ck_assert(isnan(out[69]));
    ck_assert_int_eq(feat_parse("volatility_regime", &f, &err), QD_OK);
    ck_assert_int_eq(feat_compute(&f, &s, s.high, s.low, &in, out, scratch, &err), QD_OK);
    ck_assert(out[0] == 0 && out[69] == 3);     /* VIX 14: calm; 32: high */
    bar_series_release(&s);
}
END_TEST

Suite *
suite_macro(void)
{
    Suite *s = suite_create("macro");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, asof_lag_missing_and_stale);
    tcase_add_test(tc, change_and_report_zscore);
    tcase_add_test(tc, catalog_uses_inputs);
    suite_add_tcase(s, tc);
    return s;
}
