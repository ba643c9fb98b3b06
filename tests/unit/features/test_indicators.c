/* Indicators against values computed by hand from their definitions (docs/features.md), on
 * Wilder's classic RSI sample series. */
#include "tests/unit/unit.h"
#include "features/indicators.h"

#include <math.h>

static const double X[20] = {44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08,
                             45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64};
#define N 20
#define TOL 1e-9

static void
expect(const double *got, size_t from, const double *want, size_t k)
{
    for (size_t i = 0; i < from; i++)
        ck_assert_msg(isnan(got[i]), "index %zu should be undefined (NaN), got %g", i, got[i]);
    for (size_t i = 0; i < k; i++)
        ck_assert_msg(fabs(got[from + i] - want[i]) < TOL, "index %zu: got %.15g want %.15g",
                      from + i, got[from + i], want[i]);
}

START_TEST(sma_ema_wma)
{
    double out[N];
    static const double sma5[] = {44.104, 44.202, 44.404, 44.658};
    static const double ema5[] = {44.104, 44.346, 44.5973333333333, 44.8715555555556};
    static const double wma3[] = {44.1616666666667, 43.87, 44.06};

    feat_sma(X, N, 5, out);
    expect(out, 4, sma5, 4);
    feat_ema(X, N, 5, out);
    expect(out, 4, ema5, 4);
    feat_wma(X, N, 3, out);
    expect(out, 2, wma3, 3);
    feat_sma(X, 3, 5, out);                 /* shorter than the window: all undefined */
    expect(out, 3, NULL, 0);
}
END_TEST

START_TEST(rsi_wilder)
{
    double out[N];
    static const double want[] = {70.4641350210971, 66.2496185535551, 66.4809418347127,
                                  69.3468531629087, 66.2947126589262, 57.9150206700856};
    static const double flat[6] = {5, 5, 5, 5, 5, 5}, up[6] = {1, 2, 3, 4, 5, 6};

    feat_rsi(X, N, 14, out);
    expect(out, 14, want, 6);
    feat_rsi(flat, 6, 3, out);
    ck_assert(out[3] == 50.0);
    feat_rsi(up, 6, 3, out);
    ck_assert(out[5] == 100.0);
}
END_TEST

START_TEST(bollinger_population_std)
{
    double u[N], m[N], l[N];

    feat_bollinger(X, N, 5, 2, u, m, l);
    expect(u, 4, (const double[]){44.6355035277399, 44.990152269552}, 2);
    expect(m, 4, (const double[]){44.104, 44.202}, 2);
    expect(l, 4, (const double[]){43.5724964722601, 43.413847730448}, 2);
}
END_TEST

START_TEST(atr_vol_macd_roc_z_minmax)
{
    double h[N], lo[N], out[N], line[N], sig[N], hist[N], scratch[N];

    for (int i = 0; i < N; i++) {
        h[i] = X[i] + 0.5;
        lo[i] = X[i] - 0.5;
    }
    feat_atr(h, lo, X, N, 3, out);
    expect(out, 3, (const double[]){1.01333333333333, 1.08222222222222, 1.05481481481481}, 3);
    feat_realized_vol(X, N, 5, out);
    expect(out, 5, (const double[]){0.186998260849311, 0.174023150223777}, 2);
    feat_macd(X, N, 3, 6, 4, line, sig, hist, scratch);
    ck_assert(isnan(line[4]) && !isnan(line[5]));
    ck_assert(isnan(sig[7]) && !isnan(sig[8]));
    ck_assert(fabs(line[8] - 0.413757440476189) < TOL);
    ck_assert(fabs(sig[8] - 0.332840401785715) < TOL);
    ck_assert(fabs(hist[8] - (0.413757440476189 - 0.332840401785715)) < TOL);
    feat_roc(X, N, 3, out);
    expect(out, 3, NULL, 0);
    ck_assert(fabs(out[5] - 1.54020385050964) < TOL);
    feat_zscore(X, N, 5, out);
    ck_assert(fabs(out[6] - 1.33142905175851) < TOL);
    feat_rolling_min(X, N, 4, out);
    ck_assert(isnan(out[2]) && out[3] == 43.61 && out[7] == 44.33);
    feat_rolling_max(X, N, 4, out);
    ck_assert(out[3] == 44.34 && out[10] == 46.08);
}
END_TEST

START_TEST(sma_long_series_does_not_drift)
{
    enum { LEN = 100000 };
    static double x[LEN], out[LEN];

    for (int i = 0; i < LEN; i++)
        x[i] = 100.0 + 37.0 * sin(i * 0.01) + (i % 7) * 0.01;
    feat_sma(x, LEN, 50, out);
    for (int i = 49; i < LEN; i += 997) {
        double s = 0;
        for (int k = i - 49; k <= i; k++)
            s += x[k];
        ck_assert(fabs(out[i] - s / 50) < 1e-9);
    }
}
END_TEST

Suite *
suite_indicators(void)
{
    Suite *s = suite_create("indicators");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, sma_ema_wma);
    tcase_add_test(tc, rsi_wilder);
    tcase_add_test(tc, bollinger_population_std);
    tcase_add_test(tc, atr_vol_macd_roc_z_minmax);
    tcase_add_test(tc, sma_long_series_does_not_drift);
    suite_add_tcase(s, tc);
    return s;
}
