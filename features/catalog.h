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
    FEAT_NEEDS_DATA                 /* regimes, macro, positioning: need VIX/FRED/COT series */
};

struct feat_spec {
    enum feat_kind kind;
    unsigned       a, b, c;         /* window(s) */
    double         k;               /* Bollinger width */
};

/* Parses a name; QD_EINVAL naming what is wrong. */
enum qd_code feat_parse(const char *name, struct feat_spec *out, struct qd_err *err);
/* Set when a computed feature used a documented fallback for a missing input ("" otherwise). */
const char *feat_fallback_note(const struct feat_spec *f);
/* The default set computed when a job names none (NULL-terminated). */
extern const char *const feat_default_names[];
/* Computes the feature over s (closes, highs and lows as given) into out (s->n values, NaN
 * where undefined). scratch needs 2 * s->n doubles. QD_EINVAL for FEAT_NEEDS_DATA. */
enum qd_code feat_compute(const struct feat_spec *f, const struct bar_series *s,
                          const double *high, const double *low, double *out, double *scratch,
                          struct qd_err *err);

#endif
