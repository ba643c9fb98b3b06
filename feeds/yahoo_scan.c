/*
 * Yahoo chart v8: a hand-written single-pass scanner for the usual success answer (see
 * yahoo.h). It reads exactly what yahoo_parse_chart's jansson code reads, with the same
 * semantics, and gives up (QD_EINTERNAL: "fall back") on anything it is not sure about, so
 * the caller's jansson path decides: invalid JSON, chart.error not null, any answer the
 * jansson path would reject, duplicate or escaped keys in the objects it reads, \u0000 and
 * surrogate escapes, deep nesting, out-of-range timestamps.
 *
 * What it mirrors (jansson 2.14 with flags 0, as yahoo.c calls it):
 *  - JSON grammar: whitespace is space, tab, CR, LF; strings reject control characters,
 *    unknown escapes and malformed UTF-8 (strict: no overlongs, surrogates or > U+10FFFF);
 *    no leading zeros; nothing but whitespace after the root object.
 *  - Numbers: a token without '.', 'e' or 'E' is an integer (strtoll range, else invalid);
 *    others are reals from strtod (overflow to infinity is invalid). num_at() gives an
 *    integer's value as (double)value; json_integer_value() of a real is 0.
 *  - Lookups: json_object_get on a non-object or json_array_get past the end is NULL; a
 *    key present with any value counts for adjclose[0].adjclose.
 * Any thread; no state.
 */
#include "feeds/yahoo.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SKIP_DEPTH = 64 };                   /* nesting of a skipped value; deeper: fall back */
#define SANE_SECONDS (1LL << 61)            /* |timestamp|, |gmtoffset| past it: fall back */

/* The cursor: p never passes end; every read checks it. */
struct sc {
    const unsigned char *p, *end;
};

static inline int
peek(const struct sc *s)
{
    return s->p < s->end ? *s->p : -1;
}

static inline bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline void
ws(struct sc *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static bool
lit(struct sc *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

static int
hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of the UTF-8 sequence at p (first byte >= 0x80) as jansson's utf8_check_first and
 * utf8_check_full accept it; 0 when invalid. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned long v;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) ||
        (n == 4 && v < 0x10000))
        return 0;
    return n;
}

/* A string (cursor on its '"'): its raw bytes between the quotes and whether it has escapes.
 * false when jansson would reject it, or for \u0000 and surrogate escapes (valid pairs
 * included: rare, left to jansson). */
static bool
scan_string(struct sc *s, const unsigned char **start, size_t *len, bool *esc)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    bool e = false;

    *start = p;
    for (;;) {
        unsigned c;
        if (p >= end)
            return false;
        c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return false;
        if (c == '\\') {
            e = true;
            if (end - p < 2)
                return false;
            c = p[1];
            if (c == 'u') {
                unsigned v = 0;
                if (end - p < 6)
                    return false;
                for (int i = 2; i < 6; i++) {
                    int h = hex_val(p[i]);
                    if (h < 0)
                        return false;
                    v = v * 16 + (unsigned)h;
                }
                if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
                    return false;
                p += 6;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                p += 2;
            } else {
                return false;
            }
        } else if (c < 0x80) {
            p++;
        } else {
            size_t n = utf8_len(p, end);
            if (n == 0)
                return false;
            p += n;
        }
    }
    *len = (size_t)(p - *start);
    *esc = e;
    s->p = p + 1;
    return true;
}

enum num_kind { NUM_BAD, NUM_INT, NUM_REAL };

/* A number (cursor on '-' or a digit), lexed as jansson's lex_scan_number does: an integer
 * in *iv, or a real from strtod in *dv. NUM_BAD when jansson would reject it. */
static inline enum num_kind
scan_number(struct sc *s, long long *iv, double *dv)
{
    const unsigned char *p = s->p, *end = s->end, *start = p, *digits;
    bool neg = false;
    char *e;
    double v;

    if (*p == '-') {
        neg = true;
        p++;
    }
    digits = p;
    if (p >= end)
        return NUM_BAD;
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p))
            return NUM_BAD;         /* leading zero */
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return NUM_BAD;
    }
    if (p >= end || (*p != '.' && *p != 'e' && *p != 'E')) {
        /* an integer: strtoll's range (no leading zeros, so 19 digits at most fit) */
        size_t nd = (size_t)(p - digits);
        unsigned long long m = 0;
        if (nd > 19)
            return NUM_BAD;
        for (const unsigned char *q = digits; q < p; q++)
            m = m * 10 + (unsigned)(*q - '0');
        if (neg) {
            if (m > (unsigned long long)LLONG_MAX + 1)
                return NUM_BAD;
            *iv = m == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)m;
        } else {
            if (m > (unsigned long long)LLONG_MAX)
                return NUM_BAD;
            *iv = (long long)m;
        }
        s->p = p;
        return NUM_INT;
    }
    if (*p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            return NUM_BAD;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return NUM_BAD;
        while (p < end && is_digit(*p))
            p++;
    }
    /* strtod reads up to the byte after the token, which must be in the buffer (a number
     * never ends a valid answer); that byte cannot continue a decimal number, so strtod stops
     * exactly at p unless the locale's decimal point is not '.' (then: fall back). */
    if (p >= end)
        return NUM_BAD;
    v = strtod((const char *)start, &e);
    if ((const unsigned char *)e != p || !isfinite(v))
        return NUM_BAD;             /* overflow: jansson's "real number overflow" */
    *dv = v;
    s->p = p;
    return NUM_REAL;
}

static bool
skip_key(struct sc *s)
{
    const unsigned char *k;
    size_t n;
    bool esc;

    ws(s);
    if (peek(s) != '"' || !scan_string(s, &k, &n, &esc))
        return false;
    ws(s);
    if (peek(s) != ':')
        return false;
    s->p++;
    return true;
}

/* Skips any valid JSON value at the cursor (after whitespace), checking it as jansson would. */
static bool
skip_value(struct sc *s)
{
    unsigned char stack[SKIP_DEPTH];    /* the closing byte of each open container */
    int d = 0;

    for (;;) {
        long long iv;
        double dv;
        int c;
        ws(s);
        c = peek(s);
        switch (c) {
        case '{':
            s->p++;
            ws(s);
            if (peek(s) == '}') {
                s->p++;
                break;
            }
            if (d == SKIP_DEPTH)
                return false;
            stack[d++] = '}';
            if (!skip_key(s))
                return false;
            continue;
        case '[':
            s->p++;
            ws(s);
            if (peek(s) == ']') {
                s->p++;
                break;
            }
            if (d == SKIP_DEPTH)
                return false;
            stack[d++] = ']';
            continue;
        case '"': {
            const unsigned char *str;
            size_t n;
            bool esc;
            if (!scan_string(s, &str, &n, &esc))
                return false;
            break;
        }
        case 't':
            if (!lit(s, "true", 4))
                return false;
            break;
        case 'f':
            if (!lit(s, "false", 5))
                return false;
            break;
        case 'n':
            if (!lit(s, "null", 4))
                return false;
            break;
        default:
            if ((c != '-' && !is_digit(c)) || scan_number(s, &iv, &dv) == NUM_BAD)
                return false;
            break;
        }
        /* after a value: close containers, or move to the next member */
        for (;;) {
            if (d == 0)
                return true;
            ws(s);
            c = peek(s);
            if (c == ',') {
                s->p++;
                if (stack[d - 1] == '}' && !skip_key(s))
                    return false;
                break;
            }
            if (c != stack[d - 1])
                return false;
            s->p++;
            d--;
        }
    }
}

/* ---- the objects and arrays read ---- */

struct key {
    const unsigned char *s;
    size_t n;
};

static inline bool
key_is(const struct key *k, const char *name)
{
    size_t n = strlen(name);

    return k->n == n && memcmp(k->s, name, n) == 0;
}

/* The next member of an object whose keys matter (the cursor was just past '{', *count = 0
 * before the first call): 1 with its key and the cursor on the value, 0 past the '}', -1 when
 * invalid or the key has escapes (it might spell a key read here: left to jansson). */
static int
obj_next(struct sc *s, size_t *count, struct key *k)
{
    bool esc;

    ws(s);
    if (peek(s) == '}') {
        s->p++;
        return 0;
    }
    if (*count > 0) {
        if (peek(s) != ',')
            return -1;
        s->p++;
        ws(s);
    }
    if (peek(s) != '"' || !scan_string(s, &k->s, &k->n, &esc) || esc)
        return -1;
    ws(s);
    if (peek(s) != ':')
        return -1;
    s->p++;
    ws(s);
    (*count)++;
    return 1;
}

/* The next element of an array (the cursor was just past '[', *count = 0 before the first
 * call): 1 with the cursor on the element, 0 past the ']', -1 when invalid. */
static int
arr_next(struct sc *s, size_t *count)
{
    ws(s);
    if (peek(s) == ']') {
        s->p++;
        return 0;
    }
    if (*count > 0) {
        if (peek(s) != ',')
            return -1;
        s->p++;
        ws(s);
    }
    (*count)++;
    return 1;
}

struct dvec {
    double *v;
    size_t n, cap;
};
struct ivec {
    long long *v;
    size_t n, cap;
};
struct event {
    const unsigned char *key;       /* the raw key (no escapes), for the duplicate check */
    size_t klen;
    long long date;
    double value;
};
struct evec {
    struct event *v;
    size_t n, cap;
};

/* The array v of *cap elements of size bytes, doubled (NULL when out of memory: v stays). */
static void *
grow(void *v, size_t *cap, size_t size)
{
    size_t c = *cap ? 2 * *cap : 1024;
    void *p = realloc(v, c * size);

    if (p != NULL)
        *cap = c;
    return p;
}

static inline bool
dvec_push(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        double *p = grow(d->v, &d->cap, sizeof(*p));
        if (p == NULL)
            return false;
        d->v = p;
    }
    d->v[d->n++] = x;
    return true;
}

enum { C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOLUME, C_ADJ, C_N };

/* What the scan found: only the values yahoo_parse_chart's jansson code reads. */
struct chart {
    bool have_res;                  /* chart.result[0] is an object */
    long long gmt;                  /* meta.gmtoffset when an integer, else 0 */
    bool have_ts;                   /* timestamp is an array */
    bool ts_bad;                    /* one is not an integer, or is out of the sane range */
    bool have_q;                    /* indicators.quote[0] is an object */
    size_t q_keys;                  /* its member count (0: no price data) */
    bool adj_present;               /* indicators.adjclose[0].adjclose exists (any value) */
    struct ivec ts;
    struct dvec col[C_N];           /* non-arrays read as empty, as json_array_size does */
    struct evec div, split;
};

/* An array of numbers (cursor on '['), each as num_at() reads it: NaN for anything else. */
static bool
scan_num_array(struct sc *s, struct dvec *out)
{
    s->p++;
    ws(s);
    if (peek(s) == ']') {
        s->p++;
        return true;
    }
    for (;;) {
        double x;
        long long iv;
        int c;
        ws(s);
        c = peek(s);
        if (c == '-' || is_digit(c)) {
            enum num_kind k = scan_number(s, &iv, &x);
            if (k == NUM_BAD)
                return false;
            if (k == NUM_INT)
                x = (double)iv;
        } else if (c == 'n') {
            if (!lit(s, "null", 4))
                return false;
            x = NAN;
        } else {
            if (!skip_value(s))
                return false;
            x = NAN;
        }
        if (!dvec_push(out, x))
            return false;
        ws(s);
        c = peek(s);
        if (c == ']') {
            s->p++;
            return true;
        }
        if (c != ',')
            return false;
        s->p++;
    }
}

/* The timestamps (cursor on '['): integers; anything else marks them bad (an error if read). */
static bool
scan_ts_array(struct sc *s, struct chart *c)
{
    struct ivec *t = &c->ts;
    size_t count = 0;
    int r;

    c->have_ts = true;
    s->p++;
    while ((r = arr_next(s, &count)) > 0) {
        long long iv = 0;
        double dv;
        int ch = peek(s);
        if (ch == '-' || is_digit(ch)) {
            enum num_kind k = scan_number(s, &iv, &dv);
            if (k == NUM_BAD)
                return false;
            if (k != NUM_INT || iv > SANE_SECONDS || iv < -SANE_SECONDS)
                c->ts_bad = true;
        } else {
            if (!skip_value(s))
                return false;
            c->ts_bad = true;
        }
        if (t->n == t->cap) {
            long long *p = grow(t->v, &t->cap, sizeof(*p));
            if (p == NULL)
                return false;
            t->v = p;
        }
        t->v[t->n++] = iv;
    }
    return r == 0;
}

/* A number member: its kind and value (NUM_BAD when not a number or invalid: see *ok). */
static enum num_kind
member_number(struct sc *s, long long *iv, double *dv, bool *ok)
{
    int c = peek(s);

    *ok = true;
    if (c == '-' || is_digit(c)) {
        enum num_kind k = scan_number(s, iv, dv);
        *ok = k != NUM_BAD;
        if (k == NUM_INT)
            *dv = (double)*iv;
        return k;
    }
    *ok = skip_value(s);
    return NUM_BAD;
}

static int
event_cmp(const void *a, const void *b)
{
    const struct event *x = *(const struct event *const *)a;
    const struct event *y = *(const struct event *const *)b;

    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return memcmp(x->key, y->key, x->klen);
}

/* true when no two events have the same key (jansson would keep the first's place with the
 * last's value: left to it). */
static bool
keys_unique(const struct evec *e)
{
    const struct event **k;
    bool ok = true;

    if (e->n < 2)
        return true;
    k = malloc(e->n * sizeof(*k));
    if (k == NULL)
        return false;
    for (size_t i = 0; i < e->n; i++)
        k[i] = &e->v[i];
    qsort(k, e->n, sizeof(*k), event_cmp);
    for (size_t i = 1; i < e->n && ok; i++)
        ok = event_cmp(&k[i - 1], &k[i]) != 0;
    free(k);
    return ok;
}

/* events.dividends or events.splits (cursor on '{'), as parse_events reads them; any entry
 * parse_events would reject makes the scan fall back. */
static bool
scan_events_of(struct sc *s, struct evec *out, char kind)
{
    size_t count = 0;
    struct key k;
    int r;

    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        size_t n2 = 0;
        struct key f;
        int r2;
        bool have_date = false, have_a = false, have_num = false, have_den = false, ok;
        long long date = 0, iv;
        double a = 0, num = 0, den = 0, dv;
        if (peek(s) != '{')
            return false;
        s->p++;
        while ((r2 = obj_next(s, &n2, &f)) > 0) {
            if (key_is(&f, "date")) {
                if (have_date || member_number(s, &date, &dv, &ok) != NUM_INT || !ok)
                    return false;
                have_date = true;
            } else if (kind == 'D' && key_is(&f, "amount")) {
                if (have_a || member_number(s, &iv, &a, &ok) == NUM_BAD || !ok)
                    return false;
                have_a = true;
            } else if (kind == 'S' && key_is(&f, "numerator")) {
                if (have_num || member_number(s, &iv, &num, &ok) == NUM_BAD || !ok)
                    return false;
                have_num = true;
            } else if (kind == 'S' && key_is(&f, "denominator")) {
                if (have_den || member_number(s, &iv, &den, &ok) == NUM_BAD || !ok)
                    return false;
                have_den = true;
            } else if (!skip_value(s)) {
                return false;
            }
        }
        if (r2 < 0 || !have_date || date > SANE_SECONDS || date < -SANE_SECONDS)
            return false;
        if (kind == 'D' && (!have_a || !isfinite(a)))
            return false;
        if (kind == 'S' && (!have_num || !have_den || !(num > 0) || !(den > 0) ||
                            !isfinite(num / den)))
            return false;
        if (out->n == out->cap) {
            struct event *p = grow(out->v, &out->cap, sizeof(*p));
            if (p == NULL)
                return false;
            out->v = p;
        }
        out->v[out->n++] = (struct event){.key = k.s, .klen = k.n, .date = date,
                                          .value = kind == 'D' ? a : num / den};
    }
    return r == 0 && keys_unique(out);
}

static bool
scan_event_obj(struct sc *s, struct chart *c)
{
    size_t count = 0;
    struct key k;
    int r;
    bool div = false, split = false;

    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        bool *seen = key_is(&k, "dividends") ? &div : key_is(&k, "splits") ? &split : NULL;
        if (seen == NULL) {
            if (!skip_value(s))
                return false;
            continue;
        }
        if (*seen)
            return false;
        *seen = true;
        if (peek(s) == '{') {
            if (!scan_events_of(s, seen == &div ? &c->div : &c->split, seen == &div ? 'D' : 'S'))
                return false;
        } else if (!skip_value(s)) {
            return false;
        }
    }
    return r == 0;
}

/* indicators.quote[0] (cursor on '{'). */
static bool
scan_quote(struct sc *s, struct chart *c)
{
    static const char *const names[] = {"open", "high", "low", "close", "volume"};
    size_t count = 0;
    struct key k;
    int r;
    bool seen[5] = {false};

    c->have_q = true;
    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        int i = 0;
        while (i < 5 && !key_is(&k, names[i]))
            i++;
        if (i < 5) {
            if (seen[i])
                return false;
            seen[i] = true;
        }
        if (i < 5 && peek(s) == '[') {
            if (!scan_num_array(s, &c->col[i]))
                return false;
        } else if (!skip_value(s)) {
            return false;
        }
    }
    c->q_keys = count;
    return r == 0;
}

/* indicators.adjclose[0] (cursor on '{'). */
static bool
scan_adj(struct sc *s, struct chart *c)
{
    size_t count = 0;
    struct key k;
    int r;

    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        if (key_is(&k, "adjclose")) {
            if (c->adj_present)
                return false;
            c->adj_present = true;
            if (peek(s) == '[') {
                if (!scan_num_array(s, &c->col[C_ADJ]))
                    return false;
                continue;
            }
        }
        if (!skip_value(s))
            return false;
    }
    return r == 0;
}

/* An array whose first element, when an object, is read by first (cursor on '['). */
static bool
scan_first_of(struct sc *s, struct chart *c, bool (*first)(struct sc *, struct chart *))
{
    size_t count = 0;
    int r;

    s->p++;
    while ((r = arr_next(s, &count)) > 0) {
        if (count == 1 && peek(s) == '{') {
            if (!first(s, c))
                return false;
        } else if (!skip_value(s)) {
            return false;
        }
    }
    return r == 0;
}

static bool
scan_indicators(struct sc *s, struct chart *c)
{
    size_t count = 0;
    struct key k;
    int r;
    bool quote = false, adj = false;

    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        bool *seen = key_is(&k, "quote") ? &quote : key_is(&k, "adjclose") ? &adj : NULL;
        if (seen != NULL) {
            if (*seen)
                return false;
            *seen = true;
            if (peek(s) == '[') {
                if (!scan_first_of(s, c, seen == &quote ? scan_quote : scan_adj))
                    return false;
                continue;
            }
        }
        if (!skip_value(s))
            return false;
    }
    return r == 0;
}

static bool
scan_meta(struct sc *s, struct chart *c)
{
    size_t count = 0;
    struct key k;
    int r;
    bool gmt = false;

    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        if (key_is(&k, "gmtoffset")) {
            long long iv;
            double dv;
            bool ok;
            if (gmt)
                return false;
            gmt = true;
            if (member_number(s, &iv, &dv, &ok) == NUM_INT)
                c->gmt = iv;        /* json_integer_value: 0 for anything but an integer */
            if (!ok)
                return false;
        } else if (!skip_value(s)) {
            return false;
        }
    }
    return r == 0;
}

/* chart.result[0] (cursor on '{'). */
static bool
scan_result(struct sc *s, struct chart *c)
{
    static const char *const names[] = {"meta", "timestamp", "events", "indicators"};
    size_t count = 0;
    struct key k;
    int r;
    bool seen[4] = {false};

    c->have_res = true;
    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        int i = 0, ch = peek(s);
        bool ok;
        while (i < 4 && !key_is(&k, names[i]))
            i++;
        if (i == 4) {
            ok = skip_value(s);
        } else if (seen[i]) {
            ok = false;
        } else {
            seen[i] = true;
            if (i == 0 && ch == '{')
                ok = scan_meta(s, c);
            else if (i == 1 && ch == '[')
                ok = scan_ts_array(s, c);
            else if (i == 2 && ch == '{')
                ok = scan_event_obj(s, c);
            else if (i == 3 && ch == '{')
                ok = scan_indicators(s, c);
            else
                ok = skip_value(s);
        }
        if (!ok)
            return false;
    }
    return r == 0;
}

/* The chart object (cursor on '{'): error absent or null, result an array whose [0] is an
 * object. */
static bool
scan_chart_obj(struct sc *s, struct chart *c)
{
    size_t count = 0;
    struct key k;
    int r;
    bool error = false, result = false;

    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        if (key_is(&k, "error")) {
            if (error || !lit(s, "null", 4))
                return false;
            error = true;
        } else if (key_is(&k, "result")) {
            if (result || peek(s) != '[')
                return false;
            result = true;
            if (!scan_first_of(s, c, scan_result))
                return false;
        } else if (!skip_value(s)) {
            return false;
        }
    }
    return r == 0 && c->have_res;         /* else "no chart.result[0]" */
}

static bool
scan_doc(struct sc *s, struct chart *c)
{
    size_t count = 0;
    struct key k;
    int r;
    bool chart = false;

    ws(s);
    if (peek(s) != '{')
        return false;
    s->p++;
    while ((r = obj_next(s, &count, &k)) > 0) {
        if (key_is(&k, "chart")) {
            if (chart || peek(s) != '{' || !scan_chart_obj(s, c))
                return false;
            chart = true;
        } else if (!skip_value(s)) {
            return false;
        }
    }
    if (r < 0 || !chart)
        return false;
    ws(s);
    return s->p == s->end;
}

/* ---- building the output, as yahoo_parse_chart does ---- */

static int32_t
day_of(long long ts, long long gmtoffset)
{
    long long t = ts + gmtoffset;

    return (int32_t)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
}

static bool
action_push(struct yahoo_actions *x, int32_t day, char kind, double v)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        struct yahoo_action *p = realloc(x->a, cap * sizeof(*p));
        if (p == NULL)
            return false;
        x->a = p;
        x->cap = cap;
    }
    x->a[x->n++] = (struct yahoo_action){.day = day, .kind = kind, .value = v};
    return true;
}

static bool
build(const struct chart *c, struct bar_series *bars, struct yahoo_actions *acts,
      struct yahoo_stats *st)
{
    size_t keep_bars = bars->n;
    long long gmt = c->gmt;

    if (gmt > SANE_SECONDS || gmt < -SANE_SECONDS)
        return false;
    if (!c->have_ts || !c->have_q || c->q_keys == 0) {
        st->empty = true;
    } else {
        const double *o = c->col[C_OPEN].v, *h = c->col[C_HIGH].v, *l = c->col[C_LOW].v;
        const double *cl = c->col[C_CLOSE].v, *vol = c->col[C_VOLUME].v;
        const double *adj = c->adj_present ? c->col[C_ADJ].v : NULL;
        size_t n = c->ts.n;
        for (int i = 0; i < C_ADJ; i++)
            if (c->col[i].n != n)
                return false;       /* "not aligned" */
        if ((c->adj_present && c->col[C_ADJ].n != n) || c->ts_bad)
            return false;
        for (size_t i = 0; i < n; i++) {
            double op = o[i], hi = h[i], lo = l[i], cls = cl[i], vo = vol[i];
            double ac = adj ? adj[i] : cls;
            int32_t day;
            if (isnan(op) || isnan(hi) || isnan(lo) || isnan(cls) || isnan(vo) || isnan(ac)) {
                st->skipped_nulls++;
                continue;
            }
            if (!(op > 0 && hi > 0 && lo > 0 && cls > 0 && ac > 0 && vo >= 0) ||
                !isfinite(op + hi + lo + cls + ac + vo) || vo > 9e18) {
                st->skipped_bad++;
                continue;
            }
            day = day_of(c->ts.v[i], gmt);
            if (bars->n > keep_bars && day < bars->day[bars->n - 1])
                return false;       /* "out of date order" */
            if (bars->n > keep_bars && day == bars->day[bars->n - 1])
                bars->n--;          /* the same date again: the later bar wins */
            if (bar_series_push(bars, day, op, hi, lo, cls, ac, (int64_t)vo) != QD_OK)
                return false;
        }
    }
    for (size_t i = 0; i < c->div.n; i++)
        if (!action_push(acts, day_of(c->div.v[i].date, gmt), 'D', c->div.v[i].value))
            return false;
    for (size_t i = 0; i < c->split.n; i++)
        if (!action_push(acts, day_of(c->split.v[i].date, gmt), 'S', c->split.v[i].value))
            return false;
    return true;
}

enum qd_code
yahoo_scan_chart(const char *json, size_t len, struct bar_series *bars,
                 struct yahoo_actions *acts, struct yahoo_stats *st, struct qd_err *err)
{
    struct sc s;
    struct chart c;
    size_t keep_bars = bars->n, keep_acts = acts->n;
    bool ok;

    (void)err;                      /* never set: the fallback sets it */
    memset(&c, 0, sizeof(c));
    memset(st, 0, sizeof(*st));
    if (json == NULL)
        return QD_EINTERNAL;
    s = (struct sc){.p = (const unsigned char *)json, .end = (const unsigned char *)json + len};
    ok = scan_doc(&s, &c) && build(&c, bars, acts, st);
    free(c.ts.v);
    for (int i = 0; i < C_N; i++)
        free(c.col[i].v);
    free(c.div.v);
    free(c.split.v);
    if (!ok) {
        bars->n = keep_bars;
        acts->n = keep_acts;
        memset(st, 0, sizeof(*st));
        return QD_EINTERNAL;
    }
    return QD_OK;
}
