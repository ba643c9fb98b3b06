/* Tradier options: parsers and client (see tradier.h). */
#include "feeds/tradier.h"
#include "common/date.h"

#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRADIER_RESET_HEADER "X-Ratelimit-Expiry"

/* The elements of a Tradier collection node: an array's, a lone value as one, null as none. */
static size_t
coll_size(const json_t *node)
{
    if (node == NULL || json_is_null(node))
        return 0;
    return json_is_array(node) ? json_array_size(node) : 1;
}

static const json_t *
coll_get(const json_t *node, size_t i)
{
    return json_is_array(node) ? json_array_get(node, i) : node;
}

/* Loads a JSON object whose member `key` must be present (null allowed). */
static enum qd_code
load_root(const char *json, size_t len, const char *key, json_t **root, json_t **member,
          struct qd_err *err)
{
    json_error_t je;

    *root = json_loadb(json, len, 0, &je);
    if (*root == NULL)
        return qd_err_set(err, QD_EINVAL, "not JSON: %s (at byte %d)", je.text, je.position);
    if (!json_is_object(*root) || (*member = json_object_get(*root, key)) == NULL ||
        !(json_is_null(*member) || json_is_object(*member))) {
        json_decref(*root);
        return qd_err_set(err, QD_EINVAL, "not a Tradier answer (no \"%s\" object)", key);
    }
    return QD_OK;
}

static int
cmp_day(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

enum qd_code
tradier_parse_expirations(const char *json, size_t len, int32_t *out, size_t max, size_t *n,
                          struct qd_err *err)
{
    json_t *root, *e, *node;
    bool objects = false;
    size_t k = 0, m;
    enum qd_code rc;

    *n = 0;
    if ((rc = load_root(json, len, "expirations", &root, &e, err)) != QD_OK)
        return rc;
    if (json_is_null(e)) {
        json_decref(root);
        return QD_OK;
    }
    node = json_object_get(e, "date");
    if (node == NULL && (node = json_object_get(e, "expiration")) != NULL)
        objects = true;                 /* strikes=true: [{"date": .., "strikes": ..}] */
    m = coll_size(node);
    for (size_t i = 0; i < m; i++) {
        const json_t *v = coll_get(node, i);
        const char *s;
        if (objects)
            v = json_is_object(v) ? json_object_get(v, "date") : NULL;
        s = json_string_value(v);
        if (s == NULL || strlen(s) != 10 || k == max ||
            !qd_date_parse(s, 10, &out[k])) {
            json_decref(root);
            return k == max && s != NULL
                       ? qd_err_set(err, QD_ETOOBIG, "more than %zu expirations", max)
                       : qd_err_set(err, QD_EINVAL, "expiration %zu is not a YYYY-MM-DD date",
                                    i);
        }
        k++;
    }
    json_decref(root);
    qsort(out, k, sizeof(*out), cmp_day);
    m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || out[i] != out[m - 1])
            out[m++] = out[i];
    *n = m;
    return QD_OK;
}

/* A number member, NaN when null, absent or not a number. */
static double
num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A count member (a number >= 0 that fits), -1 when null, absent or not one. */
static int64_t
count(const json_t *o, const char *key)
{
    double v = num(o, key);
    return isfinite(v) && v >= 0 && v < 9.0e18 ? (int64_t)v : -1;
}

/* An epoch-ms member; 0 when absent or not positive. */
static int64_t
epoch_ms(const json_t *o, const char *key)
{
    double v = num(o, key);
    return isfinite(v) && v > 0 && v < 9.0e15 ? (int64_t)v : 0;
}

/* A price or greek: finite, else NaN. */
static double
finite_or_nan(double v)
{
    return isfinite(v) ? v : NAN;
}

static enum qd_code
parse_option(const json_t *o, size_t i, struct option_quote *q, struct qd_err *err)
{
    const char *sym = json_string_value(json_object_get(o, "symbol"));
    const char *type = json_string_value(json_object_get(o, "option_type"));
    const char *exp = json_string_value(json_object_get(o, "expiration_date"));
    const json_t *g = json_object_get(o, "greeks");
    double strike = num(o, "strike");
    int64_t b, a;

    memset(q, 0, sizeof(*q));
    if (!json_is_object(o))
        return qd_err_set(err, QD_EINVAL, "option %zu is not an object", i);
    if (sym == NULL || sym[0] == '\0' || strlen(sym) >= sizeof(q->contract))
        return qd_err_set(err, QD_EINVAL, "option %zu: bad or missing symbol", i);
    snprintf(q->contract, sizeof(q->contract), "%s", sym);
    if (type == NULL || (strcmp(type, "call") != 0 && strcmp(type, "put") != 0))
        return qd_err_set(err, QD_EINVAL, "option %s: option_type is not call or put",
                          q->contract);
    q->right = type[0] == 'c' ? 'C' : 'P';
    if (!isfinite(strike) || strike <= 0)
        return qd_err_set(err, QD_EINVAL, "option %s: bad or missing strike", q->contract);
    q->strike = strike;
    if (exp == NULL || strlen(exp) != 10 || !qd_date_parse(exp, 10, &q->expiration))
        return qd_err_set(err, QD_EINVAL, "option %s: bad or missing expiration_date",
                          q->contract);
    q->bid = finite_or_nan(num(o, "bid"));
    q->ask = finite_or_nan(num(o, "ask"));
    q->last = finite_or_nan(num(o, "last"));
    q->volume = count(o, "volume");
    q->open_interest = count(o, "open_interest");
    b = epoch_ms(o, "bid_date");
    a = epoch_ms(o, "ask_date");
    q->quote_ms = b > a ? b : a;
    if (q->quote_ms == 0)
        q->quote_ms = epoch_ms(o, "trade_date");
    q->iv = q->delta = q->gamma = q->theta = q->vega = q->rho = NAN;
    if (json_is_object(g)) {
        double iv = num(g, "mid_iv");
        /* mid_iv is 0 when there is no market: fall back on ORATS' smoothed volatility */
        if (!(isfinite(iv) && iv > 0))
            iv = num(g, "smv_vol");
        q->iv = isfinite(iv) && iv > 0 ? iv : NAN;
        q->delta = finite_or_nan(num(g, "delta"));
        q->gamma = finite_or_nan(num(g, "gamma"));
        q->theta = finite_or_nan(num(g, "theta"));
        q->vega = finite_or_nan(num(g, "vega"));
        q->rho = finite_or_nan(num(g, "rho"));
    }
    return QD_OK;
}

enum qd_code
tradier_parse_chain(const char *json, size_t len, struct option_quotes *out, size_t *count_out,
                    struct qd_err *err)
{
    json_t *root, *opts, *node;
    size_t keep = out->n, m;
    enum qd_code rc;

    *count_out = 0;
    if ((rc = load_root(json, len, "options", &root, &opts, err)) != QD_OK)
        return rc;
    node = json_is_object(opts) ? json_object_get(opts, "option") : NULL;
    m = coll_size(node);
    for (size_t i = 0; i < m && rc == QD_OK; i++) {
        struct option_quote q;
        if ((rc = parse_option(coll_get(node, i), i, &q, err)) == QD_OK)
            rc = option_quotes_push(out, &q, err);
    }
    json_decref(root);
    if (rc != QD_OK) {
        out->n = keep;
        return rc;
    }
    *count_out = m;
    return QD_OK;
}

void
tradier_error_message(const char *body, size_t len, char *out, size_t n)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *s = NULL;
    size_t k = 0;

    if (root != NULL) {
        const json_t *e = json_object_get(json_object_get(root, "errors"), "error");
        s = json_string_value(json_object_get(json_object_get(root, "fault"), "faultstring"));
        if (s == NULL)
            s = json_string_value(coll_size(e) > 0 ? coll_get(e, 0) : NULL);
        snprintf(out, n, "%s", s ? s : "");
        json_decref(root);
        if (s != NULL)
            return;
    }
    /* plain text: the first line, printable ASCII only */
    while (k < len && k + 1 < n && k < 200 && body[k] != '\n' && body[k] != '\r' &&
           body[k] >= ' ' && body[k] < 127)
        k++;
    snprintf(out, n, "%.*s", (int)k, body);
}

/* GET base + path with the token; maps the final status. The caller frees r->body. */
static enum qd_code
tradier_get(const char *path, const char *shown, feed_stop_fn *stop, void *stop_arg,
            struct feed_response *r, struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    char url[1024], auth[300], msg[160];
    const char *hdrs[] = {auth, "Accept: application/json", NULL};
    struct feed_extra x = {.headers = hdrs, .reset_ms_header = TRADIER_RESET_HEADER};
    enum qd_code rc;

    memset(r, 0, sizeof(*r));
    if (fs->tradier_key[0] == '\0')
        return qd_err_set(err, QD_EAUTH, "no Tradier API key: set TRADIER_API_KEY");
    snprintf(url, sizeof(url), "%s%s", fs->tradier_url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", fs->tradier_key);
    rc = feed_get_ex(&fs->http, url, shown, &x, feed_check_json, NULL, stop, stop_arg, r, err);
    if (rc != QD_OK || (r->status >= 200 && r->status < 300))
        return rc;
    tradier_error_message(r->body, r->len, msg, sizeof(msg));
    if (r->status == 401 || r->status == 403)
        return qd_err_set(err, QD_EAUTH, "%s: Tradier refused the API key (TRADIER_API_KEY): "
                          "HTTP %ld %s", shown, r->status, msg);
    if (r->status == 404)
        return qd_err_set(err, QD_ENOTFOUND, "%s: HTTP 404 %s", shown, msg);
    return qd_err_set(err, QD_EINVAL, "%s: HTTP %ld %s", shown, r->status, msg);
}

enum qd_code
tradier_fetch_expirations(const char *symbol, feed_stop_fn *stop, void *stop_arg, int32_t *out,
                          size_t max, size_t *n, struct qd_err *err)
{
    char path[160], shown[64];
    struct feed_response r;
    enum qd_code rc;

    *n = 0;
    if (!option_underlying_valid(symbol))
        return qd_err_set(err, QD_EINVAL, "\"%.16s\" is not an underlying symbol", symbol);
    snprintf(path, sizeof(path),
             "/v1/markets/options/expirations?symbol=%s&includeAllRoots=true&strikes=false",
             symbol);
    snprintf(shown, sizeof(shown), "Tradier expirations %s", symbol);
    rc = tradier_get(path, shown, stop, stop_arg, &r, err);
    if (rc == QD_OK && (rc = tradier_parse_expirations(r.body, r.len, out, max, n, err)) != QD_OK)
        qd_err_prefix(err, shown);
    free(r.body);
    return rc;
}

enum qd_code
tradier_fetch_chain(const char *symbol, int32_t expiration, feed_stop_fn *stop, void *stop_arg,
                    struct option_quotes *out, struct qd_err *err)
{
    char path[200], shown[64], d[16];
    struct feed_response r;
    size_t got;
    enum qd_code rc;

    if (!option_underlying_valid(symbol))
        return qd_err_set(err, QD_EINVAL, "\"%.16s\" is not an underlying symbol", symbol);
    qd_date_format(expiration, d);
    snprintf(path, sizeof(path),
             "/v1/markets/options/chains?symbol=%s&expiration=%s&greeks=true", symbol, d);
    snprintf(shown, sizeof(shown), "Tradier chain %s %s", symbol, d);
    rc = tradier_get(path, shown, stop, stop_arg, &r, err);
    if (rc == QD_OK && (rc = tradier_parse_chain(r.body, r.len, out, &got, err)) != QD_OK)
        qd_err_prefix(err, shown);
    free(r.body);
    return rc;
}
