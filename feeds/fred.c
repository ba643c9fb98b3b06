/* FRED observations: parser and client (see fred.h). */
#include "feeds/fred.h"
#include "common/date.h"

#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A FRED value: a decimal string, or "." for missing. NaN/inf spellings are refused. */
static bool
parse_value(const char *s, double *v)
{
    char *end;

    if (strcmp(s, ".") == 0) {
        *v = NAN;
        return true;
    }
    if (s[0] == '\0' || strspn(s, "+-0123456789.eE") != strlen(s))
        return false;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

enum qd_code
fred_parse_page(const char *json, size_t len, struct feed_series *out, long long *count,
                struct qd_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *obs, *o;
    size_t keep = out->n, i;
    enum qd_code rc = QD_OK;

    if (root == NULL)
        return qd_err_set(err, QD_EINVAL, "not JSON: %s (at byte %d)", je.text, je.position);
    obs = json_object_get(root, "observations");
    if (!json_is_object(root) || !json_is_array(obs) ||
        !json_is_integer(json_object_get(root, "count"))) {
        json_decref(root);
        return qd_err_set(err, QD_EINVAL, "not a FRED observations answer (no count or "
                                          "observations)");
    }
    *count = json_integer_value(json_object_get(root, "count"));
    json_array_foreach(obs, i, o)
    {
        const char *d = json_string_value(json_object_get(o, "date"));
        const char *v = json_string_value(json_object_get(o, "value"));
        int32_t day;
        double x;
        if (d == NULL || v == NULL) {
            rc = qd_err_set(err, QD_EINVAL, "observation %zu: date and value must be strings", i);
            break;
        }
        if (!qd_date_parse(d, strlen(d), &day)) {
            rc = qd_err_set(err, QD_EINVAL, "observation %zu: bad date \"%.20s\"", i, d);
            break;
        }
        if (!parse_value(v, &x)) {
            rc = qd_err_set(err, QD_EINVAL, "observation %zu (%s): bad value \"%.20s\"", i, d, v);
            break;
        }
        if (out->n > 0 && day <= out->day[out->n - 1]) {
            rc = qd_err_set(err, QD_EINVAL, "observation %zu (%s): dates out of order", i, d);
            break;
        }
        if (feed_series_push(out, day, x) != QD_OK) {
            rc = qd_err_set(err, QD_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc != QD_OK)
        out->n = keep;
    json_decref(root);
    return rc;
}

void
fred_error_message(const char *json, size_t len, char *out, size_t n)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *m = json_string_value(json_object_get(root, "error_message"));

    snprintf(out, n, "%s", m ? m : "");
    json_decref(root);
}

bool
fred_series_id_valid(const char *id)
{
    size_t n = strlen(id);

    return n >= 1 && n <= 64 && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

enum qd_code
fred_fetch(const char *series_id, int32_t start, int32_t end, feed_stop_fn *stop, void *stop_arg,
           struct feed_series *out, struct qd_err *err)
{
    const struct feeds_settings *fs = feeds_settings();
    char from[16] = "1776-07-04", to[16] = "9999-12-31";
    long long count = 0;
    size_t offset = 0;

    memset(out, 0, sizeof(*out));
    if (!fred_series_id_valid(series_id))
        return qd_err_set(err, QD_EINVAL, "\"%.64s\" is not a FRED series id", series_id);
    if (fs->fred_key[0] == '\0')
        return qd_err_set(err, QD_EAUTH, "no FRED API key: set FRED_API_KEY (or "
                                         "feeds.fred.api_key_file)");
    if (start != INT32_MIN)
        qd_date_format(start, from);
    if (end != INT32_MAX)
        qd_date_format(end, to);
    for (;;) {
        char url[1024], shown[1024], msg[256];
        struct feed_response r;
        size_t before = out->n;
        enum qd_code rc;
        /* messages name the series, never the URL (it carries the key) */
        snprintf(shown, sizeof(shown), "FRED %s (offset %zu)", series_id, offset);
        snprintf(url, sizeof(url),
                 "%s/fred/series/observations?series_id=%s&api_key=%s&file_type=json"
                 "&observation_start=%s&observation_end=%s&sort_order=asc&offset=%zu",
                 fs->fred_url, series_id, fs->fred_key, from, to, offset);
        rc = feed_get(&fs->http, url, shown, feed_check_json, NULL, stop, stop_arg, &r, err);
        if (rc != QD_OK) {
            free(r.body);
            feed_series_release(out);
            return rc;
        }
        if (r.status != 200) {
            fred_error_message(r.body, r.len, msg, sizeof(msg));
            free(r.body);
            feed_series_release(out);
            if (strstr(msg, "api_key") != NULL || r.status == 401 || r.status == 403)
                return qd_err_set(err, QD_EAUTH, "FRED refused the API key (FRED_API_KEY): %s",
                                  msg[0] ? msg : "HTTP 401/403");
            if (strstr(msg, "does not exist") != NULL || r.status == 404)
                return qd_err_set(err, QD_ENOTFOUND, "FRED has no series %s: %s", series_id,
                                  msg[0] ? msg : "HTTP 404");
            return qd_err_set(err, QD_EINVAL, "%s: HTTP %ld %s", shown, r.status, msg);
        }
        rc = fred_parse_page(r.body, r.len, out, &count, err);
        free(r.body);
        if (rc != QD_OK) {
            feed_series_release(out);
            return rc;
        }
        offset += out->n - before;
        if (out->n - before == 0 || (long long)offset >= count)
            return QD_OK;
    }
}
