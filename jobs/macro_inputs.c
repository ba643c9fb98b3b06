/* Macro and positioning inputs (see macro_inputs.h). Worker threads. */
#include "jobs/macro_inputs.h"
#include "features/macro.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum qd_code
macro_raw_load(PGconn *c, int32_t to, const char *cot_market, struct macro_raw *r,
               struct qd_err *err)
{
    static const struct {
        const char *id;
        size_t      off;
    } series[] = {
        {"VIX", offsetof(struct macro_raw, vix)},
        {"VIXCLS", offsetof(struct macro_raw, vixcls)},
        {"BAMLH0A0HYM2", offsetof(struct macro_raw, hy)},
        {"T10Y2Y", offsetof(struct macro_raw, t10y2y)},
        {"DGS10", offsetof(struct macro_raw, dgs10)},
        {"DGS2", offsetof(struct macro_raw, dgs2)},
    };
    enum qd_code rc = QD_OK;

    memset(r, 0, sizeof(*r));
    for (size_t i = 0; rc == QD_OK && i < sizeof(series) / sizeof(series[0]); i++)
        rc = macro_db_read(c, series[i].id, to,
                           (struct macro_series *)((char *)r + series[i].off), err);
    if (rc == QD_OK)
        rc = cot_db_net_share(c, cot_market ? cot_market : MACRO_DEFAULT_COT_MARKET, to,
                              &r->cot, err);
    if (rc == QD_OK && r->cot.n > 0) {
        r->cot_z = malloc(r->cot.n * sizeof(double));
        if (r->cot_z == NULL)
            rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        else
            feat_report_zscore(r->cot.value, r->cot.n, MACRO_COT_Z_REPORTS, r->cot_z);
    }
    if (rc != QD_OK)
        macro_raw_release(r);
    return rc;
}

void
macro_raw_release(struct macro_raw *r)
{
    macro_series_release(&r->vix);
    macro_series_release(&r->vixcls);
    macro_series_release(&r->hy);
    macro_series_release(&r->t10y2y);
    macro_series_release(&r->dgs10);
    macro_series_release(&r->dgs2);
    macro_series_release(&r->cot);
    free(r->cot_z);
    r->cot_z = NULL;
}

static const double *
align(const struct macro_series *s, const double *values, int lag, int max_age,
      const int32_t *day, size_t n, double **slot)
{
    double *out;

    if (s->n == 0)
        return NULL;
    out = *slot;
    *slot += n;
    feat_asof(s->day, values ? values : s->value, s->n, lag, max_age, day, n, out);
    return out;
}

enum qd_code
macro_align(const struct macro_raw *r, const int32_t *day, size_t n, struct macro_aligned *out,
            struct qd_err *err)
{
    double *slot;
    const struct macro_series *vix = r->vix.n ? &r->vix : &r->vixcls;

    memset(out, 0, sizeof(*out));
    out->buf = malloc((8 * n + 1) * sizeof(double));
    if (out->buf == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    slot = out->buf;
    out->in.vix = align(vix, NULL, MACRO_VIX_LAG_DAYS, MACRO_DAILY_MAX_AGE, day, n, &slot);
    out->in.hy_oas = align(&r->hy, NULL, MACRO_FRED_LAG_DAYS, MACRO_DAILY_MAX_AGE, day, n, &slot);
    out->in.dgs10 = align(&r->dgs10, NULL, MACRO_FRED_LAG_DAYS, MACRO_DAILY_MAX_AGE, day, n,
                          &slot);
    if (r->t10y2y.n > 0) {
        out->in.curve = align(&r->t10y2y, NULL, MACRO_FRED_LAG_DAYS, MACRO_DAILY_MAX_AGE, day, n,
                              &slot);
    } else if (r->dgs10.n > 0 && r->dgs2.n > 0) {
        /* the curve from its two legs, each as of the bar */
        double *curve = slot;
        const double *two;
        slot += n;
        two = align(&r->dgs2, NULL, MACRO_FRED_LAG_DAYS, MACRO_DAILY_MAX_AGE, day, n, &slot);
        for (size_t i = 0; i < n; i++)
            curve[i] = out->in.dgs10[i] - two[i];
        out->in.curve = curve;
    }
    out->in.cot_net = align(&r->cot, NULL, MACRO_COT_LAG_DAYS, MACRO_COT_MAX_AGE, day, n, &slot);
    out->in.cot_net_z = align(&r->cot, r->cot_z, MACRO_COT_LAG_DAYS, MACRO_COT_MAX_AGE, day, n,
                              &slot);
    return QD_OK;
}

void
macro_aligned_release(struct macro_aligned *a)
{
    free(a->buf);
    memset(a, 0, sizeof(*a));
}
