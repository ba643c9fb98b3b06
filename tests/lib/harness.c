/* End-to-end test harness (see harness.h). */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <curl/curl.h>
#include <libpq-fe.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HTTP_TIMEOUT_MS   30000L
#define HEALTH_POLL_MS    2000L

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- PostgreSQL ---- */

/* A conninfo value: bare when it can be, else single-quoted with \ and ' escaped. */
static int
conn_value(char *out, size_t n, const char *v)
{
    size_t at = 0;
    bool quote = *v == '\0';

    for (const char *p = v; *p && !quote; p++)
        quote = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\'' || *p == '\\' || *p == '=';
    if (!quote) {
        if (strlen(v) >= n)
            return -1;
        memcpy(out, v, strlen(v) + 1);
        return 0;
    }
    if (n < 3)
        return -1;
    out[at++] = '\'';
    for (const char *p = v; *p; p++) {
        if (at + 4 > n)
            return -1;
        if (*p == '\'' || *p == '\\')
            out[at++] = '\\';
        out[at++] = *p;
    }
    out[at++] = '\'';
    out[at] = '\0';
    return 0;
}

/* host=<pg dir>/run dbname=<db> user=quantd, as `scripts/pg.sh url` prints it. */
static int
cluster_conninfo(const char *db, char *out, size_t n)
{
    char host[1100], qhost[2300], qdb[300];
    int w;

    w = snprintf(host, sizeof(host), "%s/run", qt_pg_dir());
    if (w < 0 || (size_t)w >= sizeof(host) || conn_value(qhost, sizeof(qhost), host) != 0 ||
        conn_value(qdb, sizeof(qdb), db) != 0)
        return -1;
    w = snprintf(out, n, "host=%s dbname=%s user=quantd", qhost, qdb);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

const char *
qt_pg_dir(void)
{
    static char dflt[1024];
    const char *d = getenv("QUANTD_TEST_PG_DIR");
    char cwd[900];

    if (d != NULL && *d != '\0')
        return d;
    /* libpq takes a host starting with '/' as a socket directory: keep it absolute */
    if (dflt[0] == '\0')
        snprintf(dflt, sizeof(dflt), "%s/var/pg-test", getcwd(cwd, sizeof(cwd)) ? cwd : ".");
    return dflt;
}

static PGconn *
connect_db(const char *conninfo, const char *who)
{
    PGconn *c = PQconnectdb(conninfo);

    if (c != NULL && PQstatus(c) == CONNECTION_OK)
        return c;
    fprintf(stderr, "%s: cannot connect (%s): %s", who, conninfo,
            c ? PQerrorMessage(c) : "out of memory\n");
    PQfinish(c);
    return NULL;
}

long long
qt_sql_int(const char *conninfo, const char *sql)
{
    PGconn *c = connect_db(conninfo, "qt_sql_int");
    PGresult *res;
    long long v = -1;

    if (c == NULL)
        return -1;
    res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "qt_sql_int: %s: %s", sql, PQerrorMessage(c));
    } else if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
        const char *s = PQgetvalue(res, 0, 0);
        char *end;
        if (strcmp(s, "t") == 0 || strcmp(s, "f") == 0) {
            v = s[0] == 't';
        } else {
            errno = 0;
            v = strtoll(s, &end, 10);
            if (errno != 0 || end == s || (*end != '\0' && *end != '.')) {
                fprintf(stderr, "qt_sql_int: %s: not an integer: %s\n", sql, s);
                v = -1;
            }
        }
    }
    PQclear(res);
    PQfinish(c);
    return v;
}

int
qt_sql_exec(const char *conninfo, const char *sql)
{
    PGconn *c = connect_db(conninfo, "qt_sql_exec");
    PGresult *res;
    ExecStatusType st;

    if (c == NULL)
        return -1;
    res = PQexec(c, sql);
    st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fprintf(stderr, "qt_sql_exec: %s: %s", sql, PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
}

/* Runs one statement; retries while the template database is busy (another test binary
 * creating a database at the same moment). */
static int
admin_exec(PGconn *c, const char *sql)
{
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexec(c, sql);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        bool busy = !ok && state != NULL && strcmp(state, "55006") == 0;

        if (!ok && (!busy || attempt >= 50))
            fprintf(stderr, "qt_db_create: %s: %s", sql, PQerrorMessage(c));
        PQclear(res);
        if (ok)
            return 0;
        if (!busy || attempt >= 50)
            return -1;
        sleep_ms(100);
    }
}

static void
quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int
qt_db_create(const char *name, char *conninfo, size_t n)
{
    char admin[2600], sql[256];
    PGconn *c;
    char *ident;
    int rc = -1;

    if (name == NULL || *name == '\0' || strlen(name) > 63 || cluster_conninfo("quantd", admin, sizeof(admin)) != 0) {
        fprintf(stderr, "qt_db_create: bad database name or cluster path\n");
        return -1;
    }
    c = connect_db(admin, "qt_db_create");
    if (c == NULL)
        return -1;
    PQsetNoticeProcessor(c, quiet_notice, NULL); /* "database ... does not exist, skipping" */
    ident = PQescapeIdentifier(c, name, strlen(name));
    if (ident != NULL) {
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
        if (admin_exec(c, sql) == 0) {
            snprintf(sql, sizeof(sql), "CREATE DATABASE %s", ident);
            rc = admin_exec(c, sql);
        }
        PQfreemem(ident);
    }
    PQfinish(c);
    if (rc == 0 && cluster_conninfo(name, conninfo, n) != 0) {
        fprintf(stderr, "qt_db_create: conninfo buffer too small\n");
        rc = -1;
    }
    return rc;
}

/* ---- the daemon ---- */

static int
free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static long
file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The log from byte from (the last 16 KiB of it at most), NUL-terminated; free it. */
static char *
read_log(const char *path, long from)
{
    FILE *f = fopen(path, "r");
    long size = file_size(path);
    char *buf;
    size_t got;

    if (f == NULL)
        return NULL;
    if (size - from > 16384)
        from = size - 16384;
    if (from < 0)
        from = 0;
    buf = malloc((size_t)(size - from) + 1);
    if (buf == NULL || fseek(f, from, SEEK_SET) != 0) {
        free(buf);
        fclose(f);
        return NULL;
    }
    got = fread(buf, 1, (size_t)(size - from), f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static void
print_log_tail(const struct qt_daemon *d)
{
    char *log = read_log(d->log_path, 0), *p;
    int lines = 0;

    if (log == NULL) {
        fprintf(stderr, "(no daemon log at %s)\n", d->log_path);
        return;
    }
    p = log + strlen(log);
    while (p > log && lines <= 40)
        if (*--p == '\n' && p[1] != '\0')
            lines++;
    fprintf(stderr, "---- %s (tail) ----\n%s%s---- end ----\n", d->log_path,
            p == log ? p : p + 1, *log && log[strlen(log) - 1] != '\n' ? "\n" : "");
    free(log);
}

static void
reap_kill(struct qt_daemon *d)
{
    int st;

    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
            ;
        d->pid = 0;
    }
}

static void
read_token(struct qt_daemon *d)
{
    char path[700], line[sizeof(d->token)];
    FILE *f;
    size_t b, e;

    snprintf(path, sizeof(path), "%s/admin.token", d->state_dir);
    f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fgets(line, sizeof(line), f) != NULL) {
        for (b = 0; line[b] == ' ' || line[b] == '\t'; b++)
            ;
        e = strlen(line);
        while (e > b && (line[e - 1] == '\n' || line[e - 1] == '\r' || line[e - 1] == ' ' ||
                         line[e - 1] == '\t'))
            e--;
        memcpy(d->token, line + b, e - b);
        d->token[e - b] = '\0';
    }
    fclose(f);
}

static int http_do(struct qt_daemon *d, const char *method, const char *path, const char *token,
                   const char *content_type, const char *body, size_t len,
                   const char *const *extra, long timeout_ms, struct qt_resp *r);

/* Forks and execs the daemon, then waits for health 200. *bind_failed is set when it exited
 * complaining that its port was taken (the caller may retry with another port). */
static int
spawn(struct qt_daemon *d, bool *bind_failed)
{
    const char *bin = getenv("QUANTD_BIN"), *lim = getenv("QT_START_TIMEOUT_S");
    long long deadline, timeout_ms = 30000;
    long log_from = file_size(d->log_path), last_status = -1;
    char listen[64];
    pid_t parent = getpid(), pid;

    *bind_failed = false;
    if (bin == NULL || *bin == '\0')
        bin = "build/quantd";
    if (lim != NULL && atoi(lim) > 0)
        timeout_ms = atoi(lim) * 1000LL;
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", d->port);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("qt_daemon_start: fork");
        return -1;
    }
    if (pid == 0) {
        int fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644), in;
        char *argv[] = {(char *)bin, (char *)"serve", (char *)"--config", d->config_path, NULL};

        /* never outlive the test process, however it ends */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        in = open("/dev/null", O_RDONLY);
        if (in >= 0) {
            dup2(in, 0);
            close(in);
        }
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("QUANTD_LISTEN", listen, 1);
        setenv("QUANTD_DATABASE_URL", d->conninfo, 1);
        setenv("QUANTD_STATE_DIR", d->state_dir, 1);
        unsetenv("QUANTD_ROLE");
        execvp(bin, argv);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    d->pid = pid;
    deadline = now_ms() + timeout_ms;
    for (;;) {
        struct qt_resp r;
        int st;

        if (waitpid(pid, &st, WNOHANG) == pid) {
            char *log = read_log(d->log_path, log_from);
            d->pid = 0;
            *bind_failed = log != NULL && strstr(log, "in use") != NULL;
            free(log);
            if (!*bind_failed) {
                fprintf(stderr, "qt_daemon_start: %s exited during start-up (%s %d)\n", bin,
                        WIFEXITED(st) ? "exit status" : "signal",
                        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
                print_log_tail(d);
            }
            return -1;
        }
        if (http_do(d, "GET", "/v1/health", NULL, NULL, NULL, 0, NULL, HEALTH_POLL_MS, &r) == 0) {
            last_status = r.status;
            qt_resp_free(&r);
            if (last_status == 200)
                break;
        }
        if (now_ms() >= deadline) {
            fprintf(stderr, "qt_daemon_start: no 200 from /v1/health within %lld ms (last: %ld)\n",
                    timeout_ms, last_status);
            print_log_tail(d);
            reap_kill(d);
            return -1;
        }
        sleep_ms(last_status > 0 ? 50 : 20);
    }
    read_token(d);
    return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
make_state_dir(struct qt_daemon *d)
{
    static int counter;
    char cwd[400], base[500];
    struct stat st;
    int w;

    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        perror("qt_daemon_start: getcwd");
        return -1;
    }
    snprintf(base, sizeof(base), "%s/build", cwd);
    mkdir(base, 0755);
    snprintf(base, sizeof(base), "%s/build/e2e-state", cwd);
    mkdir(base, 0755);
    w = snprintf(d->state_dir, sizeof(d->state_dir), "%s/%.40s-%d-%d", base,
                 program_invocation_short_name, (int)getpid(), counter++);
    if (w < 0 || (size_t)w >= sizeof(d->state_dir)) {
        fprintf(stderr, "qt_daemon_start: state dir path too long\n");
        return -1;
    }
    /* a leftover from an earlier run with the same pid would hand us its token */
    if (lstat(d->state_dir, &st) == 0)
        nftw(d->state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(d->state_dir, 0700) != 0) {
        fprintf(stderr, "qt_daemon_start: mkdir %s: %s\n", d->state_dir, strerror(errno));
        return -1;
    }
    snprintf(d->config_path, sizeof(d->config_path), "%s/quantd.json", d->state_dir);
    snprintf(d->log_path, sizeof(d->log_path), "%s/quantd.log", d->state_dir);
    return 0;
}

int
qt_daemon_start(struct qt_daemon *d, const char *conninfo, const char *config_json)
{
    FILE *f;
    bool bind_failed = false;

    memset(d, 0, sizeof(*d));
    if (conninfo == NULL || strlen(conninfo) >= sizeof(d->conninfo)) {
        fprintf(stderr, "qt_daemon_start: missing or too long conninfo\n");
        return -1;
    }
    snprintf(d->conninfo, sizeof(d->conninfo), "%s", conninfo);
    if (make_state_dir(d) != 0)
        return -1;
    f = fopen(d->config_path, "w");
    if (f == NULL) {
        fprintf(stderr, "qt_daemon_start: %s: %s\n", d->config_path, strerror(errno));
        return -1;
    }
    fputs(config_json ? config_json : "{}", f);
    if (fclose(f) != 0)
        return -1;
    /* the port may be taken between free_port() and the daemon's bind: retry a few times */
    for (int attempt = 0; attempt < 4; attempt++) {
        d->port = free_port();
        if (d->port <= 0) {
            perror("qt_daemon_start: no free loopback port");
            return -1;
        }
        snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", d->port);
        if (spawn(d, &bind_failed) == 0)
            return 0;
        if (!bind_failed)
            return -1;
    }
    fprintf(stderr, "qt_daemon_start: could not bind a loopback port\n");
    print_log_tail(d);
    return -1;
}

int
qt_daemon_restart(struct qt_daemon *d)
{
    bool bind_failed;

    if (d->pid > 0) {
        fprintf(stderr, "qt_daemon_restart: pid %d is still running\n", (int)d->pid);
        return -1;
    }
    if (spawn(d, &bind_failed) != 0) {
        if (bind_failed) {
            fprintf(stderr, "qt_daemon_restart: port %d is taken\n", d->port);
            print_log_tail(d);
        }
        return -1;
    }
    return 0;
}

int
qt_daemon_signal_wait(struct qt_daemon *d, int sig, int timeout_ms, int *status)
{
    long long deadline = now_ms() + timeout_ms;
    int st = 0;

    if (status != NULL)
        *status = 0;
    if (d->pid <= 0) {
        fprintf(stderr, "qt_daemon_signal_wait: the daemon is not running\n");
        return -1;
    }
    kill(d->pid, sig);
    for (;;) {
        pid_t w = waitpid(d->pid, &st, WNOHANG);
        if (w == d->pid) {
            d->pid = 0;
            if (status != NULL)
                *status = st;
            return 0;
        }
        if (w < 0 && errno != EINTR) {
            fprintf(stderr, "qt_daemon_signal_wait: waitpid %d: %s (only the process that "
                            "started the daemon can wait for it)\n",
                    (int)d->pid, strerror(errno));
            return -1;
        }
        if (now_ms() >= deadline)
            break;
        sleep_ms(10);
    }
    fprintf(stderr, "qt_daemon_signal_wait: no exit within %d ms of signal %d; killing it\n",
            timeout_ms, sig);
    print_log_tail(d);
    kill(d->pid, SIGKILL);
    while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status != NULL)
        *status = st;
    d->pid = 0;
    return -1;
}

void
qt_daemon_kill9(struct qt_daemon *d)
{
    reap_kill(d);
}

/* True when d is our child and has exited (not reaped: a later wait still sees it). */
static bool
daemon_gone(const struct qt_daemon *d)
{
    siginfo_t si;

    if (d->pid <= 0)
        return false;
    memset(&si, 0, sizeof(si));
    return waitid(P_PID, (id_t)d->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

/* ---- HTTP ---- */

struct sink {
    char  *data;
    size_t len, cap;
};

static size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t add = size * n;

    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        char *nd;
        while (cap < s->len + add + 1)
            cap *= 2;
        nd = realloc(s->data, cap);
        if (nd == NULL)
            return 0;
        s->data = nd;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, add);
    s->len += add;
    s->data[s->len] = '\0';
    return add;
}

/* r->headers holds the raw block, NUL, then a copy with line ends and trailing blanks turned
 * into NULs, into which qt_header points. */
static char *
pack_headers(const struct sink *hd)
{
    size_t n = hd->len;
    char *h = malloc(2 * n + 2), *copy;

    if (h == NULL)
        return NULL;
    memcpy(h, hd->data ? hd->data : "", n);
    h[n] = '\0';
    copy = h + n + 1;
    memcpy(copy, h, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (copy[i] == '\r' || copy[i] == '\n') {
            copy[i] = '\0';
            for (size_t j = i; j > 0 && (copy[j - 1] == ' ' || copy[j - 1] == '\t'); j--)
                copy[j - 1] = '\0';
        }
    }
    return h;
}

static int
http_do(struct qt_daemon *d, const char *method, const char *path, const char *token,
        const char *content_type, const char *body, size_t len, const char *const *extra,
        long timeout_ms, struct qt_resp *r)
{
    CURL *c;
    struct curl_slist *h = NULL;
    struct sink b = {0}, hd = {0};
    char url[2100], line[600];
    const char *ct;
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    if (d->url[0] == '\0' || strlen(path) > 2000)
        return -1;
    c = curl_easy_init();
    if (c == NULL)
        return -1;
    snprintf(url, sizeof(url), "%s%s", d->url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (token != NULL) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, line);
    }
    if (content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        h = curl_slist_append(h, line);
    } else if (body != NULL || strcmp(method, "POST") == 0) {
        h = curl_slist_append(h, "Content-Type:");  /* no libcurl default form type */
    }
    h = curl_slist_append(h, "Expect:");
    for (const char *const *e = extra; e && *e; e++)
        h = curl_slist_append(h, *e);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
               strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        free(b.data);
        free(hd.data);
        return -1;
    }
    r->body = b.data ? b.data : strdup("");
    r->len = b.len;
    r->headers = pack_headers(&hd);
    free(hd.data);
    if (r->body == NULL || r->headers == NULL) {
        qt_resp_free(r);
        return -1;
    }
    /* objects and arrays always; bare scalars only when the server says it is JSON */
    ct = qt_header(r, "Content-Type");
    r->json = json_loadb(r->body, r->len,
                         ct != NULL && strstr(ct, "json") != NULL ? JSON_DECODE_ANY : 0, NULL);
    return 0;
}

int
qt_http_ex(struct qt_daemon *d, const char *method, const char *path, const char *token,
           const char *content_type, const char *body, size_t len, const char *const *extra,
           struct qt_resp *r)
{
    return http_do(d, method, path, token, content_type, body, len, extra, HTTP_TIMEOUT_MS, r);
}

int
qt_http(struct qt_daemon *d, const char *method, const char *path, const char *token,
        const char *content_type, const char *body, size_t len, struct qt_resp *r)
{
    return http_do(d, method, path, token, content_type, body, len, NULL, HTTP_TIMEOUT_MS, r);
}

static const char *
own_token(const struct qt_daemon *d)
{
    return d->token[0] ? d->token : NULL;
}

int
qt_get(struct qt_daemon *d, const char *path, struct qt_resp *r)
{
    return qt_http(d, "GET", path, own_token(d), NULL, NULL, 0, r);
}

int
qt_post_json(struct qt_daemon *d, const char *path, const char *json, struct qt_resp *r)
{
    return qt_http(d, "POST", path, own_token(d), "application/json", json,
                   json ? strlen(json) : 0, r);
}

int
qt_http_accept(struct qt_daemon *d, const char *path, const char *accept, struct qt_resp *r)
{
    char h[512];
    const char *extra[2] = {h, NULL};

    snprintf(h, sizeof(h), "Accept: %s", accept);
    return qt_http_ex(d, "GET", path, own_token(d), NULL, NULL, 0, extra, r);
}

int
qt_http_origin(struct qt_daemon *d, const char *path, const char *origin, struct qt_resp *r)
{
    char h[512];
    const char *extra[2] = {h, NULL};

    snprintf(h, sizeof(h), "Origin: %s", origin);
    return qt_http_ex(d, "GET", path, own_token(d), NULL, NULL, 0, extra, r);
}

const char *
qt_header(const struct qt_resp *r, const char *name)
{
    const char *raw = r->headers, *copy, *p, *block;
    size_t n = strlen(name), total;

    if (raw == NULL)
        return NULL;
    total = strlen(raw);
    copy = raw + total + 1;
    /* the final response's block: after the last status line (1xx blocks come first) */
    block = raw;
    for (p = raw; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, "HTTP/", 5) == 0)
            block = p;
    for (p = block; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = copy + (p + n + 1 - raw);
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}

void
qt_resp_free(struct qt_resp *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* ---- jobs and streams ---- */

json_t *
qt_wait_job(struct qt_daemon *d, long long id, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    const char *last = "no answer";
    char path[64], seen[64] = "";

    snprintf(path, sizeof(path), "/v1/jobs/%lld", id);
    for (;;) {
        struct qt_resp r;
        if (qt_get(d, path, &r) == 0) {
            const char *st = json_string_value(json_object_get(r.json, "status"));
            if (st && (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
                       strcmp(st, "cancelled") == 0)) {
                json_t *j = json_incref(r.json);
                qt_resp_free(&r);
                return j;
            }
            snprintf(seen, sizeof(seen), "HTTP %ld, status %.30s", r.status, st ? st : "-");
            last = seen;
            qt_resp_free(&r);
        }
        if (daemon_gone(d)) {
            fprintf(stderr, "qt_wait_job %lld: the daemon exited\n", id);
            print_log_tail(d);
            return NULL;
        }
        if (now_ms() >= deadline)
            break;
        sleep_ms(50);
    }
    fprintf(stderr, "qt_wait_job %lld: not finished within %d ms (last: %s)\n", id, timeout_ms,
            last);
    return NULL;
}

int
qt_sse_read(struct qt_daemon *d, const char *path, int max_ms, char **out, size_t *len)
{
    CURL *c;
    struct curl_slist *h = NULL;
    struct sink b = {0};
    char url[2100], auth[400];
    CURLcode rc = CURLE_FAILED_INIT;

    c = d->url[0] && strlen(path) <= 2000 ? curl_easy_init() : NULL;
    if (c != NULL) {
        snprintf(url, sizeof(url), "%s%s", d->url, path);
        if (d->token[0]) {
            snprintf(auth, sizeof(auth), "Authorization: Bearer %s", d->token);
            h = curl_slist_append(h, auth);
        }
        h = curl_slist_append(h, "Accept: text/event-stream");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)max_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        rc = curl_easy_perform(c);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
    }
    *out = b.data ? b.data : strdup("");
    *len = b.len;
    return rc == CURLE_OK || rc == CURLE_OPERATION_TIMEDOUT ? 0 : -1;
}
