/*
 * quantd: command line, start-up, the libuv loop, signals, systemd notification and orderly
 * shutdown. Main (loop) thread.
 *
 *   quantd [serve] [--config FILE] [--role all|api|worker]
 *   quantd migrate | check-config [--dump] | version | routes
 *   quantd token create --name NAME --scope SCOPE[,SCOPE…] | token revoke --name NAME
 *
 * Shutdown (SIGTERM/SIGINT): tell systemd STOPPING, stop accepting connections, end event
 * streams, stop claiming jobs; running jobs get server.drain_timeout_ms to finish, then are
 * re-queued; once no request waits on the database the HTTP server, the workers and the pool
 * stop, every handle closes, and the process exits 0.
 */
#define _GNU_SOURCE
#include "api/api.h"
#include "common/date.h"
#include "common/log.h"
#include "daemon/config.h"
#include "daemon/sd_notify.h"
#include "feeds/feeds.h"
#include "jobs/runner.h"
#include "storage/migrate.h"
#include "storage/artifact_files.h"
#include "storage/pg.h"
#include "storage/pg_pool.h"
#include "storage/tokens_db.h"

#include <openssl/rand.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QD_LOG_MODULE "main"
#define QUANTD_VERSION "0.1.0"
#define STARTUP_DB_WAIT_MS 30000

struct app {
    struct qd_config   cfg;
    const char        *config_path;
    uv_loop_t          loop;
    uv_signal_t        sigterm, sigint, sighup;
    uv_timer_t         watchdog, drain;
    struct pg_pool    *pool;
    struct job_runner *runner;
    struct api_server *api;
    bool               stopping;
    uint64_t           drain_deadline, quiet_since;
    char               owner[128];
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: quantd [serve] [--config FILE] [--role all|api|worker]\n"
            "       quantd migrate [--config FILE]\n"
            "       quantd token create --name NAME --scope SCOPE[,SCOPE...] [--config FILE]\n"
            "       quantd token revoke --name NAME [--config FILE]\n"
            "       quantd check-config [--config FILE] [--dump]\n"
            "       quantd version | routes\n");
}

/* Connects for start-up work, waiting up to STARTUP_DB_WAIT_MS for the server to come up. */
static PGconn *
connect_startup(const struct qd_config *cfg, bool wait)
{
    uint64_t deadline = qd_mono_ms() + (wait ? STARTUP_DB_WAIT_MS : 0);
    struct qd_err err;
    PGconn *c;
    unsigned delay = 100;

    if (cfg->database_url[0] == '\0') {
        fprintf(stderr, "quantd: no database: set storage.database_url or QUANTD_DATABASE_URL\n");
        return NULL;
    }
    for (;;) {
        c = pg_connect(cfg->database_url, "quantd/main", 0, &err);
        if (c != NULL || qd_mono_ms() >= deadline)
            break;
        QD_LOG(QD_LOG_WARNING, "%s; retrying in %u ms", err.msg, delay);
        usleep(delay * 1000);
        if (delay < 2000)
            delay *= 2;
    }
    if (c == NULL)
        QD_LOG(QD_LOG_ERR, "%s", err.msg);
    return c;
}

static int
migrate_now(PGconn *c)
{
    struct qd_err err;
    unsigned n = 0;

    if (migrate_apply(c, &n, &err) != QD_OK) {
        QD_LOG(QD_LOG_ERR, "could not migrate the database: %s", err.msg);
        return -1;
    }
    QD_LOG(QD_LOG_INFO, "database schema up to date\tapplied=%u", n);
    return 0;
}

/* First start with no active token: make an admin token and write it, never log it. */
static int
bootstrap_token(PGconn *c, const struct qd_config *cfg)
{
    char secret[TOKEN_SECRET_LEN + 1], path[1024];
    struct qd_err err;
    long long n = 0;
    int fd;

    if (tokens_db_count_active(c, &n, &err) != QD_OK) {
        QD_LOG(QD_LOG_ERR, "could not count API tokens: %s", err.msg);
        return -1;
    }
    if (n > 0)
        return 0;
    snprintf(path, sizeof(path), "%s/admin.token", cfg->state_dir);
    if (tokens_db_create(c, "admin", SCOPE_ADMIN | SCOPE_TRADE | SCOPE_RESEARCH | SCOPE_READ,
                         secret, NULL, &err) != QD_OK) {
        QD_LOG(QD_LOG_ERR, "could not create the admin token: %s", err.msg);
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, secret, strlen(secret)) < 0 ||
        write(fd, "\n", 1) != 1) {
        QD_LOG(QD_LOG_ERR, "could not write the admin token to %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        memset(secret, 0, sizeof(secret));
        return -1;
    }
    close(fd);
    memset(secret, 0, sizeof(secret));
    QD_LOG(QD_LOG_NOTICE, "created the admin API token\tpath=%s", path);
    return 0;
}

static int
ensure_state_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        QD_LOG(QD_LOG_ERR, "could not create the state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- serve ---- */

static void
close_cb(uv_handle_t *h)
{
    (void)h;
}

static void
finish_shutdown(struct app *a)
{
    uv_timer_stop(&a->drain);
    api_server_stop(a->api);
    a->api = NULL;
    job_runner_destroy(a->runner);
    a->runner = NULL;
    pg_pool_destroy(a->pool);
    a->pool = NULL;
    uv_close((uv_handle_t *)&a->sigterm, close_cb);
    uv_close((uv_handle_t *)&a->sigint, close_cb);
    uv_close((uv_handle_t *)&a->sighup, close_cb);
    uv_close((uv_handle_t *)&a->watchdog, close_cb);
    uv_close((uv_handle_t *)&a->drain, close_cb);
}

static void
on_drain_tick(uv_timer_t *t)
{
    struct app *a = t->data;
    uint64_t now = qd_mono_ms();
    bool jobs_done = job_runner_running(a->runner) == 0;
    bool waiting = api_server_suspended(a->api) > 0;
    bool idle = api_server_connections(a->api) == 0;

    /* running jobs are re-queued by the runner at the drain deadline; requests waiting on the
     * database always finish (statement timeouts bound them) */
    if (!jobs_done || waiting) {
        a->quiet_since = 0;
        if (now > a->drain_deadline + 30000) {
            QD_LOG(QD_LOG_ERR, "shutdown: still busy 30 s past the drain deadline, stopping");
            finish_shutdown(a);
        }
        return;
    }
    if (a->quiet_since == 0)
        a->quiet_since = now;
    /* idle keep-alive connections get a short grace to finish writing, then are closed */
    if (idle || now - a->quiet_since >= 250 || now >= a->drain_deadline)
        finish_shutdown(a);
}

static void
begin_shutdown(struct app *a, const char *why)
{
    if (a->stopping)
        return;
    a->stopping = true;
    QD_LOG(QD_LOG_NOTICE, "shutting down\treason=%s drain_ms=%u", why, a->cfg.drain_timeout_ms);
    sd_notify_send("STOPPING=1\nSTATUS=draining");
    api_server_quiesce(a->api);
    api_server_end_streams(a->api);
    job_runner_shutdown(a->runner, a->cfg.drain_timeout_ms);
    a->drain_deadline = qd_mono_ms() + a->cfg.drain_timeout_ms;
    uv_timer_start(&a->drain, on_drain_tick, 0, 50);
}

static void
on_signal(uv_signal_t *h, int sig)
{
    struct app *a = h->data;

    if (sig == SIGHUP) {
        struct qd_config fresh;
        struct qd_err err;
        char msg[128];

        sd_notify_send("RELOADING=1");
        if (config_load(&fresh, a->config_path, &err) != QD_OK) {
            QD_LOG(QD_LOG_ERR, "reload refused, keeping the running configuration: %s",
                   err.msg);
        } else {
            config_apply_reloadable(&a->cfg, &fresh);
            config_release(&fresh);
            atomic_store(&qd_log_threshold, a->cfg.log_level);
            QD_LOG(QD_LOG_NOTICE, "configuration reloaded");
        }
        if (qd_log_open(a->cfg.log_file) != 0)
            QD_LOG(QD_LOG_ERR, "could not reopen the log file %s: %s", a->cfg.log_file,
                   strerror(errno));
        api_server_flush_auth(a->api);
        snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving on %s", a->cfg.listen);
        sd_notify_send(msg);
        return;
    }
    begin_shutdown(a, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify_send("WATCHDOG=1");
}

static int
serve(struct app *a)
{
    struct qd_err err;
    struct pg_pool_config pc = {0};
    struct job_runner_config rc = {0};
    struct api_deps deps = {0};
    bool api_role = strcmp(a->cfg.role, "worker") != 0;
    bool worker_role = strcmp(a->cfg.role, "api") != 0;
    char host[64] = "localhost", status[160];
    unsigned char rnd[4] = {0};
    uint64_t wd;
    PGconn *c;
    int rcode;

    if (ensure_state_dir(a->cfg.state_dir) != 0)
        return 1;
    c = connect_startup(&a->cfg, true);
    if (c == NULL)
        return 1;
    rcode = migrate_now(c);
    if (rcode == 0 && api_role)
        rcode = bootstrap_token(c, &a->cfg);
    PQfinish(c);
    if (rcode != 0)
        return 1;

    uv_loop_init(&a->loop);
    pc.conninfo = a->cfg.database_url;
    pc.workers = a->cfg.pool_size;
    pc.queue_max = 4096;
    pc.statement_timeout_ms = a->cfg.statement_timeout_ms;
    a->pool = pg_pool_create(&a->loop, &pc, &err);
    if (a->pool == NULL) {
        QD_LOG(QD_LOG_ERR, "%s", err.msg);
        return 1;
    }
    gethostname(host, sizeof(host) - 1);
    RAND_bytes(rnd, sizeof(rnd));
    snprintf(a->owner, sizeof(a->owner), "%s:%d:%02x%02x%02x%02x", host, (int)getpid(), rnd[0],
             rnd[1], rnd[2], rnd[3]);
    rc.conninfo = a->cfg.database_url;
    rc.owner = a->owner;
    rc.workers = worker_role ? a->cfg.jobs_workers : 0;
    rc.lease_seconds = a->cfg.lease_seconds;
    rc.heartbeat_ms = a->cfg.heartbeat_ms;
    rc.poll_ms = a->cfg.poll_ms;
    rc.backoff_base_ms = a->cfg.backoff_base_ms;
    rc.backoff_max_ms = a->cfg.backoff_max_ms;
    rc.scheduler_ms = a->cfg.scheduler_ms;
    rc.statement_timeout_ms = 0;    /* jobs may run long statements (bulk upserts) */
    rc.housekeeping = true;
    a->runner = job_runner_start(&rc, &err);
    if (a->runner == NULL) {
        QD_LOG(QD_LOG_ERR, "%s", err.msg);
        return 1;
    }
    if (api_role) {
        deps.loop = &a->loop;
        deps.pool = a->pool;
        deps.runner = a->runner;
        deps.cfg = &a->cfg;
        deps.version = QUANTD_VERSION;
        a->api = api_server_start(&deps, &err);
        if (a->api == NULL) {
            QD_LOG(QD_LOG_ERR, "%s", err.msg);
            job_runner_destroy(a->runner);
            return 1;
        }
    }
    uv_signal_init(&a->loop, &a->sigterm);
    uv_signal_init(&a->loop, &a->sigint);
    uv_signal_init(&a->loop, &a->sighup);
    a->sigterm.data = a->sigint.data = a->sighup.data = a;
    uv_signal_start(&a->sigterm, on_signal, SIGTERM);
    uv_signal_start(&a->sigint, on_signal, SIGINT);
    uv_signal_start(&a->sighup, on_signal, SIGHUP);
    uv_timer_init(&a->loop, &a->watchdog);
    uv_timer_init(&a->loop, &a->drain);
    a->drain.data = a;
    wd = sd_watchdog_usec();
    if (wd > 0)                     /* ping at half the interval, from the loop itself */
        uv_timer_start(&a->watchdog, on_watchdog, wd / 2000, wd / 2000);
    QD_LOG(QD_LOG_NOTICE, "quantd serving\tversion=%s listen=%s role=%s job_workers=%u",
           QUANTD_VERSION, api_role ? a->cfg.listen : "-", a->cfg.role, rc.workers);
    snprintf(status, sizeof(status), "READY=1\nSTATUS=serving on %s, %u job workers",
             api_role ? a->cfg.listen : "(no API)", rc.workers);
    sd_notify_send(status);

    uv_run(&a->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&a->loop) != 0) {
        uv_run(&a->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&a->loop) != 0)
            QD_LOG(QD_LOG_WARNING, "event loop closed with handles still open");
    }
    QD_LOG(QD_LOG_NOTICE, "quantd stopped");
    return 0;
}

/* ---- other commands ---- */

static int
cmd_token(struct app *a, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "", *name = NULL, *scope = NULL;
    struct qd_err err;
    PGconn *c;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc)
            scope = argv[++i];
        else if (name == NULL && argv[i][0] != '-')
            name = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (name == NULL || (strcmp(sub, "create") == 0 && scope == NULL)) {
        usage(stderr);
        return 2;
    }
    /* a command-line tool: only warnings and errors on stderr, the secret alone on stdout */
    if (atomic_load(&qd_log_threshold) > QD_LOG_WARNING)
        atomic_store(&qd_log_threshold, QD_LOG_WARNING);
    c = connect_startup(&a->cfg, false);
    if (c == NULL || migrate_now(c) != 0)
        goto out;
    if (strcmp(sub, "create") == 0) {
        char secret[TOKEN_SECRET_LEN + 1], buf[128], *save = NULL, *tok;
        unsigned scopes = 0;
        snprintf(buf, sizeof(buf), "%s", scope);
        for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            unsigned s = token_scope_parse(tok);
            if (s == 0) {
                fprintf(stderr, "quantd: unknown scope \"%s\" (read, research, trade, admin)\n",
                        tok);
                goto out;
            }
            scopes |= s;
        }
        if (tokens_db_create(c, name, scopes, secret, NULL, &err) != QD_OK) {
            fprintf(stderr, "quantd: %s\n", err.msg);
            goto out;
        }
        printf("%s\n", secret);
        memset(secret, 0, sizeof(secret));
        rc = 0;
    } else if (strcmp(sub, "revoke") == 0) {
        if (tokens_db_revoke(c, name, &err) != QD_OK) {
            fprintf(stderr, "quantd: %s\n", err.msg);
            goto out;
        }
        rc = 0;
    } else {
        usage(stderr);
        rc = 2;
    }
out:
    PQfinish(c);
    return rc;
}

/* The data-source clients' settings, with the credentials read once here (environment first,
 * then a 0600 file). A credential file others can read stops the start. */
static int
configure_feeds(const struct qd_config *cfg)
{
    struct feeds_settings fs = {
        .http = {.connect_timeout_ms = cfg->feed_connect_timeout_ms,
                 .timeout_ms = cfg->feed_timeout_ms,
                 .max_bytes = (size_t)cfg->feed_max_mb << 20,
                 .retries = cfg->feed_retries,
                 .retry_base_ms = cfg->feed_retry_base_ms,
                 .retry_max_ms = cfg->feed_retry_max_ms},
    };
    struct qd_err err;

    snprintf(fs.fred_url, sizeof(fs.fred_url), "%s", cfg->feed_fred_url);
    snprintf(fs.cboe_url, sizeof(fs.cboe_url), "%s", cfg->feed_cboe_url);
    snprintf(fs.cftc_url, sizeof(fs.cftc_url), "%s", cfg->feed_cftc_url);
    snprintf(fs.cftc_dataset, sizeof(fs.cftc_dataset), "%s", cfg->feed_cftc_dataset);
    snprintf(fs.yahoo_url, sizeof(fs.yahoo_url), "%s", cfg->feed_yahoo_url);
    snprintf(fs.yahoo_cookie_url, sizeof(fs.yahoo_cookie_url), "%s", cfg->feed_yahoo_cookie_url);
    snprintf(fs.yahoo_crumb_url, sizeof(fs.yahoo_crumb_url), "%s", cfg->feed_yahoo_crumb_url);
    snprintf(fs.yahoo_consent_url, sizeof(fs.yahoo_consent_url), "%s",
             cfg->feed_yahoo_consent_url);
    snprintf(fs.yahoo_collect_url, sizeof(fs.yahoo_collect_url), "%s",
             cfg->feed_yahoo_collect_url);
    snprintf(fs.tradier_url, sizeof(fs.tradier_url), "%s", cfg->feed_tradier_url);
    snprintf(fs.polygon_url, sizeof(fs.polygon_url), "%s", cfg->feed_polygon_url);
    artifact_files_root_set(cfg->state_dir);
    if (cfg->feed_import_dir[0] != '\0')
        snprintf(fs.import_dir, sizeof(fs.import_dir), "%s", cfg->feed_import_dir);
    else
        snprintf(fs.import_dir, sizeof(fs.import_dir), "%s/import", cfg->state_dir);
    if (strlen(fs.cftc_dataset) != 9 || fs.cftc_dataset[4] != '-') {
        QD_LOG(QD_LOG_ERR, "feeds.cftc.dataset: a Socrata dataset id such as 6dca-aqww");
        return -1;
    }
    if (feeds_secret("FRED_API_KEY", cfg->feed_fred_key_file, fs.fred_key, sizeof(fs.fred_key),
                     &err) != QD_OK ||
        feeds_secret("TRADIER_API_KEY", cfg->feed_tradier_key_file, fs.tradier_key,
                     sizeof(fs.tradier_key), &err) != QD_OK ||
        feeds_secret("POLYGON_API_KEY", cfg->feed_polygon_key_file, fs.polygon_key,
                     sizeof(fs.polygon_key), &err) != QD_OK ||
        feeds_configure(&fs, &err) != QD_OK) {
        QD_LOG(QD_LOG_ERR, "feeds: %s", err.msg);
        return -1;
    }
    if (fs.fred_key[0] == '\0')
        QD_LOG(QD_LOG_NOTICE, "feeds: no FRED API key (FRED_API_KEY): ingest_macro will fail");
    return 0;
}

int
main(int argc, char **argv)
{
    static struct app a;
    const char *cmd = "serve", *role = NULL;
    struct qd_err err;
    int first = 1, rc;
    bool dump = false;

    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        first = 2;
    }
    if (strcmp(cmd, "version") == 0) {
        printf("quantd %s\n", QUANTD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "routes") == 0) {
        api_routes_print(stdout);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    /* global options may come anywhere after the command */
    int nrest = 0;
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            a.config_path = argv[++i];
        else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strcmp(argv[i], "--dump") == 0)
            dump = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            free(rest);
            return 0;
        } else
            rest[nrest++] = argv[i];
    }
    if (role != NULL)
        setenv("QUANTD_ROLE", role, 1);
    if (config_load(&a.cfg, a.config_path, &err) != QD_OK) {
        fprintf(stderr, "quantd: %s\n", err.msg);
        free(rest);
        return 2;
    }
    atomic_store(&qd_log_threshold, a.cfg.log_level);
    if (qd_log_open(a.cfg.log_file) != 0)
        fprintf(stderr, "quantd: could not open the log file %s: %s\n", a.cfg.log_file,
                strerror(errno));
    if (strcmp(cmd, "check-config") == 0) {
        if (dump) {
            char *s = config_dump(&a.cfg);
            printf("%s\n", s);
            free(s);
        } else {
            printf("configuration ok\n");
        }
        rc = 0;
    } else if (strcmp(cmd, "migrate") == 0) {
        PGconn *c = connect_startup(&a.cfg, true);
        rc = c != NULL && migrate_now(c) == 0 ? 0 : 1;
        PQfinish(c);
    } else if (strcmp(cmd, "token") == 0) {
        rc = cmd_token(&a, nrest, rest);
    } else if (strcmp(cmd, "serve") == 0 && nrest == 0) {
        rc = configure_feeds(&a.cfg) == 0 ? serve(&a) : 1;
    } else {
        usage(stderr);
        rc = 2;
    }
    free(rest);
    config_release(&a.cfg);
    qd_log_close();
    return rc;
}
