/* Strategies as target series (see strategy.h). Pure; eq_strategy_sweep runs threads it joins. */
#include "engines/strategy.h"
#include "features/indicators.h"
#include "features/regimes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* State machines: enter a side when its condition holds, leave it when the exit holds, else
 * keep. NaN inputs (indicator not defined yet) keep the state (flat at the start).
 * RSI: long below oversold; above overbought flat (long only) or short (long/short). */
static void
rule_rsi(const double *rsi, size_t n, double overbought, double oversold, bool ls, int8_t *out)
{
    int8_t state = 0;

    for (size_t i = 0; i < n; i++) {
        if (!isnan(rsi[i])) {
            if (rsi[i] < oversold)
                state = 1;
            else if (rsi[i] > overbought)
                state = ls ? -1 : 0;
        }
        out[i] = state;
    }
}

/* Bollinger: long below the lower band, flat again above the middle band; with long/short also
 * short above the upper band, flat again below the middle band. */
static void
rule_bb(const double *close, const double *upper, const double *middle, const double *lower,
        size_t n, bool ls, int8_t *out)
{
    int8_t state = 0;

    for (size_t i = 0; i < n; i++) {
        if (!isnan(lower[i])) {
            if (close[i] < lower[i])
                state = 1;
            else if (ls && close[i] > upper[i])
                state = -1;
            else if ((state == 1 && close[i] > middle[i]) ||
                     (state == -1 && close[i] < middle[i]))
                state = 0;
        }
        out[i] = state;
    }
}

/* Keeps a side where the rule agrees, else flat. */
static void
agree(int8_t *target, const int8_t *rule, size_t n)
{
    for (size_t i = 0; i < n; i++)
        target[i] = target[i] == rule[i] ? target[i] : 0;
}

void
eq_strategy_targets(const struct eq_market *mk, const struct eq_ticks *tk,
                    const struct eq_strategy *s, int8_t *target, int8_t *tmp, double *scratch)
{
    size_t n = mk->n;
    double *a = scratch, *b = scratch + n, *c = scratch + 2 * n;
    bool first = true;

    memset(target, 0, n);
    if (s->sma) {
        eq_sma_cross_targets(tk, s->fast, s->slow, s->long_short ? -1 : 0, target);
        first = false;
    }
    if (s->rsi) {
        feat_rsi(mk->close, n, s->rsi_period, a);
        rule_rsi(a, n, s->rsi_overbought, s->rsi_oversold, s->long_short, first ? target : tmp);
        if (!first)
            agree(target, tmp, n);
        first = false;
    }
    if (s->bb) {
        feat_bollinger(mk->close, n, s->bb_period, s->bb_std, a, b, c);
        rule_bb(mk->close, a, b, c, n, s->long_short, first ? target : tmp);
        if (!first)
            agree(target, tmp, n);
        first = false;
    }
    if (s->risk) {
        /* risk off: flat while the risk regime (from the market's VIX / FRED inputs, or their
         * documented fallbacks) is above the allowed level or not defined yet */
        feat_risk_regime(mk->close, mk->regime_vix, mk->regime_hy, mk->regime_curve, n,
                         &regime_defaults, a, b);
        for (size_t i = 0; i < n; i++)
            if (isnan(a[i]) || a[i] > s->risk_max_level)
                target[i] = 0;
    }
    if (s->trend) {
        /* long only above the trend average, short only below it */
        feat_sma(mk->close, n, s->trend_window, a);
        for (size_t i = 0; i < n; i++) {
            bool up = !isnan(a[i]) && mk->close[i] > a[i];
            bool down = !isnan(a[i]) && mk->close[i] < a[i];
            if ((target[i] > 0 && !up) || (target[i] < 0 && !down))
                target[i] = 0;
        }
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
