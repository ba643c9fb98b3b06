/* libFuzzer harness: Polygon contracts and aggregates JSON (feeds/polygon.c). Parsing never
 * crashes or leaks; contracts have a right of 'C' or 'P' and a finite strike; next_url fits
 * its buffer; a failed parse keeps the list as it was; bars stay within max. */
#include "feeds/polygon.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct option_quotes l = {0};
    struct option_quote seed = {.contract = "SEED", .right = 'P', .strike = 1};
    struct polygon_bar bars[8];
    struct qd_err err;
    size_t got = 0, nb = 0;
    char next[256], msg[160];

    if (option_quotes_push(&l, &seed, &err) != QD_OK)
        return 0;
    if (polygon_parse_contracts((const char *)data, size, &l, &got, next, sizeof(next), &err) ==
        QD_OK) {
        if (l.n != 1 + got || memchr(next, '\0', sizeof(next)) == NULL)
            abort();
        for (size_t i = 1; i < l.n; i++)
            if ((l.q[i].right != 'C' && l.q[i].right != 'P') || !isfinite(l.q[i].strike) ||
                strncmp(l.q[i].contract, "O:", 2) == 0)
                abort();
    } else if (l.n != 1) {
        abort();
    }
    option_quotes_release(&l);
    if (polygon_parse_aggs((const char *)data, size, bars, 8, &nb, &err) == QD_OK && nb > 8)
        abort();
    polygon_error_message((const char *)data, size, msg, sizeof(msg));
    if (memchr(msg, '\0', sizeof(msg)) == NULL)
        abort();
    return 0;
}
