/* Feature names and their computation (see catalog.h). Pure; any thread. */
#include "features/catalog.h"
#include "features/indicators.h"
#include "features/macro.h"
#include "features/regimes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const feat_default_names[] = {
    "sma_20",         "sma_50",        "sma_200",          "ema_12",
    "ema_26",         "rsi_14",        "macd_12_26_9",     "macd_signal_12_26_9",
    "macd_hist_12_26_9", "bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2",
    "atr_14",         "realized_vol_21", "zscore_20",      "roc_10",
    "rolling_min_20", "rolling_max_20", NULL,
};

static const struct {
    const char    *prefix;
    enum feat_kind kind;
    int            nparams;         /* windows after the prefix */
} kinds[] = {
    /* longer prefixes first: "macd_signal_" before "macd_" */
    {"macd_signal_", FEAT_MACD_SIGNAL, 3}, {"macd_hist_", FEAT_MACD_HIST, 3},
    {"macd_", FEAT_MACD, 3},               {"bb_upper_", FEAT_BB_UPPER, 2},
    {"bb_middle_", FEAT_BB_MIDDLE, 2},     {"bb_lower_", FEAT_BB_LOWER, 2},
    {"realized_vol_", FEAT_RVOL, 1},       {"rolling_min_", FEAT_RMIN, 1},
    {"rolling_max_", FEAT_RMAX, 1},        {"zscore_", FEAT_ZSCORE, 1},
    {"sma_", FEAT_SMA, 1},                 {"ema_", FEAT_EMA, 1},
    {"wma_", FEAT_WMA, 1},                 {"rsi_", FEAT_RSI, 1},
    {"atr_", FEAT_ATR, 1},                 {"roc_", FEAT_ROC, 1},
};

static const struct {
    const char    *name;
    enum feat_kind kind;
} macro_names[] = {
    {"curve_slope", FEAT_CURVE_SLOPE},
    {"credit_spread", FEAT_CREDIT_SPREAD},
    {"credit_spread_change", FEAT_CREDIT_SPREAD_CHANGE},
    {"rate_momentum", FEAT_RATE_MOMENTUM},
    {"cot_net_noncommercial", FEAT_COT_NET},
    {"cot_net_noncommercial_z", FEAT_COT_NET_Z},
};

enum qd_code
feat_parse(const char *name, struct feat_spec *out, struct qd_err *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sizeof(macro_names) / sizeof(macro_names[0]); i++)
        if (strcmp(macro_names[i].name, name) == 0) {
            out->kind = macro_names[i].kind;
            return QD_OK;
        }
    if (strcmp(name, "trend") == 0 || strcmp(name, "volatility_regime") == 0 ||
        strcmp(name, "risk_regime") == 0) {
        out->kind = name[0] == 't' ? FEAT_TREND : name[0] == 'v' ? FEAT_VOL_REGIME
                                                                : FEAT_RISK_REGIME;
        out->a = regime_defaults.trend_window;
        return QD_OK;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t pl = strlen(kinds[i].prefix);
        unsigned v[3] = {0};
        const char *p;
        int got = 0;
        if (strncmp(name, kinds[i].prefix, pl) != 0)
            continue;
        p = name + pl;
        while (got < kinds[i].nparams) {
            char *end;
            unsigned long x = strtoul(p, &end, 10);
            if (end == p || x < 1 || x > 5000 || (*p < '0' || *p > '9'))
                return qd_err_set(err, QD_EINVAL, "feature \"%s\": parameter %d must be 1-5000",
                                  name, got + 1);
            v[got++] = (unsigned)x;
            p = end;
            if (got < kinds[i].nparams) {
                if (*p != '_')
                    return qd_err_set(err, QD_EINVAL, "feature \"%s\" needs %d parameters",
                                      name, kinds[i].nparams);
                p++;
            }
        }
        if (*p != '\0')
            return qd_err_set(err, QD_EINVAL, "feature \"%s\": unexpected \"%s\"", name, p);
        out->kind = kinds[i].kind;
        out->a = v[0];
        out->b = v[1];
        out->c = v[2];
        out->k = v[1];
        if ((out->kind == FEAT_MACD || out->kind == FEAT_MACD_SIGNAL ||
             out->kind == FEAT_MACD_HIST) && out->a >= out->b)
            return qd_err_set(err, QD_EINVAL, "feature \"%s\": the fast EMA must be shorter",
                              name);
        if (out->kind == FEAT_RVOL && out->a < 2)
            return qd_err_set(err, QD_EINVAL, "feature \"%s\": the window must be at least 2",
                              name);
        return QD_OK;
    }
    return qd_err_set(err, QD_EINVAL,
                      "unknown feature \"%s\" (docs/features.md lists the names)", name);
}

const char *
feat_fallback_note(const struct feat_spec *f, const struct feat_inputs *in)
{
    bool vix = in && in->vix, hy = in && in->hy_oas, curve = in && in->curve;

    if (f->kind == FEAT_VOL_REGIME && !vix)
        return "no VIX series ingested: 21-day realized volatility x 100 stands in for VIX";
    if (f->kind != FEAT_RISK_REGIME || (vix && hy && curve))
        return "";
    if (!vix && !hy && !curve)
        return "no VIX or FRED series ingested: realized volatility stands in for VIX, and the "
               "credit spread and yield curve add nothing to the score";
    if (!vix)
        return hy ? (curve ? "no VIX series ingested: realized volatility stands in for VIX"
                           : "no VIX or T10Y2Y/DGS10+DGS2 series ingested: realized volatility "
                             "stands in for VIX and the curve adds nothing")
                  : (curve ? "no VIX or BAMLH0A0HYM2 series ingested: realized volatility "
                             "stands in for VIX and the credit spread adds nothing"
                           : "");
    if (!hy && !curve)
        return "no BAMLH0A0HYM2 or T10Y2Y/DGS10+DGS2 series ingested: the credit spread and "
               "yield curve add nothing to the score";
    return !hy ? "no BAMLH0A0HYM2 series ingested: the credit spread adds nothing to the score"
               : "no T10Y2Y or DGS10+DGS2 series ingested: the curve adds nothing to the score";
}

/* Copies an aligned input, or says which series is missing. */
static enum qd_code
copy_input(const double *src, size_t n, double *out, const char *missing, struct qd_err *err)
{
    if (src == NULL)
        return qd_err_set(err, QD_ENOTFOUND, "no %s observations ingested (ingest_%s)", missing,
                          strncmp(missing, "CFTC", 4) == 0 ? "cot" : "macro");
    memcpy(out, src, n * sizeof(double));
    return QD_OK;
}

enum qd_code
feat_compute(const struct feat_spec *f, const struct bar_series *s, const double *high,
             const double *low, const struct feat_inputs *in, double *out, double *scratch,
             struct qd_err *err)
{
    static const struct feat_inputs none;
    enum qd_code rc;
    const double *x = s->close;
    size_t n = s->n;
    double *t1 = scratch, *t2 = scratch + n;

    if (in == NULL)
        in = &none;

    switch (f->kind) {
    case FEAT_SMA:
        feat_sma(x, n, f->a, out);
        break;
    case FEAT_EMA:
        feat_ema(x, n, f->a, out);
        break;
    case FEAT_WMA:
        feat_wma(x, n, f->a, out);
        break;
    case FEAT_RSI:
        feat_rsi(x, n, f->a, out);
        break;
    case FEAT_ATR:
        feat_atr(high, low, x, n, f->a, out);
        break;
    case FEAT_RVOL:
        feat_realized_vol(x, n, f->a, out);
        break;
    case FEAT_ZSCORE:
        feat_zscore(x, n, f->a, out);
        break;
    case FEAT_RMIN:
        feat_rolling_min(x, n, f->a, out);
        break;
    case FEAT_RMAX:
        feat_rolling_max(x, n, f->a, out);
        break;
    case FEAT_ROC:
        feat_roc(x, n, f->a, out);
        break;
    case FEAT_BB_UPPER:
        feat_bollinger(x, n, f->a, f->k, out, t1, t2);
        break;
    case FEAT_BB_MIDDLE:
        feat_bollinger(x, n, f->a, f->k, t1, out, t2);
        break;
    case FEAT_BB_LOWER:
        feat_bollinger(x, n, f->a, f->k, t1, t2, out);
        break;
    case FEAT_MACD:
    case FEAT_MACD_SIGNAL:
    case FEAT_MACD_HIST: {
        double *line = malloc(n * sizeof(double) + 1), *sig = malloc(n * sizeof(double) + 1);
        if (line == NULL || sig == NULL) {
            free(line);
            free(sig);
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        }
        feat_macd(x, n, f->a, f->b, f->c, line, sig, t1, t2);
        memcpy(out, f->kind == FEAT_MACD ? line : f->kind == FEAT_MACD_SIGNAL ? sig : t1,
               n * sizeof(double));
        free(line);
        free(sig);
        break;
    }
    case FEAT_TREND:
        feat_trend_regime(x, n, f->a, out);
        break;
    case FEAT_VOL_REGIME:
        feat_volatility_regime(x, in->vix, n, &regime_defaults, out, t1);
        break;
    case FEAT_RISK_REGIME:
        feat_risk_regime(x, in->vix, in->hy_oas, in->curve, n, &regime_defaults, out, t1);
        break;
    case FEAT_CURVE_SLOPE:
        return copy_input(in->curve, n, out, "FRED T10Y2Y (or DGS10 and DGS2)", err);
    case FEAT_CREDIT_SPREAD:
        return copy_input(in->hy_oas, n, out, "FRED BAMLH0A0HYM2", err);
    case FEAT_CREDIT_SPREAD_CHANGE:
        if ((rc = copy_input(in->hy_oas, n, t1, "FRED BAMLH0A0HYM2", err)) != QD_OK)
            return rc;
        feat_change(t1, n, MACRO_SPREAD_CHANGE_BARS, out);
        break;
    case FEAT_RATE_MOMENTUM:
        if ((rc = copy_input(in->dgs10, n, t1, "FRED DGS10", err)) != QD_OK)
            return rc;
        feat_change(t1, n, MACRO_RATE_MOMENTUM_BARS, out);
        break;
    case FEAT_COT_NET:
        return copy_input(in->cot_net, n, out, "CFTC COT", err);
    case FEAT_COT_NET_Z:
        return copy_input(in->cot_net_z, n, out, "CFTC COT", err);
    }
    return QD_OK;
}
