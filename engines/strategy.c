/* Strategies as target series (see strategy.h). Pure; eq_strategy_sweep runs threads it joins. */
#include "engines/strategy.h"
#include "features/indicators.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A long/flat state machine: enter when `enter` holds, leave when `leave` holds, else keep.
 * NaN inputs (indicator not defined yet) keep the state (flat at the start). */
static void
rule_rsi(const double *rsi, size_t n, double overbought, double oversold, int8_t *out)
{
    int8_t state = 0;

    for (size_t i = 0; i < n; i++) {
        if (!isnan(rsi[i])) {
            if (rsi[i] < oversold)
                state = 1;
            else if (rsi[i] > overbought)
                state = 0;
        }
        out[i] = state;
    }
}

static void
rule_bb(const double *close, const double *lower, const double *middle, size_t n, int8_t *out)
{
    int8_t state = 0;

    for (size_t i = 0; i < n; i++) {
        if (!isnan(lower[i])) {
            if (close[i] < lower[i])
                state = 1;
            else if (close[i] > middle[i])
                state = 0;
        }
        out[i] = state;
    }
}

void
eq_strategy_targets(const struct eq_market *mk, const struct eq_ticks *tk,
                    const struct eq_strategy *s, int8_t *target, int8_t *tmp, double *scratch)
{
    size_t n = mk->n;
    double *a = scratch, *b = scratch + n, *c = scratch + 2 * n;

    memset(target, 1, n);           /* AND over the configured rules */
    if (s->sma) {
        eq_sma_cross_targets(tk, s->fast, s->slow, tmp);
        for (size_t i = 0; i < n; i++)
            target[i] &= tmp[i];
    }
    if (s->rsi) {
        feat_rsi(mk->close, n, s->rsi_period, a);
        rule_rsi(a, n, s->rsi_overbought, s->rsi_oversold, tmp);
        for (size_t i = 0; i < n; i++)
            target[i] &= tmp[i];
    }
    if (s->bb) {
        feat_bollinger(mk->close, n, s->bb_period, s->bb_std, a, b, c);
        rule_bb(mk->close, c, b, n, tmp);
        for (size_t i = 0; i < n; i++)
            target[i] &= tmp[i];
    }
    if (!s->sma && !s->rsi && !s->bb)
        memset(target, 0, n);       /* no signal rule: never long */
    if (s->trend) {
        feat_sma(mk->close, n, s->trend_window, a);
        for (size_t i = 0; i < n; i++)
            target[i] &= (int8_t)(!isnan(a[i]) && mk->close[i] > a[i]);
    }
}

struct ssweep {
    const struct eq_market     *mk;
    const struct eq_ticks      *tk;
    const struct eq_strategy   *pts;
    const struct eq_sim_params *p;
    struct eq_metrics          *out;
};

/* One point; scratch: n target bytes, n more, then 3n doubles (8-byte aligned: n rounded). */
static void
ssweep_point(void *ctx, size_t k, void *scratch)
{
    struct ssweep *sw = ctx;
    size_t n = sw->mk->n, bytes = (2 * n + 7) / 8 * 8;
    int8_t *target = scratch, *tmp = target + n;
    double *d = (double *)((char *)scratch + bytes);

    eq_strategy_targets(sw->mk, sw->tk, &sw->pts[k], target, tmp, d);
    eq_simulate(sw->mk, target, sw->p, &sw->out[k], NULL, NULL, 0, NULL);
}

enum qd_code
eq_strategy_sweep(const struct eq_market *mk, const struct eq_ticks *tk,
                  const struct eq_strategy *pts, size_t npts, const struct eq_sim_params *p,
                  unsigned threads, eq_stop_fn *stop, void *stop_arg, struct eq_metrics *out,
                  struct qd_err *err)
{
    struct ssweep sw = {.mk = mk, .tk = tk, .pts = pts, .p = p, .out = out};
    size_t n = mk->n;
    struct eq_prefix pre;
    struct eq_market shared = *mk;
    enum qd_code rc;
    bool own = mk->prefix == NULL && eq_prefix_init(&pre, mk, p->risk_free_rate, NULL) == QD_OK;

    if (own) {
        shared.prefix = &pre;
        sw.mk = &shared;
    }
    rc = eq_parallel_for(npts, threads, (2 * n + 7) / 8 * 8 + 3 * n * sizeof(double),
                         ssweep_point, &sw, stop, stop_arg, err);
    if (own)
        eq_prefix_release(&pre);
    return rc;
}
