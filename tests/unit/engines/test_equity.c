/* The equity engine against hand-computed cases and, differentially, against the reference
 * simulator (tests/unit/engines/reference_sim.c) on many random series. */
#include "tests/unit/unit.h"
#include "common/date.h"
#include "engines/equity.h"
#include "feeds/csv_bars.h"
#include "tests/unit/engines/reference_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double
rel(double a, double b)
{
    if (isnan(a) && isnan(b))
        return 0;
    return fabs(a - b) / fmax(1e-12, fmax(fabs(a), fabs(b)));
}

/* A random walk on the cent grid with flat stretches, so that exact ties happen. */
static uint64_t rng_state;

static long
next_random(void)                   /* a 64-bit LCG: reproducible test data, nothing more */
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (long)(rng_state >> 33);
}

static void
random_series(unsigned seed, size_t n, int32_t *day, double *open, double *close)
{
    double p = 20 + seed % 80;

    rng_state = seed;
    for (size_t i = 0; i < n; i++) {
        day[i] = 16000 + (int32_t)i;
        if (next_random() % 10 < 3) {
            /* flat day: no change */
        } else {
            p *= 1 + ((double)(next_random() % 2001) - 1000) / 1000 * 0.03;
            if (p < 1)
                p = 1;
        }
        close[i] = round(p * 100) / 100;
        open[i] = round(close[i] * (1 + ((double)(next_random() % 201) - 100) / 10000) * 100) / 100;
    }
}

static void
compare_ls(const struct eq_market *mk, const struct eq_ticks *tk, unsigned f, unsigned s,
           double fee, int fill_close, int long_short)
{
    struct eq_sim_params p = {.initial_capital = 10000, .fee_rate = fee, .fractional = true,
                              .fill_close = fill_close, .long_short = long_short};
    struct eq_metrics m;
    struct eq_trade tr[4096];
    size_t nt = 0;
    int8_t *target = malloc(mk->n);
    struct ref_result *ref = malloc(sizeof(*ref));

    eq_sma_cross_targets(tk, f, s, long_short ? -1 : 0, target);
    eq_simulate(mk, target, &p, &m, NULL, tr, 4096, &nt);
    ref_sma_backtest(mk->day, mk->open, mk->close, mk->n, f, s, 10000, fee, fill_close,
                     long_short, ref);
    ck_assert_msg(fabs(m.final_value - ref->final_value) < 0.005,
                  "SMA(%u,%u) fee %g: final %.6f vs reference %.6f", f, s, fee, m.final_value,
                  ref->final_value);
    ck_assert_int_eq((int)m.num_trades, ref->closed_trades);
    ck_assert_int_eq((int)nt, ref->ntrades);
    for (size_t i = 0; i < nt; i++) {
        ck_assert_int_eq(tr[i].entry_day, ref->entry_day[i]);
        ck_assert_int_eq(tr[i].exit_day, ref->exit_day[i]);
        if (tr[i].exit_day >= 0)
            ck_assert_msg(fabs(tr[i].pnl - ref->pnl[i]) < 0.005, "trade %zu pnl", i);
    }
    ck_assert_msg(rel(m.annual_volatility, ref->annual_volatility) < 1e-9, "vol");
    ck_assert_msg(rel(m.sharpe_ratio, ref->sharpe_ratio) < 1e-8, "sharpe %g vs %g",
                  m.sharpe_ratio, ref->sharpe_ratio);
    ck_assert_msg(rel(m.max_drawdown, ref->max_drawdown) < 1e-12, "mdd");
    ck_assert_msg((int)m.max_drawdown_duration_days == ref->max_dd_days,
                  "SMA(%u,%u) drawdown days %g vs reference %d", f, s,
                  m.max_drawdown_duration_days, ref->max_dd_days);
    ck_assert_msg(rel(m.win_rate, ref->win_rate) < 1e-12, "win rate");
    ck_assert_msg(rel(m.exposure, ref->exposure) < 1e-12, "exposure");
    free(target);
    free(ref);
}

static void
compare(const struct eq_market *mk, const struct eq_ticks *tk, unsigned f, unsigned s,
        double fee, int fill_close)
{
    compare_ls(mk, tk, f, s, fee, fill_close, 0);
}

START_TEST(differential_random_series)
{
    enum { N = 1500 };
    int32_t day[N];
    double open[N], close[N];
    struct eq_market mk = {.n = N, .day = day, .open = open, .close = close};
    struct eq_ticks tk;
    struct qd_err err;
    static const unsigned pairs[][2] = {{2, 3}, {5, 20}, {10, 30}, {3, 4}, {20, 50}, {7, 8}};

    random_series(1000 + (unsigned)_i, N, day, open, close);
    ck_assert_int_eq(eq_ticks_init(&tk, close, N, &err), QD_OK);
    ck_assert(tk.scale == 1e2);
    for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
        compare(&mk, &tk, pairs[k][0], pairs[k][1], 0, 0);
        compare(&mk, &tk, pairs[k][0], pairs[k][1], 0.001, 0);
        compare(&mk, &tk, pairs[k][0], pairs[k][1], 0.001, 1);
        compare_ls(&mk, &tk, pairs[k][0], pairs[k][1], 0.001, 0, 1);
        compare_ls(&mk, &tk, pairs[k][0], pairs[k][1], 0, 1, 1);
    }
    eq_ticks_release(&tk);
}
END_TEST

START_TEST(exact_ties_are_not_crosses)
{
    /* closes where SMA(2) and SMA(4) are exactly equal on bars 3..5 (a flat stretch): as
     * doubles from rolling sums they could differ by rounding noise; exactly they are tied, and a
     * tie neither crosses nor resets the last sign */
    static const double c[] = {0.3, 0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.25, 0.1};
    int8_t t[9];
    struct eq_ticks tk;
    struct qd_err err;

    ck_assert_int_eq(eq_ticks_init(&tk, c, 9, &err), QD_OK);
    eq_sma_cross_targets(&tk, 2, 4, 0, t);
    /* bar 3: sma2 = .2, sma4 = .2 (tie); bar 7: sma2 = .225 > sma4 = .2125, but the last
     * non-zero sign (bar 3 had none before: at bar 3 the first defined value is a tie) */
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(t[i], 0);
    /* bar 7 is the first non-zero sign: it sets the reference, no cross yet */
    ck_assert_int_eq(t[7], 0);
    /* bar 8: sma2 = .175 < sma4 = .1875: a downward cross of a flat position stays flat */
    ck_assert_int_eq(t[8], 0);
    eq_ticks_release(&tk);
    {
        static const double c2[] = {3, 2, 1, 2, 2, 2, 2, 3, 1, 2};
        int8_t t2[10];
        ck_assert_int_eq(eq_ticks_init(&tk, c2, 10, &err), QD_OK);
        eq_sma_cross_targets(&tk, 2, 3, 0, t2);
        /* sma2 - sma3: bar2 -0.5, bar3 +0.0 -> 1.5-1.666 <0, bar4 2-1.666 >0 (cross up),
         * bar5 tie (2 vs 2), bar6 tie, bar7 2.5 > 2.333 (same sign: no new cross),
         * bar8 2 = 2 tie, bar9 1.5 < 2 (cross down) */
        ck_assert_int_eq(t2[3], 0);
        ck_assert_int_eq(t2[4], 1);
        ck_assert_int_eq(t2[5], 1);
        ck_assert_int_eq(t2[7], 1);
        ck_assert_int_eq(t2[8], 1);
        ck_assert_int_eq(t2[9], 0);
        eq_ticks_release(&tk);
    }
}
END_TEST

START_TEST(hand_computed_trade)
{
    /* buy at bar 1's open 10, sell at bar 3's open 12, fee 1%: all-in size =
     * 1000 / (10 * 1.01) = 99.0099..; fee in = 9.90099..; proceeds 1188.1188..; fee out
     * 11.881188..; final cash = 1176.2376.. */
    static const int32_t day[] = {0, 1, 2, 3, 4};
    static const double open[] = {9, 10, 11, 12, 12}, close[] = {9.5, 10.5, 11.5, 12.5, 12};
    static const int8_t target[] = {1, 1, 0, 0, 0};
    struct eq_market mk = {.n = 5, .day = day, .open = open, .close = close};
    struct eq_sim_params p = {.initial_capital = 1000, .fee_rate = 0.01, .fractional = true};
    struct eq_metrics m;
    struct eq_trade tr[4];
    size_t nt;
    double size = 1000 / (10 * 1.01), final = size * 12 * 0.99;

    eq_simulate(&mk, target, &p, &m, NULL, tr, 4, &nt);
    ck_assert_uint_eq(nt, 1);
    ck_assert(fabs(m.final_value - final) < 1e-9);
    ck_assert(fabs(tr[0].pnl - (final - 1000)) < 1e-9);
    ck_assert(fabs(tr[0].fees - (size * 10 * 0.01 + size * 12 * 0.01)) < 1e-9);
    ck_assert_int_eq(tr[0].entry_day, 1);
    ck_assert_int_eq(tr[0].exit_day, 3);
    ck_assert(m.num_trades == 1 && m.win_rate == 1.0);
    ck_assert(fabs(m.exposure - 2.0 / 5.0) < 1e-12);           /* held after bars 1 and 2 */
    /* max drawdown: equity after bar 1 is size*10.5 = 1039.60.., after bar 2 size*11.5 */
    ck_assert(m.max_drawdown == 0.0 || m.max_drawdown < 0.02);
    /* whole shares: floor(99.0099) = 99 */
    p.fractional = false;
    eq_simulate(&mk, target, &p, &m, NULL, tr, 4, &nt);
    ck_assert(tr[0].size == 99);
    ck_assert(fabs(m.final_value - (1000 - 99 * 10 * 1.01 + 99 * 12 * 0.99)) < 1e-9);
}
END_TEST

/* The maximum drawdown by its definition: the largest 1 - E / peak over the bars below their
 * running peak (each in double), the peak starting at the initial capital. */
static double
mdd_by_definition(const double *eq, size_t n, double initial)
{
    double peak = initial, mdd = 0;

    for (size_t i = 0; i < n; i++) {
        if (eq[i] >= peak) {
            peak = eq[i];
        } else {
            double dd = 1.0 - eq[i] / peak;
            mdd = dd > mdd ? dd : mdd;
        }
    }
    return mdd;
}

START_TEST(drawdown_edges)
{
    static const int32_t day[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    struct eq_metrics m, m2;
    struct eq_sim_params p = {.initial_capital = 1000, .fractional = true};

    /* a flat start sits at the peak: the drawdown's duration counts from the last flat day
     * (2), as the bar-by-bar curve does, not from the first (was 4) */
    {
        static const double open[] = {10, 10, 10, 10, 9}, close[] = {10, 10, 10, 9, 9};
        static const int8_t target[] = {0, 0, 1, 1, 1};
        struct eq_market mk = {.n = 5, .day = day, .open = open, .close = close};
        double equity[5];
        uint8_t held[5] = {0, 0, 0, 1, 1};
        eq_simulate(&mk, target, &p, &m, equity, NULL, 0, NULL);
        ck_assert_int_eq((int)m.max_drawdown_duration_days, 2);
        eq_simulate(&mk, target, &p, &m2, NULL, NULL, 0, NULL);
        ck_assert_int_eq((int)m2.max_drawdown_duration_days, 2);
        eq_curve_metrics(day, equity, held, 5, 1000, NULL, 0, 0, &m2);
        ck_assert_int_eq((int)m2.max_drawdown_duration_days, 2);
    }
    /* equity below zero (mdd > 1): a bar a few ulps deeper than the one that set mdd still
     * counts (the division gate holds for either sign of 1 - mdd) */
    {
        const double eq[] = {100, -100, -100 * (1 + 5e-15)};
        const uint8_t held[] = {1, 1, 1};
        eq_curve_metrics(day, eq, held, 3, 100, NULL, 0, 0, &m);
        ck_assert_msg(m.max_drawdown == mdd_by_definition(eq, 3, 100), "%.17g vs %.17g",
                      m.max_drawdown, mdd_by_definition(eq, 3, 100));
        ck_assert(m.max_drawdown > 2.0);
    }
    {
        /* the same through a short: all-in short at 10, the price triples */
        static const double px[] = {10, 10, 30, 30.00000000000005};
        static const int8_t target[] = {-1, -1, -1, -1};
        struct eq_market mk = {.n = 4, .day = day, .open = px, .close = px};
        struct eq_sim_params ps = {.initial_capital = 1000, .fractional = true,
                                   .fill_close = true, .long_short = true};
        double equity[4];
        eq_simulate(&mk, target, &ps, &m, equity, NULL, 0, NULL);
        ck_assert(equity[3] < 0);
        ck_assert_msg(m.max_drawdown == mdd_by_definition(equity, 4, 1000), "%.17g vs %.17g",
                      m.max_drawdown, mdd_by_definition(equity, 4, 1000));
    }
    /* a NaN close inside a held stretch: the folded walk (no curve asked for) and the bar by
     * bar one (curve asked for) agree, a NaN bar deepening nothing */
    {
        static const double px[] = {10, 12, 11, 9, 9, 5, 9, NAN, 9};
        static const int8_t target[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        struct eq_market mk = {.n = 9, .day = day, .open = px, .close = px};
        struct eq_sim_params pl = {.initial_capital = 1000, .fractional = true,
                                   .fill_close = true};
        double equity[9];
        eq_simulate(&mk, target, &pl, &m, NULL, NULL, 0, NULL);
        eq_simulate(&mk, target, &pl, &m2, equity, NULL, 0, NULL);
        ck_assert_msg(m.max_drawdown == m2.max_drawdown, "%.17g vs %.17g", m.max_drawdown,
                      m2.max_drawdown);
        ck_assert(fabs(m.max_drawdown - (1 - 5.0 / 12)) < 1e-12);
    }
}
END_TEST

static bool
always_stop(void *arg)
{
    (void)arg;
    return true;
}

START_TEST(sweep_threads_bit_identical)
{
    enum { N = 800 };
    int32_t day[N];
    double open[N], close[N];
    struct eq_market mk = {.n = N, .day = day, .open = open, .close = close};
    struct eq_ticks tk;
    struct qd_err err;
    struct eq_sim_params p = {.initial_capital = 10000, .fee_rate = 0.001, .fractional = true};
    size_t k = eq_sma_grid_size(2, 40);
    struct eq_metrics *a = calloc(k, sizeof(*a)), *b = calloc(k, sizeof(*b));

    random_series(7, N, day, open, close);
    if (_i == 1) {
        /* prices 10,000 times larger: the window sums no longer fit the sweep's 32-bit
         * integer path, so the double path runs (both must give the same bits) */
        for (size_t i = 0; i < N; i++) {
            close[i] = round(close[i] * 1e6) / 100;
            open[i] = round(open[i] * 1e6) / 100;
        }
    }
    ck_assert_int_eq(eq_ticks_init(&tk, close, N, &err), QD_OK);
    ck_assert_uint_eq(k, 39 * 38 / 2);
    ck_assert_int_eq(eq_sma_sweep(&mk, &tk, 2, 40, &p, 1, NULL, NULL, a, &err), QD_OK);
    ck_assert_int_eq(eq_sma_sweep(&mk, &tk, 2, 40, &p, 3, NULL, NULL, b, &err), QD_OK);
    ck_assert_int_eq(memcmp(a, b, k * sizeof(*a)), 0);
    /* and every grid point equals a single run of the same pair: the sweep's elementwise
     * targets (and its fallback on series with exact ties) match the event-by-event rule */
    {
        int8_t t[N];
        struct eq_metrics one;
        size_t k2 = 0;
        for (unsigned f = 2; f <= 40; f++)
            for (unsigned sl = f + 1; sl <= 40; sl++, k2++) {
                eq_sma_cross_targets(&tk, f, sl, 0, t);
                eq_simulate(&mk, t, &p, &one, NULL, NULL, 0, NULL);
                ck_assert_msg(memcmp(&one, &a[k2], sizeof(one)) == 0, "pair (%u, %u)", f, sl);
            }
    }
    ck_assert_int_eq(eq_sma_sweep(&mk, &tk, 2, 40, &p, 2, always_stop, NULL, a, &err),
                     QD_ECANCELED);
    /* explicit pairs, in any order, equal the grid and single runs */
    {
        static const unsigned pairs[] = {5, 9, 2, 3, 30, 31};
        struct eq_metrics c[3];
        int8_t t[N];
        ck_assert_int_eq(eq_sma_sweep_pairs(&mk, &tk, pairs, 3, &p, 2, NULL, NULL, c, &err), QD_OK);
        ck_assert_int_eq(memcmp(&c[1], &a[0], sizeof(c[1])), 0);
        eq_sma_cross_targets(&tk, 30, 31, 0, t);
        {
            struct eq_metrics one;
            eq_simulate(&mk, t, &p, &one, NULL, NULL, 0, NULL);
            ck_assert_int_eq(memcmp(&one, &c[2], sizeof(one)), 0);
        }
    }
    /* long/short: the sweep's elementwise targets equal the single runs too */
    p.long_short = true;
    ck_assert_int_eq(eq_sma_sweep(&mk, &tk, 2, 40, &p, 2, NULL, NULL, a, &err), QD_OK);
    {
        int8_t t[N];
        struct eq_metrics one;
        size_t k2 = 0;
        for (unsigned f = 2; f <= 40; f++)
            for (unsigned sl = f + 1; sl <= 40; sl++, k2++) {
                eq_sma_cross_targets(&tk, f, sl, -1, t);
                eq_simulate(&mk, t, &p, &one, NULL, NULL, 0, NULL);
                ck_assert_msg(memcmp(&one, &a[k2], sizeof(one)) == 0, "ls pair (%u, %u)", f, sl);
            }
    }
    p.long_short = false;
    free(a);
    free(b);
    eq_ticks_release(&tk);
}
END_TEST

START_TEST(orcl_against_reference)
{
    const char *path = "../shared/data/market/orcl-1995-2014.txt";
    FILE *f = fopen(path, "r");
    struct bar_series s;
    struct csv_bars *parser;
    struct qd_err err;
    char buf[65536];
    size_t got;

    if (f == NULL) {
        printf("orcl_against_reference: skipped: %s is absent\n", path);
        return;
    }
    bar_series_init(&s, 0);
    parser = csv_bars_create(&s);
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
        ck_assert_int_eq(csv_bars_feed(parser, buf, got, &err), QD_OK);
    fclose(f);
    ck_assert_int_eq(csv_bars_finish(parser, &err), QD_OK);
    csv_bars_destroy(parser);
    ck_assert_uint_eq(s.n, 5036);
    {
        struct eq_market mk = {.n = s.n, .day = s.day, .open = s.open, .close = s.close};
        struct eq_ticks tk;
        ck_assert_int_eq(eq_ticks_init(&tk, s.close, s.n, &err), QD_OK);
        ck_assert(tk.scale == 1e6);
        compare(&mk, &tk, 10, 30, 0, 0);
        compare(&mk, &tk, 10, 30, 0.001, 0);
        eq_ticks_release(&tk);
    }
    bar_series_release(&s);
}
END_TEST

Suite *
suite_equity(void)
{
    Suite *s = suite_create("equity_engine");
    TCase *tc = tcase_create("all");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, differential_random_series, 0, 25);
    tcase_add_test(tc, exact_ties_are_not_crosses);
    tcase_add_test(tc, hand_computed_trade);
    tcase_add_test(tc, drawdown_edges);
    tcase_add_loop_test(tc, sweep_threads_bit_identical, 0, 2);
    tcase_add_test(tc, orcl_against_reference);
    suite_add_tcase(s, tc);
    return s;
}

/* ---- sizing modes, by hand: buy at bar 1's open 10, sell at bar 3's open 12, no fees ---- */

static double
sized_final(enum eq_sizing mode, double value, const double *vol, const double *kelly,
            double *size)
{
    static const int32_t day[] = {0, 1, 2, 3, 4};
    static const double open[] = {9, 10, 11, 12, 12}, close[] = {9.5, 10.5, 11.5, 12.5, 12};
    static const int8_t target[] = {1, 1, 0, 0, 0};
    struct eq_market mk = {.n = 5, .day = day, .open = open, .close = close, .sizing_vol = vol,
                           .sizing_kelly = kelly};
    struct eq_sim_params p = {.initial_capital = 1000, .fractional = true, .sizing = mode,
                              .sizing_value = value};
    struct eq_metrics m;
    struct eq_trade tr[2];
    size_t nt = 0;

    eq_simulate(&mk, target, &p, &m, NULL, tr, 2, &nt);
    *size = nt ? tr[0].size : 0;
    return m.final_value;
}

START_TEST(sizing_modes_by_hand)
{
    static const double vol[5] = {0.30, 0.30, 0.30, 0.30, 0.30};
    static const double kelly[5] = {2.0, 2.0, 2.0, 2.0, 2.0}, nan5[5] = {NAN, NAN, NAN, NAN, NAN};
    double size, f;

    f = sized_final(EQ_SIZE_FIXED_SHARES, 30, NULL, NULL, &size);
    ck_assert(size == 30 && fabs(f - (1000 + 30 * 2)) < 1e-9);
    f = sized_final(EQ_SIZE_FIXED_SHARES, 500, NULL, NULL, &size);     /* capped by the cash */
    ck_assert(fabs(size - 100) < 1e-9 && fabs(f - 1200) < 1e-9);
    f = sized_final(EQ_SIZE_FIXED_NOTIONAL, 250, NULL, NULL, &size);
    ck_assert(fabs(size - 25) < 1e-9 && fabs(f - 1050) < 1e-9);
    f = sized_final(EQ_SIZE_PERCENT_EQUITY, 0.4, NULL, NULL, &size);
    ck_assert(fabs(size - 40) < 1e-9 && fabs(f - 1080) < 1e-9);
    /* vol target 15 % over a realized 30 %: half the equity */
    f = sized_final(EQ_SIZE_VOL_TARGET, 0.15, vol, NULL, &size);
    ck_assert(fabs(size - 50) < 1e-9 && fabs(f - 1100) < 1e-9);
    /* half Kelly of mean/variance 2.0 = 1.0: all in */
    f = sized_final(EQ_SIZE_KELLY, 0.5, NULL, kelly, &size);
    ck_assert(fabs(size - 100) < 1e-9);
    f = sized_final(EQ_SIZE_KELLY, 0.1, NULL, kelly, &size);
    ck_assert(fabs(size - 20) < 1e-9 && fabs(f - 1040) < 1e-9);
    /* no estimate yet: no entry */
    f = sized_final(EQ_SIZE_VOL_TARGET, 0.15, nan5, NULL, &size);
    ck_assert(size == 0 && f == 1000);
}
END_TEST

START_TEST(sizing_inputs)
{
    static const double c[6] = {100, 101, 99, 102, 100, 103};
    double vol[6], kelly[6], m = 0, v = 0, r[3];

    eq_sizing_inputs(c, 6, 3, vol, kelly);
    ck_assert(isnan(vol[2]) && !isnan(vol[3]));
    for (int k = 0; k < 3; k++) {
        r[k] = c[k + 3] / c[k + 2] - 1;
        m += r[k] / 3;
    }
    for (int k = 0; k < 3; k++)
        v += (r[k] - m) * (r[k] - m) / 2;
    ck_assert(fabs(vol[5] - sqrt(v * 252)) < 1e-12);
    ck_assert(fabs(kelly[5] - m / v) < 1e-9);
}
END_TEST

Suite *
suite_equity_sizing(void)
{
    Suite *s = suite_create("equity_sizing");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, sizing_modes_by_hand);
    tcase_add_test(tc, sizing_inputs);
    suite_add_tcase(s, tc);
    return s;
}
