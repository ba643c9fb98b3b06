/*
 * ingest_macro (FRED series observations) and ingest_vix (the CBOE VIX close history) into
 * macro_observations, ingest_cot (CFTC legacy COT reports) into cot_reports (docs/feeds.md). One series failing does not fail the others: the result
 * lists per-series outcomes. When every series failed, the job fails with the first error; as
 * transient (the runner retries it with backoff) when every failure may heal (timeouts, 429,
 * 5xx after the client's own retries). Upserts: a re-run writes nothing new. Worker thread.
 */
#include "common/date.h"
#include "feeds/cboe.h"
#include "feeds/cftc.h"
#include "feeds/fred.h"
#include "jobs/job.h"
#include "storage/macro_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

job_validate_fn ingest_macro_validate, ingest_vix_validate, ingest_cot_validate;
job_run_fn ingest_macro_run, ingest_vix_run, ingest_cot_run;

/* The COT markets ingest_cot fetches when params.markets is absent (CFTC contract market
 * codes): E-mini S&P 500, 10-year T-note, VIX futures, gold, crude oil (WTI). */
static const char *const default_markets[] = {"13874A", "043602", "1170E1", "088691", "067651",
                                              NULL};

/* The series ingest_macro fetches when params.series is absent: the macro factors' inputs. */
static const char *const default_series[] = {"DGS10",  "DGS2",    "DGS3MO",   "T10Y2Y",
                                              "BAMLH0A0HYM2", "VIXCLS", "FEDFUNDS", "CPIAUCSL",
                                              "UNRATE", NULL};

static enum qd_code
dates(const json_t *params, int32_t *a, int32_t *b, struct qd_err *err)
{
    enum qd_code rc;

    *a = INT32_MIN;
    *b = INT32_MAX;
    /* both optional: QD_ENOTFOUND says absent (open end) */
    if ((rc = job_param_date(params, "start_date", false, a, err)) != QD_OK &&
        rc != QD_ENOTFOUND)
        return rc;
    if ((rc = job_param_date(params, "end_date", false, b, err)) != QD_OK && rc != QD_ENOTFOUND)
        return rc;
    if (*b < *a)
        return qd_err_field(err, QD_EINVAL, "params.end_date", "end_date is before start_date");
    return QD_OK;
}

enum qd_code
ingest_macro_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"series", "start_date", "end_date", NULL};
    const json_t *series = json_object_get(params, "series"), *v;
    int32_t a, b;
    size_t i;
    enum qd_code rc;

    if ((rc = job_param_known(params, known, err)) != QD_OK ||
        (rc = dates(params, &a, &b, err)) != QD_OK)
        return rc;
    if (series == NULL)
        return QD_OK;
    if (!json_is_array(series) || json_array_size(series) == 0 || json_array_size(series) > 200)
        return qd_err_field(err, QD_EINVAL, "params.series", "series is 1-200 FRED series ids");
    json_array_foreach(series, i, v)
    {
        if (!json_is_string(v) || !fred_series_id_valid(json_string_value(v))) {
            char field[48];
            snprintf(field, sizeof(field), "params.series[%zu]", i);
            return qd_err_field(err, QD_EINVAL, field,
                                "a FRED series id: 1-64 of A-Z, 0-9 and _, e.g. \"DGS10\"");
        }
    }
    return QD_OK;
}

static bool
stop_cb(void *arg)
{
    return job_should_stop(arg);
}

/* Stores one fetched series; fills the outcome row. */
static enum qd_code
store(struct job_ctx *ctx, const char *id, const struct feed_series *s, int32_t a, int32_t b,
      json_t *row, struct qd_err *err)
{
    long long written = 0;
    size_t from = 0, to = s->n;
    char first[16] = "", last[16] = "";
    enum qd_code rc;

    /* the CBOE file is the whole history: keep the requested range */
    while (from < to && s->day[from] < a)
        from++;
    while (to > from && s->day[to - 1] > b)
        to--;
    rc = macro_db_upsert((PGconn *)job_conn(ctx), id, s->day + from, s->value + from, to - from,
                         &written, err);
    if (rc != QD_OK)
        return rc;
    if (to > from) {
        qd_date_format(s->day[from], first);
        qd_date_format(s->day[to - 1], last);
    }
    json_object_set_new(row, "rows", json_integer((json_int_t)(to - from)));
    json_object_set_new(row, "written", json_integer(written));
    json_object_set_new(row, "first", to > from ? json_string(first) : json_null());
    json_object_set_new(row, "last", to > from ? json_string(last) : json_null());
    return QD_OK;
}

/* The requested date range, handed to each item. */
struct range {
    int32_t a, b;
};

static enum qd_code
one_series(struct job_ctx *ctx, const char *id, void *arg, json_t *row, struct qd_err *e)
{
    const struct range *r = arg;
    struct feed_series s;
    enum qd_code rc = fred_fetch(id, r->a, r->b, stop_cb, ctx, &s, e);

    if (rc == QD_OK)
        rc = store(ctx, id, &s, r->a, r->b, row, e);
    feed_series_release(&s);
    return rc;
}

enum qd_code
ingest_macro_run(struct job_ctx *ctx, const json_t *params, json_t **result, struct qd_err *err)
{
    struct range r;

    dates(params, &r.a, &r.b, err);
    return job_each_item(ctx, params, "series", "series_id", default_series, one_series, &r,
                         result, err);
}

enum qd_code
ingest_vix_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"start_date", "end_date", NULL};
    int32_t a, b;
    enum qd_code rc;

    if ((rc = job_param_known(params, known, err)) != QD_OK)
        return rc;
    return dates(params, &a, &b, err);
}

enum qd_code
ingest_vix_run(struct job_ctx *ctx, const json_t *params, json_t **result, struct qd_err *err)
{
    struct feed_series s;
    json_t *row = json_pack("{s:s}", "series_id", "VIX");
    int32_t a, b;
    enum qd_code rc;

    dates(params, &a, &b, err);
    job_progress(ctx, 0.1, "downloading the CBOE VIX history");
    rc = cboe_fetch_vix(stop_cb, ctx, &s, err);
    if (rc == QD_OK)
        rc = store(ctx, "VIX", &s, a, b, row, err);
    feed_series_release(&s);
    if (rc != QD_OK) {
        json_decref(row);
        return rc;
    }
    *result = row;
    return QD_OK;
}

enum qd_code
ingest_cot_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"markets", "start_date", "end_date", NULL};
    const json_t *markets = json_object_get(params, "markets"), *v;
    int32_t a, b;
    size_t i;
    enum qd_code rc;

    if ((rc = job_param_known(params, known, err)) != QD_OK ||
        (rc = dates(params, &a, &b, err)) != QD_OK)
        return rc;
    if (markets == NULL)
        return QD_OK;
    if (!json_is_array(markets) || json_array_size(markets) == 0 ||
        json_array_size(markets) > 100)
        return qd_err_field(err, QD_EINVAL, "params.markets",
                            "markets is 1-100 CFTC contract market codes");
    json_array_foreach(markets, i, v)
    {
        if (!json_is_string(v) || !cftc_market_valid(json_string_value(v))) {
            char field[48];
            snprintf(field, sizeof(field), "params.markets[%zu]", i);
            return qd_err_field(err, QD_EINVAL, field,
                                "a CFTC contract market code (1-16 of 0-9, A-Z), e.g. \"13874A\"");
        }
    }
    return QD_OK;
}

/* Stores one market's reports; fills the outcome row. */
static enum qd_code
store_cot(struct job_ctx *ctx, const char *market, const struct cot_rows *r, json_t *row,
          struct qd_err *err)
{
    struct cot_db_row *rows = calloc(r->n + 1, sizeof(*rows));
    long long written = 0;
    char first[16] = "", last[16] = "";
    enum qd_code rc;

    if (rows == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++)
        rows[i] = (struct cot_db_row){.day = r->row[i].day, .name = r->row[i].name,
                                      .open_interest = r->row[i].open_interest,
                                      .noncomm_long = r->row[i].noncomm_long,
                                      .noncomm_short = r->row[i].noncomm_short,
                                      .noncomm_spread = r->row[i].noncomm_spread,
                                      .comm_long = r->row[i].comm_long,
                                      .comm_short = r->row[i].comm_short};
    rc = cot_db_upsert((PGconn *)job_conn(ctx), market, rows, r->n, &written, err);
    free(rows);
    if (rc != QD_OK)
        return rc;
    if (r->n > 0) {
        qd_date_format(r->row[0].day, first);
        qd_date_format(r->row[r->n - 1].day, last);
        json_object_set_new(row, "market_name", json_string(r->row[0].name));
    }
    json_object_set_new(row, "rows", json_integer((json_int_t)r->n));
    json_object_set_new(row, "written", json_integer(written));
    json_object_set_new(row, "first", r->n ? json_string(first) : json_null());
    json_object_set_new(row, "last", r->n ? json_string(last) : json_null());
    return QD_OK;
}

static enum qd_code
one_market(struct job_ctx *ctx, const char *id, void *arg, json_t *row, struct qd_err *e)
{
    const struct range *g = arg;
    struct cot_rows r;
    enum qd_code rc = cftc_fetch(id, g->a, g->b, stop_cb, ctx, &r, e);

    if (rc == QD_OK)
        rc = store_cot(ctx, id, &r, row, e);
    cot_rows_release(&r);
    return rc;
}

enum qd_code
ingest_cot_run(struct job_ctx *ctx, const json_t *params, json_t **result, struct qd_err *err)
{
    struct range r;

    dates(params, &r.a, &r.b, err);
    return job_each_item(ctx, params, "markets", "market", default_markets, one_market, &r,
                         result, err);
}
