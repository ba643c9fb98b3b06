/* libFuzzer harness: job submissions (POST /v1/jobs bodies): any JSON, any type, through the
 * validators of every registered job type. Never crashes; errors always name a field. */
#include "jobs/job.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    size_t ntypes;
    const struct job_type *types = job_types(&ntypes);
    struct qd_err err;

    if (body == NULL)
        return 0;
    for (size_t i = 0; i < ntypes; i++) {
        err.field[0] = '\0';
        if (job_validate(types[i].name, body, &err) != QD_OK && err.field[0] == '\0')
            abort();                    /* every refusal names its field */
    }
    json_decref(body);
    return 0;
}
