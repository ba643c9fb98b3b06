/* Market regimes (see regimes.h). Pure; any thread. */
#include "features/regimes.h"
#include "features/indicators.h"

#include <math.h>

const struct regime_params regime_defaults = {
    .trend_window = 200, .rvol_window = 21, .vix_low = 15, .vix_elevated = 20, .vix_high = 30,
    .hy_elevated = 5, .hy_high = 7, .curve_inverted = 0,
};

void
feat_trend_regime(const double *close, size_t n, unsigned window, double *out)
{
    feat_sma(close, n, window, out);
    for (size_t i = 0; i < n; i++)
        if (!isnan(out[i]))
            out[i] = close[i] > out[i] ? 1.0 : close[i] < out[i] ? -1.0 : 0.0;
}

/* vix, or the stand-in: realized volatility x 100 (annualized percent, like VIX) */
static const double *
vix_or_proxy(const double *close, const double *vix, size_t n, const struct regime_params *p,
             double *scratch)
{
    if (vix != NULL)
        return vix;
    feat_realized_vol(close, n, p->rvol_window, scratch);
    for (size_t i = 0; i < n; i++)
        scratch[i] *= 100.0;
    return scratch;
}

void
feat_volatility_regime(const double *close, const double *vix, size_t n,
                       const struct regime_params *p, double *out, double *scratch)
{
    const double *v = vix_or_proxy(close, vix, n, p, scratch);

    for (size_t i = 0; i < n; i++)
        out[i] = isnan(v[i])              ? NAN
                 : v[i] < p->vix_low      ? 0.0
                 : v[i] < p->vix_elevated ? 1.0
                 : v[i] < p->vix_high     ? 2.0
                                          : 3.0;
}

void
feat_risk_regime(const double *close, const double *vix, const double *hy, const double *curve,
                 size_t n, const struct regime_params *p, double *out, double *scratch)
{
    const double *v = vix_or_proxy(close, vix, n, p, scratch);
    double *trend = scratch + n;

    feat_sma(close, n, p->trend_window, trend);
    for (size_t i = 0; i < n; i++) {
        double score = 0;
        if (isnan(v[i]) || isnan(trend[i])) {
            out[i] = NAN;
            continue;
        }
        score += (v[i] >= p->vix_elevated) + (v[i] >= p->vix_high);
        score += close[i] < trend[i];
        if (hy != NULL && !isnan(hy[i]))
            score += (hy[i] >= p->hy_elevated) + (hy[i] >= p->hy_high);
        if (curve != NULL && !isnan(curve[i]))
            score += curve[i] < p->curve_inverted;
        out[i] = score > 3 ? 3 : score;
    }
}
