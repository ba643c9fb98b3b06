/* Error codes and messages. Any thread; nothing here allocates. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_names[QD__LAST] = {
    [QD_OK] = "ok",
    [QD_EINVAL] = "invalid_argument",
    [QD_ENOMEM] = "out_of_memory",
    [QD_ETOOBIG] = "too_large",
    [QD_ENOTFOUND] = "not_found",
    [QD_ECONFLICT] = "conflict",
    [QD_EBUSY] = "unavailable",
    [QD_ETIMEOUT] = "timeout",
    [QD_ECANCELED] = "cancelled",
    [QD_EDB_RETRY] = "unavailable",
    [QD_EDB] = "database_error",
    [QD_EIO] = "io_error",
    [QD_EAUTH] = "unauthenticated",
    [QD_EFORBIDDEN] = "permission_denied",
    [QD_ETRANSIENT] = "unavailable",
    [QD_EINTERNAL] = "internal",
};

const char *
qd_code_name(enum qd_code c)
{
    if ((unsigned)c >= QD__LAST || code_names[c] == NULL)
        return "internal";
    return code_names[c];
}

void
qd_err_clear(struct qd_err *e)
{
    if (e == NULL)
        return;
    e->code = QD_OK;
    e->field[0] = '\0';
    e->msg[0] = '\0';
}

void
qd_err_prefix(struct qd_err *e, const char *prefix)
{
    size_t pl, ml, cap = sizeof(e->msg) - 1;

    if (e == NULL)
        return;
    pl = strlen(prefix);
    if (pl + 2 > cap)
        pl = cap - 2;
    ml = strlen(e->msg);
    if (pl + 2 + ml > cap)
        ml = cap - pl - 2;
    memmove(e->msg + pl + 2, e->msg, ml);
    memcpy(e->msg, prefix, pl);
    e->msg[pl] = ':';
    e->msg[pl + 1] = ' ';
    e->msg[pl + 2 + ml] = '\0';
}

static void err_vset(struct qd_err *e, enum qd_code c, const char *field, const char *fmt,
                     va_list ap) __attribute__((format(printf, 4, 0)));

static void
err_vset(struct qd_err *e, enum qd_code c, const char *field, const char *fmt, va_list ap)
{
    e->code = c;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

enum qd_code
qd_err_set(struct qd_err *e, enum qd_code c, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return c;
    va_start(ap, fmt);
    err_vset(e, c, NULL, fmt, ap);
    va_end(ap);
    return c;
}

enum qd_code
qd_err_field(struct qd_err *e, enum qd_code c, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return c;
    va_start(ap, fmt);
    err_vset(e, c, field, fmt, ap);
    va_end(ap);
    return c;
}

_Noreturn void
qd_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "quantd: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
