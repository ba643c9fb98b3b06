#ifndef COMMON_CRON_H
#define COMMON_CRON_H

/* 5-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC.
 * Supports *, numbers, lists a,b, ranges a-b, steps (star-slash-n, a-b/n, a/n), month names JAN-DEC
 * and weekday names SUN-SAT (any case), day of week 0-7 (0 and 7 are Sunday). As in Vixie
 * cron, when both day fields are restricted a day matches if either matches.
 * Pure; any thread. */

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>

struct cron {
    uint64_t minute;                /* bit n: minute n (0-59) */
    uint32_t hour;                  /* 0-23 */
    uint32_t dom;                   /* 1-31 */
    uint16_t month;                 /* 1-12 */
    uint8_t  dow;                   /* 0-6, Sunday = 0 */
    bool     dom_star, dow_star;
};

/* QD_EINVAL with a message naming the field ("minute", "hour", "day of month", "month",
 * "day of week") and what is wrong. */
enum qd_code cron_parse(const char *expr, struct cron *out, struct qd_err *err);
/* First matching minute strictly after `after` (seconds since the epoch, UTC); -1 when none
 * within 5 years (e.g. "0 0 30 2 *"). */
int64_t cron_next(const struct cron *c, int64_t after);

#endif
