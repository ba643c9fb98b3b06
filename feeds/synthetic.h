#ifndef FEEDS_SYNTHETIC_H
#define FEEDS_SYNTHETIC_H

/*
 * The offline `synthetic` data source: deterministic, realistic daily OHLCV per symbol.
 * Geometric Brownian motion with a per-symbol drift and volatility, a persistent two-state
 * volatility regime (calm / stressed), Poisson jumps with a negative mean, overnight gaps,
 * consistent OHLC, cents, and volume that rises with the size of the move. Business days
 * (Monday-Friday) only; no holiday calendar. adj_close equals close (no dividends).
 *
 * The path of a symbol is anchored at 1970-01-01 and generated forward, so the bar of a
 * symbol on a date is the same whatever range is asked for. Pure; any thread.
 */

#include "common/err.h"
#include "core/bar.h"

#include <stdint.h>

/* Appends the bars of [start_day, end_day] (days since 1970-01-01; start_day >= 0) to out.
 * QD_EINVAL for days before 1970 or after 2199, QD_ENOMEM/QD_ETOOBIG from out. */
enum qd_code synthetic_bars(const char *symbol, int32_t start_day, int32_t end_day,
                            struct bar_series *out, struct qd_err *err);

#endif
