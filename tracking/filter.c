/* The run-search filter (see filter.h, docs/tracking.md). Pure; any thread.
 *
 * DESIGN: a hand-written scanner over (text, len) that never reads past len and never needs a
 * NUL. Each condition is parsed whole into a struct cond (pointers into the text), checked for
 * type (metrics take numbers, tags take strings, LIKE takes strings, attributes by their
 * column's type), then emitted: the key and the value are copied into the values array and only
 * their parameter numbers go into the SQL, next to fixed fragments from this file. So the SQL
 * can hold nothing the user typed, whatever the text; tests/fuzz/fuzz_filter.c checks that the
 * SQL uses only the words and punctuation of those fragments.
 *
 * Numbers are scanned here (sign, digits, fraction, exponent) before strtod sees a NUL-terminated
 * copy, so strtod's extras (hex, "inf", "nan", leading blanks) never get in. The daemon never
 * calls setlocale, so strtod reads '.' as the decimal point. The value sent to PostgreSQL is the
 * double printed with "%.17g" (1e3 -> "1000", 0.1 -> "0.10000000000000001"): it reads back as
 * the same double, and it is the text jansson writes for a real, so a params number written by
 * the daemon compares equal as numeric too. */
#include "tracking/filter.h"

#include "common/buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_VALUES   (2 * RUN_FILTER_MAX_CONDS)     /* a key and a value per condition */
#define MAX_PARAM_NO 65535                          /* PostgreSQL's limit on parameters */
#define MAX_NUM_TEXT 128                            /* bytes of a number literal */
#define MAX_SQL      (64 * 1024)    /* far above 20 conditions' fragments: a cap, never reached */
#define MAX_ECHO     40             /* bytes of a user's word repeated in an error message */
#define INT_LIMIT    9007199254740992.0             /* 2^53: integers exact in a double */
#define TIME_LIMIT   1e14           /* epoch ms: years -1199 .. 5138, inside PostgreSQL's
                                     * timestamp range, so to_timestamp() cannot fail */

enum kind { K_METRIC, K_PARAM, K_TAG, K_ATTR };

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_LIKE, OP_ILIKE };

/* SQL text of each operator: "==" is "=", "!=" is "<>". */
static const char *const op_sql[] = {
    [OP_EQ] = "=",  [OP_NE] = "<>", [OP_LT] = "<",       [OP_LE] = "<=",
    [OP_GT] = ">",  [OP_GE] = ">=", [OP_LIKE] = "LIKE", [OP_ILIKE] = "ILIKE",
};

static const struct {
    const char *name;
    enum kind kind;
} prefixes[] = {
    {"metrics", K_METRIC},    {"metric", K_METRIC},   {"params", K_PARAM}, {"param", K_PARAM},
    {"parameters", K_PARAM},  {"tags", K_TAG},        {"tag", K_TAG},      {"attributes", K_ATTR},
    {"attribute", K_ATTR},    {"attr", K_ATTR},       {"run", K_ATTR},
};

enum attr_type { A_TEXT, A_ID, A_TIME };

/* The attributes a filter may name, and the runs column behind each (the only column names
 * that reach the SQL). */
static const struct attr_def {
    const char *name, *column;
    enum attr_type type;
} attrs[] = {
    {"status", "status", A_TEXT},         {"strategy", "strategy", A_TEXT},
    {"name", "name", A_TEXT},             {"run_id", "id", A_ID},
    {"id", "id", A_ID},                   {"start_time", "start_time", A_TIME},
    {"end_time", "end_time", A_TIME},
};
#define ATTR_LIST "status, strategy, name, run_id, id, start_time, end_time"

/* One parsed condition; key and str point into the filter text. */
struct cond {
    enum kind kind;
    const struct attr_def *attr;    /* K_ATTR */
    const char *key;
    size_t key_len, key_at;
    enum op op;
    bool is_str;
    const char *str;
    size_t str_len;
    double num;
    size_t val_at;
};

struct parser {
    const char *s;
    size_t len, pos;
    int first_param;
    struct qd_buf sql;
    char **values;                  /* MAX_VALUES slots */
    int nvalues;
    struct qd_err *err;
};

static enum qd_code fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* QD_EINVAL with "filter: " and the message; the caller's format names the position. */
static enum qd_code
fail(struct parser *p, const char *fmt, ...)
{
    char msg[sizeof(p->err->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return qd_err_field(p->err, QD_EINVAL, "filter", "filter: %s", msg);
}

/* A user's word made safe to repeat in a message (which may end up in a JSON answer or a log):
 * at most MAX_ECHO bytes, anything but printable ASCII shown as '?', so that a cut never
 * splits a UTF-8 sequence. */
static const char *
echo(const char *s, size_t n, char out[MAX_ECHO + 4])
{
    size_t k = n < MAX_ECHO ? n : MAX_ECHO;

    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n > MAX_ECHO) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static bool
at_end(const struct parser *p)
{
    return p->pos >= p->len;
}

static int
peek(const struct parser *p)
{
    return at_end(p) ? -1 : (unsigned char)p->s[p->pos];
}

static void
skip_ws(struct parser *p)
{
    while (!at_end(p) && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                          p->s[p->pos] == '\r'))
        p->pos++;
}

static bool
is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A character that would continue a word (so "ANDx" is not the keyword AND). */
static bool
is_word(int c)
{
    return is_alpha(c) || is_digit(c) || c == '_';
}

static bool
is_key_char(int c)
{
    return is_word(c) || c == '.' || c == '-';
}

/* s[0..n) is w, in any case. */
static bool
same_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* The keyword w (upper case) at the position, in any case and not followed by a word
 * character. */
static bool
at_word(const struct parser *p, const char *w)
{
    size_t n = strlen(w);

    if (p->len - p->pos < n || strncasecmp(p->s + p->pos, w, n) != 0)
        return false;
    return p->pos + n == p->len || !is_word((unsigned char)p->s[p->pos + n]);
}

/* "expected <what> at <pos> (<hint>)", or a more helpful message for what the grammar leaves
 * out on purpose (OR, parentheses). hint may be NULL. */
static enum qd_code
expected(struct parser *p, const char *what, const char *hint)
{
    int c = peek(p);

    if (c < 0)
        return fail(p, "expected %s at %zu (end of filter)", what, p->pos);
    if (c == '(' || c == ')')
        return fail(p, "parentheses are not supported at %zu (conditions are joined with AND "
                    "only)", p->pos);
    if (at_word(p, "OR"))
        return fail(p, "OR is not supported at %zu (conditions are joined with AND only)",
                    p->pos);
    if (hint == NULL)
        return fail(p, "expected %s at %zu", what, p->pos);
    return fail(p, "expected %s at %zu (%s)", what, p->pos, hint);
}

/* Bytes of the character at s (n > 0 bytes available) when it is well-formed UTF-8 and not a
 * control character (C0, DEL, C1); 0 otherwise. Keys and strings become PostgreSQL text
 * parameters: a malformed sequence would fail there as a database error, a NUL would cut the
 * parameter short, so both are refused here as input errors. */
static size_t
text_char_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], c1;
    size_t need;

    if (c >= 0x20 && c < 0x7f)
        return 1;
    if (c < 0xc2 || c > 0xf4)       /* controls, DEL, continuations, overlong leads, > U+10FFFF */
        return 0;
    need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    c1 = s[1];
    if ((c == 0xc2 && c1 < 0xa0) ||         /* C1 controls U+0080..U+009F */
        (c == 0xe0 && c1 < 0xa0) ||         /* overlong */
        (c == 0xed && c1 > 0x9f) ||         /* UTF-16 surrogates */
        (c == 0xf0 && c1 < 0x90) ||         /* overlong */
        (c == 0xf4 && c1 > 0x8f))           /* above U+10FFFF */
        return 0;
    return need;
}

/* A quoted run of text at the position (the opening quote): sets *body / *n to what lies
 * between the quotes and moves past the closing one. what names it in messages. */
static enum qd_code
scan_quoted(struct parser *p, const char *what, size_t max, const char **body, size_t *n)
{
    size_t open = p->pos, i = p->pos + 1;
    char q = p->s[open];

    while (i < p->len && p->s[i] != q) {
        size_t k = text_char_len((const unsigned char *)p->s + i, p->len - i);
        if (k == 0)
            return fail(p, "control character or invalid UTF-8 in %s at %zu", what, i);
        i += k;
    }
    if (i >= p->len)
        return fail(p, "unterminated %s starting at %zu", what, open);
    *body = p->s + open + 1;
    *n = i - open - 1;
    if (*n > max)
        return fail(p, "%s longer than %zu bytes at %zu", what, max, open);
    p->pos = i + 1;
    return QD_OK;
}

/* prefix "." key */
static enum qd_code
parse_ident(struct parser *p, struct cond *c)
{
    size_t start = p->pos, wlen, k;
    char buf[MAX_ECHO + 4];
    enum qd_code rc;

    while (!at_end(p) && is_alpha(peek(p)))
        p->pos++;
    wlen = p->pos - start;
    if (wlen == 0)
        return expected(p, "a condition", "such as metrics.sharpe_ratio > 1");
    for (k = 0; k < QD_ARRAY_LEN(prefixes); k++)
        if (same_word(p->s + start, wlen, prefixes[k].name))
            break;
    if (k == QD_ARRAY_LEN(prefixes)) {
        p->pos = start;
        if (at_word(p, "OR"))
            return expected(p, "a condition", NULL);
        return fail(p, "unknown prefix \"%s\" at %zu (expected metrics, params, tags or "
                    "attributes)", echo(p->s + start, wlen, buf), start);
    }
    c->kind = prefixes[k].kind;
    if (peek(p) != '.')
        return expected(p, "'.' and a key after the prefix", NULL);
    p->pos++;
    c->key_at = p->pos;
    if (peek(p) == '`' || peek(p) == '"') {
        rc = scan_quoted(p, "quoted key", RUN_FILTER_MAX_KEY, &c->key, &c->key_len);
        if (rc != QD_OK)
            return rc;
        if (c->key_len == 0)
            return fail(p, "empty key at %zu", c->key_at);
    } else {
        while (!at_end(p) && is_key_char(peek(p)))
            p->pos++;
        c->key = p->s + c->key_at;
        c->key_len = p->pos - c->key_at;
        if (c->key_len == 0)
            return expected(p, "a key", "letters, digits, _ . -, or quoted in ` or \"");
        if (c->key_len > RUN_FILTER_MAX_KEY)
            return fail(p, "key longer than %d bytes at %zu", RUN_FILTER_MAX_KEY, c->key_at);
    }
    return QD_OK;
}

static enum qd_code
parse_op(struct parser *p, struct cond *c)
{
    static const struct {
        const char *text;
        enum op op;
    } ops[] = {
        /* longest first: "<=" before "<", "==" before "=" */
        {"==", OP_EQ}, {"!=", OP_NE}, {"<>", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
        {"=", OP_EQ},  {"<", OP_LT},  {">", OP_GT},
    };

    for (size_t i = 0; i < QD_ARRAY_LEN(ops); i++) {
        size_t n = strlen(ops[i].text);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, ops[i].text, n) == 0) {
            c->op = ops[i].op;
            p->pos += n;
            return QD_OK;
        }
    }
    if (at_word(p, "LIKE")) {
        c->op = OP_LIKE;
        p->pos += 4;
        return QD_OK;
    }
    if (at_word(p, "ILIKE")) {
        c->op = OP_ILIKE;
        p->pos += 5;
        return QD_OK;
    }
    return expected(p, "an operator", "= == != <> < <= > >= LIKE ILIKE");
}

/* [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits], then strtod on a copy. */
static enum qd_code
parse_number(struct parser *p, struct cond *c)
{
    size_t start = p->pos, digits = 0, n;
    char buf[MAX_NUM_TEXT + 1];

    if (peek(p) == '+' || peek(p) == '-')
        p->pos++;
    for (; is_digit(peek(p)); p->pos++)
        digits++;
    if (peek(p) == '.') {
        for (p->pos++; is_digit(peek(p)); p->pos++)
            digits++;
    }
    if (digits == 0)
        return fail(p, "malformed number at %zu", start);
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!is_digit(peek(p)))
            return fail(p, "malformed number at %zu (the exponent needs digits)", start);
        while (is_digit(peek(p)))
            p->pos++;
    }
    if (is_key_char(peek(p)))       /* "1.5abc", "1.2.3", "1e5x" */
        return fail(p, "malformed number at %zu", start);
    n = p->pos - start;
    if (n > MAX_NUM_TEXT)
        return fail(p, "number longer than %d characters at %zu", MAX_NUM_TEXT, start);
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    c->num = strtod(buf, NULL);     /* the scan above is exactly what strtod takes whole */
    if (!isfinite(c->num))
        return fail(p, "number out of range at %zu", start);
    return QD_OK;
}

static enum qd_code
parse_value(struct parser *p, struct cond *c)
{
    int ch = peek(p);

    c->val_at = p->pos;
    if (ch == '\'' || ch == '"') {
        c->is_str = true;
        return scan_quoted(p, "string", RUN_FILTER_MAX_STR, &c->str, &c->str_len);
    }
    if (is_digit(ch) || ch == '+' || ch == '-' || ch == '.') {
        c->is_str = false;
        return parse_number(p, c);
    }
    return expected(p, "a value", "a number, or a string in ' or \"");
}

/* The types the condition's operands allow (the grammar alone lets any through). */
static enum qd_code
check_types(struct parser *p, struct cond *c)
{
    char buf[MAX_ECHO + 4];
    size_t k;

    if ((c->op == OP_LIKE || c->op == OP_ILIKE) && !c->is_str)
        return fail(p, "LIKE and ILIKE compare with strings at %zu", c->val_at);
    switch (c->kind) {
    case K_METRIC:
        if (c->is_str)
            return fail(p, "metrics compare with numbers at %zu", c->val_at);
        return QD_OK;
    case K_PARAM:
        return QD_OK;
    case K_TAG:
        if (!c->is_str)
            return fail(p, "tags compare with strings at %zu", c->val_at);
        return QD_OK;
    case K_ATTR:
        break;
    }
    for (k = 0; k < QD_ARRAY_LEN(attrs); k++)
        if (same_word(c->key, c->key_len, attrs[k].name))
            break;
    if (k == QD_ARRAY_LEN(attrs))
        return fail(p, "unknown attribute \"%s\" at %zu (allowed: " ATTR_LIST ")",
                    echo(c->key, c->key_len, buf), c->key_at);
    c->attr = &attrs[k];
    switch (c->attr->type) {
    case A_TEXT:
        if (!c->is_str)
            return fail(p, "attributes.%s compares with strings at %zu", c->attr->name,
                        c->val_at);
        return QD_OK;
    case A_ID:
        if (c->is_str)
            return fail(p, "attributes.%s compares with integers at %zu", c->attr->name,
                        c->val_at);
        if (c->num != floor(c->num) || fabs(c->num) > INT_LIMIT)
            return fail(p, "attributes.%s must be an integer (at most 2^53) at %zu",
                        c->attr->name, c->val_at);
        return QD_OK;
    case A_TIME:
        if (c->is_str)
            return fail(p, "attributes.%s compares with numbers (epoch milliseconds) at %zu",
                        c->attr->name, c->val_at);
        if (fabs(c->num) > TIME_LIMIT)
            return fail(p, "attributes.%s out of range (epoch milliseconds within 1e14) at %zu",
                        c->attr->name, c->val_at);
        return QD_OK;
    }
    return QD_OK;
}

/* Appends a parameter; its number in *no. */
static enum qd_code
add_value(struct parser *p, const char *s, size_t n, int *no)
{
    char *v;

    QD_ASSERT(p->nvalues < MAX_VALUES);
    v = malloc(n + 1);
    if (v == NULL)
        return qd_err_set(p->err, QD_ENOMEM, "filter: out of memory");
    memcpy(v, s, n);
    v[n] = '\0';
    *no = p->first_param + p->nvalues;
    p->values[p->nvalues++] = v;
    return QD_OK;
}

static enum qd_code
add_number(struct parser *p, double x, bool integer, int *no)
{
    char buf[48];
    int n;

    /* integers (|x| <= 2^53, checked) as plain digits for ::bigint: %.17g would give "-0" */
    if (integer)
        n = snprintf(buf, sizeof(buf), "%lld", (long long)x);
    else
        n = snprintf(buf, sizeof(buf), "%.17g", x);
    QD_ASSERT(n > 0 && (size_t)n < sizeof(buf));
    return add_value(p, buf, (size_t)n, no);
}

/* The SQL buffer refused an append: out of memory, or past MAX_SQL, which 20 conditions
 * cannot reach (a bug, not the user's). */
static enum qd_code
sql_fail(struct parser *p, enum qd_code rc)
{
    if (rc == QD_ENOMEM)
        return qd_err_set(p->err, QD_ENOMEM, "filter: out of memory");
    return qd_err_set(p->err, QD_EINTERNAL, "filter: cannot build the SQL (%s)",
                      qd_code_name(rc));
}

/* The condition's value as a parameter. */
static enum qd_code
add_operand(struct parser *p, const struct cond *c, int *no)
{
    if (c->is_str)
        return add_value(p, c->str, c->str_len, no);
    return add_number(p, c->num, c->kind == K_ATTR && c->attr->type == A_ID, no);
}

/* The condition's SQL: fixed text, the whitelisted operator and column, parameter numbers. */
static enum qd_code
emit(struct parser *p, const struct cond *c)
{
    const char *op = op_sql[c->op];
    enum qd_code rc;
    int a, b;

    if (p->sql.len > 0 && (rc = qd_buf_puts(&p->sql, " AND ")) != QD_OK)
        return sql_fail(p, rc);
    if (c->kind == K_ATTR) {
        if ((rc = add_operand(p, c, &a)) != QD_OK)
            return rc;
        switch (c->attr->type) {
        case A_TEXT:
            rc = qd_buf_printf(&p->sql, "r.%s %s $%d", c->attr->column, op, a);
            break;
        case A_ID:
            rc = qd_buf_printf(&p->sql, "r.%s %s $%d::bigint", c->attr->column, op, a);
            break;
        case A_TIME:
            rc = qd_buf_printf(&p->sql, "r.%s %s to_timestamp($%d::float8 / 1000)",
                               c->attr->column, op, a);
            break;
        }
    } else {
        if ((rc = add_value(p, c->key, c->key_len, &a)) != QD_OK ||
            (rc = add_operand(p, c, &b)) != QD_OK)
            return rc;
        if (c->kind == K_METRIC)
            /* PostgreSQL orders NaN above every number and NaN = NaN holds; an undefined
             * metric (stored NaN) must match no comparison, as in IEEE arithmetic */
            rc = qd_buf_printf(&p->sql,
                               "EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id AND "
                               "m.key = $%d AND m.step = 0 AND m.value <> 'NaN'::float8 AND "
                               "m.value %s $%d::float8)",
                               a, op, b);
        else if (c->kind == K_PARAM && !c->is_str)
            /* jsonb compares across types (every string sorts above every number), so without
             * the type test params.x > 5 would match x = "abc"; neither side can raise an error,
             * so the order in which PostgreSQL evaluates them does not matter */
            rc = qd_buf_printf(&p->sql,
                               "(jsonb_typeof(r.params -> $%d) = 'number' AND "
                               "(r.params -> $%d) %s to_jsonb($%d::numeric))",
                               a, a, op, b);
        else
            rc = qd_buf_printf(&p->sql, "(r.%s ->> $%d) %s $%d",
                               c->kind == K_PARAM ? "params" : "tags", a, op, b);
    }
    return rc == QD_OK ? QD_OK : sql_fail(p, rc);
}

/* cond { AND cond } up to the end of the text, which is not blank. */
static enum qd_code
parse_all(struct parser *p)
{
    int nconds = 0;
    enum qd_code rc;

    for (;;) {
        struct cond c = {0};

        skip_ws(p);
        if (nconds == RUN_FILTER_MAX_CONDS)
            return fail(p, "more than %d conditions at %zu", RUN_FILTER_MAX_CONDS, p->pos);
        if ((rc = parse_ident(p, &c)) != QD_OK)
            return rc;
        skip_ws(p);
        if ((rc = parse_op(p, &c)) != QD_OK)
            return rc;
        skip_ws(p);
        if ((rc = parse_value(p, &c)) != QD_OK || (rc = check_types(p, &c)) != QD_OK ||
            (rc = emit(p, &c)) != QD_OK)
            return rc;
        nconds++;
        skip_ws(p);
        if (at_end(p))
            return QD_OK;
        if (!at_word(p, "AND"))
            return expected(p, "AND or the end of the filter", NULL);
        p->pos += 3;
    }
}

enum qd_code
run_filter_parse(const char *text, size_t len, int first_param, struct run_filter *f,
                 struct qd_err *err)
{
    struct parser p = {.s = text, .len = len, .first_param = first_param,
                       .sql = QD_BUF_INIT(MAX_SQL), .err = err};
    enum qd_code rc;

    if (f == NULL || (text == NULL && len > 0))
        return qd_err_set(err, QD_EINVAL, "filter: no text or no result");
    memset(f, 0, sizeof(*f));
    if (first_param < 1 || first_param > MAX_PARAM_NO - MAX_VALUES + 1)
        return qd_err_field(err, QD_EINVAL, "filter", "filter: first parameter number %d "
                            "out of range", first_param);
    if (len > RUN_FILTER_MAX_TEXT)
        return fail(&p, "longer than %d bytes at %d", RUN_FILTER_MAX_TEXT, RUN_FILTER_MAX_TEXT);
    skip_ws(&p);
    if (at_end(&p)) {
        f->sql = strdup("TRUE");
        return f->sql ? QD_OK : qd_err_set(err, QD_ENOMEM, "filter: out of memory");
    }
    p.values = calloc(MAX_VALUES, sizeof(*p.values));
    if (p.values == NULL)
        return qd_err_set(err, QD_ENOMEM, "filter: out of memory");
    rc = parse_all(&p);
    if (rc == QD_OK) {
        f->sql = qd_buf_detach(&p.sql, NULL);
        f->values = p.values;
        f->nvalues = p.nvalues;
        return QD_OK;
    }
    qd_buf_release(&p.sql);
    for (int i = 0; i < p.nvalues; i++)
        free(p.values[i]);
    free(p.values);
    return rc;
}

void
run_filter_release(struct run_filter *f)
{
    if (f == NULL)
        return;
    for (int i = 0; i < f->nvalues; i++)
        free(f->values[i]);
    free(f->values);
    free(f->sql);
    memset(f, 0, sizeof(*f));
}
