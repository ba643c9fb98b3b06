/* Cron expressions (see cron.h). Pure; any thread. */
#include "common/cron.h"
#include "common/date.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct field_def {
    const char *name;
    int min, max;
    const char *const *names;       /* names[i] is value min + i */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct field_def fields[5] = {
    {"minute", 0, 59, NULL},   {"hour", 0, 23, NULL},           {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names}, {"day of week", 0, 7, dow_names},
};

/* Reads a number or a name at *p; advances *p. */
static bool
read_value(const struct field_def *f, const char **p, int *out)
{
    const char *s = *p;

    if (isdigit((unsigned char)*s)) {
        int v = 0, n = 0;
        while (isdigit((unsigned char)*s) && n < 4) {
            v = v * 10 + (*s++ - '0');
            n++;
        }
        if (isdigit((unsigned char)*s))
            return false;
        *out = v;
        *p = s;
        return true;
    }
    if (f->names != NULL) {
        for (int i = 0; f->names[i]; i++) {
            if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
                *out = f->min + i;
                *p = s + 3;
                return true;
            }
        }
    }
    return false;
}

static enum qd_code
parse_field(const struct field_def *f, const char *text, uint64_t *bits, bool *star,
            struct qd_err *err)
{
    const char *p = text;

    *bits = 0;
    *star = text[0] == '*';
    for (;;) {
        int lo, hi, step = 1;
        if (*p == '*') {
            lo = f->min;
            hi = f->max;
            p++;
        } else {
            if (!read_value(f, &p, &lo))
                return qd_err_field(err, QD_EINVAL, "cron", "%s: \"%s\" is not valid", f->name,
                                    text);
            hi = lo;
            if (*p == '-') {
                p++;
                if (!read_value(f, &p, &hi))
                    return qd_err_field(err, QD_EINVAL, "cron", "%s: bad range in \"%s\"",
                                        f->name, text);
            }
        }
        if (*p == '/') {
            p++;
            if (!read_value(&(struct field_def){f->name, 0, 0, NULL}, &p, &step) || step == 0)
                return qd_err_field(err, QD_EINVAL, "cron", "%s: bad step in \"%s\"", f->name,
                                    text);
            if (lo == hi && text[0] != '*')
                hi = f->max;        /* "a/n": from a to the end */
        }
        if (lo < f->min || hi > f->max || lo > f->max || hi < f->min)
            return qd_err_field(err, QD_EINVAL, "cron", "%s: values must be %d-%d, got \"%s\"",
                                f->name, f->min, f->max, text);
        if (lo > hi)
            return qd_err_field(err, QD_EINVAL, "cron", "%s: range %d-%d is reversed", f->name,
                                lo, hi);
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << v;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '\0')
            return qd_err_field(err, QD_EINVAL, "cron", "%s: unexpected \"%s\"", f->name, p);
        return QD_OK;
    }
}

enum qd_code
cron_parse(const char *expr, struct cron *out, struct qd_err *err)
{
    char buf[256], *tok[6];
    int n = 0;
    uint64_t bits[5];
    bool star[5];
    size_t len = strlen(expr);
    char *p;

    if (len >= sizeof(buf))
        return qd_err_field(err, QD_EINVAL, "cron", "cron expression too long");
    memcpy(buf, expr, len + 1);
    for (p = buf; *p && n < 6;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (*p == '\0')
            break;
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    if (n != 5)
        return qd_err_field(err, QD_EINVAL, "cron",
                            "a cron expression has 5 fields (minute hour day-of-month month "
                            "day-of-week), got %d",
                            n);
    for (int i = 0; i < 5; i++) {
        enum qd_code rc = parse_field(&fields[i], tok[i], &bits[i], &star[i], err);
        if (rc != QD_OK)
            return rc;
    }
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);   /* 7 is Sunday */
    out->dom_star = star[2];
    out->dow_star = star[4];
    return QD_OK;
}

static bool
day_matches(const struct cron *c, int32_t day, unsigned dom)
{
    bool dm = (c->dom >> dom) & 1, wm = (c->dow >> qd_weekday(day)) & 1;

    if (!c->dom_star && !c->dow_star)
        return dm || wm;
    return dm && wm;
}

int64_t
cron_next(const struct cron *c, int64_t after)
{
    int64_t t = after - ((after % 60) + 60) % 60 + 60;
    int64_t limit = after + 5LL * 366 * 86400;

    while (t <= limit) {
        int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
        int64_t secs = t - days * 86400;
        unsigned hour = (unsigned)(secs / 3600), minute = (unsigned)(secs / 60 % 60);
        int y;
        unsigned m, d;

        qd_civil_from_days((int32_t)days, &y, &m, &d);
        if (!((c->month >> m) & 1)) {
            /* first day of the next month */
            int ny = m == 12 ? y + 1 : y;
            unsigned nm = m == 12 ? 1 : m + 1;
            t = (int64_t)qd_days_from_civil(ny, nm, 1) * 86400;
            continue;
        }
        if (!day_matches(c, (int32_t)days, d)) {
            t = (days + 1) * 86400;
            continue;
        }
        if (!((c->hour >> hour) & 1)) {
            t = days * 86400 + (int64_t)(hour + 1) * 3600;
            continue;
        }
        if (!((c->minute >> minute) & 1)) {
            t += 60;
            continue;
        }
        return t;
    }
    return -1;
}
