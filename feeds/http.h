#ifndef FEEDS_HTTP_H
#define FEEDS_HTTP_H

/*
 * GET with libcurl for the market-data clients: connect and total timeouts, gzip, a response
 * size cap, and retries with exponential backoff and full jitter on 429, 5xx, timeouts and
 * dropped connections, honouring Retry-After (capped at retry_max_ms). A 4xx other than 429
 * is final (an answer that cannot heal by waiting). URLs may hold secrets: messages name
 * `shown`, the URL with its secrets masked. Blocking; any thread.
 */

#include "common/err.h"
#include "feeds/feeds.h"

#include <stdbool.h>
#include <stddef.h>

struct feed_response {
    long   status;                  /* HTTP status of the final attempt */
    char  *body;                    /* NUL-terminated; free() */
    size_t len;
    char   content_type[96];
    unsigned attempts;
};

/* Checks a 2xx body; QD_ETRANSIENT when it is unusable in a way a retry may cure (an HTML
 * maintenance page, truncated JSON): the request is retried like a 5xx. */
typedef enum qd_code feed_check_fn(const struct feed_response *r, void *arg, struct qd_err *err);
/* Polled while waiting between attempts: true stops with QD_ECANCELED. */
typedef bool feed_stop_fn(void *arg);

/* What some sources need beyond a plain GET (every member optional):
 * - cookie: sent as the Cookie header (Yahoo's A3 session); a Set-Cookie whose name is
 *   set_name is copied ("name=value") into set_out.
 * - headers: NULL-terminated "Name: value" request headers (Authorization, Accept). They may
 *   hold secrets: nothing here logs or echoes them, and libcurl drops them on a redirect to
 *   another host.
 * - reset_ms_header: a response header that says, in epoch milliseconds, when the source's
 *   rate-limit window resets (Tradier's X-Ratelimit-Expiry): a 429 without Retry-After waits
 *   until then (capped at retry_max_ms) instead of the exponential backoff. */
struct feed_extra {
    const char        *cookie;
    const char        *set_name;
    char              *set_out;
    size_t             set_n;
    const char *const *headers;
    const char        *reset_ms_header;
    const char        *post;        /* a form body (application/x-www-form-urlencoded): POST */
};

/* A feed_check_fn for JSON sources: a 2xx body that is not JSON (an HTML maintenance page, a
 * cut-off answer) may heal, so it is QD_ETRANSIENT and retried. arg unused. */
enum qd_code feed_check_json(const struct feed_response *r, void *arg, struct qd_err *err);

/* feed_get with extras (x may be NULL). */
enum qd_code feed_get_ex(const struct feed_http_opts *o, const char *url, const char *shown,
                         struct feed_extra *x, feed_check_fn *check, void *check_arg,
                         feed_stop_fn *stop, void *stop_arg, struct feed_response *r,
                         struct qd_err *err);

/* GET url. QD_OK with the final response whatever its status (2xx, or a final 4xx for the
 * caller to explain); QD_ETRANSIENT after the attempts ran out (the message says why: status,
 * timeout); QD_ETOOBIG past max_bytes; QD_ECANCELED. free(r->body) in every case. */
enum qd_code feed_get(const struct feed_http_opts *o, const char *url, const char *shown,
                      feed_check_fn *check, void *check_arg, feed_stop_fn *stop, void *stop_arg,
                      struct feed_response *r, struct qd_err *err);

#endif
