/* The reference backtester (see reference_sim.h): every average recomputed from scratch on
 * every bar, every number stored, metrics from the stored curve in two passes. */
#include "tests/unit/engines/reference_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sum of close[i-w+1..i] in micro-units (the closes have at most 6 decimals). */
static __int128
window_sum(const double *close, size_t i, unsigned w)
{
    __int128 s = 0;

    for (size_t k = i + 1 - w; k <= i; k++)
        s += (__int128)llround(close[k] * 1e6);
    return s;
}

void
ref_sma_backtest(const int32_t *day, const double *open, const double *close, size_t n,
                 unsigned fast, unsigned slow, double capital, double fee_rate, int fill_close,
                 int long_short, struct ref_result *out)
{
    double *eq = calloc(n, sizeof(double));
    int *want = calloc(n, sizeof(int));
    double cash = capital, shares = 0, cost = 0, proceeds = 0;
    int last_sign = 0, state = 0, held = 0, wins = 0;

    memset(out, 0, sizeof(*out));
    /* 1. the signal: the wanted position after each bar's close */
    for (size_t i = 0; i < n; i++) {
        if (i + 1 >= slow && i + 1 >= fast) {
            /* SMA_fast > SMA_slow  <=>  sum_fast / fast > sum_slow / slow */
            __int128 lhs = window_sum(close, i, fast) * slow;
            __int128 rhs = window_sum(close, i, slow) * fast;
            int sign = lhs > rhs ? 1 : lhs < rhs ? -1 : 0;
            if (sign == 1 && last_sign == -1)
                state = 1;
            if (sign == -1 && last_sign == 1)
                state = long_short ? -1 : 0;
            if (sign != 0)
                last_sign = sign;
        }
        want[i] = state;
    }
    /* 2. trading, bar by bar: when the wanted side differs from the held one, close what is
     * held, then open the wanted side with all the cash */
    for (size_t i = 0; i < n; i++) {
        int w = fill_close ? want[i] : (i == 0 ? 0 : want[i - 1]);
        int held_side = shares > 0 ? 1 : shares < 0 ? -1 : 0;
        double price = fill_close ? close[i] : open[i];
        if (w != held_side && held_side != 0) {
            double size = held_side > 0 ? shares : -shares, value = size * price;
            double fee = value * fee_rate;
            if (held_side > 0) {
                cash = cash + value - fee;
                out->pnl[out->ntrades] = value - fee - cost;
            } else {
                cash = cash - value - fee;
                out->pnl[out->ntrades] = proceeds - value - fee;
            }
            out->exit_day[out->ntrades] = day[i];
            wins += out->pnl[out->ntrades] > 0;
            out->ntrades++;
            out->closed_trades++;
            shares = 0;
        }
        if (w != 0 && shares == 0) {
            double size = cash / (price * (1 + fee_rate));
            double fee = size * price * fee_rate;
            if (w > 0) {
                cash = cash - size * price - fee;
                shares = size;
                cost = size * price + fee;
            } else {
                cash = cash + size * price - fee;
                shares = -size;
                proceeds = size * price - fee;
            }
            out->entry_day[out->ntrades] = day[i];
        }
        eq[i] = cash + shares * close[i];
        held += shares != 0;
    }
    if (shares != 0) {
        out->exit_day[out->ntrades] = -1;
        out->ntrades++;
    }
    /* 3. metrics from the stored curve */
    {
        double mean = 0, var = 0, peak = capital, mdd = 0;
        size_t m = n - 1;
        for (size_t i = 1; i < n; i++)
            mean += eq[i] / eq[i - 1] - 1;
        mean /= (double)m;
        for (size_t i = 1; i < n; i++) {
            double r = eq[i] / eq[i - 1] - 1;
            var += (r - mean) * (r - mean);
        }
        var /= (double)(m - 1);
        for (size_t i = 0; i < n; i++) {
            if (eq[i] > peak)
                peak = eq[i];
            if (1 - eq[i] / peak > mdd)
                mdd = 1 - eq[i] / peak;
        }
        /* duration: a day at or above the running peak is a peak (its date moves there) */
        {
            double top = capital;
            int32_t top_day = day[0];
            out->max_dd_days = 0;
            for (size_t i = 0; i < n; i++) {
                if (eq[i] >= top) {
                    top = eq[i];
                    top_day = day[i];
                } else if (day[i] - top_day > out->max_dd_days) {
                    out->max_dd_days = day[i] - top_day;
                }
            }
        }
        out->final_value = eq[n - 1];
        out->total_return = eq[n - 1] / capital - 1;
        out->annual_volatility = sqrt(var) * sqrt(252.0);
        out->sharpe_ratio = var > 0 ? mean / sqrt(var) * sqrt(252.0) : NAN;
        out->max_drawdown = mdd;
        out->win_rate = out->closed_trades ? (double)wins / out->closed_trades : NAN;
        out->exposure = (double)held / (double)n;
    }
    free(eq);
    free(want);
}
