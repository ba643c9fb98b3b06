/* Option quote lists and OCC symbols (see options.h). */
#include "feeds/options.h"
#include "common/date.h"

#include <stdlib.h>
#include <string.h>

enum qd_code
option_quotes_push(struct option_quotes *l, const struct option_quote *q, struct qd_err *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct option_quote *p = realloc(l->q, cap * sizeof(*p));
        if (p == NULL)
            return qd_err_set(err, QD_ENOMEM, "out of memory");
        l->q = p;
        l->cap = cap;
    }
    l->q[l->n++] = *q;
    return QD_OK;
}

void
option_quotes_release(struct option_quotes *l)
{
    free(l->q);
    memset(l, 0, sizeof(*l));
}

bool
option_underlying_valid(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 10 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n &&
           s[0] != '.' && s[0] != '-';
}

static bool
digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool
occ_parse(const char *sym, int32_t *expiration, char *right, double *strike)
{
    size_t n = strlen(sym), root;
    const char *t;
    char d[11];
    long k = 0;

    /* ROOT(1-6) YYMMDD C|P 00100000 */
    if (n < 16 || n > 21)
        return false;
    root = n - 15;
    if (strspn(sym, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") < root)
        return false;
    t = sym + root;
    if (!digits(t, 6) || (t[6] != 'C' && t[6] != 'P') || !digits(t + 7, 8))
        return false;
    /* 20YY: listed options expire within decades of now */
    memcpy(d, "20", 2);
    memcpy(d + 2, t, 2);
    d[4] = '-';
    memcpy(d + 5, t + 2, 2);
    d[7] = '-';
    memcpy(d + 8, t + 4, 2);
    if (!qd_date_parse(d, 10, expiration))
        return false;
    for (size_t i = 7; i < 15; i++)
        k = k * 10 + (t[i] - '0');
    *right = t[6];
    *strike = (double)k / 1000.0;
    return true;
}
