#ifndef ENGINES_PORTFOLIO_H
#define ENGINES_PORTFOLIO_H

/*
 * Portfolios of several symbols with fixed weights (docs/engine.md, "Portfolios"): each symbol
 * is a sleeve running the strategy on its own bars with weight x capital; what the weights do
 * not allocate stays in cash. Without rebalancing each sleeve keeps what it makes; with
 * monthly or quarterly rebalancing, on the first date of each period every sleeve is brought
 * back to weight x the portfolio's value at the previous closes, by scaling its position and
 * cash (fees on the shares traded). The portfolio's curve is the sum of the sleeves on the
 * union of their dates (a sleeve keeps its last value on a date it has no bar).
 * Pure; eq_portfolio_sweep runs threads it joins.
 */

#include "common/err.h"
#include "engines/equity.h"
#include "engines/strategy.h"

#include <stddef.h>
#include <stdint.h>

enum eq_rebalance { EQ_REBAL_NONE, EQ_REBAL_MONTHLY, EQ_REBAL_QUARTERLY };

struct eq_sleeve {
    const struct eq_market *mk;
    const struct eq_ticks  *tk;
    double                  weight;     /* >= 0; the weights sum to at most 1 */
};

/* The union calendar of the sleeves: *days (malloc'd, the caller frees) and its length. */
enum qd_code eq_portfolio_calendar(const struct eq_sleeve *sl, size_t nsl, int32_t **days,
                                   size_t *n, struct qd_err *err);

/* One strategy point on every sleeve. days/n: the union calendar. equity (n) and trades (up to
 * max_trades, tagged with their sleeve) may be NULL. QD_ENOMEM. */
enum qd_code eq_portfolio_run(const struct eq_sleeve *sl, size_t nsl, const int32_t *days,
                              size_t n, const struct eq_strategy *pt,
                              const struct eq_sim_params *p, enum eq_rebalance reb,
                              struct eq_metrics *m,
                              double *equity, struct eq_trade *trades, size_t max_trades,
                              size_t *ntrades, struct qd_err *err);

/* Every point, on `threads` threads; bit-identical whatever the thread count. */
enum qd_code eq_portfolio_sweep(const struct eq_sleeve *sl, size_t nsl, const int32_t *days,
                                size_t n, const struct eq_strategy *pts, size_t npts,
                                const struct eq_sim_params *p, enum eq_rebalance reb,
                                unsigned threads, eq_stop_fn *stop, void *stop_arg,
                                struct eq_metrics *out, struct qd_err *err);

#endif
