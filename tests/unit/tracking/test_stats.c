/* tracking/stats.c against values obtained independently of it (docs/statistics.md).
 *
 * Where each expected value comes from:
 *  - "hand": derived on paper in the comment next to the assertion (exact fractions/roots);
 *  - "mp": computed with Python's mpmath at 40 significant digits straight from the formulas
 *    of docs/statistics.md (no code shared with the C module: two-pass moments in exact-ish
 *    arithmetic, Memmel's theta in its original mu/sigma form, Phi by mp.ncdf, Phi^-1 by
 *    mp.erfinv / root finding on mp.ncdf, Student's t by mp.betainc), printed to 17 digits.
 *    The script, abridged:
 *        mom(x): m = sum(x)/n; d = x - m; sd = sqrt(sum d^2/(n-1)); m_k = sum d^k / n;
 *                sr = (m - rf_p)/sd; skew = m3/m2^1.5; kurt = m4/m2^2
 *        psr(sr, s*, n, g3, g4) = ncdf((sr - s*) sqrt(n-1) / sqrt(1 - g3 sr + (g4-1)/4 sr^2))
 *        sr0(V, N) = sqrt(V) ((1-euler) ppf(1 - 1/N) + euler ppf(1 - 1/(N e)))
 *        jk(a, b): th = (2 va vb - 2 sa sb c + ma^2 vb/2 + mb^2 va/2 - ma mb/(sa sb) c^2)/n;
 *                  z = (sb ma - sa mb)/sqrt(th); p = 2 ncdf(-|z|)   (Memmel 2003)
 *        tcdf(t, df) = 1 - betainc(df/2, 1/2, 0, df/(df+t^2), regularized)/2  (t > 0)
 *  - "py-boot": a separate Python transcription of the documented bootstrap (splitmix64 seeding,
 *    xoshiro256**, restart with probability 1/L, Welford moments, type-7 quantiles) run on the
 *    same inputs; Python floats are IEEE doubles, so it agrees to rounding;
 *  - "paper": the numerical example of Bailey & Lopez de Prado (2014), section 4;
 *  - "engine": engines/equity.c's own sharpe_ratio of the same equity curve.
 * No expected value was copied from this module's output. */
#include "tests/unit/unit.h"
#include "engines/equity.h"
#include "tracking/stats.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define PI               3.14159265358979323846
#define EULER_GAMMA_TEST 0.57721566490153286061     /* Euler-Mascheroni */

static double
rel(double a, double b)
{
    if (isnan(a) && isnan(b))
        return 0;
    if (a == b)
        return 0;
    return fabs(a - b) / fmax(1e-300, fmax(fabs(a), fabs(b)));
}

#define ck_rel(got, want, tol)                                                                    \
    do {                                                                                          \
        double got_ = (got), want_ = (want);                                                      \
        ck_assert_msg(rel(got_, want_) <= (tol), "%s = %.17g, want %.17g (rel tol %g)", #got,   \
                      got_, want_, (double)(tol));                                                \
    } while (0)

#define ck_nan(x) ck_assert_msg(isnan(x), "%s = %.17g, want NaN", #x, (double)(x))

/* The test series (returns per day). */
static const double S1[] = {0.02, -0.01, 0.03, 0.00, 0.01};
static const double S2[] = {0.012, -0.004, 0.021, -0.015, 0.007, 0.003, -0.009, 0.030};
static const double S3[] = {0.010, -0.006, 0.015, -0.010, 0.004, 0.006, -0.012, 0.020};

/* ---- the normal and t distributions ---- */

static const struct {
    double x, want;                 /* mp: ncdf at the double x */
} cdf_cases[] = {
    {1.959963984540054, 0.97499999999999999},
    {0, 0.5},
    {-1, 0.15865525393145705},
    {2.5, 0.99379033467422386},
    {-8, 6.2209605742717841e-16},
    {-37, 5.7255712225245768e-300},
};

START_TEST(norm_cdf_known)
{
    ck_rel(stats_norm_cdf(cdf_cases[_i].x), cdf_cases[_i].want, 1e-13);
}
END_TEST

static const struct {
    double p, want;                 /* mp: root of ncdf(x) = p, p the double nearest the
                                     * decimal (0.999999 is 1 - 1.0000000000028e-6) */
} ppf_cases[] = {
    {0.975, 1.9599639845400539},
    {1e-10, -6.3613409024040562},
    {1e-300, -37.047096299361199},
    {0.02425, -1.9729610513118848},
    {0.3, -0.52440051270804082},
    {0.9, 1.2815515655446006},
    {0.999999, 4.7534243088170878},
};

START_TEST(norm_ppf_known)
{
    ck_rel(stats_norm_ppf(ppf_cases[_i].p), ppf_cases[_i].want, 1e-14);
}
END_TEST

START_TEST(norm_ppf_edges_and_round_trip)
{
    ck_assert(stats_norm_ppf(0.5) == 0.0);                             /* hand: symmetry */
    ck_assert(stats_norm_ppf(0.0) == -INFINITY);
    ck_assert(stats_norm_ppf(1.0) == INFINITY);
    ck_nan(stats_norm_ppf(-0.1));
    ck_nan(stats_norm_ppf(1.1));
    ck_nan(stats_norm_ppf(NAN));
    ck_nan(stats_norm_cdf(NAN));
    /* Phi(Phi^-1(p)) = p over every region of AS 241 (the tails to 1e-300) */
    for (int k = 1; k <= 300; k++) {
        double p = pow(10.0, -k);
        ck_rel(stats_norm_cdf(stats_norm_ppf(p)), p, 1e-12);
        /* symmetry: Phi^-1(1 - p) = -Phi^-1(p) where 1 - p is exact enough */
        if (k <= 8)
            ck_assert(fabs(stats_norm_ppf(1 - p) + stats_norm_ppf(p)) < 1e-7 * pow(10.0, -8 + k));
    }
    for (int k = 1; k < 1000; k++) {
        double p = k / 1000.0;
        ck_rel(stats_norm_cdf(stats_norm_ppf(p)), p, 1e-14);
    }
}
END_TEST

static const struct {
    double t, df, want;
} t_cases[] = {
    {2.0, 5, 0.94903026058507082},           /* mp */
    {-1.3, 7, 0.11738391769618858},          /* mp */
    {1.96, 2000, 0.97493276940289617},       /* mp */
    {-4.5, 30, 4.7596796960562344e-5},       /* mp */
    {0, 9, 0.5},                             /* hand: symmetry */
};

START_TEST(t_cdf_known)
{
    ck_rel(stats_t_cdf(t_cases[_i].t, t_cases[_i].df), t_cases[_i].want, 1e-11);
}
END_TEST

START_TEST(t_cdf_closed_forms)
{
    /* hand: df = 1 is Cauchy, F(t) = 1/2 + atan(t)/pi;
     * df = 2, F(t) = 1/2 + t / (2 sqrt(2 + t^2)) */
    ck_rel(stats_t_cdf(0.5, 1), 0.5 + atan(0.5) / PI, 1e-13);
    ck_rel(stats_t_cdf(-7.0, 1), 0.5 + atan(-7.0) / PI, 1e-12);
    ck_rel(stats_t_cdf(3.0, 2), 0.5 + 3.0 / (2 * sqrt(11.0)), 1e-13);
    ck_rel(stats_t_cdf(-0.25, 2), 0.5 - 0.25 / (2 * sqrt(2.0625)), 1e-13);
    ck_rel(stats_t_cdf(0.5, 1), 0.64758361765043327, 1e-13);           /* mp */
    ck_rel(stats_t_cdf(3, 2), 0.95226701686664543, 1e-13);             /* mp */
    ck_assert(stats_t_cdf(INFINITY, 4) == 1.0 && stats_t_cdf(-INFINITY, 4) == 0.0);
    ck_nan(stats_t_cdf(1, 0));
    ck_nan(stats_t_cdf(1, -3));
    ck_nan(stats_t_cdf(NAN, 3));
}
END_TEST

/* ---- summaries ---- */

START_TEST(summary_ignores_nan)
{
    const double x[] = {3, NAN, 1, 2, 10, NAN};
    double copy[6], med;
    struct stats_summary s;
    struct qd_err err = {0};

    memcpy(copy, x, sizeof(x));
    ck_assert_int_eq(stats_summarize(x, 6, &s, &err), QD_OK);
    /* hand: values 1, 2, 3, 10: mean 16/4, median (2 + 3)/2 */
    ck_assert_uint_eq(s.n, 4);
    ck_assert(s.min == 1 && s.max == 10 && s.mean == 4 && s.median == 2.5);
    ck_assert(memcmp(copy, x, sizeof(x)) == 0);                        /* input untouched */
    ck_assert_int_eq(stats_median(x, 5, &med, &err), QD_OK);
    ck_assert(med == 2.5);
    ck_assert_int_eq(stats_median(x, 3, &med, &err), QD_OK);          /* 3, 1 */
    ck_assert(med == 2);
    ck_assert_int_eq(stats_median(x, 4, &med, &err), QD_OK);          /* 3, 1, 2 */
    ck_assert(med == 2);
    ck_assert(stats_mean(x, 6) == 4);
    ck_assert(memcmp(copy, x, sizeof(x)) == 0);
}
END_TEST

START_TEST(summary_degenerate)
{
    const double nans[] = {NAN, NAN};
    struct stats_summary s;
    struct qd_err err = {0};
    double med = 0;

    ck_assert_int_eq(stats_summarize(nans, 2, &s, &err), QD_OK);
    ck_assert_uint_eq(s.n, 0);
    ck_nan(s.mean);
    ck_nan(s.median);
    ck_nan(s.min);
    ck_assert_int_eq(stats_median(NULL, 0, &med, &err), QD_OK);
    ck_nan(med);
    ck_nan(stats_mean(NULL, 3));
    ck_nan(stats_mean(nans, 2));
    ck_assert_int_eq(stats_median(NULL, 3, &med, &err), QD_EINVAL);
    ck_assert(err.msg[0] != '\0');
    ck_assert_int_eq(stats_median(nans, 2, NULL, NULL), QD_EINVAL);
    ck_assert_int_eq(stats_summarize(nans, 2, NULL, NULL), QD_EINVAL);
}
END_TEST

/* ---- Sharpe and moments ---- */

START_TEST(sharpe_by_hand)
{
    struct stats_sr s;

    ck_assert_int_eq(stats_sharpe(S1, 5, NULL, &s, NULL), QD_OK);
    /* hand: mean 0.05/5 = 0.01; deviations .01 -.02 .02 -.01 0: sum d^2 = 0.001, sd =
     * sqrt(0.001/4); sr = 0.01/sqrt(0.00025) = sqrt(0.4); annual sqrt(0.4 * 252); sum d^3 = 0 so
     * skew 0; sum d^4 = 34e-8, m4 = 6.8e-8, m2 = 2e-4: kurt = 6.8e-8 / 4e-8 = 1.7 */
    ck_assert_uint_eq(s.n, 5);
    ck_rel(s.mean, 0.01, 1e-14);
    ck_rel(s.sd, sqrt(0.00025), 1e-14);
    ck_rel(s.sr, sqrt(0.4), 1e-14);
    ck_rel(s.sr_annual, sqrt(100.8), 1e-14);
    ck_assert(fabs(s.skew) < 1e-12);
    ck_rel(s.kurt, 1.7, 1e-13);
}
END_TEST

START_TEST(sharpe_mp)
{
    struct stats_sr s;
    struct stats_sr_params p = {.risk_free_rate = 0.02};

    ck_assert_int_eq(stats_sharpe(S2, 8, NULL, &s, NULL), QD_OK);
    ck_rel(s.mean, 0.005625, 1e-14);                                    /* hand: 0.045 / 8 */
    ck_rel(s.sd, 0.015174579306948089, 1e-14);                          /* mp */
    ck_rel(s.sr, 0.3706857294834159, 1e-14);                            /* mp */
    ck_rel(s.sr_annual, 5.8844535286420907, 1e-14);                     /* mp */
    ck_rel(s.skew, 0.24330560288308679, 1e-12);                         /* mp */
    ck_rel(s.kurt, 1.988729603994202, 1e-13);                           /* mp */
    /* rf 2 % a year: rf_p = 1.02^(1/252) - 1 */
    ck_assert_int_eq(stats_sharpe(S2, 8, &p, &s, NULL), QD_OK);
    ck_rel(s.sr, 0.36550700654190208, 1e-13);                           /* mp */
    ck_rel(s.sr_annual, 5.802243850569188, 1e-13);                      /* mp */
    /* 12 periods a year: only the annualisation and rf_p change */
    p = (struct stats_sr_params){.periods_per_year = 12};
    ck_assert_int_eq(stats_sharpe(S2, 8, &p, &s, NULL), QD_OK);
    ck_rel(s.sr_annual, 0.3706857294834159 * sqrt(12.0), 1e-14);
}
END_TEST

START_TEST(sharpe_degenerate)
{
    const double flat[] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
    const double with_nan[] = {0.01, NAN, 0.02};
    double curve[30], grow[29];
    struct stats_sr s;
    struct stats_sr_params bad = {.periods_per_year = -1};
    struct qd_err err = {0};

    ck_assert_int_eq(stats_sharpe(NULL, 0, NULL, &s, NULL), QD_OK);
    ck_nan(s.mean);
    ck_nan(s.sr);
    ck_assert_int_eq(stats_sharpe(S1, 1, NULL, &s, NULL), QD_OK);      /* one return */
    ck_assert(s.mean == 0.02);
    ck_nan(s.sd);
    ck_nan(s.sr);
    /* all equal: the deviation is exactly 0 (not a rounding residue), so no Sharpe ratio */
    ck_assert_int_eq(stats_sharpe(flat, 7, NULL, &s, NULL), QD_OK);
    ck_assert(s.mean == 0.01 && s.sd == 0.0);
    ck_nan(s.sr);
    ck_nan(s.sr_annual);
    ck_nan(s.skew);
    ck_nan(s.kurt);
    ck_assert_int_eq(stats_sharpe(with_nan, 3, NULL, &s, NULL), QD_OK);
    ck_nan(s.mean);
    ck_nan(s.sr);
    /* a curve growing at a constant rate: its returns differ only in their last bits (a naive
     * deviation of ~1.6e-16 would give a Sharpe ratio near 2e12); that is no deviation */
    for (int t = 0; t < 30; t++)
        curve[t] = 100 * pow(1.0003, t);
    ck_assert_int_eq(stats_returns_from_equity(curve, 30, grow, NULL), QD_OK);
    ck_assert(grow[0] != grow[1] || grow[1] != grow[2] || grow[5] != grow[20]);
    ck_assert_int_eq(stats_sharpe(grow, 29, NULL, &s, NULL), QD_OK);
    ck_rel(s.mean, 0.0003, 1e-12);
    ck_assert(s.sd == 0.0);
    ck_nan(s.sr);
    ck_assert_int_eq(stats_sharpe(NULL, 3, NULL, &s, &err), QD_EINVAL);
    ck_assert_int_eq(stats_sharpe(S1, 5, NULL, NULL, &err), QD_EINVAL);
    ck_assert_int_eq(stats_sharpe(S1, 5, &bad, &s, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "periods_per_year");
    bad = (struct stats_sr_params){.risk_free_rate = -1};
    ck_assert_int_eq(stats_sharpe(S1, 5, &bad, &s, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "risk_free_rate");
    bad = (struct stats_sr_params){.risk_free_rate = NAN};
    ck_assert_int_eq(stats_sharpe(S1, 5, &bad, &s, &err), QD_EINVAL);
}
END_TEST

/* engine: a run's stored sharpe_ratio equals the Sharpe ratio of its equity curve's returns */
START_TEST(sharpe_matches_engine)
{
    enum { N = 40 };
    int32_t day[N];
    double open[N], close[N], equity[N], r[N - 1];
    int8_t target[N];
    struct eq_metrics m;
    struct eq_sim_params p = {.initial_capital = 10000, .fee_rate = 0.001, .fractional = true,
                              .risk_free_rate = 0.03};
    struct stats_sr_params sp = {.risk_free_rate = 0.03};
    struct stats_sr s;
    double px = 50;

    for (int t = 0; t < N; t++) {
        day[t] = 17000 + t;
        px *= 1 + 0.013 * sin(t * 1.7) + 0.002;
        close[t] = round(px * 100) / 100;
        open[t] = round(px * (1 + 0.004 * cos(t * 2.3)) * 100) / 100;
        target[t] = (t % 11) < 7;                   /* in and out: flat stretches too */
    }
    struct eq_market mk = {.n = N, .day = day, .open = open, .close = close};
    eq_simulate(&mk, target, &p, &m, equity, NULL, 0, NULL);
    ck_assert_int_eq(stats_returns_from_equity(equity, N, r, NULL), QD_OK);
    ck_assert_int_eq(stats_sharpe(r, N - 1, &sp, &s, NULL), QD_OK);
    ck_assert(isfinite(m.sharpe_ratio));
    /* the engine sums r and r^2 in one pass; this module uses two passes: equal to rounding */
    ck_rel(s.sr_annual, m.sharpe_ratio, 1e-9);
    ck_rel(s.sd * sqrt(252.0), m.annual_volatility, 1e-9);
}
END_TEST

START_TEST(returns_helpers)
{
    const double eq[] = {100, 110, 99, 99};
    const int32_t da[] = {1, 2, 3, 5, 6}, db[] = {1, 3, 4, 5, 6}, bad[] = {1, 3, 3};
    const double ea[] = {100, 101, 102, 103, 104}, eb[] = {50, 51, 52, 53, 54};
    double r[5], ra[5], rb[5];
    size_t n = 99;
    struct qd_err err = {0};

    ck_assert_int_eq(stats_returns_from_equity(eq, 4, r, NULL), QD_OK);
    /* hand: 110/100 - 1, 99/110 - 1, 0 */
    ck_rel(r[0], 0.1, 1e-14);
    ck_rel(r[1], -0.1, 1e-14);
    ck_assert(r[2] == 0);
    ck_assert_int_eq(stats_returns_from_equity(NULL, 4, r, &err), QD_EINVAL);
    /* hand: shared dates 1, 3, 5, 6 */
    ck_assert_int_eq(stats_common_returns(da, ea, 5, db, eb, 5, ra, rb, &n, NULL), QD_OK);
    ck_assert_uint_eq(n, 3);
    ck_rel(ra[0], 102.0 / 100 - 1, 1e-15);
    ck_rel(ra[1], 103.0 / 102 - 1, 1e-15);
    ck_rel(ra[2], 104.0 / 103 - 1, 1e-15);
    ck_rel(rb[0], 51.0 / 50 - 1, 1e-15);
    ck_rel(rb[1], 53.0 / 51 - 1, 1e-15);
    ck_rel(rb[2], 54.0 / 53 - 1, 1e-15);
    ck_assert_int_eq(stats_common_returns(da, ea, 1, db, eb, 5, ra, rb, &n, NULL), QD_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(stats_common_returns(da, ea, 5, bad, eb, 3, ra, rb, &n, &err), QD_EINVAL);
    ck_assert(strstr(err.msg, "increasing") != NULL);
    ck_assert_int_eq(stats_common_returns(da, NULL, 5, db, eb, 5, ra, rb, &n, &err), QD_EINVAL);
}
END_TEST

/* ---- PSR and DSR ---- */

START_TEST(psr_values)
{
    struct stats_sr s;

    /* hand: S1 has sr = sqrt(0.4), n = 5, skew 0, kurt 1.7: PSR(0) =
     * Phi(sqrt(0.4) * 2 / sqrt(1 + 0.7/4 * 0.4)) = Phi(1.2649110640673518 / sqrt(1.07)) */
    ck_rel(stats_psr(sqrt(0.4), 0, 5, 0, 1.7), 0.88930411712182682, 1e-13);   /* mp */
    ck_rel(stats_psr(sqrt(0.4), 0.1, 5, 0, 1.7), 0.84837488207186675, 1e-13); /* mp */
    ck_assert_int_eq(stats_sharpe(S2, 8, NULL, &s, NULL), QD_OK);
    ck_rel(stats_psr(s.sr, 0, s.n, s.skew, s.kurt), 0.84364054467926079, 1e-12);   /* mp */
    ck_rel(stats_psr(s.sr, 0.1, s.n, s.skew, s.kurt), 0.76949697139236677, 1e-12); /* mp */
    /* hand: sr = sr_star gives Phi(0) */
    ck_assert(stats_psr(0.2, 0.2, 100, -1, 6) == 0.5);
    /* degenerate: n < 3; a two-point law (kurt = 1 + skew^2) at sr = 2/skew has radicand 0;
     * NaN inputs */
    ck_nan(stats_psr(0.3, 0, 2, 0, 3));
    ck_nan(stats_psr(1.0, 0, 100, 2.0, 5.0));
    ck_nan(stats_psr(NAN, 0, 100, 0, 3));
    ck_nan(stats_psr(0.1, 0, 100, NAN, 3));
    ck_nan(stats_psr(0.1, NAN, 100, 0, 3));
}
END_TEST

START_TEST(dsr_paper_example)
{
    /* paper: annual SR 2.5 over 5 years of 250 days (n = 1250), skew -3, kurt 10, N = 100
     * trials whose annualised Sharpe ratios have variance 1/2: per period sr = 2.5/sqrt(250),
     * V = 0.5/250. The paper prints SR0 = 0.1132 and DSR = 0.9004. */
    double sr0 = stats_expected_max_sr(0.5 / 250, 100);
    double dsr = stats_psr(2.5 / sqrt(250.0), sr0, 1250, -3, 10);

    ck_rel(sr0, 0.11317200186513203, 1e-13);                            /* mp */
    ck_rel(dsr, 0.90039683444939096, 1e-12);                            /* mp */
    ck_assert(fabs(sr0 - 0.1132) < 5e-5);                               /* paper */
    ck_assert(fabs(dsr - 0.9004) < 5e-5);                               /* paper */
    /* hand: N = 2 gives Phi^-1(1/2) = 0 in the first term */
    ck_rel(stats_expected_max_sr(4.0, 2), 2 * EULER_GAMMA_TEST * -stats_norm_ppf(0.5 / exp(1.0)),
           1e-14);
}
END_TEST

START_TEST(dsr_of_trials)
{
    struct stats_sr a, b;
    struct stats_dsr d;
    struct qd_err err = {0};
    double trials[6];

    ck_assert_int_eq(stats_sharpe(S2, 8, NULL, &a, NULL), QD_OK);
    ck_assert_int_eq(stats_sharpe(S3, 8, NULL, &b, NULL), QD_OK);
    ck_rel(b.sr, 0.28731766912618793, 1e-13);                           /* mp */
    trials[0] = a.sr;
    trials[1] = b.sr;
    trials[2] = 0.05;
    trials[3] = -0.02;
    trials[4] = 0.1;
    trials[5] = NAN;                    /* a run without a Sharpe ratio: a trial, no variance */
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 6, 0, 0.6, &d, &err), QD_OK);
    ck_assert_uint_eq(d.n_trials, 6);
    ck_rel(d.var_sr, 0.02716737044767514, 1e-13);                       /* mp */
    ck_rel(d.sr0, 0.21429605961730997, 1e-13);                          /* mp */
    ck_rel(d.dsr, 0.66491508473217474, 1e-12);                          /* mp */
    ck_assert(d.passes);
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 6, 0, 0.95, &d, &err), QD_OK);
    ck_assert(!d.passes);
    /* more trials charged: a higher bar, a lower DSR */
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 6, 1000, 0.5, &d, &err), QD_OK);
    ck_rel(d.sr0, 0.5365262904390636, 1e-13);                           /* mp */
    ck_assert(d.dsr < 0.5 && !d.passes);
    /* N = 1: SR0 = 0, so DSR = PSR(0) */
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 1, 0, 0.8, &d, &err), QD_OK);
    ck_assert(d.sr0 == 0.0);
    ck_nan(d.var_sr);
    ck_rel(d.dsr, 0.84364054467926079, 1e-12);                          /* mp, as psr_values */
    ck_assert(d.passes);
    ck_assert_int_eq(stats_deflated_sharpe(&a, NULL, 0, 1, 0.8, &d, &err), QD_OK);
    ck_rel(d.dsr, 0.84364054467926079, 1e-12);
    /* N = 2 but one finite Sharpe ratio: no variance, no DSR */
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials + 4, 2, 0, 0.5, &d, &err), QD_OK);
    ck_nan(d.var_sr);
    ck_nan(d.sr0);
    ck_nan(d.dsr);
    ck_assert(!d.passes);
    /* all trials equal (up to rounding: 0.3 - 0.2 is 0.1 minus an ulp): V = 0, SR0 = 0 */
    trials[0] = 0.1;
    trials[1] = 0.3 - 0.2;
    trials[2] = 0.1;
    ck_assert(trials[1] != trials[0]);
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 3, 0, 0.5, &d, &err), QD_OK);
    ck_assert(d.var_sr == 0 && d.sr0 == 0);
    ck_nan(stats_expected_max_sr(0.1, 0));
    ck_nan(stats_expected_max_sr(-0.1, 5));
    ck_nan(stats_expected_max_sr(NAN, 5));
    ck_assert(stats_expected_max_sr(NAN, 1) == 0);
    /* bad arguments */
    ck_assert_int_eq(stats_deflated_sharpe(&a, NULL, 0, 0, 0.5, &d, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "n_trials");
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 3, 0, 1.5, &d, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "threshold");
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 3, 0, NAN, &d, &err), QD_EINVAL);
    ck_assert_int_eq(stats_deflated_sharpe(NULL, trials, 3, 0, 0.5, &d, &err), QD_EINVAL);
    ck_assert_int_eq(stats_deflated_sharpe(&a, NULL, 3, 0, 0.5, &d, &err), QD_EINVAL);
    ck_assert_int_eq(stats_deflated_sharpe(&a, trials, 3, 0, 0.5, NULL, &err), QD_EINVAL);
}
END_TEST

/* ---- paired tests ---- */

START_TEST(paired_mp)
{
    struct stats_paired t;

    ck_assert_int_eq(stats_paired_test(S2, S3, 8, NULL, &t, NULL), QD_OK);
    ck_assert_uint_eq(t.n, 8);
    ck_rel(t.sr_a, 0.3706857294834159, 1e-13);                          /* mp */
    ck_rel(t.sr_b, 0.28731766912618793, 1e-13);                         /* mp */
    ck_rel(t.rho, 0.97065037474012328, 1e-13);                          /* mp */
    ck_rel(t.jk_z, 0.90203859271967896, 1e-11);                         /* mp */
    ck_rel(t.jk_p, 0.36703636716082997, 1e-11);                         /* mp */
    ck_rel(t.t, 1.3502411360204996, 1e-12);                             /* mp */
    ck_rel(t.t_p, 0.218963994876621, 1e-11);                            /* mp */
    /* swapped: the same test, the sign of z and t flips */
    ck_assert_int_eq(stats_paired_test(S3, S2, 8, NULL, &t, NULL), QD_OK);
    ck_rel(t.jk_z, -0.90203859271967896, 1e-11);
    ck_rel(t.jk_p, 0.36703636716082997, 1e-11);
    ck_rel(t.t, -1.3502411360204996, 1e-12);
}
END_TEST

START_TEST(paired_by_hand)
{
    double neg[5];
    struct stats_paired t;

    /* hand: b = -a gives mu_b = -mu_a, sd_b = sd_a, rho = -1, SR_b = -SR_a = -sqrt(0.4), so
     * theta / sd^4 = (4 + 2 SR^2) / n and z = 2 SR sqrt(n) / sqrt(4 + 2 SR^2)
     * = 2 sqrt(2) / sqrt(4.8) = sqrt(5/3) for S1 (n = 5) */
    for (int i = 0; i < 5; i++)
        neg[i] = -S1[i];
    ck_assert_int_eq(stats_paired_test(S1, neg, 5, NULL, &t, NULL), QD_OK);
    ck_rel(t.rho, -1.0, 1e-14);
    ck_rel(t.jk_z, sqrt(5.0 / 3.0), 1e-13);
    ck_rel(t.jk_p, 0.19670560245894689, 1e-12);                         /* mp: 2 Phi(-z) */
    /* hand: d = 2 a: mean 0.02, sd 2 sqrt(0.00025), t = 0.02 / (0.0316227766 / sqrt 5)
     * = sqrt(0.4) sqrt(5) = sqrt(2); for an even df, P(|T| < t) = sin th (1 + cos^2 th / 2 + ..)
     * with th = atan(t / sqrt df) (Abramowitz & Stegun 26.7.3): df 4, t = sqrt 2 gives
     * sin th = 1/sqrt 3, cos^2 th = 2/3, so p = 1 - (4/3) / sqrt 3 */
    ck_rel(t.t, sqrt(2.0), 1e-13);
    ck_rel(t.t_p, 1 - 4.0 / (3.0 * sqrt(3.0)), 1e-12);
}
END_TEST

START_TEST(paired_degenerate)
{
    double twice[8], shifted[8];
    const double flat[] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
    const double with_nan[] = {0.01, NAN, 0.02, 0.0};
    struct stats_paired t;
    struct qd_err err = {0};

    /* a strategy against itself, or a leveraged copy: the statistic's variance is 0 */
    ck_assert_int_eq(stats_paired_test(S2, S2, 8, NULL, &t, NULL), QD_OK);
    ck_nan(t.jk_z);
    ck_nan(t.jk_p);
    ck_nan(t.t);
    ck_nan(t.t_p);
    ck_rel(t.sr_a, t.sr_b, 0);
    for (int i = 0; i < 8; i++) {
        twice[i] = 2 * S2[i];
        shifted[i] = S2[i] + 0.001;
    }
    ck_assert_int_eq(stats_paired_test(S2, twice, 8, NULL, &t, NULL), QD_OK);
    ck_nan(t.jk_z);
    /* hand: b = a + c: rho = 1, equal deviations, so V = (SR_a - SR_b)^2 / 2 and
     * z = sqrt(2 n) sign(SR_a - SR_b) = -4 for n = 8; the t-test of a constant difference
     * is undefined */
    ck_assert_int_eq(stats_paired_test(S2, shifted, 8, NULL, &t, NULL), QD_OK);
    ck_rel(t.jk_z, -4.0, 1e-9);
    ck_nan(t.t);
    ck_assert_int_eq(stats_paired_test(S2, flat, 8, NULL, &t, NULL), QD_OK);
    ck_nan(t.sr_b);
    ck_nan(t.jk_z);
    ck_assert(isfinite(t.t));                   /* the differences still vary */
    ck_assert_int_eq(stats_paired_test(with_nan, S2, 4, NULL, &t, NULL), QD_OK);
    ck_nan(t.jk_z);
    ck_nan(t.t);
    ck_assert_int_eq(stats_paired_test(S2, S3, 2, NULL, &t, NULL), QD_OK);
    ck_nan(t.jk_z);
    ck_assert_int_eq(stats_paired_test(S2, NULL, 8, NULL, &t, &err), QD_EINVAL);
    ck_assert_int_eq(stats_paired_test(S2, S3, 8, NULL, NULL, &err), QD_EINVAL);
}
END_TEST

/* ---- the generator and the bootstrap ---- */

START_TEST(rng_vectors)
{
    struct stats_rng g = {{1, 2, 3, 4}};

    /* hand: out = rotl(s1 * 5, 7) * 9 = 10 * 128 * 9; then s1 = 2 ^ (3 ^ 1) = 0 gives 0; then
     * s1 = 0 ^ (2 ^ 262144 ^ 7) = 262149: rotl(1310745, 7) * 9 */
    ck_assert_uint_eq(stats_rng_next(&g), 11520);
    ck_assert_uint_eq(stats_rng_next(&g), 0);
    ck_assert_uint_eq(stats_rng_next(&g), 1509978240);
    ck_assert_uint_eq(stats_rng_next(&g), 1215971899390074240ULL);     /* py-boot */
    /* splitmix64's published first output for state 0 */
    stats_rng_seed(&g, 0);
    ck_assert_uint_eq(g.s[0], 0xe220a8397b1dcdafULL);
}
END_TEST

START_TEST(bootstrap_transcription)
{
    struct stats_boot_params p = {.resamples = 200, .level = 0.9, .block_len = 2, .seed = 42};
    struct stats_ci ci;

    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, NULL), QD_OK);
    ck_rel(ci.estimate, 5.8844535286420907, 1e-14);                     /* mp */
    ck_assert_uint_eq(ci.resamples, 200);
    ck_assert_uint_eq(ci.valid, 200);                                   /* py-boot */
    ck_rel(ci.lo, -0.51933916992927909, 1e-12);                         /* py-boot */
    ck_rel(ci.hi, 14.52196444462059, 1e-12);                            /* py-boot */
    ck_rel(ci.se, 4.9939751360938001, 1e-12);                           /* py-boot */
    p = (struct stats_boot_params){.resamples = 50, .level = 0.8, .block_len = 1, .seed = 7};
    ck_assert_int_eq(stats_sharpe_ci(S1, 5, &p, &ci, NULL), QD_OK);
    ck_assert_uint_eq(ci.valid, 50);                                    /* py-boot */
    ck_rel(ci.lo, 3.415259872981844, 1e-12);                            /* py-boot */
    ck_rel(ci.hi, 26.154572513541204, 1e-12);                           /* py-boot */
    ck_rel(ci.se, 15.699213158017765, 1e-12);                           /* py-boot */
}
END_TEST

/* Test data: i.i.d. normal daily returns (Box-Muller over the module's generator). */
static void
normal_returns(uint64_t seed, size_t n, double mu, double sigma, double *r)
{
    struct stats_rng g;

    stats_rng_seed(&g, seed ^ 0x5eed5eed5eedULL);
    for (size_t i = 0; i < n; i++) {
        double u1 = ((double)(stats_rng_next(&g) >> 11) + 0.5) * 0x1.0p-53;
        double u2 = (double)(stats_rng_next(&g) >> 11) * 0x1.0p-53;
        r[i] = mu + sigma * sqrt(-2 * log(u1)) * cos(2 * PI * u2);
    }
}

START_TEST(bootstrap_properties)
{
    enum { N = 4000 };
    static double r[N];
    struct stats_boot_params p = {.seed = 1};
    struct stats_ci a, b, c, shortci;
    struct stats_sr s;
    double se_lo;

    normal_returns(3, N, 0.0005, 0.01, r);
    /* reproducible: the same seed gives the same interval, bit for bit */
    ck_assert_int_eq(stats_sharpe_ci(r, 2000, &p, &a, NULL), QD_OK);
    ck_assert_int_eq(stats_sharpe_ci(r, 2000, &p, &b, NULL), QD_OK);
    ck_assert(a.lo == b.lo && a.hi == b.hi && a.se == b.se);
    ck_assert_uint_eq(a.resamples, STATS_BOOT_DEFAULT_RESAMPLES);
    ck_assert(a.level == 0.95);
    ck_rel(a.block_len, cbrt(2000.0), 1e-15);
    ck_assert_uint_eq(a.valid, a.resamples);
    /* the interval holds the point estimate */
    ck_assert_int_eq(stats_sharpe(r, 2000, NULL, &s, NULL), QD_OK);
    ck_assert(a.estimate == s.sr_annual);
    ck_assert_msg(a.lo < a.estimate && a.estimate < a.hi, "%g < %g < %g", a.lo, a.estimate,
                  a.hi);
    /* scale: on i.i.d. returns the bootstrap SE is close to the asymptotic one (Lo 2002):
     * sqrt((1 + SR^2 / 2) / n) per period, times sqrt(252) */
    se_lo = sqrt((1 + s.sr * s.sr / 2) / 2000.0) * sqrt(252.0);
    ck_assert_msg(fabs(a.se / se_lo - 1) < 0.2, "bootstrap se %g, asymptotic %g", a.se, se_lo);
    ck_assert_msg(fabs((a.hi - a.lo) / (2 * 1.96 * se_lo) - 1) < 0.25, "width %g",
                  a.hi - a.lo);
    /* another seed: different bounds, but within Monte Carlo error (~0.03 here) */
    p.seed = 2;
    ck_assert_int_eq(stats_sharpe_ci(r, 2000, &p, &c, NULL), QD_OK);
    ck_assert(c.lo != a.lo && c.hi != a.hi);
    ck_assert_msg(fabs(c.lo - a.lo) < 0.15 && fabs(c.hi - a.hi) < 0.15, "%g %g vs %g %g", c.lo,
                  c.hi, a.lo, a.hi);
    /* a longer series narrows the interval (by ~sqrt(8) from 500 to 4000 returns) */
    ck_assert_int_eq(stats_sharpe_ci(r, 500, &p, &shortci, NULL), QD_OK);
    ck_assert_int_eq(stats_sharpe_ci(r, N, &p, &c, NULL), QD_OK);
    ck_assert_msg(c.hi - c.lo < 0.6 * (shortci.hi - shortci.lo), "width %g vs %g", c.hi - c.lo,
                  shortci.hi - shortci.lo);
    ck_assert(c.lo < c.estimate && c.estimate < c.hi);
    /* a higher level, a wider interval */
    p.level = 0.99;
    ck_assert_int_eq(stats_sharpe_ci(r, 2000, &p, &b, NULL), QD_OK);
    ck_assert(b.lo < a.lo && b.hi > a.hi);
}
END_TEST

START_TEST(bootstrap_endless_block_is_a_rotation)
{
    /* with a mean block length far beyond B * n, no block ever restarts: every resample is a
     * rotation of the series, whose mean and deviation are the series' own (up to the order of
     * summation), so the interval collapses onto the estimate */
    struct stats_boot_params p = {.resamples = 300, .block_len = 1e15, .seed = 9};
    struct stats_ci ci;

    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, NULL), QD_OK);
    ck_rel(ci.lo, ci.estimate, 1e-12);
    ck_rel(ci.hi, ci.estimate, 1e-12);
    ck_assert(ci.se < 1e-12);
}
END_TEST

/* Any thread: the same interval from several threads at once (make tsan watches for races). */
struct ci_job {
    const double   *r;
    size_t          n;
    struct stats_ci ci;
    enum qd_code    rc;
};

static void *
ci_thread(void *arg)
{
    struct ci_job *j = arg;
    struct stats_boot_params p = {.resamples = 500, .seed = 77};

    j->rc = stats_sharpe_ci(j->r, j->n, &p, &j->ci, NULL);
    return NULL;
}

START_TEST(bootstrap_threads_agree)
{
    enum { N = 600, T = 4 };
    static double r[N];
    pthread_t th[T];
    struct ci_job job[T];

    normal_returns(11, N, 0.0003, 0.012, r);
    for (int k = 0; k < T; k++) {
        job[k] = (struct ci_job){.r = r, .n = N};
        ck_assert_int_eq(pthread_create(&th[k], NULL, ci_thread, &job[k]), 0);
    }
    for (int k = 0; k < T; k++)
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
    for (int k = 0; k < T; k++) {
        ck_assert_int_eq(job[k].rc, QD_OK);
        ck_assert(isfinite(job[k].ci.lo));
        ck_assert(job[k].ci.lo == job[0].ci.lo && job[k].ci.hi == job[0].ci.hi);
    }
}
END_TEST

START_TEST(bootstrap_degenerate)
{
    const double flat[] = {0.01, 0.01, 0.01, 0.01, 0.01};
    const double mostly_flat[] = {0, 0, 0, 0, 0.01};
    const double with_nan[] = {0.01, NAN, 0.02, 0.0, 0.01};
    struct stats_boot_params p = {.resamples = 400, .seed = 5, .block_len = 1};
    struct stats_ci ci;
    struct qd_err err = {0};

    ck_assert_int_eq(stats_sharpe_ci(flat, 5, &p, &ci, NULL), QD_OK);
    ck_nan(ci.estimate);
    ck_nan(ci.lo);
    ck_nan(ci.hi);
    ck_assert_uint_eq(ci.valid, 0);
    ck_assert_int_eq(stats_sharpe_ci(with_nan, 5, &p, &ci, NULL), QD_OK);
    ck_nan(ci.lo);
    ck_assert_int_eq(stats_sharpe_ci(S2, 2, &p, &ci, NULL), QD_OK);
    ck_assert(isfinite(ci.estimate));
    ck_nan(ci.lo);
    ck_nan(ci.hi);
    ck_assert_int_eq(stats_sharpe_ci(NULL, 0, NULL, &ci, NULL), QD_OK);
    ck_nan(ci.lo);
    /* resamples drawing only zeros (about 1/3 here) have no Sharpe ratio and are left out */
    ck_assert_int_eq(stats_sharpe_ci(mostly_flat, 5, &p, &ci, NULL), QD_OK);
    ck_assert(ci.valid < ci.resamples && 2 * ci.valid >= ci.resamples);
    ck_assert(isfinite(ci.lo) && ci.lo <= ci.hi);
    /* bad arguments */
    ck_assert_int_eq(stats_sharpe_ci(NULL, 5, &p, &ci, &err), QD_EINVAL);
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, NULL, &err), QD_EINVAL);
    p.level = 1.0;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "level");
    p.level = -0.5;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
    p.level = NAN;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
    p.level = 0;
    p.block_len = 0.5;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "block_len");
    p.block_len = INFINITY;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
    p.block_len = NAN;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
    p.block_len = 0;
    p.resamples = STATS_BOOT_MAX_RESAMPLES + 1;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
    ck_assert_str_eq(err.field, "resamples");
    p.resamples = 0;
    p.sr.periods_per_year = -5;
    ck_assert_int_eq(stats_sharpe_ci(S2, 8, &p, &ci, &err), QD_EINVAL);
}
END_TEST

Suite *
suite_stats(void)
{
    Suite *s = suite_create("stats");
    TCase *dist = tcase_create("distributions");
    TCase *sum = tcase_create("summaries");
    TCase *sr = tcase_create("sharpe");
    TCase *psr = tcase_create("psr_dsr");
    TCase *pair = tcase_create("paired");
    TCase *boot = tcase_create("bootstrap");

    tcase_add_loop_test(dist, norm_cdf_known, 0, QD_ARRAY_LEN(cdf_cases));
    tcase_add_loop_test(dist, norm_ppf_known, 0, QD_ARRAY_LEN(ppf_cases));
    tcase_add_test(dist, norm_ppf_edges_and_round_trip);
    tcase_add_loop_test(dist, t_cdf_known, 0, QD_ARRAY_LEN(t_cases));
    tcase_add_test(dist, t_cdf_closed_forms);
    suite_add_tcase(s, dist);
    tcase_add_test(sum, summary_ignores_nan);
    tcase_add_test(sum, summary_degenerate);
    suite_add_tcase(s, sum);
    tcase_add_test(sr, sharpe_by_hand);
    tcase_add_test(sr, sharpe_mp);
    tcase_add_test(sr, sharpe_degenerate);
    tcase_add_test(sr, sharpe_matches_engine);
    tcase_add_test(sr, returns_helpers);
    suite_add_tcase(s, sr);
    tcase_add_test(psr, psr_values);
    tcase_add_test(psr, dsr_paper_example);
    tcase_add_test(psr, dsr_of_trials);
    suite_add_tcase(s, psr);
    tcase_add_test(pair, paired_mp);
    tcase_add_test(pair, paired_by_hand);
    tcase_add_test(pair, paired_degenerate);
    suite_add_tcase(s, pair);
    tcase_add_test(boot, rng_vectors);
    tcase_add_test(boot, bootstrap_transcription);
    tcase_add_test(boot, bootstrap_properties);
    tcase_add_test(boot, bootstrap_endless_block_is_a_rotation);
    tcase_add_test(boot, bootstrap_threads_agree);
    tcase_add_test(boot, bootstrap_degenerate);
    suite_add_tcase(s, boot);
    return s;
}
