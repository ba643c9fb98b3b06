/* Fixed-weight portfolios of sleeves (see portfolio.h). */
#include "engines/portfolio.h"
#include "common/date.h"
#include "engines/equity_int.h"
#include "engines/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SLEEVE_TRADES 4096

enum qd_code
eq_portfolio_calendar(const struct eq_sleeve *sl, size_t nsl, int32_t **days, size_t *n,
                      struct qd_err *err)
{
    size_t total = 0, *at = calloc(nsl ? nsl : 1, sizeof(size_t)), k = 0;
    int32_t *out;

    for (size_t i = 0; i < nsl; i++)
        total += sl[i].mk->n;
    out = malloc((total ? total : 1) * sizeof(*out));
    if (at == NULL || out == NULL) {
        free(at);
        free(out);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    for (;;) {                          /* merge the sorted day lists, dropping repeats */
        int32_t next = INT32_MAX;
        for (size_t i = 0; i < nsl; i++)
            if (at[i] < sl[i].mk->n && sl[i].mk->day[at[i]] < next)
                next = sl[i].mk->day[at[i]];
        if (next == INT32_MAX)
            break;
        out[k++] = next;
        for (size_t i = 0; i < nsl; i++)
            if (at[i] < sl[i].mk->n && sl[i].mk->day[at[i]] == next)
                at[i]++;
    }
    free(at);
    *days = out;
    *n = k;
    return QD_OK;
}

/* Per-run scratch, carved from one block: the largest sleeve's targets and work arrays, the
 * union calendar's held counts, and every sleeve's trades. */
struct run_scratch {
    int8_t          *target, *tmp;
    double          *work, *eq;
    int32_t         *held;
    struct eq_trade *tr;
    int8_t          *all_targets;   /* every sleeve's targets, back to back (rebalancing) */
    struct sim      *sims;
    struct eq_sim_params *params;
    size_t          *at;
};

static size_t
total_len(const struct eq_sleeve *sl, size_t nsl)
{
    size_t t = 0;

    for (size_t i = 0; i < nsl; i++)
        t += sl[i].mk->n;
    return t;
}

static size_t
max_len(const struct eq_sleeve *sl, size_t nsl)
{
    size_t m = 1;

    for (size_t i = 0; i < nsl; i++)
        m = sl[i].mk->n > m ? sl[i].mk->n : m;
    return m;
}

static size_t
scratch_size(const struct eq_sleeve *sl, size_t nsl, size_t n)
{
    size_t m = max_len(sl, nsl);

    size_t bytes = 4 * m * sizeof(double) + nsl * MAX_SLEEVE_TRADES * sizeof(struct eq_trade) +
                   nsl * (sizeof(struct sim) + sizeof(struct eq_sim_params) + sizeof(size_t)) +
                   (n + 1) * sizeof(int32_t) + 2 * m + total_len(sl, nsl) + 64;

    return (bytes + 63) / 64 * 64;      /* what follows stays aligned */
}

static void
scratch_carve(void *base, const struct eq_sleeve *sl, size_t nsl, size_t n,
              struct run_scratch *s)
{
    size_t m = max_len(sl, nsl);
    char *p = base;

    s->work = (double *)p;
    p += 3 * m * sizeof(double);
    s->eq = (double *)p;
    p += m * sizeof(double);
    s->tr = (struct eq_trade *)p;
    p += nsl * MAX_SLEEVE_TRADES * sizeof(struct eq_trade);
    s->sims = (struct sim *)p;
    p += nsl * sizeof(struct sim);
    s->params = (struct eq_sim_params *)p;
    p += nsl * sizeof(struct eq_sim_params);
    s->at = (size_t *)p;
    p += nsl * sizeof(size_t);
    s->held = (int32_t *)p;
    p += (n + 1) * sizeof(int32_t);
    s->target = (int8_t *)p;
    s->tmp = s->target + m;
    s->all_targets = s->tmp + m;
}

/* Period of a date for rebalancing: months since year 0, or quarters. */
static long
period_of(int32_t day, enum eq_rebalance reb)
{
    int y;
    unsigned m, d;

    qd_civil_from_days(day, &y, &m, &d);
    return reb == EQ_REBAL_QUARTERLY ? (long)y * 4 + (long)(m - 1) / 3 : (long)y * 12 + m - 1;
}

/* Sleeve value at its last close. */
static double
sleeve_value(const struct sim *s, const struct eq_market *mk, size_t at)
{
    double last = at > 0 ? mk->close[at - 1] : 0.0;

    return s->cash + s->shares * last;
}

/* All sleeves in lockstep on the union calendar, rebalanced at the first date of each period.
 * Same outputs as run_in. */
static void
run_lockstep(const struct eq_sleeve *sl, size_t nsl, const int32_t *days, size_t n,
             const struct eq_strategy *pt, const struct eq_sim_params *p, enum eq_rebalance reb,
             struct run_scratch *s, double *equity, struct eq_metrics *m,
             struct eq_trade *trades, size_t max_trades, size_t *ntrades)
{
    size_t lag = p->fill_close ? 0 : 1, off = 0, nt = 0;
    double idle = p->initial_capital, wsum = 0;
    uint8_t *held = (uint8_t *)s->held;

    for (size_t i = 0; i < nsl; i++) {
        s->params[i] = *p;
        s->params[i].initial_capital = p->initial_capital * sl[i].weight;
        s->sims[i] = (struct sim){.p = &s->params[i], .mk = sl[i].mk,
                                  .cash = s->params[i].initial_capital,
                                  .trades = s->tr + i * MAX_SLEEVE_TRADES,
                                  .max_trades = MAX_SLEEVE_TRADES};
        s->at[i] = 0;
        idle -= s->params[i].initial_capital;
        wsum += sl[i].weight;
        eq_strategy_targets(sl[i].mk, sl[i].tk, pt, s->all_targets + off, s->tmp, s->work);
        off += sl[i].mk->n;
    }
    for (size_t t = 0; t < n; t++) {
        bool any = false;
        double total = idle;

        if (t > 0 && period_of(days[t], reb) != period_of(days[t - 1], reb)) {
            double value = idle;
            for (size_t i = 0; i < nsl; i++)
                value += sleeve_value(&s->sims[i], sl[i].mk, s->at[i]);
            for (size_t i = 0; i < nsl; i++) {
                struct sim *sm = &s->sims[i];
                double cur = sleeve_value(sm, sl[i].mk, s->at[i]), want = sl[i].weight * value;
                double last = s->at[i] > 0 ? sl[i].mk->close[s->at[i] - 1] : 0.0;
                if (!(cur > 0) || sl[i].weight <= 0)
                    continue;
                if (sm->shares != 0 && last > 0) {
                    /* scale position and cash alike; pay for the shares traded */
                    double f = want / cur, q = sm->shares * f, dq = fabs(q - sm->shares);
                    double fee = dq > 0 ? eq__fee_for(sm->p, dq * last, dq) : 0.0;
                    sm->cash = sm->cash * f - fee;
                    sm->traded_notional += dq * last;
                    sm->entry_cost *= f;
                    sm->entry_notional *= f;
                    sm->shares = q;
                } else {
                    sm->cash = want;
                }
            }
            idle = value * (1.0 - wsum);
            total = idle;
        }
        off = 0;
        for (size_t i = 0; i < nsl; i++) {
            struct sim *sm = &s->sims[i];
            const struct eq_market *mk = sl[i].mk;
            const int8_t *target = s->all_targets + off;
            size_t k = s->at[i];
            off += mk->n;
            if (sl[i].weight > 0 && k < mk->n && mk->day[k] == days[t]) {
                int8_t w = k >= lag ? target[k - lag] : 0;
                double px = p->fill_close ? mk->close[k] : mk->open[k];
                if (w != (sm->shares > 0) - (sm->shares < 0)) {
                    if (sm->shares != 0)
                        eq__close_position(sm, px, mk->day[k]);
                    if (w != 0)
                        eq__open_position(sm, px, mk->day[k], k - lag, w);
                }
                s->at[i] = k + 1;
            }
            total += sleeve_value(sm, mk, s->at[i]);
            any |= sm->shares != 0;
        }
        equity[t] = total;
        held[t] = any;
    }
    /* trades of every sleeve, the open ones marked at their last close */
    for (size_t i = 0; i < nsl; i++) {
        struct sim *sm = &s->sims[i];
        for (size_t j = 0; j < sm->ntrades; j++) {
            s->tr[i * MAX_SLEEVE_TRADES + j].sleeve = (unsigned)i;
            s->tr[nt + j] = s->tr[i * MAX_SLEEVE_TRADES + j];
        }
        nt += sm->ntrades;
        if (sm->shares != 0 && s->at[i] > 0 && nt < (i + 1) * MAX_SLEEVE_TRADES) {
            struct eq_trade open;
            eq__open_trade(sm, sl[i].mk->close[s->at[i] - 1], &open);
            open.sleeve = (unsigned)i;
            /* the slot after this sleeve's trades is free: sleeves are compacted in order */
            s->tr[nt++] = open;
        }
    }
    eq_curve_metrics(days, equity, held, n, p->initial_capital, s->tr, nt, p->risk_free_rate, m);
    if (trades != NULL)
        memcpy(trades, s->tr, (nt < max_trades ? nt : max_trades) * sizeof(*trades));
    if (ntrades != NULL)
        *ntrades = nt < max_trades ? nt : max_trades;
}

/* First index of days[0..n) >= d. */
static size_t
lower_bound(const int32_t *days, size_t n, int32_t d)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (days[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
run_in(const struct eq_sleeve *sl, size_t nsl, const int32_t *days, size_t n,
       const struct eq_strategy *pt, const struct eq_sim_params *p, struct run_scratch *s,
       double *equity, struct eq_metrics *m, struct eq_trade *trades, size_t max_trades,
       size_t *ntrades)
{
    double idle = p->initial_capital;
    size_t nt = 0;
    uint8_t *held;

    memset(s->held, 0, (n + 1) * sizeof(int32_t));
    for (size_t t = 0; t < n; t++)
        equity[t] = 0;
    for (size_t i = 0; i < nsl; i++) {
        struct eq_sim_params sp = *p;
        struct eq_metrics sm;
        const struct eq_market *mk = sl[i].mk;
        size_t k = 0, snt = 0;
        double last;

        sp.initial_capital = p->initial_capital * sl[i].weight;
        if (!(sp.initial_capital > 0))
            continue;
        idle -= sp.initial_capital;
        eq_strategy_targets(mk, sl[i].tk, pt, s->target, s->tmp, s->work);
        eq_simulate(mk, s->target, &sp, &sm, s->eq, s->tr + nt, MAX_SLEEVE_TRADES, &snt);
        /* the sleeve on the union calendar: its own bars, else its last value (its starting
         * capital before its first bar) */
        last = sp.initial_capital;
        for (size_t t = 0; t < n; t++) {
            while (k < mk->n && mk->day[k] <= days[t])
                last = s->eq[k++];
            equity[t] += last;
        }
        for (size_t j = 0; j < snt; j++) {
            struct eq_trade *tr = &s->tr[nt + j];
            /* held from the entry's date up to the day before the exit (difference array) */
            size_t a = lower_bound(days, n, tr->entry_day);
            size_t b = tr->exit_day < 0 ? n : lower_bound(days, n, tr->exit_day);
            tr->sleeve = (unsigned)i;
            s->held[a]++;
            s->held[b]--;
        }
        nt += snt;
    }
    for (size_t t = 0; t < n; t++)
        equity[t] += idle;
    /* prefix sums of the difference array, as 0/1 flags in place */
    held = (uint8_t *)s->held;
    {
        int32_t run = 0;
        for (size_t t = 0; t < n; t++) {
            run += s->held[t];
            held[t] = run > 0;
        }
    }
    eq_curve_metrics(days, equity, held, n, p->initial_capital, s->tr, nt, p->risk_free_rate, m);
    if (trades != NULL)
        memcpy(trades, s->tr, (nt < max_trades ? nt : max_trades) * sizeof(*trades));
    if (ntrades != NULL)
        *ntrades = nt < max_trades ? nt : max_trades;
}

enum qd_code
eq_portfolio_run(const struct eq_sleeve *sl, size_t nsl, const int32_t *days, size_t n,
                 const struct eq_strategy *pt, const struct eq_sim_params *p,
                 enum eq_rebalance reb, struct eq_metrics *m, double *equity,
                 struct eq_trade *trades, size_t max_trades, size_t *ntrades, struct qd_err *err)
{
    void *base = malloc(scratch_size(sl, nsl, n));
    double *eq = equity ? equity : malloc((n ? n : 1) * sizeof(double));
    struct run_scratch s;

    if (base == NULL || eq == NULL) {
        free(base);
        if (eq != equity)
            free(eq);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    scratch_carve(base, sl, nsl, n, &s);
    if (reb == EQ_REBAL_NONE)
        run_in(sl, nsl, days, n, pt, p, &s, eq, m, trades, max_trades, ntrades);
    else
        run_lockstep(sl, nsl, days, n, pt, p, reb, &s, eq, m, trades, max_trades, ntrades);
    if (eq != equity)
        free(eq);
    free(base);
    return QD_OK;
}

struct psweep {
    const struct eq_sleeve     *sl;
    size_t                      nsl, n;
    const int32_t              *days;
    const struct eq_strategy   *pts;
    const struct eq_sim_params *p;
    enum eq_rebalance           reb;
    struct eq_metrics          *out;
};

static void
psweep_point(void *ctx, size_t k, void *scratch)
{
    struct psweep *w = ctx;
    struct run_scratch s;
    double *equity = (double *)((char *)scratch + scratch_size(w->sl, w->nsl, w->n));

    scratch_carve(scratch, w->sl, w->nsl, w->n, &s);
    if (w->reb == EQ_REBAL_NONE)
        run_in(w->sl, w->nsl, w->days, w->n, &w->pts[k], w->p, &s, equity, &w->out[k], NULL, 0,
               NULL);
    else
        run_lockstep(w->sl, w->nsl, w->days, w->n, &w->pts[k], w->p, w->reb, &s, equity,
                     &w->out[k], NULL, 0, NULL);
}

enum qd_code
eq_portfolio_sweep(const struct eq_sleeve *sl, size_t nsl, const int32_t *days, size_t n,
                   const struct eq_strategy *pts, size_t npts, const struct eq_sim_params *p,
                   enum eq_rebalance reb, unsigned threads, eq_stop_fn *stop, void *stop_arg,
                   struct eq_metrics *out, struct qd_err *err)
{
    struct psweep w = {.sl = sl, .nsl = nsl, .n = n, .days = days, .pts = pts, .p = p,
                       .reb = reb, .out = out};

    return eq_parallel_for(npts, threads, scratch_size(sl, nsl, n) + (n + 1) * sizeof(double),
                           psweep_point, &w, stop, stop_arg, err);
}
