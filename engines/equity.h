#ifndef ENGINES_EQUITY_H
#define ENGINES_EQUITY_H

/*
 * The vectorized equity engine, first part: a long-only, single-symbol portfolio simulation
 * driven by a target-position series, the metrics of DESIGN §7 (docs/metrics.md), and the
 * SMA-crossover signal with exact tie detection (docs/engine.md), including a whole-grid sweep
 * that shares one rolling sum per window across grid points.
 * Pure: no I/O, no globals, deterministic; any thread. Arrays are caller-owned.
 */

#include "common/err.h"
#include "engines/parallel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eq_market {
    size_t         n;
    const int32_t *day;             /* days since 1970-01-01, increasing */
    const double  *open, *close;
    /* For vol_target / kelly sizing (else may be NULL): per bar, known at that bar's close,
     * the annualized realized volatility and the Kelly fraction mean/variance of daily
     * returns over the sizing window (eq_sizing_inputs fills them). */
    const double  *sizing_vol, *sizing_kelly;
    /* Optional prefix sums shared by every run on this market (eq_market_prepare); when NULL,
     * eq_simulate computes them for the call. */
    const struct eq_prefix *prefix;
    /* The risk regime's inputs aligned to the bars (features/regimes.h): VIX, HY OAS, 10y-2y;
     * NaN where missing, NULL when not ingested (the regime's documented fallbacks). */
    const double *regime_vix, *regime_hy, *regime_curve;
};

/* Per-market prefix sums: of the daily close returns R, R^2, min(R - rf_d, 0)^2, and of the
 * closes; a fully invested stretch then costs O(1) for its return sums. */
struct eq_prefix {
    double *r, *r2, *down2, *close;     /* n + 1 each */
    double  rf_d;
};
/* Allocates and fills p for mk and the annual risk-free rate. QD_ENOMEM. */
enum qd_code eq_prefix_init(struct eq_prefix *p, const struct eq_market *mk,
                            double risk_free_rate, struct qd_err *err);
void eq_prefix_release(struct eq_prefix *p);

enum eq_sizing {
    EQ_SIZE_ALL_IN,                 /* cash / (price * (1 + rate)) */
    EQ_SIZE_FIXED_SHARES,           /* value shares */
    EQ_SIZE_FIXED_NOTIONAL,         /* value / price */
    EQ_SIZE_PERCENT_EQUITY,         /* value (0..1] of equity */
    EQ_SIZE_VOL_TARGET,             /* equity * min(1, value / realized vol) */
    EQ_SIZE_KELLY,                  /* equity * clamp(value * mean / variance, 0, 1) */
};

struct eq_sim_params {
    double initial_capital;         /* > 0 */
    double fee_rate;                /* fraction of notional, e.g. 0.001 */
    double fee_per_share;
    double fee_minimum;
    double slippage_bps;            /* buys fill higher, sells lower */
    bool   fill_close;              /* false: next bar's open (default); true: the signal bar's close */
    bool   fractional;              /* false: whole shares */
    double risk_free_rate;          /* annual, for Sharpe and Sortino */
    enum eq_sizing sizing;          /* default all in; never more than the cash buys */
    bool           long_short;      /* targets may be -1: short (sized as a purchase) */
    double         sizing_value;
};

/* Fills vol[n] and kelly[n] from closes over the trailing `window` daily returns (NaN until
 * defined). */
void eq_sizing_inputs(const double *close, size_t n, unsigned window, double *vol, double *kelly);

struct eq_trade {
    int32_t  entry_day, exit_day;   /* exit_day -1: still open at the end */
    double   entry_price, exit_price, size, pnl, fees;
    double   cost;                  /* entry notional + entry fee: the trade's capital */
    unsigned sleeve;                /* which symbol of a portfolio (0 for one symbol) */
};

struct eq_metrics {
    double final_value, total_return, cagr, annual_volatility, sharpe_ratio, sortino_ratio;
    double max_drawdown, max_drawdown_duration_days, calmar_ratio, win_rate, profit_factor;
    double avg_trade_return, num_trades, exposure, turnover;
};
#define EQ_NUM_METRICS 15
extern const char *const eq_metric_names[EQ_NUM_METRICS];
/* The metrics in eq_metric_names order. */
void eq_metrics_array(const struct eq_metrics *m, double out[EQ_NUM_METRICS]);

/* Runs the simulation. target[t] is the position wanted after bar t's close (1 long, 0 flat,
 * -1 short with long_short);
 * it is filled at bar t+1's open (or bar t's close with fill_close). equity (n values) and
 * trades (up to max_trades; *ntrades gets how many, closed and the open one) may be NULL. */
void eq_simulate(const struct eq_market *mk, const int8_t *target, const struct eq_sim_params *p,
                 struct eq_metrics *m, double *equity, struct eq_trade *trades, size_t max_trades,
                 size_t *ntrades);

/* Metrics of an equity curve E[0..n) (days increasing) that started from initial, with the
 * trade statistics of `trades` (closed ones; traded notional from all), and held[t] telling
 * whether bar t ended holding a position. The same definitions as eq_simulate (docs/engine.md);
 * used for portfolios, whose curve is a sum of sleeves. */
void eq_curve_metrics(const int32_t *day, const double *equity, const uint8_t *held, size_t n,
                      double initial, const struct eq_trade *trades, size_t ntrades,
                      double risk_free_rate, struct eq_metrics *m);

/* ---- SMA crossover with exact ties ---- */

/* Prices as integers: the smallest scale of 1e2, 1e4, 1e6, 1e8 at which every close is exactly
 * a whole number of ticks. Then window sums are exact and two moving averages are compared
 * exactly by cross-multiplying sums (fast_sum * slow == slow_sum * fast is an exact tie).
 * QD_EINVAL when the prices have more decimals than that (or are too large). */
struct eq_ticks {
    int64_t *prefix;                /* n + 1 prefix sums of the closes in ticks */
    size_t   n;
    double   scale;
};
enum qd_code eq_ticks_init(struct eq_ticks *t, const double *close, size_t n, struct qd_err *err);
void eq_ticks_release(struct eq_ticks *t);

/* Target series of the SMA(fast) / SMA(slow) crossover: a cross is a change of the sign of
 * fast - slow against its last non-zero value (an exact tie is 0 and never a cross); an upward
 * cross sets the target to 1, a downward one to `down` (0 long only, -1 long/short). Flat
 * before the first cross. */
void eq_sma_cross_targets(const struct eq_ticks *t, unsigned fast, unsigned slow, int8_t down,
                          int8_t *target);
/* The sweep's down value: 0, or -1 when p->long_short. */

/* eq_stop_fn: polled between grid points; true stops the sweep (QD_ECANCELED). */

/* Metrics of every (fast, slow) pair of pairs[2k], pairs[2k+1] into out[k], using `threads`
 * threads (1..64); one rolling sum per distinct window is shared by all pairs. The result is
 * the same bit for bit whatever the thread count, and equal to eq_sma_cross_targets +
 * eq_simulate of each pair. stop may be NULL. Allocates its scratch. */
enum qd_code eq_sma_sweep_pairs(const struct eq_market *mk, const struct eq_ticks *t,
                                const unsigned *pairs, size_t npairs,
                                const struct eq_sim_params *p, unsigned threads, eq_stop_fn *stop,
                                void *stop_arg, struct eq_metrics *out, struct qd_err *err);
/* The whole grid lo <= fast < slow <= hi, in the order (fast, slow) with fast outer. */
size_t eq_sma_grid_size(unsigned lo, unsigned hi);
enum qd_code eq_sma_sweep(const struct eq_market *mk, const struct eq_ticks *t, unsigned lo,
                          unsigned hi, const struct eq_sim_params *p, unsigned threads,
                          eq_stop_fn *stop, void *stop_arg, struct eq_metrics *out,
                          struct qd_err *err);

#endif
