/* libFuzzer harness: the CBOE VIX history CSV (feeds/cboe.c). Parsing never crashes or leaks;
 * a parsed file's dates increase and its closes are finite and positive. */
#include "feeds/cboe.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed_series s = {0};
    struct qd_err err;

    if (cboe_parse_vix((const char *)data, size, &s, &err) == QD_OK) {
        for (size_t i = 0; i < s.n; i++)
            if ((i > 0 && s.day[i] <= s.day[i - 1]) || !isfinite(s.value[i]) ||
                !(s.value[i] > 0))
                abort();
    } else if (s.n != 0) {
        abort();
    }
    feed_series_release(&s);
    return 0;
}
