/*
 * equity_backtest: the seed's equity_backtest_flow. Reads a symbol's bars, runs every strategy
 * config, and every point of its parameter grid, through engines/equity.c, and records each as
 * a run of the named experiment (params as flat dotted keys, the DESIGN §7 metrics); the best
 * K runs of each config (and every single run) keep their equity curve and trades.
 *
 * This first version does what the engine does today: one symbol, the momentum.sma_crossover
 * strategy, all-in sizing, long only. Other strategies, sizing modes, long_short and
 * portfolios of several symbols are refused with a message naming the parameter (issue 4 goes
 * on). Worker thread.
 */
#define _GNU_SOURCE
#include "common/date.h"
#include "common/log.h"
#include "core/bar.h"
#include "core/symbol.h"
#include "engines/equity.h"
#include "engines/portfolio.h"
#include "engines/strategy.h"
#include "jobs/job.h"
#include "storage/bars_db.h"
#include "storage/pg.h"
#include "storage/runs_db.h"
#include "jobs/macro_inputs.h"

#include <openssl/evp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QD_LOG_MODULE "backtest"
#define ENGINE_VERSION "equity-0.1"
#define MAX_GRID 200000
#define MAX_WINDOW 5000
#define MAX_SLEEVES 50
#define MAX_KEPT_TRADES 20000

job_validate_fn equity_backtest_validate;
job_run_fn equity_backtest_run;

/* ---- parameter grids: a number, a list of numbers, or {"start","stop","step"} ---- */

struct num_list {
    double *v;
    size_t  n;
};

static enum qd_code
num_grid(const json_t *v, const char *field, double min, double max, bool integer,
         struct num_list *out, struct qd_err *err)
{
    size_t i;
    const json_t *e;

    out->v = NULL;
    out->n = 0;
#define NUM_OK(x) (json_is_number(x) && json_number_value(x) >= min &&                           \
                   json_number_value(x) <= max &&                                                \
                   (!integer || json_is_integer(x)))
    if (json_is_number(v)) {
        if (!NUM_OK(v))
            return qd_err_field(err, QD_EINVAL, field, "must be %s from %g to %g",
                                integer ? "an integer" : "a number", min, max);
        out->v = malloc(sizeof(double));
        out->v[out->n++] = json_number_value(v);
        return QD_OK;
    }
    if (json_is_array(v)) {
        if (json_array_size(v) == 0 || json_array_size(v) > MAX_WINDOW)
            return qd_err_field(err, QD_EINVAL, field, "a list needs 1 to %d values", MAX_WINDOW);
        out->v = malloc(json_array_size(v) * sizeof(double));
        json_array_foreach(v, i, e)
        {
            if (!NUM_OK(e)) {
                free(out->v);
                out->v = NULL;
                return qd_err_field(err, QD_EINVAL, field, "list values must be %s from %g to %g",
                                    integer ? "integers" : "numbers", min, max);
            }
            out->v[out->n++] = json_number_value(e);
        }
        return QD_OK;
    }
    if (json_is_object(v)) {
        const json_t *a = json_object_get(v, "start"), *b = json_object_get(v, "stop"),
                     *st = json_object_get(v, "step");
        double lo, hi, step;
        size_t count;
        if (!NUM_OK(a) || !NUM_OK(b) || (st && !(json_is_number(st) && json_number_value(st) > 0 &&
                                                 (!integer || json_is_integer(st)))) ||
            json_object_size(v) != 2u + (st != NULL))
            return qd_err_field(err, QD_EINVAL, field,
                                "a range is {\"start\", \"stop\", \"step\"} with %s from %g to %g",
                                integer ? "integers" : "numbers", min, max);
        lo = json_number_value(a);
        hi = json_number_value(b);
        step = st ? json_number_value(st) : 1;
        if (lo > hi)
            return qd_err_field(err, QD_EINVAL, field, "range start is after its stop");
        count = (size_t)floor((hi - lo) / step + 1e-9) + 1;
        if (count > MAX_WINDOW)
            return qd_err_field(err, QD_EINVAL, field, "a range has at most %d values",
                                MAX_WINDOW);
        out->v = malloc(count * sizeof(double));
        for (size_t k = 0; k < count; k++)
            out->v[out->n++] = lo + (double)k * step;   /* stop inclusive */
        return QD_OK;
    }
#undef NUM_OK
    return qd_err_field(err, QD_EINVAL, field,
                        "must be a number, a list of numbers or a range {start, stop, step}");
}

/* One grid dimension: a flat dotted key and its values. */
struct dim {
    char            key[64];
    struct num_list vals;
};

struct config_grid {
    const char         *name;
    struct eq_strategy  base;       /* which rules are on */
    struct dim          dims[8];
    unsigned            ndims;
    struct eq_strategy *pts;        /* expanded, invalid points skipped */
    double             *vals;       /* npts * ndims: each point's dimension values */
    size_t              npts;
    bool                sma_only;
};

static void
config_grid_release(struct config_grid *g)
{
    for (unsigned i = 0; i < g->ndims; i++)
        free(g->dims[i].vals.v);
    free(g->pts);
    free(g->vals);
    memset(g, 0, sizeof(*g));
}

static enum qd_code
add_dim(struct config_grid *g, const json_t *obj, const char *key, const char *prefix,
        const char *field, double min, double max, bool integer, const json_t *def,
        struct qd_err *err)
{
    const json_t *v = json_object_get(obj, key);
    char fld[192];
    struct dim *d = &g->dims[g->ndims];

    snprintf(fld, sizeof(fld), "%s.%s.%s", field, prefix, key);
    if (v == NULL)
        v = def;
    if (v == NULL)
        return qd_err_field(err, QD_EINVAL, fld, "%s is required", key);
    snprintf(d->key, sizeof(d->key), "%s.%s", prefix, key);
    if (num_grid(v, fld, min, max, integer, &d->vals, err) != QD_OK)
        return QD_EINVAL;
    g->ndims++;
    return QD_OK;
}

static enum qd_code
only_keys(const json_t *obj, const char *const *keys, const char *field, const char *what,
          struct qd_err *err)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;
        for (const char *const *p = keys; *p; p++)
            ok |= strcmp(*p, k) == 0;
        if (!ok) {
            char fld[192];
            snprintf(fld, sizeof(fld), "%s.%s", field, k);
            return qd_err_field(err, QD_EINVAL, fld, "%s \"%s\" is not supported", what, k);
        }
    }
    return QD_OK;
}

/* Parses a strategy config into its grid of points (cartesian product of every numeric
 * parameter given as a list or range; invalid points such as fast >= slow skipped). */
static enum qd_code
config_grid(const json_t *cfg, const char *field, struct config_grid *g, struct qd_err *err)
{
    static const char *const top[] = {"name", "momentum", "mean_reversion", "regime_aware", NULL};
    static const char *const mom[] = {"sma_crossover", "rsi", NULL};
    static const char *const mr[] = {"bollinger_bands", NULL};
    static const char *const ra[] = {"trend_filter", "risk_regime_filter", NULL};
    const json_t *m = json_object_get(cfg, "momentum"), *r = json_object_get(cfg, "mean_reversion");
    const json_t *ra_o = json_object_get(cfg, "regime_aware"), *o, *tf;
    char fld[160];
    size_t total = 1;
    enum qd_code rc;

    memset(g, 0, sizeof(*g));
    g->name = json_string_value(json_object_get(cfg, "name"));
    if ((rc = only_keys(cfg, top, field, "strategy family", err)) != QD_OK)
        return rc;
    snprintf(fld, sizeof(fld), "%s.momentum", field);
    if (m != NULL && (rc = only_keys(m, mom, fld, "momentum strategy", err)) != QD_OK)
        return rc;
    snprintf(fld, sizeof(fld), "%s.mean_reversion", field);
    if (r != NULL && (rc = only_keys(r, mr, fld, "mean-reversion strategy", err)) != QD_OK)
        return rc;
    snprintf(fld, sizeof(fld), "%s.regime_aware", field);
    if (ra_o != NULL && (rc = only_keys(ra_o, ra, fld, "regime filter", err)) != QD_OK)
        return rc;
    if ((o = json_object_get(m, "sma_crossover")) != NULL) {
        static const char *const k[] = {"fast", "slow", NULL};
        snprintf(fld, sizeof(fld), "%s.momentum.sma_crossover", field);
        if ((rc = only_keys(o, k, fld, "parameter", err)) ||
            (rc = add_dim(g, o, "fast", "momentum.sma_crossover", field, 1, MAX_WINDOW, true, NULL,
                          err)) ||
            (rc = add_dim(g, o, "slow", "momentum.sma_crossover", field, 2, MAX_WINDOW, true, NULL,
                          err)))
            return rc;
        g->base.sma = true;
    }
    if ((o = json_object_get(m, "rsi")) != NULL) {
        static const char *const k[] = {"period", "overbought", "oversold", NULL};
        json_t *d70 = json_real(70), *d30 = json_real(30), *d14 = json_integer(14);
        snprintf(fld, sizeof(fld), "%s.momentum.rsi", field);
        rc = only_keys(o, k, fld, "parameter", err);
        if (rc == QD_OK)
            rc = add_dim(g, o, "period", "momentum.rsi", field, 2, MAX_WINDOW, true, d14, err);
        if (rc == QD_OK)
            rc = add_dim(g, o, "overbought", "momentum.rsi", field, 0, 100, false, d70, err);
        if (rc == QD_OK)
            rc = add_dim(g, o, "oversold", "momentum.rsi", field, 0, 100, false, d30, err);
        json_decref(d70);
        json_decref(d30);
        json_decref(d14);
        if (rc != QD_OK)
            return rc;
        g->base.rsi = true;
    }
    if ((o = json_object_get(r, "bollinger_bands")) != NULL) {
        static const char *const k[] = {"period", "std", NULL};
        json_t *d20 = json_integer(20), *d2 = json_real(2);
        snprintf(fld, sizeof(fld), "%s.mean_reversion.bollinger_bands", field);
        rc = only_keys(o, k, fld, "parameter", err);
        if (rc == QD_OK)
            rc = add_dim(g, o, "period", "mean_reversion.bollinger_bands", field, 2, MAX_WINDOW,
                         true, d20, err);
        if (rc == QD_OK)
            rc = add_dim(g, o, "std", "mean_reversion.bollinger_bands", field, 0.1, 10, false, d2,
                         err);
        json_decref(d20);
        json_decref(d2);
        if (rc != QD_OK)
            return rc;
        g->base.bb = true;
    }
    if ((tf = json_object_get(ra_o, "trend_filter")) != NULL && !json_is_false(tf)) {
        json_t *d200 = json_integer(200), *none = json_object();
        snprintf(fld, sizeof(fld), "%s.regime_aware.trend_filter", field);
        if (json_is_true(tf))
            rc = add_dim(g, none, "window", "regime_aware.trend_filter", field, 2, MAX_WINDOW,
                         true, d200, err);
        else if (json_is_object(tf)) {
            static const char *const k[] = {"window", NULL};
            rc = only_keys(tf, k, fld, "parameter", err);
            if (rc == QD_OK)
                rc = add_dim(g, tf, "window", "regime_aware.trend_filter", field, 2, MAX_WINDOW,
                             true, d200, err);
        } else
            rc = qd_err_field(err, QD_EINVAL, fld, "trend_filter is true, false or {\"window\"}");
        json_decref(d200);
        json_decref(none);
        if (rc != QD_OK)
            return rc;
        g->base.trend = true;
    }
    if ((o = json_object_get(ra_o, "risk_regime_filter")) != NULL) {
        static const char *const k[] = {"max_level", NULL};
        json_t *d2 = json_integer(2);
        snprintf(fld, sizeof(fld), "%s.regime_aware.risk_regime_filter", field);
        if (!json_is_object(o))
            rc = qd_err_field(err, QD_EINVAL, fld, "risk_regime_filter is {\"max_level\": 0-3}");
        if (rc == QD_OK)
            rc = only_keys(o, k, fld, "parameter", err);
        if (rc == QD_OK)
            rc = add_dim(g, o, "max_level", "regime_aware.risk_regime_filter", field, 0, 3, true,
                         d2, err);
        json_decref(d2);
        if (rc != QD_OK)
            return rc;
        g->base.risk = true;
    }
    if (!g->base.sma && !g->base.rsi && !g->base.bb)
        return qd_err_field(err, QD_EINVAL, field,
                            "a strategy needs a rule: momentum.sma_crossover, momentum.rsi or "
                            "mean_reversion.bollinger_bands");
    for (unsigned i = 0; i < g->ndims; i++)
        total *= g->dims[i].vals.n;
    if (total > MAX_GRID)
        return qd_err_field(err, QD_EINVAL, field, "the grid has more than %d points", MAX_GRID);
    g->pts = malloc(total * sizeof(*g->pts));
    g->vals = malloc(total * g->ndims * sizeof(double) + 1);
    if (g->pts == NULL || g->vals == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    for (size_t k = 0; k < total; k++) {
        struct eq_strategy s = g->base;
        size_t rest = k;
        double *v = g->vals + g->npts * g->ndims;
        for (unsigned i = g->ndims; i-- > 0;) {   /* last dimension varies fastest */
            v[i] = g->dims[i].vals.v[rest % g->dims[i].vals.n];
            rest /= g->dims[i].vals.n;
        }
        for (unsigned i = 0; i < g->ndims; i++) {
            const char *key = g->dims[i].key;
            if (strcmp(key, "momentum.sma_crossover.fast") == 0)
                s.fast = (unsigned)v[i];
            else if (strcmp(key, "momentum.sma_crossover.slow") == 0)
                s.slow = (unsigned)v[i];
            else if (strcmp(key, "momentum.rsi.period") == 0)
                s.rsi_period = (unsigned)v[i];
            else if (strcmp(key, "momentum.rsi.overbought") == 0)
                s.rsi_overbought = v[i];
            else if (strcmp(key, "momentum.rsi.oversold") == 0)
                s.rsi_oversold = v[i];
            else if (strcmp(key, "mean_reversion.bollinger_bands.period") == 0)
                s.bb_period = (unsigned)v[i];
            else if (strcmp(key, "mean_reversion.bollinger_bands.std") == 0)
                s.bb_std = v[i];
            else if (strcmp(key, "regime_aware.trend_filter.window") == 0)
                s.trend_window = (unsigned)v[i];
            else if (strcmp(key, "regime_aware.risk_regime_filter.max_level") == 0)
                s.risk_max_level = (unsigned)v[i];
        }
        if ((s.sma && s.fast >= s.slow) || (s.rsi && s.rsi_oversold >= s.rsi_overbought))
            continue;                                /* invalid point: skipped */
        g->pts[g->npts++] = s;
    }
    if (g->npts == 0)
        return qd_err_field(err, QD_EINVAL, field,
                            "no valid point in the grid (fast < slow, oversold < overbought)");
    g->sma_only = g->base.sma && !g->base.rsi && !g->base.bb && !g->base.trend && !g->base.risk;
    return QD_OK;
}

/* ---- simulation options ---- */

struct bt_opts {
    struct eq_sim_params sim;
    const char          *fill, *price, *sizing_mode, *sizing_key, *direction, *rebalance_name;
    enum eq_rebalance    rebalance;
    unsigned             sizing_window;
    unsigned             keep_top;
    int                  rank;          /* index into eq_metric_names */
};

static const char *const lower_is_better[] = {"max_drawdown", "max_drawdown_duration_days",
                                              "annual_volatility", NULL};

static enum qd_code
number(const json_t *o, const char *key, const char *field, double min, double max, double def,
       double *out, struct qd_err *err)
{
    const json_t *v = json_object_get(o, key);

    if (v == NULL || json_is_null(v)) {
        *out = def;
        return QD_OK;
    }
    if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > max)
        return qd_err_field(err, QD_EINVAL, field, "must be a number from %g to %g", min, max);
    *out = json_number_value(v);
    return QD_OK;
}

static enum qd_code
parse_opts(const json_t *params, struct bt_opts *o, struct qd_err *err)
{
    const json_t *fees = json_object_get(params, "fees"), *sizing = json_object_get(params, "sizing");
    const json_t *v;
    double d;
    enum qd_code rc;

    memset(o, 0, sizeof(*o));
    if ((rc = number(params, "initial_capital", "params.initial_capital", 1, 1e15, 100000,
                     &o->sim.initial_capital, err)) != QD_OK)
        return rc;
    if (fees != NULL && !json_is_object(fees))
        return qd_err_field(err, QD_EINVAL, "params.fees",
                            "fees is {\"rate\", \"per_share\", \"minimum\"}");
    if ((rc = number(fees, "rate", "params.fees.rate", 0, 0.1, 0, &o->sim.fee_rate, err)) ||
        (rc = number(fees, "per_share", "params.fees.per_share", 0, 100, 0, &o->sim.fee_per_share,
                     err)) ||
        (rc = number(fees, "minimum", "params.fees.minimum", 0, 1e6, 0, &o->sim.fee_minimum, err)) ||
        (rc = number(params, "slippage_bps", "params.slippage_bps", 0, 1000, 0,
                     &o->sim.slippage_bps, err)) ||
        (rc = number(params, "risk_free_rate", "params.risk_free_rate", -0.1, 1, 0,
                     &o->sim.risk_free_rate, err)) ||
        (rc = number(params, "keep_top", "params.keep_top", 0, 1000, 10, &d, err)))
        return rc;
    o->keep_top = (unsigned)d;
    v = json_object_get(params, "fill");
    o->fill = v ? json_string_value(v) : "next_open";
    if (o->fill == NULL || (strcmp(o->fill, "next_open") != 0 && strcmp(o->fill, "close") != 0))
        return qd_err_field(err, QD_EINVAL, "params.fill", "fill is \"next_open\" or \"close\"");
    o->sim.fill_close = strcmp(o->fill, "close") == 0;
    v = json_object_get(params, "price");
    o->price = v ? json_string_value(v) : "raw";
    if (o->price == NULL || (strcmp(o->price, "raw") != 0 && strcmp(o->price, "adjusted") != 0))
        return qd_err_field(err, QD_EINVAL, "params.price", "price is \"raw\" or \"adjusted\"");
    v = json_object_get(params, "fractional");
    if (v != NULL && !json_is_boolean(v))
        return qd_err_field(err, QD_EINVAL, "params.fractional", "fractional is true or false");
    o->sim.fractional = v == NULL || json_is_true(v);
    v = json_object_get(params, "direction");
    o->direction = v ? json_string_value(v) : "long_only";
    if (o->direction == NULL ||
        (strcmp(o->direction, "long_only") != 0 && strcmp(o->direction, "long_short") != 0))
        return qd_err_field(err, QD_EINVAL, "params.direction",
                            "direction is \"long_only\" or \"long_short\"");
    o->sim.long_short = strcmp(o->direction, "long_short") == 0;
    o->sizing_mode = "all_in";
    if (sizing != NULL) {
        static const struct {
            const char    *mode, *key;
            enum eq_sizing kind;
            double         min, max, def;
        } modes[] = {
            {"all_in", NULL, EQ_SIZE_ALL_IN, 0, 0, 0},
            {"fixed_shares", "shares", EQ_SIZE_FIXED_SHARES, 1e-6, 1e12, NAN},
            {"fixed_notional", "notional", EQ_SIZE_FIXED_NOTIONAL, 1e-6, 1e15, NAN},
            {"percent_equity", "percent", EQ_SIZE_PERCENT_EQUITY, 1e-6, 1, NAN},
            {"vol_target", "target", EQ_SIZE_VOL_TARGET, 1e-4, 5, NAN},
            {"kelly", "fraction", EQ_SIZE_KELLY, 1e-6, 1, 0.5},
        };
        const json_t *mode = json_object_get(sizing, "mode");
        int found = -1;
        if (!json_is_object(sizing) || !json_is_string(mode))
            return qd_err_field(err, QD_EINVAL, "params.sizing", "sizing is {\"mode\": …}");
        for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
            if (strcmp(modes[k].mode, json_string_value(mode)) == 0)
                found = (int)k;
        if (found < 0)
            return qd_err_field(err, QD_EINVAL, "params.sizing.mode",
                                "sizing mode is all_in, fixed_shares, fixed_notional, "
                                "percent_equity, vol_target or kelly");
        o->sizing_mode = modes[found].mode;
        o->sim.sizing = modes[found].kind;
        if (modes[found].key != NULL) {
            char f[64];
            snprintf(f, sizeof(f), "params.sizing.%s", modes[found].key);
            if (isnan(modes[found].def) && json_object_get(sizing, modes[found].key) == NULL)
                return qd_err_field(err, QD_EINVAL, f, "%s is required for sizing mode %s",
                                    modes[found].key, modes[found].mode);
            if ((rc = number(sizing, modes[found].key, f, modes[found].min, modes[found].max,
                             modes[found].def, &o->sim.sizing_value, err)) != QD_OK)
                return rc;
            o->sizing_key = modes[found].key;
        }
        if ((rc = number(sizing, "window", "params.sizing.window", 2, 1000,
                         o->sim.sizing == EQ_SIZE_KELLY ? 63 : 21, &d, err)) != QD_OK)
            return rc;
        o->sizing_window = (unsigned)d;
        {
            const char *k;
            json_t *x;
            json_object_foreach((json_t *)sizing, k, x)
            {
                if (strcmp(k, "mode") != 0 && strcmp(k, "window") != 0 &&
                    (modes[found].key == NULL || strcmp(k, modes[found].key) != 0)) {
                    char f[96];
                    snprintf(f, sizeof(f), "params.sizing.%.60s", k);
                    return qd_err_field(err, QD_EINVAL, f,
                                        "unknown parameter for sizing mode %s", modes[found].mode);
                }
            }
        }
    }
    v = json_object_get(params, "rebalance");
    o->rebalance_name = v ? json_string_value(v) : "none";
    if (o->rebalance_name == NULL || (strcmp(o->rebalance_name, "none") != 0 &&
                                      strcmp(o->rebalance_name, "monthly") != 0 &&
                                      strcmp(o->rebalance_name, "quarterly") != 0))
        return qd_err_field(err, QD_EINVAL, "params.rebalance",
                            "rebalance is \"none\", \"monthly\" or \"quarterly\"");
    o->rebalance = o->rebalance_name[0] == 'm'   ? EQ_REBAL_MONTHLY
                   : o->rebalance_name[0] == 'q' ? EQ_REBAL_QUARTERLY
                                                 : EQ_REBAL_NONE;
    v = json_object_get(params, "rank_by");
    o->rank = 4;                                    /* sharpe_ratio */
    if (v != NULL) {
        o->rank = -1;
        for (int i = 0; i < EQ_NUM_METRICS && json_is_string(v); i++)
            if (strcmp(eq_metric_names[i], json_string_value(v)) == 0)
                o->rank = i;
        if (o->rank < 0)
            return qd_err_field(err, QD_EINVAL, "params.rank_by", "rank_by names a metric");
    }
    return QD_OK;
}

/* Weights of the symbols (out: one per symbol, may be NULL): params.weights maps each symbol to
 * a share of the capital (>= 0, summing to at most 1: the rest stays cash); absent means equal
 * shares. */
static enum qd_code
parse_weights(const json_t *params, double *out, struct qd_err *err)
{
    const json_t *syms = json_object_get(params, "symbols"), *w = json_object_get(params, "weights");
    size_t n = json_array_size(syms);
    double sum = 0;
    const char *k;
    json_t *v;

    if (w == NULL) {
        for (size_t i = 0; out && i < n; i++)
            out[i] = 1.0 / (double)n;
        return QD_OK;
    }
    if (!json_is_object(w))
        return qd_err_field(err, QD_EINVAL, "params.weights",
                            "weights maps each symbol to its share of the capital");
    json_object_foreach((json_t *)w, k, v)
    {
        char f[96];
        bool listed = false;
        snprintf(f, sizeof(f), "params.weights.%.60s", k);
        for (size_t i = 0; i < n; i++)
            listed |= strcmp(json_string_value(json_array_get(syms, i)), k) == 0;
        if (!listed)
            return qd_err_field(err, QD_EINVAL, f, "\"%.60s\" is not one of the symbols", k);
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
            return qd_err_field(err, QD_EINVAL, f, "a weight is a number from 0 to 1");
        sum += json_number_value(v);
    }
    if (sum > 1 + 1e-9)
        return qd_err_field(err, QD_EINVAL, "params.weights", "the weights sum to %g, above 1",
                            sum);
    for (size_t i = 0; out && i < n; i++) {
        const json_t *x = json_object_get(w, json_string_value(json_array_get(syms, i)));
        out[i] = x ? json_number_value(x) : 0.0;
    }
    return QD_OK;
}

enum qd_code
equity_backtest_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"symbols", "weights", "start_date", "end_date",
                                        "strategy_configs", "experiment_name", "initial_capital",
                                        "fill", "fees", "rebalance",
                                        "slippage_bps", "sizing", "fractional", "price",
                                        "direction", "keep_top", "rank_by", "risk_free_rate",
                                        NULL};
    const json_t *syms = json_object_get(params, "symbols"), *cfgs, *cfg, *name;
    struct bt_opts o;
    int32_t a, b;
    size_t i;
    enum qd_code rc;

    if ((rc = job_param_known(params, known, err)) != QD_OK)
        return rc;
    if (!json_is_array(syms) || json_array_size(syms) == 0)
        return qd_err_field(err, QD_EINVAL, "params.symbols", "symbols is a non-empty array");
    if (json_array_size(syms) > MAX_SLEEVES)
        return qd_err_field(err, QD_EINVAL, "params.symbols", "at most %d symbols", MAX_SLEEVES);
    for (size_t k = 0; k < json_array_size(syms); k++) {
        const json_t *v = json_array_get(syms, k);
        char f[48];
        snprintf(f, sizeof(f), "params.symbols[%zu]", k);
        if (!json_is_string(v) || !symbol_valid(json_string_value(v), json_string_length(v)))
            return qd_err_field(err, QD_EINVAL, f, "not a valid symbol");
        for (size_t j = 0; j < k; j++)
            if (json_equal(v, json_array_get(syms, j)))
                return qd_err_field(err, QD_EINVAL, f, "\"%s\" is listed twice",
                                    json_string_value(v));
    }
    if ((rc = parse_weights(params, NULL, err)) != QD_OK)
        return rc;
    if ((rc = job_param_date(params, "start_date", true, &a, err)) != QD_OK ||
        (rc = job_param_date(params, "end_date", true, &b, err)) != QD_OK)
        return rc;
    if (b < a)
        return qd_err_field(err, QD_EINVAL, "params.end_date", "end_date is before start_date");
    name = json_object_get(params, "experiment_name");
    if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 200)
        return qd_err_field(err, QD_EINVAL, "params.experiment_name",
                            "experiment_name is a string of 1 to 200 characters");
    if ((rc = parse_opts(params, &o, err)) != QD_OK)
        return rc;
    cfgs = json_object_get(params, "strategy_configs");
    if (!json_is_array(cfgs) || json_array_size(cfgs) == 0 || json_array_size(cfgs) > 100)
        return qd_err_field(err, QD_EINVAL, "params.strategy_configs",
                            "strategy_configs is a list of 1 to 100 strategy objects");
    json_array_foreach(cfgs, i, cfg)
    {
        char field[64];
        struct config_grid g;
        snprintf(field, sizeof(field), "params.strategy_configs[%zu]", i);
        if (!json_is_object(cfg))
            return qd_err_field(err, QD_EINVAL, field, "a strategy config is an object");
        if (json_object_get(cfg, "name") && !json_is_string(json_object_get(cfg, "name")))
            return qd_err_field(err, QD_EINVAL, field, "name is a string");
        rc = config_grid(cfg, field, &g, err);
        config_grid_release(&g);
        if (rc != QD_OK)
            return rc;
    }
    return QD_OK;
}

/* ---- running ---- */

static bool
stop_cb(void *arg)
{
    return job_should_stop(arg);
}

static void
sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 32;

    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The grid values of point k as a JSON object of flat dotted keys. */
static json_t *
point_params(const struct config_grid *g, size_t k)
{
    json_t *o = json_object();

    for (unsigned i = 0; i < g->ndims; i++) {
        double v = g->vals[k * g->ndims + i];
        bool whole = strstr(g->dims[i].key, "period") || strstr(g->dims[i].key, "window") ||
                     strstr(g->dims[i].key, ".fast") || strstr(g->dims[i].key, ".slow") ||
                     strstr(g->dims[i].key, "max_level");
        json_object_set_new(o, g->dims[i].key, whole ? json_integer((json_int_t)v) : json_real(v));
    }
    return o;
}

struct portfolio;
static void portfolio_params(json_t *p, const struct portfolio *pf);
static void rebalance_param(json_t *p, const struct bt_opts *o);

static char *
run_params(const json_t *params, const struct bt_opts *o, const char *strategy,
           const struct config_grid *g, size_t k, const struct portfolio *pf)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:s, "
                          "s:b, s:s, s:s, s:f}",
                          "strategy", strategy, "symbols",
                          json_string_value(json_array_get(json_object_get(params, "symbols"), 0)),
                          "start_date", json_string_value(json_object_get(params, "start_date")),
                          "end_date", json_string_value(json_object_get(params, "end_date")),
                          "fill", o->fill, "fees.rate", o->sim.fee_rate, "fees.per_share",
                          o->sim.fee_per_share, "fees.minimum", o->sim.fee_minimum,
                          "slippage_bps", o->sim.slippage_bps, "initial_capital",
                          o->sim.initial_capital, "sizing.mode", o->sizing_mode, "fractional",
                          o->sim.fractional, "price", o->price, "direction", o->direction,
                          "risk_free_rate", o->sim.risk_free_rate);
    char *text;

    json_t *pp = point_params(g, k);

    if (o->sizing_key != NULL) {
        char key[64];
        snprintf(key, sizeof(key), "sizing.%s", o->sizing_key);
        json_object_set_new(p, key, json_real(o->sim.sizing_value));
    }
    if (o->sim.sizing == EQ_SIZE_VOL_TARGET || o->sim.sizing == EQ_SIZE_KELLY)
        json_object_set_new(p, "sizing.window", json_integer(o->sizing_window));
    json_object_update(p, pp);
    json_decref(pp);
    if (pf != NULL) {
        portfolio_params(p, pf);
        rebalance_param(p, o);
    }
    text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(p);
    return text;
}

static json_t *
metrics_json(const struct eq_metrics *m)
{
    double v[EQ_NUM_METRICS];
    json_t *o = json_object();

    eq_metrics_array(m, v);
    for (int i = 0; i < EQ_NUM_METRICS; i++)
        json_object_set_new(o, eq_metric_names[i], isfinite(v[i]) ? json_real(v[i]) : json_null());
    return o;
}

static char *
trades_json(const struct eq_trade *t, size_t n, const char *const *names)
{
    json_t *a = json_array();
    char *s;

    for (size_t i = 0; i < n; i++) {
        char d1[11], d2[11];
        json_t *o;
        qd_date_format(t[i].entry_day, d1);
        o = json_pack("{s:s, s:f, s:f, s:f, s:f}", "entry_date", d1, "entry_price",
                      t[i].entry_price, "size", t[i].size, "pnl", t[i].pnl, "fees", t[i].fees);
        if (names != NULL)
            json_object_set_new(o, "symbol", json_string(names[t[i].sleeve]));
        if (t[i].exit_day >= 0) {
            qd_date_format(t[i].exit_day, d2);
            json_object_set_new(o, "exit_date", json_string(d2));
            json_object_set_new(o, "exit_price", json_real(t[i].exit_price));
        } else {
            json_object_set_new(o, "exit_date", json_null());
            json_object_set_new(o, "exit_price", json_null());
            json_object_set_new(o, "open", json_true());
        }
        json_array_append_new(a, o);
    }
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

struct ranked {
    size_t idx;
    double key;
};

static int
cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;            /* larger first; NaN were made -inf */
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Several symbols: the sleeves, their union calendar and names. */
struct portfolio {
    const struct eq_sleeve *sl;
    size_t                  nsl;
    int32_t                *days;
    size_t                  ndays;
    const char            **names;
    const double           *weights;
};

/* Portfolio runs record every symbol and its weight: "symbols": "A,B", "weights.A": 0.5. */
static void
portfolio_params(json_t *p, const struct portfolio *pf)
{
    char list[MAX_SLEEVES * 34] = "";
    size_t at = 0;

    for (size_t i = 0; i < pf->nsl; i++) {
        char key[64];
        at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? "," : "", pf->names[i]);
        snprintf(key, sizeof(key), "weights.%s", pf->names[i]);
        json_object_set_new(p, key, json_real(pf->weights[i]));
    }
    json_object_set_new(p, "symbols", json_string(list));
}

/* The rebalancing rule, for portfolio runs' params. */
static void
rebalance_param(json_t *p, const struct bt_opts *o)
{
    json_object_set_new(p, "rebalance", json_string(o->rebalance_name));
}

/* Runs one strategy config (on one symbol's mk/tk, or on the portfolio pf when not NULL);
 * appends {id, strategy, params} entries to runs_out and returns the best run's summary in
 * *best. */
static enum qd_code
run_config(struct job_ctx *ctx, const json_t *params, const json_t *cfg, size_t cfg_index,
           const struct bt_opts *o, const struct eq_market *mk, const struct eq_ticks *tk,
           const struct portfolio *pf, int64_t exp_id, const char *data_hash, json_t *runs_out,
           json_t **best, struct qd_err *err)
{
    PGconn *conn = (PGconn *)job_conn(ctx);
    char field[64];
    const char *strategy;
    struct config_grid g;
    size_t np;
    unsigned *pairs = NULL;
    struct eq_metrics *met = NULL;
    char **pj = NULL, **ch = NULL;
    const char **strat = NULL;
    double *mv = NULL;
    int64_t *ids = NULL;
    struct ranked *rk = NULL;
    enum qd_code rc;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ncpu > 0 ? (unsigned)ncpu : 1;

    snprintf(field, sizeof(field), "params.strategy_configs[%zu]", cfg_index);
    if ((rc = config_grid(cfg, field, &g, err)) != QD_OK) {
        config_grid_release(&g);
        return rc;
    }
    np = g.npts;
    for (size_t k = 0; k < np; k++)
        g.pts[k].long_short = o->sim.long_short;
    strategy = g.name ? g.name : g.base.sma && !g.base.rsi && !g.base.bb ? "sma_crossover"
               : g.base.rsi && !g.base.sma && !g.base.bb               ? "rsi"
               : g.base.bb && !g.base.sma && !g.base.rsi               ? "bollinger_bands"
                                                                       : "combo";
    met = calloc(np, sizeof(*met));
    pj = calloc(np, sizeof(*pj));
    ch = calloc(np, sizeof(*ch));
    strat = calloc(np, sizeof(*strat));
    mv = calloc(np * EQ_NUM_METRICS, sizeof(*mv));
    ids = calloc(np, sizeof(*ids));
    rk = calloc(np, sizeof(*rk));
    pairs = calloc(2 * np, sizeof(*pairs));
    if (!met || !pj || !ch || !strat || !mv || !ids || !rk || !pairs) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory for %zu runs", np);
        goto out;
    }
    job_progress(ctx, 0.1, "%s: %zu backtests", strategy, np);
    if (pf != NULL) {
        rc = eq_portfolio_sweep(pf->sl, pf->nsl, pf->days, pf->ndays, g.pts, np, &o->sim,
                                o->rebalance, threads,
                                stop_cb, ctx, met, err);
    } else if (g.sma_only) {
        /* the shared-window fast path; identical results to the general one */
        for (size_t k = 0; k < np; k++) {
            pairs[2 * k] = g.pts[k].fast;
            pairs[2 * k + 1] = g.pts[k].slow;
        }
        rc = eq_sma_sweep_pairs(mk, tk, pairs, np, &o->sim, threads, stop_cb, ctx, met, err);
    } else {
        rc = eq_strategy_sweep(mk, tk, g.pts, np, &o->sim, threads, stop_cb, ctx, met, err);
    }
    if (rc != QD_OK)
        goto out;
    for (size_t k = 0; k < np; k++) {
        char hex[65];
        pj[k] = run_params(params, o, strategy, &g, k, pf);
        sha256_hex(pj[k], strlen(pj[k]), hex);
        ch[k] = strdup(hex);
        strat[k] = strategy;
        eq_metrics_array(&met[k], mv + k * EQ_NUM_METRICS);
    }
    job_progress(ctx, 0.5, "%s: storing %zu runs", strategy, np);
    {
        struct run_batch b = {.experiment_id = exp_id, .job_id = job_id(ctx),
                              .engine_version = ENGINE_VERSION, .data_hash = data_hash, .n = np,
                              .strategy = strat, .params_json = (const char *const *)pj,
                              .config_hash = (const char *const *)ch,
                              .metric_names = eq_metric_names, .nm = EQ_NUM_METRICS,
                              .metrics = mv};
        rc = runs_db_insert_batch(conn, &b, ids, err);
    }
    if (rc != QD_OK)
        goto out;
    /* rank; keep the series of the best keep_top (every run of a single-point config) */
    {
        bool lower = false;
        for (const char *const *l = lower_is_better; *l; l++)
            lower |= strcmp(*l, eq_metric_names[o->rank]) == 0;
        for (size_t k = 0; k < np; k++) {
            double v = mv[k * EQ_NUM_METRICS + (size_t)o->rank];
            rk[k].idx = k;
            rk[k].key = isnan(v) ? -INFINITY : lower ? -v : v;
        }
        qsort(rk, np, sizeof(*rk), cmp_ranked);
    }
    {
        size_t keep = np == 1 ? 1 : (o->keep_top < np ? o->keep_top : np);
        size_t len = pf ? pf->ndays : mk->n;
        const int32_t *days = pf ? pf->days : mk->day;
        int8_t *target = malloc(mk->n), *tmp = malloc(mk->n);
        double *equity = malloc(len * sizeof(double)), *scratch = malloc(3 * mk->n * sizeof(double));
        struct eq_trade *tr = malloc(MAX_KEPT_TRADES * sizeof(*tr));
        for (size_t r = 0; rc == QD_OK && r < keep && target && tmp && equity && scratch && tr;
             r++) {
            size_t k = rk[r].idx, nt = 0;
            struct eq_metrics again;
            char *tj;
            if (pf != NULL) {
                rc = eq_portfolio_run(pf->sl, pf->nsl, pf->days, pf->ndays, &g.pts[k], &o->sim,
                                      o->rebalance,
                                      &again, equity, tr, MAX_KEPT_TRADES, &nt, err);
                if (rc != QD_OK)
                    break;
            } else {
                eq_strategy_targets(mk, tk, &g.pts[k], target, tmp, scratch);
                eq_simulate(mk, target, &o->sim, &again, equity, tr, MAX_KEPT_TRADES, &nt);
            }
            tj = trades_json(tr, nt, pf ? pf->names : NULL);
            rc = runs_db_store_series(conn, ids[k], days, equity, len, tj, err);
            free(tj);
        }
        free(target);
        free(tmp);
        free(equity);
        free(scratch);
        free(tr);
    }
    if (rc != QD_OK)
        goto out;
    for (size_t k = 0; k < np; k++)
        json_array_append_new(runs_out, json_pack("{s:I, s:s, s:o}", "id", (json_int_t)ids[k],
                                                  "strategy", strategy, "params",
                                                  point_params(&g, k)));
    {
        size_t k = rk[0].idx;
        *best = json_pack("{s:I, s:s, s:s, s:I, s:o, s:o}", "run_id", (json_int_t)ids[k],
                          "strategy", strategy, "rank_by", eq_metric_names[o->rank], "runs",
                          (json_int_t)np, "params", point_params(&g, k), "metrics",
                          metrics_json(&met[k]));
    }
out:
    for (size_t k = 0; pj && k < np; k++) {
        free(pj[k]);
        free(ch[k]);
    }
    free(pj);
    free(ch);
    free(strat);
    free(mv);
    free(ids);
    free(rk);
    free(met);
    free(pairs);
    config_grid_release(&g);
    return rc;
}

/* One symbol's data for a backtest. */
struct sleeve_data {
    struct bar_series s;
    struct eq_ticks   tk;
    struct eq_prefix  pre;
    bool              has_pre;
    double           *svol, *skelly;
    struct macro_aligned macro;     /* the risk regime's inputs on this symbol's days */
    struct eq_market  mk;
};

static void
sleeve_release(struct sleeve_data *d)
{
    eq_ticks_release(&d->tk);
    if (d->has_pre)
        eq_prefix_release(&d->pre);
    free(d->svol);
    free(d->skelly);
    macro_aligned_release(&d->macro);
    bar_series_release(&d->s);
}

/* Hashes an aligned input (or its absence) into the run's data hash. */
static void
hash_input(EVP_MD_CTX *md, const char *name, const double *v, size_t n)
{
    EVP_DigestUpdate(md, name, strlen(name) + 1);
    if (v != NULL)
        EVP_DigestUpdate(md, v, n * sizeof(double));
}

/* Reads and prepares symbol i of params.symbols. */
static enum qd_code
sleeve_load(PGconn *conn, const json_t *params, size_t i, const struct bt_opts *o,
            const struct macro_raw *raw, struct sleeve_data *d, EVP_MD_CTX *md,
            struct qd_err *err)
{
    const char *symbol = json_string_value(json_array_get(json_object_get(params, "symbols"), i));
    int32_t a, b;
    int64_t version;
    char field[48];
    enum qd_code rc;

    job_param_date(params, "start_date", true, &a, err);
    job_param_date(params, "end_date", true, &b, err);
    snprintf(field, sizeof(field), "params.symbols[%zu]", i);
    rc = bars_db_read(conn, symbol, a, b, &d->s, &version, err);
    if (rc == QD_ENOTFOUND || (rc == QD_OK && d->s.n < 2))
        return qd_err_field(err, QD_EINVAL, field,
                            "no bars for %s between %s and %s: ingest them first", symbol,
                            json_string_value(json_object_get(params, "start_date")),
                            json_string_value(json_object_get(params, "end_date")));
    if (rc != QD_OK)
        return rc;
    if (strcmp(o->price, "adjusted") == 0) {
        for (size_t k = 0; k < d->s.n; k++) {
            d->s.open[k] *= d->s.adj_close[k] / d->s.close[k];
            d->s.close[k] = d->s.adj_close[k];
        }
    }
    EVP_DigestUpdate(md, symbol, strlen(symbol) + 1);
    EVP_DigestUpdate(md, d->s.day, d->s.n * sizeof(*d->s.day));
    EVP_DigestUpdate(md, d->s.open, d->s.n * sizeof(double));
    EVP_DigestUpdate(md, d->s.close, d->s.n * sizeof(double));
    if ((rc = eq_ticks_init(&d->tk, d->s.close, d->s.n, err)) != QD_OK) {
        qd_err_prefix(err, symbol);
        return rc;
    }
    if (o->sim.sizing == EQ_SIZE_VOL_TARGET || o->sim.sizing == EQ_SIZE_KELLY) {
        d->svol = malloc(d->s.n * sizeof(double));
        d->skelly = malloc(d->s.n * sizeof(double));
        if (d->svol == NULL || d->skelly == NULL)
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        eq_sizing_inputs(d->s.close, d->s.n, o->sizing_window, d->svol, d->skelly);
    }
    if ((rc = macro_align(raw, d->s.day, d->s.n, &d->macro, err)) != QD_OK)
        return rc;
    /* the regime inputs are data the runs read: part of the data hash */
    hash_input(md, "vix", d->macro.in.vix, d->s.n);
    hash_input(md, "hy_oas", d->macro.in.hy_oas, d->s.n);
    hash_input(md, "curve", d->macro.in.curve, d->s.n);
    d->mk = (struct eq_market){.n = d->s.n, .day = d->s.day, .open = d->s.open,
                               .close = d->s.close, .sizing_vol = d->svol,
                               .sizing_kelly = d->skelly, .regime_vix = d->macro.in.vix,
                               .regime_hy = d->macro.in.hy_oas,
                               .regime_curve = d->macro.in.curve};
    return QD_OK;
}

enum qd_code
equity_backtest_run(struct job_ctx *ctx, const json_t *params, json_t **result,
                    struct qd_err *err)
{
    PGconn *conn = (PGconn *)job_conn(ctx);
    const json_t *syms = json_object_get(params, "symbols");
    const json_t *cfgs = json_object_get(params, "strategy_configs"), *cfg;
    size_t nsym = json_array_size(syms), i;
    bool portfolio = nsym > 1 || json_object_get(params, "weights") != NULL;
    struct sleeve_data *sd = calloc(nsym, sizeof(*sd));
    struct eq_sleeve *sl = calloc(nsym, sizeof(*sl));
    double *weights = calloc(nsym, sizeof(double));
    const char **names = calloc(nsym, sizeof(char *));
    struct portfolio pf = {0};
    struct bt_opts o;
    int64_t exp_id;
    char data_hash[65];
    json_t *runs = json_array(), *best = json_object();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct macro_raw raw;
    bool have_raw = false;
    enum qd_code rc;

    if (!sd || !sl || !weights || !names || !md) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < nsym; i++)
        bar_series_init(&sd[i].s, 0);
    if ((rc = parse_opts(params, &o, err)) != QD_OK ||
        (rc = parse_weights(params, weights, err)) != QD_OK)
        goto out;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    {
        int32_t b;
        job_param_date(params, "end_date", true, &b, err);
        if ((rc = macro_raw_load(conn, b, NULL, &raw, err)) != QD_OK)
            goto out;
        have_raw = true;
    }
    for (i = 0; i < nsym && rc == QD_OK; i++) {
        names[i] = json_string_value(json_array_get(syms, i));
        rc = sleeve_load(conn, params, i, &o, &raw, &sd[i], md, err);
        if (rc == QD_OK && eq_prefix_init(&sd[i].pre, &sd[i].mk, o.sim.risk_free_rate, err) ==
                               QD_OK) {
            sd[i].has_pre = true;
            sd[i].mk.prefix = &sd[i].pre;
        }
        sl[i] = (struct eq_sleeve){.mk = &sd[i].mk, .tk = &sd[i].tk, .weight = weights[i]};
    }
    if (rc != QD_OK)
        goto out;
    {
        unsigned char h[32];
        unsigned int hl = 32;
        EVP_DigestFinal_ex(md, h, &hl);
        for (int k = 0; k < 32; k++)
            snprintf(data_hash + 2 * k, 3, "%02x", h[k]);
    }
    if (portfolio) {
        pf.sl = sl;
        pf.nsl = nsym;
        pf.names = names;
        pf.weights = weights;
        if ((rc = eq_portfolio_calendar(sl, nsym, &pf.days, &pf.ndays, err)) != QD_OK)
            goto out;
    }
    if ((rc = runs_db_experiment(conn, json_string_value(json_object_get(params, "experiment_name")),
                                 &exp_id, err)) != QD_OK)
        goto out;
    json_array_foreach(cfgs, i, cfg)
    {
        json_t *one = NULL;
        rc = run_config(ctx, params, cfg, i, &o, &sd[0].mk, &sd[0].tk, portfolio ? &pf : NULL,
                        exp_id, data_hash, runs, &one, err);
        if (rc != QD_OK)
            break;
        {
            /* keyed by strategy name; a repeated name gets its config's position */
            char key[96];
            const char *name = json_string_value(json_object_get(one, "strategy"));
            snprintf(key, sizeof(key), "%s", name);
            if (json_object_get(best, key) != NULL)
                snprintf(key, sizeof(key), "%s_%zu", name, i);
            json_object_set_new(best, key, one);
        }
    }
    if (rc == QD_OK) {
        const int32_t *days = portfolio ? pf.days : sd[0].s.day;
        size_t n = portfolio ? pf.ndays : sd[0].s.n;
        char first[11], last[11];
        qd_date_format(days[0], first);
        qd_date_format(days[n - 1], last);
        *result = json_pack("{s:I, s:s, s:O, s:I, s:s, s:s, s:s, s:O, s:O}", "experiment_id",
                            (json_int_t)exp_id, "experiment_name",
                            json_string_value(json_object_get(params, "experiment_name")),
                            "symbols", syms, "bars", (json_int_t)n, "first", first, "last", last,
                            "data_hash", data_hash, "runs", runs, "best", best);
        if (!portfolio)
            json_object_set_new(*result, "symbol", json_string(names[0]));
    }
out:
    json_decref(runs);
    json_decref(best);
    EVP_MD_CTX_free(md);
    for (i = 0; sd && i < nsym; i++)
        sleeve_release(&sd[i]);
    free(sd);
    free(sl);
    free(weights);
    free(names);
    free(pf.days);
    if (have_raw)
        macro_raw_release(&raw);
    return rc;
}
