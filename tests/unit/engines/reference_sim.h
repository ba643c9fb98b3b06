#ifndef TESTS_UNIT_ENGINES_REFERENCE_SIM_H
#define TESTS_UNIT_ENGINES_REFERENCE_SIM_H

/* A deliberately simple bar-by-bar SMA-crossover backtester, written separately from
 * engines/equity.c, for differential tests. All-in, fee rate only; long only or long/short. */

#include <stddef.h>
#include <stdint.h>

struct ref_result {
    double final_value, total_return, annual_volatility, sharpe_ratio, max_drawdown;
    double win_rate, exposure;
    int32_t max_dd_days;            /* longest span from a peak's date to a later day below it */
    int    closed_trades;
    int32_t entry_day[4096], exit_day[4096];
    double pnl[4096];
    int    ntrades;                 /* closed + the open one */
};

/* long_short: a downward cross goes short instead of flat. */
void ref_sma_backtest(const int32_t *day, const double *open, const double *close, size_t n,
                      unsigned fast, unsigned slow, double capital, double fee_rate,
                      int fill_close, int long_short, struct ref_result *out);

#endif
