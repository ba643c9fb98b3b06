/* GET /v1/options/{symbol}?as_of=&expiration=&source= : the option chain snapshot that
 * ingest_options stored (storage/options_db.h). Loop thread; options_db on a DB worker. */
#include "api/api_int.h"
#include "api/handlers.h"
#include "common/date.h"
#include "feeds/options.h"
#include "storage/options_db.h"

#include <stdlib.h>
#include <string.h>

struct options_get {
    char        symbol[16];
    int32_t     as_of, expiration;
    const char *source;             /* static string or NULL */
};

static void
options_db(struct api_req *r, PGconn *conn)
{
    struct options_get *g = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = options_db_json(conn, g->symbol, g->as_of, g->expiration, g->source,
                                      &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static bool
date_param(struct api_req *r, const char *name, int32_t *out)
{
    const char *v = api_query(r, name);

    *out = INT32_MIN;
    if (v != NULL && !qd_date_parse(v, strlen(v), out)) {
        api_error(r, 400, "invalid_argument", name, "%s must be a date as YYYY-MM-DD", name);
        return false;
    }
    return true;
}

void
api_options_get(struct api_req *r)
{
    struct options_get *g;
    const char *v;

    if (!option_underlying_valid(r->params[0])) {
        api_error(r, 404, "not_found", NULL,
                  "no symbol \"%.16s\" (1-10 of A-Z, 0-9, '.' and '-')", r->params[0]);
        return;
    }
    if ((g = calloc(1, sizeof(*g))) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = g;
    r->ctx_free = free;
    snprintf(g->symbol, sizeof(g->symbol), "%.10s", r->params[0]);
    if (!date_param(r, "as_of", &g->as_of) || !date_param(r, "expiration", &g->expiration))
        return;
    if ((v = api_query(r, "source")) != NULL) {
        if (strcmp(v, "tradier") == 0)
            g->source = "tradier";
        else if (strcmp(v, "polygon") == 0)
            g->source = "polygon";
        else {
            api_error(r, 400, "invalid_argument", "source",
                      "source must be \"tradier\" or \"polygon\"");
            return;
        }
    }
    api_db(r, options_db);
}
