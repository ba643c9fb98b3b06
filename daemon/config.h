#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

/*
 * The daemon's configuration: one table of keys (daemon/config.c), a JSON file, and
 * environment overrides. Loaded on the main thread at start and on SIGHUP (into a new struct;
 * only keys marked reloadable are applied). docs/config.md lists every key.
 */

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

struct qd_config {
    /* server */
    char    *listen;                /* "127.0.0.1:8080" */
    char    *state_dir;
    int      log_level;
    char    *log_file;              /* "" = stderr */
    unsigned body_max;              /* bytes, JSON request bodies */
    unsigned bars_upload_max;       /* bytes, PUT /v1/bars CSV bodies */
    char   **cors_origins;          /* NULL-terminated; empty = CORS off */
    double   rate_limit_per_second; /* per token; 0 = off */
    unsigned rate_limit_burst;
    unsigned drain_timeout_ms;
    char    *role;                  /* "all" | "api" | "worker" */
    unsigned http_threads;          /* reserved: MHD runs on the loop thread (docs/architecture.md) */
    unsigned bars_cache_mb;         /* encoded GET /v1/bars responses kept in memory */
    /* storage */
    char    *database_url;
    unsigned pool_size;
    unsigned statement_timeout_ms;
    /* jobs */
    unsigned jobs_workers;
    unsigned lease_seconds;
    unsigned heartbeat_ms;
    unsigned poll_ms;
    unsigned max_attempts;
    unsigned backoff_base_ms;
    unsigned backoff_max_ms;
    unsigned scheduler_ms;
    /* feeds (feeds/feeds.h): base URLs, timeouts, caps, retries, credentials */
    char    *feed_fred_url;
    char    *feed_fred_key_file;    /* FRED_API_KEY in the environment wins */
    char    *feed_cboe_url;
    char    *feed_cftc_url;
    char    *feed_cftc_dataset;
    char    *feed_yahoo_url, *feed_yahoo_cookie_url, *feed_yahoo_crumb_url;
    char    *feed_yahoo_consent_url, *feed_yahoo_collect_url;
    char    *feed_tradier_url, *feed_tradier_key_file;    /* TRADIER_API_KEY wins */
    char    *feed_polygon_url, *feed_polygon_key_file;    /* POLYGON_API_KEY wins */
    char    *feed_import_dir;       /* "" = <state_dir>/import */
    unsigned feed_connect_timeout_ms;
    unsigned feed_timeout_ms;
    unsigned feed_max_mb;
    unsigned feed_retries;
    unsigned feed_retry_base_ms;
    unsigned feed_retry_max_ms;
    /* tracking */
    double   dsr_threshold;         /* a deflated Sharpe ratio at least this "passes" */
    unsigned artifact_max_mb;       /* largest artifact upload */
};

/* Fills defaults, reads path (NULL: the default /etc/quantd/quantd.json if it exists), then
 * applies environment overrides, then validates. On error *err names the key
 * ("server.listen") or the file position. Free with config_release(). */
enum qd_code config_load(struct qd_config *c, const char *path, struct qd_err *err);
void config_release(struct qd_config *c);

/* Copies into dst the keys that may change at run time (log level and file, rate limit, CORS).
 * Returns true when anything changed. */
bool config_apply_reloadable(struct qd_config *dst, const struct qd_config *src);

/* Writes the effective configuration as JSON (secrets masked) to a malloc'd string. */
char *config_dump(const struct qd_config *c);

/* Splits "host:port" (IPv4, [IPv6] or name) into host and port; false when malformed. */
bool config_split_listen(const char *listen, char *host, size_t hostlen, unsigned *port);

#endif
