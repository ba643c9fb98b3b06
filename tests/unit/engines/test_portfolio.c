/* Portfolios: a portfolio of one full-weight sleeve is the single-symbol run; two half-weight
 * sleeves of the same market are too; half weight leaves half in cash; calendars merge. */
#include "tests/unit/unit.h"
#include "engines/portfolio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 300

static int32_t day[N];
static double open_[N], close_[N];

static void
series(void)
{
    double p = 50;
    uint64_t st = 42;

    for (int i = 0; i < N; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        p *= 1 + ((double)((st >> 33) % 2001) - 1000) / 1000 * 0.02;
        day[i] = 18000 + i + (i / 5) * 2;            /* weekdays-like gaps */
        close_[i] = round(p * 100) / 100;
        open_[i] = round((close_[i] * 0.999) * 100) / 100;
    }
}

static double
rel(double a, double b)
{
    if (isnan(a) && isnan(b))
        return 0;
    return fabs(a - b) / fmax(1e-12, fmax(fabs(a), fabs(b)));
}

START_TEST(one_sleeve_is_the_single_run)
{
    struct eq_market mk = {.n = N, .day = day, .open = open_, .close = close_};
    struct eq_ticks tk;
    struct qd_err err;
    struct eq_strategy pt = {.sma = true, .fast = 5, .slow = 20};
    struct eq_sim_params p = {.initial_capital = 10000, .fee_rate = 0.001, .fractional = true};
    struct eq_metrics single, port, two, half;
    int8_t t[N], tmp[N];
    double scratch[3 * N], eq[N];
    int32_t *days;
    size_t n;

    series();
    ck_assert_int_eq(eq_ticks_init(&tk, close_, N, &err), QD_OK);
    eq_strategy_targets(&mk, &tk, &pt, t, tmp, scratch);
    eq_simulate(&mk, t, &p, &single, NULL, NULL, 0, NULL);
    {
        struct eq_sleeve one[1] = {{.mk = &mk, .tk = &tk, .weight = 1.0}};
        ck_assert_int_eq(eq_portfolio_calendar(one, 1, &days, &n, &err), QD_OK);
        ck_assert_uint_eq(n, N);
        ck_assert_int_eq(eq_portfolio_run(one, 1, days, n, &pt, &p, EQ_REBAL_NONE, &port, eq, NULL, 0, NULL,
                                          &err),
                         QD_OK);
    }
    ck_assert(fabs(port.final_value - single.final_value) < 1e-6);
    ck_assert(rel(port.sharpe_ratio, single.sharpe_ratio) < 1e-9);
    ck_assert(rel(port.max_drawdown, single.max_drawdown) < 1e-9);
    ck_assert(port.num_trades == single.num_trades);
    ck_assert(rel(port.win_rate, single.win_rate) < 1e-12);
    ck_assert(rel(port.avg_trade_return, single.avg_trade_return) < 1e-9);
    ck_assert(rel(port.exposure, single.exposure) < 1e-12);
    ck_assert(rel(port.turnover, single.turnover) < 1e-9);
    {
        struct eq_sleeve halves[2] = {{.mk = &mk, .tk = &tk, .weight = 0.5},
                                      {.mk = &mk, .tk = &tk, .weight = 0.5}};
        ck_assert_int_eq(eq_portfolio_run(halves, 2, days, n, &pt, &p, EQ_REBAL_NONE, &two, eq, NULL, 0, NULL,
                                          &err),
                         QD_OK);
        ck_assert(fabs(two.final_value - single.final_value) < 1e-6);
        ck_assert(two.num_trades == 2 * single.num_trades);
        ck_assert(rel(two.sharpe_ratio, single.sharpe_ratio) < 1e-9);
        /* one sleeve at half weight: half the capital idles in cash */
        ck_assert_int_eq(eq_portfolio_run(halves, 1, days, n, &pt, &p, EQ_REBAL_NONE, &half, eq, NULL, 0, NULL,
                                          &err),
                         QD_OK);
        ck_assert(fabs(half.final_value - (5000 + single.final_value / 2)) < 1e-6);
        ck_assert(half.max_drawdown < single.max_drawdown || single.max_drawdown == 0);
    }
    {
        /* sweeps equal single runs, whatever the threads */
        struct eq_sleeve halves[2] = {{.mk = &mk, .tk = &tk, .weight = 0.3},
                                      {.mk = &mk, .tk = &tk, .weight = 0.6}};
        struct eq_strategy pts[3] = {pt, {.rsi = true, .rsi_period = 5, .rsi_overbought = 70,
                                          .rsi_oversold = 30},
                                     {.sma = true, .fast = 3, .slow = 9, .long_short = true}};
        struct eq_metrics a[3], b[3], one;
        p.long_short = false;
        ck_assert_int_eq(eq_portfolio_sweep(halves, 2, days, n, pts, 3, &p, EQ_REBAL_NONE, 1, NULL, NULL, a,
                                            &err),
                         QD_OK);
        ck_assert_int_eq(eq_portfolio_sweep(halves, 2, days, n, pts, 3, &p, EQ_REBAL_NONE, 2, NULL, NULL, b,
                                            &err),
                         QD_OK);
        ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
        ck_assert_int_eq(eq_portfolio_run(halves, 2, days, n, &pts[1], &p, EQ_REBAL_NONE, &one, eq, NULL, 0,
                                          NULL, &err),
                         QD_OK);
        ck_assert_int_eq(memcmp(&one, &a[1], sizeof(one)), 0);
    }
    free(days);
    eq_ticks_release(&tk);
}
END_TEST

START_TEST(rebalancing)
{
    struct eq_market mk = {.n = N, .day = day, .open = open_, .close = close_};
    static double rise_open[N], rise_close[N];
    struct eq_market up = {.n = N, .day = day, .open = rise_open, .close = rise_close};
    struct eq_ticks tk, tku;
    struct qd_err err;
    struct eq_strategy pt = {.sma = true, .fast = 5, .slow = 20};
    struct eq_sim_params p = {.initial_capital = 10000, .fee_rate = 0.001, .fractional = true};
    struct eq_metrics none, monthly;
    double eq[N];
    int32_t *days;
    size_t n;

    series();
    for (int i = 0; i < N; i++) {
        /* a dip, then a steady climb: SMA(5,20) crosses up early and stays long */
        rise_close[i] = i < 30 ? 100 - i : 70 + (i - 30) * 0.5;
        rise_open[i] = rise_close[i];
    }
    ck_assert_int_eq(eq_ticks_init(&tk, close_, N, &err), QD_OK);
    ck_assert_int_eq(eq_ticks_init(&tku, rise_close, N, &err), QD_OK);
    {
        /* one full sleeve, or two identical halves: rebalancing moves nothing */
        struct eq_sleeve one[2] = {{.mk = &mk, .tk = &tk, .weight = 1.0},
                                   {.mk = &mk, .tk = &tk, .weight = 0.5}};
        ck_assert_int_eq(eq_portfolio_calendar(one, 1, &days, &n, &err), QD_OK);
        eq_portfolio_run(one, 1, days, n, &pt, &p, EQ_REBAL_NONE, &none, eq, NULL, 0, NULL, &err);
        eq_portfolio_run(one, 1, days, n, &pt, &p, EQ_REBAL_MONTHLY, &monthly, eq, NULL, 0, NULL,
                         &err);
        ck_assert(fabs(none.final_value - monthly.final_value) < 1e-6);
        ck_assert(none.num_trades == monthly.num_trades);
        ck_assert(rel(none.turnover, monthly.turnover) < 1e-9);
        one[0].weight = 0.5;
        eq_portfolio_run(one, 2, days, n, &pt, &p, EQ_REBAL_QUARTERLY, &monthly, eq, NULL, 0,
                         NULL, &err);
        ck_assert(fabs(none.final_value - monthly.final_value) < 1e-6);
    }
    {
        /* a climbing sleeve beside a sleeve that never trades (cash): rebalancing keeps moving
         * the gains into cash, so it ends lower, and it trades (turnover, fees) */
        struct eq_strategy never = {.rsi = true, .rsi_period = 14, .rsi_overbought = 100,
                                    .rsi_oversold = -1};
        struct eq_sleeve two[2] = {{.mk = &up, .tk = &tku, .weight = 0.5},
                                   {.mk = &mk, .tk = &tk, .weight = 0.5}};
        struct eq_strategy pts[2] = {pt, never};
        struct eq_metrics m1, m2, s1[2], s2[2];
        eq_portfolio_run(two, 2, days, n, &pts[0], &p, EQ_REBAL_NONE, &m1, eq, NULL, 0, NULL,
                         &err);
        eq_portfolio_run(two, 2, days, n, &pts[0], &p, EQ_REBAL_MONTHLY, &m2, eq, NULL, 0, NULL,
                         &err);
        ck_assert(m1.final_value != m2.final_value);
        ck_assert(m2.turnover > m1.turnover);
        /* the lockstep sweep is thread-count independent and equals single runs */
        ck_assert_int_eq(eq_portfolio_sweep(two, 2, days, n, pts, 2, &p, EQ_REBAL_MONTHLY, 1,
                                            NULL, NULL, s1, &err),
                         QD_OK);
        ck_assert_int_eq(eq_portfolio_sweep(two, 2, days, n, pts, 2, &p, EQ_REBAL_MONTHLY, 2,
                                            NULL, NULL, s2, &err),
                         QD_OK);
        ck_assert_int_eq(memcmp(s1, s2, sizeof(s1)), 0);
        ck_assert_int_eq(memcmp(&s1[0], &m2, sizeof(m2)), 0);
    }
    free(days);
    eq_ticks_release(&tk);
    eq_ticks_release(&tku);
}
END_TEST

START_TEST(calendar_merges)
{
    static const int32_t d1[] = {1, 2, 4, 7}, d2[] = {2, 3, 7, 8};
    static const double c[] = {1, 1, 1, 1};
    struct eq_market m1 = {.n = 4, .day = d1, .open = c, .close = c};
    struct eq_market m2 = {.n = 4, .day = d2, .open = c, .close = c};
    struct eq_sleeve sl[2] = {{.mk = &m1, .weight = 0.5}, {.mk = &m2, .weight = 0.5}};
    static const int32_t want[] = {1, 2, 3, 4, 7, 8};
    struct qd_err err;
    int32_t *days;
    size_t n;

    ck_assert_int_eq(eq_portfolio_calendar(sl, 2, &days, &n, &err), QD_OK);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(memcmp(days, want, sizeof(want)), 0);
    free(days);
}
END_TEST

Suite *
suite_portfolio(void)
{
    Suite *s = suite_create("portfolio");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, one_sleeve_is_the_single_run);
    tcase_add_test(tc, calendar_merges);
    tcase_add_test(tc, rebalancing);
    suite_add_tcase(s, tc);
    return s;
}
