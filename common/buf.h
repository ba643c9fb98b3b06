#ifndef COMMON_BUF_H
#define COMMON_BUF_H

/* Growable byte buffer with a size cap. Caller-owned (init/release); one thread at a time.
 * data is always NUL-terminated when len > 0 or after any append. */

#include "common/err.h"

#include <stddef.h>

struct qd_buf {
    char  *data;
    size_t len, cap, max;           /* max 0 = no cap */
};
#define QD_BUF_INIT(max_) {.data = NULL, .len = 0, .cap = 0, .max = (max_)}

/* QD_ETOOBIG past max, QD_ENOMEM when out of memory; the buffer is unchanged on error. */
enum qd_code qd_buf_append(struct qd_buf *b, const void *p, size_t n);
enum qd_code qd_buf_puts(struct qd_buf *b, const char *s);
enum qd_code qd_buf_printf(struct qd_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum qd_code qd_buf_reserve(struct qd_buf *b, size_t extra);
/* Hands the memory to the caller (free()); the buffer is empty afterwards. */
char *qd_buf_detach(struct qd_buf *b, size_t *len);
void  qd_buf_release(struct qd_buf *b);

#endif
