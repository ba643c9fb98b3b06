/* GET /v1/macro/{series_id}?start=&end=, GET /v1/vix?start=&end= (the CBOE VIX close,
 * stored as macro series VIX by ingest_vix) and GET /v1/cot/{market}?start=&end=. Loop thread; the _db function on a DB worker. */
#include "api/api_int.h"
#include "api/handlers.h"
#include "common/date.h"
#include "feeds/cftc.h"
#include "feeds/fred.h"
#include "storage/macro_db.h"

#include <stdlib.h>
#include <string.h>

struct macro_get {
    char    series_id[72];          /* or the COT market */
    int32_t start, end;
    bool    cot;
};

static void
macro_db(struct api_req *r, PGconn *conn)
{
    struct macro_get *g = r->ctx;
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = g->cot ? cot_db_json(conn, g->series_id, g->start, g->end, &json, &err)
                             : macro_db_json(conn, g->series_id, g->start, g->end, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
serve_series(struct api_req *r, const char *id, bool cot)
{
    struct macro_get *g = calloc(1, sizeof(*g));
    const char *v;

    if (g == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx = g;
    r->ctx_free = free;
    snprintf(g->series_id, sizeof(g->series_id), "%s", id);
    g->cot = cot;
    g->start = INT32_MIN;
    g->end = INT32_MAX;
    if ((v = api_query(r, "start")) != NULL && !qd_date_parse(v, strlen(v), &g->start)) {
        api_error(r, 400, "invalid_argument", "start", "start must be a date as YYYY-MM-DD");
        return;
    }
    if ((v = api_query(r, "end")) != NULL && !qd_date_parse(v, strlen(v), &g->end)) {
        api_error(r, 400, "invalid_argument", "end", "end must be a date as YYYY-MM-DD");
        return;
    }
    if (g->end < g->start) {
        api_error(r, 400, "invalid_argument", "end", "end is before start");
        return;
    }
    api_db(r, macro_db);
}

void
api_macro_get(struct api_req *r)
{
    if (!fred_series_id_valid(r->params[0])) {
        api_error(r, 404, "not_found", NULL,
                  "no series \"%.64s\" (series ids are A-Z, 0-9 and _)", r->params[0]);
        return;
    }
    serve_series(r, r->params[0], false);
}

void
api_vix_get(struct api_req *r)
{
    serve_series(r, "VIX", false);
}

void
api_cot_get(struct api_req *r)
{
    if (!cftc_market_valid(r->params[0])) {
        api_error(r, 404, "not_found", NULL,
                  "no market \"%.16s\" (CFTC contract market codes are 0-9 and A-Z)",
                  r->params[0]);
        return;
    }
    serve_series(r, r->params[0], true);
}
