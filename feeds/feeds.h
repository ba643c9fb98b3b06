#ifndef FEEDS_FEEDS_H
#define FEEDS_FEEDS_H

/*
 * Settings of the market-data clients (docs/feeds.md): base URLs, credentials, timeouts, the
 * response-size cap and the retry policy. The daemon sets them once at start, before any job
 * worker runs (feeds_configure); clients read them with feeds_settings() from any thread.
 */

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/* Dated values: days since 1970-01-01 (increasing) and values, NaN where missing. */
struct feed_series {
    int32_t *day;
    double  *value;
    size_t   n, cap;
};
enum qd_code feed_series_push(struct feed_series *s, int32_t day, double v);   /* QD_ENOMEM */
void feed_series_release(struct feed_series *s);

struct feed_http_opts {
    long     connect_timeout_ms, timeout_ms;
    size_t   max_bytes;             /* a larger response fails (not retried) */
    unsigned retries;               /* further attempts after the first, for 429/5xx/timeouts */
    unsigned retry_base_ms, retry_max_ms;
};

struct feeds_settings {
    struct feed_http_opts http;
    char fred_url[512];             /* base, e.g. https://api.stlouisfed.org */
    char fred_key[128];             /* "" when none: FRED jobs fail naming FRED_API_KEY */
    char cboe_url[512];
    char cftc_url[512];             /* Socrata base, e.g. https://publicreporting.cftc.gov */
    char cftc_dataset[32];          /* "6dca-aqww": legacy futures only */
    char yahoo_url[512];            /* chart API base: https://query2.finance.yahoo.com */
    char yahoo_cookie_url[512];     /* sets the A3 cookie: https://fc.yahoo.com */
    char yahoo_crumb_url[512];      /* /v1/test/getcrumb: https://query1.finance.yahoo.com */
    char yahoo_consent_url[512];    /* the EU consent form: https://guce.yahoo.com */
    char yahoo_collect_url[512];    /* where it is posted: https://consent.yahoo.com */
    char tradier_url[512];          /* https://api.tradier.com (sandbox: sandbox.tradier.com) */
    char tradier_key[256];          /* "" when none */
    char polygon_url[512];          /* https://api.polygon.io */
    char polygon_key[256];
    char import_dir[512];           /* ingest_equity source csv reads only under this */
};

/* Copies s; curl_global_init. Call on the main thread before starting workers. */
enum qd_code feeds_configure(const struct feeds_settings *s, struct qd_err *err);
const struct feeds_settings *feeds_settings(void);

/* Reads a credential: the environment variable env when set and not empty, else the first
 * line of file (which must be mode 0600 or stricter and owned by us), else "". QD_EINVAL when
 * the file is readable by others or cannot be read. */
enum qd_code feeds_secret(const char *env, const char *file, char *out, size_t n,
                          struct qd_err *err);

#endif
