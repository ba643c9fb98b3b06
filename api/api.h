#ifndef API_API_H
#define API_API_H

/*
 * The HTTP/JSON API: libmicrohttpd in external-epoll mode driven by the daemon's libuv loop
 * (docs/architecture.md says why). Handlers run on the loop thread and hand SQL to the
 * storage pool, suspending the connection meanwhile. Every function here: loop thread only.
 */

#include "common/err.h"

#include <uv.h>

#include <stdbool.h>
#include <stdio.h>

struct api_server;
struct pg_pool;
struct job_runner;
struct qd_config;

struct api_deps {
    uv_loop_t         *loop;
    struct pg_pool    *pool;
    struct job_runner *runner;      /* NULL with --role api: jobs then wait for a worker */
    struct qd_config  *cfg;         /* owned by the daemon; reloadable keys may change */
    const char        *version;
};

struct api_server *api_server_start(const struct api_deps *deps, struct qd_err *err);
/* Stops accepting new connections (shutdown step 1). */
void api_server_quiesce(struct api_server *s);
/* Connections still open (requests in flight, event streams). */
unsigned api_server_connections(struct api_server *s);
/* Requests suspended while they wait for the database (must be 0 before api_server_stop). */
unsigned api_server_suspended(struct api_server *s);
/* Ends event streams so their connections can finish. */
void api_server_end_streams(struct api_server *s);
/* Stops MHD and closes the loop handles; the loop must run afterwards so the closes complete.
 * The server is freed by the last close callback. NULL is a no-op. */
void api_server_stop(struct api_server *s);
/* Forgets cached token lookups (after SIGHUP or a revoke). */
void api_server_flush_auth(struct api_server *s);

/* Prints "METHOD /path" per route, for the contract test against openapi.yaml. */
void api_routes_print(FILE *out);

#endif
