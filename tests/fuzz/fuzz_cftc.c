/* libFuzzer harness: CFTC Socrata COT JSON (feeds/cftc.c). Parsing never crashes or leaks;
 * parsed rows have valid market codes and non-negative counts (-1 only for the optional ones). */
#include "feeds/cftc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cot_rows r = {0};
    struct qd_err err;
    size_t got;

    if (cftc_parse_page((const char *)data, size, &r, &got, &err) == QD_OK) {
        if (got != r.n)
            abort();
        for (size_t i = 0; i < r.n; i++)
            if (!cftc_market_valid(r.row[i].market) || r.row[i].open_interest < 0 ||
                r.row[i].noncomm_long < 0 || r.row[i].noncomm_short < 0 ||
                r.row[i].comm_short < -1)
                abort();
    } else if (r.n != 0) {
        abort();
    }
    cot_rows_release(&r);
    return 0;
}
