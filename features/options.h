#ifndef FEATURES_OPTIONS_H
#define FEATURES_OPTIONS_H

/*
 * Black-Scholes-Merton with a continuous dividend yield, its Greeks, and implied volatility by
 * a safeguarded Newton solver. Units (DESIGN §7): T in years, rates and yields continuous
 * annual decimals, sigma annual decimal; vega per 1 volatility point (0.01), theta per calendar
 * day (1/365 year), rho per 1 percentage point of r. Pure; any thread.
 */

#include "common/err.h"

#include <stdbool.h>

struct bsm_greeks {
    double price, delta, gamma, vega, theta, rho;
};

/* QD_EINVAL for S, K, T or sigma not positive and finite. */
enum qd_code bsm_price(double S, double K, double T, double r, double q, double sigma,
                       bool call, struct bsm_greeks *out, struct qd_err *err);

/* The sigma in [1e-4, 5] whose BSM price is `price`, to |price error| <= 1e-10 * max(1, price).
 * QD_EINVAL when the price is outside the no-arbitrage bounds (below intrinsic value under
 * discounting, or above the forward of the underlying / the discounted strike) or the inputs
 * are not positive; QD_ENOTFOUND when no volatility in the range fits. */
enum qd_code bsm_implied_vol(double price, double S, double K, double T, double r, double q,
                             bool call, double *sigma, struct qd_err *err);

#endif
