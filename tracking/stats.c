/* Significance statistics for the comparison of an experiment's runs (docs/statistics.md).
 * Pure: no I/O, no globals (only constant tables); any thread. Inputs are never modified; the
 * median and the bootstrap allocate a scratch array that they free before returning.
 *
 * DESIGN: every moment is computed in two passes over the data, the mean corrected by the mean
 * of the first-pass deviations. A series whose deviation is no more than rounding noise counts
 * as constant, with a deviation of exactly 0 and so an undefined Sharpe ratio (NaN), instead of
 * a residue that would make its Sharpe ratio 1e13: all values equal, or the returns of a curve
 * growing at a constant rate, which differ only in the last bits of E[t] / E[t-1]. The noise
 * is NOISE_ULPS units in the last place of the values' scale: 1 + max |r| for returns (computed
 * as a ratio minus 1), max |x| for other values (Sharpe ratios of trials). The bootstrap's
 * resamples (Welford's update) and the paired differences use the same floor. */
#include "tracking/stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EULER_GAMMA     0.57721566490153286061
#define DEFAULT_PPY     252.0
#define DEFAULT_LEVEL   0.95
#define NOISE_ULPS      16.0

/* The largest deviation that is only rounding noise for values of scale `scale`. */
static double
noise_floor(double scale)
{
    return NOISE_ULPS * DBL_EPSILON * scale;
}

/* The scale of returns: computed as E[t] / E[t-1] - 1, they carry the rounding of a number
 * near 1 + r. */
#define RETURNS_UNIT 1.0

/* ---- the normal and Student distributions ---- */

double
stats_norm_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* Wichura, M. J. (1988), Algorithm AS 241: the percentage points of the normal distribution,
 * Applied Statistics 37(3), 477-484: PPND16, rational approximations in three regions. */
static const double as241_a[8] = {
    3.3871328727963666080e0,  1.3314166789178437745e+2, 1.9715909503065514427e+3,
    1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
    3.3430575583588128105e+4, 2.5090809287301226727e+3,
};
static const double as241_b[8] = {
    1.0,                      4.2313330701600911252e+1, 6.8718700749205790830e+2,
    5.3941960214247511077e+3, 2.1213794301586595867e+4, 3.9307895800092710610e+4,
    2.8729085735721942674e+4, 5.2264952788528545610e+3,
};
static const double as241_c[8] = {
    1.42343711074968357734e0,  4.63033784615654529590e0,  5.76949722146069140550e0,
    3.64784832476320460504e0,  1.27045825245236838258e0,  2.41780725177450611770e-1,
    2.27238449892691845833e-2, 7.74545014278341407640e-4,
};
static const double as241_d[8] = {
    1.0,                       2.05319162663775882187e0,  1.67638483018380384940e0,
    6.89767334985100004550e-1, 1.48103976427480074590e-1, 1.51986665636164571966e-2,
    5.47593808499534494600e-4, 1.05075007164441684324e-9,
};
static const double as241_e[8] = {
    6.65790464350110377720e0,  5.46378491116411436990e0,  1.78482653991729133580e0,
    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
    2.71155556874348757815e-5, 2.01033439929228813265e-7,
};
static const double as241_f[8] = {
    1.0,                       5.99832206555887937690e-1, 1.36929880922735805310e-1,
    1.48753612908506148525e-2, 7.86869131145613259100e-4, 1.84631831751005468180e-5,
    1.42151175831644588870e-7, 2.04426310338993978564e-15,
};

static double
poly7(const double c[8], double x)
{
    double v = c[7];

    for (int k = 6; k >= 0; k--)
        v = v * x + c[k];
    return v;
}

double
stats_norm_ppf(double p)
{
    double q, r, v;

    if (isnan(p) || p < 0.0 || p > 1.0)
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    q = p - 0.5;
    if (fabs(q) <= 0.425) {
        r = 0.180625 - q * q;
        return q * poly7(as241_a, r) / poly7(as241_b, r);
    }
    r = sqrt(-log(q < 0 ? p : 1.0 - p));
    if (r <= 5.0) {
        r -= 1.6;
        v = poly7(as241_c, r) / poly7(as241_d, r);
    } else {
        r -= 5.0;
        v = poly7(as241_e, r) / poly7(as241_f, r);
    }
    return q < 0 ? -v : v;
}

/* log Gamma(x) for x >= 0.5 by Lanczos' approximation (g = 7, 9 terms; relative error of
 * Gamma about 1e-15). Our own because lgamma() writes the global signgam. */
static double
log_gamma(double x)
{
    static const double c[9] = {
        0.99999999999980993,  676.5203681218851,     -1259.1392167224028,
        771.32342877765313,   -176.61502916214059,   12.507343278686905,
        -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    };
    double a = c[0], t;

    x -= 1.0;
    for (int k = 1; k < 9; k++)
        a += c[k] / (x + k);
    t = x + 7.5;
    return 0.91893853320467274178 + (x + 0.5) * log(t) - t + log(a);  /* ln sqrt(2 pi) */
}

/* The continued fraction of the incomplete beta function (Abramowitz & Stegun 26.5.8),
 * evaluated by the modified Lentz method; converges fast for x < (a + 1) / (a + b + 2). */
static double
beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0), h;

    d = 1.0 / (fabs(d) < tiny ? tiny : d);
    h = d;
    for (int m = 1; m <= 100000; m++) {
        double dm = m, m2 = 2.0 * m, num, del;

        num = dm * (b - dm) * x / ((a - 1.0 + m2) * (a + m2));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        d = 1.0 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        num = -(a + dm) * (a + b + dm) * x / ((a + m2) * (a + 1.0 + m2));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        d = 1.0 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 4 * DBL_EPSILON)
            break;
    }
    return h;
}

/* The regularized incomplete beta function I_x(a, b), a, b >= 0.5, with y = 1 - x given
 * separately so that neither loses digits. */
static double
inc_beta(double a, double b, double x, double y)
{
    double front;

    if (x <= 0.0)
        return 0.0;
    if (y <= 0.0)
        return 1.0;
    front = exp(a * log(x) + b * log(y) - (log_gamma(a) + log_gamma(b) - log_gamma(a + b)));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, y) / b;
}

/* P(|T| >= |t|) for Student's t with df degrees of freedom: I_{df/(df+t^2)}(df/2, 1/2). */
static double
t_two_sided(double t, double df)
{
    double t2 = t * t;

    if (isinf(t))
        return 0.0;
    return inc_beta(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2));
}

double
stats_t_cdf(double t, double df)
{
    double tail;

    if (isnan(t) || isnan(df) || !(df > 0))
        return NAN;
    tail = 0.5 * t_two_sided(t, df);
    return t > 0 ? 1.0 - tail : tail;
}

/* ---- moments ---- */

struct mom {
    double mean, ss, s3, s4;        /* sums of the 2nd, 3rd and 4th powers of the deviations */
    bool   constant;                /* every value equal: ss = s3 = s4 = 0 exactly */
};

static bool
all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

/* Central moment sums of finite x[0..n), n >= 1 (corrected two-pass); zero for a series
 * that is constant up to rounding at the scale unit + max |x|. */
static void
moments(const double *x, size_t n, double unit, struct mom *m)
{
    double sum = 0, corr = 0, dn = (double)n, amax = 0;

    m->constant = true;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        m->constant = m->constant && x[i] == x[0];
    }
    m->ss = m->s3 = m->s4 = 0;
    if (m->constant) {
        m->mean = x[0];
        return;
    }
    m->mean = sum / dn;
    for (size_t i = 0; i < n; i++) {
        corr += x[i] - m->mean;
        amax = fmax(amax, fabs(x[i]));
    }
    m->mean += corr / dn;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m->mean, d2 = d * d;
        m->ss += d2;
        m->s3 += d2 * d;
        m->s4 += d2 * d2;
    }
    if (sqrt(m->ss / dn) <= noise_floor(unit + amax)) {
        m->ss = m->s3 = m->s4 = 0;
        m->constant = true;
    }
}

/* ---- summaries ---- */

double
stats_mean(const double *x, size_t n)
{
    double sum = 0;
    size_t k = 0;

    if (x == NULL)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) {
            sum += x[i];
            k++;
        }
    }
    return k ? sum / (double)k : NAN;
}

static int
cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;

    return (a > b) - (a < b);
}

enum qd_code
stats_summarize(const double *x, size_t n, struct stats_summary *s, struct qd_err *err)
{
    double *v;
    size_t  k = 0;

    if (s == NULL)
        return qd_err_set(err, QD_EINVAL, "summary: no output");
    *s = (struct stats_summary){.min = NAN, .max = NAN, .mean = NAN, .median = NAN};
    if (x == NULL && n > 0)
        return qd_err_set(err, QD_EINVAL, "summary: no values");
    if (n == 0)
        return QD_OK;
    v = malloc(n * sizeof(double));
    if (v == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            v[k++] = x[i];
    s->n = k;
    if (k > 0) {
        qsort(v, k, sizeof(double), cmp_double);
        s->min = v[0];
        s->max = v[k - 1];
        s->mean = stats_mean(v, k);
        s->median = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2.0;
    }
    free(v);
    return QD_OK;
}

enum qd_code
stats_median(const double *x, size_t n, double *median, struct qd_err *err)
{
    struct stats_summary s;
    enum qd_code rc;

    if (median == NULL)
        return qd_err_set(err, QD_EINVAL, "median: no output");
    rc = stats_summarize(x, n, &s, err);
    *median = s.median;
    return rc;
}

/* ---- returns ---- */

static enum qd_code
sr_params(const struct stats_sr_params *p, double *rf_p, double *ppy, struct qd_err *err)
{
    double rf = p ? p->risk_free_rate : 0.0;

    *ppy = p && p->periods_per_year != 0 ? p->periods_per_year : DEFAULT_PPY;
    if (!isfinite(*ppy) || *ppy <= 0)
        return qd_err_field(err, QD_EINVAL, "periods_per_year",
                            "periods_per_year must be positive, got %g", *ppy);
    if (!isfinite(rf) || rf <= -1.0)
        return qd_err_field(err, QD_EINVAL, "risk_free_rate",
                            "risk_free_rate must be above -1, got %g", rf);
    /* the engine's expression (engines/equity.c), so that the two agree to the bit */
    *rf_p = pow(1.0 + rf, 1.0 / *ppy) - 1.0;
    return QD_OK;
}

enum qd_code
stats_returns_from_equity(const double *equity, size_t n, double *r, struct qd_err *err)
{
    if (n < 2)
        return QD_OK;
    if (equity == NULL || r == NULL)
        return qd_err_set(err, QD_EINVAL, "returns: no equity curve or no output");
    for (size_t t = 1; t < n; t++)
        r[t - 1] = equity[t] / equity[t - 1] - 1.0;
    return QD_OK;
}

static bool
increasing(const int32_t *day, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (day[i] <= day[i - 1])
            return false;
    return true;
}

enum qd_code
stats_common_returns(const int32_t *day_a, const double *eq_a, size_t na, const int32_t *day_b,
                     const double *eq_b, size_t nb, double *ra, double *rb, size_t *n,
                     struct qd_err *err)
{
    size_t i = 0, j = 0, m = 0;
    double pa = 0, pb = 0;
    bool   prev = false;

    if (n == NULL)
        return qd_err_set(err, QD_EINVAL, "common returns: no output");
    *n = 0;
    if ((na > 0 && (day_a == NULL || eq_a == NULL)) || (nb > 0 && (day_b == NULL || eq_b == NULL)))
        return qd_err_set(err, QD_EINVAL, "common returns: missing curve");
    if (na > 0 && nb > 0 && (ra == NULL || rb == NULL))
        return qd_err_set(err, QD_EINVAL, "common returns: no output");
    if (!increasing(day_a, na) || !increasing(day_b, nb))
        return qd_err_set(err, QD_EINVAL, "common returns: dates must be strictly increasing");
    while (i < na && j < nb) {
        if (day_a[i] < day_b[j]) {
            i++;
        } else if (day_a[i] > day_b[j]) {
            j++;
        } else {
            if (prev) {
                ra[m] = eq_a[i] / pa - 1.0;
                rb[m] = eq_b[j] / pb - 1.0;
                m++;
            }
            pa = eq_a[i++];
            pb = eq_b[j++];
            prev = true;
        }
    }
    *n = m;
    return QD_OK;
}

enum qd_code
stats_sharpe(const double *r, size_t n, const struct stats_sr_params *p, struct stats_sr *s,
             struct qd_err *err)
{
    double rf_p, ppy, dn = (double)n, m2;
    struct mom mo;
    enum qd_code rc;

    if (s == NULL)
        return qd_err_set(err, QD_EINVAL, "sharpe: no output");
    *s = (struct stats_sr){.n = n, .mean = NAN, .sd = NAN, .sr = NAN, .sr_annual = NAN,
                           .skew = NAN, .kurt = NAN};
    if (r == NULL && n > 0)
        return qd_err_set(err, QD_EINVAL, "sharpe: no returns");
    if ((rc = sr_params(p, &rf_p, &ppy, err)) != QD_OK)
        return rc;
    if (n == 0 || !all_finite(r, n))
        return QD_OK;
    moments(r, n, RETURNS_UNIT, &mo);
    s->mean = mo.mean;
    if (n < 2)
        return QD_OK;
    s->sd = sqrt(mo.ss / (dn - 1.0));
    if (!(s->sd > 0))
        return QD_OK;
    s->sr = (s->mean - rf_p) / s->sd;
    s->sr_annual = s->sr * sqrt(ppy);
    m2 = mo.ss / dn;
    s->skew = mo.s3 / dn / (m2 * sqrt(m2));
    s->kurt = mo.s4 / dn / (m2 * m2);
    return QD_OK;
}

/* ---- the generator ---- */

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
stats_rng_seed(struct stats_rng *g, uint64_t seed)
{
    for (int k = 0; k < 4; k++)
        g->s[k] = splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
stats_rng_next(struct stats_rng *g)
{
    uint64_t *s = g->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform on [0, 1) with 53 random bits. */
static inline double
rng_unit(struct stats_rng *g)
{
    return (double)(stats_rng_next(g) >> 11) * 0x1.0p-53;
}

/* Uniform on {0..n-1}, n >= 1, without modulo bias: draws below 2^64 mod n are rejected. */
static inline size_t
rng_below(struct stats_rng *g, size_t n)
{
    uint64_t un = n, lim = -un % un, x;

    do
        x = stats_rng_next(g);
    while (x < lim);
    return (size_t)(x % un);
}

/* ---- the bootstrap ---- */

/* Hyndman & Fan's type 7 (numpy's default) quantile of sorted v[0..m), m >= 1. */
static double
quantile_sorted(const double *v, size_t m, double q)
{
    double h = (double)(m - 1) * q, fl = floor(h);
    size_t j = (size_t)fl;

    if (j + 1 >= m)
        return v[m - 1];
    return v[j] + (h - fl) * (v[j + 1] - v[j]);
}

enum qd_code
stats_sharpe_ci(const double *r, size_t n, const struct stats_boot_params *p,
                struct stats_ci *ci, struct qd_err *err)
{
    struct stats_boot_params def = {0};
    struct stats_sr s;
    struct stats_rng g;
    double rf_p, ppy, restart, floor_sd = 0, *v;
    size_t B, valid = 0;
    enum qd_code rc;

    if (ci == NULL)
        return qd_err_set(err, QD_EINVAL, "bootstrap: no output");
    *ci = (struct stats_ci){.estimate = NAN, .lo = NAN, .hi = NAN, .se = NAN};
    if (r == NULL && n > 0)
        return qd_err_set(err, QD_EINVAL, "bootstrap: no returns");
    if (p == NULL)
        p = &def;
    if ((rc = sr_params(&p->sr, &rf_p, &ppy, err)) != QD_OK)
        return rc;
    B = p->resamples ? p->resamples : STATS_BOOT_DEFAULT_RESAMPLES;
    if (B > STATS_BOOT_MAX_RESAMPLES)
        return qd_err_field(err, QD_EINVAL, "resamples", "resamples must be at most %d, got %zu",
                            STATS_BOOT_MAX_RESAMPLES, B);
    ci->resamples = B;
    ci->level = p->level != 0 ? p->level : DEFAULT_LEVEL;
    if (!(ci->level > 0 && ci->level < 1))
        return qd_err_field(err, QD_EINVAL, "level", "level must be in (0, 1), got %g",
                            ci->level);
    ci->block_len = p->block_len != 0 ? p->block_len : fmax(1.0, cbrt((double)n));
    if (!(ci->block_len >= 1) || isinf(ci->block_len))
        return qd_err_field(err, QD_EINVAL, "block_len",
                            "block_len must be at least 1, got %g", ci->block_len);
    if ((rc = stats_sharpe(r, n, &p->sr, &s, err)) != QD_OK)
        return rc;
    ci->estimate = s.sr_annual;
    if (n < 3 || isnan(s.sd) || s.sd == 0)
        return QD_OK;                   /* undefined: a NaN return, or all returns equal */

    for (size_t i = 0; i < n; i++)
        floor_sd = fmax(floor_sd, fabs(r[i]));
    floor_sd = noise_floor(RETURNS_UNIT + floor_sd);
    v = malloc(B * sizeof(double));
    if (v == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    stats_rng_seed(&g, p->seed);
    restart = 1.0 / ci->block_len;
    for (size_t b = 0; b < B; b++) {
        size_t i = rng_below(&g, n);
        double mean = 0, m2 = 0, var;

        for (size_t t = 0; t < n; t++) {
            double x, d;

            if (t > 0) {
                if (rng_unit(&g) < restart)
                    i = rng_below(&g, n);       /* a new block starts anywhere */
                else if (++i == n)
                    i = 0;                      /* the block goes on, wrapping around */
            }
            x = r[i];
            d = x - mean;
            mean += d / (double)(t + 1);
            m2 += d * (x - mean);
        }
        var = m2 / (double)(n - 1);
        if (sqrt(m2 / (double)n) > floor_sd)        /* as moments(): noise is no deviation */
            v[valid++] = (mean - rf_p) / sqrt(var) * sqrt(ppy);
    }
    ci->valid = valid;
    if (valid >= 2 && 2 * valid >= B) {
        double alpha = 1.0 - ci->level;
        struct mom mo;

        qsort(v, valid, sizeof(double), cmp_double);
        ci->lo = quantile_sorted(v, valid, alpha / 2.0);
        ci->hi = quantile_sorted(v, valid, 1.0 - alpha / 2.0);
        moments(v, valid, 0.0, &mo);
        ci->se = sqrt(mo.ss / (double)(valid - 1));
    }
    free(v);
    return QD_OK;
}

/* ---- paired tests ---- */

enum qd_code
stats_paired_test(const double *a, const double *b, size_t n, const struct stats_sr_params *p,
                  struct stats_paired *out, struct qd_err *err)
{
    double rf_p, ppy, dn = (double)n, sda, sdb, cov = 0, d_ss = 0, d_mean;
    struct mom ma, mb;
    enum qd_code rc;

    if (out == NULL)
        return qd_err_set(err, QD_EINVAL, "paired test: no output");
    *out = (struct stats_paired){.n = n, .sr_a = NAN, .sr_b = NAN, .rho = NAN, .jk_z = NAN,
                                 .jk_p = NAN, .t = NAN, .t_p = NAN};
    if ((a == NULL || b == NULL) && n > 0)
        return qd_err_set(err, QD_EINVAL, "paired test: no returns");
    if ((rc = sr_params(p, &rf_p, &ppy, err)) != QD_OK)
        return rc;
    if (n < 3 || !all_finite(a, n) || !all_finite(b, n))
        return QD_OK;

    moments(a, n, RETURNS_UNIT, &ma);
    moments(b, n, RETURNS_UNIT, &mb);
    /* the differences for the t-test (moments() without storing them), and the covariance */
    {
        double sum_d = 0, corr = 0, amax = 0;

        for (size_t i = 0; i < n; i++) {
            sum_d += a[i] - b[i];
            amax = fmax(amax, fmax(fabs(a[i]), fabs(b[i])));
            cov += (a[i] - ma.mean) * (b[i] - mb.mean);
        }
        d_mean = sum_d / dn;
        for (size_t i = 0; i < n; i++)
            corr += (a[i] - b[i]) - d_mean;
        d_mean += corr / dn;
        for (size_t i = 0; i < n; i++) {
            double d = (a[i] - b[i]) - d_mean;
            d_ss += d * d;
        }
        if (sqrt(d_ss / dn) <= noise_floor(RETURNS_UNIT + amax))
            d_ss = 0;                   /* a constant difference, up to rounding */
    }
    if (d_ss > 0) {
        double sd_d = sqrt(d_ss / (dn - 1.0));
        out->t = d_mean / (sd_d / sqrt(dn));
        out->t_p = t_two_sided(out->t, dn - 1.0);
    }

    sda = sqrt(ma.ss / (dn - 1.0));
    sdb = sqrt(mb.ss / (dn - 1.0));
    if (!(sda > 0 && sdb > 0))
        return QD_OK;
    cov /= dn - 1.0;
    out->sr_a = (ma.mean - rf_p) / sda;
    out->sr_b = (mb.mean - rf_p) / sdb;
    out->rho = fmax(-1.0, fmin(1.0, cov / (sda * sdb)));
    {
        /* Memmel's variance theta divided by sda^2 sdb^2 (docs/statistics.md): scale-free, so
         * the degenerate case (rho = 1 and equal Sharpe ratios) is a zero up to rounding */
        double sa = out->sr_a, sb = out->sr_b, rho = out->rho;
        double v = 2.0 - 2.0 * rho + 0.5 * (sa * sa + sb * sb) - sa * sb * rho * rho;

        if (v > 64 * DBL_EPSILON * (2.0 + sa * sa + sb * sb)) {
            out->jk_z = (sa - sb) / sqrt(v / dn);
            out->jk_p = erfc(fabs(out->jk_z) / sqrt(2.0));
        }
    }
    return QD_OK;
}

/* ---- PSR and DSR ---- */

double
stats_psr(double sr, double sr_star, size_t n, double skew, double kurt)
{
    double v;

    if (n < 3 || !isfinite(sr) || !isfinite(sr_star) || !isfinite(skew) || !isfinite(kurt))
        return NAN;
    v = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr;
    if (!(v > 0))
        return NAN;
    return stats_norm_cdf((sr - sr_star) * sqrt((double)n - 1.0) / sqrt(v));
}

double
stats_expected_max_sr(double var_sr, size_t n_trials)
{
    double N = (double)n_trials;

    if (n_trials == 0)
        return NAN;
    if (n_trials == 1)
        return 0.0;
    if (!isfinite(var_sr) || var_sr < 0)
        return NAN;
    /* Phi^-1(1 - q) = -Phi^-1(q): exact for small q, where 1 - q would lose digits */
    return sqrt(var_sr) * ((1.0 - EULER_GAMMA) * -stats_norm_ppf(1.0 / N) +
                           EULER_GAMMA * -stats_norm_ppf(exp(-1.0) / N));
}

enum qd_code
stats_deflated_sharpe(const struct stats_sr *cand, const double *trial_sr, size_t n_sr,
                      size_t n_trials, double threshold, struct stats_dsr *out,
                      struct qd_err *err)
{
    double sum = 0, ss = 0, mean;
    size_t k = 0;

    if (out == NULL)
        return qd_err_set(err, QD_EINVAL, "deflated sharpe: no output");
    *out = (struct stats_dsr){.var_sr = NAN, .sr0 = NAN, .dsr = NAN};
    if (cand == NULL || (trial_sr == NULL && n_sr > 0))
        return qd_err_set(err, QD_EINVAL, "deflated sharpe: no candidate or no trials");
    if (!(threshold >= 0 && threshold <= 1))
        return qd_err_field(err, QD_EINVAL, "threshold", "threshold must be in [0, 1], got %g",
                            threshold);
    out->n_trials = n_trials ? n_trials : n_sr;
    if (out->n_trials == 0)
        return qd_err_field(err, QD_EINVAL, "n_trials", "at least one trial is needed");
    for (size_t i = 0; i < n_sr; i++) {
        if (isfinite(trial_sr[i])) {
            sum += trial_sr[i];
            k++;
        }
    }
    if (k >= 2) {
        /* as moments(), over the finite entries */
        double corr = 0, amax = 0;

        mean = sum / (double)k;
        for (size_t i = 0; i < n_sr; i++) {
            if (isfinite(trial_sr[i])) {
                corr += trial_sr[i] - mean;
                amax = fmax(amax, fabs(trial_sr[i]));
            }
        }
        mean += corr / (double)k;
        for (size_t i = 0; i < n_sr; i++) {
            if (isfinite(trial_sr[i])) {
                double d = trial_sr[i] - mean;
                ss += d * d;
            }
        }
        if (sqrt(ss / (double)k) <= noise_floor(amax))
            ss = 0;                     /* equal Sharpe ratios, up to rounding */
        out->var_sr = ss / (double)(k - 1);
    }
    out->sr0 = stats_expected_max_sr(out->var_sr, out->n_trials);
    out->dsr = stats_psr(cand->sr, out->sr0, cand->n, cand->skew, cand->kurt);
    out->passes = out->dsr >= threshold;
    return QD_OK;
}
