/* Yahoo-style CSV bars parser (see csv_bars.h). */
#include "feeds/csv_bars.h"
#include "common/date.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 4096
#define NCOLS 7

enum col { C_DATE, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_ADJ, C_VOLUME };
static const char *const col_names[NCOLS] = {"Date",  "Open",      "High",  "Low",
                                             "Close", "Adj Close", "Volume"};

struct csv_bars {
    struct bar_series *out;
    char               line[LINE_MAX_BYTES + 1];
    size_t             len;
    size_t             lineno;      /* lines completed so far */
    size_t             skipped;
    bool               have_header, bom_checked, failed;
    int                map[16];     /* column index in the file -> enum col, -1: ignored */
    int                ncols;
    bool               has_adj;
    char               alias[NCOLS][64];    /* the file's header name for a column, or "" */
    bool               ignore_unknown;
};

static const char *const col_keys[NCOLS] = {"date",  "open",      "high",  "low",
                                            "close", "adj_close", "volume"};

enum qd_code
csv_bars_alias(struct csv_bars *p, const char *column, const char *header, struct qd_err *err)
{
    for (int k = 0; k < NCOLS; k++)
        if (strcmp(col_keys[k], column) == 0) {
            if (header[0] == '\0' || strlen(header) >= sizeof(p->alias[k]) ||
                strchr(header, ','))
                return qd_err_field(err, QD_EINVAL, column,
                                    "%s: a header name of 1-63 characters without commas",
                                    column);
            snprintf(p->alias[k], sizeof(p->alias[k]), "%s", header);
            return QD_OK;
        }
    return qd_err_field(err, QD_EINVAL, column,
                        "unknown column \"%s\" (date, open, high, low, close, adj_close, volume)",
                        column);
}

void
csv_bars_ignore_unknown(struct csv_bars *p, bool ignore)
{
    p->ignore_unknown = ignore;
}

struct csv_bars *
csv_bars_create(struct bar_series *out)
{
    struct csv_bars *p = calloc(1, sizeof(*p));

    if (p != NULL)
        p->out = out;
    return p;
}

void
csv_bars_destroy(struct csv_bars *p)
{
    free(p);
}

size_t
csv_bars_line(const struct csv_bars *p)
{
    return p->lineno;
}

size_t
csv_bars_skipped(const struct csv_bars *p)
{
    return p->skipped;
}

static enum qd_code fail(struct csv_bars *p, enum qd_code c, struct qd_err *err, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

static enum qd_code
fail(struct csv_bars *p, enum qd_code c, struct qd_err *err, const char *fmt, ...)
{
    char field[32], msg[200];
    va_list ap;

    p->failed = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(field, sizeof(field), "line %zu", p->lineno);
    return qd_err_field(err, c, field, "%s", msg);
}

/* Splits s (NUL-terminated, modified) on commas into at most max fields, trimming spaces. */
static int
split(char *s, char **f, int max)
{
    int n = 0;

    for (;;) {
        char *comma = strchr(s, ',');
        char *end;
        if (n == max)
            return max + 1;
        if (comma)
            *comma = '\0';
        while (*s == ' ')
            s++;
        end = s + strlen(s);
        while (end > s && end[-1] == ' ')
            *--end = '\0';
        f[n++] = s;
        if (!comma)
            return n;
        s = comma + 1;
    }
}

static enum qd_code
parse_header(struct csv_bars *p, char *s, struct qd_err *err)
{
    char *f[17];
    int n = split(s, f, 16);
    bool seen[NCOLS] = {false};

    if (n > 16)
        return fail(p, QD_EINVAL, err, "too many columns in the header%s%s", "", "");
    for (int i = 0; i < n; i++) {
        int c = -1;
        /* a mapped name first (date=Timestamp), then the standard names of unmapped columns */
        for (int k = 0; k < NCOLS && c < 0; k++)
            if (p->alias[k][0] != '\0' && strcasecmp(f[i], p->alias[k]) == 0)
                c = k;
        for (int k = 0; k < NCOLS && c < 0; k++)
            if (p->alias[k][0] == '\0' && strcasecmp(f[i], col_names[k]) == 0)
                c = k;
        if (c < 0 && p->ignore_unknown) {
            p->map[i] = -1;
            continue;
        }
        if (c < 0)
            return fail(p, QD_EINVAL, err, "unknown column \"%s\"%s", f[i], "");
        if (seen[c])
            return fail(p, QD_EINVAL, err, "column \"%s\" appears twice%s", col_names[c], "");
        seen[c] = true;
        p->map[i] = c;
    }
    for (int k = 0; k < NCOLS; k++)
        if (!seen[k] && k != C_ADJ)
            return fail(p, QD_EINVAL, err, "missing column \"%s\"%s",
                        p->alias[k][0] ? p->alias[k] : col_names[k], "");
    p->ncols = n;
    p->has_adj = seen[C_ADJ];
    p->have_header = true;
    return QD_OK;
}

static enum qd_code
parse_row(struct csv_bars *p, char *s, struct qd_err *err)
{
    char *f[17];
    int n = split(s, f, 16), nulls = 0;
    const char *v[NCOLS] = {NULL};
    double num[NCOLS] = {0};
    int32_t day;
    int64_t volume;
    char msg[160];

    if (n != p->ncols) {
        snprintf(msg, sizeof(msg), "%d", p->ncols);
        return fail(p, QD_EINVAL, err, "expected %s fields, got a different number%s", msg, "");
    }
    int used = 0;
    for (int i = 0; i < n; i++) {
        if (p->map[i] < 0)
            continue;               /* an ignored column */
        used++;
        v[p->map[i]] = f[i];
        if (p->map[i] != C_DATE && strcmp(f[i], "null") == 0)
            nulls++;
    }
    if (nulls > 0) {
        if (nulls == used - 1) {
            p->skipped++;
            return QD_OK;
        }
        return fail(p, QD_EINVAL, err, "some values are null%s%s", "", "");
    }
    if (!qd_date_parse(v[C_DATE], strlen(v[C_DATE]), &day))
        return fail(p, QD_EINVAL, err, "column \"Date\": \"%s\" is not a date as YYYY-MM-DD%s",
                    v[C_DATE], "");
    for (int k = C_OPEN; k <= C_CLOSE || k == C_ADJ; k++) {
        char *end;
        if (k == C_ADJ && !p->has_adj)
            break;
        errno = 0;
        num[k] = strtod(v[k], &end);
        if (errno || end == v[k] || *end != '\0' || !isfinite(num[k]))
            return fail(p, QD_EINVAL, err, "column \"%s\": \"%s\" is not a number", col_names[k],
                        v[k]);
        if (num[k] <= 0)
            return fail(p, QD_EINVAL, err, "column \"%s\": %s must be positive", col_names[k],
                        v[k]);
    }
    if (!p->has_adj)
        num[C_ADJ] = num[C_CLOSE];
    {
        char *end;
        double vol;
        errno = 0;
        vol = strtod(v[C_VOLUME], &end);
        if (errno || end == v[C_VOLUME] || *end != '\0' || !isfinite(vol) || vol < 0 ||
            vol != floor(vol) || vol > 9.0e18)
            return fail(p, QD_EINVAL, err,
                        "column \"Volume\": \"%s\" is not a non-negative whole number%s",
                        v[C_VOLUME], "");
        volume = (int64_t)vol;
    }
    {
        double hi = num[C_HIGH], lo = num[C_LOW], tol = 1e-9 * hi;
        if (hi + tol < fmax(num[C_OPEN], fmax(num[C_CLOSE], lo))) {
            snprintf(msg, sizeof(msg), "%s is below the open, close or low", v[C_HIGH]);
            return fail(p, QD_EINVAL, err, "column \"High\": %s%s", msg, "");
        }
        if (lo - tol > fmin(num[C_OPEN], num[C_CLOSE])) {
            snprintf(msg, sizeof(msg), "%s is above the open or close", v[C_LOW]);
            return fail(p, QD_EINVAL, err, "column \"Low\": %s%s", msg, "");
        }
    }
    if (p->out->n > 0 && day <= p->out->day[p->out->n - 1]) {
        char prev[11];
        qd_date_format(p->out->day[p->out->n - 1], prev);
        return fail(p, QD_EINVAL, err,
                    "column \"Date\": %s does not come after %s (dates must increase)", v[C_DATE],
                    prev);
    }
    {
        enum qd_code rc = bar_series_push(p->out, day, num[C_OPEN], num[C_HIGH], num[C_LOW],
                                          num[C_CLOSE], num[C_ADJ], volume);
        if (rc != QD_OK)
            return fail(p, rc, err, "too many rows%s%s", "", "");
    }
    return QD_OK;
}

static enum qd_code
end_line(struct csv_bars *p, struct qd_err *err)
{
    char *s = p->line;
    size_t n = p->len;

    p->lineno++;
    p->len = 0;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    s[n] = '\0';
    if (!p->bom_checked) {
        p->bom_checked = true;
        if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
            s += 3;
            n -= 3;
        }
    }
    if (n == 0 || strspn(s, " \t") == n)
        return QD_OK;
    return p->have_header ? parse_row(p, s, err) : parse_header(p, s, err);
}

enum qd_code
csv_bars_feed(struct csv_bars *p, const char *data, size_t len, struct qd_err *err)
{
    if (p->failed)
        return QD_EINVAL;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (p->len + take > LINE_MAX_BYTES) {
            p->lineno++;
            return fail(p, QD_ETOOBIG, err, "line longer than 4096 bytes%s%s", "", "");
        }
        memcpy(p->line + p->len, data, take);
        p->len += take;
        data += take;
        len -= take;
        if (nl) {
            enum qd_code rc = end_line(p, err);
            data++;
            len--;
            if (rc != QD_OK)
                return rc;
        }
    }
    return QD_OK;
}

enum qd_code
csv_bars_finish(struct csv_bars *p, struct qd_err *err)
{
    if (p->failed)
        return QD_EINVAL;
    if (p->len > 0) {
        enum qd_code rc = end_line(p, err);
        if (rc != QD_OK)
            return rc;
    }
    if (!p->have_header)
        return fail(p, QD_EINVAL, err, "empty upload: expected a header line %s%s",
                    "Date,Open,High,Low,Close,Adj Close,Volume", "");
    if (p->out->n == 0)
        return fail(p, QD_EINVAL, err, "no rows after the header%s%s", "", "");
    return QD_OK;
}
