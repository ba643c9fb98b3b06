/* Structured logging (see log.h). The destination fd is swapped atomically on reopen. */
#define _GNU_SOURCE
#include "common/log.h"
#include "common/date.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Atomic int qd_log_threshold = QD_LOG_INFO;
static _Atomic int log_fd = 2;

static const char *const level_names[] = {
    [QD_LOG_ERR] = "err",   [QD_LOG_WARNING] = "warning", [QD_LOG_NOTICE] = "notice",
    [QD_LOG_INFO] = "info", [QD_LOG_DEBUG] = "debug",
};

int
qd_log_level_parse(const char *s)
{
    for (int i = QD_LOG_ERR; i <= QD_LOG_DEBUG; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    if (strcmp(s, "error") == 0)
        return QD_LOG_ERR;
    if (strcmp(s, "warn") == 0)
        return QD_LOG_WARNING;
    return -1;
}

int
qd_log_open(const char *path)
{
    int fd = 2, old;

    if (path != NULL && path[0] != '\0') {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return -1;
    }
    old = atomic_exchange(&log_fd, fd);
    if (old > 2)
        close(old);
    return 0;
}

void
qd_log_close(void)
{
    int old = atomic_exchange(&log_fd, 2);

    if (old > 2)
        close(old);
}

/* Appends msg quoted for logfmt: quotes, backslashes and control characters escaped. */
static size_t
put_quoted(char *dst, size_t cap, size_t at, const char *msg, size_t n)
{
    if (at < cap)
        dst[at++] = '"';
    for (size_t i = 0; i < n && at + 4 < cap; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c == '"' || c == '\\') {
            dst[at++] = '\\';
            dst[at++] = (char)c;
        } else if (c == '\n') {
            dst[at++] = '\\';
            dst[at++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            dst[at++] = ' ';
        } else {
            dst[at++] = (char)c;
        }
    }
    if (at < cap)
        dst[at++] = '"';
    return at;
}

void
qd_log_write(enum qd_log_level lvl, const char *mod, const char *fmt, ...)
{
    char text[2048], line[4096], ts[32];
    const char *tab;
    size_t at;
    int64_t now = qd_now_usec();
    va_list ap;
    int n, saved = errno;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    qd_time_format(now, ts);
    ts[19] = '\0';              /* drop the Z: milliseconds follow */
    n = snprintf(line, sizeof(line), "ts=%s.%03dZ level=%s mod=%s msg=", ts,
                 (int)((now / 1000) % 1000), level_names[lvl], mod);
    at = (size_t)n;
    tab = strchr(text, '\t');
    at = put_quoted(line, sizeof(line) - 2, at, text, tab ? (size_t)(tab - text) : strlen(text));
    if (tab != NULL) {
        size_t rest = strlen(tab + 1);
        if (at + 1 + rest > sizeof(line) - 2)
            rest = sizeof(line) - 2 - at - 1;
        line[at++] = ' ';
        memcpy(line + at, tab + 1, rest);
        at += rest;
    }
    line[at++] = '\n';
    if (write(atomic_load(&log_fd), line, at) < 0) {
        /* nowhere left to report it */
    }
    errno = saved;
}
