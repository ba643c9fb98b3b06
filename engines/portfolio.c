/* Fixed-weight portfolios of sleeves (see portfolio.h). */
#include "engines/portfolio.h"
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
};

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
                   (n + 1) * sizeof(int32_t) + 2 * m;

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
    s->held = (int32_t *)p;
    p += (n + 1) * sizeof(int32_t);
    s->target = (int8_t *)p;
    s->tmp = s->target + m;
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
                 struct eq_metrics *m, double *equity, struct eq_trade *trades,
                 size_t max_trades, size_t *ntrades, struct qd_err *err)
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
    run_in(sl, nsl, days, n, pt, p, &s, eq, m, trades, max_trades, ntrades);
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
    struct eq_metrics          *out;
};

static void
psweep_point(void *ctx, size_t k, void *scratch)
{
    struct psweep *w = ctx;
    struct run_scratch s;
    double *equity = (double *)((char *)scratch + scratch_size(w->sl, w->nsl, w->n));

    scratch_carve(scratch, w->sl, w->nsl, w->n, &s);
    run_in(w->sl, w->nsl, w->days, w->n, &w->pts[k], w->p, &s, equity, &w->out[k], NULL, 0,
           NULL);
}

enum qd_code
eq_portfolio_sweep(const struct eq_sleeve *sl, size_t nsl, const int32_t *days, size_t n,
                   const struct eq_strategy *pts, size_t npts, const struct eq_sim_params *p,
                   unsigned threads, eq_stop_fn *stop, void *stop_arg, struct eq_metrics *out,
                   struct qd_err *err)
{
    struct psweep w = {.sl = sl, .nsl = nsl, .n = n, .days = days, .pts = pts, .p = p,
                       .out = out};

    return eq_parallel_for(npts, threads, scratch_size(sl, nsl, n) + (n + 1) * sizeof(double),
                           psweep_point, &w, stop, stop_arg, err);
}
