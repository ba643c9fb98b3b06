/*
 * fake_feeds: a fake HTTP server for two market-data services, so that
 * integration tests can drive the real libcurl clients over loopback:
 *
 *   FRED   GET /m/<mode>/fred/series/observations?series_id=..&api_key=..
 *   CBOE   GET /m/<mode>/api/global/us_indices/daily_prices/VIX_History.csv
 *   stats  GET /stats?mode=<mode>&key=<series_id or "vix">  -> request count
 *
 * Usage: fake_feeds PORT_FILE
 *   Binds 127.0.0.1 on an ephemeral port, writes "<port>\n" to PORT_FILE
 *   (through PORT_FILE.tmp + rename, so a poller never reads half a
 *   number), serves until SIGTERM or SIGINT, then exits 0.
 *
 * Wire formats follow ../shared/docs/external-apis.md, sections 2 and 4.
 *
 * DESIGN
 * - The <mode> path segment picks a scenario (see mode_names[]), so one
 *   server instance serves every scenario and tests need no control API.
 * - All data is a pure function of the date (sines of the day number), so
 *   tests can recompute any expected value; the only state is the request
 *   counter table, which "once" modes and /stats read.
 * - Each response is built whole in a capped growable buffer and handed to
 *   MHD, which frees it. Memory per request is therefore bounded.
 * - Thread per connection: "slow" just sleeps in its own thread and does
 *   not hold up other clients.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_MAX          (8u * 1024u * 1024u) /* the largest body is ~0.6 MB */
#define COUNTER_SLOTS     512
#define COUNTER_KEY_MAX   64
#define SLOW_SECONDS      5
#define PAGED_LIMIT_MAX   1000LL
#define FRED_LIMIT_MAX    100000LL
#define FRED_API_KEY      "abcdefghijklmnopqrstuvwxyz012345"
#define FRED_PATH         "/fred/series/observations"
#define CBOE_PATH         "/api/global/us_indices/daily_prices/VIX_History.csv"
#define CBOE_KEY          "vix"
#define REALTIME_DAY      "2024-06-03"
#define DEFAULT_START     "1776-07-04"
#define DEFAULT_END       "9999-12-31"

#define CT_JSON "application/json"
#define CT_CSV  "text/csv"
#define CT_HTML "text/html"
#define CT_TEXT "text/plain"

#define MSG_KEY_UNSET   "Bad Request.  Variable api_key is not set."
#define MSG_KEY_BAD     "Bad Request.  The value for variable api_key is not registered."
#define MSG_ID_REQUIRED "Bad Request.  Variable series_id is required."
#define MSG_NO_SERIES   "Bad Request.  The series does not exist."
#define MSG_JSON_ONLY   "Bad Request.  This fake serves file_type=json only."
#define MSG_BAD_START   "Bad Request.  Variable observation_start is not in YYYY-MM-DD format."
#define MSG_BAD_END     "Bad Request.  Variable observation_end is not in YYYY-MM-DD format."
#define MSG_BAD_SORT    "Bad Request.  Variable sort_order is not one of the values: 'asc', 'desc'"
#define MSG_BAD_LIMIT   "Bad Request.  Variable limit is not an integer between 1 and 100000."
#define MSG_BAD_OFFSET  "Bad Request.  Variable offset is not a non-negative integer."

#define FRED_429_BODY "{\"error_code\":429,\"error_message\":\"Too Many Requests.  Exceeded Rate Limit\"}"
#define FRED_500_BODY "{\"error_code\":500,\"error_message\":\"Internal Server Error\"}"
#define HTML_MAINT \
    "<html><head><title>Service Unavailable</title></head><body><h1>Maintenance</h1></body></html>"
#define HTML_DENIED "<html><body><h1>Access Denied</h1></body></html>"

enum mode {
    MODE_OK,
    MODE_429ONCE,
    MODE_500ONCE,
    MODE_500ALWAYS,
    MODE_SLOW,
    MODE_TRUNCATED,
    MODE_HTML,
    MODE_FORBIDDEN,
    MODE_PAGED,
    MODE_BOM,        /* the modes from here on change only the CBOE file */
    MODE_HEADERONLY,
    MODE_DUP,
    MODE_UNORDERED,
    MODE_NONEWLINE,
    MODE__COUNT
};

static const char *const mode_names[MODE__COUNT] = {
    [MODE_OK] = "ok",
    [MODE_429ONCE] = "429once",
    [MODE_500ONCE] = "500once",
    [MODE_500ALWAYS] = "500always",
    [MODE_SLOW] = "slow",
    [MODE_TRUNCATED] = "truncated",
    [MODE_HTML] = "html",
    [MODE_FORBIDDEN] = "forbidden",
    [MODE_PAGED] = "paged",
    [MODE_BOM] = "bom",
    [MODE_HEADERONLY] = "headeronly",
    [MODE_DUP] = "dup",
    [MODE_UNORDERED] = "unordered",
    [MODE_NONEWLINE] = "nonewline",
};

enum service { SVC_FRED, SVC_CBOE };

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

static bool
is_weekday(long day)
{
    long wd = ((day % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
    return wd >= 1 && wd <= 5;
}

static int
two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Strict YYYY-MM-DD with a real calendar day. */
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

/* Long keys are cut to fit; only absurd series ids can collide. */
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
};

static void
reply_text(struct reply *r, unsigned status, const char *ctype, const char *text)
{
    buf_release(&r->body);
    r->status = status;
    r->ctype = ctype;
    r->text = text;
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

static enum MHD_Result
reply_send(struct MHD_Connection *con, struct reply *r)
{
    if (r->text == NULL && r->body.failed)
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_TEXT,
                   "fake_feeds: body too large or out of memory\n");
    struct MHD_Response *resp = reply_response(r);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result ret = MHD_queue_response(con, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static const char *
query_arg(struct MHD_Connection *con, const char *name)
{
    return MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, name);
}

/* Like query_arg, but an empty value counts as absent. */
static const char *
query_arg_set(struct MHD_Connection *con, const char *name)
{
    const char *v = query_arg(con, name);
    return v != NULL && *v != '\0' ? v : NULL;
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

/* ------------------------------------------------------------------ */
/* sin() without libm, because the fake's build line links no -lm.
 * Arguments here stay below 200, where this is within an ulp or two of
 * libm, so the printed 2- and 6-decimal values match a libm recompute. */

static double
poly_sin(double r) /* |r| <= pi/4: Taylor series to r^17 */
{
    double r2 = r * r;
    double p = 1.0 / 355687428096000.0;
    p = 1.0 / 1307674368000.0 - r2 * p;
    p = 1.0 / 6227020800.0 - r2 * p;
    p = 1.0 / 39916800.0 - r2 * p;
    p = 1.0 / 362880.0 - r2 * p;
    p = 1.0 / 5040.0 - r2 * p;
    p = 1.0 / 120.0 - r2 * p;
    p = 1.0 / 6.0 - r2 * p;
    return r - r * r2 * p;
}

static double
poly_cos(double r) /* |r| <= pi/4: Taylor series to r^18 */
{
    double r2 = r * r;
    double p = 1.0 / 6402373705728000.0;
    p = 1.0 / 20922789888000.0 - r2 * p;
    p = 1.0 / 87178291200.0 - r2 * p;
    p = 1.0 / 479001600.0 - r2 * p;
    p = 1.0 / 3628800.0 - r2 * p;
    p = 1.0 / 40320.0 - r2 * p;
    p = 1.0 / 720.0 - r2 * p;
    p = 1.0 / 24.0 - r2 * p;
    p = 0.5 - r2 * p;
    return 1.0 - r2 * p;
}

static double
fake_sin(double x)
{
    /* pi/2 split as in fdlibm: the head has 33 bits, so n * PIO2_HI is
     * exact and the reduction loses nothing for |n| < 2^20. */
    const double PIO2_HI = 1.57079632673412561417e+00;
    const double PIO2_LO = 6.07710050650619224932e-11;
    const double INV_PIO2 = 6.36619772367581382433e-01;
    long long n = (long long)(x * INV_PIO2 + (x >= 0.0 ? 0.5 : -0.5));
    double r = (x - (double)n * PIO2_HI) - (double)n * PIO2_LO;

    switch (n & 3) {
    case 0:
        return poly_sin(r);
    case 1:
        return poly_cos(r);
    case 2:
        return -poly_sin(r);
    default:
        return -poly_cos(r);
    }
}

/* ------------------------------------------------------------------ */
/* FRED series: deterministic values; k = days since 2000-01-01. */

enum freq { FREQ_DAILY, FREQ_MONTHLY };

struct series {
    const char *id;
    enum freq freq;
    double (*value)(double k);
};

static double v_dgs10(double k) { return 4.0 + fake_sin(k / 200.0); }
static double v_dgs2(double k) { return 3.0 + fake_sin(k / 150.0); }
static double v_dgs3mo(double k) { return 2.0 + fake_sin(k / 100.0); }
static double v_t10y2y(double k) { return v_dgs10(k) - v_dgs2(k); }
static double v_hy_oas(double k) { return 5.0 + 2.0 * fake_sin(k / 300.0); }
static double v_vixcls(double k) { return 20.0 + 8.0 * fake_sin(k / 90.0); }
static double v_fedfunds(double k) { return 2.0 + fake_sin(k / 400.0); }
static double v_cpi(double k) { return 170.0 + 0.01 * k; }
static double v_unrate(double k) { return 5.0 + fake_sin(k / 500.0); }

static const struct series series_table[] = {
    {"DGS10", FREQ_DAILY, v_dgs10},
    {"DGS2", FREQ_DAILY, v_dgs2},
    {"DGS3MO", FREQ_DAILY, v_dgs3mo},
    {"T10Y2Y", FREQ_DAILY, v_t10y2y},
    {"BAMLH0A0HYM2", FREQ_DAILY, v_hy_oas},
    {"VIXCLS", FREQ_DAILY, v_vixcls},
    {"FEDFUNDS", FREQ_MONTHLY, v_fedfunds},
    {"CPIAUCSL", FREQ_MONTHLY, v_cpi},
    {"UNRATE", FREQ_MONTHLY, v_unrate},
};

static const struct series *
series_find(const char *id)
{
    for (size_t i = 0; i < sizeof series_table / sizeof series_table[0]; i++) {
        if (strcmp(series_table[i].id, id) == 0)
            return &series_table[i];
    }
    return NULL;
}

struct fred_query {
    const struct series *series;
    const char *start_s, *end_s; /* echoed in the envelope, as given */
    long start, end;
    bool desc;
    long long limit, offset;
};

/* Each check returns NULL or the FRED error message for a 400. */
static const char *
fred_check_identity(struct MHD_Connection *con, struct fred_query *q)
{
    const char *key = query_arg_set(con, "api_key");
    if (key == NULL)
        return MSG_KEY_UNSET;
    if (strcmp(key, FRED_API_KEY) != 0)
        return MSG_KEY_BAD;
    const char *id = query_arg_set(con, "series_id");
    if (id == NULL)
        return MSG_ID_REQUIRED;
    /* Absent file_type means FRED's default, XML, which we do not serve. */
    const char *ft = query_arg(con, "file_type");
    if (ft == NULL || strcmp(ft, "json") != 0)
        return MSG_JSON_ONLY;
    q->series = series_find(id);
    return q->series == NULL ? MSG_NO_SERIES : NULL;
}

static const char *
fred_check_dates(struct MHD_Connection *con, struct fred_query *q)
{
    const char *s = query_arg_set(con, "observation_start");
    const char *e = query_arg_set(con, "observation_end");
    q->start_s = s != NULL ? s : DEFAULT_START;
    q->end_s = e != NULL ? e : DEFAULT_END;
    if (!parse_ymd(q->start_s, &q->start))
        return MSG_BAD_START;
    if (!parse_ymd(q->end_s, &q->end))
        return MSG_BAD_END;
    return NULL;
}

static const char *
fred_check_paging(struct MHD_Connection *con, enum mode mode, struct fred_query *q)
{
    const char *sort = query_arg_set(con, "sort_order");
    const char *limit = query_arg_set(con, "limit");
    const char *offset = query_arg_set(con, "offset");

    if (sort != NULL && strcmp(sort, "asc") != 0 && strcmp(sort, "desc") != 0)
        return MSG_BAD_SORT;
    q->desc = sort != NULL && strcmp(sort, "desc") == 0;
    q->limit = FRED_LIMIT_MAX;
    q->offset = 0;
    if (limit != NULL && !parse_count(limit, 1, FRED_LIMIT_MAX, &q->limit))
        return MSG_BAD_LIMIT;
    if (offset != NULL && !parse_count(offset, 0, LLONG_MAX, &q->offset))
        return MSG_BAD_OFFSET;
    /* "paged" forces clients to follow offset/count instead of one big page. */
    if (mode == MODE_PAGED && q->limit > PAGED_LIMIT_MAX)
        q->limit = PAGED_LIMIT_MAX;
    return NULL;
}

static const char *
fred_parse(struct MHD_Connection *con, enum mode mode, struct fred_query *q)
{
    const char *msg = fred_check_identity(con, q);
    if (msg == NULL)
        msg = fred_check_dates(con, q);
    if (msg == NULL)
        msg = fred_check_paging(con, mode, q);
    return msg;
}

/* Observation days of the series inside [start, end], ascending.
 * Returns the count, or -1 if out of memory; caller frees *out. */
static long
fred_collect(const struct fred_query *q, long **out)
{
    long first, last;

    if (q->series->freq == FREQ_DAILY) {
        first = days_from_civil(2000, 1, 3);
        last = days_from_civil(2024, 12, 31);
    } else {
        first = days_from_civil(2000, 1, 1);
        last = days_from_civil(2024, 12, 1);
    }
    long *days = malloc(sizeof *days * (size_t)(last - first + 1));
    if (days == NULL)
        return -1;
    long n = 0;
    long from = q->start > first ? q->start : first;
    long to = q->end < last ? q->end : last;
    for (long d = from; d <= to; d++) {
        int y, m, dd;
        civil_from_days(d, &y, &m, &dd);
        bool wanted = q->series->freq == FREQ_DAILY ? is_weekday(d) : dd == 1;
        if (wanted)
            days[n++] = d;
    }
    *out = days;
    return n;
}

/* Daily series have no value on these fixed-date holidays, as in FRED. */
static bool
fred_is_missing(const struct series *s, long day)
{
    int y, m, d;

    if (s->freq != FREQ_DAILY)
        return false;
    civil_from_days(day, &y, &m, &d);
    return (m == 1 && d == 1) || (m == 7 && d == 4) || (m == 12 && d == 25);
}

static void
fred_observation(struct buf *b, const struct series *s, long day, bool comma)
{
    int y, m, d;

    civil_from_days(day, &y, &m, &d);
    buf_printf(b,
               "%s{\"realtime_start\":\"" REALTIME_DAY "\",\"realtime_end\":\"" REALTIME_DAY
               "\",\"date\":\"%04d-%02d-%02d\",\"value\":",
               comma ? "," : "", y, m, d);
    if (fred_is_missing(s, day))
        buf_puts(b, "\".\"}");
    else
        buf_printf(b, "\"%.2f\"}", s->value((double)(day - days_from_civil(2000, 1, 1))));
}

static void
fred_render(struct buf *b, const struct fred_query *q, const long *days, long n)
{
    buf_printf(b,
               "{\"realtime_start\":\"" REALTIME_DAY "\",\"realtime_end\":\"" REALTIME_DAY
               "\",\"observation_start\":\"%s\",\"observation_end\":\"%s\",\"units\":\"lin\","
               "\"output_type\":1,\"file_type\":\"json\",\"order_by\":\"observation_date\","
               "\"sort_order\":\"%s\",\"count\":%ld,\"offset\":%lld,\"limit\":%lld,"
               "\"observations\":[",
               q->start_s, q->end_s, q->desc ? "desc" : "asc", n, q->offset, q->limit);
    /* Paging applies after sorting; offset may exceed the count. */
    long long stop = q->offset < n - q->limit ? q->offset + q->limit : n;
    for (long long i = q->offset; i < stop; i++) {
        long idx = q->desc ? n - 1 - (long)i : (long)i;
        fred_observation(b, q->series, days[idx], i > q->offset);
    }
    buf_puts(b, "]}");
}

static void
fred_serve(struct MHD_Connection *con, enum mode mode, struct reply *r)
{
    struct fred_query q;
    const char *msg = fred_parse(con, mode, &q);

    r->ctype = CT_JSON;
    if (msg != NULL) {
        r->status = MHD_HTTP_BAD_REQUEST;
        buf_printf(&r->body, "{\"error_code\":400,\"error_message\":\"%s\"}", msg);
        return;
    }
    long *days = NULL;
    long n = fred_collect(&q, &days);
    r->status = MHD_HTTP_OK;
    if (n < 0) {
        r->body.failed = true;
        return;
    }
    fred_render(&r->body, &q, days, n);
    free(days);
}

/* ------------------------------------------------------------------ */
/* CBOE VIX history: k = days since 1990-01-01. */

static void
cboe_row(struct buf *b, long day)
{
    int y, m, d;
    double close = 20.0 + 8.0 * fake_sin((double)(day - days_from_civil(1990, 1, 1)) / 90.0);
    double open = close, high = close, low = close;

    /* The real file has O = H = L = C in its early years. */
    if (day >= days_from_civil(1993, 1, 1)) {
        open = close - 0.5;
        high = close + 1.0;
        low = close - 1.0;
    }
    civil_from_days(day, &y, &m, &d);
    buf_printf(b, "%02d/%02d/%04d,%.6f,%.6f,%.6f,%.6f\n", m, d, y, open, high, low, close);
}

static void
cboe_rows(struct buf *b, enum mode mode)
{
    const long swap_a = days_from_civil(2024, 6, 3);
    const long swap_b = days_from_civil(2024, 6, 4);
    const long last = days_from_civil(2024, 12, 31);

    for (long d = days_from_civil(1990, 1, 2); d <= last; d++) {
        if (!is_weekday(d))
            continue;
        long day = d;
        if (mode == MODE_UNORDERED && d == swap_a)
            day = swap_b;
        else if (mode == MODE_UNORDERED && d == swap_b)
            day = swap_a;
        cboe_row(b, day);
        if (mode == MODE_DUP && d == swap_a)
            cboe_row(b, day);
    }
}

static void
cboe_serve(enum mode mode, struct reply *r)
{
    r->status = MHD_HTTP_OK;
    r->ctype = CT_CSV;
    if (mode == MODE_BOM)
        buf_append(&r->body, "\xEF\xBB\xBF", 3);
    buf_puts(&r->body, "DATE,OPEN,HIGH,LOW,CLOSE\n");
    if (mode != MODE_HEADERONLY)
        cboe_rows(&r->body, mode);
    if (mode == MODE_NONEWLINE && !r->body.failed && r->body.len > 0)
        r->body.data[--r->body.len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Scenario handling shared by both services. */

/* Failures that replace the service's answer; true if one applied. */
static bool
mode_failure(enum mode mode, enum service svc, unsigned long hits, struct reply *r)
{
    bool fred = svc == SVC_FRED;

    if (mode == MODE_429ONCE && hits == 1) {
        reply_text(r, MHD_HTTP_TOO_MANY_REQUESTS, fred ? CT_JSON : CT_TEXT,
                   fred ? FRED_429_BODY : "Too Many Requests");
        r->retry_after = true;
        return true;
    }
    if ((mode == MODE_500ONCE && hits == 1) || mode == MODE_500ALWAYS) {
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, fred ? CT_JSON : CT_TEXT,
                   fred ? FRED_500_BODY : "Internal Server Error");
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
serve_feed(struct MHD_Connection *con, enum mode mode, enum service svc, struct reply *r)
{
    const char *key = CBOE_KEY;

    if (svc == SVC_FRED) {
        key = query_arg(con, "series_id");
        if (key == NULL)
            key = "";
    }
    unsigned long hits = counter_hit(mode, key);
    if (mode_failure(mode, svc, hits, r))
        return;
    if (mode == MODE_SLOW)
        slow_sleep();
    if (svc == SVC_FRED)
        fred_serve(con, mode, r);
    else
        cboe_serve(mode, r);
    /* Cut only good bodies: a truncated error would test nothing useful. */
    if (mode == MODE_TRUNCATED && r->status == MHD_HTTP_OK && !r->body.failed)
        r->body.len /= 2;
}

static void
serve_stats(struct MHD_Connection *con, struct reply *r)
{
    const char *mode_s = query_arg(con, "mode");
    const char *key = query_arg(con, "key");

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
    if (mode >= 0 && strcmp(seg + len, FRED_PATH) == 0)
        serve_feed(con, (enum mode)mode, SVC_FRED, r);
    else if (mode >= 0 && strcmp(seg + len, CBOE_PATH) == 0)
        serve_feed(con, (enum mode)mode, SVC_CBOE, r);
    else
        reply_text(r, MHD_HTTP_NOT_FOUND, CT_TEXT, "not found\n");
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
        fprintf(stderr, "fake_feeds: cannot write port file '%s': %s\n", path, strerror(errno));
    free(tmp);
    return rc;
}

int
main(int argc, char **argv)
{
    sigset_t stop_set;
    int sig;

    if (argc != 2) {
        fprintf(stderr, "usage: fake_feeds PORT_FILE\n");
        return 2;
    }
    /* Block the stop signals before MHD starts its threads, so they inherit
     * the mask and only sigwait() below ever receives them. */
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill us */

    struct MHD_Daemon *daemon = start_daemon();
    if (daemon == NULL) {
        fprintf(stderr, "fake_feeds: cannot start HTTP server on 127.0.0.1\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0 || write_port_file(argv[1], info->port) != 0) {
        MHD_stop_daemon(daemon);
        return 1;
    }
    while (sigwait(&stop_set, &sig) != 0)
        ;
    atomic_store(&stopping, true);
    MHD_stop_daemon(daemon);
    return 0;
}
