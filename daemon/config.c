/*
 * Configuration table, JSON file and environment overrides. Main thread only.
 * DESIGN: every key is one row of cfg_opts[]: its dotted path, type, default, range, the
 * environment variable that overrides it, and whether SIGHUP may change it. Unknown keys,
 * wrong types and out-of-range values refuse the whole file, naming the key.
 */
#include "daemon/config.h"
#include "common/log.h"

#include <jansson.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG_PATH "/etc/quantd/quantd.json"

enum cfg_type { CFG_STR, CFG_UINT, CFG_DOUBLE, CFG_LOGLEVEL, CFG_STRLIST, CFG_ENUM };
enum cfg_flags { CFG_RELOADABLE = 1 << 0, CFG_SECRET = 1 << 1 };

struct cfg_opt {
    const char   *key;
    enum cfg_type type;
    size_t        off;
    const char   *def_s;
    double        def_n, min, max;
    const char   *env;
    unsigned      flags;
    const char *const *enum_names;
};

#define OFF(f) offsetof(struct qd_config, f)
static const char *const roles[] = {"all", "api", "worker", NULL};

static const struct cfg_opt cfg_opts[] = {
    {"server.listen", CFG_STR, OFF(listen), .def_s = "127.0.0.1:8080", .env = "QUANTD_LISTEN"},
    {"server.state_dir", CFG_STR, OFF(state_dir), .def_s = "/var/lib/quantd",
     .env = "QUANTD_STATE_DIR"},
    {"server.log_level", CFG_LOGLEVEL, OFF(log_level), .def_s = "info", .env = "QUANTD_LOG_LEVEL",
     .flags = CFG_RELOADABLE},
    {"server.log_file", CFG_STR, OFF(log_file), .def_s = "", .env = "QUANTD_LOG_FILE",
     .flags = CFG_RELOADABLE},
    {"server.body_max", CFG_UINT, OFF(body_max), .def_n = 1 << 20, .min = 1024, .max = 64 << 20},
    {"server.bars_upload_max", CFG_UINT, OFF(bars_upload_max), .def_n = 64 << 20, .min = 1024,
     .max = 1u << 30},
    {"server.cors_origins", CFG_STRLIST, OFF(cors_origins), .flags = CFG_RELOADABLE},
    {"server.rate_limit_per_second", CFG_DOUBLE, OFF(rate_limit_per_second), .def_n = 200,
     .min = 0, .max = 1e6, .flags = CFG_RELOADABLE},
    {"server.rate_limit_burst", CFG_UINT, OFF(rate_limit_burst), .def_n = 400, .min = 1,
     .max = 1e7, .flags = CFG_RELOADABLE},
    {"server.drain_timeout_ms", CFG_UINT, OFF(drain_timeout_ms), .def_n = 10000, .min = 0,
     .max = 600000},
    {"server.role", CFG_ENUM, OFF(role), .def_s = "all", .env = "QUANTD_ROLE", .enum_names = roles},
    {"server.bars_cache_mb", CFG_UINT, OFF(bars_cache_mb), .def_n = 256, .min = 0, .max = 65536},
    {"storage.database_url", CFG_STR, OFF(database_url), .def_s = "",
     .env = "QUANTD_DATABASE_URL", .flags = CFG_SECRET},
    {"storage.pool_size", CFG_UINT, OFF(pool_size), .def_n = 4, .min = 1, .max = 64},
    {"storage.statement_timeout_ms", CFG_UINT, OFF(statement_timeout_ms), .def_n = 60000,
     .min = 0, .max = 3600000},
    {"jobs.workers", CFG_UINT, OFF(jobs_workers), .def_n = 2, .min = 0, .max = 64,
     .env = "QUANTD_JOBS_WORKERS"},
    {"jobs.lease_seconds", CFG_UINT, OFF(lease_seconds), .def_n = 30, .min = 1, .max = 3600},
    {"jobs.heartbeat_ms", CFG_UINT, OFF(heartbeat_ms), .def_n = 5000, .min = 50, .max = 600000},
    {"jobs.poll_ms", CFG_UINT, OFF(poll_ms), .def_n = 1000, .min = 10, .max = 600000},
    {"jobs.max_attempts", CFG_UINT, OFF(max_attempts), .def_n = 3, .min = 1, .max = 100},
    {"jobs.backoff_base_ms", CFG_UINT, OFF(backoff_base_ms), .def_n = 1000, .min = 1,
     .max = 3600000},
    {"jobs.backoff_max_ms", CFG_UINT, OFF(backoff_max_ms), .def_n = 300000, .min = 1,
     .max = 86400000},
    {"jobs.scheduler_ms", CFG_UINT, OFF(scheduler_ms), .def_n = 1000, .min = 10, .max = 60000},
    {"tracking.dsr_threshold", CFG_DOUBLE, OFF(dsr_threshold), .def_n = 0.95, .min = 0,
     .max = 1},
    {"tracking.artifact_max_mb", CFG_UINT, OFF(artifact_max_mb), .def_n = 64, .min = 1,
     .max = 4096},
    {"feeds.fred.base_url", CFG_STR, OFF(feed_fred_url), .def_s = "https://api.stlouisfed.org",
     .env = "QUANTD_FEED_FRED_URL"},
    {"feeds.fred.api_key_file", CFG_STR, OFF(feed_fred_key_file), .def_s = ""},
    {"feeds.cboe.base_url", CFG_STR, OFF(feed_cboe_url), .def_s = "https://cdn.cboe.com",
     .env = "QUANTD_FEED_CBOE_URL"},
    {"feeds.cftc.base_url", CFG_STR, OFF(feed_cftc_url),
     .def_s = "https://publicreporting.cftc.gov", .env = "QUANTD_FEED_CFTC_URL"},
    {"feeds.cftc.dataset", CFG_STR, OFF(feed_cftc_dataset), .def_s = "6dca-aqww"},
    {"feeds.yahoo.base_url", CFG_STR, OFF(feed_yahoo_url),
     .def_s = "https://query2.finance.yahoo.com", .env = "QUANTD_FEED_YAHOO_URL"},
    {"feeds.yahoo.cookie_url", CFG_STR, OFF(feed_yahoo_cookie_url),
     .def_s = "https://fc.yahoo.com", .env = "QUANTD_FEED_YAHOO_COOKIE_URL"},
    {"feeds.yahoo.crumb_url", CFG_STR, OFF(feed_yahoo_crumb_url),
     .def_s = "https://query1.finance.yahoo.com", .env = "QUANTD_FEED_YAHOO_CRUMB_URL"},
    {"feeds.yahoo.consent_url", CFG_STR, OFF(feed_yahoo_consent_url),
     .def_s = "https://guce.yahoo.com", .env = "QUANTD_FEED_YAHOO_CONSENT_URL"},
    {"feeds.yahoo.collect_url", CFG_STR, OFF(feed_yahoo_collect_url),
     .def_s = "https://consent.yahoo.com", .env = "QUANTD_FEED_YAHOO_COLLECT_URL"},
    {"feeds.tradier.base_url", CFG_STR, OFF(feed_tradier_url),
     .def_s = "https://api.tradier.com", .env = "QUANTD_FEED_TRADIER_URL"},
    {"feeds.tradier.api_key_file", CFG_STR, OFF(feed_tradier_key_file), .def_s = ""},
    {"feeds.polygon.base_url", CFG_STR, OFF(feed_polygon_url),
     .def_s = "https://api.polygon.io", .env = "QUANTD_FEED_POLYGON_URL"},
    {"feeds.polygon.api_key_file", CFG_STR, OFF(feed_polygon_key_file), .def_s = ""},
    {"feeds.csv.import_dir", CFG_STR, OFF(feed_import_dir), .def_s = "",
     .env = "QUANTD_IMPORT_DIR"},
    {"feeds.connect_timeout_ms", CFG_UINT, OFF(feed_connect_timeout_ms), .def_n = 10000,
     .min = 100, .max = 600000},
    {"feeds.timeout_ms", CFG_UINT, OFF(feed_timeout_ms), .def_n = 60000, .min = 100,
     .max = 3600000},
    {"feeds.max_mb", CFG_UINT, OFF(feed_max_mb), .def_n = 256, .min = 1, .max = 4096},
    {"feeds.retries", CFG_UINT, OFF(feed_retries), .def_n = 4, .min = 0, .max = 20},
    {"feeds.retry_base_ms", CFG_UINT, OFF(feed_retry_base_ms), .def_n = 500, .min = 1,
     .max = 600000},
    {"feeds.retry_max_ms", CFG_UINT, OFF(feed_retry_max_ms), .def_n = 30000, .min = 1,
     .max = 3600000},
};

#define FIELD(c, o, T) ((T *)((char *)(c) + (o)->off))

static void
strlist_free(char **l)
{
    if (l == NULL)
        return;
    for (char **p = l; *p; p++)
        free(*p);
    free(l);
}

static enum qd_code
set_str(struct qd_config *c, const struct cfg_opt *o, const char *v)
{
    char *dup = strdup(v);

    if (dup == NULL)
        return QD_ENOMEM;
    free(*FIELD(c, o, char *));
    *FIELD(c, o, char *) = dup;
    return QD_OK;
}

static enum qd_code
set_number(struct qd_config *c, const struct cfg_opt *o, double v, struct qd_err *err)
{
    if (!isfinite(v) || v < o->min || v > o->max)
        return qd_err_field(err, QD_EINVAL, o->key, "%s must be between %g and %g, got %g", o->key,
                            o->min, o->max, v);
    if (o->type == CFG_UINT) {
        if (v != floor(v))
            return qd_err_field(err, QD_EINVAL, o->key, "%s must be an integer", o->key);
        *FIELD(c, o, unsigned) = (unsigned)v;
    } else {
        *FIELD(c, o, double) = v;
    }
    return QD_OK;
}

static enum qd_code
set_from_string(struct qd_config *c, const struct cfg_opt *o, const char *v, struct qd_err *err)
{
    switch (o->type) {
    case CFG_STR:
        return set_str(c, o, v);
    case CFG_ENUM:
        for (const char *const *n = o->enum_names; *n; n++)
            if (strcmp(*n, v) == 0)
                return set_str(c, o, v);
        return qd_err_field(err, QD_EINVAL, o->key, "%s: unknown value \"%s\"", o->key, v);
    case CFG_LOGLEVEL: {
        int lvl = qd_log_level_parse(v);
        if (lvl < 0)
            return qd_err_field(err, QD_EINVAL, o->key,
                                "%s must be one of err, warning, notice, info, debug", o->key);
        *FIELD(c, o, int) = lvl;
        return QD_OK;
    }
    case CFG_UINT:
    case CFG_DOUBLE: {
        char *end;
        double d;
        errno = 0;
        d = strtod(v, &end);
        if (errno || end == v || *end != '\0')
            return qd_err_field(err, QD_EINVAL, o->key, "%s: \"%s\" is not a number", o->key, v);
        return set_number(c, o, d, err);
    }
    case CFG_STRLIST: {
        /* comma-separated in the environment */
        size_t n = 1;
        char **l, *copy, *save = NULL, *tok;
        for (const char *p = v; *p; p++)
            n += *p == ',';
        l = calloc(n + 1, sizeof(*l));
        copy = strdup(v);
        if (l == NULL || copy == NULL) {
            free(l);
            free(copy);
            return QD_ENOMEM;
        }
        n = 0;
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            if (*tok)
                l[n++] = strdup(tok);
        free(copy);
        strlist_free(*FIELD(c, o, char **));
        *FIELD(c, o, char **) = l;
        return QD_OK;
    }
    }
    return QD_EINVAL;
}

static enum qd_code
set_from_json(struct qd_config *c, const struct cfg_opt *o, json_t *v, struct qd_err *err)
{
    switch (o->type) {
    case CFG_STR:
    case CFG_ENUM:
    case CFG_LOGLEVEL:
        if (!json_is_string(v))
            return qd_err_field(err, QD_EINVAL, o->key, "%s must be a string", o->key);
        return set_from_string(c, o, json_string_value(v), err);
    case CFG_UINT:
    case CFG_DOUBLE:
        if (!json_is_number(v))
            return qd_err_field(err, QD_EINVAL, o->key, "%s must be a number", o->key);
        return set_number(c, o, json_number_value(v), err);
    case CFG_STRLIST: {
        size_t i, n;
        char **l;
        json_t *e;
        if (!json_is_array(v))
            return qd_err_field(err, QD_EINVAL, o->key, "%s must be an array of strings", o->key);
        n = json_array_size(v);
        l = calloc(n + 1, sizeof(*l));
        if (l == NULL)
            return QD_ENOMEM;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e)) {
                strlist_free(l);
                return qd_err_field(err, QD_EINVAL, o->key, "%s[%zu] must be a string", o->key, i);
            }
            l[i] = strdup(json_string_value(e));
        }
        strlist_free(*FIELD(c, o, char **));
        *FIELD(c, o, char **) = l;
        return QD_OK;
    }
    }
    return QD_EINVAL;
}

static const struct cfg_opt *
find_opt(const char *key)
{
    for (size_t i = 0; i < QD_ARRAY_LEN(cfg_opts); i++)
        if (strcmp(cfg_opts[i].key, key) == 0)
            return &cfg_opts[i];
    return NULL;
}

static enum qd_code
set_key(struct qd_config *c, const char *path, const char *key, json_t *v,
        struct qd_err *err)
{
    const struct cfg_opt *o = find_opt(key);
    enum qd_code rc;

    if (o == NULL)
        return qd_err_field(err, QD_EINVAL, key, "%s: unknown key \"%s\"", path, key);
    rc = set_from_json(c, o, v, err);
    if (rc != QD_OK)
        qd_err_prefix(err, path);
    return rc;
}

static enum qd_code
load_file(struct qd_config *c, const char *path, struct qd_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *sec, *v;
    const char *sname, *k;
    enum qd_code rc = QD_OK;

    if (root == NULL)
        return qd_err_set(err, QD_EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return qd_err_set(err, QD_EINVAL, "%s: the configuration must be a JSON object", path);
    }
    json_object_foreach(root, sname, sec)
    {
        if (!json_is_object(sec)) {
            rc = qd_err_field(err, QD_EINVAL, sname, "%s: section \"%s\" must be an object", path,
                              sname);
            break;
        }
        json_object_foreach(sec, k, v)
        {
            char key[128];
            snprintf(key, sizeof(key), "%s.%s", sname, k);
            if (json_is_object(v) && find_opt(key) == NULL) {
                /* a subsection: "feeds": {"fred": {"base_url": ...}} */
                const char *k2;
                json_t *v2;
                json_object_foreach(v, k2, v2)
                {
                    char key2[192];
                    snprintf(key2, sizeof(key2), "%s.%s", key, k2);
                    if ((rc = set_key(c, path, key2, v2, err)) != QD_OK)
                        break;
                }
            } else {
                rc = set_key(c, path, key, v, err);
            }
            if (rc != QD_OK)
                break;
        }
        if (rc != QD_OK)
            break;
    }
    json_decref(root);
    return rc;
}

enum qd_code
config_load(struct qd_config *c, const char *path, struct qd_err *err)
{
    enum qd_code rc = QD_OK;

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < QD_ARRAY_LEN(cfg_opts) && rc == QD_OK; i++) {
        const struct cfg_opt *o = &cfg_opts[i];
        char num[64];
        if (o->type == CFG_STRLIST) {
            *FIELD(c, o, char **) = calloc(1, sizeof(char *));
            if (*FIELD(c, o, char **) == NULL)
                rc = QD_ENOMEM;
            continue;
        }
        if (o->def_s == NULL)
            snprintf(num, sizeof(num), "%.17g", o->def_n);
        rc = set_from_string(c, o, o->def_s ? o->def_s : num, err);
    }
    if (rc == QD_OK) {
        if (path == NULL && access(DEFAULT_CONFIG_PATH, F_OK) == 0)
            path = DEFAULT_CONFIG_PATH;
        if (path != NULL)
            rc = load_file(c, path, err);
    }
    for (size_t i = 0; i < QD_ARRAY_LEN(cfg_opts) && rc == QD_OK; i++) {
        const char *v = cfg_opts[i].env ? getenv(cfg_opts[i].env) : NULL;
        if (v != NULL && *v != '\0') {
            rc = set_from_string(c, &cfg_opts[i], v, err);
            if (rc != QD_OK)
                qd_err_prefix(err, cfg_opts[i].env);
        }
    }
    if (rc == QD_OK) {
        char host[256];
        unsigned port;
        if (!config_split_listen(c->listen, host, sizeof(host), &port))
            rc = qd_err_field(err, QD_EINVAL, "server.listen",
                              "server.listen must be host:port, got \"%s\"", c->listen);
        else if (c->backoff_base_ms > c->backoff_max_ms)
            rc = qd_err_field(err, QD_EINVAL, "jobs.backoff_base_ms",
                              "jobs.backoff_base_ms must not exceed jobs.backoff_max_ms");
        else if ((uint64_t)c->heartbeat_ms >= (uint64_t)c->lease_seconds * 1000)
            rc = qd_err_field(err, QD_EINVAL, "jobs.heartbeat_ms",
                              "jobs.heartbeat_ms must be shorter than jobs.lease_seconds");
        if (rc != QD_OK && path != NULL)
            qd_err_prefix(err, path);
    }
    if (rc == QD_ENOMEM)
        qd_err_set(err, rc, "out of memory reading the configuration");
    if (rc != QD_OK)
        config_release(c);
    return rc;
}

void
config_release(struct qd_config *c)
{
    for (size_t i = 0; i < QD_ARRAY_LEN(cfg_opts); i++) {
        const struct cfg_opt *o = &cfg_opts[i];
        if (o->type == CFG_STR || o->type == CFG_ENUM) {
            free(*FIELD(c, o, char *));
            *FIELD(c, o, char *) = NULL;
        } else if (o->type == CFG_STRLIST) {
            strlist_free(*FIELD(c, o, char **));
            *FIELD(c, o, char **) = NULL;
        }
    }
}

static bool
strlist_eq(char **a, char **b)
{
    for (; *a && *b; a++, b++)
        if (strcmp(*a, *b) != 0)
            return false;
    return *a == NULL && *b == NULL;
}

bool
config_apply_reloadable(struct qd_config *dst, const struct qd_config *src)
{
    bool changed = false;

    for (size_t i = 0; i < QD_ARRAY_LEN(cfg_opts); i++) {
        const struct cfg_opt *o = &cfg_opts[i];
        if (!(o->flags & CFG_RELOADABLE))
            continue;
        switch (o->type) {
        case CFG_STR:
        case CFG_ENUM:
            if (strcmp(*FIELD(dst, o, char *), *FIELD(src, o, char *)) != 0) {
                changed = true;
                set_str(dst, o, *FIELD(src, o, char *));
            }
            break;
        case CFG_UINT:
        case CFG_LOGLEVEL:
            changed |= *FIELD(dst, o, unsigned) != *FIELD(src, o, unsigned);
            *FIELD(dst, o, unsigned) = *FIELD(src, o, unsigned);
            break;
        case CFG_DOUBLE:
            changed |= *FIELD(dst, o, double) != *FIELD(src, o, double);
            *FIELD(dst, o, double) = *FIELD(src, o, double);
            break;
        case CFG_STRLIST: {
            char **s = *FIELD(src, o, char **), **copy;
            size_t n = 0;
            if (strlist_eq(*FIELD(dst, o, char **), s))
                break;
            while (s[n])
                n++;
            copy = calloc(n + 1, sizeof(*copy));
            if (copy == NULL)
                break;
            for (size_t j = 0; j < n; j++)
                copy[j] = strdup(s[j]);
            strlist_free(*FIELD(dst, o, char **));
            *FIELD(dst, o, char **) = copy;
            changed = true;
            break;
        }
        }
    }
    return changed;
}

char *
config_dump(const struct qd_config *c)
{
    static const char *const lvl[] = {[3] = "err", "warning", "notice", "info", "debug"};
    json_t *root = json_object();
    char *out;

    for (size_t i = 0; i < QD_ARRAY_LEN(cfg_opts); i++) {
        const struct cfg_opt *o = &cfg_opts[i];
        char sec[64];
        const char *dot = strchr(o->key, '.');
        json_t *s, *v = NULL;

        snprintf(sec, sizeof(sec), "%.*s", (int)(dot - o->key), o->key);
        s = json_object_get(root, sec);
        if (s == NULL) {
            s = json_object();
            json_object_set_new(root, sec, s);
        }
        switch (o->type) {
        case CFG_STR:
        case CFG_ENUM:
            v = json_string((o->flags & CFG_SECRET) && **FIELD(c, o, char *) ? "********"
                                                                              : *FIELD(c, o, char *));
            break;
        case CFG_LOGLEVEL:
            v = json_string(lvl[*FIELD(c, o, int)]);
            break;
        case CFG_UINT:
            v = json_integer(*FIELD(c, o, unsigned));
            break;
        case CFG_DOUBLE:
            v = json_real(*FIELD(c, o, double));
            break;
        case CFG_STRLIST:
            v = json_array();
            for (char **p = *FIELD(c, o, char **); *p; p++)
                json_array_append_new(v, json_string(*p));
            break;
        }
        json_object_set_new(s, dot + 1, v);
    }
    out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return out;
}

bool
config_split_listen(const char *listen, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(listen, ':'), *h = listen;
    size_t hl;
    char *end;
    long p;

    if (colon == NULL)
        return false;
    hl = (size_t)(colon - listen);
    if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return false;
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned)p;
    return true;
}
