/* Black-Scholes-Merton (see options.h). Pure; any thread. */
#include "features/options.h"

#include <math.h>
#include <stddef.h>

static double
norm_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

static double
norm_pdf(double x)
{
    return exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846);
}

enum qd_code
bsm_price(double S, double K, double T, double r, double q, double sigma, bool call,
          struct bsm_greeks *o, struct qd_err *err)
{
    double sq, d1, d2, dq, dr;

    if (!(S > 0) || !(K > 0) || !(T > 0) || !(sigma > 0) || !isfinite(S) || !isfinite(K) ||
        !isfinite(T) || !isfinite(sigma) || !isfinite(r) || !isfinite(q))
        return qd_err_set(err, QD_EINVAL,
                          "spot, strike, time and volatility must be positive and finite");
    sq = sigma * sqrt(T);
    d1 = (log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / sq;
    d2 = d1 - sq;
    dq = exp(-q * T);
    dr = exp(-r * T);
    o->gamma = dq * norm_pdf(d1) / (S * sq);
    o->vega = S * dq * norm_pdf(d1) * sqrt(T) / 100.0;
    if (call) {
        o->price = S * dq * norm_cdf(d1) - K * dr * norm_cdf(d2);
        o->delta = dq * norm_cdf(d1);
        o->theta = (-S * dq * norm_pdf(d1) * sigma / (2 * sqrt(T)) - r * K * dr * norm_cdf(d2) +
                    q * S * dq * norm_cdf(d1)) /
                   365.0;
        o->rho = K * T * dr * norm_cdf(d2) / 100.0;
    } else {
        o->price = K * dr * norm_cdf(-d2) - S * dq * norm_cdf(-d1);
        o->delta = -dq * norm_cdf(-d1);
        o->theta = (-S * dq * norm_pdf(d1) * sigma / (2 * sqrt(T)) + r * K * dr * norm_cdf(-d2) -
                    q * S * dq * norm_cdf(-d1)) /
                   365.0;
        o->rho = -K * T * dr * norm_cdf(-d2) / 100.0;
    }
    return QD_OK;
}

enum qd_code
bsm_implied_vol(double price, double S, double K, double T, double r, double q, bool call,
                double *sigma, struct qd_err *err)
{
    double lo = 1e-4, hi = 5.0, x = 0.2, tol;
    double fwd = S * exp(-q * T), disc = K * exp(-r * T);
    double lower = call ? fmax(0.0, fwd - disc) : fmax(0.0, disc - fwd), upper = call ? fwd : disc;
    struct bsm_greeks g;

    if (!(price > 0) || !(S > 0) || !(K > 0) || !(T > 0) || !isfinite(price))
        return qd_err_set(err, QD_EINVAL, "price, spot, strike and time must be positive");
    if (price < lower - 1e-12 || price > upper + 1e-12)
        return qd_err_set(err, QD_EINVAL,
                          "price %.6g is outside the no-arbitrage bounds [%.6g, %.6g]", price,
                          lower, upper);
    tol = 1e-10 * fmax(1.0, price);
    /* Newton steps inside a bisection bracket: a step that leaves the bracket, or a flat vega,
     * falls back to bisection, so the solver always converges on a monotone price. */
    for (int i = 0; i < 200; i++) {
        double diff, step;
        bsm_price(S, K, T, r, q, x, call, &g, NULL);
        diff = g.price - price;
        if (fabs(diff) <= tol) {
            *sigma = x;
            return QD_OK;
        }
        if (diff > 0)
            hi = x;
        else
            lo = x;
        step = g.vega > 1e-14 ? diff / (g.vega * 100.0) : 0;
        x = (g.vega > 1e-14 && x - step > lo && x - step < hi) ? x - step : 0.5 * (lo + hi);
        if (hi - lo < 1e-15)
            break;
    }
    bsm_price(S, K, T, r, q, x, call, &g, NULL);
    if (fabs(g.price - price) <= 1e-8 * fmax(1.0, price)) {
        *sigma = x;
        return QD_OK;
    }
    return qd_err_set(err, QD_ENOTFOUND, "no volatility between 0.0001 and 5 gives price %.6g",
                      price);
}
