/*
 * Run artifacts, content-addressed (docs/tracking.md):
 *   PUT /v1/runs/{id}/artifacts?path=plots/equity.svg   the raw body, streamed
 *   GET /v1/runs/{id}/artifacts                         the list
 *   GET /v1/runs/{id}/artifacts/file?path=…             the bytes
 * A body is written as it arrives to <state_dir>/artifacts/tmp/ while its SHA-256 is computed,
 * then renamed to <state_dir>/artifacts/<2 hex>/<sha256> (a file of that content already there
 * is kept and the new copy dropped; storage/artifact_files.c). The path is only a name in the
 * database: it never reaches the file system, and is checked all the same (relative, no "." or
 * ".." segment, no backslash or control character). Size cap: tracking.artifact_max_mb.
 */
#include "api/api_int.h"
#include "api/handlers.h"
#include "daemon/config.h"
#include "storage/artifact_files.h"
#include "storage/tracking_db.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum qd_code api_artifact_upload_begin(struct api_req *r);
enum qd_code api_artifact_upload_chunk(struct api_req *r, const char *data, size_t len);

struct artifact_up {
    int         fd;
    char        tmp[1024];
    EVP_MD_CTX *md;
    size_t      size;
    char        sha[65];
    char        path[1032];         /* the artifact's name, copied on the loop thread */
    bool        failed;
};

static void
up_free(void *p)
{
    struct artifact_up *u = p;

    if (u == NULL)
        return;
    if (u->fd >= 0)
        close(u->fd);
    if (u->tmp[0])
        unlink(u->tmp);
    EVP_MD_CTX_free(u->md);
    free(u);
}

/* An artifact path: 1-1024 bytes of '/'-separated segments, none empty, "." or "..", no
 * backslash, control character or leading '/'. */
bool api_artifact_path_ok(const char *p);
bool
api_artifact_path_ok(const char *p)
{
    size_t n = strlen(p), seg = 0;

    if (n == 0 || n > 1024 || p[0] == '/')
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '/') {
            const char *s = p + i - seg;
            if (seg == 0 || seg > 255 || (seg == 1 && s[0] == '.') ||
                (seg == 2 && s[0] == '.' && s[1] == '.'))
                return false;
            seg = 0;
            continue;
        }
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
            return false;
        seg++;
    }
    return true;
}

static void
artifact_dir(struct api_req *r, char *out, size_t n, const char *sub)
{
    (void)r;
    artifact_files_dir(sub, out, n);
}

enum qd_code
api_artifact_upload_begin(struct api_req *r)
{
    struct artifact_up *u = calloc(1, sizeof(*u));
    char dir[900];

    if (u == NULL)
        return qd_err_set(&r->err, QD_ENOMEM, "out of memory");
    u->fd = -1;
    r->ctx = u;
    r->ctx_free = up_free;
    artifact_dir(r, dir, sizeof(dir), "tmp");
    if (artifact_files_mkdir(dir) != 0)
        return qd_err_set(&r->err, QD_EIO, "cannot create %s: %s", dir, strerror(errno));
    snprintf(u->tmp, sizeof(u->tmp), "%s/up-XXXXXX", dir);
    if ((u->fd = mkstemp(u->tmp)) < 0) {
        u->tmp[0] = '\0';
        return qd_err_set(&r->err, QD_EIO, "cannot create a temporary file: %s",
                          strerror(errno));
    }
    if ((u->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1)
        return qd_err_set(&r->err, QD_ENOMEM, "out of memory");
    return QD_OK;
}

enum qd_code
api_artifact_upload_chunk(struct api_req *r, const char *data, size_t len)
{
    struct artifact_up *u = r->ctx;

    if (u == NULL || u->failed || u->fd < 0)
        return QD_OK;
    /* the cap, counted here: a chunked body has no Content-Length to refuse up front */
    if (u->size + len > r->body.max) {
        u->failed = true;
        return qd_err_set(&r->err, QD_ETOOBIG, "the artifact exceeds %zu bytes "
                          "(tracking.artifact_max_mb)", r->body.max);
    }
    EVP_DigestUpdate(u->md, data, len);
    for (size_t at = 0; at < len;) {
        ssize_t w = write(u->fd, data + at, len - at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            u->failed = true;
            return qd_err_set(&r->err, QD_EIO, "cannot write the artifact: %s",
                              strerror(errno));
        }
        at += (size_t)w;
    }
    u->size += len;
    return QD_OK;
}

/* On the DB worker: the file synced and renamed into place (no disk wait on the loop thread),
 * then the row. A file this upload created is removed again when the row cannot be written
 * (an unknown run), so nothing is left that no row names. */
static void
put_db(struct api_req *r, PGconn *conn)
{
    struct artifact_up *u = r->ctx;
    char *json = NULL, dir[900], dst[1000], sub[3];
    bool created = false;
    struct qd_err err;
    enum qd_code rc;

    if (fsync(u->fd) != 0 || close(u->fd) != 0) {
        u->fd = -1;
        api_error(r, 503, "unavailable", NULL, "cannot store the artifact: %s", strerror(errno));
        return;
    }
    u->fd = -1;
    snprintf(sub, sizeof(sub), "%.2s", u->sha);
    artifact_dir(r, dir, sizeof(dir), sub);
    snprintf(dst, sizeof(dst), "%s/%s", dir, u->sha);
    /* content-addressed: the same bytes are stored once */
    if (artifact_files_mkdir(dir) != 0) {
        api_error(r, 503, "unavailable", NULL, "cannot store the artifact: %s", strerror(errno));
        return;
    }
    if (access(dst, F_OK) != 0) {
        if (rename(u->tmp, dst) != 0) {
            api_error(r, 503, "unavailable", NULL, "cannot store the artifact: %s",
                      strerror(errno));
            return;
        }
        created = true;
    }
    if (access(u->tmp, F_OK) == 0)
        unlink(u->tmp);
    u->tmp[0] = '\0';
    rc = tracking_db_artifact_put(conn, r->id, u->path, u->sha, (int64_t)u->size, &json, &err);
    if (rc != QD_OK && created)
        unlink(dst);
    api_reply_db(r, rc, 201, json, &err);
}

void
api_artifacts_put(struct api_req *r)
{
    struct artifact_up *u = r->ctx;
    const char *path = api_query(r, "path");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    if (!api_param_id(r, 0, "run"))
        return;
    if (path == NULL || !api_artifact_path_ok(path)) {
        api_error(r, 400, "invalid_argument", "path",
                  "path is a relative name of 1-1024 bytes: segments separated by '/', none "
                  "empty, \".\" or \"..\", no backslash or control character");
        return;
    }
    if (u == NULL || u->fd < 0) {
        api_error(r, 500, "internal", NULL, "upload state missing");
        return;
    }
    snprintf(u->path, sizeof(u->path), "%s", path);
    EVP_DigestFinal_ex(u->md, md, &mdlen);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(u->sha + 2 * i, 3, "%02x", md[i]);
    api_db(r, put_db);
}

static void
list_db(struct api_req *r, PGconn *conn)
{
    char *json = NULL;
    struct qd_err err;
    enum qd_code rc = tracking_db_artifacts(conn, r->id, &json, &err);

    api_reply_db(r, rc, 200, json, &err);
}

void
api_artifacts_list(struct api_req *r)
{
    if (api_param_id(r, 0, "run"))
        api_db(r, list_db);
}

/* A content type from the name's extension. */
static const char *
content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"}, {".json", "application/json"},
                 {".csv", "text/csv"}, {".txt", "text/plain; charset=utf-8"},
                 {".svg", "image/svg+xml"}, {".png", "image/png"}};
    size_t n = strlen(path);

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(path + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

static void
get_db(struct api_req *r, PGconn *conn)
{
    char sha[65], file[1000], sub[3];
    int64_t size = 0;
    struct qd_err err;
    const char *path = r->ctx;
    enum qd_code rc = tracking_db_artifact_get(conn, r->id, path, sha, &size, &err);
    char *buf;
    FILE *f;
    char dir[900];

    if (rc != QD_OK) {
        api_reply_err(r, &err);
        return;
    }
    snprintf(sub, sizeof(sub), "%.2s", sha);
    artifact_dir(r, dir, sizeof(dir), sub);
    snprintf(file, sizeof(file), "%s/%s", dir, sha);
    if ((buf = malloc(size > 0 ? (size_t)size : 1)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    f = fopen(file, "rb");
    if (f == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        if (f)
            fclose(f);
        free(buf);
        api_error(r, 500, "internal", NULL, "the artifact's file is missing or short");
        return;
    }
    fclose(f);
    /* uploaded HTML or SVG must not run as script from the API's origin */
    r->csp = "sandbox";
    api_reply(r, 200, content_type(path), buf, (size_t)size);
}

void
api_artifacts_get(struct api_req *r)
{
    const char *path = api_query(r, "path");

    if (!api_param_id(r, 0, "run"))
        return;
    if (path == NULL || !api_artifact_path_ok(path)) {
        api_error(r, 400, "invalid_argument", "path", "path names an artifact of the run");
        return;
    }
    /* the name travels in r->ctx: the worker does not read the connection */
    if ((r->ctx = strdup(path)) == NULL) {
        api_error(r, 503, "unavailable", NULL, "out of memory");
        return;
    }
    r->ctx_free = free;
    api_db(r, get_db);
}
