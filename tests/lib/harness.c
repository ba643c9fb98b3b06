/* End-to-end test harness (see harness.h). */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <curl/curl.h>
#include <libpq-fe.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char header_value[1024];

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
qt_pg_dir(void)
{
    const char *d = getenv("QUANTD_TEST_PG_DIR");

    return d ? d : "var/pg-test";
}

long long
qt_sql_int(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    PGresult *res;
    long long v = -1;

    if (PQstatus(c) == CONNECTION_OK) {
        res = PQexec(c, sql);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
            !PQgetisnull(res, 0, 0))
            v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        else if (PQresultStatus(res) != PGRES_TUPLES_OK)
            fprintf(stderr, "qt_sql_int: %s: %s", sql, PQerrorMessage(c));
        PQclear(res);
    } else {
        fprintf(stderr, "qt_sql_int: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return v;
}

int
qt_sql_exec(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    int rc = -1;

    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *res = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(res);
        rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
        if (rc != 0)
            fprintf(stderr, "qt_sql_exec: %s: %s", sql, PQerrorMessage(c));
        PQclear(res);
    }
    PQfinish(c);
    return rc;
}

int
qt_db_create(const char *name, char *conninfo, size_t n)
{
    char admin[600], sql[256];

    snprintf(admin, sizeof(admin), "host=%s/run dbname=quantd user=quantd", qt_pg_dir());
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    if (qt_sql_exec(admin, sql) != 0)
        return -1;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (qt_sql_exec(admin, sql) != 0)
        return -1;
    snprintf(conninfo, n, "host=%s/run dbname=%s user=quantd", qt_pg_dir(), name);
    return 0;
}

static int
free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void
print_log_tail(const struct qt_daemon *d)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "tail -n 30 %s >&2", d->log_path);
    if (system(cmd) != 0)
        fprintf(stderr, "(no daemon log)\n");
}

static int
spawn(struct qt_daemon *d)
{
    const char *bin = getenv("QUANTD_BIN");
    char listen[64];
    long long deadline;
    pid_t pid;

    if (bin == NULL)
        bin = "build/quantd";
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", d->port);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("QUANTD_LISTEN", listen, 1);
        setenv("QUANTD_DATABASE_URL", d->conninfo, 1);
        setenv("QUANTD_STATE_DIR", d->state_dir, 1);
        unsetenv("QUANTD_ROLE");
        execl(bin, bin, "serve", "--config", d->config_path, (char *)NULL);
        _exit(127);
    }
    d->pid = pid;
    deadline = now_ms() + 30000;
    while (now_ms() < deadline) {
        struct qt_resp r;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "quantd exited during start-up (status %d)\n", st);
            print_log_tail(d);
            d->pid = 0;
            return -1;
        }
        if (qt_http(d, "GET", "/v1/health", NULL, NULL, NULL, 0, &r) == 0) {
            long s = r.status;
            qt_resp_free(&r);
            if (s == 200)
                break;
        }
        usleep(50000);
    }
    if (now_ms() >= deadline) {
        fprintf(stderr, "quantd did not become healthy in 30 s\n");
        print_log_tail(d);
        return -1;
    }
    {
        char path[600];
        FILE *f;
        snprintf(path, sizeof(path), "%s/admin.token", d->state_dir);
        f = fopen(path, "r");
        if (f != NULL) {
            if (fgets(d->token, sizeof(d->token), f) != NULL)
                d->token[strcspn(d->token, "\r\n")] = '\0';
            fclose(f);
        }
    }
    return 0;
}

int
qt_daemon_start(struct qt_daemon *d, const char *conninfo, const char *config_json)
{
    static int counter;
    char cwd[400];
    FILE *f;

    memset(d, 0, sizeof(*d));
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return -1;
    mkdir("build", 0755);
    snprintf(d->state_dir, sizeof(d->state_dir), "%s/build/e2e-state", cwd);
    mkdir(d->state_dir, 0755);
    snprintf(d->state_dir, sizeof(d->state_dir), "%s/build/e2e-state/d%d-%d", cwd, (int)getpid(),
             counter++);
    mkdir(d->state_dir, 0700);
    snprintf(d->config_path, sizeof(d->config_path), "%s/quantd.json", d->state_dir);
    snprintf(d->log_path, sizeof(d->log_path), "%s/quantd.log", d->state_dir);
    snprintf(d->conninfo, sizeof(d->conninfo), "%s", conninfo);
    f = fopen(d->config_path, "w");
    if (f == NULL)
        return -1;
    fputs(config_json ? config_json : "{}", f);
    fclose(f);
    d->port = free_port();
    if (d->port <= 0)
        return -1;
    snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", d->port);
    return spawn(d);
}

int
qt_daemon_restart(struct qt_daemon *d)
{
    return spawn(d);
}

int
qt_daemon_signal_wait(struct qt_daemon *d, int sig, int timeout_ms, int *status)
{
    long long deadline = now_ms() + timeout_ms;

    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    while (now_ms() < deadline) {
        if (waitpid(d->pid, status, WNOHANG) == d->pid) {
            d->pid = 0;
            return 0;
        }
        usleep(20000);
    }
    fprintf(stderr, "quantd did not exit within %d ms of signal %d\n", timeout_ms, sig);
    print_log_tail(d);
    kill(d->pid, SIGKILL);
    waitpid(d->pid, status, 0);
    d->pid = 0;
    return -1;
}

void
qt_daemon_kill9(struct qt_daemon *d)
{
    int st;

    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, &st, 0);
        d->pid = 0;
    }
}

/* ---- HTTP ---- */

struct sink {
    char  *data;
    size_t len;
};

static size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t add = size * n;
    char *nd = realloc(s->data, s->len + add + 1);

    if (nd == NULL)
        return 0;
    memcpy(nd + s->len, p, add);
    s->data = nd;
    s->len += add;
    s->data[s->len] = '\0';
    return add;
}

int
qt_http_ex(struct qt_daemon *d, const char *method, const char *path, const char *token,
           const char *content_type, const char *body, size_t len, const char *const *extra,
           struct qt_resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct sink b = {0}, hd = {0};
    char url[700], line[400];
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    if (c == NULL)
        return -1;
    snprintf(url, sizeof(url), "%s%s", d->url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hd);
    if (token != NULL) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, line);
    }
    if (content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    for (const char *const *e = extra; e && *e; e++)
        h = curl_slist_append(h, *e);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
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
    r->headers = hd.data ? hd.data : strdup("");
    r->json = json_loadb(r->body, r->len, 0, NULL);
    return 0;
}

int
qt_http(struct qt_daemon *d, const char *method, const char *path, const char *token,
        const char *content_type, const char *body, size_t len, struct qt_resp *r)
{
    return qt_http_ex(d, method, path, token, content_type, body, len, NULL, r);
}

int
qt_get(struct qt_daemon *d, const char *path, struct qt_resp *r)
{
    return qt_http(d, "GET", path, d->token, NULL, NULL, 0, r);
}

int
qt_post_json(struct qt_daemon *d, const char *path, const char *json, struct qt_resp *r)
{
    return qt_http(d, "POST", path, d->token, "application/json", json, strlen(json), r);
}

int
qt_http_accept(struct qt_daemon *d, const char *path, const char *accept, struct qt_resp *r)
{
    char h[256];
    const char *extra[2] = {h, NULL};

    snprintf(h, sizeof(h), "Accept: %s", accept);
    return qt_http_ex(d, "GET", path, d->token, NULL, NULL, 0, extra, r);
}

int
qt_http_origin(struct qt_daemon *d, const char *path, const char *origin, struct qt_resp *r)
{
    char h[256];
    const char *extra[2] = {h, NULL};

    snprintf(h, sizeof(h), "Origin: %s", origin);
    return qt_http_ex(d, "GET", path, d->token, NULL, NULL, 0, extra, r);
}

const char *
qt_header(const struct qt_resp *r, const char *name)
{
    size_t n = strlen(name);
    const char *p = r->headers, *found = NULL;

    /* the last occurrence wins (a 100-continue block may come first) */
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            size_t vl = len - n - 1;
            while (vl > 0 && *v == ' ') {
                v++;
                vl--;
            }
            if (vl >= sizeof(header_value))
                vl = sizeof(header_value) - 1;
            memcpy(header_value, v, vl);
            header_value[vl] = '\0';
            found = header_value;
        }
        p = eol ? eol + 2 : NULL;
    }
    return found;
}

void
qt_resp_free(struct qt_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

json_t *
qt_wait_job(struct qt_daemon *d, long long id, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    char path[64];

    snprintf(path, sizeof(path), "/v1/jobs/%lld", id);
    while (now_ms() < deadline) {
        struct qt_resp r;
        if (qt_get(d, path, &r) == 0 && r.json != NULL) {
            const char *st = json_string_value(json_object_get(r.json, "status"));
            if (st && (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
                       strcmp(st, "cancelled") == 0)) {
                json_t *j = json_incref(r.json);
                qt_resp_free(&r);
                return j;
            }
        }
        qt_resp_free(&r);
        usleep(50000);
    }
    return NULL;
}

int
qt_sse_read(struct qt_daemon *d, const char *path, int max_ms, char **out, size_t *len)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct sink b = {0};
    char url[700], auth[400];
    CURLcode rc;

    if (c == NULL)
        return -1;
    snprintf(url, sizeof(url), "%s%s", d->url, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", d->token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Accept: text/event-stream");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)max_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    *out = b.data ? b.data : strdup("");
    *len = b.len;
    return rc == CURLE_OK || rc == CURLE_OPERATION_TIMEDOUT ? 0 : -1;
}
