/* libFuzzer harness: Tradier expirations and chain JSON (feeds/tradier.c). Parsing never
 * crashes or leaks; parsed expirations increase; parsed contracts have a right of 'C' or 'P', a
 * finite strike and a NUL-terminated contract; a failed chain parse keeps the list as it was. */
#include "feeds/tradier.h"

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
    struct option_quote seed = {.contract = "SEED", .right = 'C', .strike = 1};
    struct qd_err err;
    int32_t days[64];
    size_t n = 0, got = 0;
    char msg[160];

    if (tradier_parse_expirations((const char *)data, size, days, 64, &n, &err) == QD_OK) {
        if (n > 64)
            abort();
        for (size_t i = 1; i < n; i++)
            if (days[i] <= days[i - 1])
                abort();
    }
    if (option_quotes_push(&l, &seed, &err) != QD_OK)
        return 0;
    if (tradier_parse_chain((const char *)data, size, &l, &got, &err) == QD_OK) {
        if (l.n != 1 + got)
            abort();
        for (size_t i = 1; i < l.n; i++)
            if ((l.q[i].right != 'C' && l.q[i].right != 'P') || !isfinite(l.q[i].strike) ||
                memchr(l.q[i].contract, '\0', sizeof(l.q[i].contract)) == NULL)
                abort();
    } else if (l.n != 1) {
        abort();
    }
    option_quotes_release(&l);
    tradier_error_message((const char *)data, size, msg, sizeof(msg));
    if (memchr(msg, '\0', sizeof(msg)) == NULL)
        abort();
    return 0;
}
