/*
 * Equity engine (see equity.h and docs/engine.md). Pure; any thread. eq_sma_sweep starts its
 * own threads for the grid and joins them before it returns.
 */
#define _GNU_SOURCE
#include "engines/equity.h"
#include "engines/equity_int.h"


#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const eq_metric_names[EQ_NUM_METRICS] = {
    "final_value",  "total_return",  "cagr",
    "annual_volatility", "sharpe_ratio", "sortino_ratio",
    "max_drawdown", "max_drawdown_duration_days", "calmar_ratio",
    "win_rate",     "profit_factor", "avg_trade_return",
    "num_trades",   "exposure",      "turnover",
};

void
eq_metrics_array(const struct eq_metrics *m, double out[EQ_NUM_METRICS])
{
    const double v[EQ_NUM_METRICS] = {
        m->final_value,  m->total_return,  m->cagr,
        m->annual_volatility, m->sharpe_ratio, m->sortino_ratio,
        m->max_drawdown, m->max_drawdown_duration_days, m->calmar_ratio,
        m->win_rate,     m->profit_factor, m->avg_trade_return,
        m->num_trades,   m->exposure,      m->turnover,
    };
    memcpy(out, v, sizeof(v));
}

/* ---- simulation ---- */

/* Branch-free selections. A branch on the sign of a fresh return or trade P&L mispredicts half
 * the time and waits for the division behind it: measured, one such branch cost the SMA grid
 * 18 %. */

/* min(x, 0): x when x < 0, else +0 (NaN and -0 too). */
static inline double
neg_part(double x)
{
#if defined(__SSE2__)
    return _mm_cvtsd_f64(_mm_min_sd(_mm_set_sd(x), _mm_setzero_pd()));
#else
    return x < 0 ? x : 0.0;
#endif
}

/* x when x > 0, else +0; and the other part: x when !(x > 0) (NaN too), else +0. */
static inline void
split_gain(double x, double *gain, double *loss)
{
#if defined(__SSE2__)
    __m128d v = _mm_set_sd(x), up = _mm_cmpgt_sd(v, _mm_setzero_pd());
    *gain = _mm_cvtsd_f64(_mm_and_pd(up, v));
    *loss = _mm_cvtsd_f64(_mm_andnot_pd(up, v));
#else
    *gain = x > 0 ? x : 0.0;
    *loss = x > 0 ? 0.0 : x;
#endif
}

double
eq__fee_for(const struct eq_sim_params *p, double notional, double size)
{
    double fee = notional * p->fee_rate + size * p->fee_per_share;

    return fee < p->fee_minimum ? p->fee_minimum : fee;
}

void
eq_sizing_inputs(const double *close, size_t n, unsigned window, double *vol, double *kelly)
{
    for (size_t i = 0; i < n; i++) {
        double m = 0, v = 0;
        if (window < 2 || i < window) {
            vol[i] = kelly[i] = NAN;
            continue;
        }
        for (size_t k = i + 1 - window; k <= i; k++)
            m += close[k] / close[k - 1] - 1.0;
        m /= window;
        for (size_t k = i + 1 - window; k <= i; k++) {
            double r = close[k] / close[k - 1] - 1.0 - m;
            v += r * r;
        }
        v /= window - 1;
        vol[i] = sqrt(v * 252.0);
        kelly[i] = v > 0 ? m / v : NAN;
    }
}

/* The size the sizing rule asks for at this fill, before the cash cap; NaN: no entry. all_in is
 * what the cash buys: cash / (fill * (1 + rate) + per_share). */
static inline __attribute__((always_inline)) double
wanted_size(const struct sim *s, double fill, double all_in, size_t signal_bar)
{
    const struct eq_sim_params *p = s->p;
    const struct eq_market *mk = s->mk;
    double f;

    switch (p->sizing) {
    case EQ_SIZE_FIXED_SHARES:
        return p->sizing_value;
    case EQ_SIZE_FIXED_NOTIONAL:
        return p->sizing_value / fill;
    case EQ_SIZE_PERCENT_EQUITY:
        return p->sizing_value * all_in;
    case EQ_SIZE_VOL_TARGET:
        f = mk->sizing_vol ? mk->sizing_vol[signal_bar] : NAN;
        if (!(f > 0))
            return NAN;
        return fmin(1.0, p->sizing_value / f) * all_in;
    case EQ_SIZE_KELLY:
        f = mk->sizing_kelly ? mk->sizing_kelly[signal_bar] : NAN;
        if (isnan(f))
            return NAN;
        return fmin(1.0, fmax(0.0, p->sizing_value * f)) * all_in;
    case EQ_SIZE_ALL_IN:
    default:
        return all_in;
    }
}

/* Opens a long (dir 1) or short (dir -1) position sized by the sizing rule. A short sale's
 * proceeds go to cash; its size is computed as for a purchase of the same value. */
static inline __attribute__((always_inline)) void
open_position(struct sim *s, double px, int32_t day, size_t signal_bar, int dir)
{
    const struct eq_sim_params *p = s->p;
    double fill = px * (1.0 + dir * p->slippage_bps * 1e-4);
    double all_in = s->cash / (fill * (1.0 + p->fee_rate) + p->fee_per_share), notional, fee;
    double size = wanted_size(s, fill, all_in, signal_bar);

    if (isnan(size))
        return;
    if (size > all_in)
        size = all_in;              /* never more than the cash buys */
    if (!p->fractional)
        size = floor(size);
    if (size > 0 && eq__fee_for(p, size * fill, size) > size * fill * p->fee_rate +
                                                      size * p->fee_per_share) {
        /* the minimum fee applies: never spend more than what is left after it */
        size = fmin(size, (s->cash - p->fee_minimum) / fill);
        if (!p->fractional)
            size = floor(size);
    }
    if (!(size > 0))
        return;
    notional = size * fill;
    fee = eq__fee_for(p, notional, size);
    if (dir > 0) {
        s->cash -= notional + fee;
        /* all in: what is left is rounding; call it zero so the position is exactly shares x
         * close (which lets eq_simulate use the market's return sums for such stretches) */
        if (p->sizing == EQ_SIZE_ALL_IN && fabs(s->cash) <= 1e-9 * (notional + fee))
            s->cash = 0.0;
    } else {
        s->cash += notional - fee;
    }
    s->shares = dir * size;
    s->entry_notional = notional;
    s->entry_cost = notional + fee;
    s->entry_price = fill;
    s->entry_fee = fee;
    s->entry_day = day;
    s->traded_notional += notional;
}

void
eq__open_position(struct sim *s, double px, int32_t day, size_t signal_bar, int dir)
{
    open_position(s, px, day, signal_bar, dir);
}

/* Closes the position: sells a long, buys back a short. */
static inline __attribute__((always_inline)) void
close_position(struct sim *s, double px, int32_t day)
{
    const struct eq_sim_params *p = s->p;
    int dir = s->shares > 0 ? 1 : -1;
    double size = fabs(s->shares), fill = px * (1.0 - dir * p->slippage_bps * 1e-4);
    double notional = size * fill, fee = eq__fee_for(p, notional, size), pnl;

    if (dir > 0) {
        s->cash += notional - fee;
        pnl = notional - fee - s->entry_cost;
    } else {
        s->cash -= notional + fee;
        pnl = s->entry_notional - (s->entry_cost - s->entry_notional) - notional - fee;
    }
    s->traded_notional += notional;
    s->closed++;
    {
        /* adding or taking +0 leaves a sum as it is, so this equals the branch on pnl > 0 */
        double gain, loss;
        split_gain(pnl, &gain, &loss);
        s->wins += pnl > 0;
        s->gross_win += gain;
        s->gross_loss -= loss;
    }
    s->sum_trade_ret += pnl / s->entry_cost;
    if (s->trades != NULL && s->ntrades < s->max_trades)
        s->trades[s->ntrades++] = (struct eq_trade){.entry_day = s->entry_day,
                                                    .exit_day = day,
                                                    .entry_price = s->entry_price,
                                                    .exit_price = fill,
                                                    .size = s->shares,
                                                    .pnl = pnl,
                                                    .fees = s->entry_fee + fee,
                                                    .cost = s->entry_cost};
    s->shares = 0;
}

void
eq__close_position(struct sim *s, double px, int32_t day)
{
    close_position(s, px, day);
}

void
eq__open_trade(const struct sim *s, double last, struct eq_trade *out)
{
    double size = fabs(s->shares);
    double pnl = s->shares > 0 ? size * last - s->entry_cost
                               : s->entry_notional - (s->entry_cost - s->entry_notional) -
                                     size * last;

    *out = (struct eq_trade){.entry_day = s->entry_day,
                             .exit_day = -1,
                             .entry_price = s->entry_price,
                             .exit_price = last,
                             .size = s->shares,
                             .pnl = pnl,
                             .fees = s->entry_fee,
                             .cost = s->entry_cost};
}

/* How many leading bytes of t[0..len) equal v. */
static size_t
run_len(const int8_t *t, size_t len, int8_t v)
{
    size_t k = 0;

    while (k < len && t[k] == v)
        k++;
    return k;
}

/* Running statistics of the equity curve. */
struct curve {
    double  prev, peak, mdd, sum_r, sum_r2, sum_down2, sum_eq, rf_d;
    int32_t peak_day, max_dur;
    size_t  nret, held;
};

/* The division gate of the drawdown. The maximum drawdown is, exactly, the largest of
 * 1 - equity / peak (each computed in double) over the bars below their running peak; the
 * division is only worth doing for an equity that could beat the deepest so far, mdd. An
 * equity e >= dd_gate(peak, mdd) cannot. With u = 2^-53, a = fl(1 - mdd), f = fl(peak * a)
 * and the gate G = fl(f + fl(|f| * 1e-14)), peak > 0 (it starts at the initial capital):
 * G / peak >= a + |a| (1e-14 - 3u) whatever the sign of a (equity below zero, possible with a
 * short, makes mdd > 1 and a < 0; a = 0 gives G = 0, and e >= 0 cannot beat mdd = 1). Then
 * fl(e / peak) >= a + |a| (1e-14 - 4.1u), and as 1 - a <= mdd + |a| 1.02u,
 * 1 - fl(e / peak) <= mdd - |a| (1e-14 - 5.2u) <= mdd, so fl(1 - fl(e / peak)) <= mdd. So
 * skipping the division above the gate never changes the result, whatever order or grouping
 * the bars are visited in (docs/engine.md). */
static inline double
dd_gate(double peak, double mdd)
{
    double f = peak * (1.0 - mdd);

    return f + fabs(f) * 1e-14;
}

/* One bar's equity into the statistics. Kept small and branch-light: it is the hot loop. */
static inline void
curve_bar(struct curve *c, double eq, int32_t day, bool first_bar)
{
    c->sum_eq += eq;
    if (!first_bar) {
        double r = eq / c->prev - 1.0, ex = r - c->rf_d;
        c->sum_r += r;
        c->sum_r2 += r * r;
        double down = neg_part(ex);
        c->sum_down2 += down * down;
        c->nret++;
    }
    c->prev = eq;
    if (eq >= c->peak) {
        /* at or above the peak: a drawdown episode (if any) ended; its length was counted
         * while it lasted */
        c->peak = eq;
        c->peak_day = day;
        return;
    }
    if (eq < dd_gate(c->peak, c->mdd)) {   /* only a deeper trough needs the division */
        double dd = 1.0 - eq / c->peak;
        c->mdd = dd > c->mdd ? dd : c->mdd;
    }
    if (day - c->peak_day > c->max_dur)
        c->max_dur = day - c->peak_day;
}

/* The running peak, drawdown and its duration over a fully invested long stretch, whose equity
 * is sh * close (sh > 0). Between two new peaks only the lowest equity can deepen the drawdown
 * (1 - e / peak falls as e rises, and both roundings are monotone) and only the last bar
 * lengthens the time under the peak, so the bars below a peak are folded into their lowest
 * equity (trough) and their last bar (below), and settled once: one division per dip at most,
 * none when the dip is above the gate. */
struct walk {
    double  peak, mdd, gate, trough;    /* gate: dd_gate(peak, mdd); trough: +inf for none */
    int32_t peak_day, max_dur;
    size_t  below;                      /* SIZE_MAX: no bar below the peak since it */
};

/* The bars below the peak since it, into the drawdown and its duration. */
static inline __attribute__((always_inline)) void
walk_settle(struct walk *w, const int32_t *day)
{
    if (w->below != SIZE_MAX) {
        if (w->trough < w->gate) {
            double dd = 1.0 - w->trough / w->peak;
            w->mdd = dd > w->mdd ? dd : w->mdd;
        }
        if (day[w->below] - w->peak_day > w->max_dur)
            w->max_dur = day[w->below] - w->peak_day;
    }
    w->trough = INFINITY;
    w->below = SIZE_MAX;
}

/* Bar t, of equity eq: at or above the peak it is the new peak (equality too: the day moves),
 * else it joins the dip. */
static inline __attribute__((always_inline)) void
walk_bar(struct walk *w, const int32_t *day, size_t t, double eq)
{
    if (eq >= w->peak) {
        walk_settle(w, day);
        w->peak = eq;
        w->peak_day = day[t];
        w->gate = dd_gate(eq, w->mdd);
    } else {
        w->trough = eq < w->trough ? eq : w->trough;
        w->below = t;
    }
}

/* Bars [t, stop) into *wp, then settled; equity (may be NULL) gets each bar's equity. */
static void
held_walk_generic(const double *close, const int32_t *day, size_t t, size_t stop, double sh,
                  struct walk *wp, double *equity)
{
    struct walk w = *wp;      /* a local: in registers (through a pointer it lived in memory) */

    for (; t < stop; t++) {
        double eq = sh * close[t];
        if (equity)
            equity[t] = eq;
        walk_bar(&w, day, t, eq);
    }
    walk_settle(&w, day);
    *wp = w;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The lowest of four. */
__attribute__((target("avx2"))) static inline double
hmin4(__m256d v)
{
    __m128d m = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));

    return _mm_cvtsd_f64(_mm_min_sd(m, _mm_unpackhi_pd(m, m)));
}

/* The same, four bars per step: a step with no new peak only lowers the dip's minimum (the same
 * products sh * close, and min is exact); a step with one goes bar by bar. The last, partial
 * step is masked (a branchy bar-by-bar tail cost the SMA grid 12 %). */
__attribute__((target("avx2"))) static inline void
held_walk_avx2(const double *close, const int32_t *day, size_t t, size_t stop, double sh,
               struct walk *wp)
{
    struct walk w = *wp;
    __m256d vsh = _mm256_set1_pd(sh), vpeak = _mm256_set1_pd(w.peak);
    __m256d vlow = _mm256_set1_pd(INFINITY), inf = vlow;
    __m256i all = _mm256_set1_epi64x(-1);

#define WALK_STEP(k, load, valid)                                                                 \
    do {                                                                                          \
        __m256d eq_ = _mm256_mul_pd(vsh, load);                                                   \
        if (_mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(eq_, vpeak, _CMP_GE_OQ), valid)) == 0) { \
            vlow = _mm256_min_pd(_mm256_blendv_pd(inf, eq_, valid), vlow); /* NaN: vlow kept */  \
            w.below = t + (k) - 1;                                                                \
        } else {                                                                                  \
            double e_[4], low_ = hmin4(vlow);                                                     \
            w.trough = low_ < w.trough ? low_ : w.trough;                                         \
            vlow = inf;                                                                           \
            _mm256_storeu_pd(e_, eq_);                                                            \
            for (unsigned j_ = 0; j_ < (k); j_++)                                                 \
                walk_bar(&w, day, t + j_, e_[j_]);                                                \
            vpeak = _mm256_set1_pd(w.peak);                                                       \
        }                                                                                         \
    } while (0)
    for (; t + 4 <= stop; t += 4)
        WALK_STEP(4, _mm256_loadu_pd(close + t), _mm256_castsi256_pd(all));
    if (t < stop) {
        size_t k = stop - t;
        __m256i lanes = _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)k),
                                           _mm256_set_epi64x(3, 2, 1, 0));
        WALK_STEP(k, _mm256_maskload_pd(close + t, lanes), _mm256_castsi256_pd(lanes));
        t = stop;
    }
#undef WALK_STEP
    {
        double low = hmin4(vlow);
        w.trough = low < w.trough ? low : w.trough;
    }
    walk_settle(&w, day);
    *wp = w;
}
#endif

static void
held_walk(const double *close, const int32_t *day, size_t t, size_t stop, double sh,
          struct walk *w, double *equity)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (equity == NULL && __builtin_cpu_supports("avx2")) {
        held_walk_avx2(close, day, t, stop, sh, w);
        return;
    }
#endif
    held_walk_generic(close, day, t, stop, sh, w, equity);
}

/* Trade statistics behind the trade metrics. */
struct trade_stats {
    long   closed, wins;
    double gross_win, gross_loss, sum_ret, traded;
};

/* The metrics of docs/engine.md from the curve's running statistics and the trades. */
static void
metrics_fill(const struct curve *c, double final, double initial, size_t n,
             const struct trade_stats *ts, struct eq_metrics *m)
{
    m->final_value = final;
    m->total_return = final / initial - 1.0;
    m->cagr = c->nret ? pow(final / initial, 252.0 / (double)c->nret) - 1.0 : NAN;
    if (c->nret >= 2) {
        double nr = (double)c->nret, mean = c->sum_r / nr;
        double var = (c->sum_r2 - nr * mean * mean) / (nr - 1);
        double sd = var > 0 ? sqrt(var) : 0, down = sqrt(c->sum_down2 / nr);
        m->annual_volatility = sd * sqrt(252.0);
        m->sharpe_ratio = sd > 0 ? (mean - c->rf_d) / sd * sqrt(252.0) : NAN;
        m->sortino_ratio = down > 0 ? (mean - c->rf_d) / down * sqrt(252.0) : NAN;
    } else {
        m->annual_volatility = m->sharpe_ratio = m->sortino_ratio = NAN;
    }
    m->max_drawdown = c->mdd;
    m->max_drawdown_duration_days = c->max_dur;
    m->calmar_ratio = c->mdd > 0 ? m->cagr / c->mdd : NAN;
    m->num_trades = (double)ts->closed;
    m->win_rate = ts->closed ? (double)ts->wins / (double)ts->closed : NAN;
    m->profit_factor = ts->gross_loss > 0 ? ts->gross_win / ts->gross_loss : NAN;
    m->avg_trade_return = ts->closed ? ts->sum_ret / (double)ts->closed : NAN;
    m->exposure = n ? (double)c->held / (double)n : NAN;
    m->turnover = c->nret && c->sum_eq > 0
                      ? ts->traded / (c->sum_eq / (double)n) / ((double)c->nret / 252.0)
                      : NAN;
}

enum qd_code
eq_prefix_init(struct eq_prefix *p, const struct eq_market *mk, double risk_free_rate,
               struct qd_err *err)
{
    size_t n = mk->n;

    p->rf_d = pow(1.0 + risk_free_rate, 1.0 / 252.0) - 1.0;
    p->r = malloc((n + 1) * sizeof(double));
    p->r2 = malloc((n + 1) * sizeof(double));
    p->down2 = malloc((n + 1) * sizeof(double));
    p->close = malloc((n + 1) * sizeof(double));
    if (!p->r || !p->r2 || !p->down2 || !p->close) {
        eq_prefix_release(p);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    p->r[0] = p->r2[0] = p->down2[0] = p->close[0] = 0;
    for (size_t t = 0; t < n; t++) {
        double r = t > 0 ? mk->close[t] / mk->close[t - 1] - 1.0 : 0.0, ex = r - p->rf_d;
        p->r[t + 1] = p->r[t] + r;
        p->r2[t + 1] = p->r2[t] + r * r;
        p->down2[t + 1] = p->down2[t] + (t > 0 && ex < 0 ? ex * ex : 0.0);
        p->close[t + 1] = p->close[t] + mk->close[t];
    }
    return QD_OK;
}

void
eq_prefix_release(struct eq_prefix *p)
{
    free(p->r);
    free(p->r2);
    free(p->down2);
    free(p->close);
    p->r = p->r2 = p->down2 = p->close = NULL;
}

/* First index in [from, lim) whose bit is v (bit i of bits[i / 64] is target i), else lim. */
static inline size_t
bits_find(const uint64_t *bits, size_t from, size_t lim, int v)
{
    size_t w = from >> 6, i;
    uint64_t x = (v ? bits[w] : ~bits[w]) & (~UINT64_C(0) << (from & 63));

    while (x == 0) {
        if ((++w << 6) >= lim)
            return lim;
        x = v ? bits[w] : ~bits[w];
    }
    i = (w << 6) + (size_t)__builtin_ctzll(x);
    return i < lim ? i : lim;
}

/* The simulation of eq_simulate. The targets come as bytes, or (long-only sweeps) as bits;
 * the two do the same arithmetic in the same order, so their results are identical. Inlined
 * into each caller so that the choice costs nothing per bar. avx2 (a constant at each call):
 * the caller is compiled for AVX2, so the held walk's AVX2 loop is inlined into it. */
static inline __attribute__((always_inline)) void
simulate_core(const struct eq_market *mk, const int8_t *target, const uint64_t *bits,
              const struct eq_sim_params *p, struct eq_metrics *m, double *equity,
              struct eq_trade *trades, size_t max_trades, size_t *ntrades, bool avx2)
{
    struct sim s = {.p = p, .mk = mk, .cash = p->initial_capital, .trades = trades,
                    .max_trades = max_trades};
    struct curve c = {.prev = p->initial_capital, .peak = p->initial_capital,
                      .rf_d = pow(1.0 + p->risk_free_rate, 1.0 / 252.0) - 1.0,
                      .peak_day = mk->n ? mk->day[0] : 0};
    size_t n = mk->n, lag = p->fill_close ? 0 : 1;
    double eq = p->initial_capital;
    struct eq_prefix own = {0};
    const struct eq_prefix *px_sum = mk->prefix;
    /* targets of a long-only run hold only 0 and 1, which memchr scans fastest */
    bool binary = bits != NULL || !p->long_short;

    if (px_sum == NULL || px_sum->rf_d != c.rf_d) {
        /* without shared sums (a single run) or for another risk-free rate: this call's own */
        if (eq_prefix_init(&own, mk, p->risk_free_rate, NULL) == QD_OK)
            px_sum = &own;
        else
            px_sum = NULL;
    }

    /* Bar t acts on want(t) = target[t - lag] (0 before the first signal). */
    for (size_t t = 0; t < n;) {
        int8_t want = t < lag ? 0
                      : bits ? (int8_t)((bits[(t - lag) >> 6] >> ((t - lag) & 63)) & 1)
                             : target[t - lag];
        double px = p->fill_close ? mk->close[t] : mk->open[t];
        const int8_t *from;
        size_t stop;

        if (want != (s.shares > 0) - (s.shares < 0)) {
            if (s.shares != 0)
                close_position(&s, px, mk->day[t]);
            if (want != 0)
                open_position(&s, px, mk->day[t], t - lag, want);
        }
        eq = s.cash + s.shares * mk->close[t];
        if (equity)
            equity[t] = eq;
        c.held += s.shares != 0;
        curve_bar(&c, eq, mk->day[t], t == 0);
        t++;
        if (t >= n)
            break;
        /* The run of following bars whose wanted position is the one we hold (no trade): find
         * where it ends, then walk it without trade checks (long) or skip it (flat). */
        from = bits ? NULL : target + t - lag;
        if (s.shares != 0) {
            int8_t held_dir = s.shares > 0 ? 1 : -1;
            const int8_t *end = !bits && binary ? memchr(from, 0, n - t) : NULL;
            stop = bits     ? bits_find(bits, t - lag, n - lag, 0) + lag
                   : binary ? (end ? t + (size_t)(end - from) : n)
                            : t + run_len(from, n - t, held_dir);
            c.held += stop - t;
            if (s.shares > 0 && s.cash == 0.0 && px_sum != NULL && stop > t) {
                /* Fully invested: equity is shares x close, so each bar's return is the
                 * market's close return and the stretch's sums come from the prefix sums;
                 * only the running peak and drawdown need the bars one by one. */
                double sh = s.shares;
                struct walk w = {.peak = c.peak, .mdd = c.mdd, .gate = dd_gate(c.peak, c.mdd),
                                 .trough = INFINITY, .peak_day = c.peak_day,
                                 .max_dur = c.max_dur, .below = SIZE_MAX};
                c.sum_r += px_sum->r[stop] - px_sum->r[t];
                c.sum_r2 += px_sum->r2[stop] - px_sum->r2[t];
                c.sum_down2 += px_sum->down2[stop] - px_sum->down2[t];
                c.sum_eq += sh * (px_sum->close[stop] - px_sum->close[t]);
                c.nret += stop - t;
#if defined(__x86_64__) && defined(__GNUC__)
                if (avx2 && equity == NULL)
                    held_walk_avx2(mk->close, mk->day, t, stop, sh, &w);
                else
#endif
                    held_walk(mk->close, mk->day, t, stop, sh, &w, equity);
                c.peak = w.peak;
                c.mdd = w.mdd;
                c.peak_day = w.peak_day;
                c.max_dur = w.max_dur;
                eq = sh * mk->close[stop - 1];
                c.prev = eq;
                t = stop;
            }
            for (; t < stop; t++) {
                eq = s.cash + s.shares * mk->close[t];
                if (equity)
                    equity[t] = eq;
                curve_bar(&c, eq, mk->day[t], false);
            }
        } else {
            const int8_t *end = !bits && binary ? memchr(from, 1, n - t) : NULL;
            size_t skip;
            stop = bits     ? bits_find(bits, t - lag, n - lag, 1) + lag
                   : binary ? (end ? t + (size_t)(end - from) : n)
                            : t + run_len(from, n - t, 0);
            skip = stop - t;
            if (skip > 0) {
                /* flat and staying flat: equity and peak do not move and a zero return adds
                 * exactly nothing to the sums; only the downside term and the averages see
                 * these bars */
                double ex = -c.rf_d;
                c.nret += skip;
                c.sum_down2 += ex < 0 ? (double)skip * ex * ex : 0.0;
                c.sum_eq += (double)skip * eq;
                if (eq < c.peak && mk->day[stop - 1] - c.peak_day > c.max_dur)
                    c.max_dur = mk->day[stop - 1] - c.peak_day;
                else if (eq >= c.peak)
                    c.peak_day = mk->day[stop - 1];   /* each bar at the peak is its new date */
                for (size_t k = t; equity != NULL && k < stop; k++)
                    equity[k] = eq;
                t = stop;
            }
        }
    }
    if (ntrades)
        *ntrades = s.ntrades;
    if (trades != NULL && s.shares != 0 && s.ntrades < max_trades)
        eq__open_trade(&s, n ? mk->close[n - 1] : NAN, &trades[(*ntrades)++]);
    {
        struct trade_stats ts = {.closed = s.closed, .wins = s.wins, .gross_win = s.gross_win,
                                 .gross_loss = s.gross_loss, .sum_ret = s.sum_trade_ret,
                                 .traded = s.traded_notional};
        metrics_fill(&c, eq, p->initial_capital, n, &ts, m);
    }
    eq_prefix_release(&own);
}

void
eq_simulate(const struct eq_market *mk, const int8_t *target, const struct eq_sim_params *p,
            struct eq_metrics *m, double *equity, struct eq_trade *trades, size_t max_trades,
            size_t *ntrades)
{
    simulate_core(mk, target, NULL, p, m, equity, trades, max_trades, ntrades, false);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* simulate_bits compiled for AVX2 (the same C, the same IEEE operations: no FMA is enabled). */
__attribute__((target("avx2"), flatten)) static void
simulate_bits_avx2(const struct eq_market *mk, const uint64_t *bits,
                   const struct eq_sim_params *p, struct eq_metrics *m)
{
    simulate_core(mk, NULL, bits, p, m, NULL, NULL, 0, NULL, true);
}
#endif

/* eq_simulate of a long-only run whose targets are bits; no curve, no trades. */
static void
simulate_bits(const struct eq_market *mk, const uint64_t *bits, const struct eq_sim_params *p,
              struct eq_metrics *m, bool avx2)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (avx2) {
        simulate_bits_avx2(mk, bits, p, m);
        return;
    }
#endif
    (void)avx2;
    simulate_core(mk, NULL, bits, p, m, NULL, NULL, 0, NULL, false);
}

void
eq_curve_metrics(const int32_t *day, const double *equity, const uint8_t *held, size_t n,
                 double initial, const struct eq_trade *trades, size_t ntrades,
                 double risk_free_rate, struct eq_metrics *m)
{
    struct curve c = {.prev = initial, .peak = initial,
                      .rf_d = pow(1.0 + risk_free_rate, 1.0 / 252.0) - 1.0,
                      .peak_day = n ? day[0] : 0};
    struct trade_stats ts = {0};
    double eq = initial;

    for (size_t t = 0; t < n; t++) {
        eq = equity[t];
        c.held += held[t] != 0;
        curve_bar(&c, eq, day[t], t == 0);
    }
    for (size_t k = 0; k < ntrades; k++) {
        double size = fabs(trades[k].size);
        ts.traded += size * trades[k].entry_price;
        if (trades[k].exit_day < 0)
            continue;
        ts.traded += size * trades[k].exit_price;
        ts.closed++;
        if (trades[k].pnl > 0) {
            ts.wins++;
            ts.gross_win += trades[k].pnl;
        } else {
            ts.gross_loss -= trades[k].pnl;
        }
        ts.sum_ret += trades[k].pnl / trades[k].cost;
    }
    metrics_fill(&c, eq, initial, n, &ts, m);
}

/* ---- ticks and crossovers ---- */

enum qd_code
eq_ticks_init(struct eq_ticks *t, const double *close, size_t n, struct qd_err *err)
{
    static const double scales[] = {1e2, 1e4, 1e6, 1e8};

    memset(t, 0, sizeof(*t));
    for (size_t k = 0; k < sizeof(scales) / sizeof(scales[0]); k++) {
        double sc = scales[k];
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            double v = close[i] * sc, r = nearbyint(v);
            /* the close is exactly a whole number of ticks (and prefix sums stay far from
             * int64 limits; cross products are taken in 128 bits) */
            ok = fabs(r) < 1e13 && r / sc == close[i] && fabs(v - r) < 0.5;
        }
        if (!ok)
            continue;
        t->prefix = malloc((n + 1) * sizeof(*t->prefix));
        if (t->prefix == NULL)
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        t->prefix[0] = 0;
        for (size_t i = 0; i < n; i++)
            t->prefix[i + 1] = t->prefix[i] + (int64_t)nearbyint(close[i] * sc);
        t->n = n;
        t->scale = sc;
        return QD_OK;
    }
    return qd_err_set(err, QD_EINVAL,
                      "prices have more than 8 decimals or are too large for exact averages");
}

void
eq_ticks_release(struct eq_ticks *t)
{
    free(t->prefix);
    t->prefix = NULL;
}

/* sign(SMA_fast - SMA_slow) at bar i, exactly: sign(sum_fast * slow - sum_slow * fast). */
static inline int
cross_sign(const int64_t *pre, size_t i, unsigned fast, unsigned slow)
{
    __int128 sf = pre[i + 1] - pre[i + 1 - fast], ss = pre[i + 1] - pre[i + 1 - slow];
    __int128 d = sf * (__int128)slow - ss * (__int128)fast;

    return (d > 0) - (d < 0);
}

/* The crossover state, written without branches: once a first cross has happened the position
 * is simply "the last non-zero sign was up"; before it, flat. So: forward-fill the non-zero
 * signs, find the first bar whose filled sign differs from the first non-zero one (the first
 * cross), and zero what precedes it. Equivalent to the event-by-event rule in
 * eq_sma_cross_targets' header, and verified against it in tests. */
#define CROSS_FILL(SIGN_EXPR)                                                                     \
    do {                                                                                          \
        int last = 0, first_sign = 0;                                                             \
        size_t cross = n;                                                                         \
        memset(target, 0, first < n ? first : n);                                                 \
        for (size_t i = first; i < n; i++) {                                                      \
            int sg = (SIGN_EXPR);                                                                 \
            last = sg != 0 ? sg : last;                                                           \
            target[i] = last > 0 ? 1 : down;                                                      \
        }                                                                                         \
        for (size_t i = first; i < n; i++) {                                                      \
            int sg = (SIGN_EXPR);                                                                 \
            if (sg != 0 && first_sign == 0)                                                       \
                first_sign = sg;                                                                  \
            else if (sg != 0 && sg != first_sign) {                                               \
                cross = i;                                                                        \
                break;                                                                            \
            }                                                                                     \
        }                                                                                         \
        memset(target + (first < n ? first : n), 0, (cross < n ? cross : n) - (first < n ? first : n)); \
    } while (0)

void
eq_sma_cross_targets(const struct eq_ticks *t, unsigned fast, unsigned slow, int8_t down,
                     int8_t *target)
{
    size_t n = t->n, first = (fast > slow ? fast : slow) - 1;

    CROSS_FILL(cross_sign(t->prefix, i, fast, slow));
}

/* The same from the prefix sums of the closes in ticks, as doubles: the sum of the last w closes
 * at bar i is hi[i] - lo_w[i], with hi = pd + 1 and lo_w = pd + 1 - w (pd[j] = sum of the
 * closes before bar j, 0 for j <= 0). The caller checked that every prefix and every sum times
 * a window stay below 2^53, so the differences and the cross products are exact in double.
 * Without exact ties the rule reduces to: flat until the first change of sign, then long
 * exactly where fast > slow; that is one elementwise pass the compiler vectorizes. A tie
 * anywhere sends the series through the event-by-event rule instead. */
static void
cross_targets_sums(const double *restrict hi, const double *restrict lf, const double *restrict ls,
                   size_t n, unsigned fast, unsigned slow, int8_t down, int8_t *restrict target)
{
    size_t first = (fast > slow ? fast : slow) - 1, at;
    double a = slow, b = fast;
    int ties = 0;
    const int8_t *other;

    if (first >= n) {
        memset(target, 0, n);
        return;
    }
    memset(target, 0, first);
    at = first;
#if defined(__SSE2__)
    {
        /* two bars per step; the same products and comparisons as the scalar loop */
        __m128d va = _mm_set1_pd(a), vb = _mm_set1_pd(b), eq = _mm_setzero_pd();
        for (; at + 2 <= n; at += 2) {
            __m128d h = _mm_loadu_pd(hi + at);
            __m128d x = _mm_mul_pd(_mm_sub_pd(h, _mm_loadu_pd(lf + at)), va);
            __m128d y = _mm_mul_pd(_mm_sub_pd(h, _mm_loadu_pd(ls + at)), vb);
            int gt = _mm_movemask_pd(_mm_cmpgt_pd(x, y));
            eq = _mm_or_pd(eq, _mm_cmpeq_pd(x, y));
            target[at] = (gt & 1) ? 1 : down;
            target[at + 1] = (gt & 2) ? 1 : down;
        }
        ties |= _mm_movemask_pd(eq);
    }
#endif
    for (; at < n; at++) {
        double x = (hi[at] - lf[at]) * a, y = (hi[at] - ls[at]) * b;
        target[at] = (int8_t)((x > y) * (1 - down) + down);   /* 1 above, else down */
        ties |= x == y;
    }
    if (ties) {
        CROSS_FILL(((hi[i] - lf[i]) * a > (hi[i] - ls[i]) * b) -
                   ((hi[i] - lf[i]) * a < (hi[i] - ls[i]) * b));
        return;
    }
    other = memchr(target + first, target[first] == 1 ? down : 1, n - first);
    at = other ? (size_t)(other - target) : n;
    memset(target + first, 0, at - first);
}

/* Bits of word w (bars 64w .. 64w+63) that are bars in [first, n). */
static inline uint64_t
valid_bits(size_t w, size_t first, size_t n)
{
    uint64_t m = ~UINT64_C(0);
    size_t lo = w << 6;

    if (first > lo)
        m = first - lo >= 64 ? 0 : m << (first - lo);
    if (n < lo + 64)
        m &= n <= lo ? 0 : ~UINT64_C(0) >> (64 - (n - lo));
    return m;
}

/* Exact ties (fast sum * a == slow sum * b) among the bars of word w that count. */
static uint64_t
tie_bits(const double *hi, const double *lf, const double *ls, size_t w, double a, double b,
         uint64_t valid)
{
    uint64_t eq = 0;

    for (size_t i = w << 6; i < (w << 6) + 64; i++)
        eq |= (uint64_t)((hi[i] - lf[i]) * a == (hi[i] - ls[i]) * b) << (i & 63);
    return eq & valid;
}

/* bits[w] = "fast above slow" (fast sum * a > slow sum * b) and ties[w] = "exactly equal" for the bars in
 * [first, n), 0 elsewhere; the rows hold nw * 64 values (zero padded). Returns whether some
 * counted bar is an exact tie. The products and comparisons are those of cross_targets_sums. */
static bool
cross_bits_generic(const double *restrict hi, const double *restrict lf,
                   const double *restrict ls, size_t n, size_t nw, size_t first, double a,
                   double b, uint64_t *restrict bits, uint64_t *restrict ties)
{
    uint64_t any = 0;

    for (size_t w = 0; w < nw; w++) {
        uint64_t gt = 0, valid = valid_bits(w, first, n);
        for (size_t i = w << 6; i < (w << 6) + 64; i++)
            gt |= (uint64_t)((hi[i] - lf[i]) * a > (hi[i] - ls[i]) * b) << (i & 63);
        bits[w] = gt & valid;
        ties[w] = valid ? tie_bits(hi, lf, ls, w, a, b, valid) : 0;
        any |= ties[w];
    }
    return any != 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same with AVX2, four bars per step (chosen at run time: eq_sma_sweep_pairs). The
 * multiplications and ordered comparisons are the IEEE operations of the generic loop, so the
 * bits are the same; ties are noticed per word and then located exactly. */
__attribute__((target("avx2"))) static bool
cross_bits_avx2(const double *restrict hi, const double *restrict lf, const double *restrict ls,
                size_t n, size_t nw, size_t first, double a, double b, uint64_t *restrict bits,
                uint64_t *restrict ties)
{
    __m256d va = _mm256_set1_pd(a), vb = _mm256_set1_pd(b);
    uint64_t any = 0;

    for (size_t w = 0; w < nw; w++) {
        const double *h0 = hi + (w << 6), *f0 = lf + (w << 6), *s0 = ls + (w << 6);
        uint64_t gt = 0, valid = valid_bits(w, first, n);
        __m256d eq = _mm256_setzero_pd();
#define CROSS4(j, dst)                                                                            \
    do {                                                                                          \
        __m256d h_ = _mm256_loadu_pd(h0 + (j));                                                   \
        __m256d x_ = _mm256_mul_pd(_mm256_sub_pd(h_, _mm256_loadu_pd(f0 + (j))), va);             \
        __m256d y_ = _mm256_mul_pd(_mm256_sub_pd(h_, _mm256_loadu_pd(s0 + (j))), vb);             \
        dst = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(x_, y_, _CMP_GT_OQ));                    \
        eq = _mm256_or_pd(eq, _mm256_cmp_pd(x_, y_, _CMP_EQ_OQ));                                 \
    } while (0)
        /* sixteen bars per step, their four masks joined before they go into the word */
        for (unsigned j = 0; j < 64; j += 16) {
            unsigned m0, m1, m2, m3;
            CROSS4(j, m0);
            CROSS4(j + 4, m1);
            CROSS4(j + 8, m2);
            CROSS4(j + 12, m3);
            gt |= (uint64_t)(m0 | m1 << 4 | m2 << 8 | m3 << 12) << j;
        }
#undef CROSS4
        bits[w] = gt & valid;
        ties[w] = valid && _mm256_movemask_pd(eq) != 0 ? tie_bits(hi, lf, ls, w, a, b, valid) : 0;
        any |= ties[w];
    }
    return any != 0;
}

/* The same on 32-bit integers, eight bars per step, when every prefix and every product fits
 * (sweep_prefix checks): the sums in ticks and their products are then the same exact
 * integers as in double, so the comparisons give the same bits, twice as many per
 * instruction. Ties are located with the double sums (the same values). */
__attribute__((target("avx2"))) static bool
cross_bits_i32(const int32_t *restrict hi, const int32_t *restrict lf, const int32_t *restrict ls,
               const double *dhi, const double *dlf, const double *dls, size_t n, size_t nw,
               size_t first, int32_t a, int32_t b, uint64_t *restrict bits,
               uint64_t *restrict ties)
{
    __m256i va = _mm256_set1_epi32(a), vb = _mm256_set1_epi32(b);
    uint64_t any = 0;

    for (size_t w = 0; w < nw; w++) {
        const int32_t *h0 = hi + (w << 6), *f0 = lf + (w << 6), *s0 = ls + (w << 6);
        uint64_t gt = 0, valid = valid_bits(w, first, n);
        __m256i eq = _mm256_setzero_si256();
        for (unsigned j = 0; j < 64; j += 8) {
            __m256i h = _mm256_loadu_si256((const __m256i *)(h0 + j));
            __m256i x = _mm256_mullo_epi32(
                _mm256_sub_epi32(h, _mm256_loadu_si256((const __m256i *)(f0 + j))), va);
            __m256i y = _mm256_mullo_epi32(
                _mm256_sub_epi32(h, _mm256_loadu_si256((const __m256i *)(s0 + j))), vb);
            gt |= (uint64_t)(unsigned)_mm256_movemask_ps(
                      _mm256_castsi256_ps(_mm256_cmpgt_epi32(x, y)))
                  << j;
            eq = _mm256_or_si256(eq, _mm256_cmpeq_epi32(x, y));
        }
        bits[w] = gt & valid;
        ties[w] = valid && !_mm256_testz_si256(eq, eq)
                      ? tie_bits(dhi, dlf, dls, w, (double)a, (double)b, valid)
                      : 0;
        any |= ties[w];
    }
    return any != 0;
}
#endif

typedef bool cross_bits_fn(const double *restrict hi, const double *restrict lf,
                           const double *restrict ls, size_t n, size_t nw, size_t first, double a,
                           double b, uint64_t *restrict bits, uint64_t *restrict ties);

/* The crossover rule on bits: a tie keeps the side of the bar before it (the last non-zero
 * sign), bar by bar in order, across words. Ties are rare: only their bits are visited. */
static void
fill_ties(uint64_t *bits, const uint64_t *ties, size_t nw)
{
    for (size_t w = 0; w < nw; w++) {
        uint64_t tm = ties[w], b = bits[w];
        if (tm == 0)
            continue;
        while (tm != 0) {
            unsigned j = (unsigned)__builtin_ctzll(tm);
            uint64_t prev = j ? b >> (j - 1) & 1 : w ? bits[w - 1] >> 63 : 0;
            b |= prev << j;
            tm &= tm - 1;
        }
        bits[w] = b;
    }
}

struct sweep {
    const struct eq_market     *mk;
    const struct eq_ticks      *t;
    const struct eq_sim_params *p;
    struct eq_metrics          *out;
    const unsigned             *pairs;      /* (fast, slow) per grid index */
    size_t                      npairs;
    double                     *pd_mem;     /* the prefix sums below, or NULL */
    int32_t                    *pi_mem;     /* the same in 32 bits when they fit, or NULL */
    const int32_t              *pi;
    const double               *pd;         /* pd[j], -maxw <= j <= stride: see cross_targets_sums */
    size_t                      stride;     /* n rounded up to 64: the bits' words */
    cross_bits_fn              *cross_bits;
    bool                        avx2;       /* the CPU has AVX2: the kernels above use it */
};

/* One grid point; scratch holds n target bytes, then the target bits, then the tie bits. */
static void
sweep_point(void *ctx, size_t k, void *scratch)
{
    struct sweep *sw = ctx;
    size_t n = sw->mk->n, nw = sw->stride / 64;
    int8_t *target = scratch;
    uint64_t *bits = (uint64_t *)((char *)scratch + sw->stride), *ties = bits + nw;
    unsigned f = sw->pairs[2 * k], sl = sw->pairs[2 * k + 1];
    const double *hi, *lf, *ls;

    if (sw->pd == NULL) {
        eq_sma_cross_targets(sw->t, f, sl, sw->p->long_short ? -1 : 0, target);
        eq_simulate(sw->mk, target, sw->p, &sw->out[k], NULL, NULL, 0, NULL);
        return;
    }
    hi = sw->pd + 1;
    lf = sw->pd + 1 - f;
    ls = sw->pd + 1 - sl;
    if (!sw->p->long_short) {
        /* long only: the targets as bits. Long where fast > slow, a tie keeping the side
         * before it; flat until the first change of side after the first non-tie bar i0. */
        size_t first = (f > sl ? f : sl) - 1, i0 = first;
        if (first < n) {
            bool any_tie;
#if defined(__x86_64__) && defined(__GNUC__)
            if (sw->pi != NULL)
                any_tie = cross_bits_i32(sw->pi + 1, sw->pi + 1 - f, sw->pi + 1 - sl, hi, lf, ls,
                                         n, nw, first, (int32_t)sl, (int32_t)f, bits, ties);
            else
#endif
                any_tie = sw->cross_bits(hi, lf, ls, n, nw, first, sl, f, bits, ties);
            if (any_tie) {
                fill_ties(bits, ties, nw);
                i0 = bits_find(ties, first, n, 0);
            }
            if (i0 < n && (bits[i0 >> 6] >> (i0 & 63) & 1)) {
                size_t cross = bits_find(bits, i0, n, 0);
                for (size_t i = first; i < cross; i++)
                    bits[i >> 6] &= ~(UINT64_C(1) << (i & 63));
            }
        } else {
            memset(bits, 0, nw * sizeof(*bits));
        }
        simulate_bits(sw->mk, bits, sw->p, &sw->out[k], sw->avx2);
        return;
    }
    cross_targets_sums(hi, lf, ls, n, f, sl, sw->p->long_short ? -1 : 0, target);
    eq_simulate(sw->mk, target, sw->p, &sw->out[k], NULL, NULL, 0, NULL);
}

/* The closes' prefix sums in ticks as doubles, when every prefix and every window's sum times a
 * window stay below 2^53 (then the sums and their cross products are exact); otherwise pd stays
 * NULL and the 128-bit path is used. pd[j] for -maxw <= j <= stride: 0 up to j = 0, constant
 * after n, so that every grid point reads whole 64-bar words without bounds checks. A few
 * tens of kB shared by every grid point: it stays in cache. */
static void
sweep_prefix(struct sweep *sw, unsigned maxw)
{
    size_t n = sw->mk->n;
    int64_t maxabs = 0, total = 0;
    double *pd;

    for (size_t i = 0; i < n; i++) {
        int64_t v = sw->t->prefix[i + 1] - sw->t->prefix[i];
        maxabs = v > maxabs ? v : -v > maxabs ? -v : maxabs;
        total += total < (INT64_C(1) << 53) ? (v < 0 ? -v : v) : 0;   /* saturates: no overflow */
    }
    if (maxabs >= (INT64_C(1) << 53) / ((int64_t)maxw * maxw + 1) || total >= INT64_C(1) << 53)
        return;
    sw->pd_mem = malloc((maxw + sw->stride + 1) * sizeof(double));
    if (sw->pd_mem == NULL)
        return;
    pd = sw->pd_mem + maxw;
    for (size_t j = 0; j <= maxw; j++)
        sw->pd_mem[j] = 0;
    for (size_t j = 1; j <= sw->stride; j++)
        pd[j] = (double)sw->t->prefix[j <= n ? j : n];
    sw->pd = pd;
#if defined(__x86_64__) && defined(__GNUC__)
    /* and in 32 bits, for cross_bits_i32: when every |prefix| and every |window sum| times a
     * window stays below 2^31 (the prefix of absolute values bounds both) */
    if (sw->avx2 && total < INT32_MAX &&
        maxabs < INT32_MAX / ((int64_t)maxw * maxw + 1)) {
        int32_t *pi;
        sw->pi_mem = malloc((maxw + sw->stride + 1) * sizeof(int32_t));
        if (sw->pi_mem == NULL)
            return;
        pi = sw->pi_mem + maxw;
        for (size_t j = 0; j <= maxw; j++)
            sw->pi_mem[j] = 0;
        for (size_t j = 1; j <= sw->stride; j++)
            pi[j] = (int32_t)sw->t->prefix[j <= n ? j : n];
        sw->pi = pi;
    }
#endif
}

enum qd_code
eq_sma_sweep_pairs(const struct eq_market *mk, const struct eq_ticks *t, const unsigned *pairs,
                   size_t npairs, const struct eq_sim_params *p, unsigned threads,
                   eq_stop_fn *stop, void *stop_arg, struct eq_metrics *out, struct qd_err *err)
{
    struct sweep sw = {.mk = mk, .t = t, .p = p, .out = out, .pairs = pairs, .npairs = npairs,
                       .stride = (mk->n + 64) & ~(size_t)63, .cross_bits = cross_bits_generic};
    enum qd_code rc;
    unsigned maxw = 0;

    if (t->n != mk->n)
        return qd_err_set(err, QD_EINVAL, "ticks and market differ in length");
    for (size_t k = 0; k < 2 * npairs; k++) {
        if (pairs[k] < 1 || pairs[k] > 100000)
            return qd_err_set(err, QD_EINVAL, "window %u out of range", pairs[k]);
        maxw = pairs[k] > maxw ? pairs[k] : maxw;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) {
        sw.cross_bits = cross_bits_avx2;
        sw.avx2 = true;
    }
#endif
    sweep_prefix(&sw, maxw);
    {
        /* one set of prefix sums for every grid point */
        struct eq_prefix pre;
        struct eq_market shared = *mk;
        if (mk->prefix == NULL && eq_prefix_init(&pre, mk, p->risk_free_rate, NULL) == QD_OK) {
            shared.prefix = &pre;
            sw.mk = &shared;
            rc = eq_parallel_for(npairs, threads, sw.stride + sw.stride / 4, sweep_point, &sw,
                                 stop, stop_arg, err);
            eq_prefix_release(&pre);
        } else {
            rc = eq_parallel_for(npairs, threads, sw.stride + sw.stride / 4, sweep_point, &sw,
                                 stop, stop_arg, err);
        }
    }
    free(sw.pd_mem);
    free(sw.pi_mem);
    return rc;
}

size_t
eq_sma_grid_size(unsigned lo, unsigned hi)
{
    size_t k = hi >= lo ? hi - lo + 1 : 0;

    return k * (k - (k > 0)) / 2;
}

enum qd_code
eq_sma_sweep(const struct eq_market *mk, const struct eq_ticks *t, unsigned lo, unsigned hi,
             const struct eq_sim_params *p, unsigned threads, eq_stop_fn *stop, void *stop_arg,
             struct eq_metrics *out, struct qd_err *err)
{
    size_t npairs = eq_sma_grid_size(lo, hi), k = 0;
    unsigned *pairs;
    enum qd_code rc;

    if (lo < 1 || hi < lo)
        return qd_err_set(err, QD_EINVAL, "bad grid");
    pairs = malloc(2 * npairs * sizeof(*pairs) + 1);
    if (pairs == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    for (unsigned f = lo; f <= hi; f++)
        for (unsigned s = f + 1; s <= hi; s++) {
            pairs[2 * k] = f;
            pairs[2 * k + 1] = s;
            k++;
        }
    rc = eq_sma_sweep_pairs(mk, t, pairs, npairs, p, threads, stop, stop_arg, out, err);
    free(pairs);
    return rc;
}
