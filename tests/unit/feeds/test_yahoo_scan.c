/* The Yahoo chart scanner (feeds/yahoo_scan.c) against the jansson parser it stands in for:
 * many documents from a seeded generator (random key order, extra keys, whitespace, nulls,
 * odd values, missing adjclose, quote [{}], events, escaped and non-ASCII strings, repeated
 * dates, error answers) and their mutations (cuts, byte changes, duplicate or escaped keys)
 * must give identical results through yahoo_parse_chart and yahoo_parse_chart_jansson: return
 * code, message, bars bit for bit, stats, actions. yahoo_scan_chart itself may only answer
 * QD_OK (identical results) or QD_EINTERNAL (nothing changed). */
#include "tests/unit/unit.h"
#include "common/buf.h"
#include "feeds/yahoo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one parse, and comparing two ---- */

struct run {
    struct bar_series b;
    struct yahoo_actions a;
    struct yahoo_stats st;
    struct qd_err err;
    enum qd_code rc;
};

/* pre: bars and an action already there (the parsers append) */
static void
run_init(struct run *r, bool pre)
{
    memset(r, 0, sizeof(*r));
    bar_series_init(&r->b, 0);
    if (pre) {
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(bar_series_push(&r->b, 20000 + i, 1, 2, 0.5, 1.5, 1.4, 7), QD_OK);
        r->a.a = malloc(4 * sizeof(*r->a.a));
        ck_assert_ptr_nonnull(r->a.a);
        r->a.cap = 4;
        r->a.a[r->a.n++] = (struct yahoo_action){.day = 19999, .kind = 'D', .value = 0.1};
    }
}

static void
run_release(struct run *r)
{
    bar_series_release(&r->b);
    yahoo_actions_release(&r->a);
}

/* NULL when x and y hold the same results, else what differs. */
static const char *
run_diff(const struct run *x, const struct run *y)
{
    const struct bar_series *p = &x->b, *q = &y->b;

    if (x->rc != y->rc)
        return "return code";
    if (x->rc != QD_OK && (x->err.code != y->err.code || strcmp(x->err.msg, y->err.msg) != 0))
        return "error message";
    if (x->st.skipped_nulls != y->st.skipped_nulls || x->st.skipped_bad != y->st.skipped_bad ||
        x->st.empty != y->st.empty)
        return "stats";
    if (p->n != q->n)
        return "bar count";
    if (p->n > 0 &&
        (memcmp(p->day, q->day, p->n * sizeof(*p->day)) != 0 ||
         memcmp(p->open, q->open, p->n * sizeof(*p->open)) != 0 ||
         memcmp(p->high, q->high, p->n * sizeof(*p->high)) != 0 ||
         memcmp(p->low, q->low, p->n * sizeof(*p->low)) != 0 ||
         memcmp(p->close, q->close, p->n * sizeof(*p->close)) != 0 ||
         memcmp(p->adj_close, q->adj_close, p->n * sizeof(*p->adj_close)) != 0 ||
         memcmp(p->volume, q->volume, p->n * sizeof(*p->volume)) != 0))
        return "bars";
    if (x->a.n != y->a.n)
        return "action count";
    for (size_t i = 0; i < x->a.n; i++)
        if (x->a.a[i].day != y->a.a[i].day || x->a.a[i].kind != y->a.a[i].kind ||
            memcmp(&x->a.a[i].value, &y->a.a[i].value, sizeof(double)) != 0)
            return "actions";
    return NULL;
}

struct tally {
    size_t docs, handled, ok;
};

/* The three ways through one document; fails the test (printing the document) on a
 * difference. The document is copied to a buffer of exactly len bytes (no NUL after it), so
 * ASan sees any read past the end. */
static void
check_doc(const char *doc, size_t len, bool pre, struct tally *t)
{
    char *exact = malloc(len ? len : 1);
    struct run fast, ref, scan;
    const char *diff = NULL;
    enum qd_code rc;

    ck_assert_ptr_nonnull(exact);
    memcpy(exact, doc, len);
    run_init(&fast, pre);
    run_init(&ref, pre);
    run_init(&scan, pre);
    fast.rc = yahoo_parse_chart(exact, len, &fast.b, &fast.a, &fast.st, &fast.err);
    ref.rc = yahoo_parse_chart_jansson(exact, len, &ref.b, &ref.a, &ref.st, &ref.err);
    diff = run_diff(&fast, &ref);
    rc = yahoo_scan_chart(exact, len, &scan.b, &scan.a, &scan.st, &scan.err);
    if (diff == NULL && rc == QD_OK) {
        scan.err = ref.err;
        diff = run_diff(&scan, &ref);
        if (diff != NULL)
            diff = "yahoo_scan_chart (QD_OK) differs";
    } else if (diff == NULL) {
        if (rc != QD_EINTERNAL)
            diff = "yahoo_scan_chart returned neither QD_OK nor QD_EINTERNAL";
        else if (scan.b.n != (pre ? 3u : 0u) || scan.a.n != (pre ? 1u : 0u))
            diff = "yahoo_scan_chart changed the output before falling back";
    }
    if (diff != NULL)
        fprintf(stderr, "yahoo scan mismatch (%s): rc fast %d ref %d scan %d, bars %zu/%zu, "
                        "document (%zu bytes):\n%.*s\n",
                diff, (int)fast.rc, (int)ref.rc, (int)rc, fast.b.n, ref.b.n, len, (int)len, doc);
    ck_assert_msg(diff == NULL, "yahoo scan mismatch: %s", diff);
    t->docs++;
    t->handled += rc == QD_OK;
    t->ok += ref.rc == QD_OK;
    run_release(&fast);
    run_release(&ref);
    run_release(&scan);
    free(exact);
}

/* ---- the document generator ---- */

struct gen {
    uint64_t s;
    bool odd;                       /* this document may have odd values (else clean ones) */
};

static uint64_t
rnd(struct gen *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned
pick(struct gen *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

static bool
chance(struct gen *g, unsigned pct)
{
    return pick(g, 100) < pct;
}

/* an oddity: only in the documents that may have them */
static bool
odd(struct gen *g, unsigned pct)
{
    return g->odd && chance(g, pct);
}

/* optional whitespace between tokens */
static void
sp(struct gen *g, struct qd_buf *b)
{
    static const char *const w[] = {" ", "\n", "\r\n  ", "\t", "  "};

    if (chance(g, 8))
        qd_buf_puts(b, w[pick(g, QD_ARRAY_LEN(w))]);
}

/* An object's members, rendered apart and written in random order. */
enum { MAX_MEMBERS = 24 };
struct members {
    struct qd_buf m[MAX_MEMBERS];
    int n;
};

static struct qd_buf *
member(struct gen *g, struct members *ms, const char *key)
{
    struct qd_buf *b;

    ck_assert_int_lt(ms->n, MAX_MEMBERS);
    b = &ms->m[ms->n++];
    *b = (struct qd_buf)QD_BUF_INIT(0);
    qd_buf_printf(b, "\"%s\"", key);
    sp(g, b);
    qd_buf_puts(b, ":");
    sp(g, b);
    return b;
}

static void
emit_object(struct gen *g, struct qd_buf *out, struct members *ms)
{
    for (int i = ms->n - 1; i > 0; i--) {
        int j = (int)pick(g, (unsigned)i + 1);
        struct qd_buf t = ms->m[i];
        ms->m[i] = ms->m[j];
        ms->m[j] = t;
    }
    qd_buf_puts(out, "{");
    for (int i = 0; i < ms->n; i++) {
        sp(g, out);
        if (i > 0) {
            qd_buf_puts(out, ",");
            sp(g, out);
        }
        qd_buf_append(out, ms->m[i].data, ms->m[i].len);
        qd_buf_release(&ms->m[i]);
    }
    sp(g, out);
    qd_buf_puts(out, "}");
    ms->n = 0;
}

/* Some JSON value of any type, as unknown keys carry (depth-limited). */
static void
any_value(struct gen *g, struct qd_buf *b, int depth)
{
    static const char *const atoms[] = {
        "null", "true", "false", "0", "-0", "1", "-17", "3.25", "1e3", "-2.5E-3", "0.0",
        "9223372036854775807", "-9223372036854775808", "1e-320", "\"\"", "\"plain\"",
        "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u20AC\"", "\"caf\xC3\xA9 \xE2\x82\xAC "
        "\xF0\x9F\x93\x88\"", "\"\\ud83d\\ude00\"", "\"America/New_York\"", "\"[{,:}]\""};
    unsigned k = pick(g, depth > 2 ? 1 : 4);

    if (k == 1) {
        int n = (int)pick(g, 4);
        qd_buf_puts(b, "[");
        for (int i = 0; i < n; i++) {
            sp(g, b);
            if (i)
                qd_buf_puts(b, ",");
            any_value(g, b, depth + 1);
        }
        sp(g, b);
        qd_buf_puts(b, "]");
    } else if (k == 2) {
        struct members ms = {.n = 0};
        int n = (int)pick(g, 4);
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof(key), "k%d", i);
            any_value(g, member(g, &ms, key), depth + 1);
        }
        emit_object(g, b, &ms);
    } else {
        qd_buf_puts(b, atoms[pick(g, QD_ARRAY_LEN(atoms))]);
    }
}

/* Unknown keys, as Yahoo adds over time. */
static void
extras(struct gen *g, struct members *ms, unsigned pct)
{
    static const char *const names[] = {"x", "note", "open2", "timestamps", "quotes", "meta2",
                                        "caf\xC3\xA9", "Open", ""};
    static const char *const escaped[] = {"a\\\"b", "\\u0041"};

    while (chance(g, pct) && ms->n < MAX_MEMBERS - 8)
        any_value(g, member(g, ms, chance(g, 10) ? escaped[pick(g, 2)]
                                                 : names[pick(g, QD_ARRAY_LEN(names))]), 0);
}

static void
price(struct gen *g, struct qd_buf *b, double base)
{
    static const char *const weird[] = {"null", "\"12.5\"", "0", "-1.5", "true", "[]", "{}",
                                      "1e308", "1e-320", "-0.0", "7", "1E2", "0.1e1", "12345678901"};
    unsigned k = pick(g, 100);

    if (g->odd && k < 3)
        qd_buf_puts(b, weird[pick(g, QD_ARRAY_LEN(weird))]);
    else if (k < 75)
        qd_buf_printf(b, "%.17g", (double)(float)base);     /* binary noise, as Yahoo sends */
    else if (k < 90)
        qd_buf_printf(b, "%.2f", base);
    else if (k < 95)
        qd_buf_printf(b, "%d", (int)base + 1);
    else
        qd_buf_printf(b, "%.6e", base);
}

static void
volume(struct gen *g, struct qd_buf *b)
{
    static const char *const weird[] = {"null", "1e6", "2.5", "-5", "0", "9.1e18",
                                      "9223372036854775807", "\"100\"", "1E3", "-0"};

    if (odd(g, 4))
        qd_buf_puts(b, weird[pick(g, QD_ARRAY_LEN(weird))]);
    else
        qd_buf_printf(b, "%u", pick(g, 50000000));
}

static void
timestamp(struct gen *g, struct qd_buf *b, long long t)
{
    static const char *const weird[] = {"null", "1.7e9", "\"1717075800\"", "9000000000000000000",
                                      "-9000000000000000000", "1717075800.0", "true"};

    if (odd(g, 1))
        qd_buf_puts(b, weird[pick(g, QD_ARRAY_LEN(weird))]);
    else
        qd_buf_printf(b, "%lld", t);
}

/* A column of n values (or another length when misaligned), written by put. */
static void
column(struct gen *g, struct qd_buf *b, int n, const double *base, bool vol)
{
    if (odd(g, 1))
        n += chance(g, 50) ? 1 : -1;
    if (n < 0)
        n = 0;
    qd_buf_puts(b, "[");
    for (int i = 0; i < n; i++) {
        sp(g, b);
        if (i)
            qd_buf_puts(b, ",");
        if (base[i] < 0)
            qd_buf_puts(b, "null");                         /* a null row */
        else if (chance(g, 1))
            qd_buf_puts(b, "null");                         /* a single null field */
        else if (vol)
            volume(g, b);
        else
            price(g, b, base[i]);
    }
    sp(g, b);
    qd_buf_puts(b, "]");
}

static void
meta(struct gen *g, struct qd_buf *b)
{
    static const char *const gmt[] = {"-14400", "0", "19800", "3600.5", "\"-14400\"", "null",
                                      "-18000", "36000", "-0", "1e2"};
    struct members ms = {.n = 0};

    qd_buf_puts(member(g, &ms, "currency"), "\"USD\"");
    qd_buf_puts(member(g, &ms, "symbol"), chance(g, 30) ? "\"A\\\"B\\\\C\\u00e9\\n\"" : "\"ACME\"");
    qd_buf_puts(member(g, &ms, "longName"), chance(g, 30) ? "\"Soci\xC3\xA9t\xC3\xA9 G\xC3\xA9n\xC3\xA9rale\""
                                                         : "\"Acme \\/ Co\"");
    qd_buf_puts(member(g, &ms, "firstTradeDate"), "345479400");
    qd_buf_puts(member(g, &ms, "regularMarketPrice"), "101.5");
    qd_buf_puts(member(g, &ms, "hasPrePostMarketData"), chance(g, 50) ? "true" : "false");
    if (!chance(g, 10))
        qd_buf_puts(member(g, &ms, "gmtoffset"), chance(g, 70) ? "-14400" : gmt[pick(g, QD_ARRAY_LEN(gmt))]);
    qd_buf_puts(member(g, &ms, "currentTradingPeriod"),
                "{\"pre\":{\"timezone\":\"EDT\",\"start\":1717142400,\"end\":1717162200,"
                "\"gmtoffset\":-14400},\"regular\":{\"timezone\":\"EDT\",\"start\":1717162200,"
                "\"end\":1717185600,\"gmtoffset\":-14400}}");
    qd_buf_puts(member(g, &ms, "validRanges"), "[\"1d\",\"5d\",\"1mo\",\"max\"]");
    extras(g, &ms, 20);
    emit_object(g, b, &ms);
}

static void
events(struct gen *g, struct qd_buf *b, long long t0)
{
    struct members ms = {.n = 0};

    for (int kind = 0; kind < 2; kind++) {
        struct members es = {.n = 0};
        int n = (int)pick(g, 4);
        if (chance(g, 25))
            continue;
        for (int i = 0; i < n; i++) {
            struct members fs = {.n = 0};
            long long d = t0 + (long long)pick(g, 40) * 86400;
            char key[32];
            snprintf(key, sizeof(key), "%lld", odd(g, 5) ? t0 : d);      /* 5%: repeated */
            if (!odd(g, 3))
                qd_buf_printf(member(g, &fs, "date"), odd(g, 3) ? "%lld.0" : "%lld", d);
            if (kind == 0) {
                if (!odd(g, 3))
                    qd_buf_puts(member(g, &fs, "amount"), odd(g, 5) ? "\"0.25\"" : chance(g, 50) ? "0.25" : "1");
                if (chance(g, 30))
                    qd_buf_puts(member(g, &fs, "currency"), "\"USD\"");
            } else {
                qd_buf_puts(member(g, &fs, "numerator"), odd(g, 5) ? "0" : chance(g, 50) ? "2" : "1.5");
                if (!odd(g, 3))
                    qd_buf_puts(member(g, &fs, "denominator"), chance(g, 3) ? "1e-320" : chance(g, 50) ? "1" : "30");
                qd_buf_puts(member(g, &fs, "splitRatio"), "\"2:1\"");
            }
            emit_object(g, member(g, &es, key), &fs);
        }
        emit_object(g, member(g, &ms, kind == 0 ? "dividends" : "splits"), &es);
    }
    if (chance(g, 10))
        qd_buf_puts(member(g, &ms, "capitalGains"), "{\"1717075800\":{\"amount\":0.1,\"date\":1717075800}}");
    extras(g, &ms, 5);
    emit_object(g, b, &ms);
}

/* A chart answer, most often the success shape with its variations. */
static void
gen_doc(struct gen *g, struct qd_buf *doc)
{
    static const char *const errors[] = {
        "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\",\"description\":\"No data "
        "found, symbol may be delisted\"}}}",
        "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Bad Request\",\"description\":"
        "\"Invalid input - interval=45m is not supported.\"}}}",
        "{\"finance\":{\"result\":null,\"error\":{\"code\":\"Unauthorized\",\"description\":"
        "\"Invalid Crumb\"}}}",
        "{\"chart\":{\"result\":[],\"error\":null}}",
        "{\"chart\":{\"result\":[null],\"error\":null}}",
        "{\"chart\":{\"error\":null}}",
        "{\"chart\":[]}",
        "[]",
        "<html>Will be right back</html>",
        "Edge: Too Many Requests",
        ""};
    struct members root = {.n = 0}, chart = {.n = 0}, res = {.n = 0}, ind = {.n = 0};
    int n = chance(g, 5) ? 0 : (int)pick(g, 40);
    long long t0 = 946906200LL + (long long)pick(g, 9000) * 86400, *ts;
    double *base[5];
    struct qd_buf *b;

    if (chance(g, 4)) {
        qd_buf_puts(doc, errors[pick(g, QD_ARRAY_LEN(errors))]);
        return;
    }
    ts = calloc((size_t)n + 2, sizeof(*ts));
    ck_assert_ptr_nonnull(ts);
    for (int k = 0; k < 5; k++) {
        base[k] = calloc((size_t)n + 2, sizeof(double));
        ck_assert_ptr_nonnull(base[k]);
    }
    for (int i = 0; i < n + 2; i++) {
        bool null_row = chance(g, 5);
        ts[i] = i == 0 ? t0 : ts[i - 1] + (chance(g, 4) ? 3600 : odd(g, 1) ? -2 * 86400 : 86400);
        for (int k = 0; k < 5; k++)
            base[k][i] = null_row ? -1 : 100 + 20 * sin(i / 7.0) + k * 0.37;
    }

    /* result[0] */
    if (!chance(g, 5))
        meta(g, member(g, &res, "meta"));
    if (chance(g, 90)) {
        b = member(g, &res, "timestamp");
        if (chance(g, 3)) {
            qd_buf_puts(b, "null");
        } else {
            qd_buf_puts(b, "[");
            for (int i = 0; i < n; i++) {
                sp(g, b);
                if (i)
                    qd_buf_puts(b, ",");
                timestamp(g, b, ts[i]);
            }
            qd_buf_puts(b, "]");
        }
    }
    if (chance(g, 60))
        events(g, member(g, &res, "events"), t0);
    else if (chance(g, 5))
        qd_buf_puts(member(g, &res, "events"), chance(g, 50) ? "null" : "[]");
    if (!chance(g, 3)) {
        b = member(g, &ind, "quote");
        if (chance(g, 8)) {
            qd_buf_puts(b, chance(g, 70) ? "[{}]" : chance(g, 50) ? "[]" : "null");
        } else {
            struct members q = {.n = 0};
            static const char *const f[] = {"open", "high", "low", "close", "volume"};
            for (int k = 0; k < 5; k++)
                if (!odd(g, 1))
                    column(g, member(g, &q, f[k]), n, base[k], k == 4);
            extras(g, &q, 5);
            qd_buf_puts(b, "[");
            sp(g, b);
            emit_object(g, b, &q);
            if (chance(g, 5))
                qd_buf_puts(b, ",{\"open\":[1]}");
            qd_buf_puts(b, "]");
        }
        if (chance(g, 80)) {
            b = member(g, &ind, "adjclose");
            if (chance(g, 90)) {
                struct members a = {.n = 0};
                if (!chance(g, 3))
                    column(g, member(g, &a, "adjclose"), n, base[3], false);
                else if (chance(g, 50))
                    qd_buf_puts(member(g, &a, "adjclose"), "null");
                extras(g, &a, 5);
                qd_buf_puts(b, "[");
                emit_object(g, b, &a);
                qd_buf_puts(b, "]");
            } else {
                qd_buf_puts(b, chance(g, 50) ? "[]" : chance(g, 50) ? "null" : "[null]");
            }
        }
        extras(g, &ind, 5);
        emit_object(g, member(g, &res, "indicators"), &ind);
    }
    extras(g, &res, 10);

    /* chart, root */
    b = member(g, &chart, "result");
    qd_buf_puts(b, "[");
    sp(g, b);
    emit_object(g, b, &res);
    if (chance(g, 5))
        qd_buf_puts(b, ",{\"meta\":{}}");
    qd_buf_puts(b, "]");
    if (!chance(g, 10))
        qd_buf_puts(member(g, &chart, "error"), chance(g, 97) ? "null" : "{\"code\":\"x\"}");
    extras(g, &chart, 5);
    emit_object(g, member(g, &root, "chart"), &chart);
    extras(g, &root, 5);
    sp(g, doc);
    emit_object(g, doc, &root);
    sp(g, doc);

    free(ts);
    for (int k = 0; k < 5; k++)
        free(base[k]);
}

/* Replaces occurrence number `which` (modulo the count) of from by to; false if none. */
static bool
replace_nth(struct qd_buf *b, const char *from, const char *to, unsigned which)
{
    size_t fl = strlen(from), count = 0;
    struct qd_buf out = QD_BUF_INIT(0);
    const char *at;

    for (at = b->data; (at = strstr(at, from)) != NULL; at += fl)
        count++;
    if (count == 0)
        return false;
    which %= count;
    for (at = b->data; which > 0; which--)
        at = strstr(at, from) + fl;
    at = strstr(at, from);
    qd_buf_append(&out, b->data, (size_t)(at - b->data));
    qd_buf_puts(&out, to);
    qd_buf_puts(&out, at + fl);
    qd_buf_release(b);
    *b = out;
    return true;
}

/* Breaks or bends a document: a cut, a byte changed, inserted or removed, a key repeated,
 * escaped or renamed. */
static void
mutate(struct gen *g, struct qd_buf *b)
{
    static const char *const swaps[][2] = {
        {"\"open\"", "\"high\""}, {"\"chart\"", "\"\\u0063hart\""},
        {"\"gmtoffset\"", "\"gmtoffse\\u0074\""}, {"\"amount\"", "\"date\""},
        {"\"date\"", "\"amount\""}, {"\"numerator\"", "\"denominator\""},
        {"\"adjclose\"", "\"quote\""}, {"\"meta\"", "\"events\""}, {"\"dividends\"", "\"splits\""},
        {"\"timestamp\"", "\"indicators\""}, {"null", "nul"}, {"null", "nulls"}, {"[", "[["},
        {",", ",,"}, {"]", "],"}, {"\"", "\"\\"}, {"1", "01"}, {"1", "1."}, {"e", "e+"},
        {"5", "5e999"}, {"2", "2e-999"}, {"0", "99999999999999999999"}, {"\"USD\"", "\"\x80\""},
        {"\"USD\"", "\"\xC0\xAF\""}, {"\"USD\"", "\"\xED\xA0\x80\""}, {"\"USD\"", "\"\\u0000\""},
        {"\"USD\"", "\"\\ud800\""}, {"\"USD\"", "\"\\udc00\\ud800\""}, {"\"USD\"", "\"\x01\""},
        {"\"USD\"", "\"\\x\""}, {":", " : "}, {"}", "} "}, {"{", "\xEF\xBB\xBF{"},
        {"true", "True"}, {"-14400", "-14400.0"}, {"{", "{\"chart\":{},"}};
    unsigned k = pick(g, 6);

    if (b->len == 0)
        return;
    if (k == 0) {                   /* a cut */
        b->len = pick(g, (unsigned)b->len);
        b->data[b->len] = '\0';
    } else if (k == 1) {            /* a byte changed */
        static const char bytes[] = "{}[]\",:-.eE0123456789tnfu\\ \t\n\x7f\x80\xff";
        b->data[pick(g, (unsigned)b->len)] = bytes[pick(g, sizeof(bytes) - 1)];
    } else if (k == 2 && b->len > 2) {  /* a range removed */
        size_t at = pick(g, (unsigned)b->len - 1), n = 1 + pick(g, 8);
        if (at + n > b->len)
            n = b->len - at;
        memmove(b->data + at, b->data + at + n, b->len - at - n + 1);
        b->len -= n;
    } else {
        for (int tries = 0; tries < 4; tries++) {
            unsigned s = pick(g, QD_ARRAY_LEN(swaps));
            if (replace_nth(b, swaps[s][0], swaps[s][1], pick(g, 64)))
                break;
        }
    }
}

static void
differential(uint64_t seed, int docs)
{
    struct gen g = {.s = seed};
    struct tally t = {0};

    for (int i = 0; i < docs; i++) {
        struct qd_buf doc = QD_BUF_INIT(0);
        g.odd = chance(&g, 40);
        gen_doc(&g, &doc);
        if (chance(&g, 30)) {
            int m = 1 + (int)pick(&g, 2);
            for (int j = 0; j < m; j++)
                mutate(&g, &doc);
        }
        check_doc(doc.data ? doc.data : "", doc.len, chance(&g, 25), &t);
        qd_buf_release(&doc);
    }
    /* the test means something only if the scanner takes most answers and both paths agree
     * on many successes */
    ck_assert_msg(t.handled * 2 > t.docs && t.ok * 2 > t.docs && t.ok - t.handled < t.docs / 5,
                  "seed %llu: %zu documents, %zu parsed, %zu by the scanner",
                  (unsigned long long)seed, t.docs, t.ok, t.handled);
}

START_TEST(differential_seeds)
{
    differential(0x5EED0000ULL + (uint64_t)_i, 2000);
}
END_TEST

/* Hand-picked answers, each with what the scanner is expected to do. */
START_TEST(cases)
{
    static const struct {
        const char *doc;
        bool handled;               /* the scanner takes it (else: falls back) */
        enum qd_code rc;            /* yahoo_parse_chart's answer */
    } c[] = {
        {"{\"chart\":{\"result\":[{\"meta\":{\"gmtoffset\":-14400},\"timestamp\":[1716989400,"
         "1717075800,1717162200],\"events\":{\"dividends\":{\"1717075800\":{\"amount\":0.25,"
         "\"date\":1717075800}},\"splits\":{\"1716989400\":{\"date\":1716989400,\"numerator\":2,"
         "\"denominator\":1,\"splitRatio\":\"2:1\"}}},\"indicators\":{\"quote\":[{\"open\":[98.1,"
         "null,100.2],\"high\":[99.0,null,101.9],\"low\":[97.5,null,99.8],\"close\":[98.7,null,"
         "101.5],\"volume\":[1200300,null,980100]}],\"adjclose\":[{\"adjclose\":[98.45,null,"
         "101.5]}]}}],\"error\":null}}",
         true, QD_OK},
        /* empty range: no timestamp, quote [{}] */
        {"{\"chart\":{\"result\":[{\"meta\":{\"gmtoffset\":0},\"indicators\":{\"quote\":[{}]}}],"
         "\"error\":null}}",
         true, QD_OK},
        /* no adjclose; volume 1e6 is a real; integers as prices; a repeated date */
        {"{\"chart\":{\"result\":[{\"timestamp\":[86400,90000],\"indicators\":{\"quote\":[{"
         "\"open\":[1,2],\"high\":[1,2],\"low\":[1,2],\"close\":[1,2],\"volume\":[1e6,-0]}]}}]}}",
         true, QD_OK},
        /* timestamp [] with a quote: not empty, no bars */
        {"{\"chart\":{\"result\":[{\"timestamp\":[],\"indicators\":{\"quote\":[{\"x\":1}]}}]}}",
         true, QD_OK},
        /* a non-integer timestamp in an empty answer is not read */
        {"{\"chart\":{\"result\":[{\"timestamp\":[1.5],\"indicators\":{\"quote\":[{}]}}]}}",
         true, QD_OK},
        {"{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\",\"description\":\"No data "
         "found, symbol may be delisted\"}}}",
         false, QD_ENOTFOUND},
        {"{\"chart\":{\"result\":[{\"timestamp\":[1.5],\"indicators\":{\"quote\":[{\"open\":[1],"
         "\"high\":[1],\"low\":[1],\"close\":[1],\"volume\":[1]}]}}]}}",
         false, QD_EINVAL},
        /* duplicate key: jansson keeps the last value */
        {"{\"chart\":{\"result\":[{\"meta\":{\"gmtoffset\":100000,\"gmtoffset\":0},\"timestamp\":"
         "[0],\"indicators\":{\"quote\":[{\"open\":[1],\"high\":[1],\"low\":[1],\"close\":[1],"
         "\"volume\":[1]}]}}]}}",
         false, QD_OK},
        /* escaped key */
        {"{\"chart\":{\"result\":[{\"\\u0074imestamp\":[0],\"indicators\":{\"quote\":[{\"open\":"
         "[1],\"high\":[1],\"low\":[1],\"close\":[1],\"volume\":[1]}]}}]}}",
         false, QD_OK},
        {"{\"chart\":{\"result\":[{}]}} x", false, QD_EINVAL},
        {"{\"chart\":{\"result\":[{\"meta\":{\"v\":1e999}}]}}", false, QD_EINVAL},
        {"{\"chart\":{\"result\":[{\"meta\":{\"v\":-9223372036854775809}}]}}", false, QD_EINVAL},
    };

    for (size_t i = 0; i < QD_ARRAY_LEN(c); i++) {
        struct tally t = {0};
        struct run r;
        size_t len = strlen(c[i].doc);
        check_doc(c[i].doc, len, false, &t);
        ck_assert_msg(t.handled == (c[i].handled ? 1u : 0u), "case %zu: handled %zu", i,
                      t.handled);
        run_init(&r, false);
        r.rc = yahoo_parse_chart(c[i].doc, len, &r.b, &r.a, &r.st, &r.err);
        ck_assert_msg(r.rc == c[i].rc, "case %zu: rc %d", i, (int)r.rc);
        if (i == 0) {
            ck_assert_uint_eq(r.b.n, 2);
            ck_assert_uint_eq(r.st.skipped_nulls, 1);
            ck_assert(r.b.open[1] == 100.2 && r.b.adj_close[0] == 98.45);
            ck_assert_int_eq(r.b.volume[1], 980100);
            ck_assert_uint_eq(r.a.n, 2);
            ck_assert(r.a.a[0].kind == 'D' && r.a.a[1].kind == 'S' && r.a.a[1].value == 2);
        }
        if (i == 2) {
            ck_assert_uint_eq(r.b.n, 1);                /* 86400 and 90000: one day, the later */
            ck_assert(r.b.close[0] == 2 && r.b.adj_close[0] == 2 && r.b.volume[0] == 0);
        }
        run_release(&r);
    }
    /* nesting deeper than the scanner skips: left to jansson (which takes up to 2048) */
    for (int depth = 60; depth <= 70; depth += 10) {
        struct qd_buf doc = QD_BUF_INIT(0);
        struct tally t = {0};
        qd_buf_puts(&doc, "{\"chart\":{\"result\":[{\"meta\":{\"v\":");
        for (int i = 0; i < depth; i++)
            qd_buf_puts(&doc, "[");
        for (int i = 0; i < depth; i++)
            qd_buf_puts(&doc, "]");
        qd_buf_puts(&doc, "}}]}}");
        check_doc(doc.data, doc.len, false, &t);
        ck_assert_uint_eq(t.ok, 1);
        ck_assert_uint_eq(t.handled, depth <= 64 ? 1u : 0u);
        qd_buf_release(&doc);
    }
}
END_TEST

/* A 25-year answer like the benchmark's goes through the scanner. */
START_TEST(long_answer)
{
    struct qd_buf doc = QD_BUF_INIT(0);
    struct tally t = {0};
    const char *f[] = {"open", "high", "low", "close"};
    int n = 6300;

    qd_buf_puts(&doc, "{\"chart\":{\"result\":[{\"meta\":{\"gmtoffset\":-14400},\"timestamp\":[");
    for (int i = 0; i < n; i++)
        qd_buf_printf(&doc, "%s%d", i ? "," : "", 946906200 + i * 86400);
    qd_buf_puts(&doc, "],\"indicators\":{\"quote\":[{");
    for (int k = 0; k < 4; k++) {
        qd_buf_printf(&doc, "%s\"%s\":[", k ? "," : "", f[k]);
        for (int i = 0; i < n; i++) {
            qd_buf_puts(&doc, i ? "," : "");
            if (i % 50 == 7)
                qd_buf_puts(&doc, "null");
            else
                qd_buf_printf(&doc, "%.17g", (double)(float)(100 + 20 * sin(i / 50.0) + k * 0.37));
        }
        qd_buf_puts(&doc, "]");
    }
    qd_buf_puts(&doc, ",\"volume\":[");
    for (int i = 0; i < n; i++)
        qd_buf_printf(&doc, "%s%d", i ? "," : "", 1000000 + i * 37);
    qd_buf_puts(&doc, "]}]}}],\"error\":null}}");
    check_doc(doc.data, doc.len, false, &t);
    ck_assert_uint_eq(t.handled, 1);
    qd_buf_release(&doc);
}
END_TEST

Suite *
suite_yahoo_scan(void)
{
    Suite *s = suite_create("yahoo_scan");
    TCase *tc = tcase_create("all");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, differential_seeds, 0, 6);
    tcase_add_test(tc, cases);
    tcase_add_test(tc, long_answer);
    suite_add_tcase(s, tc);
    return s;
}
