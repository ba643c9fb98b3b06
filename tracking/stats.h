#ifndef TRACKING_STATS_H
#define TRACKING_STATS_H

/*
 * Significance statistics for comparing the runs of an experiment (docs/statistics.md): NaN-
 * aware summaries, the Sharpe ratio and the moments of a returns series (the same definitions
 * as the engine's sharpe_ratio, docs/engine.md), a stationary-bootstrap confidence interval of
 * the annualised Sharpe ratio, the Jobson-Korkie test with Memmel's correction (and a paired
 * t-test) between two strategies, the Probabilistic and the Deflated Sharpe Ratio, and the
 * normal distribution.
 *
 * Pure: no I/O, no globals, deterministic (the bootstrap draws from a generator seeded by the
 * caller); any thread. Arrays are caller-owned and never modified. A result that is not defined
 * for the input (too few returns, zero deviation, a NaN return) is NaN, never 0; QD_EINVAL is
 * only for unusable arguments (NULL arrays, parameters out of range), with a message.
 */

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the standard normal distribution ---- */

/* Phi(x) = erfc(-x / sqrt 2) / 2; NaN for NaN. */
double stats_norm_cdf(double x);
/* Phi^-1(p) by Wichura's AS 241 (relative error ~1e-16): -inf at 0, +inf at 1, NaN outside
 * [0, 1] or for NaN. */
double stats_norm_ppf(double p);
/* Student's t distribution with df > 0 degrees of freedom: P(T <= t). NaN for df <= 0 or NaN. */
double stats_t_cdf(double t, double df);

/* ---- summaries of a metric over runs (NaN values are skipped; infinities count) ---- */

struct stats_summary {
    size_t n;                       /* values that are not NaN */
    double min, max, mean, median;  /* NaN when n == 0 */
};

/* Mean of the values that are not NaN; NaN when there are none or x is NULL. */
double stats_mean(const double *x, size_t n);
/* Median of the values that are not NaN (the mean of the two middle ones for an even count),
 * NaN when there are none. x is not modified: the values are copied (QD_ENOMEM).
 * QD_EINVAL when x is NULL with n > 0 or median is NULL. */
enum qd_code stats_median(const double *x, size_t n, double *median, struct qd_err *err);
/* All of struct stats_summary at once; errors as stats_median. */
enum qd_code stats_summarize(const double *x, size_t n, struct stats_summary *s,
                             struct qd_err *err);

/* ---- returns ---- */

/* How per-period returns are turned into a Sharpe ratio. {0} is the engine's default: no
 * risk-free rate, 252 periods a year. */
struct stats_sr_params {
    double risk_free_rate;          /* annual; per period rf_p = (1 + rate)^(1/ppy) - 1 */
    double periods_per_year;        /* annualisation; 0: 252 */
};

/* Simple returns r[t-1] = E[t] / E[t-1] - 1, t = 1..n-1, of an equity curve E[0..n) (the
 * engine's definition): n - 1 values into r (room for n - 1). QD_EINVAL for NULL arrays. */
enum qd_code stats_returns_from_equity(const double *equity, size_t n, double *r,
                                       struct qd_err *err);

/* The returns of two equity curves on the dates they share: with the common dates
 * d_0 < d_1 < ... < d_m (days strictly increasing in each curve), ra[k] = A(d_{k+1}) / A(d_k)
 * - 1 and the same for rb, so *n = m (0 when fewer than two dates are shared). ra and rb must
 * have room for min(na, nb) values. QD_EINVAL for NULL arrays or days not strictly increasing. */
enum qd_code stats_common_returns(const int32_t *day_a, const double *eq_a, size_t na,
                                  const int32_t *day_b, const double *eq_b, size_t nb,
                                  double *ra, double *rb, size_t *n, struct qd_err *err);

/* Sharpe ratio and moments of per-period returns r[0..n). */
struct stats_sr {
    size_t n;                       /* returns */
    double mean;                    /* mean return per period (n >= 1) */
    double sd;                      /* sample standard deviation, n - 1 denominator (n >= 2) */
    double sr;                      /* (mean - rf_p) / sd: per period, what PSR and DSR use */
    double sr_annual;               /* sr * sqrt(periods_per_year): the engine's sharpe_ratio */
    double skew;                    /* gamma3 = m3 / m2^(3/2), moments with 1/n (sd > 0) */
    double kurt;                    /* gamma4 = m4 / m2^2, not excess: 3 for a normal (sd > 0) */
};
/* NaN fields where undefined: every field when a return is not finite, sd and below for
 * n < 2, sr and below when sd == 0 (all returns equal, up to rounding: docs/statistics.md).
 * p may be NULL (defaults).
 * QD_EINVAL for r NULL with n > 0, s NULL, or a periods_per_year that is negative / not
 * finite, or a risk_free_rate <= -1 / not finite. */
enum qd_code stats_sharpe(const double *r, size_t n, const struct stats_sr_params *p,
                          struct stats_sr *s, struct qd_err *err);

/* ---- the bootstrap confidence interval of the annualised Sharpe ratio ---- */

/* xoshiro256** seeded by splitmix64: a small, fast generator with a reproducible stream. */
struct stats_rng {
    uint64_t s[4];
};
void     stats_rng_seed(struct stats_rng *g, uint64_t seed);
uint64_t stats_rng_next(struct stats_rng *g);

#define STATS_BOOT_DEFAULT_RESAMPLES 2000
#define STATS_BOOT_MAX_RESAMPLES     1000000   /* bounds the allocation: 8 MB of doubles */

struct stats_boot_params {
    struct stats_sr_params sr;
    size_t   resamples;             /* B; 0: STATS_BOOT_DEFAULT_RESAMPLES; <= the max */
    double   level;                 /* confidence level in (0, 1); 0: 0.95 */
    double   block_len;             /* mean block length >= 1 (1: the i.i.d. bootstrap);
                                     * 0: cbrt(n), at least 1 */
    uint64_t seed;                  /* the same seed and inputs give the same interval */
};

struct stats_ci {
    double estimate;                /* the series' annualised Sharpe ratio */
    double lo, hi;                  /* percentile interval of the resamples' annualised SR */
    double se;                      /* standard deviation of the resamples' annualised SR */
    double level, block_len;        /* as used */
    size_t resamples, valid;        /* drawn; with a defined Sharpe ratio (sd > 0) */
};

/* Stationary bootstrap (Politis & Romano 1994) of the annualised Sharpe ratio of r[0..n):
 * B resamples of length n made of blocks with geometric lengths of mean block_len, wrapping
 * around the end. lo, hi and se are NaN when n < 3, a return is not finite, or fewer than half
 * of the resamples have a defined Sharpe ratio. Allocates B doubles (QD_ENOMEM). QD_EINVAL for
 * NULL arrays, or parameters out of range. p may be NULL (defaults, seed 0). */
enum qd_code stats_sharpe_ci(const double *r, size_t n, const struct stats_boot_params *p,
                             struct stats_ci *ci, struct qd_err *err);

/* ---- paired tests of two strategies on the same dates ---- */

struct stats_paired {
    size_t n;
    double sr_a, sr_b;              /* per-period Sharpe ratios (excess of rf_p) */
    double rho;                     /* correlation of the returns */
    double jk_z, jk_p;              /* Jobson-Korkie z with Memmel's correction, > 0 when a's
                                     * Sharpe ratio is higher; two-sided p-value */
    double t, t_p;                  /* paired t of the mean of a - b, df n - 1; two-sided p */
};
/* The reported test of "same Sharpe ratio" is Jobson-Korkie-Memmel; the paired t-test of the
 * mean return difference is given alongside. a[i] and b[i] are returns of the same period.
 * Fields are NaN when n < 3, a return is not finite, a deviation is zero, or (z only) the
 * statistic's variance is zero (b a positive multiple of a, e.g. a compared with itself).
 * QD_EINVAL for NULL arrays or bad params (as stats_sharpe). p may be NULL. */
enum qd_code stats_paired_test(const double *a, const double *b, size_t n,
                               const struct stats_sr_params *p, struct stats_paired *out,
                               struct qd_err *err);

/* ---- the Probabilistic and the Deflated Sharpe Ratio (per-period Sharpe ratios) ---- */

/* PSR(sr_star) = Phi((sr - sr_star) sqrt(n - 1) / sqrt(1 - skew sr + (kurt - 1) / 4 sr^2))
 * (Bailey & Lopez de Prado 2012) for a per-period sr estimated from n returns with skewness
 * skew and (non-excess) kurtosis kurt. NaN when n < 3, an input is not finite, or the
 * radicand is <= 0. */
double stats_psr(double sr, double sr_star, size_t n, double skew, double kurt);

/* The expected maximum per-period Sharpe ratio of n_trials unskilled trials whose Sharpe
 * ratios have variance var_sr (Bailey & Lopez de Prado 2014):
 * sqrt(var_sr) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))), g the Euler-Mascheroni
 * constant. 0 for N = 1; NaN for N = 0 or var_sr negative / not finite. */
double stats_expected_max_sr(double var_sr, size_t n_trials);

struct stats_dsr {
    size_t n_trials;                /* N as used */
    double var_sr;                  /* sample variance (N - 1) of the finite trial Sharpe ratios */
    double sr0;                     /* stats_expected_max_sr(var_sr, N) */
    double dsr;                     /* stats_psr(cand->sr, sr0, cand->n, cand->skew, cand->kurt) */
    bool   passes;                  /* dsr >= threshold (false when dsr is NaN) */
};
/* Deflated Sharpe Ratio of the candidate `cand` (stats_sharpe of its returns) chosen among
 * n_trials runs whose per-period Sharpe ratios are trial_sr[0..n_sr) (NaN entries count as
 * trials but not in the variance; annualised ones are divided by sqrt(periods_per_year) first).
 * n_trials 0 means n_sr. With N = 1, sr0 = 0 and DSR = PSR(0); with N >= 2 and fewer than two
 * finite trial Sharpe ratios, var_sr, sr0 and dsr are NaN. threshold in [0, 1] (e.g. 0.95).
 * QD_EINVAL for NULL pointers (trial_sr may be NULL when n_sr == 0), N == 0 or a bad threshold. */
enum qd_code stats_deflated_sharpe(const struct stats_sr *cand, const double *trial_sr,
                                   size_t n_sr, size_t n_trials, double threshold,
                                   struct stats_dsr *out, struct qd_err *err);

#endif
