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

/* Cookies for sources that need a session (Yahoo's A3 cookie): cookie is sent as the Cookie
 * header when not NULL; a Set-Cookie whose name is set_name is copied ("name=value") into
 * set_out. */
struct feed_cookies {
    const char *cookie;
    const char *set_name;
    char       *set_out;
    size_t      set_n;
};

/* feed_get with cookies (x may be NULL). */
enum qd_code feed_get_ex(const struct feed_http_opts *o, const char *url, const char *shown,
                         struct feed_cookies *x, feed_check_fn *check, void *check_arg,
                         feed_stop_fn *stop, void *stop_arg, struct feed_response *r,
                         struct qd_err *err);

/* GET url. QD_OK with the final response whatever its status (2xx, or a final 4xx for the
 * caller to explain); QD_ETRANSIENT after the attempts ran out (the message says why: status,
 * timeout); QD_ETOOBIG past max_bytes; QD_ECANCELED. free(r->body) in every case. */
enum qd_code feed_get(const struct feed_http_opts *o, const char *url, const char *shown,
                      feed_check_fn *check, void *check_arg, feed_stop_fn *stop, void *stop_arg,
                      struct feed_response *r, struct qd_err *err);

#endif
