#ifndef COMMON_DATE_H
#define COMMON_DATE_H

/* Civil dates and UTC timestamps without the C library's time zone state. Any thread; pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 (proleptic Gregorian) for year/month(1-12)/day(1-31). */
int32_t qd_days_from_civil(int y, unsigned m, unsigned d);
void    qd_civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d);
/* 0 = Sunday … 6 = Saturday. */
unsigned qd_weekday(int32_t days);

/* Parses exactly "YYYY-MM-DD" (a real calendar date, years 1000-9999) from s[0..len).
 * Returns false on anything else. */
bool qd_date_parse(const char *s, size_t len, int32_t *days);
/* Writes "YYYY-MM-DD" and a NUL: buf needs 11 bytes. Returns 10. */
int  qd_date_format(int32_t days, char *buf);

/* Writes RFC 3339 UTC with microseconds trimmed to seconds, "2026-11-24T14:54:48Z", from
 * microseconds since the epoch; buf needs 21 bytes. Returns the length. */
int  qd_time_format(int64_t usec, char *buf);

/* Microseconds since the epoch (CLOCK_REALTIME) and monotonic milliseconds. */
int64_t qd_now_usec(void);
/* The calendar day in New York (US Eastern, with the US daylight-saving rule since 2007) at
 * unix_sec: the trading day of US markets. */
int32_t qd_new_york_day(int64_t unix_sec);
uint64_t qd_mono_ms(void);

#endif
