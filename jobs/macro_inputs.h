#ifndef JOBS_MACRO_INPUTS_H
#define JOBS_MACRO_INPUTS_H

/*
 * The macro and positioning inputs of the feature factory and of the risk-regime filter: read
 * once per job from macro_observations / cot_reports, then aligned to each symbol's bars
 * (features/macro.h; docs/features.md lists the series, lags and fallbacks). Worker threads.
 */

#include "common/err.h"
#include "features/catalog.h"
#include "storage/macro_db.h"          /* PGconn */


/* The CFTC contract market code used when a job names none: E-mini S&P 500. */
#define MACRO_DEFAULT_COT_MARKET "13874A"

struct macro_raw {
    struct macro_series vix, vixcls, hy, t10y2y, dgs10, dgs2, cot;
    double             *cot_z;      /* cot.n values */
};

/* Reads every input series dated up to `to`; an absent series is empty, not an error. */
enum qd_code macro_raw_load(PGconn *c, int32_t to, const char *cot_market, struct macro_raw *r,
                            struct qd_err *err);
void macro_raw_release(struct macro_raw *r);

/* The inputs aligned to one symbol's days; in's arrays point into buf (NULL: not ingested). */
struct macro_aligned {
    double            *buf;
    struct feat_inputs in;
};
enum qd_code macro_align(const struct macro_raw *r, const int32_t *day, size_t n,
                         struct macro_aligned *out, struct qd_err *err);
void macro_aligned_release(struct macro_aligned *a);

#endif
