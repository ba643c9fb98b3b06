/*
 * fake_yahoo: a fake of the Yahoo Finance chart API v8 and its cookie and
 * crumb flow, so that integration tests can drive a real libcurl client
 * over loopback:
 *
 *   cookie host  GET /m/<mode>/                   404 text/html + Set-Cookie: A3=...
 *   crumb        GET /m/<mode>/v1/test/getcrumb   200 text/plain crumb (needs the A3 cookie)
 *   chart        GET /m/<mode>/v8/finance/chart/<symbol>?period1=&period2=|range=
 *                    &interval=1d&events=div,splits&includePrePost=false&crumb=
 *   consent      GET /m/<mode>/consent             200 text/html, the EU consent form
 *   collect      POST /m/<mode>/v2/collectConsent?sessionId=   the form posted back with
 *                    agree: 200 text/html + Set-Cookie: A3=...
 *   stats        GET /stats?mode=<mode>&key=<symbol | "crumb" | "cookie" | "consent" |
 *                    "collect">  -> request count
 *
 * Usage: fake_yahoo PORT_FILE
 *   Binds 127.0.0.1 on an ephemeral port, writes "<port>\n" to PORT_FILE
 *   (through PORT_FILE.tmp + rename, so a poller never reads half a
 *   number), serves until SIGTERM or SIGINT, then exits 0.
 *
 * Wire formats follow ../shared/docs/external-apis.md, section 1.
 *
 * DESIGN
 * - The <mode> path segment picks a scenario (see mode_names[]), so one
 *   server instance serves every scenario and tests need no control API.
 *   Only chart requests are affected by the failure modes; the cookie host
 *   and getcrumb behave the same in every mode except "crumb429".
 * - Cookie/crumb sessions are one table shared by all modes (the cookie's
 *   Path=/ sends it to every mode anyway). Each cookie-host hit issues a
 *   new cookie "d=AQABBfake<n>"; getcrumb issues "aB3dE.fGh9K<m>" for it
 *   once and returns that same crumb on later calls with that cookie (as
 *   Yahoo does). The table is a ring of SESSION_SLOTS: a cookie older
 *   than that many issues is forgotten (it behaves as expired).
 * - Crumb enforcement, modes "crumb", "crumbonce", "crumb429": a chart
 *   request needs an A3 cookie we issued AND the crumb issued for it, or
 *   it gets 401 {"finance":...,"Invalid Crumb"}. "crumbonce" also answers
 *   401 to the first chart request per symbol (an expired crumb: the
 *   client must fetch a new cookie and crumb and retry once). In
 *   "crumb429" getcrumb always answers 429, so no valid pair can be got
 *   from that mode.
 * - The "csrf" strategy (EU consent wall), served in every mode: GET
 *   consent issues consent number n and answers a form whose hidden
 *   inputs are csrfToken = "csrf" + 16 hex digits of n * 2654435761 and
 *   sessionId = "sid<n>" (stateless: any server can check the pair).
 *   POST collectConsent needs, form-urlencoded, agree=agree, a sessionId
 *   equal to the query's and the csrfToken issued with it; then it issues
 *   an A3 cookie as the cookie host does. Anything else is 400 text/html.
 *   Mode "consent" is the wall itself: the cookie host sets no A3 cookie
 *   (only the csrf flow gets one), and chart requests need cookie and
 *   crumb as in "crumb".
 * - Chart data is a pure function of (symbol, date); the only state is
 *   the sessions and the request counters. Known symbols: [A-Z0-9.^=-]{1,16}
 *   except "DELISTED" and "ZZ*", which get the 404 "Not Found" JSON.
 *   Trading days: Mon-Fri 2000-01-03 .. 2024-12-31 except every Jan 1,
 *   Jul 4 and Dec 25. A bar's timestamp is the session open in UTC: 13:30
 *   in US daylight time (second Sunday of March to first Sunday of
 *   November, the 2007 rules applied to all years), else 14:30.
 *   With h = sum of the symbol's bytes and k = days since 2000-01-01:
 *     close  = 50 + h%50 + 20 sin(k / (60 + h%30)) + 0.01 k
 *     open   = close (1 - 0.002 sin(k / 7))
 *     high   = max(open, close) 1.01     low = min(open, close) 0.99
 *     volume = 1000000 + (37 k + h) % 500000
 *     adjclose = close * 0.5 before 2010-06-01 (a 2:1 split that day), else close
 *   Dividends of 0.25 on the first trading day of Mar/Jun/Sep/Dec.
 *   Prices go out as (double)(float)(round(x * 100) / 100) with %.17g,
 *   so they carry Yahoo-like binary noise (312.6099853515625).
 * - Bars returned: timestamp in [period1, period2) (period2 absent: to the
 *   end; period1 absent: from the start). period1/period2 win over range.
 *   range counts back from the last bar (2024-12-31): 1d and 5d are the last
 *   1 and 5 bars; 1mo..10y are the dates in (last - N months, last]; ytd is
 *   2024; max is all. No period and no range means range=1d. No bar in the
 *   window gives the "empty" shape (200, no timestamp, quote [{}]).
 *   period1 > period2 is a 400.
 * - Events are sent only when asked for, as Yahoo does: dividends when the
 *   events parameter contains "div", splits when it contains "split"; the
 *   "events" key is omitted when the window holds none.
 * - interval must be 1d (absent means 1d); any other value, valid for
 *   Yahoo or not, is a 400 "Bad Request" JSON. includePrePost is ignored.
 *   Query parameter names are matched case-sensitively, as Yahoo does.
 * - Each response is built whole in a capped growable buffer and handed to
 *   MHD, which frees it. Memory per request is therefore bounded.
 * - Thread per connection: "slow" just sleeps in its own thread and does
 *   not hold up other clients.
 *
 * MODES (chart requests)
 *   ok          normal data
 *   nulls       in each response, bars 10, 20, 30, ... (1-based position in
 *               the response) have open/high/low/close/volume/adjclose all
 *               null; bars 15, 45, 75, ... have only volume null
 *   noadj       no "adjclose" key in indicators
 *   empty       200, result[0] without "timestamp", quote [{}], any symbol
 *   429         always 429 text/plain "Too Many Requests"
 *   429once     first chart request per symbol 429, then normal
 *   500once     first chart request per symbol 500, then normal
 *   outage      200 text/html page saying "Will be right back"
 *   truncated   the normal 200 body cut in half
 *   slow        normal answer after SLOW_SECONDS
 *   badrequest  400 "Bad Request" JSON for every chart request
 *   crumb, crumbonce, crumb429   crumb enforcement, see above
 *   consent     the EU consent wall, see above
 */
#include <microhttpd.h>

#include <arpa/inet.h>
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
#include <time.h>

#define BODY_MAX        (16u * 1024u * 1024u) /* a full history is ~0.7 MB */
#define COUNTER_SLOTS   4096
#define COUNTER_KEY_MAX 64
#define SESSION_SLOTS   1024
#define A3_MAX          8 /* A3 cookies looked at per request */
#define SLOW_SECONDS    5
#define SYMBOL_MAX      16
#define ECHO_MAX        64  /* longest client value echoed in an error message */
#define DESC_MAX        320 /* longest error description */
#define TDAY_MAX        8000 /* trading days 2000..2024: 6,468 */
#define COOKIE_PREFIX   "d=AQABBfake"
#define CRUMB_PREFIX    "aB3dE.fGh9K"
#define COOKIE_ATTRS \
    "; Expires=Wed, 01 Dec 2027 00:00:00 GMT; Max-Age=31557600; Domain=127.0.0.1; Path=/; SameSite=None"
#define CHART_PREFIX    "/v8/finance/chart/"
#define CRUMB_PATH      "/v1/test/getcrumb"

#define CT_JSON "application/json;charset=utf-8"
#define CT_HTML "text/html;charset=utf-8"
#define CT_TEXT "text/plain;charset=utf-8"

#define VALID_INTERVALS "[1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 1d, 5d, 1wk, 1mo, 3mo]"
#define VALID_RANGES    "[1d, 5d, 1mo, 3mo, 6mo, 1y, 2y, 5y, 10y, ytd, max]"
#define VALID_RANGES_JSON \
    "[\"1d\",\"5d\",\"1mo\",\"3mo\",\"6mo\",\"1y\",\"2y\",\"5y\",\"10y\",\"ytd\",\"max\"]"

#define BODY_429 "Too Many Requests"
#define BODY_UNAUTHORIZED "Unauthorized"
#define BODY_INVALID_CRUMB \
    "{\"finance\":{\"result\":null,\"error\":{\"code\":\"Unauthorized\",\"description\":\"Invalid Crumb\"}}}"
#define BODY_NOT_FOUND                                                                            \
    "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\",\"description\":\"No data found, " \
    "symbol may be delisted\"}}}"
#define BODY_500 \
    "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Internal Server Error\",\"description\":\"Internal Server Error\"}}}"
#define HTML_COOKIE_HOST \
    "<!DOCTYPE html><html><head><title>Yahoo</title></head><body><h1>404 Not Found</h1></body></html>"
#define HTML_OUTAGE                                                                              \
    "<!DOCTYPE html><html lang=\"en-us\"><head><meta charset=\"utf-8\"><title>Yahoo</title></head>" \
    "<body><div class=\"message\"><h1>Will be right back...</h1><p>Thank you for your patience."   \
    "</p><p>Our engineers are working quickly to resolve the issue.</p></div></body></html>"

enum mode {
    MODE_OK,
    MODE_NULLS,
    MODE_NOADJ,
    MODE_EMPTY,
    MODE_429,
    MODE_429ONCE,
    MODE_500ONCE,
    MODE_OUTAGE,
    MODE_TRUNCATED,
    MODE_SLOW,
    MODE_BADREQUEST,
    MODE_CRUMB,
    MODE_CRUMBONCE,
    MODE_CRUMB429,
    MODE_CONSENT,
    MODE__COUNT
};

static const char *const mode_names[MODE__COUNT] = {
    [MODE_OK] = "ok",
    [MODE_NULLS] = "nulls",
    [MODE_NOADJ] = "noadj",
    [MODE_EMPTY] = "empty",
    [MODE_429] = "429",
    [MODE_429ONCE] = "429once",
    [MODE_500ONCE] = "500once",
    [MODE_OUTAGE] = "outage",
    [MODE_TRUNCATED] = "truncated",
    [MODE_SLOW] = "slow",
    [MODE_BADREQUEST] = "badrequest",
    [MODE_CRUMB] = "crumb",
    [MODE_CRUMBONCE] = "crumbonce",
    [MODE_CRUMB429] = "crumb429",
    [MODE_CONSENT] = "consent",
};

/* What a counter counts; /stats key "crumb" and "cookie" pick the last two. */
enum kind { KIND_CHART, KIND_CRUMB, KIND_COOKIE, KIND_CONSENT, KIND_COLLECT };

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

/* The hot path: one snprintf into a stack buffer per number. */
static void
buf_ll(struct buf *b, long long v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%lld", v);
    buf_append(b, t, (size_t)n);
}

/* A price as Yahoo sends it: cents, stored as a float, printed as a double. */
static double
wire_price(double x)
{
    return (double)(float)(round(x * 100.0) / 100.0);
}

static void
buf_price(struct buf *b, double x)
{
    char t[40];
    int n = snprintf(t, sizeof t, "%.17g", wire_price(x));
    buf_append(b, t, (size_t)n);
}

/* A JSON string of at most max bytes of s. Bytes >= 0x80 are escaped too,
 * so odd input can never make the body invalid UTF-8. */
static void
buf_json_str(struct buf *b, const char *s, size_t max)
{
    buf_append(b, "\"", 1);
    for (size_t i = 0; s[i] != '\0' && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            buf_printf(b, "\\u%04x", c);
        else
            buf_append(b, &s[i], 1);
    }
    buf_append(b, "\"", 1);
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
weekday(long day) /* 0 = Sunday; 1970-01-01 was a Thursday */
{
    return (int)(((day % 7) + 7 + 4) % 7);
}

/* The n-th (1-based) Sunday of a month. */
static long
nth_sunday(int y, int m, int n)
{
    long first = days_from_civil(y, m, 1);
    return first + (7 - weekday(first)) % 7 + 7L * (n - 1);
}

/* US daylight time, the rules since 2007, applied to every year. */
static bool
is_edt(long day)
{
    int y, m, d;

    civil_from_days(day, &y, &m, &d);
    return day >= nth_sunday(y, 3, 2) && day < nth_sunday(y, 11, 1);
}

static long
gmtoffset(long day)
{
    return is_edt(day) ? -14400L : -18000L;
}

/* Midnight UTC plus a number of minutes. */
static long long
day_time(long day, long minutes)
{
    return (long long)day * 86400LL + (long long)minutes * 60LL;
}

/* The session open in UTC: 09:30 New York. */
static long long
session_open(long day)
{
    return day_time(day, is_edt(day) ? 13 * 60 + 30 : 14 * 60 + 30);
}

/* The same day of the month n months earlier, clamped to the month's end. */
static long
months_back(long day, int n)
{
    int y, m, d;

    civil_from_days(day, &y, &m, &d);
    int idx = y * 12 + (m - 1) - n;
    y = idx / 12;
    m = idx % 12 + 1;
    long first = days_from_civil(y, m, 1);
    long next = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
    if (d > next - first)
        d = (int)(next - first);
    return first + d - 1;
}

/* ------------------------------------------------------------------ */
/* The trading calendar, built once before the server starts and only
 * read afterwards, so threads share it without a lock. */

static long tdays[TDAY_MAX];
static long long tstamps[TDAY_MAX];
static bool tdiv[TDAY_MAX];
static size_t tcount;
static long day_2000, day_split;

static void
calendar_init(void)
{
    long first = days_from_civil(2000, 1, 3);
    long last = days_from_civil(2024, 12, 31);
    int prev_month = 0;

    day_2000 = days_from_civil(2000, 1, 1);
    day_split = days_from_civil(2010, 6, 1);
    for (long day = first; day <= last && tcount < TDAY_MAX; day++) {
        int y, m, d, wd = weekday(day);
        civil_from_days(day, &y, &m, &d);
        if (wd == 0 || wd == 6 || (m == 1 && d == 1) || (m == 7 && d == 4) ||
            (m == 12 && d == 25))
            continue;
        tdays[tcount] = day;
        tstamps[tcount] = session_open(day);
        tdiv[tcount] = m % 3 == 0 && m != prev_month;
        prev_month = m;
        tcount++;
    }
}

/* Index of the first trading day whose bar time is >= ts. */
static size_t
first_bar_at(long long ts)
{
    size_t lo = 0, hi = tcount;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tstamps[mid] < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first trading day after the given day. */
static size_t
first_bar_after(long day)
{
    size_t i = 0;

    while (i < tcount && tdays[i] <= day)
        i++;
    return i;
}

/* ------------------------------------------------------------------ */
/* Prices: a pure function of (symbol hash, trading day). */

struct bar {
    double open, high, low, close, adjclose;
    long long volume;
};

static unsigned
symbol_hash(const char *s)
{
    unsigned h = 0;

    for (; *s != '\0'; s++)
        h += (unsigned char)*s;
    return h;
}

static struct bar
bar_make(unsigned h, long day)
{
    struct bar b;
    long k = day - day_2000;
    double kd = (double)k;

    b.close = 50.0 + (double)(h % 50u) + 20.0 * sin(kd / (60.0 + (double)(h % 30u))) + 0.01 * kd;
    b.open = b.close * (1.0 - 0.002 * sin(kd / 7.0));
    b.high = fmax(b.open, b.close) * 1.01;
    b.low = fmin(b.open, b.close) * 0.99;
    b.volume = 1000000LL + ((long long)k * 37LL + (long long)h) % 500000LL;
    b.adjclose = b.close * (day < day_split ? 0.5 : 1.0);
    return b;
}

static bool
symbol_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > SYMBOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '^' ||
              c == '=' || c == '-'))
            return false;
    }
    return true;
}

static bool
symbol_known(const char *s)
{
    return symbol_valid(s) && strcmp(s, "DELISTED") != 0 && strncmp(s, "ZZ", 2) != 0;
}

/* ------------------------------------------------------------------ */
/* Request counters, keyed by (mode, kind, key). A fixed table keeps
 * memory bounded whatever clients send; when it is full, new keys go
 * uncounted (hit number 0), which "once" modes treat as "not first". */

struct counter {
    enum mode mode;
    enum kind kind;
    char key[COUNTER_KEY_MAX];
    unsigned long hits;
};

static struct counter counters[COUNTER_SLOTS];
static size_t counters_used;
static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;

/* Long keys are cut to fit; only absurd symbols can collide. */
static void
counter_key(char out[COUNTER_KEY_MAX], const char *key)
{
    size_t n = strnlen(key, COUNTER_KEY_MAX - 1);
    memcpy(out, key, n);
    out[n] = '\0';
}

/* Caller holds counters_lock. */
static struct counter *
counter_find(enum mode mode, enum kind kind, const char *key)
{
    for (size_t i = 0; i < counters_used; i++) {
        if (counters[i].mode == mode && counters[i].kind == kind &&
            strcmp(counters[i].key, key) == 0)
            return &counters[i];
    }
    return NULL;
}

/* Count one request; returns its number (1 for the first), 0 if full. */
static unsigned long
counter_hit(enum mode mode, enum kind kind, const char *raw_key)
{
    char key[COUNTER_KEY_MAX];
    unsigned long hits = 0;

    counter_key(key, raw_key);
    pthread_mutex_lock(&counters_lock);
    struct counter *c = counter_find(mode, kind, key);
    if (c == NULL && counters_used < COUNTER_SLOTS) {
        c = &counters[counters_used++];
        c->mode = mode;
        c->kind = kind;
        memcpy(c->key, key, sizeof c->key);
        c->hits = 0;
    }
    if (c != NULL)
        hits = ++c->hits;
    pthread_mutex_unlock(&counters_lock);
    return hits;
}

static unsigned long
counter_get(enum mode mode, enum kind kind, const char *raw_key)
{
    char key[COUNTER_KEY_MAX];
    unsigned long hits = 0;

    counter_key(key, raw_key);
    pthread_mutex_lock(&counters_lock);
    const struct counter *c = counter_find(mode, kind, key);
    if (c != NULL)
        hits = c->hits;
    pthread_mutex_unlock(&counters_lock);
    return hits;
}

/* ------------------------------------------------------------------ */
/* Cookie/crumb sessions: a ring indexed by cookie number. A slot holds
 * the cookie number it belongs to (0: free) and its crumb number (0: no
 * crumb issued yet). Numbers only grow, so a stale cookie never matches. */

struct session {
    unsigned long long cookie;
    unsigned long long crumb;
};

static struct session sessions[SESSION_SLOTS];
static unsigned long long last_cookie, last_crumb;
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long
session_new(void)
{
    pthread_mutex_lock(&sessions_lock);
    unsigned long long n = ++last_cookie;
    sessions[n % SESSION_SLOTS] = (struct session){.cookie = n, .crumb = 0};
    pthread_mutex_unlock(&sessions_lock);
    return n;
}

/* Caller holds sessions_lock. */
static struct session *
session_find(unsigned long long cookie)
{
    struct session *s = &sessions[cookie % SESSION_SLOTS];
    return cookie != 0 && s->cookie == cookie ? s : NULL;
}

/* The cookie number in an A3 value "d=AQABBfake<n>" of len bytes, or 0. */
static unsigned long long
cookie_number(const char *v, size_t len)
{
    size_t plen = strlen(COOKIE_PREFIX);
    unsigned long long n = 0;

    if (len <= plen || len > plen + 19 || memcmp(v, COOKIE_PREFIX, plen) != 0)
        return 0;
    for (size_t i = plen; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        n = n * 10u + (unsigned)(v[i] - '0');
    }
    return n;
}

/* The cookie numbers of the A3 cookies in a Cookie header, in order. */
static size_t
a3_cookies(const char *hdr, unsigned long long out[A3_MAX])
{
    size_t n = 0;

    while (hdr != NULL && *hdr != '\0' && n < A3_MAX) {
        while (*hdr == ' ' || *hdr == '\t' || *hdr == ';')
            hdr++;
        size_t len = strcspn(hdr, ";");
        size_t vlen = len;
        while (vlen > 0 && (hdr[vlen - 1] == ' ' || hdr[vlen - 1] == '\t'))
            vlen--;
        if (vlen > 3 && memcmp(hdr, "A3=", 3) == 0) {
            unsigned long long c = cookie_number(hdr + 3, vlen - 3);
            if (c != 0)
                out[n++] = c;
        }
        hdr += len;
    }
    return n;
}

static const char *
cookie_header(struct MHD_Connection *con)
{
    return MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
}

/* The crumb for the request's first live A3 cookie (issued on first
 * ask), or 0 when it carries none. */
static unsigned long long
crumb_for_request(struct MHD_Connection *con)
{
    unsigned long long ids[A3_MAX], crumb = 0;
    size_t n = a3_cookies(cookie_header(con), ids);

    pthread_mutex_lock(&sessions_lock);
    for (size_t i = 0; i < n && crumb == 0; i++) {
        struct session *s = session_find(ids[i]);
        if (s == NULL)
            continue;
        if (s->crumb == 0)
            s->crumb = ++last_crumb;
        crumb = s->crumb;
    }
    pthread_mutex_unlock(&sessions_lock);
    return crumb;
}

/* True if some live A3 cookie of the request was issued this crumb. */
static bool
crumb_matches(struct MHD_Connection *con, const char *crumb)
{
    unsigned long long ids[A3_MAX];
    size_t n = a3_cookies(cookie_header(con), ids);
    bool ok = false;

    if (crumb == NULL)
        return false;
    pthread_mutex_lock(&sessions_lock);
    for (size_t i = 0; i < n && !ok; i++) {
        const struct session *s = session_find(ids[i]);
        char want[64];
        if (s == NULL || s->crumb == 0)
            continue;
        snprintf(want, sizeof want, CRUMB_PREFIX "%llu", s->crumb);
        ok = strcmp(want, crumb) == 0;
    }
    pthread_mutex_unlock(&sessions_lock);
    return ok;
}

/* ------------------------------------------------------------------ */
/* A reply is either a static text or a built body, plus status, type and
 * an optional cookie. */

struct reply {
    unsigned status;
    const char *ctype;
    const char *text; /* static body; NULL means use body */
    struct buf body;
    char set_cookie[192]; /* empty: no Set-Cookie header */
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
                   "fake_yahoo: body too large or out of memory\n");
    struct MHD_Response *resp = reply_response(r);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->set_cookie[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    enum MHD_Result ret = MHD_queue_response(con, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* MHD matches argument names without regard to case; Yahoo does not, so
 * walk the arguments and compare exactly. The first occurrence wins. */
struct arg_lookup {
    const char *name;
    const char *value;
};

static enum MHD_Result
arg_visit(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct arg_lookup *a = cls;

    (void)kind;
    if (key != NULL && strcmp(key, a->name) == 0) {
        a->value = value != NULL ? value : "";
        return MHD_NO; /* found: stop */
    }
    return MHD_YES;
}

static const char *
query_arg(struct MHD_Connection *con, const char *name)
{
    struct arg_lookup a = {.name = name, .value = NULL};

    MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, arg_visit, &a);
    return a.value;
}

/* Like query_arg, but an empty value counts as absent. */
static const char *
query_arg_set(struct MHD_Connection *con, const char *name)
{
    const char *v = query_arg(con, name);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* An optionally negative decimal integer, nothing else. */
static bool
parse_seconds(const char *s, long long *out)
{
    const char *p = s[0] == '-' ? s + 1 : s;
    if (*p < '0' || *p > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ */
/* Chart requests. */

struct range_def {
    const char *name;
    int months; /* > 0: dates in (last - months, last]; -1: year to date */
    int bars;   /* > 0: the last n bars */
};

static const struct range_def range_defs[] = {
    {"1d", 0, 1},   {"5d", 0, 5},   {"1mo", 1, 0},  {"3mo", 3, 0},
    {"6mo", 6, 0},  {"1y", 12, 0},  {"2y", 24, 0},  {"5y", 60, 0},
    {"10y", 120, 0}, {"ytd", -1, 0}, {"max", 0, 0},
};

struct chart_query {
    const char *symbol;
    const char *interval; /* as given, or "1d" */
    const char *range;    /* echoed in meta.range; "" with period1/period2 */
    size_t lo, hi;        /* bars [lo, hi) of the calendar */
    bool want_div, want_split;
};

/* The chart error envelope; desc may embed a client value, so it is escaped. */
static void
chart_error(struct reply *r, unsigned status, const char *code, const char *desc)
{
    r->status = status;
    r->ctype = CT_JSON;
    buf_printf(&r->body, "{\"chart\":{\"result\":null,\"error\":{\"code\":\"%s\",\"description\":",
               code);
    buf_json_str(&r->body, desc, DESC_MAX);
    buf_puts(&r->body, "}}}");
}

/* At most ECHO_MAX bytes of a client value, for an error message. */
static const char *
echo_value(char out[ECHO_MAX + 1], const char *v)
{
    size_t n = strnlen(v, ECHO_MAX);
    memcpy(out, v, n);
    out[n] = '\0';
    return out;
}

static void
bad_interval(struct reply *r, const char *interval)
{
    char echo[ECHO_MAX + 1], desc[DESC_MAX];

    snprintf(desc, sizeof desc,
             "Invalid input - interval=%s is not supported. Valid intervals: " VALID_INTERVALS,
             echo_value(echo, interval));
    chart_error(r, MHD_HTTP_BAD_REQUEST, "Bad Request", desc);
}

static bool
range_window(const char *name, struct chart_query *q)
{
    long last = tdays[tcount - 1];

    for (size_t i = 0; i < sizeof range_defs / sizeof range_defs[0]; i++) {
        const struct range_def *d = &range_defs[i];
        if (strcmp(d->name, name) != 0)
            continue;
        q->hi = tcount;
        if (d->bars > 0) {
            q->lo = tcount > (size_t)d->bars ? tcount - (size_t)d->bars : 0;
        } else if (d->months > 0) {
            q->lo = first_bar_after(months_back(last, d->months));
        } else if (d->months < 0) {
            int y, m, dd;
            civil_from_days(last, &y, &m, &dd);
            q->lo = first_bar_after(days_from_civil(y, 1, 1) - 1);
        } else {
            q->lo = 0;
        }
        return true;
    }
    return false;
}

/* Fills q, or writes a 400 into r and returns false. */
static bool
chart_parse(struct MHD_Connection *con, struct chart_query *q, struct reply *r)
{
    const char *p1s = query_arg_set(con, "period1");
    const char *p2s = query_arg_set(con, "period2");
    const char *range = query_arg_set(con, "range");
    const char *events = query_arg(con, "events");
    char echo[ECHO_MAX + 1], desc[DESC_MAX];

    q->interval = query_arg_set(con, "interval");
    if (q->interval == NULL)
        q->interval = "1d";
    if (strcmp(q->interval, "1d") != 0) {
        bad_interval(r, q->interval);
        return false;
    }
    q->want_div = events != NULL && strstr(events, "div") != NULL;
    q->want_split = events != NULL && strstr(events, "split") != NULL;
    if (p1s != NULL || p2s != NULL) {
        long long p1 = LLONG_MIN, p2 = LLONG_MAX;
        const char *bad = NULL;
        if (p1s != NULL && !parse_seconds(p1s, &p1))
            bad = "period1";
        else if (p2s != NULL && !parse_seconds(p2s, &p2))
            bad = "period2";
        if (bad != NULL) {
            snprintf(desc, sizeof desc, "Invalid input - %s=%s is not a valid Unix timestamp", bad,
                     echo_value(echo, bad[6] == '1' ? p1s : p2s));
            chart_error(r, MHD_HTTP_BAD_REQUEST, "Bad Request", desc);
            return false;
        }
        if (p1 > p2) {
            snprintf(desc, sizeof desc,
                     "Invalid input - start date cannot be after end date. startDate = %lld, "
                     "endDate = %lld",
                     p1, p2);
            chart_error(r, MHD_HTTP_BAD_REQUEST, "Bad Request", desc);
            return false;
        }
        q->range = "";
        q->lo = first_bar_at(p1);
        q->hi = first_bar_at(p2);
        return true;
    }
    q->range = range != NULL ? range : "1d";
    if (!range_window(q->range, q)) {
        snprintf(desc, sizeof desc,
                 "Invalid input - range=%s is not supported. Valid ranges: " VALID_RANGES,
                 echo_value(echo, q->range));
        chart_error(r, MHD_HTTP_BAD_REQUEST, "Bad Request", desc);
        return false;
    }
    return true;
}

static void
trading_period(struct buf *b, const char *name, long long start, long long end, long day)
{
    buf_printf(b, "\"%s\":{\"timezone\":\"%s\",\"start\":%lld,\"end\":%lld,\"gmtoffset\":%ld}",
               name, is_edt(day) ? "EDT" : "EST", start, end, gmtoffset(day));
}

static void
chart_meta(struct buf *b, const struct chart_query *q, unsigned h)
{
    long last = tdays[tcount - 1];
    /* Time zone of the last bar sent, or of the last trading day. */
    long tz_day = q->hi > q->lo ? tdays[q->hi - 1] : last;
    long prev_day = tdays[q->lo > 0 ? q->lo - 1 : 0];
    long long open = session_open(last);
    long long close = open + 390LL * 60LL;

    buf_puts(b, "\"meta\":{\"currency\":\"USD\",\"symbol\":");
    buf_json_str(b, q->symbol, ECHO_MAX);
    buf_printf(b,
               ",\"exchangeName\":\"NMS\",\"fullExchangeName\":\"NasdaqGS\","
               "\"instrumentType\":\"EQUITY\",\"firstTradeDate\":%lld,\"regularMarketTime\":%lld,"
               "\"hasPrePostMarketData\":true,\"gmtoffset\":%ld,\"timezone\":\"%s\","
               "\"exchangeTimezoneName\":\"America/New_York\",\"regularMarketPrice\":",
               tstamps[0], close, gmtoffset(tz_day), is_edt(tz_day) ? "EDT" : "EST");
    buf_price(b, bar_make(h, last).close);
    buf_puts(b, ",\"chartPreviousClose\":");
    buf_price(b, bar_make(h, prev_day).close);
    buf_puts(b, ",\"priceHint\":2,\"currentTradingPeriod\":{");
    /* pre 04:00-09:30, regular 09:30-16:00, post 16:00-20:00 New York */
    trading_period(b, "pre", open - 330LL * 60LL, open, last);
    buf_puts(b, ",");
    trading_period(b, "regular", open, close, last);
    buf_puts(b, ",");
    trading_period(b, "post", close, close + 240LL * 60LL, last);
    buf_puts(b, "},\"dataGranularity\":\"1d\",\"range\":");
    buf_json_str(b, q->range, ECHO_MAX);
    buf_puts(b, ",\"validRanges\":" VALID_RANGES_JSON "}");
}

static bool
chart_has_events(const struct chart_query *q)
{
    for (size_t i = q->lo; i < q->hi; i++) {
        if ((q->want_div && tdiv[i]) || (q->want_split && tdays[i] == day_split))
            return true;
    }
    return false;
}

static void
chart_events(struct buf *b, const struct chart_query *q)
{
    bool first = true;

    buf_puts(b, ",\"events\":{");
    if (q->want_div) {
        for (size_t i = q->lo; i < q->hi; i++) {
            if (!tdiv[i])
                continue;
            buf_printf(b, "%s\"%lld\":{\"amount\":0.25,\"date\":%lld}",
                       first ? "\"dividends\":{" : ",", tstamps[i], tstamps[i]);
            first = false;
        }
        if (!first)
            buf_puts(b, "}");
    }
    if (q->want_split) {
        for (size_t i = q->lo; i < q->hi; i++) {
            if (tdays[i] != day_split)
                continue;
            buf_printf(b,
                       "%s\"splits\":{\"%lld\":{\"date\":%lld,\"numerator\":2,\"denominator\":1,"
                       "\"splitRatio\":\"2:1\"}}",
                       first ? "" : ",", tstamps[i], tstamps[i]);
            first = false;
        }
    }
    buf_puts(b, "}");
}

enum field { F_OPEN, F_HIGH, F_LOW, F_CLOSE, F_VOLUME, F_ADJCLOSE };

/* One indicator array. pos is the 1-based position in the response. */
static void
chart_column(struct buf *b, const struct chart_query *q, unsigned h, enum mode mode,
             const char *name, enum field f)
{
    buf_printf(b, "\"%s\":[", name);
    for (size_t i = q->lo; i < q->hi; i++) {
        size_t pos = i - q->lo + 1;
        if (i > q->lo)
            buf_append(b, ",", 1);
        if (mode == MODE_NULLS &&
            (pos % 10 == 0 || (f == F_VOLUME && pos % 15 == 0))) {
            buf_append(b, "null", 4);
            continue;
        }
        struct bar bar = bar_make(h, tdays[i]);
        switch (f) {
        case F_OPEN:
            buf_price(b, bar.open);
            break;
        case F_HIGH:
            buf_price(b, bar.high);
            break;
        case F_LOW:
            buf_price(b, bar.low);
            break;
        case F_CLOSE:
            buf_price(b, bar.close);
            break;
        case F_ADJCLOSE:
            buf_price(b, bar.adjclose);
            break;
        case F_VOLUME:
            buf_ll(b, bar.volume);
            break;
        }
    }
    buf_append(b, "]", 1);
}

static void
chart_render(struct buf *b, const struct chart_query *q, enum mode mode)
{
    unsigned h = symbol_hash(q->symbol);
    bool empty = mode == MODE_EMPTY || q->hi <= q->lo;

    buf_puts(b, "{\"chart\":{\"result\":[{");
    chart_meta(b, q, h);
    if (empty) {
        /* Yahoo's answer for a window without data. */
        buf_puts(b, ",\"indicators\":{\"quote\":[{}],\"adjclose\":[{}]}}],\"error\":null}}");
        return;
    }
    buf_puts(b, ",\"timestamp\":[");
    for (size_t i = q->lo; i < q->hi; i++) {
        if (i > q->lo)
            buf_append(b, ",", 1);
        buf_ll(b, tstamps[i]);
    }
    buf_puts(b, "]");
    if (chart_has_events(q))
        chart_events(b, q);
    /* Yahoo's key order inside quote[0] varies; this one is not OHLCV on purpose. */
    buf_puts(b, ",\"indicators\":{\"quote\":[{");
    chart_column(b, q, h, mode, "high", F_HIGH);
    buf_puts(b, ",");
    chart_column(b, q, h, mode, "volume", F_VOLUME);
    buf_puts(b, ",");
    chart_column(b, q, h, mode, "open", F_OPEN);
    buf_puts(b, ",");
    chart_column(b, q, h, mode, "low", F_LOW);
    buf_puts(b, ",");
    chart_column(b, q, h, mode, "close", F_CLOSE);
    buf_puts(b, "}]");
    if (mode != MODE_NOADJ) {
        buf_puts(b, ",\"adjclose\":[{");
        chart_column(b, q, h, mode, "adjclose", F_ADJCLOSE);
        buf_puts(b, "}]");
    }
    buf_puts(b, "}}],\"error\":null}}");
}

static bool
is_crumb_mode(enum mode mode)
{
    return strncmp(mode_names[mode], "crumb", 5) == 0 || mode == MODE_CONSENT;
}

/* Failures that replace the chart answer; true if one applied. */
static bool
chart_failure(struct MHD_Connection *con, enum mode mode, unsigned long hits, struct reply *r)
{
    if (mode == MODE_429 || (mode == MODE_429ONCE && hits == 1)) {
        reply_text(r, MHD_HTTP_TOO_MANY_REQUESTS, CT_TEXT, BODY_429);
        return true;
    }
    if (mode == MODE_500ONCE && hits == 1) {
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_JSON, BODY_500);
        return true;
    }
    if (mode == MODE_OUTAGE) {
        reply_text(r, MHD_HTTP_OK, CT_HTML, HTML_OUTAGE);
        return true;
    }
    if (is_crumb_mode(mode) &&
        (!crumb_matches(con, query_arg(con, "crumb")) || (mode == MODE_CRUMBONCE && hits == 1))) {
        reply_text(r, MHD_HTTP_UNAUTHORIZED, CT_JSON, BODY_INVALID_CRUMB);
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
serve_chart(struct MHD_Connection *con, enum mode mode, const char *symbol, struct reply *r)
{
    struct chart_query q = {.symbol = symbol};
    unsigned long hits = counter_hit(mode, KIND_CHART, symbol);

    if (chart_failure(con, mode, hits, r))
        return;
    if (mode == MODE_SLOW)
        slow_sleep();
    if (mode == MODE_BADREQUEST) {
        const char *interval = query_arg_set(con, "interval");
        bad_interval(r, interval != NULL ? interval : "1d");
        return;
    }
    if (!chart_parse(con, &q, r))
        return;
    if (mode != MODE_EMPTY && !symbol_known(symbol)) {
        reply_text(r, MHD_HTTP_NOT_FOUND, CT_JSON, BODY_NOT_FOUND);
        return;
    }
    r->status = MHD_HTTP_OK;
    r->ctype = CT_JSON;
    chart_render(&r->body, &q, mode);
    /* Cut only good bodies: a truncated error would test nothing useful. */
    if (mode == MODE_TRUNCATED && !r->body.failed)
        r->body.len /= 2;
}

/* ------------------------------------------------------------------ */
/* Cookie host, crumb, stats, routing. */

static void
serve_cookie_host(enum mode mode, struct reply *r)
{
    counter_hit(mode, KIND_COOKIE, "cookie");
    if (mode == MODE_CONSENT) {             /* the wall: no cookie without consent */
        reply_text(r, MHD_HTTP_NOT_FOUND, CT_HTML, HTML_COOKIE_HOST);
        return;
    }
    unsigned long long n = session_new();
    snprintf(r->set_cookie, sizeof r->set_cookie, "A3=" COOKIE_PREFIX "%llu" COOKIE_ATTRS, n);
    reply_text(r, MHD_HTTP_NOT_FOUND, CT_HTML, HTML_COOKIE_HOST);
}

/* The consent flow's csrfToken for consent number n. */
static void
consent_token(unsigned long long n, char *out, size_t size)
{
    snprintf(out, size, "csrf%016llx", (n * 2654435761ULL) & 0xffffffffffffffffULL);
}

static void
serve_consent(enum mode mode, struct reply *r)
{
    static atomic_ullong last_consent;
    unsigned long long n = atomic_fetch_add(&last_consent, 1) + 1;
    char token[40];

    counter_hit(mode, KIND_CONSENT, "consent");
    consent_token(n, token, sizeof token);
    r->status = MHD_HTTP_OK;
    r->ctype = CT_HTML;
    buf_printf(&r->body,
               "<!DOCTYPE html><html><head><title>Yahoo is part of the Yahoo family of "
               "brands</title></head><body><form method=\"post\" class=\"consent-form\" "
               "action=\"https://consent.yahoo.com/v2/collectConsent?sessionId=sid%llu\">"
               "<input type=\"hidden\" name=\"csrfToken\" value=\"%s\">"
               "<input type=\"hidden\" name=\"sessionId\" value=\"sid%llu\">"
               "<input type=\"hidden\" name=\"originalDoneUrl\" "
               "value=\"https://www.yahoo.com/?guccounter=1\">"
               "<input type=\"hidden\" name=\"namespace\" value=\"yahoo\">"
               "<button type=\"submit\" name=\"agree\" value=\"agree\">Accept all</button>"
               "<button type=\"submit\" name=\"reject\" value=\"reject\">Reject all</button>"
               "</form></body></html>",
               n, token, n);
}

/* The percent-decoded value of the first field `name` of a form body, into out; false when
 * absent or too long. */
static bool
form_field(const char *body, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);

    for (const char *p = body; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t k = 0;
            for (size_t i = nl + 1; i < len; i++) {
                unsigned v;
                char c = p[i];
                if (c == '+')
                    c = ' ';
                else if (c == '%' && i + 2 < len && sscanf(p + i + 1, "%2x", &v) == 1) {
                    c = (char)v;
                    i += 2;
                }
                if (k + 1 >= size)
                    return false;
                out[k++] = c;
            }
            out[k] = '\0';
            return true;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static void
serve_collect(struct MHD_Connection *con, enum mode mode, const char *body, struct reply *r)
{
    const char *qsid = query_arg(con, "sessionId");
    char agree[16], sid[64], token[64], want[40];
    unsigned long long n = 0;

    counter_hit(mode, KIND_COLLECT, "collect");
    if (body == NULL || !form_field(body, "agree", agree, sizeof agree) ||
        strcmp(agree, "agree") != 0 || !form_field(body, "sessionId", sid, sizeof sid) ||
        !form_field(body, "csrfToken", token, sizeof token) || qsid == NULL ||
        strcmp(qsid, sid) != 0 || sscanf(sid, "sid%llu", &n) != 1 || n == 0) {
        reply_text(r, MHD_HTTP_BAD_REQUEST, CT_HTML,
                   "<!DOCTYPE html><html><body>Invalid consent</body></html>");
        return;
    }
    consent_token(n, want, sizeof want);
    if (strcmp(token, want) != 0) {
        reply_text(r, MHD_HTTP_BAD_REQUEST, CT_HTML,
                   "<!DOCTYPE html><html><body>Invalid consent</body></html>");
        return;
    }
    snprintf(r->set_cookie, sizeof r->set_cookie, "A3=" COOKIE_PREFIX "%llu" COOKIE_ATTRS,
             session_new());
    reply_text(r, MHD_HTTP_OK, CT_HTML,
               "<!DOCTYPE html><html><body>Thank you</body></html>");
}

static void
serve_crumb(struct MHD_Connection *con, enum mode mode, struct reply *r)
{
    counter_hit(mode, KIND_CRUMB, "crumb");
    if (mode == MODE_CRUMB429) {
        reply_text(r, MHD_HTTP_TOO_MANY_REQUESTS, CT_TEXT, BODY_429);
        return;
    }
    unsigned long long crumb = crumb_for_request(con);
    if (crumb == 0) {
        reply_text(r, MHD_HTTP_UNAUTHORIZED, CT_TEXT, BODY_UNAUTHORIZED);
        return;
    }
    r->status = MHD_HTTP_OK;
    r->ctype = CT_TEXT;
    buf_printf(&r->body, CRUMB_PREFIX "%llu", crumb);
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
    enum kind kind = KIND_CHART;
    if (strcmp(key, "crumb") == 0)
        kind = KIND_CRUMB;
    else if (strcmp(key, "cookie") == 0)
        kind = KIND_COOKIE;
    else if (strcmp(key, "consent") == 0)
        kind = KIND_CONSENT;
    else if (strcmp(key, "collect") == 0)
        kind = KIND_COLLECT;
    for (int m = 0; m < MODE__COUNT; m++) {
        if (strcmp(mode_names[m], mode_s) == 0) {
            r->status = MHD_HTTP_OK;
            r->ctype = CT_TEXT;
            buf_printf(&r->body, "%lu", counter_get((enum mode)m, kind, key));
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
route(struct MHD_Connection *con, const char *url, const char *method, const char *body,
      struct reply *r)
{
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0 &&
        !post) {
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
    const char *rest = mode >= 0 ? seg + len : "";
    size_t chart_len = strlen(CHART_PREFIX);

    if (post != (mode >= 0 && strcmp(rest, "/v2/collectConsent") == 0))
        reply_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT, "method not allowed\n");
    else if (post)
        serve_collect(con, (enum mode)mode, body, r);
    else if (mode >= 0 && strcmp(rest, "/consent") == 0)
        serve_consent((enum mode)mode, r);
    else if (mode >= 0 && (strcmp(rest, "") == 0 || strcmp(rest, "/") == 0))
        serve_cookie_host((enum mode)mode, r);
    else if (mode >= 0 && strcmp(rest, CRUMB_PATH) == 0)
        serve_crumb(con, (enum mode)mode, r);
    else if (mode >= 0 && strncmp(rest, CHART_PREFIX, chart_len) == 0)
        serve_chart(con, (enum mode)mode, rest + chart_len, r);
    else
        reply_text(r, MHD_HTTP_NOT_FOUND, CT_TEXT, "not found\n");
}

/* A request body (only collectConsent takes one); a larger body is refused. */
struct upload {
    char   data[8192];
    size_t len;
    bool   over;
};

static void
request_done(void *cls, struct MHD_Connection *con, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **con_cls)
{
    struct upload *up = *con_cls;
    struct reply r = {0};

    (void)cls;
    (void)version;
    /* Answering on the first call would stop MHD from reading a request body
     * and break keep-alive; so the first call only sets up the request (its
     * body buffer, freed by request_done). */
    if (up == NULL) {
        if ((up = calloc(1, sizeof *up)) == NULL)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        if (n > sizeof up->data - 1 - up->len) {
            n = sizeof up->data - 1 - up->len;
            up->over = true;
        }
        memcpy(up->data + up->len, upload_data, n);
        up->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    up->data[up->len] = '\0';
    route(con, url, method, up->over ? NULL : up->data, &r);
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
        (unsigned int)30, MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_END);
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
        fprintf(stderr, "fake_yahoo: cannot write port file '%s': %s\n", path, strerror(errno));
    free(tmp);
    return rc;
}

int
main(int argc, char **argv)
{
    sigset_t stop_set;
    int sig;

    if (argc != 2) {
        fprintf(stderr, "usage: fake_yahoo PORT_FILE\n");
        return 2;
    }
    calendar_init();
    /* Block the stop signals before MHD starts its threads, so they inherit
     * the mask and only sigwait() below ever receives them. */
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill us */

    struct MHD_Daemon *daemon = start_daemon();
    if (daemon == NULL) {
        fprintf(stderr, "fake_yahoo: cannot start HTTP server on 127.0.0.1\n");
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
