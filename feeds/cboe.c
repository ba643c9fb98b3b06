/* CBOE VIX history CSV: parser and client (see cboe.h). */
#include "feeds/cboe.h"
#include "common/date.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses MM/DD/YYYY. */
static bool
parse_mdy(const char *s, size_t len, int32_t *day)
{
    unsigned m = 0, d = 0, y = 0;
    int32_t back;
    char iso[11];

    if (len != 10 || s[2] != '/' || s[5] != '/')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
            return false;
    m = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    d = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
    for (size_t i = 6; i < 10; i++)
        y = y * 10 + (unsigned)(s[i] - '0');
    snprintf(iso, sizeof(iso), "%04u-%02u-%02u", y % 10000, m % 100, d % 100);
    /* qd_date_parse checks the calendar (month length, leap years) */
    if (!qd_date_parse(iso, 10, &back))
        return false;
    *day = back;
    return true;
}

/* A price field: a plain decimal number, finite and positive. */
static bool
parse_price(const char *s, size_t len, double *v)
{
    char buf[40], *end;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strspn(buf, "0123456789.") != len)
        return false;
    *v = strtod(buf, &end);
    return *end == '\0' && isfinite(*v) && *v > 0;
}

enum qd_code
cboe_parse_vix(const char *csv, size_t len, struct feed_series *close, struct qd_err *err)
{
    const char *p = csv, *end = csv + len;
    unsigned long line = 0;

    memset(close, 0, sizeof(*close));
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        const char *f[5];
        size_t fl[5], nf = 0;
        double v[4];
        int32_t day;

        line++;
        if (e > p && e[-1] == '\r')
            e--;
        if (e == p && nl == NULL)
            break;                  /* nothing after the last newline */
        for (const char *q = p; nf < 5;) {
            const char *c = memchr(q, ',', (size_t)(e - q));
            f[nf] = q;
            fl[nf++] = (size_t)((c ? c : e) - q);
            if (c == NULL)
                break;
            q = c + 1;
            if (nf == 5) {
                feed_series_release(close);
                return qd_err_set(err, QD_EINVAL, "line %lu: more than 5 fields", line);
            }
        }
        if (line == 1) {
            static const char *const names[5] = {"DATE", "OPEN", "HIGH", "LOW", "CLOSE"};
            for (size_t i = 0; i < 5; i++)
                if (nf != 5 || fl[i] != strlen(names[i]) || strncasecmp(f[i], names[i], fl[i]))
                    return qd_err_set(err, QD_EINVAL,
                                      "line 1: the header must be DATE,OPEN,HIGH,LOW,CLOSE");
        } else {
            if (nf != 5) {
                feed_series_release(close);
                return qd_err_set(err, QD_EINVAL, "line %lu: 5 fields expected, got %zu", line,
                                  nf);
            }
            if (!parse_mdy(f[0], fl[0], &day)) {
                feed_series_release(close);
                return qd_err_set(err, QD_EINVAL, "line %lu: bad date (MM/DD/YYYY)", line);
            }
            for (size_t i = 0; i < 4; i++)
                if (!parse_price(f[i + 1], fl[i + 1], &v[i])) {
                    feed_series_release(close);
                    return qd_err_set(err, QD_EINVAL, "line %lu: bad %s", line,
                                      i == 0 ? "open" : i == 1 ? "high" : i == 2 ? "low" : "close");
                }
            if (v[1] < v[2] || v[3] > v[1] || v[3] < v[2]) {
                feed_series_release(close);
                return qd_err_set(err, QD_EINVAL, "line %lu: the close is outside [low, high]",
                                  line);
            }
            if (close->n > 0 && day <= close->day[close->n - 1]) {
                bool repeated = day == close->day[close->n - 1];
                feed_series_release(close);
                return qd_err_set(err, QD_EINVAL, "line %lu: date %s", line,
                                  repeated ? "repeated" : "out of order");
            }
            if (feed_series_push(close, day, v[3]) != QD_OK) {
                feed_series_release(close);
                return qd_err_set(err, QD_ENOMEM, "out of memory");
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (line == 0)
        return qd_err_set(err, QD_EINVAL, "empty file: no header");
    return QD_OK;
}

/* A 200 with an HTML page where the CSV should be may heal (a CDN error page): retry. */
static enum qd_code
check_csv(const struct feed_response *r, void *arg, struct qd_err *err)
{
    (void)arg;
    if (strncmp(r->content_type, "text/html", 9) == 0 ||
        (r->len > 0 && (r->body[0] == '<' || memchr(r->body, '<', r->len < 64 ? r->len : 64))))
        return qd_err_set(err, QD_ETRANSIENT, "an HTML page instead of the CSV");
    return QD_OK;
}

enum qd_code
cboe_fetch_vix(feed_stop_fn *stop, void *stop_arg, struct feed_series *close, struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    char url[700];
    struct feed_response r;
    enum qd_code rc;

    memset(close, 0, sizeof(*close));
    snprintf(url, sizeof(url), "%s/api/global/us_indices/daily_prices/VIX_History.csv",
             fs->cboe_url);
    rc = feed_get(&fs->http, url, url, check_csv, NULL, stop, stop_arg, &r, err);
    if (rc == QD_OK && (r.status == 401 || r.status == 403))
        rc = qd_err_set(err, QD_EAUTH, "%s: HTTP %ld: the CDN refused the request", url,
                        r.status);
    else if (rc == QD_OK && r.status != 200)
        rc = qd_err_set(err, QD_EINVAL, "%s: HTTP %ld", url, r.status);
    else if (rc == QD_OK && (rc = cboe_parse_vix(r.body, r.len, close, err)) != QD_OK)
        qd_err_prefix(err, "VIX_History.csv");
    free(r.body);
    return rc;
}
