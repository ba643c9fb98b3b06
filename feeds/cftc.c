/* CFTC COT from Socrata: parser and client (see cftc.h). */
#include "feeds/cftc.h"
#include "common/date.h"

#include <jansson.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cot_rows_release(struct cot_rows *r)
{
    free(r->row);
    memset(r, 0, sizeof(*r));
}

bool
cftc_market_valid(const char *code)
{
    size_t n = strlen(code);

    return n >= 1 && n <= 16 && strspn(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

/* A count sent as a string ("  49541" tolerated); required or not (absent: -1). */
static bool
count_field(const json_t *o, const char *key, bool required, int64_t *out)
{
    const char *s = json_string_value(json_object_get(o, key));
    char *end;
    long long v;

    if (s == NULL) {
        *out = -1;
        return !required && json_object_get(o, key) == NULL;
    }
    while (*s == ' ')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    if (*end != '\0' || errno != 0 || v < 0)
        return false;
    *out = v;
    return true;
}

/* Copies a string trimmed of surrounding spaces ("CME " in the real data). */
static void
trimmed(const char *s, char *out, size_t n)
{
    size_t len;

    while (*s == ' ')
        s++;
    len = strlen(s);
    while (len > 0 && s[len - 1] == ' ')
        len--;
    snprintf(out, n, "%.*s", (int)len, s);
}

enum qd_code
cftc_parse_page(const char *json, size_t len, struct cot_rows *out, size_t *page_rows,
                struct qd_err *err)
{
    static const char *const counts[] = {"open_interest_all", "noncomm_positions_long_all",
                                         "noncomm_positions_short_all",
                                         "noncomm_postions_spread_all", /* sic: CFTC's spelling */
                                         "comm_positions_long_all", "comm_positions_short_all"};
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *o;
    size_t keep = out->n, i;
    enum qd_code rc = QD_OK;

    *page_rows = 0;
    if (root == NULL)
        return qd_err_set(err, QD_EINVAL, "not JSON: %s (at byte %d)", je.text, je.position);
    if (!json_is_array(root)) {
        json_decref(root);
        return qd_err_set(err, QD_EINVAL, "not a Socrata answer (a JSON array of rows)");
    }
    json_array_foreach(root, i, o)
    {
        struct cot_row r = {0};
        const char *d = json_string_value(json_object_get(o, "report_date_as_yyyy_mm_dd"));
        const char *m = json_string_value(json_object_get(o, "cftc_contract_market_code"));
        const char *name = json_string_value(json_object_get(o, "market_and_exchange_names"));
        int64_t *dst[6] = {&r.open_interest, &r.noncomm_long, &r.noncomm_short,
                           &r.noncomm_spread, &r.comm_long, &r.comm_short};
        if (d == NULL || strlen(d) < 10 || !qd_date_parse(d, 10, &r.day)) {
            rc = qd_err_set(err, QD_EINVAL, "row %zu: bad or missing report_date_as_yyyy_mm_dd",
                            i);
            break;
        }
        if (m == NULL) {
            rc = qd_err_set(err, QD_EINVAL, "row %zu: no cftc_contract_market_code", i);
            break;
        }
        trimmed(m, r.market, sizeof(r.market));
        if (!cftc_market_valid(r.market)) {
            rc = qd_err_set(err, QD_EINVAL, "row %zu: bad cftc_contract_market_code", i);
            break;
        }
        trimmed(name ? name : "", r.name, sizeof(r.name));
        for (size_t k = 0; k < 6 && rc == QD_OK; k++)
            if (!count_field(o, counts[k], k < 3, dst[k]))
                rc = qd_err_set(err, QD_EINVAL, "row %zu (%.10s): %s is %s", i, d, counts[k],
                                json_object_get(o, counts[k]) ? "not a count" : "missing");
        if (rc != QD_OK)
            break;
        if (out->n == out->cap) {
            size_t cap = out->cap ? 2 * out->cap : 256;
            struct cot_row *p = realloc(out->row, cap * sizeof(*p));
            if (p == NULL) {
                rc = qd_err_set(err, QD_ENOMEM, "out of memory");
                break;
            }
            out->row = p;
            out->cap = cap;
        }
        out->row[out->n++] = r;
    }
    if (rc != QD_OK)
        out->n = keep;
    else
        *page_rows = json_array_size(root);
    json_decref(root);
    return rc;
}

/* 202 "Request Processing" means: ask again later. A 200 that is not JSON may heal too. */
static enum qd_code
check_page(const struct feed_response *r, void *arg, struct qd_err *err)
{
    if (r->status == 202)
        return qd_err_set(err, QD_ETRANSIENT, "HTTP 202: the report is still being prepared");
    return feed_check_json(r, arg, err);
}

enum qd_code
cftc_fetch(const char *market, int32_t start, int32_t end, feed_stop_fn *stop, void *stop_arg,
           struct cot_rows *out, struct qd_err *err)
{
    enum { PAGE = 1000 };
    const struct feeds_settings *fs = feeds_settings();
    char from[16] = "1900-01-01", to[16] = "9999-12-31";
    size_t offset = 0;

    memset(out, 0, sizeof(*out));
    if (!cftc_market_valid(market))
        return qd_err_set(err, QD_EINVAL, "\"%.16s\" is not a CFTC contract market code", market);
    if (start != INT32_MIN)
        qd_date_format(start, from);
    if (end != INT32_MAX)
        qd_date_format(end, to);
    for (;;) {
        char url[1200], shown[96];
        struct feed_response r;
        size_t got = 0;
        enum qd_code rc;
        /* $where=cftc_contract_market_code='X' AND report_date_as_yyyy_mm_dd between 'A' AND
         * 'B', URL-encoded (market codes and dates need no escaping beyond the quotes) */
        snprintf(url, sizeof(url),
                 "%s/resource/%s.json?$where=cftc_contract_market_code%%3D%%27%s%%27%%20AND%%20"
                 "report_date_as_yyyy_mm_dd%%20between%%20%%27%s%%27%%20AND%%20%%27%s%%27"
                 "&$order=report_date_as_yyyy_mm_dd%%20ASC&$limit=%d&$offset=%zu",
                 fs->cftc_url, fs->cftc_dataset, market, from, to, (int)PAGE, offset);
        snprintf(shown, sizeof(shown), "CFTC %s market %s (offset %zu)", fs->cftc_dataset,
                 market, offset);
        rc = feed_get(&fs->http, url, shown, check_page, NULL, stop, stop_arg, &r, err);
        if (rc == QD_OK && (r.status == 401 || r.status == 403))
            rc = qd_err_set(err, QD_EAUTH, "CFTC refused the request: HTTP %ld", r.status);
        else if (rc == QD_OK && r.status == 404)
            rc = qd_err_set(err, QD_ENOTFOUND, "CFTC has no dataset %s", fs->cftc_dataset);
        else if (rc == QD_OK && r.status != 200)
            rc = qd_err_set(err, QD_EINVAL, "CFTC: HTTP %ld: %.200s", r.status, r.body);
        else if (rc == QD_OK)
            rc = cftc_parse_page(r.body, r.len, out, &got, err);
        free(r.body);
        if (rc != QD_OK) {
            cot_rows_release(out);
            return rc;
        }
        /* an empty page ends it (servers may cap $limit below ours: a short page does not) */
        offset += got;
        if (got == 0)
            break;
    }
    for (size_t i = 0; i < out->n; i++) {
        if (strcmp(out->row[i].market, market) != 0 ||
            (i > 0 && out->row[i].day <= out->row[i - 1].day)) {
            char d[16];
            qd_date_format(out->row[i].day, d);
            cot_rows_release(out);
            return qd_err_set(err, QD_EINVAL,
                              "CFTC answered a report of another market or out of date order "
                              "(%s)", d);
        }
    }
    return QD_OK;
}
