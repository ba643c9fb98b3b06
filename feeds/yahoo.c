/* Yahoo chart v8: parser and client (see yahoo.h). */
#define _DEFAULT_SOURCE
#include "feeds/yahoo.h"

#include <jansson.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
yahoo_actions_release(struct yahoo_actions *x)
{
    free(x->a);
    memset(x, 0, sizeof(*x));
}

static enum qd_code
action_push(struct yahoo_actions *x, int32_t day, char kind, double v)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        struct yahoo_action *p = realloc(x->a, cap * sizeof(*p));
        if (p == NULL)
            return QD_ENOMEM;
        x->a = p;
        x->cap = cap;
    }
    x->a[x->n++] = (struct yahoo_action){.day = day, .kind = kind, .value = v};
    return QD_OK;
}

/* floor(a / 86400) and the remainder in [0, 86400), for any a (no overflow). */
static json_int_t
floor_days(json_int_t a, json_int_t *rem)
{
    json_int_t q = a / 86400, r = a % 86400;

    if (r < 0) {
        q--;
        r += 86400;
    }
    *rem = r;
    return q;
}

/* The date of ts + gmtoffset, computed without overflowing for any pair (the fuzzer sent
 * gmtoffset = 2^63 - 1): floor(ts / d) + floor(g / d) + carry of the remainders. */
static int32_t
day_of(json_int_t ts, json_int_t gmtoffset)
{
    json_int_t r1, r2, q = floor_days(ts, &r1), q2 = floor_days(gmtoffset, &r2);

    return (int32_t)(q + q2 + (r1 + r2 >= 86400));
}

/* Element i of an optional array: a finite number, else NaN (null, absent, a string). */
static double
num_at(const json_t *arr, size_t i)
{
    const json_t *v = json_array_get(arr, i);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

static enum qd_code
parse_events(const json_t *events, json_int_t gmt, struct yahoo_actions *acts,
             struct qd_err *err)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)json_object_get(events, "dividends"), k, v)
    {
        const json_t *d = json_object_get(v, "date"), *a = json_object_get(v, "amount");
        if (!json_is_integer(d) || !json_is_number(a) || !isfinite(json_number_value(a)))
            return qd_err_set(err, QD_EINVAL, "dividend %.20s: no date or amount", k);
        if (action_push(acts, day_of(json_integer_value(d), gmt), 'D', json_number_value(a)))
            return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    json_object_foreach((json_t *)json_object_get(events, "splits"), k, v)
    {
        const json_t *d = json_object_get(v, "date");
        double num = json_number_value(json_object_get(v, "numerator"));
        double den = json_number_value(json_object_get(v, "denominator"));
        if (!json_is_integer(d) || !(num > 0) || !(den > 0) || !isfinite(num / den))
            return qd_err_set(err, QD_EINVAL, "split %.20s: no date or ratio", k);
        if (action_push(acts, day_of(json_integer_value(d), gmt), 'S', num / den))
            return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    return QD_OK;
}

enum qd_code
yahoo_parse_chart(const char *json, size_t len, struct bar_series *bars,
                  struct yahoo_actions *acts, struct yahoo_stats *st, struct qd_err *err)
{
    /* the scanner reads the usual success answer (same results, ~4x faster); anything else
     * (error answers, invalid JSON, odd shapes) goes to jansson, which has the messages */
    if (yahoo_scan_chart(json, len, bars, acts, st, err) == QD_OK)
        return QD_OK;
    return yahoo_parse_chart_jansson(json, len, bars, acts, st, err);
}

enum qd_code
yahoo_parse_chart_jansson(const char *json, size_t len, struct bar_series *bars,
                          struct yahoo_actions *acts, struct yahoo_stats *st,
                          struct qd_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *chart, *res, *q, *ts, *adj;
    const json_t *e;
    json_int_t gmt;
    size_t keep_bars = bars->n, keep_acts = acts->n;
    enum qd_code rc = QD_OK;

    memset(st, 0, sizeof(*st));
    if (root == NULL)
        return qd_err_set(err, QD_EINVAL, "not JSON: %s (at byte %d)", je.text, je.position);
    chart = json_object_get(root, "chart");
    e = json_object_get(chart ? chart : json_object_get(root, "finance"), "error");
    if (e != NULL && !json_is_null(e)) {
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *desc = json_string_value(json_object_get(e, "description"));
        rc = qd_err_set(err, code && strcmp(code, "Not Found") == 0 ? QD_ENOTFOUND : QD_EINVAL,
                        "Yahoo: %s", desc ? desc : code ? code : "error");
        json_decref(root);
        return rc;
    }
    res = json_array_get(json_object_get(chart, "result"), 0);
    if (!json_is_object(res)) {
        json_decref(root);
        return qd_err_set(err, QD_EINVAL, "not a Yahoo chart answer (no chart.result[0])");
    }
    gmt = json_integer_value(json_object_get(json_object_get(res, "meta"), "gmtoffset"));
    ts = json_object_get(res, "timestamp");
    q = json_array_get(json_object_get(json_object_get(res, "indicators"), "quote"), 0);
    adj = json_object_get(json_array_get(json_object_get(json_object_get(res, "indicators"),
                                                         "adjclose"), 0),
                          "adjclose");
    if (!json_is_array(ts) || !json_is_object(q) || json_object_size(q) == 0) {
        st->empty = true;           /* "no price data found" for the range */
    } else {
        const json_t *o = json_object_get(q, "open"), *h = json_object_get(q, "high");
        const json_t *l = json_object_get(q, "low"), *c = json_object_get(q, "close");
        const json_t *vol = json_object_get(q, "volume");
        size_t n = json_array_size(ts);
        if (json_array_size(o) != n || json_array_size(h) != n || json_array_size(l) != n ||
            json_array_size(c) != n || json_array_size(vol) != n ||
            (adj != NULL && json_array_size(adj) != n)) {
            json_decref(root);
            return qd_err_set(err, QD_EINVAL, "Yahoo: the quote arrays are not aligned with "
                                              "the %zu timestamps", n);
        }
        for (size_t i = 0; i < n && rc == QD_OK; i++) {
            const json_t *t = json_array_get(ts, i);
            double op = num_at(o, i), hi = num_at(h, i), lo = num_at(l, i), cl = num_at(c, i);
            double vo = num_at(vol, i), ac = adj ? num_at(adj, i) : cl;
            int32_t day;
            if (!json_is_integer(t)) {
                rc = qd_err_set(err, QD_EINVAL, "Yahoo: timestamp %zu is not an integer", i);
                break;
            }
            if (isnan(op) || isnan(hi) || isnan(lo) || isnan(cl) || isnan(vo) || isnan(ac)) {
                st->skipped_nulls++;
                continue;
            }
            if (!(op > 0 && hi > 0 && lo > 0 && cl > 0 && ac > 0 && vo >= 0) ||
                !isfinite(op + hi + lo + cl + ac + vo) || vo > 9e18) {
                st->skipped_bad++;
                continue;
            }
            day = day_of(json_integer_value(t), gmt);
            if (bars->n > keep_bars && day < bars->day[bars->n - 1]) {
                rc = qd_err_set(err, QD_EINVAL, "Yahoo: bar %zu is out of date order", i);
                break;
            }
            if (bars->n > keep_bars && day == bars->day[bars->n - 1])
                bars->n--;          /* the same date again: the later bar wins */
            if (bar_series_push(bars, day, op, hi, lo, cl, ac, (int64_t)vo) != QD_OK)
                rc = qd_err_set(err, QD_ENOMEM, "out of memory");
        }
    }
    if (rc == QD_OK)
        rc = parse_events(json_object_get(res, "events"), gmt, acts, err);
    if (rc != QD_OK) {
        bars->n = keep_bars;
        acts->n = keep_acts;
    }
    json_decref(root);
    return rc;
}

/* ---- client ---- */

/* The process's Yahoo session: the A3 cookie and its crumb, shared by every job, and the
 * strategy that got them (0 basic, 1 csrf). */
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static char session_cookie[512], session_crumb[128];
static unsigned session_gen;
static int session_strategy;

/* The value of the hidden input `name` in html: after name="<name>", the next value="…". */
static bool
hidden_input(const char *html, size_t len, const char *name, char *out, size_t n)
{
    char pat[64];
    size_t pl = (size_t)snprintf(pat, sizeof(pat), "name=\"%s\"", name);
    const char *end = html + len, *p = html, *v, *q;

    for (; (size_t)(end - p) >= pl; p++)
        if (memcmp(p, pat, pl) == 0)
            break;
    if ((size_t)(end - p) < pl)
        return false;
    /* value="…" within the same tag */
    for (v = p + pl; v + 7 <= end && *v != '>'; v++)
        if (memcmp(v, "value=\"", 7) == 0)
            break;
    if (v + 7 > end || *v == '>')
        return false;
    v += 7;
    for (q = v; q < end && *q != '"'; q++)
        if (*q == '<' || *q == '>' || *q == '\'' || *q == '\0')
            return false;
    if (q == end || q == v || (size_t)(q - v) >= n)
        return false;
    memcpy(out, v, (size_t)(q - v));
    out[q - v] = '\0';
    return true;
}

bool
yahoo_consent_form(const char *html, size_t len, char *csrf, char *sid, size_t n)
{
    return hidden_input(html, len, "csrfToken", csrf, n) &&
           hidden_input(html, len, "sessionId", sid, n);
}

/* Percent-encodes s for a form body or query (RFC 3986 unreserved kept). */
static void
form_escape(const char *s, char *out, size_t n)
{
    size_t at = 0;

    for (; *s && at + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            out[at++] = (char)c;
        else
            at += (size_t)snprintf(out + at, n - at, "%%%02X", c);
    }
    out[at] = '\0';
}

/* "basic": GET the cookie host, which sets A3 (its answer is usually an error page). */
static enum qd_code
cookie_basic(const struct feed_http_opts *o, char *cookie, size_t n, feed_stop_fn *stop,
             void *stop_arg, struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    struct feed_extra x = {.set_name = "A3", .set_out = cookie, .set_n = n};
    struct feed_response r;
    char url[700];
    enum qd_code rc;

    snprintf(url, sizeof(url), "%s/", fs->yahoo_cookie_url);
    rc = feed_get_ex(o, url, "Yahoo cookie host", &x, NULL, NULL, stop, stop_arg, &r, err);
    free(r.body);
    if (rc == QD_OK && cookie[0] == '\0')
        rc = qd_err_set(err, QD_EAUTH, "Yahoo: the cookie host set no A3 cookie");
    return rc;
}

/* "csrf": GET the consent form, POST it back with agree; the answer (or a redirect on the way)
 * sets A3. */
static enum qd_code
cookie_csrf(const struct feed_http_opts *o, char *cookie, size_t n, feed_stop_fn *stop,
            void *stop_arg, struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    struct feed_extra x = {0};
    struct feed_response r;
    char url[1400], csrf[256], sid[256], ecsrf[800], esid[800], form[2000];
    enum qd_code rc;

    snprintf(url, sizeof(url), "%s/consent", fs->yahoo_consent_url);
    rc = feed_get_ex(o, url, "Yahoo consent form", &x, NULL, NULL, stop, stop_arg, &r, err);
    if (rc == QD_OK && (r.status != 200 || !yahoo_consent_form(r.body, r.len, csrf, sid,
                                                               sizeof(csrf))))
        rc = qd_err_set(err, QD_EAUTH, "Yahoo: no consent form (HTTP %ld, csrfToken and "
                        "sessionId not found)", r.status);
    free(r.body);
    if (rc != QD_OK)
        return rc;
    form_escape(csrf, ecsrf, sizeof(ecsrf));
    form_escape(sid, esid, sizeof(esid));
    snprintf(form, sizeof(form),
             "agree=agree&agree=agree&consentUUID=default&sessionId=%s&csrfToken=%s"
             "&originalDoneUrl=https%%3A%%2F%%2Fwww.yahoo.com%%2F%%3Fguccounter%%3D1"
             "&namespace=yahoo", esid, ecsrf);
    snprintf(url, sizeof(url), "%s/v2/collectConsent?sessionId=%s", fs->yahoo_collect_url,
             esid);
    x = (struct feed_extra){.set_name = "A3", .set_out = cookie, .set_n = n, .post = form};
    rc = feed_get_ex(o, url, "Yahoo consent", &x, NULL, NULL, stop, stop_arg, &r, err);
    if (rc == QD_OK && cookie[0] == '\0')
        rc = qd_err_set(err, QD_EAUTH, "Yahoo: the consent answer (HTTP %ld) set no A3 cookie",
                        r.status);
    free(r.body);
    return rc;
}

/* One strategy: the cookie, then its crumb (basic: from the crumb host; csrf: from the chart
 * host, query2), into the session (under the lock). */
static enum qd_code
session_try(int strategy, feed_stop_fn *stop, void *stop_arg, struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    struct feed_http_opts o = fs->http;
    char url[700], cookie[512] = "";
    struct feed_extra x = {.cookie = cookie};
    struct feed_response r;
    enum qd_code rc;

    o.retries = o.retries < 1 ? o.retries : 1;
    rc = strategy == 0 ? cookie_basic(&o, cookie, sizeof(cookie), stop, stop_arg, err)
                       : cookie_csrf(&o, cookie, sizeof(cookie), stop, stop_arg, err);
    if (rc != QD_OK)
        return rc;
    snprintf(url, sizeof(url), "%s/v1/test/getcrumb",
             strategy == 0 ? fs->yahoo_crumb_url : fs->yahoo_url);
    rc = feed_get_ex(&o, url, "Yahoo getcrumb", &x, NULL, NULL, stop, stop_arg, &r, err);
    if (rc == QD_OK && (r.status != 200 || r.len == 0 || r.len >= sizeof(session_crumb) ||
                        strstr(r.body, "<html") || strstr(r.body, "Too Many Requests")))
        rc = qd_err_set(err, r.status == 429 || strstr(r.body, "Too Many") ? QD_ETRANSIENT
                                                                             : QD_EAUTH,
                        "Yahoo: no crumb (HTTP %ld)", r.status);
    if (rc == QD_OK) {
        snprintf(session_cookie, sizeof(session_cookie), "%s", cookie);
        snprintf(session_crumb, sizeof(session_crumb), "%.*s", (int)strcspn(r.body, "\r\n"),
                 r.body);
        session_strategy = strategy;
        session_gen++;
    }
    free(r.body);
    return rc;
}

/* A new cookie and crumb (under the lock): `first` strategy, then the other one; the first
 * error is kept when both fail. */
static enum qd_code
session_refresh(int first, feed_stop_fn *stop, void *stop_arg, struct qd_err *err)
{
    struct qd_err e2;
    enum qd_code rc = session_try(first, stop, stop_arg, err);

    if (rc == QD_OK || rc == QD_ECANCELED || session_try(!first, stop, stop_arg, &e2) != QD_OK)
        return rc;
    return QD_OK;
}

/* The session to use: fetched when there is none, or when `stale` (the generation a request
 * was refused with) is still the current one. */
static enum qd_code
session_get(bool refresh, unsigned stale, char *cookie, size_t nc, char *crumb, size_t ncr,
            unsigned *gen, feed_stop_fn *stop, void *stop_arg, struct qd_err *err)
{
    enum qd_code rc = QD_OK;

    pthread_mutex_lock(&session_lock);
    /* a refused session: the other strategy first, as yfinance switches */
    if (session_crumb[0] == '\0')
        rc = session_refresh(session_strategy, stop, stop_arg, err);
    else if (refresh && stale == session_gen)
        rc = session_refresh(!session_strategy, stop, stop_arg, err);
    snprintf(cookie, nc, "%s", session_cookie);
    snprintf(crumb, ncr, "%s", session_crumb);
    *gen = session_gen;
    pthread_mutex_unlock(&session_lock);
    return rc;
}

/* Where check_chart parses a 2xx answer: once, in the check, so that no answer is read
 * twice. */
struct chart_out {
    struct bar_series    *bars;
    struct yahoo_actions *acts;
    struct yahoo_stats   *st;
    bool                  parsed;
    enum qd_code          rc;
    struct qd_err         err;
};

/* Parses a 2xx answer into the caller's arrays. Yahoo's outage page ("Will be right back")
 * and an answer that is not JSON (cut off) may heal: retried. */
static enum qd_code
check_chart(const struct feed_response *r, void *arg, struct qd_err *err)
{
    struct chart_out *o = arg;

    if (strstr(r->body, "Will be right back") != NULL)
        return qd_err_set(err, QD_ETRANSIENT, "Yahoo is down (\"Will be right back\")");
    o->rc = yahoo_parse_chart(r->body, r->len, o->bars, o->acts, o->st, &o->err);
    if (o->rc == QD_EINVAL && strncmp(o->err.msg, "not JSON", 8) == 0)
        return qd_err_set(err, QD_ETRANSIENT, "the answer is not JSON");
    o->parsed = true;
    return QD_OK;
}

/* Escapes a symbol for a URL path (^ and = occur in index and FX symbols). */
static void
path_escape(const char *s, char *out, size_t n)
{
    size_t at = 0;

    for (; *s && at + 4 < n; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
            *s == '.' || *s == '-' || *s == '_')
            out[at++] = *s;
        else
            at += (size_t)snprintf(out + at, n - at, "%%%02X", (unsigned char)*s);
    }
    out[at] = '\0';
}

enum qd_code
yahoo_fetch(const char *symbol, int32_t start, int32_t end, feed_stop_fn *stop, void *stop_arg,
            struct bar_series *bars, struct yahoo_actions *acts, struct yahoo_stats *st,
            struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    char cookie[512], crumb[128], sym[100];
    unsigned gen = 0;
    bool have_session;
    struct qd_err se = {0};
    struct chart_out co = {.bars = bars, .acts = acts, .st = st};

    memset(st, 0, sizeof(*st));
    path_escape(symbol, sym, sizeof(sym));
    /* without a session, try anyway: the chart endpoint does not always ask for one */
    have_session = session_get(false, 0, cookie, sizeof(cookie), crumb, sizeof(crumb), &gen, stop,
                               stop_arg, &se) == QD_OK;
    for (int attempt = 0;; attempt++) {
        char url[1200], shown[80];
        struct feed_extra x = {.cookie = have_session ? cookie : NULL};
        struct feed_response r;
        enum qd_code rc;
        /* period2 is exclusive: the day after end */
        snprintf(url, sizeof(url),
                 "%s/v8/finance/chart/%s?period1=%lld&period2=%lld&interval=1d"
                 "&events=div%%2Csplits&includePrePost=False%s%s",
                 fs->yahoo_url, sym, (long long)start * 86400LL, ((long long)end + 1) * 86400LL,
                 have_session ? "&crumb=" : "", have_session ? crumb : "");
        /* messages name the symbol, not the URL (it carries the crumb) */
        snprintf(shown, sizeof(shown), "Yahoo chart %s", symbol);
        rc = feed_get_ex(&fs->http, url, shown, &x, check_chart, &co, stop, stop_arg, &r, err);
        if (rc == QD_OK && co.parsed) {
            /* a 2xx answer, parsed by check_chart */
            free(r.body);
            if (co.rc != QD_OK)
                *err = co.err;
            return co.rc;
        }
        if (rc != QD_OK) {
            free(r.body);
            return rc;
        }
        if ((r.status == 401 || r.status == 403) && attempt == 0) {
            /* the crumb expired or was never good: a fresh cookie and crumb, once */
            free(r.body);
            have_session = session_get(true, gen, cookie, sizeof(cookie), crumb, sizeof(crumb),
                                       &gen, stop, stop_arg, &se) == QD_OK;
            if (!have_session) {
                *err = se;
                return se.code;
            }
            continue;
        }
        if (r.status == 401 || r.status == 403) {
            free(r.body);
            return qd_err_set(err, QD_EAUTH, "Yahoo refused a fresh cookie and crumb (HTTP %ld)",
                              r.status);
        }
        if (r.status != 200 && r.status != 404 && r.status != 400) {
            free(r.body);
            return qd_err_set(err, QD_EINVAL, "%s: HTTP %ld", shown, r.status);
        }
        rc = yahoo_parse_chart(r.body, r.len, bars, acts, st, err);
        free(r.body);
        return rc;
    }
}
