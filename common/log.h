#ifndef COMMON_LOG_H
#define COMMON_LOG_H

/*
 * Structured logging: one logfmt line per event,
 *   ts=2026-11-24T14:54:48.123Z level=info mod=http msg="listening" addr=127.0.0.1:8080
 * written with a single write(2) to stderr or to the log file (O_APPEND), so lines from several
 * threads never interleave. Any thread. Never log secrets: tokens, API keys, passwords.
 */

#include <stdatomic.h>

enum qd_log_level {             /* values are syslog priorities, so journald understands them */
    QD_LOG_ERR = 3,
    QD_LOG_WARNING = 4,
    QD_LOG_NOTICE = 5,
    QD_LOG_INFO = 6,
    QD_LOG_DEBUG = 7
};
extern _Atomic int qd_log_threshold;

/* fmt is the message; extra key=value pairs may follow it after a '\t' in the formatted text:
 * QD_LOG(QD_LOG_INFO, "job finished\tid=%lld status=%s", id, st). */
void qd_log_write(enum qd_log_level lvl, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define QD_LOG(lvl, ...)                                                                          \
    do {                                                                                          \
        if ((int)(lvl) <= atomic_load_explicit(&qd_log_threshold, memory_order_relaxed))          \
            qd_log_write((lvl), QD_LOG_MODULE, __VA_ARGS__);                                      \
    } while (0)

/* "err", "warning", "notice", "info", "debug" -> level; -1 when unknown. */
int qd_log_level_parse(const char *s);
/* Sends lines to path (appending; created 0640), or stderr when path is NULL or "".
 * Called again after SIGHUP to reopen a rotated file. Returns 0 or -1 (errno set; the old
 * destination stays). */
int qd_log_open(const char *path);
void qd_log_close(void);

#endif
