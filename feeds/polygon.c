/* Polygon options: parsers and client (see polygon.h). */
#include "feeds/polygon.h"
#include "common/date.h"

#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTRACTS_PATH "/v3/reference/options/contracts"
#define MAX_PAGES      10000

static double
num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static enum qd_code
parse_contract(const json_t *o, size_t i, struct option_quote *q, struct qd_err *err)
{
    const char *t = json_string_value(json_object_get(o, "ticker"));
    const char *type = json_string_value(json_object_get(o, "contract_type"));
    const char *exp = json_string_value(json_object_get(o, "expiration_date"));
    double strike = num(o, "strike_price");

    memset(q, 0, sizeof(*q));
    q->bid = q->ask = q->last = q->iv = q->delta = q->gamma = q->theta = q->vega = q->rho = NAN;
    q->volume = q->open_interest = -1;
    if (!json_is_object(o))
        return qd_err_set(err, QD_EINVAL, "contract %zu is not an object", i);
    if (t != NULL && strncmp(t, "O:", 2) == 0)
        t += 2;
    if (t == NULL || t[0] == '\0' || strlen(t) >= sizeof(q->contract) ||
        strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") != strlen(t))
        return qd_err_set(err, QD_EINVAL, "contract %zu: bad or missing ticker", i);
    snprintf(q->contract, sizeof(q->contract), "%s", t);
    if (type == NULL || (strcmp(type, "call") != 0 && strcmp(type, "put") != 0))
        return qd_err_set(err, QD_EINVAL, "contract %s: contract_type is not call or put",
                          q->contract);
    q->right = type[0] == 'c' ? 'C' : 'P';
    if (!isfinite(strike) || strike <= 0)
        return qd_err_set(err, QD_EINVAL, "contract %s: bad or missing strike_price",
                          q->contract);
    q->strike = strike;
    if (exp == NULL || strlen(exp) != 10 || !qd_date_parse(exp, 10, &q->expiration))
        return qd_err_set(err, QD_EINVAL, "contract %s: bad or missing expiration_date",
                          q->contract);
    return QD_OK;
}

enum qd_code
polygon_parse_contracts(const char *json, size_t len, struct option_quotes *out, size_t *count,
                        char *next, size_t n, struct qd_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *res;
    const char *nu;
    size_t keep = out->n, m;
    enum qd_code rc = QD_OK;

    *count = 0;
    next[0] = '\0';
    if (root == NULL)
        return qd_err_set(err, QD_EINVAL, "not JSON: %s (at byte %d)", je.text, je.position);
    res = json_object_get(root, "results");
    if (!json_is_object(root) || !(res == NULL || json_is_array(res) || json_is_object(res))) {
        json_decref(root);
        return qd_err_set(err, QD_EINVAL, "not a Polygon contracts answer (no results list)");
    }
    m = res == NULL ? 0 : json_is_array(res) ? json_array_size(res) : 1;
    for (size_t i = 0; i < m && rc == QD_OK; i++) {
        struct option_quote q;
        if ((rc = parse_contract(json_is_array(res) ? json_array_get(res, i) : res, i, &q,
                                 err)) == QD_OK)
            rc = option_quotes_push(out, &q, err);
    }
    nu = json_string_value(json_object_get(root, "next_url"));
    if (rc == QD_OK && nu != NULL && nu[0] != '\0') {
        if (strlen(nu) >= n)
            rc = qd_err_set(err, QD_EINVAL, "next_url is longer than %zu bytes", n - 1);
        else
            snprintf(next, n, "%s", nu);
    }
    json_decref(root);
    if (rc != QD_OK) {
        out->n = keep;
        next[0] = '\0';
        return rc;
    }
    *count = m;
    return QD_OK;
}

enum qd_code
polygon_parse_aggs(const char *json, size_t len, struct polygon_bar *out, size_t max, size_t *n,
                   struct qd_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *res, *b;
    size_t i, k = 0;

    *n = 0;
    if (root == NULL)
        return qd_err_set(err, QD_EINVAL, "not JSON: %s (at byte %d)", je.text, je.position);
    res = json_object_get(root, "results");
    if (!json_is_object(root) || !(res == NULL || json_is_array(res))) {
        json_decref(root);
        return qd_err_set(err, QD_EINVAL, "not a Polygon aggregates answer");
    }
    json_array_foreach(res, i, b)
    {
        double t = num(b, "t"), c = num(b, "c");
        if (!(isfinite(t) && t >= 0 && t < 9.0e15) || !isfinite(c)) {
            json_decref(root);
            return qd_err_set(err, QD_EINVAL, "bar %zu: bad or missing %s", i,
                              isfinite(c) ? "t" : "c");
        }
        if (k == max) {
            json_decref(root);
            return qd_err_set(err, QD_ETOOBIG, "more than %zu bars", max);
        }
        out[k++] = (struct polygon_bar){.t = (int64_t)t, .o = num(b, "o"), .h = num(b, "h"),
                                        .l = num(b, "l"), .c = c, .v = num(b, "v"),
                                        .vw = num(b, "vw")};
    }
    json_decref(root);
    *n = k;
    return QD_OK;
}

void
polygon_error_message(const char *json, size_t len, char *out, size_t n)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *s = NULL;

    if (root != NULL) {
        s = json_string_value(json_object_get(root, "error"));
        if (s == NULL)
            s = json_string_value(json_object_get(root, "message"));
    }
    snprintf(out, n, "%.200s", s ? s : "");
    json_decref(root);
}

/* GET url (under the configured base) with the key; maps the final status. */
static enum qd_code
polygon_get(const char *url, const char *shown, feed_stop_fn *stop, void *stop_arg,
            struct feed_response *r, struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    char auth[300], msg[220];
    const char *hdrs[] = {auth, "Accept: application/json", NULL};
    struct feed_extra x = {.headers = hdrs};
    enum qd_code rc;

    memset(r, 0, sizeof(*r));
    if (fs->polygon_key[0] == '\0')
        return qd_err_set(err, QD_EAUTH, "no Polygon API key: set POLYGON_API_KEY");
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", fs->polygon_key);
    rc = feed_get_ex(&fs->http, url, shown, &x, feed_check_json, NULL, stop, stop_arg, r, err);
    if (rc != QD_OK || (r->status >= 200 && r->status < 300))
        return rc;
    polygon_error_message(r->body, r->len, msg, sizeof(msg));
    if (r->status == 401 || r->status == 403)
        return qd_err_set(err, QD_EAUTH, "%s: Polygon refused the API key (POLYGON_API_KEY): "
                          "HTTP %ld %s", shown, r->status, msg);
    if (r->status == 404)
        return qd_err_set(err, QD_ENOTFOUND, "%s: HTTP 404 %s", shown, msg);
    return qd_err_set(err, QD_EINVAL, "%s: HTTP %ld %s", shown, r->status, msg);
}

enum qd_code
polygon_fetch_contracts(const char *underlying, int32_t as_of, int32_t expiration, size_t max,
                        feed_stop_fn *stop, void *stop_arg, struct option_quotes *out,
                        struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    char url[2048], next[1600] = "", shown[80], a[16], e[16];
    size_t start = out->n;

    if (!option_underlying_valid(underlying))
        return qd_err_set(err, QD_EINVAL, "\"%.16s\" is not an underlying symbol", underlying);
    qd_date_format(as_of, a);
    if (expiration != INT32_MIN) {
        qd_date_format(expiration, e);
        snprintf(url, sizeof(url), "%s" CONTRACTS_PATH "?underlying_ticker=%s&as_of=%s"
                 "&expiration_date=%s&limit=1000", fs->polygon_url, underlying, a, e);
    } else {
        snprintf(url, sizeof(url), "%s" CONTRACTS_PATH "?underlying_ticker=%s&as_of=%s"
                 "&expiration_date.gte=%s&limit=1000", fs->polygon_url, underlying, a, a);
    }
    for (int page = 0;; page++) {
        struct feed_response r;
        size_t got;
        const char *rest;
        enum qd_code rc;

        snprintf(shown, sizeof(shown), "Polygon contracts %s (page %d)", underlying, page + 1);
        rc = polygon_get(url, shown, stop, stop_arg, &r, err);
        if (rc == QD_OK && (rc = polygon_parse_contracts(r.body, r.len, out, &got, next,
                                                         sizeof(next), err)) != QD_OK)
            qd_err_prefix(err, shown);
        free(r.body);
        if (rc == QD_OK && out->n - start > max)
            rc = qd_err_set(err, QD_ETOOBIG, "%s has more than %zu contracts (max_contracts)",
                            underlying, max);
        if (rc == QD_OK && next[0] != '\0' && page + 1 >= MAX_PAGES)
            rc = qd_err_set(err, QD_EINVAL, "Polygon contracts %s: more than %d pages",
                            underlying, MAX_PAGES);
        if (rc != QD_OK) {
            out->n = start;
            return rc;
        }
        if (next[0] == '\0' || got == 0)
            return QD_OK;
        /* next_url carries the cursor and no key: keep only its path and query, under our own
         * base, so the key is never sent to a host we were not configured with */
        if ((rest = strstr(next, CONTRACTS_PATH "?")) == NULL) {
            out->n = start;
            return qd_err_set(err, QD_EINVAL, "Polygon contracts %s: next_url is not a "
                              "contracts page", underlying);
        }
        snprintf(url, sizeof(url), "%s%s", fs->polygon_url, rest);
    }
}

enum qd_code
polygon_fetch_day(struct option_quote *q, int32_t day, feed_stop_fn *stop, void *stop_arg,
                  struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    char url[1024], shown[80], d[16];
    struct polygon_bar bars[8];
    struct feed_response r;
    size_t n = 0;
    enum qd_code rc;

    qd_date_format(day, d);
    snprintf(url, sizeof(url), "%s/v2/aggs/ticker/O:%s/range/1/day/%s/%s?adjusted=false",
             fs->polygon_url, q->contract, d, d);
    snprintf(shown, sizeof(shown), "Polygon aggregates O:%s %s", q->contract, d);
    rc = polygon_get(url, shown, stop, stop_arg, &r, err);
    if (rc == QD_OK && (rc = polygon_parse_aggs(r.body, r.len, bars, QD_ARRAY_LEN(bars), &n,
                                                err)) != QD_OK)
        qd_err_prefix(err, shown);
    free(r.body);
    if (rc != QD_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        /* t is midnight in New York, 04:00 or 05:00 UTC: the same calendar date in UTC */
        if ((int32_t)(bars[i].t / 86400000LL) != day)
            continue;
        q->last = bars[i].c;
        q->volume = isfinite(bars[i].v) && bars[i].v >= 0 && bars[i].v < 9.0e18
                        ? (int64_t)llround(bars[i].v) : -1;
        q->quote_ms = bars[i].t;
    }
    return QD_OK;
}
