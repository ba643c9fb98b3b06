#ifndef COMMON_ERR_H
#define COMMON_ERR_H

/*
 * Error values: every fallible function returns an enum qd_code and fills an optional
 * struct qd_err with a message (and, for input errors, the offending field).
 * Filling a qd_err never allocates. Any thread.
 */

enum qd_code {                  /* append-only: never renumber or reuse a value */
    QD_OK = 0,
    QD_EINVAL,                  /* caller or client supplied invalid input */
    QD_ENOMEM,
    QD_ETOOBIG,
    QD_ENOTFOUND,
    QD_ECONFLICT,
    QD_EBUSY,                   /* queue full: back-pressure */
    QD_ETIMEOUT,
    QD_ECANCELED,
    QD_EDB_RETRY,               /* transient database failure: lost connection, deadlock */
    QD_EDB,
    QD_EIO,
    QD_EAUTH,                   /* missing or bad credentials */
    QD_EFORBIDDEN,              /* credentials lack the scope */
    QD_ETRANSIENT,              /* worth retrying later (network, 429, 5xx) */
    QD_EINTERNAL,
    QD__LAST
};

struct qd_err {
    enum qd_code code;
    char field[96];             /* e.g. "params.symbols[2]"; "" when not about one field */
    char msg[256];
};

/* Stable snake_case name of a code ("invalid_argument"), for APIs and logs. */
const char *qd_code_name(enum qd_code c);

/* Set code and message; returns c. err may be NULL. */
enum qd_code qd_err_set(struct qd_err *e, enum qd_code c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, naming the offending field. */
enum qd_code qd_err_field(struct qd_err *e, enum qd_code c, const char *field, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
void qd_err_clear(struct qd_err *e);
/* Puts "prefix: " before the message (truncating at the end). err may be NULL. */
void qd_err_prefix(struct qd_err *e, const char *prefix);

/* Aborts with file:line on a broken internal invariant; on in every build. Never for input. */
#define QD_ASSERT(cond)                                                                           \
    do {                                                                                          \
        if (!(cond))                                                                              \
            qd_assert_fail(#cond, __FILE__, __LINE__);                                            \
    } while (0)
_Noreturn void qd_assert_fail(const char *expr, const char *file, int line);

#define QD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
