#ifndef FEATURES_INDICATORS_H
#define FEATURES_INDICATORS_H

/*
 * Technical indicators over contiguous arrays (docs/features.md gives every formula).
 * Conventions (DESIGN §7): out has n values; those not yet defined are NaN, never 0. EMA is
 * seeded by the SMA of its first w values; RSI and ATR use Wilder smoothing seeded by the SMA
 * of their first w inputs; Bollinger bands use the population standard deviation. Inputs
 * containing NaN make the windows that hold them NaN.
 * Pure: no allocation unless noted, no globals; any thread. w must be >= 1 (>= 2 where noted).
 */

#include <stddef.h>

void feat_sma(const double *x, size_t n, unsigned w, double *out);
void feat_ema(const double *x, size_t n, unsigned w, double *out);
void feat_wma(const double *x, size_t n, unsigned w, double *out);
/* Wilder RSI on x[i] - x[i-1]; first defined at index w. 100 when there were no losses, 50 when
 * the window had neither gains nor losses. */
void feat_rsi(const double *x, size_t n, unsigned w, double *out);
/* MACD line = EMA(fast) - EMA(slow); signal = EMA(signal_w) of the line seeded by the SMA of its
 * first signal_w defined values; hist = line - signal. Allocates nothing: scratch needs n. */
void feat_macd(const double *x, size_t n, unsigned fast, unsigned slow, unsigned signal_w,
               double *line, double *signal, double *hist, double *scratch);
/* Bollinger: middle = SMA(w), upper/lower = middle +/- k * population std over the window. */
void feat_bollinger(const double *x, size_t n, unsigned w, double k, double *upper,
                    double *middle, double *lower);
/* True range from index 1 (needs the previous close); ATR first defined at index w. */
void feat_atr(const double *high, const double *low, const double *close, size_t n, unsigned w,
              double *out);
/* Annualized (sqrt 252) sample standard deviation (ddof 1) of the last w log returns; w >= 2;
 * first defined at index w. */
void feat_realized_vol(const double *close, size_t n, unsigned w, double *out);
/* (x - SMA(w)) / population std(w); NaN where the std is 0. */
void feat_zscore(const double *x, size_t n, unsigned w, double *out);
void feat_rolling_min(const double *x, size_t n, unsigned w, double *out);
void feat_rolling_max(const double *x, size_t n, unsigned w, double *out);
/* Rate of change in percent: 100 * (x[i] / x[i-w] - 1). */
void feat_roc(const double *x, size_t n, unsigned w, double *out);

#endif
