/* Feed settings (see feeds.h). Written once on the main thread before workers start; read
 * only afterwards, so no lock. */
#include "feeds/feeds.h"

#include <curl/curl.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct feeds_settings settings = {
    .http = {.connect_timeout_ms = 10000, .timeout_ms = 60000, .max_bytes = 256u << 20,
             .retries = 4, .retry_base_ms = 500, .retry_max_ms = 30000},
    .fred_url = "https://api.stlouisfed.org",
    .cboe_url = "https://cdn.cboe.com",
    .cftc_url = "https://publicreporting.cftc.gov",
    .cftc_dataset = "6dca-aqww",
    .yahoo_url = "https://query2.finance.yahoo.com",
    .yahoo_cookie_url = "https://fc.yahoo.com",
    .yahoo_crumb_url = "https://query1.finance.yahoo.com",
};

enum qd_code
feeds_configure(const struct feeds_settings *s, struct qd_err *err)
{
    static bool inited;

    if (!inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return qd_err_set(err, QD_EINVAL, "libcurl failed to initialize");
        inited = true;
    }
    settings = *s;
    return QD_OK;
}

const struct feeds_settings *
feeds_settings(void)
{
    return &settings;
}

enum qd_code
feeds_secret(const char *env, const char *file, char *out, size_t n, struct qd_err *err)
{
    const char *v = env ? getenv(env) : NULL;
    struct stat st;
    FILE *f;
    int fd;

    out[0] = '\0';
    if (v != NULL && v[0] != '\0') {
        if (strlen(v) >= n)
            return qd_err_set(err, QD_EINVAL, "%s is too long", env);
        snprintf(out, n, "%s", v);
        return QD_OK;
    }
    if (file == NULL || file[0] == '\0')
        return QD_OK;
    fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return qd_err_set(err, QD_EINVAL, "%s: %s", file, strerror(errno));
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        close(fd);
        return qd_err_set(err, QD_EINVAL,
                          "%s: a credential file must be ours and mode 0600 (no group or other "
                          "access)", file);
    }
    if ((f = fdopen(fd, "r")) == NULL) {
        close(fd);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    if (fgets(out, (int)n, f) == NULL)
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return QD_OK;
}

enum qd_code
feed_series_push(struct feed_series *s, int32_t day, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        int32_t *d = realloc(s->day, cap * sizeof(*d));
        double *x;
        if (d == NULL)
            return QD_ENOMEM;
        s->day = d;
        if ((x = realloc(s->value, cap * sizeof(*x))) == NULL)
            return QD_ENOMEM;
        s->value = x;
        s->cap = cap;
    }
    s->day[s->n] = day;
    s->value[s->n++] = v;
    return QD_OK;
}

void
feed_series_release(struct feed_series *s)
{
    free(s->day);
    free(s->value);
    memset(s, 0, sizeof(*s));
}
