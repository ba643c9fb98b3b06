/*
 * fake_options: a fake of the Tradier market-data API and of Polygon.io's
 * options reference and aggregates endpoints, so that integration tests
 * can drive the real libcurl clients over loopback:
 *
 *   Tradier  GET /m/<mode>/v1/markets/options/expirations?symbol=S[&includeAllRoots=..
 *                    &strikes=..&contractSize=..&expirationType=..]
 *            GET /m/<mode>/v1/markets/options/chains?symbol=S&expiration=D[&greeks=true|false]
 *            GET /m/<mode>/v1/markets/quotes?symbols=A,B[&greeks=true|false]
 *            GET /m/<mode>/v1/markets/history?symbol=S[&interval=daily]&start=D&end=D
 *   Polygon  GET /m/<mode>/v3/reference/options/contracts?underlying_ticker=S[&contract_type=..]
 *                    [&expiration_date[.gte|.gt|.lte|.lt]=D][&strike_price[.gte|.gt|.lte|.lt]=X]
 *                    [&as_of=D][&expired=true|false][&limit=N][&sort=..][&order=..] | ?cursor=C
 *            GET /m/<mode>/v3/reference/options/contracts/<options_ticker>
 *            GET /m/<mode>/v2/aggs/ticker/<ticker>/range/1/day/<from>/<to>[?adjusted=..&sort=..
 *                    &limit=..]
 *   stats    GET /stats?mode=<mode>&key=<key>  -> request count as text
 *
 * Usage: fake_options PORT_FILE
 *   Binds 127.0.0.1 on an ephemeral port, writes "<port>\n" to PORT_FILE
 *   (through PORT_FILE.tmp + rename, so a poller never reads half a
 *   number), serves until SIGTERM or SIGINT, then exits 0.
 *
 * Wire formats follow ../shared/docs/external-apis.md, sections 5 and 6.
 *
 * DESIGN (the same as fake_feeds.c)
 * - The <mode> path segment picks a scenario (see mode_names[]), so one
 *   server instance serves every scenario and tests need no control API.
 *   A mode that does not apply to a service (e.g. "paged" for Tradier,
 *   "one" for Polygon) behaves as "ok" there.
 * - All data is a pure function of (symbol, expiration, strike, type,
 *   date); the only state is the request counters ("once" modes, /stats)
 *   and Tradier's rate-limit windows.
 * - Each response is built whole in a capped growable buffer and handed to
 *   MHD, which frees it. Memory per request is therefore bounded.
 * - Thread per connection: "slow" just sleeps in its own thread and does
 *   not hold up other clients.
 *
 * CREDENTIALS
 *   Tradier  Authorization: Bearer tradier-sandbox-token-0123456789
 *   Polygon  Authorization: Bearer polygon-key-0123456789abcdef, or the query
 *            parameter apiKey=polygon-key-0123456789abcdef (either one valid is enough)
 *   The "Bearer" scheme is matched without regard to case, the token exactly.
 *
 * UNIVERSE
 * - Known underlyings: 1 to 6 upper-case letters, except NOSUCH. Anything
 *   else (NOSUCH, lower case, digits) is unknown and gets the empty answers.
 * - Spot of every underlying: 100.00.
 * - Expirations (e = 0, 1, 2): 2024-07-05 (expiration_type "weeklys"),
 *   2024-07-19 and 2024-08-16 ("standard").
 * - Strikes K in {90, 95, 100, 105, 110}. In one expiration the chain is
 *   strike ascending, call before put: i = 2 * strike_index + (put ? 1 : 0),
 *   i = 0..9.
 * - OCC symbol: ROOT + YYMMDD + C|P + K*1000 as 8 digits, e.g.
 *   ACME240719C00100000; Polygon tickers add "O:" in front.
 *
 * DATA (per contract K, type, e, i; all values are exact to 1e-6 and are
 *       printed in full, with at least one decimal: 100.0, 2.15, 0.261)
 *   intrinsic     = max(0, 100 - K) call, max(0, K - 100) put
 *   mid           = intrinsic + 1.50 + 0.50 e
 *   bid, ask      = mid - 0.05, mid + 0.05
 *   last          = mid, except the 110 call: null (and trade_date 0)
 *   volume        = 10 (i + 1)           open_interest = 100 (i + 1)
 *   open, prevclose = mid; high, low = mid + 0.10, mid - 0.10; close null;
 *   change, change_percentage = 0.0. The 110 call has no trade: last,
 *   change, change_percentage, open, high, low are null, last_volume 0,
 *   trade_date 0 (other contracts: last_volume 1, trade_date 1719601139000).
 *   bid_date = ask_date = 1719601199000; bidsize = asksize = 10;
 *   exch "Z", bidexch "N", askexch "Q"; average_volume 0;
 *   week_52_high = week_52_low = 0.0; contract_size 100.
 *   description   "ACME Jul 19 2024 $100.00 Call" (day not zero-padded)
 *   greeks        delta = clamp(0.5 + (100 - K) / 50, 0.01, 0.99) call,
 *                 call delta - 1 put; gamma 0.03; theta -0.04; vega 0.11;
 *                 rho 0.04 call / -0.04 put; phi -0.05;
 *                 mid_iv = 0.25 + 0.001 |K - 100| + 0.01 e;
 *                 bid_iv = mid_iv - 0.01; ask_iv = mid_iv + 0.01;
 *                 smv_vol = mid_iv; updated_at "2024-06-28 14:58:59"
 *   stock quote   last, open, high, low, prevclose, week_52_* 100.0; bid 99.99;
 *                 ask 100.01; close null; change, change_percentage 0.0;
 *                 volume 1000000; average_volume 1000000; last_volume 100;
 *                 type "stock"; exch "Q"; description "<S> Fake Corp"
 *   daily bars    Tradier history: every weekday (no holidays) in [start, end],
 *                 open = high = low = close = 100.0, volume 1000000.
 *                 Polygon aggs, every weekday in [from, to]: option ticker:
 *                 o = c = vw = mid, h = mid + 0.10, l = mid - 0.10,
 *                 v = 10 (i + 1) as a float, n = 5; stock ticker: o = h = l =
 *                 c = vw = 100.0, v = 1000000.0, n = 1000. t = epoch ms of
 *                 that day's midnight in New York: 04:00Z from the second
 *                 Sunday of March to the first Sunday of November, else
 *                 05:00Z. Bars do not stop at the contract's expiration.
 *
 * TRADIER
 * - Checks, in order: the bearer token (401, Content-Type "plain/text" (sic),
 *   body "Invalid Access Token", no rate-limit headers); the rate limit;
 *   the mode's failure; Accept. Without "application/json" in Accept the
 *   answer is 200 application/xml: a small XML document (the expiration
 *   dates for expirations, an empty root element otherwise), not the data.
 * - Every response except the 401 carries X-Ratelimit-Allowed, -Available,
 *   -Used and -Expiry (epoch ms when the window ends). Each mode has its
 *   own window, shared by the four endpoints, that starts with the first
 *   request after the previous window ended: 120 requests per 60 s, or 4
 *   per 1 s in "ratelimit". Used = the requests of the window so far
 *   (this one included), at most Allowed; Available = Allowed - Used. A
 *   request past Allowed gets 429 text/plain "Quota Violation" (Used =
 *   Allowed, Available 0). This applies in every mode, so more than 120
 *   requests a minute in one mode are refused.
 * - expirations: {"expirations":{"date":["2024-07-05","2024-07-19","2024-08-16"]}};
 *   unknown symbol {"expirations":null}. With strikes=true, contractSize=true
 *   or expirationType=true the entries become objects (the doc's
 *   [UNVERIFIED] shape): {"expirations":{"expiration":[{"date":..,
 *   "contract_size":100 (contractSize=true), "expiration_type":..
 *   (expirationType=true), "strikes":{"strike":[90.0,..,110.0]} (strikes=true)}]}}.
 *   includeAllRoots is ignored.
 * - chains: {"options":{"option":[10 contracts]}}, greeks an object when
 *   greeks=true, null otherwise. Unknown symbol or expiration (any value
 *   other than the three dates) {"options":null}. Missing expiration:
 *   400 {"fault":{"faultstring":"Missing required parameter: expiration",
 *   "detail":{"errorcode":"protocol.http.BadRequest"}}}.
 * - quotes: symbols split at ',' (spaces around a symbol dropped). A known
 *   stock gives the stock quote; a known OCC option symbol gives the
 *   chain entry of that contract (greeks as for chains). One match is a
 *   bare object, several an array. Unknown symbols are listed as Tradier
 *   does: "unmatched_symbols":{"symbol":"NOSUCH"} (an array when several),
 *   and "quote" is absent when nothing matched:
 *   {"quotes":{"unmatched_symbols":{"symbol":"NOSUCH"}}}. No symbol at all
 *   (e.g. "symbols=,"): {"quotes":null}.
 * - history: {"history":{"day":[{"date","open","high","low","close","volume"}]}},
 *   a bare object for one bar, {"history":null} for none or an unknown
 *   symbol. interval must be daily (absent means daily); start and end are
 *   required YYYY-MM-DD; at most HISTORY_MAX_BARS bars.
 * - A missing symbol (symbols), a bad date or interval, or too long a
 *   range is a 400 Apigee fault like the one above.
 * - Request key (stats, "once" modes): "<endpoint>:<symbol>", endpoint one
 *   of expirations, chains, quotes, history; for quotes the symbols
 *   parameter as given. Every request to an endpoint counts, whatever its
 *   answer (401 included).
 *
 * MODES (Tradier)
 *   ok          normal data
 *   one         one-element collections: expirations gives only 2024-07-19,
 *               as a bare string ({"expirations":{"date":"2024-07-19"}}) or
 *               bare object; a chain gives only its own 100 call, as a bare
 *               object ({"options":{"option":{...}}})
 *   null        expirations as usual, every chain {"options":null}
 *   nogreeks    greeks null for every put even with greeks=true
 *   401         always the 401 above
 *   ratelimit   Allowed 4, window 1 s: the 5th request in a window is a
 *               429 "Quota Violation" with Available 0; the next window
 *               starts fresh
 *   429once     first request per key: 429 text/plain "Quota Violation",
 *               headers Available 0, Used = Allowed, Expiry = now + 1 s
 *               (the window itself is counted as usual); then normal
 *   500once     first request per key: 500 {"fault":{"faultstring":
 *               "Internal Server Error","detail":{"errorcode":
 *               "protocol.http.InternalServerError"}}}; then normal
 *   500always   always that 500
 *   slow        normal answer after SLOW_SECONDS (cut short by SIGTERM)
 *   truncated   200 with the normal body cut in half
 *   html        200 text/html maintenance page
 *
 * POLYGON
 * - Checks, in order: the key (mode "401": always Unknown API Key), then the
 *   mode's failure, then the request. Errors:
 *   401 {"status":"ERROR","request_id":"<hex>","error":"API Key was not provided"}
 *   401 {"status":"ERROR","request_id":"<hex>","error":"Unknown API Key"}
 *   400 {"status":"ERROR","request_id":"<hex>","error":"<what is wrong>"}
 *   404 {"status":"NOT_FOUND","request_id":"<hex>","message":"<what>"}
 *   request_id is 32 hex digits, new for every response.
 * - contracts: the known underlying's 30 contracts, filtered (all filters
 *   AND-ed; expiration_date and strike_price with their .gte/.gt/.lte/.lt
 *   forms; strike_price a decimal with up to 6 decimals), sorted by sort
 *   (expiration_date, the default, and underlying_ticker: expiration,
 *   strike, call before put; strike_price: strike, expiration, call before
 *   put; ticker: expiration, call before put, strike), reversed by
 *   order=desc (default asc), then paged by limit (1..1000, default 10).
 *   Each result: {"cfi":"OCASPS" (put: "OPASPS"),"contract_type",
 *   "exercise_style":"american","expiration_date","primary_exchange":"BATO",
 *   "shares_per_contract":100,"strike_price":100,"ticker","underlying_ticker"}.
 *   next_url = http://127.0.0.1:<port>/m/<mode>/v3/reference/options/contracts
 *   ?cursor=<base64url> is present only when more results remain; it has no
 *   apiKey. The cursor holds the filters, sort, limit and the offset; a
 *   request with cursor ignores every other parameter but apiKey. as_of
 *   (YYYY-MM-DD) and expired (true|false) are validated, then ignored: the
 *   fake's contracts exist at every date. A missing underlying_ticker, a
 *   bad value of any parameter above or a bad cursor is a 400. Unknown
 *   underlying, or nothing left after the filters: "results":[] and no
 *   next_url.
 * - contract: {"results":{<one contract>},"status":"OK","request_id":..};
 *   the ticker must be "O:" + the OCC symbol of a known contract, else 404.
 * - aggs: {"ticker","queryCount","resultsCount","adjusted","results":[bars],
 *   "status":"OK","request_id","count"}, the three counts equal to the
 *   number of bars; with no bars (weekend range, from > to, unknown
 *   contract, NOSUCH) the counts are 0 and "results" is absent. Bar keys
 *   v, vw, o, c, h, l, t, n. multiplier must be 1 and timespan day;
 *   from/to YYYY-MM-DD; sort asc (default) or desc; limit 1..50000
 *   (default 5000) keeps the first bars in that order; adjusted echoes
 *   adjusted=false, else true. Other values are a 400.
 * - Request key: "contracts:<underlying_ticker>" for listing pages (a
 *   cursor request counts under the underlying in its cursor),
 *   "contract:<ticker>" for one contract, "aggs:<ticker>" for aggregates.
 *   Every request counts, whatever its answer.
 *
 * MODES (Polygon)
 *   ok          normal data
 *   paged       limit capped at PAGED_LIMIT (7), so listings page through next_url
 *   401         always 401 "Unknown API Key"
 *   403         after a valid key: 403 {"status":"NOT_AUTHORIZED","request_id":..,
 *               "message":"You are not entitled to this data. Please upgrade
 *               your plan at https://polygon.io/pricing"}
 *   429once     first request per key: 429 {"status":"ERROR","request_id":..,
 *               "error":"You've exceeded the maximum requests per minute, ..."}
 *   500once     first request per key: 500 {"status":"ERROR","request_id":..,
 *               "error":"Internal Server Error"}; then normal
 *   500always   always that 500
 *   slow        normal answer after SLOW_SECONDS (cut short by SIGTERM)
 *   truncated   200 with the normal body cut in half
 *   html        200 text/html maintenance page
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BODY_MAX          (8u * 1024u * 1024u) /* the largest body (50000 bars) is ~4.5 MB */
#define COUNTER_SLOTS     4096
#define COUNTER_KEY_MAX   256
#define SLOW_SECONDS      5
#define ECHO_MAX          64 /* longest client value echoed in a body */
#define SYMBOL_MAX        6
#define OCC_MAX           32
#define NEXP              3
#define NSTRIKE           5
#define NCONTRACT         (NEXP * NSTRIKE * 2)
#define MICRO             1000000LL
#define SPOT              (100 * MICRO)
#define HISTORY_MAX_BARS  50000L
#define AGGS_LIMIT_MAX    50000LL
#define AGGS_LIMIT_DEF    5000LL
#define LIST_LIMIT_MAX    1000LL
#define LIST_LIMIT_DEF    10LL
#define PAGED_LIMIT       7LL
#define OFFSET_MAX        1000000LL
#define CURSOR_TEXT_MAX   1024
#define CURSOR_ENC_MAX    1400 /* base64 of CURSOR_TEXT_MAX bytes is 1366 characters */
#define PARAMS_MAX        32
#define AGGS_PATH_MAX     256
#define RL_ALLOWED        120
#define RL_WINDOW_MS      60000LL
#define RL_TEST_ALLOWED   4
#define RL_TEST_WINDOW_MS 1000LL
#define PENALTY_MS        1000LL          /* Expiry of a "429once" refusal: now + this */
#define TS_TRADE          1719601139000LL /* 2024-06-28 14:58:59 New York */
#define TS_QUOTE          1719601199000LL /* a minute later */

#define TRADIER_TOKEN "tradier-sandbox-token-0123456789"
#define POLYGON_KEY   "polygon-key-0123456789abcdef"
#define UNKNOWN_SYM   "NOSUCH"

#define TR_PREFIX      "/v1/markets/"
#define PG_CONTRACTS   "/v3/reference/options/contracts"
#define PG_AGGS_PREFIX "/v2/aggs/ticker/"

#define CT_JSON       "application/json"
#define CT_XML        "application/xml"
#define CT_HTML       "text/html"
#define CT_TEXT       "text/plain"
#define CT_PLAIN_TEXT "plain/text" /* sic: what Tradier sends with its 401 */

#define TR_BODY_401   "Invalid Access Token"
#define TR_BODY_QUOTA "Quota Violation"
#define TR_BODY_500                                                                                \
    "{\"fault\":{\"faultstring\":\"Internal Server Error\",\"detail\":{\"errorcode\":"             \
    "\"protocol.http.InternalServerError\"}}}"
#define PG_MSG_NO_KEY  "API Key was not provided"
#define PG_MSG_BAD_KEY "Unknown API Key"
#define PG_MSG_403                                                                                 \
    "You are not entitled to this data. Please upgrade your plan at https://polygon.io/pricing"
#define PG_MSG_429                                                                                 \
    "You've exceeded the maximum requests per minute, please wait or upgrade your "                \
    "subscription to continue."
#define PG_MSG_500 "Internal Server Error"
#define HTML_MAINT                                                                                 \
    "<!DOCTYPE html><html><head><title>Scheduled Maintenance</title></head><body>"                 \
    "<h1>We are down for scheduled maintenance</h1><p>Please try again later.</p></body></html>"
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

enum mode {
    MODE_OK,
    MODE_ONE,
    MODE_NULL,
    MODE_NOGREEKS,
    MODE_401,
    MODE_403,
    MODE_RATELIMIT,
    MODE_PAGED,
    MODE_429ONCE,
    MODE_500ONCE,
    MODE_500ALWAYS,
    MODE_SLOW,
    MODE_TRUNCATED,
    MODE_HTML,
    MODE__COUNT
};

static const char *const mode_names[MODE__COUNT] = {
    [MODE_OK] = "ok",
    [MODE_ONE] = "one",
    [MODE_NULL] = "null",
    [MODE_NOGREEKS] = "nogreeks",
    [MODE_401] = "401",
    [MODE_403] = "403",
    [MODE_RATELIMIT] = "ratelimit",
    [MODE_PAGED] = "paged",
    [MODE_429ONCE] = "429once",
    [MODE_500ONCE] = "500once",
    [MODE_500ALWAYS] = "500always",
    [MODE_SLOW] = "slow",
    [MODE_TRUNCATED] = "truncated",
    [MODE_HTML] = "html",
};

enum tr_endpoint { TR_EXPIRATIONS, TR_CHAINS, TR_QUOTES, TR_HISTORY };

static const char *const tr_names[] = {
    [TR_EXPIRATIONS] = "expirations",
    [TR_CHAINS] = "chains",
    [TR_QUOTES] = "quotes",
    [TR_HISTORY] = "history",
};

/* Set once a stop signal arrives, so a sleeping "slow" request wakes up
 * and MHD_stop_daemon() does not wait out the full delay. */
static atomic_bool stopping;

/* The bound port, for Polygon's next_url. */
static atomic_uint bound_port;

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

/* A fixed-point value in millionths as a JSON number with at least one
 * decimal and no trailing zeros past it: 100.0, 2.15, -0.04, 0.261. The
 * text is exact, so any double parser gets the nearest double to it. */
static void
buf_dec(struct buf *b, long long micros)
{
    char t[40];
    unsigned long long v =
        micros < 0 ? 0ULL - (unsigned long long)micros : (unsigned long long)micros;
    unsigned long long ip = v / (unsigned long long)MICRO;
    unsigned long long frac = v % (unsigned long long)MICRO;
    int n;

    if (frac == 0) {
        n = snprintf(t, sizeof t, "%s%llu.0", micros < 0 ? "-" : "", ip);
    } else {
        n = snprintf(t, sizeof t, "%s%llu.%06llu", micros < 0 ? "-" : "", ip, frac);
        while (n > 0 && t[n - 1] == '0')
            n--;
    }
    buf_append(b, t, (size_t)n);
}

/* A JSON string of at most max bytes of s[0..len). Bytes >= 0x80 are
 * escaped too, so odd input can never make the body invalid UTF-8. */
static void
buf_json_strn(struct buf *b, const char *s, size_t len, size_t max)
{
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < len && s[i] != '\0' && i < max; i++) {
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

/* A JSON string of our own (a message): never cut. */
static void
buf_json_str(struct buf *b, const char *s)
{
    buf_json_strn(b, s, strlen(s), SIZE_MAX);
}

/* A client's value echoed back: at most ECHO_MAX bytes of it. */
static void
buf_json_echo(struct buf *b, const char *s)
{
    buf_json_strn(b, s, strlen(s), ECHO_MAX);
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

static bool
is_weekday(long day)
{
    int wd = weekday(day);
    return wd >= 1 && wd <= 5;
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

/* Epoch ms of the day's midnight in New York. */
static long long
ny_midnight_ms(long day)
{
    return ((long long)day * 86400LL + (is_edt(day) ? 4LL : 5LL) * 3600LL) * 1000LL;
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

static void
buf_ymd(struct buf *b, long day)
{
    int y, m, d;

    civil_from_days(day, &y, &m, &d);
    buf_printf(b, "%04d-%02d-%02d", y, m, d);
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

/* A non-negative decimal "123" or "97.5" (up to 9 integer digits and 6
 * decimals) in millionths; nothing else, so the value is exact. */
static bool
parse_micros(const char *s, long long *out)
{
    long long ip = 0, frac = 0;
    int nint = 0, nfrac = 0;
    const char *p = s;

    for (; *p >= '0' && *p <= '9'; p++, nint++) {
        if (nint == 9)
            return false;
        ip = ip * 10 + (*p - '0');
    }
    if (nint == 0)
        return false;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
            if (nfrac == 6)
                return false;
            frac = frac * 10 + (*p - '0');
        }
        if (nfrac == 0)
            return false;
    }
    if (*p != '\0')
        return false;
    for (int i = nfrac; i < 6; i++)
        frac *= 10;
    *out = ip * MICRO + frac;
    return true;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* ------------------------------------------------------------------ */
/* The option universe: the same chain for every known underlying. */

struct expiry {
    int y, m, d;
    const char *ymd;  /* 2024-07-19 */
    const char *occ;  /* 240719 */
    const char *type; /* Tradier expiration_type */
    const char *desc; /* Jul 19 2024 */
};

static const struct expiry expiries[NEXP] = {
    {2024, 7, 5, "2024-07-05", "240705", "weeklys", "Jul 5 2024"},
    {2024, 7, 19, "2024-07-19", "240719", "standard", "Jul 19 2024"},
    {2024, 8, 16, "2024-08-16", "240816", "standard", "Aug 16 2024"},
};

struct contract {
    int e; /* expiration index 0..2 */
    int k; /* strike index 0..4 */
    bool put;
};

static bool
symbol_known(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > SYMBOL_MAX || strcmp(s, UNKNOWN_SYM) == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    }
    return true;
}

static int
expiry_find(const char *ymd)
{
    for (int e = 0; e < NEXP; e++) {
        if (strcmp(expiries[e].ymd, ymd) == 0)
            return e;
    }
    return -1;
}

static long
expiry_day(int e)
{
    return days_from_civil(expiries[e].y, expiries[e].m, expiries[e].d);
}

static int
c_strike(const struct contract *c)
{
    return 90 + 5 * c->k;
}

static int
c_index(const struct contract *c)
{
    return 2 * c->k + (c->put ? 1 : 0);
}

/* The 110 call has never traded. */
static bool
c_traded(const struct contract *c)
{
    return c->put || c->k != NSTRIKE - 1;
}

static long long
c_mid(const struct contract *c)
{
    long long strike = (long long)c_strike(c) * MICRO;
    long long intrinsic = c->put ? strike - SPOT : SPOT - strike;

    if (intrinsic < 0)
        intrinsic = 0;
    return intrinsic + 1500000LL + 500000LL * c->e;
}

static long long
c_delta(const struct contract *c)
{
    long long call = 500000LL + (100LL - c_strike(c)) * MICRO / 50LL;

    if (call < 10000LL)
        call = 10000LL;
    if (call > 990000LL)
        call = 990000LL;
    return c->put ? call - MICRO : call;
}

static long long
c_mid_iv(const struct contract *c)
{
    int dist = c_strike(c) - 100;

    return 250000LL + 1000LL * (dist < 0 ? -dist : dist) + 10000LL * c->e;
}

static void
c_occ(const struct contract *c, const char *root, char out[OCC_MAX])
{
    snprintf(out, OCC_MAX, "%s%s%c%08d", root, expiries[c->e].occ, c->put ? 'P' : 'C',
             c_strike(c) * 1000);
}

/* An OCC symbol of a known contract: ROOT YYMMDD C|P 8 digits. */
static bool
c_parse(const char *s, char root[SYMBOL_MAX + 1], struct contract *c)
{
    size_t n = 0;

    while (s[n] >= 'A' && s[n] <= 'Z' && n <= SYMBOL_MAX)
        n++;
    if (n == 0 || n > SYMBOL_MAX || strlen(s + n) != 15)
        return false;
    memcpy(root, s, n);
    root[n] = '\0';
    if (!symbol_known(root))
        return false;
    for (int e = 0; e < NEXP; e++) {
        for (int k = 0; k < NSTRIKE; k++) {
            for (int put = 0; put < 2; put++) {
                struct contract t = {.e = e, .k = k, .put = put != 0};
                char occ[OCC_MAX];
                c_occ(&t, root, occ);
                if (strcmp(occ, s) == 0) {
                    *c = t;
                    return true;
                }
            }
        }
    }
    return false;
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

/* Long keys are cut to fit; only absurd symbol lists can collide. */
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
/* Tradier's rate-limit windows, one per mode. */

struct ratelimit {
    long long allowed;
    long long available;
    long long used;
    long long expiry; /* epoch ms */
};

struct rl_window {
    long long start; /* epoch ms; 0: no window yet */
    long long used;
};

static struct rl_window rl_windows[MODE__COUNT];
static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;

/* Count one request in the mode's window; false if it is over the limit. */
static bool
ratelimit_take(enum mode mode, struct ratelimit *rl)
{
    bool test = mode == MODE_RATELIMIT;
    long long window = test ? RL_TEST_WINDOW_MS : RL_WINDOW_MS;
    long long now = now_ms();

    rl->allowed = test ? RL_TEST_ALLOWED : RL_ALLOWED;
    pthread_mutex_lock(&rl_lock);
    struct rl_window *w = &rl_windows[mode];
    if (w->start == 0 || now >= w->start + window) {
        w->start = now;
        w->used = 0;
    }
    w->used++;
    long long used = w->used;
    rl->expiry = w->start + window;
    pthread_mutex_unlock(&rl_lock);
    rl->used = used < rl->allowed ? used : rl->allowed;
    rl->available = rl->allowed - rl->used;
    return used <= rl->allowed;
}

/* ------------------------------------------------------------------ */
/* A reply is either a static text or a built body, plus status, type and
 * optionally Tradier's rate-limit headers. */

struct reply {
    unsigned status;
    const char *ctype;
    const char *text; /* static body; NULL means use body */
    struct buf body;
    bool has_rl;
    struct ratelimit rl;
};

static void
reply_text(struct reply *r, unsigned status, const char *ctype, const char *text)
{
    buf_release(&r->body);
    r->status = status;
    r->ctype = ctype;
    r->text = text;
}

/* Start a built body (dropping any partial one). */
static struct buf *
reply_body(struct reply *r, unsigned status, const char *ctype)
{
    buf_release(&r->body);
    r->text = NULL;
    r->status = status;
    r->ctype = ctype;
    return &r->body;
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

static void
add_header_ll(struct MHD_Response *resp, const char *name, long long v)
{
    char t[32];

    snprintf(t, sizeof t, "%lld", v);
    MHD_add_response_header(resp, name, t);
}

static enum MHD_Result
reply_send(struct MHD_Connection *con, struct reply *r)
{
    if (r->text == NULL && r->body.failed)
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_TEXT,
                   "fake_options: body too large or out of memory\n");
    struct MHD_Response *resp = reply_response(r);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->has_rl) {
        add_header_ll(resp, "X-Ratelimit-Allowed", r->rl.allowed);
        add_header_ll(resp, "X-Ratelimit-Available", r->rl.available);
        add_header_ll(resp, "X-Ratelimit-Used", r->rl.used);
        add_header_ll(resp, "X-Ratelimit-Expiry", r->rl.expiry);
    }
    enum MHD_Result ret = MHD_queue_response(con, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* MHD matches argument names without regard to case; the vendors do not,
 * so walk the arguments and compare exactly. The first occurrence wins. */
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

static bool
arg_is_true(struct MHD_Connection *con, const char *name)
{
    const char *v = query_arg(con, name);
    return v != NULL && strcmp(v, "true") == 0;
}

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *
bearer_token(struct MHD_Connection *con)
{
    const char *h =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    return h + 7;
}

/* Sleep in short steps so a stop signal is not held up by a slow reply. */
static void
slow_sleep(void)
{
    struct timespec step = {.tv_sec = 0, .tv_nsec = 100L * 1000L * 1000L};

    for (int i = 0; i < SLOW_SECONDS * 10 && !atomic_load(&stopping); i++)
        nanosleep(&step, NULL);
}

/* ------------------------------------------------------------------ */
/* Tradier. */

static void
tr_fault(struct reply *r, unsigned status, const char *faultstring, const char *errorcode)
{
    struct buf *b = reply_body(r, status, CT_JSON);

    buf_puts(b, "{\"fault\":{\"faultstring\":");
    buf_json_str(b, faultstring);
    buf_puts(b, ",\"detail\":{\"errorcode\":");
    buf_json_str(b, errorcode);
    buf_puts(b, "}}}");
}

static void
tr_bad_request(struct reply *r, const char *faultstring)
{
    tr_fault(r, MHD_HTTP_BAD_REQUEST, faultstring, "protocol.http.BadRequest");
}

/* A value, or null when the contract has not traded. */
static void
tr_traded_dec(struct buf *b, const struct contract *c, long long v)
{
    if (c_traded(c))
        buf_dec(b, v);
    else
        buf_puts(b, "null");
}

static void
tr_greeks(struct buf *b, const struct contract *c)
{
    long long iv = c_mid_iv(c);

    buf_puts(b, "{\"delta\":");
    buf_dec(b, c_delta(c));
    buf_puts(b, ",\"gamma\":0.03,\"theta\":-0.04,\"vega\":0.11,\"rho\":");
    buf_puts(b, c->put ? "-0.04" : "0.04");
    buf_puts(b, ",\"phi\":-0.05,\"bid_iv\":");
    buf_dec(b, iv - 10000LL);
    buf_puts(b, ",\"mid_iv\":");
    buf_dec(b, iv);
    buf_puts(b, ",\"ask_iv\":");
    buf_dec(b, iv + 10000LL);
    buf_puts(b, ",\"smv_vol\":");
    buf_dec(b, iv);
    buf_puts(b, ",\"updated_at\":\"2024-06-28 14:58:59\"}");
}

/* One option as a chain entry (and as an option quote). */
static void
tr_option(struct buf *b, const struct contract *c, const char *root, bool greeks)
{
    char occ[OCC_MAX];
    long long mid = c_mid(c);
    int idx = c_index(c);
    const struct expiry *x = &expiries[c->e];
    bool traded = c_traded(c);

    c_occ(c, root, occ);
    buf_printf(b,
               "{\"symbol\":\"%s\",\"description\":\"%s %s $%d.00 %s\",\"exch\":\"Z\","
               "\"type\":\"option\",\"last\":",
               occ, root, x->desc, c_strike(c), c->put ? "Put" : "Call");
    tr_traded_dec(b, c, mid);
    buf_puts(b, ",\"change\":");
    tr_traded_dec(b, c, 0);
    buf_printf(b, ",\"volume\":%d,\"open\":", 10 * (idx + 1));
    tr_traded_dec(b, c, mid);
    buf_puts(b, ",\"high\":");
    tr_traded_dec(b, c, mid + 100000LL);
    buf_puts(b, ",\"low\":");
    tr_traded_dec(b, c, mid - 100000LL);
    buf_puts(b, ",\"close\":null,\"bid\":");
    buf_dec(b, mid - 50000LL);
    buf_puts(b, ",\"ask\":");
    buf_dec(b, mid + 50000LL);
    buf_printf(b, ",\"underlying\":\"%s\",\"strike\":%d.0,\"change_percentage\":", root,
               c_strike(c));
    tr_traded_dec(b, c, 0);
    buf_printf(b, ",\"average_volume\":0,\"last_volume\":%d,\"trade_date\":%lld,\"prevclose\":",
               traded ? 1 : 0, traded ? TS_TRADE : 0LL);
    buf_dec(b, mid);
    buf_printf(b,
               ",\"week_52_high\":0.0,\"week_52_low\":0.0,\"bidsize\":10,\"bidexch\":\"N\","
               "\"bid_date\":%lld,\"asksize\":10,\"askexch\":\"Q\",\"ask_date\":%lld,"
               "\"open_interest\":%d,\"contract_size\":100,\"expiration_date\":\"%s\","
               "\"expiration_type\":\"%s\",\"option_type\":\"%s\",\"root_symbol\":\"%s\","
               "\"greeks\":",
               TS_QUOTE, TS_QUOTE, 100 * (idx + 1), x->ymd, x->type, c->put ? "put" : "call", root);
    if (greeks)
        tr_greeks(b, c);
    else
        buf_puts(b, "null");
    buf_puts(b, "}");
}

static void
tr_stock_quote(struct buf *b, const char *symbol)
{
    buf_printf(b,
               "{\"symbol\":\"%s\",\"description\":\"%s Fake Corp\",\"exch\":\"Q\","
               "\"type\":\"stock\",\"last\":100.0,\"change\":0.0,\"volume\":1000000,"
               "\"open\":100.0,\"high\":100.0,\"low\":100.0,\"close\":null,\"bid\":99.99,"
               "\"ask\":100.01,\"change_percentage\":0.0,\"average_volume\":1000000,"
               "\"last_volume\":100,\"trade_date\":%lld,\"prevclose\":100.0,"
               "\"week_52_high\":100.0,\"week_52_low\":100.0,\"bidsize\":1,\"bidexch\":\"Q\","
               "\"bid_date\":%lld,\"asksize\":1,\"askexch\":\"Q\",\"ask_date\":%lld,"
               "\"root_symbols\":\"%s\"}",
               symbol, symbol, TS_TRADE, TS_QUOTE, TS_QUOTE, symbol);
}

/* One entry of the objects form of expirations. */
static void
tr_expiration_object(struct buf *b, int e, bool size, bool type, bool strikes)
{
    buf_printf(b, "{\"date\":\"%s\"", expiries[e].ymd);
    if (size)
        buf_puts(b, ",\"contract_size\":100");
    if (type)
        buf_printf(b, ",\"expiration_type\":\"%s\"", expiries[e].type);
    if (strikes) {
        buf_puts(b, ",\"strikes\":{\"strike\":[");
        for (int k = 0; k < NSTRIKE; k++)
            buf_printf(b, "%s%d.0", k > 0 ? "," : "", 90 + 5 * k);
        buf_puts(b, "]}");
    }
    buf_puts(b, "}");
}

static void
tr_expirations(struct MHD_Connection *con, enum mode mode, const char *symbol, struct reply *r)
{
    bool size = arg_is_true(con, "contractSize");
    bool type = arg_is_true(con, "expirationType");
    bool strikes = arg_is_true(con, "strikes");
    bool objects = size || type || strikes;
    bool one = mode == MODE_ONE;
    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_JSON);

    if (!symbol_known(symbol)) {
        buf_puts(b, "{\"expirations\":null}");
        return;
    }
    buf_puts(b, objects ? "{\"expirations\":{\"expiration\":" : "{\"expirations\":{\"date\":");
    if (!one)
        buf_puts(b, "[");
    for (int e = one ? 1 : 0; e < (one ? 2 : NEXP); e++) {
        if (e > 0 && !one)
            buf_puts(b, ",");
        if (objects)
            tr_expiration_object(b, e, size, type, strikes);
        else
            buf_printf(b, "\"%s\"", expiries[e].ymd);
    }
    if (!one)
        buf_puts(b, "]");
    buf_puts(b, "}}");
}

static void
tr_chains(struct MHD_Connection *con, enum mode mode, const char *symbol, struct reply *r)
{
    const char *expiration = query_arg_set(con, "expiration");
    bool greeks = arg_is_true(con, "greeks");

    if (expiration == NULL) {
        tr_bad_request(r, "Missing required parameter: expiration");
        return;
    }
    int e = expiry_find(expiration);
    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_JSON);
    if (mode == MODE_NULL || !symbol_known(symbol) || e < 0) {
        buf_puts(b, "{\"options\":null}");
        return;
    }
    buf_puts(b, "{\"options\":{\"option\":");
    if (mode == MODE_ONE) {
        struct contract c = {.e = e, .k = 2, .put = false};
        tr_option(b, &c, symbol, greeks);
        buf_puts(b, "}}");
        return;
    }
    buf_puts(b, "[");
    for (int k = 0; k < NSTRIKE; k++) {
        for (int put = 0; put < 2; put++) {
            struct contract c = {.e = e, .k = k, .put = put != 0};
            if (k > 0 || put > 0)
                buf_puts(b, ",");
            tr_option(b, &c, symbol, greeks && !(mode == MODE_NOGREEKS && c.put));
        }
    }
    buf_puts(b, "]}}");
}

/* The next symbol of a comma-separated list, spaces trimmed: [*tok, *tok + *len). */
static bool
next_symbol(const char **p, const char **tok, size_t *len)
{
    while (**p != '\0') {
        const char *s = *p;
        size_t n = strcspn(s, ",");
        *p = s[n] == ',' ? s + n + 1 : s + n;
        while (n > 0 && *s == ' ') {
            s++;
            n--;
        }
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (n > 0) {
            *tok = s;
            *len = n;
            return true;
        }
    }
    return false;
}

enum quote_kind { QUOTE_NONE, QUOTE_STOCK, QUOTE_OPTION };

static enum quote_kind
quote_classify(const char *tok, size_t len, char sym[OCC_MAX], char root[SYMBOL_MAX + 1],
               struct contract *c)
{
    if (len >= OCC_MAX)
        return QUOTE_NONE;
    memcpy(sym, tok, len);
    sym[len] = '\0';
    if (symbol_known(sym))
        return QUOTE_STOCK;
    if (c_parse(sym, root, c))
        return QUOTE_OPTION;
    return QUOTE_NONE;
}

static void
tr_quotes(struct MHD_Connection *con, enum mode mode, const char *symbols, struct reply *r)
{
    bool greeks = arg_is_true(con, "greeks");
    size_t matched = 0, unmatched = 0, i;
    const char *p = symbols, *tok;
    size_t len;
    char sym[OCC_MAX], root[SYMBOL_MAX + 1];
    struct contract c;

    while (next_symbol(&p, &tok, &len)) {
        if (quote_classify(tok, len, sym, root, &c) != QUOTE_NONE)
            matched++;
        else
            unmatched++;
    }
    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_JSON);
    if (matched + unmatched == 0) {
        buf_puts(b, "{\"quotes\":null}");
        return;
    }
    buf_puts(b, "{\"quotes\":{");
    if (matched > 0) {
        buf_puts(b, matched > 1 ? "\"quote\":[" : "\"quote\":");
        for (p = symbols, i = 0; next_symbol(&p, &tok, &len);) {
            enum quote_kind kind = quote_classify(tok, len, sym, root, &c);
            if (kind == QUOTE_NONE)
                continue;
            if (i++ > 0)
                buf_puts(b, ",");
            if (kind == QUOTE_STOCK)
                tr_stock_quote(b, sym);
            else
                tr_option(b, &c, root, greeks && !(mode == MODE_NOGREEKS && c.put));
        }
        buf_puts(b, matched > 1 ? "]" : "");
    }
    if (unmatched > 0) {
        buf_puts(b, matched > 0 ? "," : "");
        buf_puts(b, unmatched > 1 ? "\"unmatched_symbols\":{\"symbol\":["
                                  : "\"unmatched_symbols\":{\"symbol\":");
        for (p = symbols, i = 0; next_symbol(&p, &tok, &len);) {
            if (quote_classify(tok, len, sym, root, &c) != QUOTE_NONE)
                continue;
            if (i++ > 0)
                buf_puts(b, ",");
            buf_json_strn(b, tok, len, ECHO_MAX);
        }
        buf_puts(b, unmatched > 1 ? "]}" : "}");
    }
    buf_puts(b, "}}");
}

static void
tr_history(struct MHD_Connection *con, const char *symbol, struct reply *r)
{
    const char *interval = query_arg_set(con, "interval");
    const char *start_s = query_arg_set(con, "start");
    const char *end_s = query_arg_set(con, "end");
    long start, end, n = 0;

    if (interval != NULL && strcmp(interval, "daily") != 0) {
        tr_bad_request(r, "fake_options serves interval=daily only");
        return;
    }
    if (start_s == NULL || end_s == NULL) {
        tr_bad_request(r, "Missing required parameter: start and end");
        return;
    }
    if (!parse_ymd(start_s, &start) || !parse_ymd(end_s, &end)) {
        tr_bad_request(r, "Invalid date: start and end must be YYYY-MM-DD");
        return;
    }
    for (long day = start; day <= end && n <= HISTORY_MAX_BARS; day++)
        n += is_weekday(day);
    if (n > HISTORY_MAX_BARS) {
        tr_bad_request(r, "Date range too large");
        return;
    }
    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_JSON);
    if (!symbol_known(symbol) || n == 0) {
        buf_puts(b, "{\"history\":null}");
        return;
    }
    buf_puts(b, n > 1 ? "{\"history\":{\"day\":[" : "{\"history\":{\"day\":");
    bool first = true;
    for (long day = start; day <= end; day++) {
        if (!is_weekday(day))
            continue;
        buf_puts(b, first ? "{\"date\":\"" : ",{\"date\":\"");
        first = false;
        buf_ymd(b, day);
        buf_puts(b, "\",\"open\":100.0,\"high\":100.0,\"low\":100.0,\"close\":100.0,"
                    "\"volume\":1000000}");
    }
    buf_puts(b, n > 1 ? "]}}" : "}}");
}

/* What a client that forgot "Accept: application/json" gets. */
static void
tr_xml(enum tr_endpoint ep, const char *symbol, struct reply *r)
{
    static const char *const roots[] = {
        [TR_EXPIRATIONS] = "expirations",
        [TR_CHAINS] = "options",
        [TR_QUOTES] = "quotes",
        [TR_HISTORY] = "history",
    };
    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_XML);

    buf_puts(b, XML_HEAD);
    if (ep != TR_EXPIRATIONS || !symbol_known(symbol)) {
        buf_printf(b, "<%s/>\n", roots[ep]);
        return;
    }
    buf_puts(b, "<expirations>");
    for (int e = 0; e < NEXP; e++)
        buf_printf(b, "<date>%s</date>", expiries[e].ymd);
    buf_puts(b, "</expirations>\n");
}

static bool
accepts_json(struct MHD_Connection *con)
{
    const char *h = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    const char *want = "application/json";
    size_t n = strlen(want);

    for (; h != NULL && *h != '\0'; h++) {
        if (strncasecmp(h, want, n) == 0)
            return true;
    }
    return false;
}

/* Failures that replace the answer; true if one applied. */
static bool
tr_failure(enum mode mode, unsigned long hits, struct reply *r)
{
    if (mode == MODE_429ONCE && hits == 1) {
        reply_text(r, MHD_HTTP_TOO_MANY_REQUESTS, CT_TEXT, TR_BODY_QUOTA);
        r->rl.available = 0;
        r->rl.used = r->rl.allowed;
        r->rl.expiry = now_ms() + PENALTY_MS;
        return true;
    }
    if ((mode == MODE_500ONCE && hits == 1) || mode == MODE_500ALWAYS) {
        reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, CT_JSON, TR_BODY_500);
        return true;
    }
    if (mode == MODE_HTML) {
        reply_text(r, MHD_HTTP_OK, CT_HTML, HTML_MAINT);
        return true;
    }
    return false;
}

static void
tr_serve(struct MHD_Connection *con, enum mode mode, enum tr_endpoint ep, struct reply *r)
{
    const char *symbol = query_arg(con, ep == TR_QUOTES ? "symbols" : "symbol");
    char key[COUNTER_KEY_MAX];

    snprintf(key, sizeof key, "%s:%s", tr_names[ep], symbol != NULL ? symbol : "");
    unsigned long hits = counter_hit(mode, key);
    if (mode == MODE_SLOW)
        slow_sleep();
    const char *token = bearer_token(con);
    if (mode == MODE_401 || token == NULL || strcmp(token, TRADIER_TOKEN) != 0) {
        reply_text(r, MHD_HTTP_UNAUTHORIZED, CT_PLAIN_TEXT, TR_BODY_401);
        return;
    }
    r->has_rl = true;
    if (!ratelimit_take(mode, &r->rl)) {
        reply_text(r, MHD_HTTP_TOO_MANY_REQUESTS, CT_TEXT, TR_BODY_QUOTA);
        return;
    }
    if (tr_failure(mode, hits, r))
        return;
    if (symbol == NULL || *symbol == '\0') {
        tr_bad_request(r, ep == TR_QUOTES ? "Missing required parameter: symbols"
                                          : "Missing required parameter: symbol");
        return;
    }
    if (!accepts_json(con)) {
        tr_xml(ep, symbol, r);
        return;
    }
    switch (ep) {
    case TR_EXPIRATIONS:
        tr_expirations(con, mode, symbol, r);
        break;
    case TR_CHAINS:
        tr_chains(con, mode, symbol, r);
        break;
    case TR_QUOTES:
        tr_quotes(con, mode, symbol, r);
        break;
    case TR_HISTORY:
        tr_history(con, symbol, r);
        break;
    }
    /* Cut only good bodies: a truncated error would test nothing useful. */
    if (mode == MODE_TRUNCATED && r->status == MHD_HTTP_OK && r->text == NULL && !r->body.failed)
        r->body.len /= 2;
}

/* ------------------------------------------------------------------ */
/* Polygon. */

static uint64_t
splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* 32 hex digits, different for every call. */
static void
request_id(char out[33])
{
    static atomic_ullong seq;
    uint64_t n = (uint64_t)atomic_fetch_add(&seq, 1) + 1;
    uint64_t a = splitmix64(n), b = splitmix64(n ^ 0x5bd1e995ULL);

    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* Starts a JSON envelope: {"status":"<status>","request_id":"<id>" */
static struct buf *
pg_begin(struct reply *r, unsigned http, const char *status)
{
    char id[33];
    struct buf *b = reply_body(r, http, CT_JSON);

    request_id(id);
    buf_printf(b, "{\"status\":\"%s\",\"request_id\":\"%s\"", status, id);
    return b;
}

/* An error envelope; field is "error" or "message", as Polygon varies. */
static void
pg_error(struct reply *r, unsigned http, const char *status, const char *field, const char *msg)
{
    struct buf *b = pg_begin(r, http, status);

    buf_printf(b, ",\"%s\":", field);
    buf_json_str(b, msg);
    buf_puts(b, "}");
}

static void
pg_bad_request(struct reply *r, const char *msg)
{
    pg_error(r, MHD_HTTP_BAD_REQUEST, "ERROR", "error", msg);
}

/* Failures that replace the answer (the key check included); true if one applied. */
static bool
pg_failure(struct MHD_Connection *con, enum mode mode, unsigned long hits, struct reply *r)
{
    const char *token = bearer_token(con);
    const char *api_key = query_arg(con, "apiKey");
    bool good = (token != NULL && strcmp(token, POLYGON_KEY) == 0) ||
                (api_key != NULL && strcmp(api_key, POLYGON_KEY) == 0);

    if (mode == MODE_401 || (!good && (token != NULL || api_key != NULL))) {
        pg_error(r, MHD_HTTP_UNAUTHORIZED, "ERROR", "error", PG_MSG_BAD_KEY);
        return true;
    }
    if (!good) {
        pg_error(r, MHD_HTTP_UNAUTHORIZED, "ERROR", "error", PG_MSG_NO_KEY);
        return true;
    }
    if (mode == MODE_403) {
        pg_error(r, MHD_HTTP_FORBIDDEN, "NOT_AUTHORIZED", "message", PG_MSG_403);
        return true;
    }
    if (mode == MODE_429ONCE && hits == 1) {
        pg_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "ERROR", "error", PG_MSG_429);
        return true;
    }
    if ((mode == MODE_500ONCE && hits == 1) || mode == MODE_500ALWAYS) {
        pg_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "ERROR", "error", PG_MSG_500);
        return true;
    }
    if (mode == MODE_HTML) {
        reply_text(r, MHD_HTTP_OK, CT_HTML, HTML_MAINT);
        return true;
    }
    return false;
}

/* Count, sleep if slow, apply failures; true if the request may proceed. */
static bool
pg_enter(struct MHD_Connection *con, enum mode mode, const char *key, struct reply *r)
{
    unsigned long hits = counter_hit(mode, key);

    if (mode == MODE_SLOW)
        slow_sleep();
    return !pg_failure(con, mode, hits, r);
}

static void
pg_truncate(enum mode mode, struct reply *r)
{
    if (mode == MODE_TRUNCATED && r->status == MHD_HTTP_OK && r->text == NULL && !r->body.failed)
        r->body.len /= 2;
}

/* The contract as a reference object. */
static void
pg_contract(struct buf *b, const struct contract *c, const char *root)
{
    char occ[OCC_MAX];

    c_occ(c, root, occ);
    buf_printf(b,
               "{\"cfi\":\"%s\",\"contract_type\":\"%s\",\"exercise_style\":\"american\","
               "\"expiration_date\":\"%s\",\"primary_exchange\":\"BATO\","
               "\"shares_per_contract\":100,\"strike_price\":%d,\"ticker\":\"O:%s\","
               "\"underlying_ticker\":\"%s\"}",
               c->put ? "OPASPS" : "OCASPS", c->put ? "put" : "call", expiries[c->e].ymd,
               c_strike(c), occ, root);
}

/* --- base64url (no padding), for cursors --- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
b64_encode(struct buf *b, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (unsigned)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        char q[4] = {b64url[(v >> 18) & 63], b64url[(v >> 12) & 63], b64url[(v >> 6) & 63],
                     b64url[v & 63]};
        buf_append(b, q, left > 2 ? 4 : left + 1);
    }
}

static int
b64_value(char ch)
{
    const char *p = ch != '\0' ? strchr(b64url, ch) : NULL;
    return p != NULL ? (int)(p - b64url) : -1;
}

/* Decodes into out (cap bytes, NUL-terminated); false on bad input. */
static bool
b64_decode(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in), o = 0;

    if (n % 4 == 1 || n / 4 * 3 + 3 >= cap)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        unsigned v = 0;
        size_t chunk = n - i < 4 ? n - i : 4;
        for (size_t j = 0; j < 4; j++) {
            int d = j < chunk ? b64_value(in[i + j]) : 0;
            if (d < 0)
                return false;
            v = v << 6 | (unsigned)d;
        }
        out[o++] = (char)(v >> 16);
        if (chunk > 2)
            out[o++] = (char)(v >> 8 & 0xff);
        if (chunk > 3)
            out[o++] = (char)(v & 0xff);
    }
    out[o] = '\0';
    return strlen(out) == o; /* no NUL bytes inside */
}

/* --- listing parameters: from the query, or from a cursor --- */

struct params {
    struct MHD_Connection *con; /* NULL: read the pairs below */
    size_t n;
    const char *name[PARAMS_MAX];
    const char *value[PARAMS_MAX];
    char text[CURSOR_TEXT_MAX + 1];
};

static const char *
param_get(const struct params *p, const char *name)
{
    if (p->con != NULL)
        return query_arg_set(p->con, name);
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->name[i], name) == 0)
            return *p->value[i] != '\0' ? p->value[i] : NULL;
    }
    return NULL;
}

/* Splits a cursor into name=value pairs; false if it is not one of ours. */
static bool
params_from_cursor(struct params *p, const char *cursor)
{
    p->con = NULL;
    p->n = 0;
    if (strlen(cursor) > CURSOR_ENC_MAX || !b64_decode(cursor, p->text, sizeof p->text))
        return false;
    for (char *s = p->text; *s != '\0';) {
        size_t len = strcspn(s, "&");
        char *next = s[len] == '&' ? s + len + 1 : s + len;
        s[len] = '\0';
        char *eq = strchr(s, '=');
        if (eq == NULL || p->n == PARAMS_MAX)
            return false;
        *eq = '\0';
        p->name[p->n] = s;
        p->value[p->n] = eq + 1;
        p->n++;
        s = next;
    }
    return param_get(p, "offset") != NULL;
}

/* Every listing parameter a cursor carries (besides the offset). */
static const char *const list_param_names[] = {
    "underlying_ticker",
    "contract_type",
    "expiration_date",
    "expiration_date.gte",
    "expiration_date.gt",
    "expiration_date.lte",
    "expiration_date.lt",
    "strike_price",
    "strike_price.gte",
    "strike_price.gt",
    "strike_price.lte",
    "strike_price.lt",
    "as_of",
    "expired",
    "limit",
    "sort",
    "order",
};

enum list_sort { SORT_EXPIRATION, SORT_STRIKE, SORT_TICKER };

struct list_query {
    const char *underlying;
    int type;             /* -1 any, 0 call, 1 put */
    long exp_lo, exp_hi;  /* inclusive day bounds */
    long long k_lo, k_hi; /* inclusive strike bounds, millionths */
    long long limit;
    long long offset;
    enum list_sort sort;
    bool desc;
};

enum bound_op { OP_EQ, OP_GTE, OP_GT, OP_LTE, OP_LT };

static const struct {
    const char *suffix;
    enum bound_op op;
} bound_ops[] = {{"", OP_EQ}, {".gte", OP_GTE}, {".gt", OP_GT}, {".lte", OP_LTE}, {".lt", OP_LT}};

static void
bound_apply(enum bound_op op, long long v, long long *lo, long long *hi)
{
    if ((op == OP_EQ || op == OP_GTE) && v > *lo)
        *lo = v;
    if (op == OP_GT && v + 1 > *lo)
        *lo = v + 1;
    if ((op == OP_EQ || op == OP_LTE) && v < *hi)
        *hi = v;
    if (op == OP_LT && v - 1 < *hi)
        *hi = v - 1;
}

/* The five forms of a date or strike filter; false (and *bad set) on a bad value. */
static bool
parse_bounds(const struct params *p, const char *base, bool date, long long *lo, long long *hi,
             const char **bad)
{
    char name[40];

    *lo = LLONG_MIN / 2;
    *hi = LLONG_MAX / 2;
    for (size_t i = 0; i < sizeof bound_ops / sizeof bound_ops[0]; i++) {
        snprintf(name, sizeof name, "%s%s", base, bound_ops[i].suffix);
        const char *v = param_get(p, name);
        long day;
        long long x;
        if (v == NULL)
            continue;
        if (date ? !parse_ymd(v, &day) : !parse_micros(v, &x)) {
            *bad = date ? "expiration_date must be a date in YYYY-MM-DD format"
                        : "strike_price must be a non-negative decimal number";
            return false;
        }
        bound_apply(bound_ops[i].op, date ? (long long)day : x, lo, hi);
    }
    return true;
}

static const char *
list_parse(const struct params *p, enum mode mode, struct list_query *q)
{
    const char *type = param_get(p, "contract_type");
    const char *as_of = param_get(p, "as_of");
    const char *expired = param_get(p, "expired");
    const char *limit = param_get(p, "limit");
    const char *sort = param_get(p, "sort");
    const char *order = param_get(p, "order");
    const char *offset = p->con == NULL ? param_get(p, "offset") : NULL;
    const char *bad = NULL;
    long long lo, hi;
    long day;

    q->underlying = param_get(p, "underlying_ticker");
    if (q->underlying == NULL)
        return "underlying_ticker is required (fake_options lists one underlying at a time)";
    q->type = -1;
    if (type != NULL && strcmp(type, "call") == 0)
        q->type = 0;
    else if (type != NULL && strcmp(type, "put") == 0)
        q->type = 1;
    else if (type != NULL)
        return "contract_type must be one of: call, put";
    if (!parse_bounds(p, "expiration_date", true, &lo, &hi, &bad))
        return bad;
    q->exp_lo = (long)lo;
    q->exp_hi = (long)hi;
    if (!parse_bounds(p, "strike_price", false, &q->k_lo, &q->k_hi, &bad))
        return bad;
    if (as_of != NULL && !parse_ymd(as_of, &day))
        return "as_of must be a date in YYYY-MM-DD format";
    if (expired != NULL && strcmp(expired, "true") != 0 && strcmp(expired, "false") != 0)
        return "expired must be true or false";
    q->limit = LIST_LIMIT_DEF;
    if (limit != NULL && !parse_count(limit, 1, LIST_LIMIT_MAX, &q->limit))
        return "limit must be an integer between 1 and 1000";
    if (mode == MODE_PAGED && q->limit > PAGED_LIMIT)
        q->limit = PAGED_LIMIT;
    q->sort = SORT_EXPIRATION;
    if (sort != NULL && strcmp(sort, "strike_price") == 0)
        q->sort = SORT_STRIKE;
    else if (sort != NULL && strcmp(sort, "ticker") == 0)
        q->sort = SORT_TICKER;
    else if (sort != NULL && strcmp(sort, "expiration_date") != 0 &&
             strcmp(sort, "underlying_ticker") != 0)
        return "sort must be one of: ticker, underlying_ticker, expiration_date, strike_price";
    if (order != NULL && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return "order must be one of: asc, desc";
    q->desc = order != NULL && strcmp(order, "desc") == 0;
    q->offset = 0;
    if (offset != NULL && !parse_count(offset, 0, OFFSET_MAX, &q->offset))
        return "invalid cursor";
    return NULL;
}

/* Sort key: smaller comes first. */
static int
list_rank(const struct contract *c, enum list_sort sort)
{
    int put = c->put ? 1 : 0;

    switch (sort) {
    case SORT_STRIKE:
        return (c->k * NEXP + c->e) * 2 + put;
    case SORT_TICKER:
        return (c->e * 2 + put) * NSTRIKE + c->k;
    case SORT_EXPIRATION:
        break;
    }
    return (c->e * NSTRIKE + c->k) * 2 + put;
}

/* The matching contracts in order; returns how many. */
static size_t
list_collect(const struct list_query *q, struct contract out[NCONTRACT])
{
    size_t n = 0;

    if (!symbol_known(q->underlying))
        return 0;
    for (int e = 0; e < NEXP; e++) {
        long day = expiry_day(e);
        if (day < q->exp_lo || day > q->exp_hi)
            continue;
        for (int k = 0; k < NSTRIKE; k++) {
            long long strike = (long long)(90 + 5 * k) * MICRO;
            if (strike < q->k_lo || strike > q->k_hi)
                continue;
            for (int put = 0; put < 2; put++) {
                if (q->type >= 0 && q->type != put)
                    continue;
                out[n++] = (struct contract){.e = e, .k = k, .put = put != 0};
            }
        }
    }
    /* Insertion sort: 30 elements at most. */
    for (size_t i = 1; i < n; i++) {
        struct contract t = out[i];
        size_t j = i;
        int rank = list_rank(&t, q->sort);
        while (j > 0 && (q->desc ? list_rank(&out[j - 1], q->sort) < rank
                                 : list_rank(&out[j - 1], q->sort) > rank)) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = t;
    }
    return n;
}

static void
list_next_url(struct buf *b, const struct params *p, enum mode mode, long long offset)
{
    struct buf text = {0};

    for (size_t i = 0; i < sizeof list_param_names / sizeof list_param_names[0]; i++) {
        const char *v = param_get(p, list_param_names[i]);
        if (v != NULL)
            buf_printf(&text, "%s=%s&", list_param_names[i], v);
    }
    buf_printf(&text, "offset=%lld", offset);
    if (text.failed || text.len > CURSOR_TEXT_MAX) {
        b->failed = true; /* cannot happen: every value was validated */
    } else {
        buf_printf(b, ",\"next_url\":\"http://127.0.0.1:%u/m/%s" PG_CONTRACTS "?cursor=",
                   atomic_load(&bound_port), mode_names[mode]);
        b64_encode(b, (const unsigned char *)text.data, text.len);
        buf_puts(b, "\"");
    }
    buf_release(&text);
}

static void
pg_list_serve(struct MHD_Connection *con, enum mode mode, struct params *p, bool cursor_ok,
              struct reply *r)
{
    const char *underlying = param_get(p, "underlying_ticker");
    char key[COUNTER_KEY_MAX], id[33];
    struct list_query q;
    struct contract all[NCONTRACT];

    snprintf(key, sizeof key, "contracts:%s", underlying != NULL ? underlying : "");
    if (!pg_enter(con, mode, key, r))
        return;
    const char *bad = cursor_ok ? list_parse(p, mode, &q) : "invalid cursor";
    if (bad != NULL) {
        pg_bad_request(r, bad);
        return;
    }
    long long n = (long long)list_collect(&q, all);
    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_JSON);
    buf_puts(b, "{\"results\":[");
    for (long long i = q.offset; i < n && i < q.offset + q.limit; i++) {
        if (i > q.offset)
            buf_puts(b, ",");
        pg_contract(b, &all[i], q.underlying);
    }
    request_id(id);
    buf_printf(b, "],\"status\":\"OK\",\"request_id\":\"%s\"", id);
    if (q.offset + q.limit < n)
        list_next_url(b, p, mode, q.offset + q.limit);
    buf_puts(b, "}");
    pg_truncate(mode, r);
}

static void
pg_list(struct MHD_Connection *con, enum mode mode, struct reply *r)
{
    const char *cursor = query_arg_set(con, "cursor");
    struct params *p = calloc(1, sizeof *p); /* ~1.3 KB: keep it off the thread stack */
    bool cursor_ok = true;

    if (p == NULL) {
        r->body.failed = true;
        return;
    }
    if (cursor != NULL) {
        cursor_ok = params_from_cursor(p, cursor);
        if (!cursor_ok)
            p->n = 0; /* a bad cursor says nothing, not even the underlying */
    } else {
        p->con = con;
    }
    pg_list_serve(con, mode, p, cursor_ok, r);
    free(p);
}

static void
pg_one_contract(struct MHD_Connection *con, enum mode mode, const char *ticker, struct reply *r)
{
    char key[COUNTER_KEY_MAX], root[SYMBOL_MAX + 1];
    struct contract c;

    snprintf(key, sizeof key, "contract:%s", ticker);
    if (!pg_enter(con, mode, key, r))
        return;
    if (strncmp(ticker, "O:", 2) != 0 || !c_parse(ticker + 2, root, &c)) {
        pg_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "message", "Contract not found.");
        return;
    }
    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_JSON);
    char id[33];
    request_id(id);
    buf_puts(b, "{\"results\":");
    pg_contract(b, &c, root);
    buf_printf(b, ",\"status\":\"OK\",\"request_id\":\"%s\"}", id);
    pg_truncate(mode, r);
}

/* The path after PG_AGGS_PREFIX, split: ticker/range/mult/timespan/from/to. */
struct aggs_path {
    char text[AGGS_PATH_MAX];
    const char *seg[6];
};

static bool
aggs_split(const char *rest, struct aggs_path *a)
{
    size_t n = strlen(rest), k = 0;

    if (n >= sizeof a->text)
        return false;
    memcpy(a->text, rest, n + 1);
    for (char *s = a->text;; s++) {
        if (k == 6)
            return false;
        a->seg[k++] = s;
        s = strchr(s, '/');
        if (s == NULL)
            break;
        *s = '\0';
    }
    return k == 6 && *a->seg[0] != '\0' && strcmp(a->seg[1], "range") == 0;
}

/* One bar; option bars when c is not NULL. */
static void
aggs_bar(struct buf *b, const struct contract *c, long day)
{
    long long mid = c != NULL ? c_mid(c) : SPOT;
    long long h = c != NULL ? mid + 100000LL : SPOT;
    long long l = c != NULL ? mid - 100000LL : SPOT;

    buf_puts(b, "{\"v\":");
    buf_dec(b, c != NULL ? 10LL * (c_index(c) + 1) * MICRO : 1000000LL * MICRO);
    buf_puts(b, ",\"vw\":");
    buf_dec(b, mid);
    buf_puts(b, ",\"o\":");
    buf_dec(b, mid);
    buf_puts(b, ",\"c\":");
    buf_dec(b, mid);
    buf_puts(b, ",\"h\":");
    buf_dec(b, h);
    buf_puts(b, ",\"l\":");
    buf_dec(b, l);
    buf_printf(b, ",\"t\":%lld,\"n\":%d}", ny_midnight_ms(day), c != NULL ? 5 : 1000);
}

static void
pg_aggs(struct MHD_Connection *con, enum mode mode, const char *rest, struct reply *r)
{
    struct aggs_path a;
    char key[COUNTER_KEY_MAX], root[SYMBOL_MAX + 1];

    if (!aggs_split(rest, &a)) {
        pg_error(r, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "message", "Not found");
        return;
    }
    const char *ticker = a.seg[0];
    snprintf(key, sizeof key, "aggs:%s", ticker);
    if (!pg_enter(con, mode, key, r))
        return;

    const char *adjusted = query_arg_set(con, "adjusted");
    const char *sort = query_arg_set(con, "sort");
    const char *limit_s = query_arg_set(con, "limit");
    long long limit = AGGS_LIMIT_DEF;
    long from, to;
    if (strcmp(a.seg[2], "1") != 0 || strcmp(a.seg[3], "day") != 0) {
        pg_bad_request(r, "fake_options serves multiplier 1 and timespan day only");
        return;
    }
    if (!parse_ymd(a.seg[4], &from) || !parse_ymd(a.seg[5], &to)) {
        pg_bad_request(r, "from and to must be dates in YYYY-MM-DD format");
        return;
    }
    if (adjusted != NULL && strcmp(adjusted, "true") != 0 && strcmp(adjusted, "false") != 0) {
        pg_bad_request(r, "adjusted must be true or false");
        return;
    }
    if (sort != NULL && strcmp(sort, "asc") != 0 && strcmp(sort, "desc") != 0) {
        pg_bad_request(r, "sort must be one of: asc, desc");
        return;
    }
    if (limit_s != NULL && !parse_count(limit_s, 1, AGGS_LIMIT_MAX, &limit)) {
        pg_bad_request(r, "limit must be an integer between 1 and 50000");
        return;
    }

    struct contract c;
    const struct contract *cp = NULL;
    bool known;
    if (strncmp(ticker, "O:", 2) == 0) {
        known = c_parse(ticker + 2, root, &c);
        cp = &c;
    } else {
        known = symbol_known(ticker);
    }
    bool desc = sort != NULL && strcmp(sort, "desc") == 0;
    long long n = 0;
    for (long day = from; known && day <= to && n < limit; day++)
        n += is_weekday(day);

    struct buf *b = reply_body(r, MHD_HTTP_OK, CT_JSON);
    char id[33];
    buf_puts(b, "{\"ticker\":");
    buf_json_echo(b, ticker);
    buf_printf(b, ",\"queryCount\":%lld,\"resultsCount\":%lld,\"adjusted\":%s", n, n,
               adjusted != NULL && strcmp(adjusted, "false") == 0 ? "false" : "true");
    if (n > 0) {
        long long done = 0;
        buf_puts(b, ",\"results\":[");
        for (long day = desc ? to : from; done < n; day += desc ? -1 : 1) {
            if (!is_weekday(day))
                continue;
            if (done++ > 0)
                buf_puts(b, ",");
            aggs_bar(b, cp, day);
        }
        buf_puts(b, "]");
    }
    request_id(id);
    buf_printf(b, ",\"status\":\"OK\",\"request_id\":\"%s\",\"count\":%lld}", id, n);
    pg_truncate(mode, r);
}

/* ------------------------------------------------------------------ */
/* Stats, routing. */

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
            struct buf *b = reply_body(r, MHD_HTTP_OK, CT_TEXT);
            buf_printf(b, "%lu", counter_get((enum mode)m, key));
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

static int
tr_lookup(const char *path)
{
    static const char *const paths[] = {
        [TR_EXPIRATIONS] = "options/expirations",
        [TR_CHAINS] = "options/chains",
        [TR_QUOTES] = "quotes",
        [TR_HISTORY] = "history",
    };
    size_t plen = strlen(TR_PREFIX);

    if (strncmp(path, TR_PREFIX, plen) != 0)
        return -1;
    for (int ep = 0; ep < (int)(sizeof paths / sizeof paths[0]); ep++) {
        if (strcmp(path + plen, paths[ep]) == 0)
            return ep;
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
    int m = seg != NULL ? mode_lookup(seg, len) : -1;
    if (m < 0) {
        reply_text(r, MHD_HTTP_NOT_FOUND, CT_TEXT, "not found\n");
        return;
    }
    enum mode mode = (enum mode)m;
    const char *rest = seg + len;
    size_t clen = strlen(PG_CONTRACTS), alen = strlen(PG_AGGS_PREFIX);
    int ep = tr_lookup(rest);

    if (ep >= 0)
        tr_serve(con, mode, (enum tr_endpoint)ep, r);
    else if (strcmp(rest, PG_CONTRACTS) == 0)
        pg_list(con, mode, r);
    else if (strncmp(rest, PG_CONTRACTS "/", clen + 1) == 0 && rest[clen + 1] != '\0')
        pg_one_contract(con, mode, rest + clen + 1, r);
    else if (strncmp(rest, PG_AGGS_PREFIX, alen) == 0)
        pg_aggs(con, mode, rest + alen, r);
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
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, handle_request, NULL, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
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
        fprintf(stderr, "fake_options: cannot write port file '%s': %s\n", path, strerror(errno));
    free(tmp);
    return rc;
}

int
main(int argc, char **argv)
{
    sigset_t stop_set;
    int sig;

    if (argc != 2) {
        fprintf(stderr, "usage: fake_options PORT_FILE\n");
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
        fprintf(stderr, "fake_options: cannot start HTTP server on 127.0.0.1\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        MHD_stop_daemon(daemon);
        return 1;
    }
    atomic_store(&bound_port, info->port);
    if (write_port_file(argv[1], info->port) != 0) {
        MHD_stop_daemon(daemon);
        return 1;
    }
    while (sigwait(&stop_set, &sig) != 0)
        ;
    atomic_store(&stopping, true);
    MHD_stop_daemon(daemon);
    return 0;
}
