/* Civil dates and UTC timestamps (see date.h). Pure except the two clock reads. Any thread. */
#include "common/date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days from civil: the era-based algorithm for the proleptic Gregorian calendar. */
int32_t
qd_days_from_civil(int y, unsigned m, unsigned d)
{
    int era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void
qd_civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d)
{
    int z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

unsigned
qd_weekday(int32_t days)
{
    return (unsigned)(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

static bool
digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

bool
qd_date_parse(const char *s, size_t len, int32_t *days)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, m, d, dim;

    if (len != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
        !digits(s + 8, 2, &d))
        return false;
    if (y < 1000 || m < 1 || m > 12 || d < 1)
        return false;
    dim = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > dim)
        return false;
    *days = qd_days_from_civil((int)y, m, d);
    return true;
}

int
qd_date_format(int32_t days, char *buf)
{
    int y;
    unsigned m, d;

    char tmp[32];

    qd_civil_from_days(days, &y, &m, &d);
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02u", y, m, d);
    memcpy(buf, tmp, 10);
    buf[10] = '\0';
    return 10;
}

int
qd_time_format(int64_t usec, char *buf)
{
    int64_t secs = usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;

    char tmp[48];

    qd_civil_from_days((int32_t)days, &y, &m, &d);
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m, d, (unsigned)(rem / 3600),
             (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
    memcpy(buf, tmp, 20);
    buf[20] = '\0';
    return 20;
}

int64_t
qd_now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t
qd_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The n-th Sunday (n >= 1) of month m of year y, as days. */
static int32_t
nth_sunday(int y, unsigned m, unsigned n)
{
    int32_t first = qd_days_from_civil(y, m, 1);
    return first + (int32_t)((7 - qd_weekday(first)) % 7) + (int32_t)(7 * (n - 1));
}

int32_t
qd_new_york_day(int64_t unix_sec)
{
    int32_t utc_day = (int32_t)((unix_sec >= 0 ? unix_sec : unix_sec - 86399) / 86400);
    int y;
    unsigned m, d;
    int64_t dst_on, dst_off;

    qd_civil_from_days(utc_day, &y, &m, &d);
    /* US rule since 2007: EDT (UTC-4) from 02:00 EST on the second Sunday of March (07:00 UTC)
     * to 02:00 EDT on the first Sunday of November (06:00 UTC); EST (UTC-5) otherwise */
    dst_on = (int64_t)nth_sunday(y, 3, 2) * 86400 + 7 * 3600;
    dst_off = (int64_t)nth_sunday(y, 11, 1) * 86400 + 6 * 3600;
    unix_sec -= (unix_sec >= dst_on && unix_sec < dst_off) ? 4 * 3600 : 5 * 3600;
    return (int32_t)((unix_sec >= 0 ? unix_sec : unix_sec - 86399) / 86400);
}
