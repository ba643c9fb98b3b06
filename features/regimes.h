#ifndef FEATURES_REGIMES_H
#define FEATURES_REGIMES_H

/*
 * Market regimes (DESIGN §8, docs/features.md): trend, volatility and the risk regime level 0
 * (calm) .. 3 (crisis), from documented thresholds. Inputs that are not there (no VIX or FRED
 * series yet) have documented fallbacks: the 21-day realized volatility x 100 stands in for
 * VIX; a missing credit spread or yield curve adds nothing to the score. Values not yet defined
 * are NaN. Pure; any thread.
 */

#include <stddef.h>

struct regime_params {
    unsigned trend_window;          /* 200: trend is the close against its SMA */
    unsigned rvol_window;           /* 21: the VIX stand-in's window */
    double   vix_low, vix_elevated, vix_high;   /* 15, 20, 30 (VIX points) */
    double   hy_elevated, hy_high;  /* 5, 7 (percent, ICE BofA US High Yield OAS) */
    double   curve_inverted;        /* 0 (percent, 10y - 2y) */
};
extern const struct regime_params regime_defaults;

/* +1 when the close is above its SMA(window), -1 below, 0 on it; NaN before defined. */
void feat_trend_regime(const double *close, size_t n, unsigned window, double *out);
/* Volatility buckets of vix (or of the stand-in when vix is NULL): 0 below vix_low, 1 below
 * vix_elevated, 2 below vix_high, 3 at or above. scratch: n doubles. */
void feat_volatility_regime(const double *close, const double *vix, size_t n,
                            const struct regime_params *p, double *out, double *scratch);
/* Risk regime level: +1 VIX >= vix_elevated, +1 more >= vix_high, +1 close below its trend
 * SMA, +1 HY OAS >= hy_elevated, +1 more >= hy_high, +1 curve < curve_inverted; capped at 3.
 * vix, hy, curve may be NULL (fallbacks above) or hold NaN where missing. scratch: 2n. */
void feat_risk_regime(const double *close, const double *vix, const double *hy,
                      const double *curve, size_t n, const struct regime_params *p, double *out,
                      double *scratch);

#endif
