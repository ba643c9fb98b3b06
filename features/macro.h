#ifndef FEATURES_MACRO_H
#define FEATURES_MACRO_H

/*
 * Macro factors and positioning (docs/features.md): dated series (FRED, CBOE VIX, CFTC COT)
 * aligned "as of" each bar's date, then curve slope, credit spread level and change, rate
 * momentum, and COT net non-commercial positioning with its 3-year z-score. Pure; any thread.
 */

#include <stddef.h>
#include <stdint.h>

/* out[i] = the value of the latest observation that is not missing, with sday + lag_days <=
 * day[i] (the day it became known) and no older than max_age_days before day[i]; NaN when there
 * is none. sday and day increase. */
void feat_asof(const int32_t *sday, const double *sval, size_t sn, int lag_days,
               int max_age_days, const int32_t *day, size_t n, double *out);

/* out[i] = x[i] - x[i - w] (NaN where either is NaN or i < w). */
void feat_change(const double *x, size_t n, unsigned w, double *out);

/* Rolling z-score over the last w values of a report series (population standard deviation,
 * as feat_zscore); NaN until w values, where the deviation is 0, or where the window holds a
 * missing value. */
void feat_report_zscore(const double *x, size_t n, unsigned w, double *out);

/* The documented windows, lags and staleness limits (docs/features.md). */
enum {
    MACRO_SPREAD_CHANGE_BARS = 21,  /* credit_spread_change: over 21 bars */
    MACRO_RATE_MOMENTUM_BARS = 63,  /* rate_momentum: 10-year yield change over 63 bars */
    MACRO_COT_Z_REPORTS = 156,      /* cot_net_noncommercial_z: 3 years of weekly reports */
    MACRO_FRED_LAG_DAYS = 1,        /* a FRED daily value dated D is used from D + 1 */
    MACRO_VIX_LAG_DAYS = 0,         /* the VIX close of D is known at D's close */
    MACRO_COT_LAG_DAYS = 3,         /* Tuesday's positions are published on Friday */
    MACRO_DAILY_MAX_AGE = 10,       /* a daily series older than this is stale (NaN) */
    MACRO_COT_MAX_AGE = 14,
};

#endif
