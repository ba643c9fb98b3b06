#ifndef FEATURES_CATALOG_H
#define FEATURES_CATALOG_H

/*
 * Feature names (`<indicator>_<parameters>`, docs/features.md) parsed into a computation over
 * bars. Pure; any thread.
 */

#include "common/err.h"
#include "core/bar.h"

#include <stdbool.h>
#include <stddef.h>

enum feat_kind {
    FEAT_SMA, FEAT_EMA, FEAT_WMA, FEAT_RSI, FEAT_ATR, FEAT_RVOL, FEAT_ZSCORE, FEAT_RMIN,
    FEAT_RMAX, FEAT_ROC, FEAT_BB_UPPER, FEAT_BB_MIDDLE, FEAT_BB_LOWER, FEAT_MACD,
    FEAT_MACD_SIGNAL, FEAT_MACD_HIST, FEAT_TREND, FEAT_VOL_REGIME, FEAT_RISK_REGIME,
    /* macro factors and positioning: need FRED / CFTC series (struct feat_inputs) */
    FEAT_CURVE_SLOPE, FEAT_CREDIT_SPREAD, FEAT_CREDIT_SPREAD_CHANGE, FEAT_RATE_MOMENTUM,
    FEAT_COT_NET, FEAT_COT_NET_Z
};

/* Dated series aligned to the bars (features/macro.h: as of each bar, with their publication
 * lags), NaN where missing or stale; a NULL array means the series is not ingested at all. */
struct feat_inputs {
    const double *vix;              /* CBOE VIX close (or FRED VIXCLS) */
    const double *hy_oas;           /* FRED BAMLH0A0HYM2, percent */
    const double *curve;            /* FRED T10Y2Y (or DGS10 - DGS2), percentage points */
    const double *dgs10;            /* FRED DGS10, percent */
    const double *cot_net;          /* COT net non-commercial / open interest */
    const double *cot_net_z;        /* its z-score over 156 reports */
};

struct feat_spec {
    enum feat_kind kind;
    unsigned       a, b, c;         /* window(s) */
    double         k;               /* Bollinger width */
};

/* Parses a name; QD_EINVAL naming what is wrong. */
enum qd_code feat_parse(const char *name, struct feat_spec *out, struct qd_err *err);
/* Set when a computed feature used a documented fallback for a missing input ("" otherwise);
 * in may be NULL (nothing ingested). */
const char *feat_fallback_note(const struct feat_spec *f, const struct feat_inputs *in);
/* The default set computed when a job names none (NULL-terminated). */
extern const char *const feat_default_names[];
/* Computes the feature over s (closes, highs and lows as given) into out (s->n values, NaN
 * where undefined), with the macro inputs in (may be NULL). scratch needs 2 * s->n doubles.
 * QD_ENOTFOUND naming the series when a macro or positioning feature's input is not ingested. */
enum qd_code feat_compute(const struct feat_spec *f, const struct bar_series *s,
                          const double *high, const double *low, const struct feat_inputs *in,
                          double *out, double *scratch, struct qd_err *err);

#endif
