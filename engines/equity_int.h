#ifndef ENGINES_EQUITY_INT_H
#define ENGINES_EQUITY_INT_H

/* Internal to engines/: one position's bookkeeping, shared by eq_simulate and the portfolio
 * simulator. Pure; the caller owns the struct. */

#include "engines/equity.h"

struct sim {
    const struct eq_sim_params *p;
    const struct eq_market     *mk;
    double cash, shares;            /* shares < 0: short */
    double entry_cost;              /* notional + fee of the entry: the trade's capital */
    double entry_notional;
    double entry_price, entry_fee;
    int32_t entry_day;
    double traded_notional;
    /* closed trades */
    long   closed, wins;
    double gross_win, gross_loss, sum_trade_ret;
    struct eq_trade *trades;
    size_t max_trades, ntrades;
};

double eq__fee_for(const struct eq_sim_params *p, double notional, double size);
/* Opens dir (1 long, -1 short) at px, sized by p->sizing from s->cash. */
void eq__open_position(struct sim *s, double px, int32_t day, size_t signal_bar, int dir);
/* Closes the whole position at px, recording the trade. */
void eq__close_position(struct sim *s, double px, int32_t day);

/* The still-open position as a trade marked at `last` (exit_day -1). */
void eq__open_trade(const struct sim *s, double last, struct eq_trade *out);

#endif
