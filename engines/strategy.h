#ifndef ENGINES_STRATEGY_H
#define ENGINES_STRATEGY_H

/*
 * Strategy configs as target-position series (docs/engine.md, "Strategies"): the seed's
 * momentum.sma_crossover, momentum.rsi, mean_reversion.bollinger_bands and
 * regime_aware.trend_filter, combined. Each signal rule keeps its own state (1 long, 0 flat,
 * -1 short when long_short); the strategy takes a side when EVERY configured rule is on that
 * side and the trend filter (if any) allows it, else it is flat.
 * Pure; any thread.
 */

#include "common/err.h"
#include "engines/equity.h"

#include <stdbool.h>

struct eq_strategy {
    bool     sma;                   /* momentum.sma_crossover */
    unsigned fast, slow;
    bool     rsi;                   /* momentum.rsi: long below oversold, flat above overbought */
    unsigned rsi_period;
    double   rsi_overbought, rsi_oversold;
    bool     bb;                    /* mean_reversion.bollinger_bands: long below the lower band,
                                     * flat above the middle band */
    unsigned bb_period;
    double   bb_std;
    bool     trend;                 /* regime_aware.trend_filter: long only above SMA(window) */
    unsigned trend_window;
    bool     risk;                  /* regime_aware.risk_regime_filter: flat when the risk regime
                                     * level is above risk_max_level (or not defined yet) */
    unsigned risk_max_level;
    bool     long_short;            /* rules may go short (-1): see docs/engine.md */
};

/* Target series of one strategy point (n = mk->n). scratch: 3 * n doubles; tmp: n bytes. */
void eq_strategy_targets(const struct eq_market *mk, const struct eq_ticks *tk,
                         const struct eq_strategy *s, int8_t *target, int8_t *tmp,
                         double *scratch);

/* Metrics of every point into out[k], on `threads` threads; bit-identical whatever the thread
 * count and equal to eq_strategy_targets + eq_simulate per point. */
enum qd_code eq_strategy_sweep(const struct eq_market *mk, const struct eq_ticks *tk,
                               const struct eq_strategy *pts, size_t npts,
                               const struct eq_sim_params *p, unsigned threads, eq_stop_fn *stop,
                               void *stop_arg, struct eq_metrics *out, struct qd_err *err);

#endif
