/*
 * fake_cftc: a fake of the CFTC Public Reporting Environment (a Socrata
 * SODA 2 API), so that integration tests can drive the real libcurl COT
 * client over loopback:
 *
 *   data   GET /m/<mode>/resource/<dataset_id>.json?$where=..&$order=..&$limit=..&$offset=..
 *   stats  GET /stats?mode=<mode>&key=<market code or "all">  -> request count
 *
 * Usage: fake_cftc PORT_FILE
 *   Binds 127.0.0.1 on an ephemeral port, writes "<port>\n" to PORT_FILE
 *   (through PORT_FILE.tmp + rename, so a poller never reads half a
 *   number), serves until SIGTERM or SIGINT, then exits 0.
 *
 * Wire format follows ../shared/docs/external-apis.md, section 3 part A.
 *
 * DESIGN (the same as fake_feeds.c)
 * - The <mode> path segment picks a scenario (see mode_names[]), so one
 *   server instance serves every scenario and tests need no control API.
 * - Data: the legacy datasets 6dca-aqww (futures only) and jun7-fc8e
 *   (combined) hold one report per market every Tuesday from 2010-01-05
 *   to 2024-12-31, each value a pure function of (week index w, market
 *   index m), so tests can recompute anything (see legacy_value()). The
 *   other five known datasets have their columns but no rows.
 * - SoQL subset: $where is a conjunction (AND) of  col = 'v'  and
 *   col BETWEEN 'a' AND 'b';  $order is  col [ASC|DESC] [, ...];  $limit
 *   (0..50000, default 1000) and $offset. Simple filters (?col=value) are
 *   equalities too; $$app_token is ignored. Anything else is a 400
 *   "query.compiler.malformed"; a column the dataset lacks is a 400
 *   "query.soql.no-such-column". Syntax is checked before columns.
 * - Request counter key: the market code of the first
 *   cftc_contract_market_code = '...' condition, else "all".
 * - Each response is built whole in a capped growable buffer and handed to
 *   MHD, which frees it; the query lives in one fixed-size allocation.
 *   Memory per request is therefore bounded.
 * - Thread per connection: "slow" just sleeps in its own thread and does
 *   not hold up other clients.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BODY_MAX           (8u * 1024u * 1024u) /* the whole legacy dataset is ~2.1 MB */
#define COUNTER_SLOTS      512
#define COUNTER_KEY_MAX    64
#define SLOW_SECONDS       5
#define SODA_LIMIT_DEFAULT 1000LL
#define SODA_LIMIT_MAX     50000LL
#define PAGED_LIMIT_MAX    100LL
#define WHERE_MAX          4096 /* longer $where / $order texts are refused */
#define ORDER_MAX          1024
#define TERMS_MAX          32 /* conditions, $where and simple filters together */
#define ORDER_KEYS_MAX     8
#define ARENA_MAX          (2 * (WHERE_MAX + ORDER_MAX) + 64)
#define VALUE_MAX          128
#define COLUMN_ECHO_MAX    200 /* a bad column name is echoed up to this length */
#define RESOURCE_PREFIX    "/resource/"
#define RESOURCE_SUFFIX    ".json"
#define KEY_ALL            "all"
#define MARKET_COLUMN      "cftc_contract_market_code"

#define CT_JSON "application/json;charset=utf-8"
#define CT_HTML "text/html"
#define CT_TEXT "text/plain"

#define SODA_404_BODY "{\"code\":\"not_found\",\"error\":true,\"message\":\"Not found\"}"
#define SODA_429_BODY "{\"code\":\"too_many_requests\",\"error\":true,\"message\":\"Too Many Requests\"}"
#define SODA_202_BODY "{\"code\":\"processing\",\"error\":false,\"message\":\"Request Processing\"}"
#define SODA_500_BODY "{\"code\":\"internal_error\",\"error\":true,\"message\":\"Internal Server Error\"}"
#define SODA_MALFORMED_BODY \
    "{\"code\":\"query.compiler.malformed\",\"error\":true,\"message\":\"Could not parse SoQL query\"}"
#define HTML_MAINT                                                                               \
    "<!DOCTYPE html><html><head><title>Scheduled Maintenance</title></head><body>"               \
    "<h1>Public Reporting is down for scheduled maintenance</h1></body></html>"
#define HTML_DENIED \
    "<html><head><title>403 Forbidden</title></head><body><h1>Access Denied</h1></body></html>"

enum mode {
    MODE_OK,
    MODE_429ONCE,
    MODE_202ONCE,
    MODE_500ONCE,
    MODE_FORBIDDEN,
    MODE_HTML,
    MODE_TRUNCATED,
    MODE_SLOW,
    MODE_PAGED,
    MODE__COUNT
};

static const char *const mode_names[MODE__COUNT] = {
    [MODE_OK] = "ok",
    [MODE_429ONCE] = "429once",
    [MODE_202ONCE] = "202once",
    [MODE_500ONCE] = "500once",
    [MODE_FORBIDDEN] = "forbidden",
    [MODE_HTML] = "html",
    [MODE_TRUNCATED] = "truncated",
    [MODE_SLOW] = "slow",
    [MODE_PAGED] = "paged",
};

/* Set once a stop signal arrives, so a sleeping "slow" request wakes up
 * and MHD_stop_daemon() does not wait out the full delay. */
static atomic_bool stopping;

/* ------------------------------------------------------------------ */
/* Growable body buffer. Failure is sticky, so render code can append
 * freely and check once at the end instead of after every call. */

struct buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

static bool
buf_reserve(struct buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra >= BODY_MAX - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1; /* +1 keeps room for a NUL */
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > BODY_MAX)
        cap = BODY_MAX;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void
buf_append(struct buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void
buf_release(struct buf *b)
{
    free(b->data);
    *b = (struct buf){0};
}

/* Hand the bytes to the caller (who free()s them); NULL on failure. */
static char *
buf_detach(struct buf *b)
{
    if (!buf_reserve(b, 0)) {
        buf_release(b);
        return NULL;
    }
    char *p = b->data;
    *b = (struct buf){0};
    return p;
}

/* A JSON string literal; escapes what JSON requires, passes UTF-8 through. */
static void
buf_json_string(struct buf *b, const char *s, size_t max)
{
    buf_puts(b, "\"");
    for (size_t i = 0; i < max && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            buf_printf(b, "\\u%04x", c);
        else
            buf_append(b, &s[i], 1);
    }
    buf_puts(b, "\"");
}

/* ------------------------------------------------------------------ */
/* Civil dates as day numbers (days since 1970-01-01), computed by hand
 * so no time zone or gmtime() is involved. */

static long
days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned mp = (unsigned)(m > 2 ? m - 3 : m + 9);
    unsigned doy = (153u * mp + 2u) / 5u + (unsigned)d - 1u;
    unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097L + (long)doe - 719468L;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468L;
    long era = (z >= 0 ? z : z - 146096L) / 146097L;
    unsigned doe = (unsigned)(z - era * 146097L);
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    unsigned mp = (5u * doy + 2u) / 153u;
    unsigned mm = mp < 10u ? mp + 3u : mp - 9u;
    *d = (int)(doy - (153u * mp + 2u) / 5u + 1u);
    *m = (int)mm;
    *y = (int)((long)yoe + era * 400L + (mm <= 2u));
}

static int
two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Strict YYYY-MM-DD (exactly 10 characters) with a real calendar day. */
static bool
parse_ymd(const char *s, long *day)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int hi = two_digits(s), lo = two_digits(s + 2);
    int m = two_digits(s + 5), d = two_digits(s + 8);
    if (hi < 0 || lo < 0 || m < 1 || m > 12 || d < 1)
        return false;
    int y = hi * 100 + lo;
    long first = days_from_civil(y, m, 1);
    long next = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
    if (d > next - first)
        return false;
    *day = first + d - 1;
    return true;
}

/* A floating timestamp literal: YYYY-MM-DD, optionally followed by
 * Thh:mm[:ss[.fraction]]. Only the date part takes part in comparisons. */
static bool
valid_timestamp(const char *s)
{
    char ymd[11];
    long day;

    if (strnlen(s, 10) < 10)
        return false;
    memcpy(ymd, s, 10);
    ymd[10] = '\0';
    if (!parse_ymd(ymd, &day))
        return false;
    s += 10;
    if (*s == '\0')
        return true;
    if (*s++ != 'T')
        return false;
    int hh = two_digits(s);
    if (hh < 0 || hh > 23 || s[2] != ':')
        return false;
    int mi = two_digits(s + 3);
    if (mi < 0 || mi > 59)
        return false;
    s += 5;
    if (*s == '\0')
        return true;
    if (*s != ':')
        return false;
    int ss = two_digits(s + 1);
    if (ss < 0 || ss > 59)
        return false;
    s += 3;
    if (*s == '\0')
        return true;
    if (*s++ != '.')
        return false;
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n >= 1 && n <= 9 && s[n] == '\0';
}

/* A number literal: what strtod takes whole, finite, no leading blanks. */
static bool
valid_number(const char *s)
{
    if (!(isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.'))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    return errno == 0 && *end == '\0' && isfinite(v);
}

/* ------------------------------------------------------------------ */
/* Datasets and their columns. Column order follows the real
 * X-SODA2-Fields header (a subset of it). */

enum col_type { TY_TEXT, TY_NUMBER, TY_TIMESTAMP };

static const char *const type_names[] = {
    [TY_TEXT] = "text",
    [TY_NUMBER] = "number",
    [TY_TIMESTAMP] = "floating_timestamp",
};

struct column {
    const char *name;
    enum col_type type;
};

/* Legacy columns; the enum order is the array order. */
enum legacy_col {
    L_ID,
    L_NAMES,
    L_DATE,
    L_WEEK,
    L_CONTRACT,
    L_CODE,
    L_MARKET,
    L_OI,
    L_NC_LONG,
    L_NC_SHORT,
    L_NC_SPREAD,
    L_C_LONG,
    L_C_SHORT,
    L_FUTONLY,
    L__COUNT
};

#define COMMON_HEAD                                                                              \
    {"id", TY_TEXT}, {"market_and_exchange_names", TY_TEXT},                                     \
        {"report_date_as_yyyy_mm_dd", TY_TIMESTAMP}, {"yyyy_report_week_ww", TY_TEXT},           \
        {"contract_market_name", TY_TEXT}, {MARKET_COLUMN, TY_TEXT},                             \
        {"cftc_market_code", TY_TEXT}, {"open_interest_all", TY_NUMBER}
#define COMMON_TAIL {"futonly_or_combined", TY_TEXT}

static const struct column legacy_cols[L__COUNT] = {
    COMMON_HEAD,
    [L_NC_LONG] = {"noncomm_positions_long_all", TY_NUMBER},
    [L_NC_SHORT] = {"noncomm_positions_short_all", TY_NUMBER},
    [L_NC_SPREAD] = {"noncomm_postions_spread_all", TY_NUMBER}, /* sic */
    [L_C_LONG] = {"comm_positions_long_all", TY_NUMBER},
    [L_C_SHORT] = {"comm_positions_short_all", TY_NUMBER},
    [L_FUTONLY] = COMMON_TAIL,
};

static const struct column disagg_cols[] = {
    COMMON_HEAD,
    {"prod_merc_positions_long", TY_NUMBER},
    {"prod_merc_positions_short", TY_NUMBER},
    {"swap_positions_long_all", TY_NUMBER},
    {"swap__positions_short_all", TY_NUMBER},
    {"swap__positions_spread_all", TY_NUMBER},
    {"m_money_positions_long_all", TY_NUMBER},
    {"m_money_positions_short_all", TY_NUMBER},
    {"m_money_positions_spread", TY_NUMBER},
    {"other_rept_positions_long", TY_NUMBER},
    {"other_rept_positions_short", TY_NUMBER},
    {"other_rept_positions_spread", TY_NUMBER},
    {"tot_rept_positions_long_all", TY_NUMBER},
    {"tot_rept_positions_short", TY_NUMBER},
    {"nonrept_positions_long_all", TY_NUMBER},
    {"nonrept_positions_short_all", TY_NUMBER},
    COMMON_TAIL,
};

static const struct column tff_cols[] = {
    COMMON_HEAD,
    {"dealer_positions_long_all", TY_NUMBER},
    {"dealer_positions_short_all", TY_NUMBER},
    {"dealer_positions_spread_all", TY_NUMBER},
    {"asset_mgr_positions_long", TY_NUMBER},
    {"asset_mgr_positions_short", TY_NUMBER},
    {"asset_mgr_positions_spread", TY_NUMBER},
    {"lev_money_positions_long", TY_NUMBER},
    {"lev_money_positions_short", TY_NUMBER},
    {"lev_money_positions_spread", TY_NUMBER},
    {"other_rept_positions_long", TY_NUMBER},
    {"other_rept_positions_short", TY_NUMBER},
    {"other_rept_positions_spread", TY_NUMBER},
    {"nonrept_positions_long_all", TY_NUMBER},
    {"nonrept_positions_short_all", TY_NUMBER},
    COMMON_TAIL,
};

static const struct column cit_cols[] = {COMMON_HEAD, COMMON_TAIL};

#define COLS(a) (a), sizeof(a) / sizeof((a)[0])

struct dataset {
    const char *id;
    const struct column *cols;
    size_t ncols;
    bool legacy;         /* only the legacy datasets have rows */
    const char *futonly; /* futonly_or_combined */
    const char *suffix;  /* last character of the row id */
};

static const struct dataset datasets[] = {
    {"6dca-aqww", COLS(legacy_cols), true, "FutOnly", "F"},
    {"jun7-fc8e", COLS(legacy_cols), true, "Combined", "C"},
    {"72hh-3qpy", COLS(disagg_cols), false, "FutOnly", "F"},
    {"kh3c-gbw2", COLS(disagg_cols), false, "Combined", "C"},
    {"gpe5-46if", COLS(tff_cols), false, "FutOnly", "F"},
    {"yw9f-hn96", COLS(tff_cols), false, "Combined", "C"},
    {"4zgm-a668", COLS(cit_cols), false, "Combined", "C"},
};

/* name is "<id>.json", the rest of the path after /resource/. */
static const struct dataset *
dataset_find(const char *name)
{
    size_t n = strlen(name), sl = strlen(RESOURCE_SUFFIX);

    if (n <= sl || strcmp(name + n - sl, RESOURCE_SUFFIX) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof datasets / sizeof datasets[0]; i++) {
        if (strlen(datasets[i].id) == n - sl && memcmp(datasets[i].id, name, n - sl) == 0)
            return &datasets[i];
    }
    return NULL;
}

/* Column index in the dataset, or -1. SoQL names are case-insensitive. */
static int
column_find(const struct dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->ncols; i++) {
        if (strcasecmp(ds->cols[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Legacy data: w = week index from 2010-01-05, m = market index. */

struct market {
    const char *code;
    const char *names; /* market_and_exchange_names */
    const char *mkt;   /* cftc_market_code, padded like the real one */
};

static const struct market markets[] = {
    {"13874A", "E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE", "CME "},
    {"043602", "10-YEAR U.S. TREASURY NOTES - CHICAGO BOARD OF TRADE", "CBT "},
    {"1170E1", "VIX FUTURES - CBOE FUTURES EXCHANGE", "CFE "},
    {"088691", "GOLD - COMMODITY EXCHANGE INC.", "CMX "},
    {"067651", "CRUDE OIL, LIGHT SWEET - NEW YORK MERCANTILE EXCHANGE", "NYME"},
};

#define N_MARKETS ((int)(sizeof markets / sizeof markets[0]))

/* Market indexes in ascending code order: the natural row order within a
 * report date ("043602" < "067651" < "088691" < "1170E1" < "13874A"). */
static const int market_by_code[N_MARKETS] = {1, 4, 3, 2, 0};

struct row {
    int w;
    int m;
};

static long
first_report_day(void)
{
    return days_from_civil(2010, 1, 5);
}

static int
weeks_total(void)
{
    return (int)((days_from_civil(2024, 12, 31) - first_report_day()) / 7 + 1);
}

static long
numeric_value(int col, int w, int m)
{
    switch (col) {
    case L_OI:
        return 500000L + 1000L * ((w + 7 * m) % 50);
    case L_NC_LONG:
        return 200000L + 100L * ((w * 7 + m) % 300);
    case L_NC_SHORT:
        return 150000L + 100L * ((w * 13 + 3 * m) % 250);
    case L_NC_SPREAD:
        return 12000L + m;
    case L_C_LONG:
        return 250000L + 10L * (w % 100);
    default: /* L_C_SHORT */
        return 260000L + 10L * (w % 90);
    }
}

/* The value of one column as Socrata prints it; false when it is null
 * (Socrata then omits the field). */
static bool
row_value(const struct dataset *ds, const struct row *r, int col, char *out, size_t cap)
{
    const struct market *mk = &markets[r->m];
    long day = first_report_day() + 7L * r->w;
    int y, mo, d;

    if (!ds->legacy)
        return false;
    civil_from_days(day, &y, &mo, &d);
    switch (col) {
    case L_ID:
        snprintf(out, cap, "%02d%02d%02d%s%s", y % 100, mo, d, mk->code, ds->suffix);
        return true;
    case L_NAMES:
        snprintf(out, cap, "%s", mk->names);
        return true;
    case L_DATE:
        snprintf(out, cap, "%04d-%02d-%02dT00:00:00.000", y, mo, d);
        return true;
    case L_WEEK: {
        /* Week n of the year holds days 7(n-1)+1 .. 7n: the first Tuesday is week 01. */
        long doy = day - days_from_civil(y, 1, 1) + 1;
        snprintf(out, cap, "%04d Report Week %02ld", y, (doy - 1) / 7 + 1);
        return true;
    }
    case L_CONTRACT: {
        const char *dash = strstr(mk->names, " - ");
        int n = dash != NULL ? (int)(dash - mk->names) : (int)strlen(mk->names);
        snprintf(out, cap, "%.*s", n, mk->names);
        return true;
    }
    case L_CODE:
        snprintf(out, cap, "%s", mk->code);
        return true;
    case L_MARKET:
        snprintf(out, cap, "%s", mk->mkt);
        return true;
    case L_FUTONLY:
        snprintf(out, cap, "%s", ds->futonly);
        return true;
    case L_C_SHORT:
        if (r->w % 52 == 10)
            return false;
        break;
    case L_OI:
    case L_NC_LONG:
    case L_NC_SHORT:
    case L_NC_SPREAD:
    case L_C_LONG:
        break;
    default:
        return false;
    }
    snprintf(out, cap, "%ld", numeric_value(col, r->w, r->m));
    return true;
}

/* ------------------------------------------------------------------ */
/* SoQL subset. Tokens are copied, NUL-terminated and unescaped, into an
 * arena inside struct soql, whose size the input caps bound. */

enum op { OP_EQ, OP_BETWEEN };

struct term {
    char *name; /* as written */
    int col;    /* resolved index, -1 before resolution */
    enum op op;
    const char *a, *b;
};

struct order_key {
    char *name;
    int col;
    bool desc;
};

struct soql {
    const char *where, *order, *limit_s, *offset_s; /* raw parameters, or NULL */
    bool malformed;                                 /* found while scanning parameters */
    struct term terms[TERMS_MAX];
    size_t nterms;
    struct order_key keys[ORDER_KEYS_MAX];
    size_t nkeys;
    long long limit, offset;
    const char *market; /* counter key, if a condition names a market */
    char *bad_column;
    char arena[ARENA_MAX];
    size_t arena_used;
};

enum qstatus { Q_OK, Q_MALFORMED, Q_NO_COLUMN };

enum tok { T_END, T_IDENT, T_QIDENT, T_STRING, T_EQ, T_COMMA, T_BAD };

struct lexer {
    const char *p;
    struct soql *q;
    char *text; /* of the last T_IDENT, T_QIDENT or T_STRING */
};

/* Room for n characters plus a NUL, or NULL. */
static char *
arena_take(struct soql *q, size_t n)
{
    if (n >= sizeof q->arena - q->arena_used)
        return NULL;
    char *p = q->arena + q->arena_used;
    q->arena_used += n + 1;
    p[n] = '\0';
    return p;
}

static char *
arena_copy(struct soql *q, const char *s, size_t n)
{
    char *p = arena_take(q, n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* 'text' with '' standing for one quote; lx->p is at the opening quote. */
static enum tok
lex_string(struct lexer *lx)
{
    const char *p = lx->p + 1;
    const char *s = p;
    size_t n = 0;

    for (;; s++, n++) {
        if (*s == '\0')
            return T_BAD;
        if (*s == '\'') {
            if (s[1] != '\'')
                break;
            s++;
        }
    }
    char *out = arena_take(lx->q, n);
    if (out == NULL)
        return T_BAD;
    for (size_t k = 0; k < n; k++) {
        if (*p == '\'')
            p++;
        out[k] = *p++;
    }
    lx->p = s + 1;
    lx->text = out;
    return T_STRING;
}

static enum tok
lex_next(struct lexer *lx)
{
    const char *p = lx->p;

    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    lx->p = p;
    if (*p == '\0')
        return T_END;
    if (*p == '=' || *p == ',') {
        lx->p = p + 1;
        return *p == '=' ? T_EQ : T_COMMA;
    }
    if (*p == '\'')
        return lex_string(lx);
    if (*p == '`') {
        const char *end = strchr(p + 1, '`');
        if (end == NULL || end == p + 1)
            return T_BAD;
        lx->text = arena_copy(lx->q, p + 1, (size_t)(end - p - 1));
        lx->p = end + 1;
        return lx->text != NULL ? T_QIDENT : T_BAD;
    }
    if (isalpha((unsigned char)*p) || *p == '_' || *p == ':') {
        size_t n = 1;
        while (isalnum((unsigned char)p[n]) || p[n] == '_')
            n++;
        lx->text = arena_copy(lx->q, p, n);
        lx->p = p + n;
        return lx->text != NULL ? T_IDENT : T_BAD;
    }
    return T_BAD;
}

static bool
is_keyword(enum tok t, const struct lexer *lx, const char *kw)
{
    return t == T_IDENT && strcasecmp(lx->text, kw) == 0;
}

/* A column reference: a backquoted name, or a bare one that is no keyword. */
static bool
is_column(enum tok t, const struct lexer *lx)
{
    return t == T_QIDENT ||
           (t == T_IDENT && !is_keyword(t, lx, "and") && !is_keyword(t, lx, "between"));
}

static struct term *
term_add(struct soql *q, char *name, enum op op, const char *a, const char *b)
{
    if (q->nterms >= TERMS_MAX)
        return NULL;
    struct term *t = &q->terms[q->nterms++];
    *t = (struct term){.name = name, .col = -1, .op = op, .a = a, .b = b};
    return t;
}

/* cond {AND cond}, cond = col '=' str | col BETWEEN str AND str */
static bool
parse_where(struct soql *q, const char *s)
{
    struct lexer lx = {.p = s, .q = q};

    if (strlen(s) > WHERE_MAX)
        return false;
    for (;;) {
        enum tok t = lex_next(&lx);
        if (!is_column(t, &lx))
            return false;
        char *name = lx.text;
        const char *a, *b = NULL;
        enum op op;
        t = lex_next(&lx);
        if (t == T_EQ) {
            op = OP_EQ;
            if (lex_next(&lx) != T_STRING)
                return false;
            a = lx.text;
        } else if (is_keyword(t, &lx, "between")) {
            op = OP_BETWEEN;
            if (lex_next(&lx) != T_STRING)
                return false;
            a = lx.text;
            t = lex_next(&lx);
            if (!is_keyword(t, &lx, "and") || lex_next(&lx) != T_STRING)
                return false;
            b = lx.text;
        } else {
            return false;
        }
        if (term_add(q, name, op, a, b) == NULL)
            return false;
        t = lex_next(&lx);
        if (t == T_END)
            return true;
        if (!is_keyword(t, &lx, "and"))
            return false;
    }
}

/* col [ASC|DESC] {, col [ASC|DESC]} */
static bool
parse_order(struct soql *q, const char *s)
{
    struct lexer lx = {.p = s, .q = q};

    if (strlen(s) > ORDER_MAX)
        return false;
    for (;;) {
        enum tok t = lex_next(&lx);
        if ((t != T_IDENT && t != T_QIDENT) || q->nkeys >= ORDER_KEYS_MAX)
            return false;
        struct order_key *k = &q->keys[q->nkeys++];
        *k = (struct order_key){.name = lx.text, .col = -1};
        t = lex_next(&lx);
        if (is_keyword(t, &lx, "asc") || is_keyword(t, &lx, "desc")) {
            k->desc = is_keyword(t, &lx, "desc");
            t = lex_next(&lx);
        }
        if (t == T_END)
            return true;
        if (t != T_COMMA)
            return false;
    }
}

/* Digits only: strtoll alone would accept spaces, signs and "12abc". */
static bool
parse_count(const char *s, long long lo, long long hi, long long *out)
{
    if (s[0] < '0' || s[0] > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

struct scan {
    struct soql *q;
    const struct dataset *ds;
};

/* Keeps the first occurrence; a repeated or value-less parameter is malformed. */
static void
take_param(struct soql *q, const char **slot, const char *value)
{
    if (*slot != NULL || value == NULL)
        q->malformed = true;
    else
        *slot = value;
}

static enum MHD_Result
scan_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct scan *sc = cls;
    struct soql *q = sc->q;

    (void)kind;
    if (key == NULL)
        return MHD_YES;
    if (strcmp(key, "$where") == 0) {
        take_param(q, &q->where, value);
    } else if (strcmp(key, "$order") == 0) {
        take_param(q, &q->order, value);
    } else if (strcmp(key, "$limit") == 0) {
        take_param(q, &q->limit_s, value);
    } else if (strcmp(key, "$offset") == 0) {
        take_param(q, &q->offset_s, value);
    } else if (strcmp(key, "$$app_token") == 0) {
        /* no auth in the fake */
    } else if (key[0] == '$') {
        q->malformed = true; /* $select, $q, $group, ...: not served */
    } else if (column_find(sc->ds, key) >= 0) {
        /* A simple filter ?col=value is an equality condition. */
        char *name = arena_copy(q, key, strlen(key));
        if (name == NULL || term_add(q, name, OP_EQ, value != NULL ? value : "", NULL) == NULL)
            q->malformed = true;
    }
    /* Other plain parameters are ignored. */
    return MHD_YES;
}

/* Syntax of every parameter; true if all parse. */
static bool
soql_syntax(struct MHD_Connection *con, const struct dataset *ds, enum mode mode, struct soql *q)
{
    struct scan sc = {.q = q, .ds = ds};

    MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, scan_arg, &sc);
    if (q->malformed)
        return false;
    if (q->where != NULL && !parse_where(q, q->where))
        return false;
    if (q->order != NULL && !parse_order(q, q->order))
        return false;
    q->limit = SODA_LIMIT_DEFAULT;
    q->offset = 0;
    if (q->limit_s != NULL && !parse_count(q->limit_s, 0, SODA_LIMIT_MAX, &q->limit))
        return false;
    if (q->offset_s != NULL && !parse_count(q->offset_s, 0, LLONG_MAX, &q->offset))
        return false;
    /* "paged" forces clients to follow $offset instead of one big page. */
    if (mode == MODE_PAGED && q->limit > PAGED_LIMIT_MAX)
        q->limit = PAGED_LIMIT_MAX;
    return true;
}

static bool
literal_ok(enum col_type type, const char *lit)
{
    if (type == TY_TIMESTAMP)
        return valid_timestamp(lit);
    if (type == TY_NUMBER)
        return valid_number(lit);
    return true;
}

/* Resolve a column name; on failure record it for the error message. */
static bool
resolve(const struct dataset *ds, struct soql *q, char *name, int *col)
{
    *col = column_find(ds, name);
    if (*col >= 0)
        return true;
    q->bad_column = name;
    return false;
}

static enum qstatus
soql_parse(struct MHD_Connection *con, const struct dataset *ds, enum mode mode, struct soql *q)
{
    if (!soql_syntax(con, ds, mode, q))
        return Q_MALFORMED;
    for (size_t i = 0; i < q->nterms; i++) {
        const struct term *t = &q->terms[i];
        if (q->market == NULL && t->op == OP_EQ && strcasecmp(t->name, MARKET_COLUMN) == 0)
            q->market = t->a;
    }
    for (size_t i = 0; i < q->nterms; i++) {
        struct term *t = &q->terms[i];
        if (!resolve(ds, q, t->name, &t->col))
            return Q_NO_COLUMN;
        enum col_type type = ds->cols[t->col].type;
        if (!literal_ok(type, t->a) || (t->b != NULL && !literal_ok(type, t->b)))
            return Q_MALFORMED;
    }
    for (size_t i = 0; i < q->nkeys; i++) {
        if (!resolve(ds, q, q->keys[i].name, &q->keys[i].col))
            return Q_NO_COLUMN;
    }
    return Q_OK;
}

/* ------------------------------------------------------------------ */
/* Evaluation: filter, stable sort, page. */

static int
value_cmp(enum col_type type, const char *v, const char *lit)
{
    if (type == TY_NUMBER) {
        double x = strtod(v, NULL), y = strtod(lit, NULL);
        return (x > y) - (x < y);
    }
    if (type == TY_TIMESTAMP)
        return strncmp(v, lit, 10); /* both start with a valid YYYY-MM-DD */
    return strcmp(v, lit);
}

/* Null (an omitted field) matches no condition. */
static bool
row_matches(const struct dataset *ds, const struct soql *q, const struct row *r)
{
    char v[VALUE_MAX];

    for (size_t i = 0; i < q->nterms; i++) {
        const struct term *t = &q->terms[i];
        enum col_type type = ds->cols[t->col].type;
        if (!row_value(ds, r, t->col, v, sizeof v))
            return false;
        if (t->op == OP_EQ && value_cmp(type, v, t->a) != 0)
            return false;
        if (t->op == OP_BETWEEN && (value_cmp(type, v, t->a) < 0 || value_cmp(type, v, t->b) > 0))
            return false;
    }
    return true;
}

struct sort_ctx {
    const struct dataset *ds;
    const struct soql *q;
};

/* Nulls sort last ascending and first descending, as in PostgreSQL. */
static int
row_cmp(const struct sort_ctx *c, const struct row *x, const struct row *y)
{
    char a[VALUE_MAX], b[VALUE_MAX];

    for (size_t i = 0; i < c->q->nkeys; i++) {
        const struct order_key *k = &c->q->keys[i];
        bool ha = row_value(c->ds, x, k->col, a, sizeof a);
        bool hb = row_value(c->ds, y, k->col, b, sizeof b);
        int r;
        if (ha && hb)
            r = value_cmp(c->ds->cols[k->col].type, a, b);
        else
            r = ha == hb ? 0 : (ha ? -1 : 1);
        if (k->desc)
            r = -r;
        if (r != 0)
            return r;
    }
    return 0;
}

/* Bottom-up merge sort: stable, so ties keep the natural order (report
 * date, then market code). tmp has room for n rows. */
static void
rows_sort(struct row *v, struct row *tmp, size_t n, const struct sort_ctx *c)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = row_cmp(c, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
            while (i < mid)
                tmp[k++] = v[i++];
            while (j < hi)
                tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
}

static void
render_row(struct buf *b, const struct dataset *ds, const struct row *r)
{
    char v[VALUE_MAX];
    bool first = true;

    buf_puts(b, "{");
    for (size_t c = 0; c < ds->ncols; c++) {
        if (!row_value(ds, r, (int)c, v, sizeof v))
            continue;
        buf_printf(b, "%s\"%s\":", first ? "" : ",", ds->cols[c].name);
        buf_json_string(b, v, sizeof v);
        first = false;
    }
    buf_puts(b, "}");
}

/* Fills b with the JSON array; false if out of memory. */
static bool
soda_rows(struct buf *b, const struct dataset *ds, const struct soql *q)
{
    size_t cap = ds->legacy ? (size_t)weeks_total() * N_MARKETS : 0;
    struct row *rows = NULL, *tmp = NULL;
    size_t n = 0;

    if (cap > 0) {
        rows = malloc(sizeof *rows * cap);
        tmp = malloc(sizeof *tmp * cap);
        if (rows == NULL || tmp == NULL) {
            free(rows);
            free(tmp);
            return false;
        }
    }
    for (int w = 0; (size_t)w * N_MARKETS < cap; w++) {
        for (int k = 0; k < N_MARKETS; k++) {
            struct row r = {.w = w, .m = market_by_code[k]};
            if (row_matches(ds, q, &r))
                rows[n++] = r;
        }
    }
    struct sort_ctx c = {.ds = ds, .q = q};
    if (q->nkeys > 0)
        rows_sort(rows, tmp, n, &c);
    /* Paging applies after sorting; the offset may pass the end. */
    unsigned long long start = (unsigned long long)q->offset < n ? (unsigned long long)q->offset : n;
    unsigned long long stop = start + ((unsigned long long)q->limit < n - start
                                           ? (unsigned long long)q->limit
                                           : n - start);
    buf_puts(b, "[");
    for (unsigned long long i = start; i < stop; i++) {
        if (i > start)
            buf_puts(b, ",");
        render_row(b, ds, &rows[i]);
    }
    buf_puts(b, "]");
    free(rows);
    free(tmp);
    return true;
}

/* ------------------------------------------------------------------ */
/* Request counters, keyed by (mode, key). A fixed table keeps memory
 * bounded whatever clients send; when it is full, new keys go
 * uncounted (hit number 0), which "once" modes treat as "not first". */

struct counter {
    enum mode mode;
    char key[COUNTER_KEY_MAX];
    unsigned long hits;
};

static struct counter counters[COUNTER_SLOTS];
static size_t counters_used;
static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;

/* Long keys are cut to fit; only absurd market codes can collide. */
static void
counter_key(char out[COUNTER_KEY_MAX], const char *key)
{
    size_t n = strnlen(key, COUNTER_KEY_MAX - 1);
    memcpy(out, key, n);
    out[n] = '\0';
}

/* Caller holds counters_lock. */
static struct counter *
counter_find(enum mode mode, const char *key)
{
    for (size_t i = 0; i < counters_used; i++) {
        if (counters[i].mode == mode && strcmp(counters[i].key, key) == 0)
            return &counters[i];
    }
    return NULL;
}

/* Count one request; returns its number (1 for the first), 0 if full. */
static unsigned long
counter_hit(enum mode mode, const char *raw_key)
{
    char key[COUNTER_KEY_MAX];
    unsigned long hits = 0;

    counter_key(key, raw_key);
    pthread_mutex_lock(&counters_lock);
    struct counter *c = counter_find(mode, key);
    if (c == NULL && counters_used < COUNTER_SLOTS) {
        c = &counters[counters_used++];
        c->mode = mode;
        memcpy(c->key, key, sizeof c->key);
        c->hits = 0;
    }
    if (c != NULL)
        hits = ++c->hits;
    pthread_mutex_unlock(&counters_lock);
    return hits;
}

static unsigned long
counter_get(enum mode mode, const char *raw_key)
{
    char key[COUNTER_KEY_MAX];
    unsigned long hits = 0;

    counter_key(key, raw_key);
    pthread_mutex_lock(&counters_lock);
    const struct counter *c = counter_find(mode, key);
    if (c != NULL)
        hits = c->hits;
    pthread_mutex_unlock(&counters_lock);
    return hits;
}

/* ------------------------------------------------------------------ */
/* A reply is either a static text or a built body, plus status and type. */

struct reply {
    unsigned status;
    const char *ctype;
    const char *text; /* static body; NULL means use body */
    struct buf body;
    bool retry_after;
    const struct dataset *soda; /* set: add the X-SODA2-* headers */
};

static void
reply_text(struct reply *r, unsigned status, const char *ctype, const char *text)
{
    buf_release(&r->body);
    r->status = status;
    r->ctype = ctype;
    r->text = text;
    r->soda = NULL;
}

static struct MHD_Response *
reply_response(struct reply *r)
{
    if (r->text != NULL) {
        buf_release(&r->body); /* a static text wins over any partial body */
        return MHD_create_response_from_buffer(strlen(r->text), (void *)r->text,
                                               MHD_RESPMEM_PERSISTENT);
    }
    size_t len = r->body.len;
    char *data = buf_detach(&r->body);
    if (data == NULL)
        return NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, data, free);
    if (resp == NULL)
        free(data);
    return resp;
}

/* X-SODA2-Fields and X-SODA2-Types: JSON arrays of the dataset's columns. */
static bool
add_soda_headers(struct MHD_Response *resp, const struct dataset *ds)
{
    struct buf fields = {0}, types = {0};

    buf_puts(&fields, "[");
    buf_puts(&types, "[");
    for (size_t i = 0; i < ds->ncols; i++) {
        buf_printf(&fields, "%s\"%s\"", i ? "," : "", ds->cols[i].name);
        buf_printf(&types, "%s\"%s\"", i ? "," : "", type_names[ds->cols[i].type]);
    }
    buf_puts(&fields, "]");
    buf_puts(&types, "]");
    bool ok = !fields.failed && !types.failed &&
              MHD_add_response_header(resp, "X-SODA2-Fields", fields.data) == MHD_YES &&
              MHD_add_response_header(resp, "X-SODA2-Types", types.data) == MHD_YES;
    buf_release(&fields);
    buf_release(&types);
    return ok;
}

static enum MHD_Result
reply_send(struct MHD_Connection *con, struct reply *r)
{
    if (r->text == NULL && r->body.failed)
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_TEXT,
                   "fake_cftc: body too large or out of memory\n");
    struct MHD_Response *resp = reply_response(r);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (r->soda != NULL && !add_soda_headers(resp, r->soda)) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(con, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ------------------------------------------------------------------ */
/* The resource endpoint and the scenarios. */

static void
soda_error(struct soql *q, enum qstatus st, struct reply *r)
{
    if (st == Q_MALFORMED) {
        reply_text(r, MHD_HTTP_BAD_REQUEST, CT_JSON, SODA_MALFORMED_BODY);
        return;
    }
    /* Socrata names columns in lower case. */
    for (char *p = q->bad_column; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    r->status = MHD_HTTP_BAD_REQUEST;
    r->ctype = CT_JSON;
    buf_puts(&r->body, "{\"code\":\"query.soql.no-such-column\",\"error\":true,\"message\":");
    size_t n = strlen(q->bad_column);
    struct buf msg = {0};
    buf_printf(&msg, "No such column: %.*s", (int)(n < COLUMN_ECHO_MAX ? n : COLUMN_ECHO_MAX),
               q->bad_column);
    if (msg.failed)
        r->body.failed = true;
    else
        buf_json_string(&r->body, msg.data, msg.len);
    buf_release(&msg);
    buf_puts(&r->body, "}");
}

/* Failures that replace the answer; true if one applied. */
static bool
mode_failure(enum mode mode, unsigned long hits, struct reply *r)
{
    if (mode == MODE_429ONCE && hits == 1) {
        reply_text(r, MHD_HTTP_TOO_MANY_REQUESTS, CT_JSON, SODA_429_BODY);
        r->retry_after = true;
        return true;
    }
    if (mode == MODE_202ONCE && hits == 1) {
        reply_text(r, MHD_HTTP_ACCEPTED, CT_JSON, SODA_202_BODY);
        return true;
    }
    if (mode == MODE_500ONCE && hits == 1) {
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_JSON, SODA_500_BODY);
        return true;
    }
    if (mode == MODE_HTML) {
        reply_text(r, MHD_HTTP_OK, CT_HTML, HTML_MAINT);
        return true;
    }
    if (mode == MODE_FORBIDDEN) {
        reply_text(r, MHD_HTTP_FORBIDDEN, CT_HTML, HTML_DENIED);
        return true;
    }
    return false;
}

/* Sleep in short steps so a stop signal is not held up by a slow reply. */
static void
slow_sleep(void)
{
    struct timespec step = {.tv_sec = 0, .tv_nsec = 100L * 1000L * 1000L};

    for (int i = 0; i < SLOW_SECONDS * 10 && !atomic_load(&stopping); i++)
        nanosleep(&step, NULL);
}

static void
serve_resource(struct MHD_Connection *con, enum mode mode, const struct dataset *ds,
               struct reply *r)
{
    struct soql *q = calloc(1, sizeof *q);

    if (q == NULL) {
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_TEXT, "fake_cftc: out of memory\n");
        return;
    }
    enum qstatus st = soql_parse(con, ds, mode, q);
    unsigned long hits = counter_hit(mode, q->market != NULL ? q->market : KEY_ALL);
    if (!mode_failure(mode, hits, r)) {
        if (mode == MODE_SLOW)
            slow_sleep();
        if (st != Q_OK) {
            soda_error(q, st, r);
        } else {
            r->status = MHD_HTTP_OK;
            r->ctype = CT_JSON;
            r->soda = ds;
            if (!soda_rows(&r->body, ds, q))
                r->body.failed = true;
        }
        /* Cut only good bodies: a truncated error would test nothing useful. */
        if (mode == MODE_TRUNCATED && r->status == MHD_HTTP_OK && !r->body.failed)
            r->body.len /= 2;
    }
    free(q);
}

static void
serve_stats(struct MHD_Connection *con, struct reply *r)
{
    const char *mode_s = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "mode");
    const char *key = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "key");

    if (mode_s == NULL || key == NULL) {
        reply_text(r, MHD_HTTP_BAD_REQUEST, CT_TEXT, "stats needs mode and key\n");
        return;
    }
    for (int m = 0; m < MODE__COUNT; m++) {
        if (strcmp(mode_names[m], mode_s) == 0) {
            r->status = MHD_HTTP_OK;
            r->ctype = CT_TEXT;
            buf_printf(&r->body, "%lu", counter_get((enum mode)m, key));
            return;
        }
    }
    /* An error, not "0": a typo in a test must not pass as "no retries". */
    reply_text(r, MHD_HTTP_BAD_REQUEST, CT_TEXT, "unknown mode\n");
}

/* Mode named by the segment [seg, seg + len), or -1. */
static int
mode_lookup(const char *seg, size_t len)
{
    for (int m = 0; m < MODE__COUNT; m++) {
        if (strlen(mode_names[m]) == len && memcmp(mode_names[m], seg, len) == 0)
            return m;
    }
    return -1;
}

static void
route(struct MHD_Connection *con, const char *url, const char *method, struct reply *r)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        reply_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT, "method not allowed\n");
        return;
    }
    if (strcmp(url, "/stats") == 0) {
        serve_stats(con, r);
        return;
    }
    const char *seg = strncmp(url, "/m/", 3) == 0 ? url + 3 : NULL;
    size_t len = seg != NULL ? strcspn(seg, "/") : 0;
    int mode = seg != NULL ? mode_lookup(seg, len) : -1;
    if (mode < 0 || strncmp(seg + len, RESOURCE_PREFIX, strlen(RESOURCE_PREFIX)) != 0) {
        reply_text(r, MHD_HTTP_NOT_FOUND, CT_TEXT, "not found\n");
        return;
    }
    const struct dataset *ds = dataset_find(seg + len + strlen(RESOURCE_PREFIX));
    if (ds == NULL) {
        reply_text(r, MHD_HTTP_NOT_FOUND, CT_JSON, SODA_404_BODY);
        return;
    }
    serve_resource(con, (enum mode)mode, ds, r);
}

static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **con_cls)
{
    static int seen; /* marks a request whose headers have arrived */
    struct reply r = {0};

    (void)cls;
    (void)version;
    (void)upload_data;
    /* Answering on the first call would stop MHD from reading a request body
     * and break keep-alive; so the first call only marks the request. */
    if (*con_cls == NULL) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* no endpoint takes a body: discard it */
        return MHD_YES;
    }
    route(con, url, method, &r);
    return reply_send(con, &r);
}

/* ------------------------------------------------------------------ */

static struct MHD_Daemon *
start_daemon(void)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)30, MHD_OPTION_END);
}

/* Write through a temporary file so readers see the whole number or none. */
static int
write_port_file(const char *path, unsigned port)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof ".tmp");
    if (tmp == NULL)
        return -1;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", sizeof ".tmp");
    int rc = -1;
    FILE *f = fopen(tmp, "w");
    if (f != NULL) {
        bool ok = fprintf(f, "%u\n", port) > 0;
        ok = fclose(f) == 0 && ok;
        if (ok && rename(tmp, path) == 0)
            rc = 0;
        else
            remove(tmp);
    }
    if (rc != 0)
        fprintf(stderr, "fake_cftc: cannot write port file '%s': %s\n", path, strerror(errno));
    free(tmp);
    return rc;
}

int
main(int argc, char **argv)
{
    sigset_t stop_set;
    int sig;

    if (argc != 2) {
        fprintf(stderr, "usage: fake_cftc PORT_FILE\n");
        return 2;
    }
    /* Block the stop signals before MHD starts its threads, so they inherit
     * the mask and only sigwait() below ever receives them. */
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill us */

    struct MHD_Daemon *d = start_daemon();
    if (d == NULL) {
        fprintf(stderr, "fake_cftc: cannot start HTTP server on 127.0.0.1\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0 || write_port_file(argv[1], info->port) != 0) {
        MHD_stop_daemon(d);
        return 1;
    }
    while (sigwait(&stop_set, &sig) != 0)
        ;
    atomic_store(&stopping, true);
    MHD_stop_daemon(d);
    return 0;
}
