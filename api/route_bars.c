/*
 * GET /v1/bars/{symbol} (JSON or CSV) and PUT /v1/bars/{symbol} (streamed CSV upload).
 * Loop thread; *_db functions on a DB worker.
 *
 * DESIGN (reads): encoded responses are cached on the loop by (symbol, range, format) with
 * the symbol's bars_version. A request asks PostgreSQL only for that version (one indexed
 * row) and serves the cached bytes when it matches; otherwise a worker reads the rows
 * (binary results) and encodes them, and the new bytes replace the entry. Every write bumps
 * the version in the same transaction, so a cached body is never stale, whichever daemon
 * wrote. The cache is bounded (server.bars_cache_mb) with least-recently-used eviction.
 *
 * DESIGN (uploads): the CSV body is parsed as it arrives (feeds/csv_bars.c) into columns;
 * a bad row stops the parse and the upload fails with its line number. When the body is
 * complete, one transaction upserts all rows (storage/bars_db.c): all or nothing.
 */
#include "api/api_int.h"
#include "api/handlers.h"
#include "common/date.h"
#include "core/bar.h"
#include "core/symbol.h"
#include "daemon/config.h"
#include "feeds/csv_bars.h"
#include "storage/bars_db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum qd_code api_bars_upload_chunk(struct api_req *r, const char *data, size_t len);
enum qd_code api_bars_upload_begin(struct api_req *r);

/* ---- cache ---- */

struct bars_entry {
    char               key[300];
    int64_t            version;
    char              *body;
    size_t             len;
    uint64_t           used;
    struct bars_entry *next;
};

struct bars_cache {
    struct bars_entry *head;
    size_t             bytes;
    uint64_t           clock;
};

static struct bars_cache *
cache_get(struct api_server *s)
{
    struct bars_cache *c = api_bars_cache(s);

    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        api_set_bars_cache(s, c);
    }
    return c;
}

static struct bars_entry *
cache_find(struct bars_cache *c, const char *key)
{
    for (struct bars_entry *e = c ? c->head : NULL; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void
cache_evict(struct bars_cache *c, size_t max)
{
    while (c->bytes > max && c->head != NULL) {
        struct bars_entry **pp, **oldest = &c->head, *e;
        for (pp = &c->head; *pp; pp = &(*pp)->next)
            if ((*pp)->used < (*oldest)->used)
                oldest = pp;
        e = *oldest;
        *oldest = e->next;
        c->bytes -= e->len;
        free(e->body);
        free(e);
    }
}

static void
cache_put(struct api_server *s, const char *key, int64_t version, const char *body, size_t len)
{
    struct bars_cache *c = cache_get(s);
    size_t max = (size_t)api_deps(s)->cfg->bars_cache_mb << 20;
    struct bars_entry *e;
    char *copy;

    if (c == NULL || len > max / 4)
        return;                     /* one response may use at most a quarter of the cache */
    copy = malloc(len);
    if (copy == NULL)
        return;
    memcpy(copy, body, len);
    e = cache_find(c, key);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            free(copy);
            return;
        }
        snprintf(e->key, sizeof(e->key), "%s", key);
        e->next = c->head;
        c->head = e;
    } else {
        c->bytes -= e->len;
        free(e->body);
    }
    e->body = copy;
    e->len = len;
    e->version = version;
    e->used = ++c->clock;
    c->bytes += len;
    cache_evict(c, max);
}

void
api_bars_cache_free(struct api_server *s)
{
    struct bars_cache *c = api_bars_cache(s);

    if (c == NULL)
        return;
    cache_evict(c, 0);
    free(c);
    api_set_bars_cache(s, NULL);
}

/* ---- encoding (worker thread) ---- */

/* Shortest of %.15g/%.16g/%.17g that reads back as the same double. */
static int
fmt_double(char *buf, size_t n, double v)
{
    int len = 0;

    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return len;
}

static enum qd_code
encode_bars(const char *symbol, const struct bar_series *s, bool csv, struct qd_buf *out)
{
    char num[6][32], day[11];
    enum qd_code rc = qd_buf_reserve(out, 64 + s->n * (csv ? 80 : 140));

    if (rc != QD_OK)
        return rc;
    if (csv)
        rc = qd_buf_puts(out, "Date,Open,High,Low,Close,Adj Close,Volume\n");
    else
        rc = qd_buf_printf(out, "{\"symbol\":\"%s\",\"interval\":\"1d\",\"bars\":[", symbol);
    for (size_t i = 0; i < s->n && rc == QD_OK; i++) {
        qd_date_format(s->day[i], day);
        fmt_double(num[0], sizeof(num[0]), s->open[i]);
        fmt_double(num[1], sizeof(num[1]), s->high[i]);
        fmt_double(num[2], sizeof(num[2]), s->low[i]);
        fmt_double(num[3], sizeof(num[3]), s->close[i]);
        fmt_double(num[4], sizeof(num[4]), s->adj_close[i]);
        if (csv)
            rc = qd_buf_printf(out, "%s,%s,%s,%s,%s,%s,%lld\n", day, num[0], num[1], num[2],
                               num[3], num[4], (long long)s->volume[i]);
        else
            rc = qd_buf_printf(out,
                               "%s{\"ts\":\"%s\",\"open\":%s,\"high\":%s,\"low\":%s,\"close\":%s,"
                               "\"adj_close\":%s,\"volume\":%lld}",
                               i ? "," : "", day, num[0], num[1], num[2], num[3], num[4],
                               (long long)s->volume[i]);
    }
    if (rc == QD_OK && !csv)
        rc = qd_buf_puts(out, "]}");
    return rc;
}

/* ---- GET ---- */

struct bars_get {
    char           key[300];
    bool           csv;
    int32_t        start, end;
    int64_t        cached_version;  /* -1: nothing cached */
    int64_t        version;
    bool           fresh;           /* the cached body is current */
};

static void
bars_version_db(struct api_req *r, PGconn *conn)
{
    struct bars_get *g = r->ctx;
    struct qd_err err;

    if (bars_db_version(conn, r->params[0], &g->version, &err) != QD_OK)
        api_reply_err(r, &err);
    else
        g->fresh = g->version == g->cached_version;
}

static void
bars_read_db(struct api_req *r, PGconn *conn)
{
    struct bars_get *g = r->ctx;
    struct bar_series s;
    struct qd_buf out = QD_BUF_INIT(0);
    struct qd_err err;
    enum qd_code rc;
    size_t len;
    char *body;

    bar_series_init(&s, 0);
    rc = bars_db_read(conn, r->params[0], g->start, g->end, &s, &g->version, &err);
    if (rc == QD_OK && encode_bars(r->params[0], &s, g->csv, &out) != QD_OK)
        rc = qd_err_set(&err, QD_ENOMEM, "out of memory encoding bars");
    bar_series_release(&s);
    if (rc != QD_OK) {
        qd_buf_release(&out);
        api_reply_err(r, &err);
        return;
    }
    body = qd_buf_detach(&out, &len);
    api_reply(r, 200, g->csv ? "text/csv; charset=utf-8" : "application/json", body, len);
}

static void
bars_read_after(struct api_req *r)
{
    struct bars_get *g = r->ctx;

    if (r->status == 200)
        cache_put(r->srv, g->key, g->version, r->resp, r->resp_len);
}

static void
bars_version_after(struct api_req *r)
{
    struct bars_get *g = r->ctx;
    struct bars_entry *e;

    if (r->status != 0)
        return;                     /* unknown symbol or database error */
    e = g->fresh ? cache_find(api_bars_cache(r->srv), g->key) : NULL;
    if (e != NULL && e->version == g->version) {
        char *copy = malloc(e->len ? e->len : 1);
        if (copy != NULL) {
            memcpy(copy, e->body, e->len);
            e->used = ++((struct bars_cache *)api_bars_cache(r->srv))->clock;
            api_reply(r, 200, g->csv ? "text/csv; charset=utf-8" : "application/json", copy,
                      e->len);
            return;
        }
    }
    r->after_db = bars_read_after;
    api_db(r, bars_read_db);
}

static bool
parse_day_param(struct api_req *r, const char *name, int32_t *day)
{
    const char *v = api_query(r, name);

    if (v == NULL)
        return true;
    if (!qd_date_parse(v, strlen(v), day)) {
        api_error(r, 400, "invalid_argument", name, "%s must be a date as YYYY-MM-DD", name);
        return false;
    }
    return true;
}

void
api_bars_get(struct api_req *r)
{
    struct bars_get *g;
    const char *accept = api_header(r, "Accept");
    struct bars_entry *e;

    if (!symbol_valid(r->params[0], strlen(r->params[0]))) {
        api_error(r, 404, "not_found", NULL, "symbol \"%s\" not found", r->params[0]);
        return;
    }
    g = calloc(1, sizeof(*g));
    if (g == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = g;
    r->ctx_free = free;
    g->start = INT32_MIN;
    g->end = INT32_MAX;
    if (!parse_day_param(r, "start", &g->start) || !parse_day_param(r, "end", &g->end))
        return;
    if (g->end < g->start) {
        api_error(r, 400, "invalid_argument", "end", "end must not be before start");
        return;
    }
    g->csv = accept != NULL && strstr(accept, "text/csv") != NULL &&
             strstr(accept, "application/json") == NULL;
    snprintf(g->key, sizeof(g->key), "%s|%d|%d|%c", r->params[0], g->start, g->end,
             g->csv ? 'c' : 'j');
    e = cache_find(api_bars_cache(r->srv), g->key);
    g->cached_version = e ? e->version : -1;
    if (e != NULL) {
        r->after_db = bars_version_after;
        api_db(r, bars_version_db);
    } else {
        r->after_db = bars_read_after;
        api_db(r, bars_read_db);
    }
}

/* ---- PUT ---- */

struct bars_upload {
    struct bar_series s;
    struct csv_bars  *parser;
    bool              failed;
};

static void
upload_free(void *p)
{
    struct bars_upload *u = p;

    if (u == NULL)
        return;
    csv_bars_destroy(u->parser);
    bar_series_release(&u->s);
    free(u);
}

enum qd_code
api_bars_upload_begin(struct api_req *r)
{
    struct bars_upload *u = calloc(1, sizeof(*u));

    if (u == NULL)
        return qd_err_set(&r->err, QD_ENOMEM, "out of memory");
    bar_series_init(&u->s, 0);
    u->parser = csv_bars_create(&u->s);
    r->ctx = u;
    r->ctx_free = upload_free;
    if (u->parser == NULL)
        return qd_err_set(&r->err, QD_ENOMEM, "out of memory");
    /* a generic CSV: ?date=Timestamp&close=Last&... names the file's columns, and
     * extra=ignore skips columns beyond ours */
    {
        static const char *const cols[] = {"date", "open", "high", "low", "close", "adj_close",
                                           "volume", NULL};
        const char *v = api_query(r, "extra");
        for (const char *const *c = cols; *c; c++) {
            const char *h = api_query(r, *c);
            if (h != NULL && csv_bars_alias(u->parser, *c, h, &r->err) != QD_OK)
                return QD_EINVAL;
        }
        if (v != NULL && strcmp(v, "ignore") != 0 && strcmp(v, "refuse") != 0)
            return qd_err_field(&r->err, QD_EINVAL, "extra", "extra is \"ignore\" or \"refuse\"");
        csv_bars_ignore_unknown(u->parser, v != NULL && strcmp(v, "ignore") == 0);
    }
    return QD_OK;
}

enum qd_code
api_bars_upload_chunk(struct api_req *r, const char *data, size_t len)
{
    struct bars_upload *u = r->ctx;

    if (u == NULL || u->failed)
        return QD_OK;
    if (csv_bars_feed(u->parser, data, len, &r->err) != QD_OK) {
        u->failed = true;
        return r->err.code;
    }
    return QD_OK;
}

static void
bars_put_db(struct api_req *r, PGconn *conn)
{
    struct bars_upload *u = r->ctx;
    struct bars_upsert_result res;
    struct qd_err err;
    char first[11], last[11];

    if (bars_db_upsert(conn, r->params[0], "csv", &u->s, &res, &err) != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    qd_date_format(u->s.day[0], first);
    qd_date_format(u->s.day[u->s.n - 1], last);
    api_reply_json(r, 200,
                   json_pack("{s:s, s:I, s:s, s:s, s:I}", "symbol", r->params[0], "rows",
                             (json_int_t)res.rows, "first", first, "last", last, "changed",
                             (json_int_t)res.changed));
}

void
api_bars_put(struct api_req *r)
{
    struct bars_upload *u = r->ctx;
    struct qd_err err;

    if (!symbol_valid(r->params[0], strlen(r->params[0]))) {
        api_error(r, 400, "invalid_argument", "symbol",
                  "a symbol is 1-32 letters, digits or .^=_- starting with a letter or digit");
        return;
    }
    if (u == NULL) {
        api_error(r, 500, "internal", NULL, "upload state missing");
        return;
    }
    if (csv_bars_finish(u->parser, &err) != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    api_db(r, bars_put_db);
}
