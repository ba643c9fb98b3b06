/* GET /v1/features/{symbol}?names=sma_30,rsi_14&start=&end=. Loop thread; the _db function on
 * a DB worker. */
#include "api/api_int.h"
#include "api/handlers.h"
#include "common/date.h"
#include "core/symbol.h"
#include "features/catalog.h"
#include "storage/features_db.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 64

struct feat_get {
    char   *buf;                    /* the names, split in place */
    char   *names[MAX_NAMES + 1];
    int32_t start, end;
};

static void
feat_get_free(void *p)
{
    struct feat_get *g = p;

    if (g)
        free(g->buf);
    free(g);
}

static void
features_db(struct api_req *r, PGconn *conn)
{
    struct feat_get *g = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = features_db_read(conn, r->params[0], (const char *const *)g->names,
                                       g->start, g->end, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_features_get(struct api_req *r)
{
    const char *names = api_query(r, "names"), *v;
    struct feat_get *g;
    unsigned n = 0;
    char *save = NULL, *tok;

    if (!symbol_valid(r->params[0], strlen(r->params[0]))) {
        api_error(r, 404, "not_found", NULL, "symbol \"%s\" not found", r->params[0]);
        return;
    }
    if (names == NULL || names[0] == '\0') {
        api_error(r, 400, "invalid_argument", "names",
                  "names is required: feature names separated by commas, e.g. sma_30,rsi_14");
        return;
    }
    g = calloc(1, sizeof(*g));
    if (g == NULL || (g->buf = strdup(names)) == NULL) {
        free(g);
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = g;
    r->ctx_free = feat_get_free;
    g->start = INT32_MIN;
    g->end = INT32_MAX;
    for (tok = strtok_r(g->buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct feat_spec f;
        struct qd_err err;
        if (n == MAX_NAMES) {
            api_error(r, 400, "invalid_argument", "names", "at most %d names", MAX_NAMES);
            return;
        }
        if (feat_parse(tok, &f, &err) != QD_OK) {
            api_error(r, 400, "invalid_argument", "names", "%s", err.msg);
            return;
        }
        g->names[n++] = tok;
    }
    if (n == 0) {
        api_error(r, 400, "invalid_argument", "names", "names is empty");
        return;
    }
    if ((v = api_query(r, "start")) != NULL && !qd_date_parse(v, strlen(v), &g->start)) {
        api_error(r, 400, "invalid_argument", "start", "start must be a date as YYYY-MM-DD");
        return;
    }
    if ((v = api_query(r, "end")) != NULL && !qd_date_parse(v, strlen(v), &g->end)) {
        api_error(r, 400, "invalid_argument", "end", "end must be a date as YYYY-MM-DD");
        return;
    }
    api_db(r, features_db);
}
