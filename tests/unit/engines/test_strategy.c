/* Strategy rules and their combination, on small hand-made series. */
#include "tests/unit/unit.h"
#include "engines/strategy.h"

#include <math.h>
#include <string.h>

#define N 12

static void
targets(const double *close, const struct eq_strategy *s, int8_t *t)
{
    static int32_t day[N];
    struct eq_market mk = {.n = N, .day = day, .open = close, .close = close};
    struct eq_ticks tk;
    struct qd_err err;
    int8_t tmp[N];
    double scratch[3 * N];

    ck_assert_int_eq(eq_ticks_init(&tk, close, N, &err), QD_OK);
    eq_strategy_targets(&mk, &tk, s, t, tmp, scratch);
    eq_ticks_release(&tk);
}

START_TEST(rsi_rule)
{
    /* falls for 4 bars (RSI(2) = 0 < 30: long), then rises (RSI 100 > 70: flat) */
    static const double c[N] = {10, 9, 8, 7, 6, 7, 8, 9, 10, 11, 12, 13};
    struct eq_strategy s = {.rsi = true, .rsi_period = 2, .rsi_overbought = 70,
                            .rsi_oversold = 30};
    int8_t t[N];

    targets(c, &s, t);
    ck_assert_int_eq(t[1], 0);     /* RSI(2) undefined before bar 2 */
    ck_assert_int_eq(t[2], 1);
    ck_assert_int_eq(t[4], 1);
    ck_assert_int_eq(t[5], 1);     /* RSI(2) after one up day from all losses: 50 -> hold */
    ck_assert_int_eq(t[7], 0);     /* two up days: RSI 100 -> flat */
}
END_TEST

START_TEST(bollinger_rule_and_combination)
{
    /* flat at 10, a drop to 8 (below the lower band: long), back to 10.2 (above the middle) */
    static const double c[N] = {10, 10, 10, 10, 10, 8, 8.5, 9, 10.2, 10.2, 10.2, 10.2};
    struct eq_strategy bb = {.bb = true, .bb_period = 5, .bb_std = 1};
    struct eq_strategy none = {0};
    int8_t t[N], t2[N];

    targets(c, &bb, t);
    ck_assert_int_eq(t[4], 0);
    ck_assert_int_eq(t[5], 1);
    ck_assert_int_eq(t[7], 1);
    ck_assert_int_eq(t[8], 0);
    /* no signal rule: never long */
    targets(c, &none, t2);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(t2[i], 0);
    /* AND: bollinger plus an RSI that is never oversold stays flat */
    bb.rsi = true;
    bb.rsi_period = 2;
    bb.rsi_overbought = 99;
    bb.rsi_oversold = -1;
    targets(c, &bb, t2);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(t2[i], 0);
}
END_TEST

START_TEST(trend_filter_gates)
{
    /* SMA(2,3) goes long on the way up; a trend filter over SMA(4) keeps it flat until the
     * close is above its 4-bar average */
    static const double c[N] = {5, 4, 3, 2, 3, 4, 5, 6, 5, 4, 3, 2};
    struct eq_strategy s = {.sma = true, .fast = 2, .slow = 3};
    int8_t a[N], b[N];

    targets(c, &s, a);
    s.trend = true;
    s.trend_window = 4;
    targets(c, &s, b);
    for (int i = 0; i < N; i++) {
        ck_assert(b[i] <= a[i]);   /* a filter only removes exposure */
        if (i < 3)
            ck_assert_int_eq(b[i], 0);
    }
    ck_assert_int_eq(a[5], 1);
    ck_assert_int_eq(b[5], 1);     /* close 4 > mean(2,3,4,... ) */
}
END_TEST

START_TEST(strategy_sweep_equals_single_runs)
{
    static const double c[N] = {10, 9, 8, 7, 6, 7, 8, 9, 10, 11, 12, 13};
    static int32_t day[N];
    struct eq_market mk = {.n = N, .day = day, .open = c, .close = c};
    struct eq_sim_params p = {.initial_capital = 1000, .fractional = true};
    struct eq_strategy pts[3] = {
        {.rsi = true, .rsi_period = 2, .rsi_overbought = 70, .rsi_oversold = 30},
        {.sma = true, .fast = 2, .slow = 3},
        {.bb = true, .bb_period = 3, .bb_std = 1, .trend = true, .trend_window = 2},
    };
    struct eq_metrics out[3], one;
    struct eq_ticks tk;
    struct qd_err err;
    int8_t t[N], tmp[N];
    double scratch[3 * N];

    for (int i = 0; i < N; i++)
        day[i] = i;
    ck_assert_int_eq(eq_ticks_init(&tk, c, N, &err), QD_OK);
    ck_assert_int_eq(eq_strategy_sweep(&mk, &tk, pts, 3, &p, 2, NULL, NULL, out, &err), QD_OK);
    for (int k = 0; k < 3; k++) {
        eq_strategy_targets(&mk, &tk, &pts[k], t, tmp, scratch);
        eq_simulate(&mk, t, &p, &one, NULL, NULL, 0, NULL);
        ck_assert_int_eq(memcmp(&one, &out[k], sizeof(one)), 0);
    }
    eq_ticks_release(&tk);
}
END_TEST

START_TEST(long_short_rules)
{
    /* RSI(2): falls (oversold: long), then rises (overbought: short with long/short) */
    static const double c[N] = {10, 9, 8, 7, 6, 7, 8, 9, 10, 11, 12, 13};
    struct eq_strategy s = {.rsi = true, .rsi_period = 2, .rsi_overbought = 70,
                            .rsi_oversold = 30, .long_short = true};
    struct eq_strategy sma = {.sma = true, .fast = 2, .slow = 3, .long_short = true};
    int8_t t[N];

    targets(c, &s, t);
    ck_assert_int_eq(t[2], 1);
    ck_assert_int_eq(t[7], -1);
    ck_assert_int_eq(t[11], -1);
    /* SMA(2,3) on this V: falling (fast < slow), then the upward cross goes long; no short
     * before the first cross */
    targets(c, &sma, t);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(t[i], 0);
    ck_assert_int_eq(t[11], 1);
    /* the trend filter forbids shorts above the trend average */
    s.trend = true;
    s.trend_window = 3;
    targets(c, &s, t);
    ck_assert_int_eq(t[11], 0);     /* rising: close above its 3-bar mean, no short */
}
END_TEST

START_TEST(risk_filter_goes_flat_in_a_storm)
{
    /* 260 bars: a steady rise, so SMA(2,3) is long; violent swings in the last 30 bars push
     * the realized-volatility stand-in for VIX far above 30: level >= 2, flat with max 1 */
    enum { M = 260 };
    static int32_t day[M];
    static double c[M];
    struct eq_market mk = {.n = M, .day = day, .open = c, .close = c};
    struct eq_ticks tk;
    struct qd_err err;
    struct eq_strategy s = {.sma = true, .fast = 2, .slow = 3, .risk = true, .risk_max_level = 1};
    int8_t t[M], tmp[M];
    double scratch[3 * M];

    for (int i = 0; i < M; i++) {
        day[i] = i;
        c[i] = i < 10 ? 110 - i : i < 230 ? 100 + i : (i % 2 ? 400 : 300) + i;
    }
    ck_assert_int_eq(eq_ticks_init(&tk, c, M, &err), QD_OK);
    eq_strategy_targets(&mk, &tk, &s, t, tmp, scratch);
    ck_assert_int_eq(t[220], 1);               /* calm, above the trend: allowed */
    ck_assert_int_eq(t[259], 0);               /* storm: flat */
    for (int i = 0; i < 199; i++)
        ck_assert_int_eq(t[i], 0);             /* not defined before the 200-day trend */
    eq_ticks_release(&tk);
}
END_TEST

Suite *
suite_strategy(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, rsi_rule);
    tcase_add_test(tc, bollinger_rule_and_combination);
    tcase_add_test(tc, trend_filter_gates);
    tcase_add_test(tc, strategy_sweep_equals_single_runs);
    tcase_add_test(tc, long_short_rules);
    tcase_add_test(tc, risk_filter_goes_flat_in_a_storm);
    suite_add_tcase(s, tc);
    return s;
}
