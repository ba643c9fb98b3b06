/* Macro factors and positioning (see macro.h). Pure; any thread. */
#include "features/macro.h"

#include <math.h>

void
feat_asof(const int32_t *sday, const double *sval, size_t sn, int lag_days, int max_age_days,
          const int32_t *day, size_t n, double *out)
{
    size_t j = 0;
    double last = NAN;
    int64_t last_known = 0;         /* the day the last value became known */
    int have = 0;

    for (size_t i = 0; i < n; i++) {
        while (j < sn && (int64_t)sday[j] + lag_days <= day[i]) {
            if (!isnan(sval[j])) {
                last = sval[j];
                last_known = (int64_t)sday[j] + lag_days;
                have = 1;
            }
            j++;
        }
        out[i] = have && day[i] - last_known <= max_age_days ? last : NAN;
    }
}

void
feat_change(const double *x, size_t n, unsigned w, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = i >= w ? x[i] - x[i - w] : NAN;   /* NaN - anything is NaN */
}

void
feat_report_zscore(const double *x, size_t n, unsigned w, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double m = 0, v = 0;
        out[i] = NAN;
        if (w == 0 || i + 1 < w)
            continue;
        for (size_t k = i + 1 - w; k <= i; k++)
            m += x[k];
        m /= w;
        for (size_t k = i + 1 - w; k <= i; k++)
            v += (x[k] - m) * (x[k] - m);
        v /= w;
        if (v > 0)                  /* NaN in the window: v is NaN and the test fails */
            out[i] = (x[i] - m) / sqrt(v);
    }
}
