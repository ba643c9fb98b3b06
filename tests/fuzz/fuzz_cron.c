/* libFuzzer harness: cron expressions (POST /v1/schedules). Parsing never crashes; a parsed
 * expression's next time is after the start and matches it again from one second earlier. */
#include "common/cron.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char expr[300];
    struct cron c;
    struct qd_err err;
    int64_t start = 1700000000, next;

    if (size >= sizeof(expr))
        size = sizeof(expr) - 1;
    memcpy(expr, data, size);
    expr[size] = '\0';
    if (cron_parse(expr, &c, &err) != QD_OK)
        return 0;
    next = cron_next(&c, start);
    if (next == -1)
        return 0;
    if (next <= start || next % 60 != 0 || cron_next(&c, next - 1) != next)
        abort();
    return 0;
}
