#ifndef CORE_BAR_H
#define CORE_BAR_H

/* Daily bars as columns (struct of arrays): what ingest produces, storage writes and engines
 * read. Caller-owned: bar_series_init/release; push grows the arrays up to max_rows. */

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct bar_series {
    size_t   n, cap, max_rows;
    int32_t *day;                   /* days since 1970-01-01, strictly increasing */
    double  *open, *high, *low, *close, *adj_close;
    int64_t *volume;
};

void bar_series_init(struct bar_series *s, size_t max_rows);
/* Appends one row; QD_ETOOBIG past max_rows (0 = no limit), QD_ENOMEM when out of memory. */
enum qd_code bar_series_push(struct bar_series *s, int32_t day, double open, double high,
                             double low, double close, double adj_close, int64_t volume);
void bar_series_clear(struct bar_series *s);            /* n = 0, keeps the memory */
void bar_series_release(struct bar_series *s);          /* frees; reusable after init */

#endif
