/*
 * ingest_options: option chain snapshots of underlyings into option_quotes (docs/feeds.md).
 * data_provider "tradier": the current chains with greeks (expirations, then one chain per
 * expiration), stored as of today's New York date. data_provider "polygon": the contracts
 * listed as of `as_of` and each one's daily bar that day (last, volume). One symbol failing
 * does not fail the others (job_each_item). Upserts: a re-run writes nothing new. Worker thread.
 */
#include "common/date.h"
#include "feeds/options.h"
#include "feeds/polygon.h"
#include "feeds/tradier.h"
#include "jobs/job.h"
#include "storage/options_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

job_validate_fn ingest_options_validate;
job_run_fn ingest_options_run;

#define MAX_EXPIRATIONS 1024

struct opt_params {
    bool    polygon;
    int32_t as_of;
    int32_t want[100];              /* params.expirations, sorted */
    size_t  nwant;
    size_t  max_expirations;        /* 0: all */
    size_t  max_contracts;          /* polygon */
};

static int
cmp_day(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Reads (and checks) the params into p. */
static enum qd_code
read_params(const json_t *params, struct opt_params *p, struct qd_err *err)
{
    const json_t *syms = json_object_get(params, "symbols"), *v;
    const json_t *prov = json_object_get(params, "data_provider");
    const json_t *exps = json_object_get(params, "expirations");
    const json_t *mx = json_object_get(params, "max_expirations");
    const json_t *mc = json_object_get(params, "max_contracts");
    size_t i;
    enum qd_code rc;

    memset(p, 0, sizeof(*p));
    p->max_contracts = 1000;
    if (!json_is_array(syms) || json_array_size(syms) == 0 || json_array_size(syms) > 100)
        return qd_err_field(err, QD_EINVAL, "params.symbols",
                            "symbols is 1-100 underlying symbols, e.g. [\"SPY\"]");
    json_array_foreach(syms, i, v)
    {
        if (!json_is_string(v) || !option_underlying_valid(json_string_value(v))) {
            char field[48];
            snprintf(field, sizeof(field), "params.symbols[%zu]", i);
            return qd_err_field(err, QD_EINVAL, field,
                                "an underlying symbol: 1-10 of A-Z, 0-9, '.' and '-'");
        }
    }
    if (prov != NULL &&
        !(json_is_string(prov) && (strcmp(json_string_value(prov), "tradier") == 0 ||
                                   strcmp(json_string_value(prov), "polygon") == 0)))
        return qd_err_field(err, QD_EINVAL, "params.data_provider",
                            "data_provider is \"tradier\" (the default) or \"polygon\"");
    p->polygon = prov != NULL && strcmp(json_string_value(prov), "polygon") == 0;
    rc = job_param_date(params, "as_of", false, &p->as_of, err);
    if (rc == QD_OK && !p->polygon)
        return qd_err_field(err, QD_EINVAL, "params.as_of",
                            "Tradier serves the current chains only: as_of is for "
                            "data_provider \"polygon\"");
    if (rc == QD_ENOTFOUND)
        p->as_of = qd_new_york_day((int64_t)time(NULL));
    else if (rc != QD_OK)
        return rc;
    if (exps != NULL) {
        if (!json_is_array(exps) || json_array_size(exps) == 0 || json_array_size(exps) > 100)
            return qd_err_field(err, QD_EINVAL, "params.expirations",
                                "expirations is 1-100 dates as YYYY-MM-DD");
        json_array_foreach(exps, i, v)
        {
            if (!json_is_string(v) ||
                !qd_date_parse(json_string_value(v), json_string_length(v), &p->want[i])) {
                char field[48];
                snprintf(field, sizeof(field), "params.expirations[%zu]", i);
                return qd_err_field(err, QD_EINVAL, field, "a date as YYYY-MM-DD");
            }
        }
        p->nwant = json_array_size(exps);
        qsort(p->want, p->nwant, sizeof(p->want[0]), cmp_day);
    }
    if (mx != NULL) {
        if (!json_is_integer(mx) || json_integer_value(mx) < 1 ||
            json_integer_value(mx) > MAX_EXPIRATIONS)
            return qd_err_field(err, QD_EINVAL, "params.max_expirations",
                                "max_expirations is an integer from 1 to %d (the nearest "
                                "expirations)", MAX_EXPIRATIONS);
        p->max_expirations = (size_t)json_integer_value(mx);
    }
    if (mc != NULL) {
        if (!p->polygon)
            return qd_err_field(err, QD_EINVAL, "params.max_contracts",
                                "max_contracts is for data_provider \"polygon\"");
        if (!json_is_integer(mc) || json_integer_value(mc) < 1 ||
            json_integer_value(mc) > 100000)
            return qd_err_field(err, QD_EINVAL, "params.max_contracts",
                                "max_contracts is an integer from 1 to 100000");
        p->max_contracts = (size_t)json_integer_value(mc);
    }
    return QD_OK;
}

enum qd_code
ingest_options_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"symbols",         "data_provider", "as_of",
                                        "expirations",     "max_expirations",
                                        "max_contracts",   NULL};
    struct opt_params p;
    enum qd_code rc;

    if ((rc = job_param_known(params, known, err)) != QD_OK)
        return rc;
    return read_params(params, &p, err);
}

static bool
stop_cb(void *arg)
{
    return job_should_stop(arg);
}

static bool
wanted(const struct opt_params *p, int32_t day)
{
    return p->nwant == 0 || bsearch(&day, p->want, p->nwant, sizeof(day), cmp_day) != NULL;
}

/* Keeps the quotes of the first max_expirations expirations (0: all); q sorted by expiration
 * is not assumed. */
static void
keep_nearest(struct option_quotes *l, size_t max_expirations)
{
    int32_t *days;
    size_t nd = 0, k = 0, m = 0;

    if (max_expirations == 0 || l->n == 0 || (days = malloc(l->n * sizeof(*days))) == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        days[i] = l->q[i].expiration;
    qsort(days, l->n, sizeof(*days), cmp_day);
    for (size_t i = 0; i < l->n; i++)
        if (i == 0 || days[i] != days[i - 1])
            days[nd++] = days[i];
    if (nd > max_expirations) {
        int32_t last = days[max_expirations - 1];
        for (k = 0; k < l->n; k++)
            if (l->q[k].expiration <= last)
                l->q[m++] = l->q[k];
        l->n = m;
    }
    free(days);
}

static enum qd_code
fetch_tradier(struct job_ctx *ctx, const char *sym, const struct opt_params *p,
              struct option_quotes *out, json_t *row, struct qd_err *e)
{
    int32_t *days = malloc(MAX_EXPIRATIONS * sizeof(*days));
    size_t n = 0, used = 0;
    enum qd_code rc;

    if (days == NULL)
        return qd_err_set(e, QD_ENOMEM, "out of memory");
    rc = tradier_fetch_expirations(sym, stop_cb, ctx, days, MAX_EXPIRATIONS, &n, e);
    if (rc == QD_OK && n == 0)
        rc = qd_err_set(e, QD_ENOTFOUND, "Tradier lists no option expirations for %s (unknown "
                        "symbol or no listed options)", sym);
    for (size_t i = 0; i < n && rc == QD_OK; i++) {
        if (!wanted(p, days[i]) || (p->max_expirations && used == p->max_expirations))
            continue;
        if (job_should_stop(ctx)) {
            rc = qd_err_set(e, QD_ECANCELED, "cancelled");
            break;
        }
        rc = tradier_fetch_chain(sym, days[i], stop_cb, ctx, out, e);
        used++;
    }
    free(days);
    if (rc == QD_OK && used == 0)
        rc = qd_err_set(e, QD_ENOTFOUND, "Tradier lists none of the requested expirations for "
                        "%s", sym);
    json_object_set_new(row, "expirations", json_integer((json_int_t)used));
    return rc;
}

static enum qd_code
fetch_polygon(struct job_ctx *ctx, const char *sym, const struct opt_params *p,
              struct option_quotes *out, json_t *row, struct qd_err *e)
{
    size_t nexp = 0;
    enum qd_code rc = QD_OK;

    if (p->nwant == 0)
        rc = polygon_fetch_contracts(sym, p->as_of, INT32_MIN, p->max_contracts, stop_cb, ctx,
                                     out, e);
    for (size_t i = 0; i < p->nwant && rc == QD_OK; i++)
        rc = polygon_fetch_contracts(sym, p->as_of, p->want[i], p->max_contracts - out->n,
                                     stop_cb, ctx, out, e);
    if (rc != QD_OK)
        return rc;
    if (out->n == 0) {
        char day[16];
        qd_date_format(p->as_of, day);
        return qd_err_set(e, QD_ENOTFOUND, "Polygon lists no option contracts for %s%s on %s "
                          "(unknown symbol, or none listed that day)", sym,
                          p->nwant ? " with the requested expirations" : "", day);
    }
    keep_nearest(out, p->max_expirations);
    for (size_t i = 0; i < out->n && rc == QD_OK; i++) {
        if (job_should_stop(ctx))
            return qd_err_set(e, QD_ECANCELED, "cancelled");
        rc = polygon_fetch_day(&out->q[i], p->as_of, stop_cb, ctx, e);
        nexp += i == 0 || out->q[i].expiration != out->q[i - 1].expiration;
    }
    json_object_set_new(row, "expirations", json_integer((json_int_t)nexp));
    return rc;
}

static enum qd_code
one_symbol(struct job_ctx *ctx, const char *sym, void *arg, json_t *row, struct qd_err *e)
{
    const struct opt_params *p = arg;
    struct option_quotes q = {0};
    long long written = 0;
    char day[16];
    enum qd_code rc = p->polygon ? fetch_polygon(ctx, sym, p, &q, row, e)
                                 : fetch_tradier(ctx, sym, p, &q, row, e);

    if (rc == QD_OK)
        rc = options_db_upsert((PGconn *)job_conn(ctx), sym, p->as_of,
                               p->polygon ? "polygon" : "tradier", q.q, q.n, &written, e);
    if (rc == QD_OK) {
        qd_date_format(p->as_of, day);
        json_object_set_new(row, "as_of", json_string(day));
        json_object_set_new(row, "rows", json_integer((json_int_t)q.n));
        json_object_set_new(row, "written", json_integer(written));
    }
    option_quotes_release(&q);
    return rc;
}

enum qd_code
ingest_options_run(struct job_ctx *ctx, const json_t *params, json_t **result,
                   struct qd_err *err)
{
    struct opt_params p;
    enum qd_code rc = read_params(params, &p, err);

    if (rc != QD_OK)
        return rc;
    rc = job_each_item(ctx, params, "symbols", "symbol", NULL, one_symbol, &p, result, err);
    if (rc == QD_OK)
        json_object_set_new(*result, "data_provider",
                            json_string(p.polygon ? "polygon" : "tradier"));
    return rc;
}
