/*
 * build_features: the seed's build_features_flow. For each symbol, reads its whole daily
 * history up to end_date (the lookback the indicators need), computes the named features
 * (default: feat_default_names) on raw or adjusted prices, and upserts the values of
 * [start_date, end_date]. Macro and positioning features and the regimes read the VIX, FRED
 * and CFTC series present (jobs/macro_inputs.h); a feature whose input is not ingested gets a
 * per-feature error in the result, never zeros, and a regime on a documented fallback says so.
 * Worker thread.
 */
#include "common/date.h"
#include "core/bar.h"
#include "core/symbol.h"
#include "features/catalog.h"
#include "jobs/job.h"
#include "jobs/macro_inputs.h"
#include "storage/bars_db.h"
#include "storage/features_db.h"
#include "storage/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

job_validate_fn build_features_validate;
job_run_fn build_features_run;

enum qd_code
build_features_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"symbols", "names", "start_date", "end_date", "price",
                                        "cot_market", NULL};
    const json_t *syms = json_object_get(params, "symbols"), *names, *v, *price;
    struct feat_spec f;
    int32_t a, b;
    size_t i;
    enum qd_code rc;

    if ((rc = job_param_known(params, known, err)) != QD_OK)
        return rc;
    if (!json_is_array(syms) || json_array_size(syms) == 0 || json_array_size(syms) > 5000)
        return qd_err_field(err, QD_EINVAL, "params.symbols", "symbols is 1-5000 symbols");
    json_array_foreach(syms, i, v)
    {
        if (!json_is_string(v) || !symbol_valid(json_string_value(v), json_string_length(v))) {
            char field[48];
            snprintf(field, sizeof(field), "params.symbols[%zu]", i);
            return qd_err_field(err, QD_EINVAL, field, "not a valid symbol");
        }
    }
    if ((rc = job_param_date(params, "start_date", true, &a, err)) != QD_OK ||
        (rc = job_param_date(params, "end_date", true, &b, err)) != QD_OK)
        return rc;
    if (b < a)
        return qd_err_field(err, QD_EINVAL, "params.end_date", "end_date is before start_date");
    price = json_object_get(params, "price");
    if (price != NULL && (!json_is_string(price) ||
                          (strcmp(json_string_value(price), "raw") != 0 &&
                           strcmp(json_string_value(price), "adjusted") != 0)))
        return qd_err_field(err, QD_EINVAL, "params.price", "price is \"raw\" or \"adjusted\"");
    v = json_object_get(params, "cot_market");
    if (v != NULL) {
        const char *m = json_string_value(v);
        bool ok = m != NULL && m[0] != '\0' && strlen(m) <= 16;
        for (const char *q = m; ok && *q; q++)
            ok = (*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z');
        if (!ok)
            return qd_err_field(err, QD_EINVAL, "params.cot_market",
                                "cot_market is a CFTC contract market code such as \"13874A\"");
    }
    names = json_object_get(params, "names");
    if (names != NULL) {
        if (!json_is_array(names) || json_array_size(names) == 0 || json_array_size(names) > 200)
            return qd_err_field(err, QD_EINVAL, "params.names", "names is 1-200 feature names");
        json_array_foreach(names, i, v)
        {
            char field[48];
            snprintf(field, sizeof(field), "params.names[%zu]", i);
            if (!json_is_string(v))
                return qd_err_field(err, QD_EINVAL, field, "a feature name is a string");
            if (feat_parse(json_string_value(v), &f, err) != QD_OK)
                return qd_err_field(err, QD_EINVAL, field, "%s", err->msg);
        }
    }
    return QD_OK;
}

enum qd_code
build_features_run(struct job_ctx *ctx, const json_t *params, json_t **result, struct qd_err *err)
{
    PGconn *conn = (PGconn *)job_conn(ctx);
    const json_t *syms = json_object_get(params, "symbols"), *names = json_object_get(params, "names");
    const char *price = json_string_value(json_object_get(params, "price"));
    bool adjusted = price != NULL && strcmp(price, "adjusted") == 0;
    size_t nnames = names ? json_array_size(names) : 0, i;
    json_t *out = json_array(), *sym;
    struct bar_series s;
    struct macro_raw raw;
    int32_t a, b;
    long long total = 0;
    enum qd_code rc = QD_OK;

    if (names == NULL)
        while (feat_default_names[nnames])
            nnames++;
    job_param_date(params, "start_date", true, &a, err);
    job_param_date(params, "end_date", true, &b, err);
    if ((rc = macro_raw_load(conn, b, json_string_value(json_object_get(params, "cot_market")),
                             &raw, err)) != QD_OK)
        return rc;
    bar_series_init(&s, 0);
    json_array_foreach(syms, i, sym)
    {
        const char *symbol = json_string_value(sym);
        json_t *row = json_pack("{s:s}", "symbol", symbol), *errors = json_object(), *notes = NULL;
        double *vals = NULL, *scratch = NULL, *hi = NULL, *lo = NULL;
        struct macro_aligned ma = {0};
        int64_t version;
        long long written = 0;
        struct qd_err e = {0};
        enum qd_code src;

        if (job_should_stop(ctx)) {
            json_decref(row);
            json_decref(errors);
            rc = qd_err_set(err, QD_ECANCELED, "cancelled");
            break;
        }
        job_progress(ctx, (double)i / (double)json_array_size(syms), "%s", symbol);
        src = bars_db_read(conn, symbol, INT32_MIN, b, &s, &version, &e);
        if (src == QD_EDB_RETRY || src == QD_ETIMEOUT) {
            json_decref(row);
            json_decref(errors);
            rc = qd_err_set(err, src, "%s: %s", symbol, e.msg);
            break;
        }
        if (src != QD_OK || s.n == 0) {
            json_object_set_new(row, "error", json_string(src == QD_OK ? "no bars" : e.msg));
            json_array_append_new(out, row);
            json_decref(errors);
            continue;
        }
        if ((src = macro_align(&raw, s.day, s.n, &ma, err)) != QD_OK) {
            json_decref(row);
            json_decref(errors);
            rc = src;
            break;
        }
        vals = malloc(s.n * sizeof(double));
        scratch = malloc(2 * s.n * sizeof(double));
        hi = malloc(s.n * sizeof(double));
        lo = malloc(s.n * sizeof(double));
        for (size_t k = 0; vals && scratch && hi && lo && k < s.n; k++) {
            double f = adjusted ? s.adj_close[k] / s.close[k] : 1.0;
            hi[k] = s.high[k] * f;
            lo[k] = s.low[k] * f;
            if (adjusted)
                s.close[k] = s.adj_close[k];
        }
        for (size_t k = 0; vals && scratch && hi && lo && k < nnames && rc == QD_OK; k++) {
            const char *name = names ? json_string_value(json_array_get(names, k))
                                     : feat_default_names[k];
            struct feat_spec f;
            long long w = 0;
            if (feat_parse(name, &f, &e) != QD_OK ||
                feat_compute(&f, &s, hi, lo, &ma.in, vals, scratch, &e) != QD_OK) {
                json_object_set_new(errors, name, json_string(e.msg));
                continue;
            }
            if (feat_fallback_note(&f, &ma.in)[0] != '\0') {
                if (notes == NULL)
                    notes = json_object();
                json_object_set_new(notes, name, json_string(feat_fallback_note(&f, &ma.in)));
            }
            src = features_db_upsert(conn, symbol, name, s.day, vals, s.n, a, b, &w, &e);
            if (src != QD_OK) {
                rc = qd_err_set(err, src == QD_EDB_RETRY ? QD_EDB_RETRY : src, "%s %s: %s", symbol,
                                name, e.msg);
                break;
            }
            written += w;
        }
        macro_aligned_release(&ma);
        free(vals);
        free(scratch);
        free(hi);
        free(lo);
        json_object_set_new(row, "written", json_integer(written));
        if (json_object_size(errors) > 0)
            json_object_set(row, "feature_errors", errors);
        if (notes != NULL)
            json_object_set_new(row, "feature_fallbacks", notes);
        json_decref(errors);
        json_array_append_new(out, row);
        total += written;
        if (rc != QD_OK)
            break;
    }
    bar_series_release(&s);
    if (rc != QD_OK) {
        macro_raw_release(&raw);
        json_decref(out);
        return rc;
    }
    /* which inputs were found: observations (or reports) per series, up to end_date */
    *result = json_pack("{s:o, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "symbols", out,
                        "features", (json_int_t)nnames, "written", (json_int_t)total, "inputs",
                        "VIX", (json_int_t)raw.vix.n, "VIXCLS", (json_int_t)raw.vixcls.n,
                        "BAMLH0A0HYM2", (json_int_t)raw.hy.n, "T10Y2Y", (json_int_t)raw.t10y2y.n,
                        "DGS10", (json_int_t)raw.dgs10.n, "DGS2", (json_int_t)raw.dgs2.n, "cot",
                        (json_int_t)raw.cot.n);
    macro_raw_release(&raw);
    return QD_OK;
}
