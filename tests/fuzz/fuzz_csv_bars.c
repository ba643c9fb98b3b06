/* libFuzzer harness: the streamed CSV bars parser (PUT /v1/bars bodies), fed in the chunks the
 * first byte chooses, must never crash, and must give the same answer whatever the chunking. */
#include "core/bar.h"
#include "feeds/csv_bars.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum qd_code
parse(const uint8_t *data, size_t size, size_t chunk, struct bar_series *s)
{
    struct csv_bars *p = csv_bars_create(s);
    struct qd_err err;
    enum qd_code rc = QD_OK;

    for (size_t at = 0; at < size && rc == QD_OK; at += chunk)
        rc = csv_bars_feed(p, (const char *)data + at, at + chunk > size ? size - at : chunk,
                           &err);
    if (rc == QD_OK)
        rc = csv_bars_finish(p, &err);
    csv_bars_destroy(p);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bar_series a, b;
    size_t chunk;
    enum qd_code ra, rb;

    if (size < 1)
        return 0;
    chunk = 1 + data[0] % 64;
    data++;
    size--;
    bar_series_init(&a, 100000);
    bar_series_init(&b, 100000);
    ra = parse(data, size, size ? size : 1, &a);
    rb = parse(data, size, chunk, &b);
    if (ra != rb || a.n != b.n)
        abort();                        /* chunking changed the answer */
    for (size_t i = 0; i < a.n; i++)
        if (a.day[i] != b.day[i] || memcmp(&a.close[i], &b.close[i], sizeof(double)) != 0 ||
            a.volume[i] != b.volume[i] || !(a.low[i] > 0) || a.high[i] < a.low[i])
            abort();
    bar_series_release(&a);
    bar_series_release(&b);
    return 0;
}
