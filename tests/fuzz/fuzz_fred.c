/* libFuzzer harness: FRED observations JSON (feeds/fred.c). Parsing never crashes or leaks; a
 * parsed page's dates increase and its values are finite or NaN (missing). */
#include "feeds/fred.h"

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
    long long count;
    char msg[128];

    if (fred_parse_page((const char *)data, size, &s, &count, &err) == QD_OK) {
        for (size_t i = 0; i < s.n; i++)
            if ((i > 0 && s.day[i] <= s.day[i - 1]) || isinf(s.value[i]))
                abort();
    } else if (s.n != 0) {
        abort();                    /* nothing kept on error */
    }
    feed_series_release(&s);
    fred_error_message((const char *)data, size, msg, sizeof(msg));
    return 0;
}
