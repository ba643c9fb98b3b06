/* GET /v1/runs/{id}, /v1/runs/{id}/equity, /v1/runs/{id}/trades. Loop thread; *_db functions on
 * a DB worker. */
#include "api/api_int.h"
#include "api/handlers.h"
#include "storage/runs_db.h"

static void
runs_get_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = runs_db_get(conn, r->id, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
runs_equity_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = runs_db_equity(conn, r->id, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

static void
runs_trades_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = runs_db_trades(conn, r->id, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_runs_get(struct api_req *r)
{
    if (api_param_id(r, 0, "run"))
        api_db(r, runs_get_db);
}

void
api_runs_equity(struct api_req *r)
{
    if (api_param_id(r, 0, "run"))
        api_db(r, runs_equity_db);
}

void
api_runs_trades(struct api_req *r)
{
    if (api_param_id(r, 0, "run"))
        api_db(r, runs_trades_db);
}
