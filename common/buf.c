#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum qd_code
qd_buf_reserve(struct qd_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1, cap;
    char *p;

    if (b->max && b->len + extra > b->max)
        return QD_ETOOBIG;
    if (need <= b->cap)
        return QD_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return QD_ENOMEM;
    b->data = p;
    b->cap = cap;
    return QD_OK;
}

enum qd_code
qd_buf_append(struct qd_buf *b, const void *p, size_t n)
{
    enum qd_code rc = qd_buf_reserve(b, n);

    if (rc != QD_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return QD_OK;
}

enum qd_code
qd_buf_puts(struct qd_buf *b, const char *s)
{
    return qd_buf_append(b, s, strlen(s));
}

enum qd_code
qd_buf_printf(struct qd_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum qd_code rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return QD_EINVAL;
    rc = qd_buf_reserve(b, (size_t)n);
    if (rc != QD_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return QD_OK;
}

char *
qd_buf_detach(struct qd_buf *b, size_t *len)
{
    char *p = b->data;

    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void
qd_buf_release(struct qd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
