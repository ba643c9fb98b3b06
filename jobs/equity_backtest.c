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
#include "jobs/job.h"
#include "storage/bars_db.h"
#include "storage/pg.h"
#include "storage/runs_db.h"

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

job_validate_fn equity_backtest_validate;
job_run_fn equity_backtest_run;

/* ---- parameter grids: an integer, a list of integers, or {"start","stop","step"} ---- */

struct int_list {
    unsigned *v;
    size_t    n;
};

static enum qd_code
int_grid(const json_t *v, const char *field, unsigned min, unsigned max, struct int_list *out,
         struct qd_err *err)
{
    size_t i;
    const json_t *e;

    out->v = NULL;
    out->n = 0;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < min || x > max)
            return qd_err_field(err, QD_EINVAL, field, "must be from %u to %u", min, max);
        out->v = malloc(sizeof(unsigned));
        out->v[0] = (unsigned)x;
        out->n = 1;
        return QD_OK;
    }
    if (json_is_array(v)) {
        if (json_array_size(v) == 0 || json_array_size(v) > MAX_WINDOW)
            return qd_err_field(err, QD_EINVAL, field, "a list needs 1 to %d values", MAX_WINDOW);
        out->v = malloc(json_array_size(v) * sizeof(unsigned));
        json_array_foreach(v, i, e)
        {
            if (!json_is_integer(e) || json_integer_value(e) < min ||
                json_integer_value(e) > max) {
                free(out->v);
                out->v = NULL;
                return qd_err_field(err, QD_EINVAL, field,
                                    "list values must be integers from %u to %u", min, max);
            }
            out->v[out->n++] = (unsigned)json_integer_value(e);
        }
        return QD_OK;
    }
    if (json_is_object(v)) {
        const json_t *a = json_object_get(v, "start"), *b = json_object_get(v, "stop"),
                     *st = json_object_get(v, "step");
        json_int_t lo, hi, step;
        if (!json_is_integer(a) || !json_is_integer(b) || (st && !json_is_integer(st)) ||
            json_object_size(v) != 2u + (st != NULL))
            return qd_err_field(err, QD_EINVAL, field,
                                "a range is {\"start\": int, \"stop\": int, \"step\": int}");
        lo = json_integer_value(a);
        hi = json_integer_value(b);
        step = st ? json_integer_value(st) : 1;
        if (lo < min || hi > max || lo > hi || step < 1)
            return qd_err_field(err, QD_EINVAL, field,
                                "range needs %u <= start <= stop <= %u and step >= 1", min, max);
        out->v = malloc((size_t)((hi - lo) / step + 1) * sizeof(unsigned));
        for (json_int_t x = lo; x <= hi; x += step)
            out->v[out->n++] = (unsigned)x;
        return QD_OK;
    }
    return qd_err_field(err, QD_EINVAL, field,
                        "must be an integer, a list of integers or a range {start, stop, step}");
}

/* (fast, slow) pairs of a config, invalid points (fast >= slow) skipped. */
static enum qd_code
config_pairs(const json_t *cfg, const char *field, unsigned **pairs, size_t *npairs,
             struct qd_err *err)
{
    const json_t *mom = json_object_get(cfg, "momentum");
    const json_t *sma = json_object_get(mom, "sma_crossover");
    struct int_list f = {0}, s = {0};
    char fld[160];
    enum qd_code rc;
    const char *k;
    json_t *v;

    *pairs = NULL;
    *npairs = 0;
    json_object_foreach((json_t *)cfg, k, v)
    {
        if (strcmp(k, "name") != 0 && strcmp(k, "momentum") != 0) {
            snprintf(fld, sizeof(fld), "%s.%s", field, k);
            return qd_err_field(err, QD_EINVAL, fld,
                                "\"%s\" strategies are not supported yet: the engine runs "
                                "momentum.sma_crossover",
                                k);
        }
    }
    json_object_foreach((json_t *)mom, k, v)
    {
        if (strcmp(k, "sma_crossover") != 0) {
            snprintf(fld, sizeof(fld), "%s.momentum.%s", field, k);
            return qd_err_field(err, QD_EINVAL, fld,
                                "momentum.%s is not supported yet: the engine runs "
                                "momentum.sma_crossover",
                                k);
        }
    }
    if (!json_is_object(sma)) {
        snprintf(fld, sizeof(fld), "%s.momentum.sma_crossover", field);
        return qd_err_field(err, QD_EINVAL, fld, "momentum.sma_crossover {fast, slow} is required");
    }
    json_object_foreach((json_t *)sma, k, v)
    {
        if (strcmp(k, "fast") != 0 && strcmp(k, "slow") != 0) {
            snprintf(fld, sizeof(fld), "%s.momentum.sma_crossover.%s", field, k);
            return qd_err_field(err, QD_EINVAL, fld, "unknown parameter \"%s\"", k);
        }
    }
    snprintf(fld, sizeof(fld), "%s.momentum.sma_crossover.fast", field);
    if ((rc = int_grid(json_object_get(sma, "fast"), fld, 1, MAX_WINDOW, &f, err)) != QD_OK)
        return rc;
    snprintf(fld, sizeof(fld), "%s.momentum.sma_crossover.slow", field);
    if ((rc = int_grid(json_object_get(sma, "slow"), fld, 2, MAX_WINDOW, &s, err)) != QD_OK) {
        free(f.v);
        return rc;
    }
    if (f.n * s.n > MAX_GRID) {
        free(f.v);
        free(s.v);
        return qd_err_field(err, QD_EINVAL, field, "the grid has more than %d points", MAX_GRID);
    }
    *pairs = malloc(2 * f.n * s.n * sizeof(unsigned) + 1);
    for (size_t i = 0; i < f.n; i++)
        for (size_t j = 0; j < s.n; j++)
            if (f.v[i] < s.v[j]) {
                (*pairs)[2 * *npairs] = f.v[i];
                (*pairs)[2 * *npairs + 1] = s.v[j];
                (*npairs)++;
            }
    free(f.v);
    free(s.v);
    if (*npairs == 0) {
        free(*pairs);
        *pairs = NULL;
        return qd_err_field(err, QD_EINVAL, field, "no valid point in the grid (fast < slow)");
    }
    return QD_OK;
}

/* ---- simulation options ---- */

struct bt_opts {
    struct eq_sim_params sim;
    const char          *fill, *price;
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
    if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), "long_only") != 0))
        return qd_err_field(err, QD_EINVAL, "params.direction",
                            "direction \"long_only\" is supported; long_short is not yet");
    if (sizing != NULL) {
        const json_t *mode = json_object_get(sizing, "mode");
        if (!json_is_object(sizing) || !json_is_string(mode))
            return qd_err_field(err, QD_EINVAL, "params.sizing", "sizing is {\"mode\": …}");
        if (strcmp(json_string_value(mode), "all_in") != 0)
            return qd_err_field(err, QD_EINVAL, "params.sizing.mode",
                                "sizing mode \"all_in\" is supported; \"%s\" is not yet",
                                json_string_value(mode));
    }
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

enum qd_code
equity_backtest_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"symbols", "start_date", "end_date", "strategy_configs",
                                        "experiment_name", "initial_capital", "fill", "fees",
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
    if (json_array_size(syms) > 1)
        return qd_err_field(err, QD_EINVAL, "params.symbols",
                            "one symbol per backtest for now: portfolios of several symbols with "
                            "weights are not supported yet");
    if (!json_is_string(json_array_get(syms, 0)) ||
        !symbol_valid(json_string_value(json_array_get(syms, 0)),
                      json_string_length(json_array_get(syms, 0))))
        return qd_err_field(err, QD_EINVAL, "params.symbols[0]", "not a valid symbol");
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
        unsigned *pairs;
        size_t np;
        snprintf(field, sizeof(field), "params.strategy_configs[%zu]", i);
        if (!json_is_object(cfg))
            return qd_err_field(err, QD_EINVAL, field, "a strategy config is an object");
        if (json_object_get(cfg, "name") && !json_is_string(json_object_get(cfg, "name")))
            return qd_err_field(err, QD_EINVAL, field, "name is a string");
        if ((rc = config_pairs(cfg, field, &pairs, &np, err)) != QD_OK)
            return rc;
        free(pairs);
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

static char *
run_params(const json_t *params, const struct bt_opts *o, const char *strategy, unsigned f,
           unsigned s)
{
    json_t *p = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:s, "
                          "s:b, s:s, s:s, s:f}",
                          "strategy", strategy, "momentum.sma_crossover.fast", (json_int_t)f,
                          "momentum.sma_crossover.slow", (json_int_t)s, "symbols",
                          json_string_value(json_array_get(json_object_get(params, "symbols"), 0)),
                          "start_date", json_string_value(json_object_get(params, "start_date")),
                          "end_date", json_string_value(json_object_get(params, "end_date")),
                          "fill", o->fill, "fees.rate", o->sim.fee_rate, "fees.per_share",
                          o->sim.fee_per_share, "fees.minimum", o->sim.fee_minimum,
                          "slippage_bps", o->sim.slippage_bps, "initial_capital",
                          o->sim.initial_capital, "sizing.mode", "all_in", "fractional",
                          o->sim.fractional, "price", o->price, "direction", "long_only",
                          "risk_free_rate", o->sim.risk_free_rate);
    char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);

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
trades_json(const struct eq_trade *t, size_t n)
{
    json_t *a = json_array();
    char *s;

    for (size_t i = 0; i < n; i++) {
        char d1[11], d2[11];
        json_t *o;
        qd_date_format(t[i].entry_day, d1);
        o = json_pack("{s:s, s:f, s:f, s:f, s:f}", "entry_date", d1, "entry_price",
                      t[i].entry_price, "size", t[i].size, "pnl", t[i].pnl, "fees", t[i].fees);
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

/* Runs one strategy config; appends {id, strategy, params} entries to runs_out and returns the
 * best run's summary in *best. */
static enum qd_code
run_config(struct job_ctx *ctx, const json_t *params, const json_t *cfg, size_t cfg_index,
           const struct bt_opts *o, const struct eq_market *mk, const struct eq_ticks *tk,
           int64_t exp_id, const char *data_hash, json_t *runs_out, json_t **best,
           struct qd_err *err)
{
    PGconn *conn = (PGconn *)job_conn(ctx);
    char field[64], name_buf[64];
    const char *strategy;
    unsigned *pairs = NULL;
    size_t np = 0;
    struct eq_metrics *met = NULL;
    char **pj = NULL, **ch = NULL;
    const char **strat = NULL;
    double *mv = NULL;
    int64_t *ids = NULL;
    struct ranked *rk = NULL;
    enum qd_code rc;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    snprintf(field, sizeof(field), "params.strategy_configs[%zu]", cfg_index);
    if ((rc = config_pairs(cfg, field, &pairs, &np, err)) != QD_OK)
        return rc;
    strategy = json_string_value(json_object_get(cfg, "name"));
    if (strategy == NULL) {
        snprintf(name_buf, sizeof(name_buf), "sma_crossover");
        strategy = name_buf;
    }
    met = calloc(np, sizeof(*met));
    pj = calloc(np, sizeof(*pj));
    ch = calloc(np, sizeof(*ch));
    strat = calloc(np, sizeof(*strat));
    mv = calloc(np * EQ_NUM_METRICS, sizeof(*mv));
    ids = calloc(np, sizeof(*ids));
    rk = calloc(np, sizeof(*rk));
    if (!met || !pj || !ch || !strat || !mv || !ids || !rk) {
        rc = qd_err_set(err, QD_ENOMEM, "out of memory for %zu runs", np);
        goto out;
    }
    job_progress(ctx, 0.1, "%s: %zu backtests", strategy, np);
    rc = eq_sma_sweep_pairs(mk, tk, pairs, np, &o->sim, ncpu > 0 ? (unsigned)ncpu : 1, stop_cb,
                            ctx, met, err);
    if (rc != QD_OK)
        goto out;
    for (size_t k = 0; k < np; k++) {
        char hex[65];
        pj[k] = run_params(params, o, strategy, pairs[2 * k], pairs[2 * k + 1]);
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
        int8_t *target = malloc(mk->n);
        double *equity = malloc(mk->n * sizeof(double));
        struct eq_trade *tr = malloc(4096 * sizeof(*tr));
        for (size_t r = 0; rc == QD_OK && r < keep && target && equity && tr; r++) {
            size_t k = rk[r].idx, nt = 0;
            struct eq_metrics again;
            char *tj;
            eq_sma_cross_targets(tk, pairs[2 * k], pairs[2 * k + 1], target);
            eq_simulate(mk, target, &o->sim, &again, equity, tr, 4096, &nt);
            tj = trades_json(tr, nt);
            rc = runs_db_store_series(conn, ids[k], mk->day, equity, mk->n, tj, err);
            free(tj);
        }
        free(target);
        free(equity);
        free(tr);
    }
    if (rc != QD_OK)
        goto out;
    for (size_t k = 0; k < np; k++)
        json_array_append_new(runs_out,
                              json_pack("{s:I, s:s, s:{s:I, s:I}}", "id", (json_int_t)ids[k],
                                        "strategy", strategy, "params",
                                        "momentum.sma_crossover.fast", (json_int_t)pairs[2 * k],
                                        "momentum.sma_crossover.slow",
                                        (json_int_t)pairs[2 * k + 1]));
    {
        size_t k = rk[0].idx;
        *best = json_pack("{s:I, s:s, s:{s:I, s:I}, s:o}", "run_id", (json_int_t)ids[k],
                          "rank_by", eq_metric_names[o->rank], "params",
                          "momentum.sma_crossover.fast", (json_int_t)pairs[2 * k],
                          "momentum.sma_crossover.slow", (json_int_t)pairs[2 * k + 1], "metrics",
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
    return rc;
}

enum qd_code
equity_backtest_run(struct job_ctx *ctx, const json_t *params, json_t **result,
                    struct qd_err *err)
{
    PGconn *conn = (PGconn *)job_conn(ctx);
    const char *symbol = json_string_value(json_array_get(json_object_get(params, "symbols"), 0));
    const json_t *cfgs = json_object_get(params, "strategy_configs"), *cfg;
    struct bt_opts o;
    struct bar_series s;
    struct eq_ticks tk = {0};
    int32_t a, b;
    int64_t version, exp_id;
    char data_hash[65];
    json_t *runs = json_array(), *best = json_object();
    size_t i;
    enum qd_code rc;

    job_param_date(params, "start_date", true, &a, err);
    job_param_date(params, "end_date", true, &b, err);
    if ((rc = parse_opts(params, &o, err)) != QD_OK)
        return rc;
    bar_series_init(&s, 0);
    rc = bars_db_read(conn, symbol, a, b, &s, &version, err);
    if (rc == QD_ENOTFOUND || (rc == QD_OK && s.n < 2)) {
        rc = qd_err_field(err, QD_EINVAL, "params.symbols[0]",
                          "no bars for %s between %s and %s: ingest them first", symbol,
                          json_string_value(json_object_get(params, "start_date")),
                          json_string_value(json_object_get(params, "end_date")));
        goto out;
    }
    if (rc != QD_OK)
        goto out;
    if (strcmp(o.price, "adjusted") == 0) {
        for (size_t k = 0; k < s.n; k++) {
            s.open[k] *= s.adj_close[k] / s.close[k];
            s.close[k] = s.adj_close[k];
        }
    }
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char h[32];
        unsigned int hl = 32;
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        EVP_DigestUpdate(md, s.day, s.n * sizeof(*s.day));
        EVP_DigestUpdate(md, s.open, s.n * sizeof(double));
        EVP_DigestUpdate(md, s.close, s.n * sizeof(double));
        EVP_DigestFinal_ex(md, h, &hl);
        EVP_MD_CTX_free(md);
        for (int k = 0; k < 32; k++)
            snprintf(data_hash + 2 * k, 3, "%02x", h[k]);
    }
    if ((rc = eq_ticks_init(&tk, s.close, s.n, err)) != QD_OK)
        goto out;
    if ((rc = runs_db_experiment(conn, json_string_value(json_object_get(params, "experiment_name")),
                                 &exp_id, err)) != QD_OK)
        goto out;
    {
        struct eq_market mk = {.n = s.n, .day = s.day, .open = s.open, .close = s.close};
        json_array_foreach(cfgs, i, cfg)
        {
            json_t *one = NULL;
            rc = run_config(ctx, params, cfg, i, &o, &mk, &tk, exp_id, data_hash, runs, &one, err);
            if (rc != QD_OK)
                break;
            json_object_set_new(best,
                                json_string_value(json_object_get(cfg, "name"))
                                    ? json_string_value(json_object_get(cfg, "name"))
                                    : "sma_crossover",
                                one);
        }
    }
    if (rc == QD_OK) {
        char first[11], last[11];
        qd_date_format(s.day[0], first);
        qd_date_format(s.day[s.n - 1], last);
        *result = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:O, s:O}", "experiment_id",
                            (json_int_t)exp_id, "experiment_name",
                            json_string_value(json_object_get(params, "experiment_name")),
                            "symbol", symbol, "bars", (json_int_t)s.n, "first", first, "last",
                            last, "data_hash", data_hash, "runs", runs, "best", best);
    }
out:
    json_decref(runs);
    json_decref(best);
    eq_ticks_release(&tk);
    bar_series_release(&s);
    return rc;
}
