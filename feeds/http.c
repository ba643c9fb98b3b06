/*
 * libcurl GET with retries for the market-data clients (see http.h). One easy handle per
 * attempt: simple, and the clients make few, large requests. Any thread (CURLOPT_NOSIGNAL;
 * curl_global_init ran in feeds_configure).
 */
#define _DEFAULT_SOURCE
#include "feeds/http.h"

#include <jansson.h>

#include <curl/curl.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct sink {
    char  *data;
    size_t len, cap, max;
    bool   too_big;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;

    if (s->len + n > s->max) {
        s->too_big = true;
        return 0;                   /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64 * 1024;
        char *d;
        while (cap < s->len + n + 1)
            cap *= 2;
        if ((d = realloc(s->data, cap)) == NULL)
            return 0;
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
    return n;
}

/* Sleeps ms in slices, polling stop; false when stopped. */
static bool
nap(unsigned ms, feed_stop_fn *stop, void *arg)
{
    while (ms > 0) {
        unsigned step = ms < 50 ? ms : 50;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step * 1000000L};
        if (stop != NULL && stop(arg))
            return false;
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return stop == NULL || !stop(arg);
}

/* The wait before attempt k + 1: full jitter over an exponential ceiling, or the server's
 * Retry-After when it gave one (both capped at retry_max_ms). */
static unsigned
backoff_ms(const struct feed_http_opts *o, unsigned k, long retry_after_s)
{
    unsigned long ceil = o->retry_base_ms;

    if (retry_after_s > 0) {
        unsigned long ms = (unsigned long)retry_after_s * 1000UL;
        return (unsigned)(ms < o->retry_max_ms ? ms : o->retry_max_ms);
    }
    for (unsigned i = 0; i < k && ceil < o->retry_max_ms; i++)
        ceil *= 2;
    if (ceil > o->retry_max_ms)
        ceil = o->retry_max_ms;
    return (unsigned)(ceil / 2 + arc4random_uniform((uint32_t)(ceil / 2 + 1)));
}

/* The wait until a rate-limit window resets at reset_ms (epoch ms; a little after, capped). */
static unsigned
reset_wait_ms(const struct feed_http_opts *o, long long reset_ms)
{
    struct timespec now;
    long long now_ms, d;

    clock_gettime(CLOCK_REALTIME, &now);
    now_ms = (long long)now.tv_sec * 1000LL + now.tv_nsec / 1000000L;
    d = reset_ms - now_ms + 50;
    if (d < 50)
        d = 50;
    return (unsigned)(d < (long long)o->retry_max_ms ? d : (long long)o->retry_max_ms);
}

/* Whether a transport error may heal by retrying. */
static bool
transient_curl(CURLcode c)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

struct hdr_state {
    struct feed_extra *x;
    long long          reset_ms;    /* the reset header's value; 0 when absent */
};

/* Header callback: picks the wanted Set-Cookie ("name=value", attributes dropped) and the
 * rate-limit reset time. */
static size_t
on_header(char *p, size_t size, size_t nitems, void *arg)
{
    struct hdr_state *hs = arg;
    struct feed_extra *x = hs->x;
    size_t n = size * nitems, nl = x->set_name ? strlen(x->set_name) : 0;
    const char *v, *end = p + n;

    if (x->reset_ms_header != NULL) {
        size_t hl = strlen(x->reset_ms_header);
        if (n > hl + 1 && strncasecmp(p, x->reset_ms_header, hl) == 0 && p[hl] == ':') {
            char num[32];
            size_t len = 0;
            v = p + hl + 1;
            while (v < end && *v == ' ')
                v++;
            while (v + len < end && len + 1 < sizeof(num) && v[len] >= '0' && v[len] <= '9')
                len++;
            memcpy(num, v, len);
            num[len] = '\0';
            hs->reset_ms = len > 0 ? strtoll(num, NULL, 10) : 0;
        }
    }
    if (x->set_name != NULL && x->set_out != NULL && n > 11 &&
        strncasecmp(p, "Set-Cookie:", 11) == 0) {
        v = p + 11;
        while (v < end && *v == ' ')
            v++;
        if ((size_t)(end - v) > nl && strncmp(v, x->set_name, nl) == 0 && v[nl] == '=') {
            size_t len = 0;
            while (v + len < end && v[len] != ';' && v[len] != '\r' && v[len] != '\n')
                len++;
            snprintf(x->set_out, x->set_n, "%.*s", (int)len, v);
        }
    }
    return n;
}

enum qd_code
feed_get(const struct feed_http_opts *o, const char *url, const char *shown, feed_check_fn *check,
         void *check_arg, feed_stop_fn *stop, void *stop_arg, struct feed_response *r,
         struct qd_err *err)
{
    return feed_get_ex(o, url, shown, NULL, check, check_arg, stop, stop_arg, r, err);
}

enum qd_code
feed_get_ex(const struct feed_http_opts *o, const char *url, const char *shown,
            struct feed_extra *x, feed_check_fn *check, void *check_arg, feed_stop_fn *stop,
            void *stop_arg, struct feed_response *r, struct qd_err *err)
{
    char why[320] = "";

    memset(r, 0, sizeof(*r));
    for (unsigned k = 0;; k++) {
        CURL *h = curl_easy_init();
        struct sink s = {.max = o->max_bytes};
        struct hdr_state hs = {.x = x};
        struct curl_slist *hdrs = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        long retry_after = 0;
        const char *ct = NULL;
        CURLcode cc;
        unsigned wait;
        bool again = false;

        if (h == NULL)
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");         /* gzip, deflate, br */
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_USERAGENT,
                         "Mozilla/5.0 (X11; Linux x86_64) quantd/0.1");  /* CDNs refuse bare clients */
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        if (x != NULL && x->cookie != NULL)
            curl_easy_setopt(h, CURLOPT_COOKIE, x->cookie);
        if (x != NULL && x->post != NULL)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->post);
        if (x != NULL) {
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(h, CURLOPT_HEADERDATA, &hs);
            for (size_t i = 0; x->headers != NULL && x->headers[i] != NULL; i++) {
                struct curl_slist *l = curl_slist_append(hdrs, x->headers[i]);
                if (l == NULL) {
                    curl_slist_free_all(hdrs);
                    curl_easy_cleanup(h);
                    return qd_err_set(err, QD_ENOMEM, "out of memory");
                }
                hdrs = l;
            }
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        }
        cc = curl_easy_perform(h);
        r->attempts = k + 1;
        if (cc == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
            curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
            curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
            snprintf(r->content_type, sizeof(r->content_type), "%s", ct ? ct : "");
        }
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        free(r->body);
        r->body = s.data ? s.data : strdup("");
        r->len = s.len;
        if (r->body == NULL)
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        if (s.too_big)
            return qd_err_set(err, QD_ETOOBIG, "%s: the response is larger than %zu bytes",
                              shown, o->max_bytes);
        if (cc != CURLE_OK) {
            if (!transient_curl(cc))
                return qd_err_set(err, QD_EINVAL, "%s: %s", shown,
                                  errbuf[0] ? errbuf : curl_easy_strerror(cc));
            snprintf(why, sizeof(why), "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
            again = true;
        } else if (r->status == 429 || r->status >= 500) {
            snprintf(why, sizeof(why), "HTTP %ld", r->status);
            again = true;
        } else if (r->status >= 200 && r->status < 300 && check != NULL) {
            struct qd_err ce = {0};
            enum qd_code rc = check(r, check_arg, &ce);
            if (rc == QD_ETRANSIENT) {
                snprintf(why, sizeof(why), "%s", ce.msg);
                again = true;
            } else if (rc != QD_OK) {
                *err = ce;
                return rc;
            }
        }
        if (!again)
            return QD_OK;
        if (k >= o->retries)
            return qd_err_set(err, QD_ETRANSIENT, "%s: %s (after %u attempts)", shown, why, k + 1);
        if (r->status == 429 && retry_after <= 0 && hs.reset_ms > 0)
            wait = reset_wait_ms(o, hs.reset_ms);
        else
            wait = backoff_ms(o, k, retry_after);
        if (!nap(wait, stop, stop_arg))
            return qd_err_set(err, QD_ECANCELED, "cancelled");
    }
}

enum qd_code
feed_check_json(const struct feed_response *r, void *arg, struct qd_err *err)
{
    json_error_t je;
    json_t *root;

    (void)arg;
    root = json_loadb(r->body, r->len, 0, &je);
    if (root == NULL)
        return qd_err_set(err, QD_ETRANSIENT, "the answer is not JSON (%s%s)",
                          strncmp(r->content_type, "text/html", 9) == 0 ? "an HTML page: " : "",
                          je.text);
    json_decref(root);
    return QD_OK;
}
